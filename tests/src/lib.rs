//! Test support shared by the cross-crate test binaries.

pub mod issuer;
