// Each tool has one mistake in `timeout_ms` and gets one error.

#[mcp_macros::mcp_tool(timeout_ms = 0)]
fn zero() {}

#[mcp_macros::mcp_tool(timeout_ms = -5)]
fn negative() {}

#[mcp_macros::mcp_tool(timeout_ms = "30s")]
fn string() {}

#[mcp_macros::mcp_tool(timeout_ms = 1.5)]
fn float() {}

#[mcp_macros::mcp_tool(timeout_ms)]
fn bare() {}

#[mcp_macros::mcp_tool(timeout_ms = 100000000000000000000)]
fn too_large() {}

#[mcp_macros::mcp_tool(timeout = 30000)]
fn misspelled() {}

fn main() {
    let _ = mcp_core::Server::builder("t", "1")
        .item::<zero>()
        .item::<negative>()
        .item::<too_large>();
}
