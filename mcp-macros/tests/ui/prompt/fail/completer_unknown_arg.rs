fn c(_: &str) -> Vec<String> {
    Vec::new()
}

#[mcp_macros::mcp_prompt(complete(nope = c))]
fn p(code: String) -> String {
    code
}

fn main() {}
