// A prompt parameter without a `///` comment has no description (the generated `None` is typed).
#[mcp_macros::mcp_prompt]
fn greet(name: String, ctx: mcp_core::Context) -> String {
    let _ = ctx;
    format!("Say hello to {name}")
}

fn main() {}
