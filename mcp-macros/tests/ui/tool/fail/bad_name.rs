#[mcp_macros::mcp_tool(name = "has space")]
fn f() {}

fn main() {}
