use mcp_macros::mcp_tool;

/// A header name must be an HTTP token.
#[mcp_tool]
fn query(#[mcp(header = "Bad Name")] region: String) -> String {
    region
}

fn main() {}
