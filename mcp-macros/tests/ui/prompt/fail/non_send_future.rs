use std::rc::Rc;

#[mcp_macros::mcp_prompt]
async fn p(code: String) -> String {
    let held = Rc::new(code);
    std::future::ready(()).await;
    held.to_string()
}

fn main() {}
