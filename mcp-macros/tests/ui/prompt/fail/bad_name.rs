#[mcp_macros::mcp_prompt(name = "")]
fn p() -> String {
    String::new()
}

fn main() {}
