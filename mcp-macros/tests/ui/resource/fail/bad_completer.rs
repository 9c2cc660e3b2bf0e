// A completer with the wrong signature: one error, on the completer.

fn ids(_: u32) -> Vec<String> {
    Vec::new()
}

#[mcp_macros::mcp_resource(uri = "users://{id}", complete(id = ids))]
fn user(id: u32) -> String {
    id.to_string()
}

fn main() {}
