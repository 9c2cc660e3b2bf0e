#[mcp_macros::mcp_prompt]
fn p(count: Vec<u8>) -> String {
    format!("{count:?}")
}

fn main() {}
