#[mcp_macros::mcp_tool(scopes = ["files:read", "has space", ""])]
async fn read_file(path: String) -> String {
    path
}

fn main() {}
