//! A thin layer of SeaORM queries. Only the services call these (handlers never build or run
//! queries). Each function takes `&impl ConnectionTrait`, so it runs on the pool or inside a
//! transaction, and returns SeaORM's own `DbErr`: the mapping to HTTP answers is made once, in
//! `crate::error`.

pub mod apikeys;
pub mod auth;
pub mod auth_direct;
pub mod clients;
pub mod events;
pub mod reader;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub mod throttles;
pub mod users;
