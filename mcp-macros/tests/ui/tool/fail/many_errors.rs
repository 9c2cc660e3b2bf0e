// Every attribute mistake is reported, each at its own token, and the function still
// type-checks (the call in main gives no extra error).
#[mcp_macros::mcp_tool(nmae = "x", read_only = "yes", title = 5)]
fn f(a: i64) -> i64 {
    a
}

fn main() {
    let _: i64 = f(1);
}
