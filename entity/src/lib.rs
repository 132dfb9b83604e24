//! SeaORM entities of Tessera. Timestamps are integer microseconds since the Unix epoch.
//!
//! These models never leave the server: routes map them to their own DTOs, so a column such as
//! `password_hash` or `token_digest` cannot reach a client by accident.

pub mod client;
pub mod event;
pub mod session;
pub mod signing_key;
pub mod throttle_override;
pub mod user;
