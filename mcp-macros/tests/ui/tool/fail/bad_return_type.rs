struct Opaque;

#[mcp_macros::mcp_tool]
fn f() -> Opaque {
    Opaque
}

fn main() {}
