#[mcp_macros::mcp_tool(
    name = "a_name_that_goes_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on"
)]
fn f() {}

fn main() {}
