#[mcp_macros::mcp_tool(descripton = "typo")]
fn f() {}

fn main() {
    f();
}
