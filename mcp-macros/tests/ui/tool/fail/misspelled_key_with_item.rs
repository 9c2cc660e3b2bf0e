// A mistake in the attribute gives one error: the function and its registration type are
// still emitted, so calling the function and registering it by name add no errors.
#[mcp_macros::mcp_tool(descripton = "Search the index.")]
async fn search(query: String) -> String {
    query
}

fn main() {
    let _ = search(String::new());
    let _ = mcp_core::Server::builder("s", "1").item::<search>();
}
