//! Compile-pass and compile-fail cases for the attribute macros. Regenerate the `.stderr`
//! files with `TRYBUILD=overwrite cargo test -p mcp-macros --test ui`, then review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for kind in ["tool", "resource", "prompt"] {
        t.pass(format!("tests/ui/{kind}/pass/*.rs"));
        t.compile_fail(format!("tests/ui/{kind}/fail/*.rs"));
    }
}
