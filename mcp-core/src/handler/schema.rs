//! Input schemas built from parameter types, under one policy: JSON Schema draft 2020-12, root
//! `type: object`, definitions under `$defs`.

use schemars::SchemaGenerator;
use serde_json::{Map, Value};

use crate::handler::{ParamSpec, ToolParam};
use crate::protocol::JsonObject;

/// The schema generator every derived schema uses (draft 2020-12).
pub fn schema_generator() -> SchemaGenerator {
    SchemaGenerator::default()
}

/// Builds an `object` input schema from parameters, in declaration order.
///
/// ```
/// use mcp_core::handler::{InputSchema, ParamSpec, schema_generator};
///
/// let mut generator = schema_generator();
/// let mut schema = InputSchema::new();
/// schema.param::<String>(&mut generator, ParamSpec { name: "query", description: Some("What to find"), default: None, header: None });
/// schema.param::<Option<u32>>(&mut generator, ParamSpec { name: "limit", description: None, default: None, header: None });
/// schema.param::<String>(&mut generator, ParamSpec { name: "region", description: None, default: None, header: Some("Region") });
/// let schema = schema.finish(&mut generator);
/// assert_eq!(schema["required"], serde_json::json!(["query", "region"]));
/// assert_eq!(schema["properties"]["region"]["x-mcp-header"], "Region");
/// ```
#[derive(Debug, Default)]
pub struct InputSchema {
    properties: Map<String, Value>,
    required: Vec<Value>,
}

impl InputSchema {
    /// An empty object schema.
    pub fn new() -> Self {
        InputSchema::default()
    }

    /// Adds parameter `spec` of type `T` (injected parameters add nothing).
    pub fn param<T: ToolParam>(&mut self, generator: &mut SchemaGenerator, spec: ParamSpec) {
        let Some(mut schema) = T::schema(generator) else {
            return;
        };
        if let Value::Object(m) = &mut schema {
            if let Some(d) = spec.description {
                m.insert("description".into(), d.into());
            }
            if let Some(d) = &spec.default {
                m.insert("default".into(), d.clone());
            }
            if let Some(h) = spec.header {
                m.insert("x-mcp-header".into(), h.into());
            }
        } else if let Value::Bool(true) = schema {
            let mut m = Map::new();
            if let Some(d) = spec.description {
                m.insert("description".into(), d.into());
            }
            schema = Value::Object(m);
        }
        if T::required() && spec.default.is_none() {
            self.required.push(spec.name.into());
        }
        self.properties.insert(spec.name.to_owned(), schema);
    }

    /// The finished schema, with the generator's `$defs`.
    pub fn finish(self, generator: &mut SchemaGenerator) -> JsonObject {
        let mut root = Map::new();
        root.insert("type".into(), "object".into());
        root.insert("properties".into(), Value::Object(self.properties));
        if !self.required.is_empty() {
            root.insert("required".into(), Value::Array(self.required));
        }
        let defs = generator.take_definitions(true);
        if !defs.is_empty() {
            root.insert("$defs".into(), Value::Object(defs));
        }
        root
    }
}
