use mcp_macros::mcp_tool;

#[mcp_tool(task = "sometimes")]
fn job() -> String {
    String::new()
}

fn main() {}
