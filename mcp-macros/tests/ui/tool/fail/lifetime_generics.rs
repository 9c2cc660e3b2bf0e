#[mcp_macros::mcp_tool]
fn f<'a>(a: i64) -> i64 {
    a
}

fn main() {}
