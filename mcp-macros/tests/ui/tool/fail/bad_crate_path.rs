#[mcp_macros::mcp_tool(crate = "not a path")]
fn f(a: i64) -> i64 {
    a
}

fn main() {}
