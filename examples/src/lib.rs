//! Shared code of the runnable examples in `examples/examples/`.
//!
//! Each example is a small `main` that builds an [`mcp_core::Server`] from the pieces in this
//! crate and serves it over HTTP+SSE ([`mcp_sse`]) or stdio. The tools themselves are plain
//! async functions, so the unit tests below (and yours) call them directly.

pub mod args;
pub mod kv;
pub mod progress;
pub mod quickstart;
pub mod run;

/// The README's Rust code blocks, compiled as doctests so the README cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
