use std::rc::Rc;

#[mcp_macros::mcp_tool]
async fn f(a: i64) -> i64 {
    let held = Rc::new(a);
    std::future::ready(()).await;
    *held
}

fn main() {}
