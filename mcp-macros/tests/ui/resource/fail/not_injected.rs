#[mcp_macros::mcp_resource(uri = "users://{id}")]
fn user(id: u32, verbose: bool) -> String {
    format!("{id} {verbose}")
}

fn main() {}
