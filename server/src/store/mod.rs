//! A thin layer of SeaORM queries. Handlers call these and never build queries themselves.
//! Each function takes `&impl ConnectionTrait` so it runs on the pool or in a transaction.

pub mod clients;
pub mod sessions;
pub mod throttles;
pub mod users;
