#[mcp_macros::mcp_tool(name = "a", name = "b")]
fn f() {}

fn main() {}
