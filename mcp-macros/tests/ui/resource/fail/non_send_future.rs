use std::rc::Rc;

#[mcp_macros::mcp_resource(uri = "users://{id}")]
async fn user(id: u32) -> String {
    let held = Rc::new(id);
    std::future::ready(()).await;
    held.to_string()
}

fn main() {}
