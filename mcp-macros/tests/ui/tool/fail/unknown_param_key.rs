#[mcp_macros::mcp_tool]
fn f(#[mcp(defualt = 1)] a: i64) -> i64 {
    a
}

fn main() {}
