//! The syntax rules of MCP items, in one place so that the attribute macros (at compile time)
//! and the registry (at run time) accept exactly the same inputs:
//!
//! * [`name`]: tool and prompt names.
//! * [`uri_template`]: resource templates (RFC 6570 level 1, `{var}`).
//! * [`scope`]: OAuth scope tokens a tool may require.
//!
//! No dependencies, so the macro crate can use it without building the runtime.

pub mod name;
pub mod scope;
pub mod uri_template;
