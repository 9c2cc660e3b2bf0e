#[mcp_macros::mcp_tool]
fn f(#[serde(skip)] a: i64) -> i64 {
    a
}

fn main() {}
