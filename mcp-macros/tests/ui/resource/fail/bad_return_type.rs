#[mcp_macros::mcp_resource(uri = "x://y")]
fn r() -> Vec<u8> {
    Vec::new()
}

fn main() {}
