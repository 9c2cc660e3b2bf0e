// A parameter type that deserializes but has no schema: one error, on the type, saying what
// to derive.
#[derive(serde::Deserialize)]
struct Query {
    text: String,
}

/// Search.
#[mcp_macros::mcp_tool]
async fn search(q: Query) -> String {
    q.text
}

fn main() {
    let _ = mcp_core::Server::builder("s", "1").item::<search>();
}
