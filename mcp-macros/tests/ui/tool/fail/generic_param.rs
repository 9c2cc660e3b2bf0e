#[mcp_macros::mcp_tool]
fn f<T: std::fmt::Display>(t: T) -> String {
    t.to_string()
}

fn main() {}
