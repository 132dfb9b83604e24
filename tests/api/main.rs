//! The black-box suite: every request goes through `server::app` as a client would send it.

mod admin;
mod apiaccess;
mod auth;
mod browser;
mod cli_device;
mod client_cli;
mod client_lib;
mod conventions;
mod cookies;
mod events;
mod faults;
mod forward;
mod harness;
mod hotpath;
mod inputs;
mod listing;
mod live;
mod lockout;
mod openapi_rules;
mod ops;
mod revocations;
mod schemes;
mod sessions;
mod tcp;
mod throttling;
