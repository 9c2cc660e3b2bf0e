#[mcp_macros::mcp_tool]
fn f(t: impl std::fmt::Display) -> String {
    t.to_string()
}

fn main() {}
