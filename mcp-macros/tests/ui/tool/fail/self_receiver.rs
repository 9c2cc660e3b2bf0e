struct S;

impl S {
    #[mcp_macros::mcp_tool]
    fn method(&self, a: i64) -> i64 {
        a
    }
}

fn main() {}
