use mcp_macros::mcp_prompt;

fn langs(prefix: &str) -> Vec<String> {
    ["rust", "python"].iter().filter(|l| l.starts_with(prefix)).map(|l| l.to_string()).collect()
}

/// Review code.
#[mcp_prompt(title = "Review", complete(language = langs))]
fn review(
    /// The code
    code: String,
    /// The language
    language: Option<String>,
) -> String {
    format!("{code} {language:?}")
}

fn main() {
    let _ = review("x".into(), None);
}
