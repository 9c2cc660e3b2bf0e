//! Compile-pass and compile-fail cases for the attribute macros. Regenerate the `.stderr`
//! files with `TRYBUILD=overwrite cargo test -p mcp-macros --test ui`, then review the diff.
//!
//! Compiler messages change between releases, so the cases run only on the compiler the
//! `.stderr` files were produced with ([`PINNED`]); on any other they are skipped with a note
//! (`MCP_UI_TESTS=force` runs them anyway).

use std::process::Command;

/// The `rustc` release (major.minor) the `.stderr` files were produced with.
const PINNED: &str = "1.95";

fn rustc_release() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    // "rustc 1.95.0 (59807616e 2026-...)" -> "1.95"
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

#[test]
fn ui() {
    let release = rustc_release();
    let forced = std::env::var_os("MCP_UI_TESTS").is_some_and(|v| v == "force");
    if release.as_deref() != Some(PINNED) && !forced {
        eprintln!(
            "skipping the UI cases: their .stderr files are for rustc {PINNED}, this is {}",
            release.as_deref().unwrap_or("an unknown rustc")
        );
        return;
    }
    let t = trybuild::TestCases::new();
    for kind in ["tool", "resource", "prompt"] {
        t.pass(format!("tests/ui/{kind}/pass/*.rs"));
        t.compile_fail(format!("tests/ui/{kind}/fail/*.rs"));
    }
}
