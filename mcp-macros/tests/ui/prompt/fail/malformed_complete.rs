fn c(_: &str) -> Vec<String> {
    Vec::new()
}

#[mcp_macros::mcp_prompt(complete(code))]
fn p(code: String) -> String {
    code
}

#[mcp_macros::mcp_prompt(complete = c)]
fn q(code: String) -> String {
    code
}

fn main() {}
