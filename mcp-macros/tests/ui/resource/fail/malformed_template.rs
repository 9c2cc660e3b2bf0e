// The grammar Server::build applies, checked at compile time.
#[mcp_macros::mcp_resource(uri = "files://{dir}{name}")]
fn adjacent(dir: String, name: String) -> String {
    format!("{dir}/{name}")
}

#[mcp_macros::mcp_resource(uri = "files://{dir}/{dir}")]
fn repeated(dir: String) -> String {
    dir
}

#[mcp_macros::mcp_resource(uri = "files://{dir")]
fn unclosed(dir: String) -> String {
    dir
}

fn main() {}
