//! Shared code of the runnable examples in `examples/examples/`.
//!
//! The tools, resources and prompts are ordinary functions marked with the attribute macros of
//! `mcp-macros`; each module offers a `builder` that registers exactly its items
//! (`ServerBuilder::item::<name>()`), and each example's `main` serves that over HTTP+SSE
//! ([`mcp_sse`]) or stdio. Being plain functions, the tools are unit-tested directly below.

pub mod kv;
pub mod progress;
pub mod quickstart;
pub mod run;

/// The README's Rust code blocks, compiled as doctests so the README cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
