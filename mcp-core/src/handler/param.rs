//! Parameters of handler functions: JSON arguments or injected values, decided by trait.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

use crate::context::Context;
use crate::error::{McpError, ToolError};

/// How one parameter of a handler function gets its value.
///
/// Implemented for every `T: DeserializeOwned + JsonSchema` (the value is one property of the
/// JSON arguments, described in the input schema) and for the injected types [`Context`] and
/// [`State<T>`] (filled in from the request; absent from the schema). Because the role is
/// decided here, a parameter keeps its role however its type is imported or renamed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of an MCP handler",
    label = "this parameter type is neither a JSON argument nor injected",
    note = "JSON arguments need `serde::Deserialize` (owning its data: use `String`, not `&str`) and `schemars::JsonSchema`",
    note = "injected parameters are `mcp_core::Context` and `mcp_core::handler::State<T>`"
)]
pub trait ToolParam: Sized {
    /// The type deserialized from the arguments object: `Self` for JSON arguments,
    /// [`Injected`] for injected parameters.
    type Wire: DeserializeOwned + JsonSchema;

    /// Produces the parameter's value from the deserialized wire value and the request.
    fn from_wire(wire: Self::Wire, ctx: &Context) -> Result<Self, ToolError>;
}

impl<T: DeserializeOwned + JsonSchema> ToolParam for T {
    type Wire = T;

    fn from_wire(wire: T, _ctx: &Context) -> Result<Self, ToolError> {
        Ok(wire)
    }
}

impl ToolParam for Context {
    type Wire = Injected;

    fn from_wire(_: Injected, ctx: &Context) -> Result<Self, ToolError> {
        Ok(ctx.clone())
    }
}

impl<T: Send + Sync + 'static> ToolParam for State<T> {
    type Wire = Injected;

    fn from_wire(_: Injected, ctx: &Context) -> Result<Self, ToolError> {
        ctx.state::<T>().map(State).ok_or_else(|| {
            ToolError::Protocol(McpError::internal(format!(
                "server state of type `{}` was not registered (use ServerBuilder::state)",
                std::any::type_name::<T>()
            )))
        })
    }
}

/// Typed shared application state, injected into a handler parameter.
///
/// The value is registered once with `ServerBuilder::state` and shared by every request.
///
/// ```
/// use mcp_core::handler::State;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// struct Counter(AtomicU64);
///
/// fn bump(counter: State<Counter>) -> u64 {
///     counter.0.fetch_add(1, Ordering::Relaxed) + 1
/// }
/// # let _ = bump;
/// ```
pub struct State<T>(pub Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

/// The wire placeholder of an injected parameter: deserializes from nothing (whatever the
/// client sent under that name is ignored) and is removed from the input schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct Injected;

/// The key that marks an injected property in an intermediate schema.
pub(crate) const INJECTED_MARKER: &str = "x-mcp-injected";

impl<'de> Deserialize<'de> for Injected {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Injected;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("nothing (an injected parameter)")
            }
            fn visit_none<E>(self) -> Result<Injected, E> {
                Ok(Injected)
            }
            fn visit_unit<E>(self) -> Result<Injected, E> {
                Ok(Injected)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Injected, D::Error> {
                IgnoredAny::deserialize(d).map(|_| Injected)
            }
        }
        deserializer.deserialize_option(V)
    }
}

impl JsonSchema for Injected {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("McpInjected")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut map = serde_json::Map::new();
        map.insert(INJECTED_MARKER.into(), true.into());
        Schema::from(map)
    }

    fn _schemars_private_is_option() -> bool {
        true
    }
}
