// The user re-exports mcp-core under another name and points the macro at it.
mod framework {
    pub use mcp_core as core_again;
}

#[mcp_macros::mcp_tool(crate = "crate::framework::core_again")]
fn echo(text: String) -> String {
    text
}

fn main() {
    assert_eq!(echo("x".into()), "x");
}
