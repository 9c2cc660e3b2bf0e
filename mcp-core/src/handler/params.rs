//! Tool parameters: JSON arguments or injected values.

use std::ops::Deref;
use std::sync::Arc;

use schemars::{JsonSchema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::Context;
use crate::error::{McpError, ToolError};
use crate::protocol::JsonObject;

/// Typed shared application state, injected into a handler parameter.
///
/// Registered with `ServerBuilder::state(value)`; a handler taking `State<T>` fails with a
/// JSON-RPC internal error if no `T` was registered (see [`State::from_context`]).
#[derive(Debug)]
pub struct State<T: ?Sized>(pub Arc<T>);

impl<T: Send + Sync + 'static> State<T> {
    /// The `T` registered with `ServerBuilder::state` or produced by a start-up hook
    /// (`ServerBuilder::on_startup`). Without one, the request fails with a
    /// JSON-RPC internal error (-32603) naming the type: the same failure for tools, resources
    /// and prompts, since it is the server's configuration that is wrong, not the call.
    pub fn from_context(ctx: &Context) -> Result<Self, McpError> {
        ctx.state::<T>().map(State).ok_or_else(|| {
            McpError::internal(format!(
                "server misconfigured: no shared state of type {} was registered (add it with ServerBuilder::state or ServerBuilder::on_startup)",
                std::any::type_name::<T>()
            ))
        })
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// How one handler parameter is described and obtained.
///
/// Implemented for every `T: Deserialize + JsonSchema` (a JSON argument, listed in the input
/// schema) and for the injected [`Context`] and [`State<T>`] (never in the schema).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter type",
    note = "a JSON argument is deserialized with serde and described with schemars: add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to `{Self}`",
    note = "or inject it: `mcp_core::Context` and `mcp_core::State<T>` are provided by the server"
)]
pub trait ToolParam: Sized {
    /// The JSON Schema of the argument, or `None` for injected parameters.
    fn schema(generator: &mut SchemaGenerator) -> Option<Value>;

    /// Whether a JSON argument must be present (false for `Option<T>` and injected values).
    fn required() -> bool;

    /// Produces the value for the parameter named `name`.
    fn extract(args: &mut Args, name: &str) -> Result<Self, ToolError>;
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + JsonSchema> ToolParam for T {
    fn schema(generator: &mut SchemaGenerator) -> Option<Value> {
        Some(generator.subschema_for::<T>().to_value())
    }

    fn required() -> bool {
        // `Option<T>` (and anything else that accepts null) may be omitted.
        T::deserialize(Value::Null).is_err()
    }

    fn extract(args: &mut Args, name: &str) -> Result<Self, ToolError> {
        let value = args.take(name);
        let sent = value.is_some();
        T::deserialize(value.unwrap_or(Value::Null)).map_err(|e| {
            if !sent {
                ToolError::tool(format!("missing required argument `{name}`"))
            } else {
                ToolError::tool(format!(
                    "invalid argument `{name}`: {}",
                    crate::jsonrpc::clip(&e.to_string(), crate::jsonrpc::DETAIL_MAX)
                ))
            }
        })
    }
}

impl ToolParam for Context {
    fn schema(_: &mut SchemaGenerator) -> Option<Value> {
        None
    }
    fn required() -> bool {
        false
    }
    fn extract(args: &mut Args, _: &str) -> Result<Self, ToolError> {
        Ok(args.context().clone())
    }
}

impl<T: Send + Sync + 'static> ToolParam for State<T> {
    fn schema(_: &mut SchemaGenerator) -> Option<Value> {
        None
    }
    fn required() -> bool {
        false
    }
    fn extract(args: &mut Args, _: &str) -> Result<Self, ToolError> {
        Ok(State::from_context(args.context())?)
    }
}

/// The arguments of one call, consumed parameter by parameter.
#[derive(Debug)]
pub struct Args {
    ctx: Context,
    map: JsonObject,
}

impl Args {
    /// Wraps the request context and its arguments object.
    pub fn new(ctx: Context, map: JsonObject) -> Self {
        Args { ctx, map }
    }

    /// The request context.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Removes and returns the argument `name`.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name)
    }

    /// True when the client sent an argument called `name` (even null) and it was not taken
    /// yet.
    pub fn had(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// Extracts the parameter `name` of type `T`.
    pub fn extract<T: ToolParam>(&mut self, name: &str) -> Result<T, ToolError> {
        T::extract(self, name)
    }

    /// Extracts a parameter that has a default: absent or null means `default()`.
    pub fn extract_or<T: ToolParam>(
        &mut self,
        name: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T, ToolError> {
        match self.map.get(name) {
            None | Some(Value::Null) => {
                self.map.remove(name);
                Ok(default())
            }
            Some(_) => T::extract(self, name),
        }
    }
}

/// One parameter's entry in a generated input schema.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    /// The JSON name (after any rename).
    pub name: &'static str,
    /// The `///` description.
    pub description: Option<&'static str>,
    /// The default value, when the parameter has one (makes it optional).
    pub default: Option<Value>,
    /// The `Mcp-Param-{header}` request header the argument is mirrored in (`x-mcp-header`).
    pub header: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_optional_and_scalars_required() {
        assert!(<i64 as ToolParam>::required());
        assert!(!<Option<i64> as ToolParam>::required());
        assert!(!<Context as ToolParam>::required());
        let mut g = SchemaGenerator::default();
        assert!(<Context as ToolParam>::schema(&mut g).is_none());
        assert_eq!(
            <i64 as ToolParam>::schema(&mut g).unwrap()["type"],
            "integer"
        );
    }
}
