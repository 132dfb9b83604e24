//! The black-box suite: every request goes through `server::app` as a client would send it.

mod admin;
mod auth;
mod conventions;
mod ops;
mod tcp;
