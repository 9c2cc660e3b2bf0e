fn ids(_: &str) -> Vec<String> {
    Vec::new()
}

#[mcp_macros::mcp_resource(uri = "users://{id}", complete(user = ids))]
fn user(id: u32) -> String {
    id.to_string()
}

fn main() {}
