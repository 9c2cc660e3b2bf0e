// Regression: a parameter named like its function must not shadow the function in the
// generated adapter.
#[mcp_macros::mcp_tool]
fn echo(echo: String) -> String {
    echo
}

fn main() {
    assert_eq!(echo("x".into()), "x");
}
