//! Schema migrations of Tessera.
//!
//! Migrations name tables and columns with plain strings and never import the `entity` crate:
//! entities change over time, migrations must keep describing history.
//! Timestamps are stored as integer microseconds since the Unix epoch, which compare and index the
//! same way on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_tables;
mod m20261201_000001_server_settings;
mod m20261204_000001_browser_sessions;
mod m20261204_000002_events;
mod m20261204_000003_rotation;
mod m20261204_000004_api_keys;
mod m20261204_000005_signing_keys;
mod m20261204_000006_purge_indexes;

/// The migrator run by `tessera migrate` and at server start-up.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_tables::Migration),
            Box::new(m20261201_000001_server_settings::Migration),
            Box::new(m20261204_000001_browser_sessions::Migration),
            Box::new(m20261204_000002_events::Migration),
            Box::new(m20261204_000003_rotation::Migration),
            Box::new(m20261204_000004_api_keys::Migration),
            Box::new(m20261204_000005_signing_keys::Migration),
            Box::new(m20261204_000006_purge_indexes::Migration),
        ]
    }
}
