use mcp_core::{Context as Ctx, Json, State as Shared};
use mcp_macros::mcp_tool;

struct Db;

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Out {
    n: i64,
}

/// Sync tool with injected parameters under other names.
#[mcp_tool(title = "Basic", read_only, destructive = false, open_world)]
pub fn basic(_db: Shared<Db>, _ctx: Ctx, n: i64) -> Json<Out> {
    Json(Out { n })
}

/// Async tool returning a Result.
#[mcp_tool(name = "renamed.tool-1")]
async fn fallible(x: Option<u8>) -> Result<String, std::io::Error> {
    Ok(format!("{x:?}"))
}

mod nested {
    #[mcp_macros::mcp_tool]
    pub(crate) fn inner() {}
}

fn main() {
    let _ = basic;
    let _ = fallible(None);
    nested::inner();
}
