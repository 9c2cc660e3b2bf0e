// A bad name gives one error, and registering the prompt by name adds none.
#[mcp_macros::mcp_prompt(name = "two words")]
fn greet(name: String) -> String {
    format!("Say hello to {name}")
}

fn main() {
    let _ = greet(String::new());
    let _ = mcp_core::Server::builder("s", "1").item::<greet>();
}
