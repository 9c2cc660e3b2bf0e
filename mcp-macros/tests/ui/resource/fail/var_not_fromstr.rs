struct UserId(u32);

#[mcp_macros::mcp_resource(uri = "users://{id}")]
fn user(id: UserId) -> String {
    id.0.to_string()
}

fn main() {}
