#[mcp_macros::mcp_resource(uri = "users://{id}/profile")]
fn profile(user: u32) -> String {
    user.to_string()
}

fn main() {}
