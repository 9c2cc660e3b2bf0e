fn wrong(_: u32) -> u32 {
    0
}

#[mcp_macros::mcp_prompt(complete(code = wrong))]
fn p(code: String) -> String {
    code
}

fn main() {}
