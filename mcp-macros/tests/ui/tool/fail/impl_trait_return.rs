#[mcp_macros::mcp_tool]
fn f(a: i64) -> impl std::fmt::Display {
    a
}

fn main() {}
