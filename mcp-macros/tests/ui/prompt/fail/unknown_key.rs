#[mcp_macros::mcp_prompt(read_only)]
fn p() -> String {
    String::new()
}

fn main() {}
