#[mcp_macros::mcp_tool]
fn f(text: &str) -> String {
    text.to_owned()
}

fn main() {}
