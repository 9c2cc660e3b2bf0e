struct NotAnArgument;

#[mcp_macros::mcp_tool]
fn f(ok: i64, bad: NotAnArgument) -> i64 {
    let _ = bad;
    ok
}

fn main() {}
