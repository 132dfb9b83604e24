//! The black-box suite: every request goes through `server::app` as a client would send it.

mod admin;
mod apiaccess;
mod auth;
mod conventions;
mod forward;
mod ops;
mod sessions;
mod tcp;
mod throttling;
