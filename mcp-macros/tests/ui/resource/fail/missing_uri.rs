#[mcp_macros::mcp_resource(mime_type = "text/plain")]
fn r() -> String {
    String::new()
}

fn main() {}
