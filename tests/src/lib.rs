//! Test support shared by the cross-crate test binaries.

/// The README's code blocks, compiled as doctests so the 15-line server keeps building.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
