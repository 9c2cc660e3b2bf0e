#[mcp_macros::mcp_tool]
struct Search {
    query: String,
}

fn main() {
    let _ = Search { query: String::new() }.query;
}
