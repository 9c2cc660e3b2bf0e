struct Failure;

#[mcp_macros::mcp_tool]
fn f(a: i64) -> Result<i64, Failure> {
    if a < 0 { Err(Failure) } else { Ok(a) }
}

fn main() {}
