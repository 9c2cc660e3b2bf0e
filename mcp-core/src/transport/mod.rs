//! Transports that need no HTTP: stdio for clients that launch the server as a command, and an
//! in-memory client/server pair for tests.

pub mod memory;
pub mod stdio;
