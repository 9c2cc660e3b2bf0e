//! Auto-registration: items annotated with the attribute macros submit themselves to a
//! link-time list (via `inventory`), and `ServerBuilder::build` adds them unless
//! `ServerBuilder::auto_collect(false)` was called.

use crate::error::RegistrationError;
use crate::registry::Tool;

/// One tool submitted by `#[mcp_tool]`. Not public API: used by generated code through
/// `mcp_core::__private`.
#[derive(Debug)]
pub struct ToolRegistration {
    origin: &'static str,
    build: fn() -> Result<Tool, RegistrationError>,
}

impl ToolRegistration {
    /// A registration for the tool declared at `origin` (a Rust path).
    pub const fn new(origin: &'static str, build: fn() -> Result<Tool, RegistrationError>) -> Self {
        ToolRegistration { origin, build }
    }
}

inventory::collect!(ToolRegistration);

/// Builds every collected tool (schemas are generated here, once) and appends those not
/// already registered explicitly. The same item registered both ways counts once; two
/// different items with one name are left for the builder's duplicate check, which names
/// both origins.
pub(crate) fn add_collected_tools(tools: &mut Vec<Tool>) -> Result<(), RegistrationError> {
    let mut collected: Vec<&ToolRegistration> = inventory::iter::<ToolRegistration>().collect();
    collected.sort_by_key(|r| r.origin);
    for registration in collected {
        let tool = (registration.build)()?;
        let already = tools
            .iter()
            .any(|t| t.name == tool.name && t.origin == tool.origin);
        if !already {
            tools.push(tool);
        }
    }
    Ok(())
}
