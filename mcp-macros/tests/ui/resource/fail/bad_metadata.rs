#[mcp_macros::mcp_resource(
    uri = "docs://readme",
    meta = "not json",
    audience = ["user", "robot"],
    priority = 2.0
)]
fn readme() -> String {
    String::new()
}

fn main() {}
