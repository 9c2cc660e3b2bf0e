#[mcp_macros::mcp_tool]
unsafe fn f(a: i64) -> i64 {
    a
}

fn main() {}
