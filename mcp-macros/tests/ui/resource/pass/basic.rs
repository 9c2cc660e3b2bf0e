use mcp_macros::mcp_resource;

/// Static.
#[mcp_resource(uri = "docs://readme", mime_type = "text/markdown")]
fn readme() -> String {
    "# hi".into()
}

fn complete_ids(prefix: &str) -> Vec<String> {
    vec![format!("{prefix}1")]
}

/// Template.
#[mcp_resource(uri = "users://{id}/posts/{post}", complete(id = complete_ids))]
async fn post(id: u32, post: String, _ctx: mcp_core::Context) -> Result<String, String> {
    Ok(format!("{id}/{post}"))
}

fn main() {
    let _ = readme();
    let _ = post;
}
