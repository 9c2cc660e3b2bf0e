// Without a `uri` there is one error, and registering the resource by name adds none.
#[mcp_macros::mcp_resource(name = "about")]
fn about() -> String {
    "about".into()
}

fn main() {
    let _ = about();
    let _ = mcp_core::Server::builder("s", "1").item::<about>();
}
