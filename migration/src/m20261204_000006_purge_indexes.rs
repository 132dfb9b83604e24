use sea_orm_migration::prelude::*;

/// Indexes that keep the background purge cheap on large tables (issue 16: a purge of 1,000,000
/// expired sessions among 10,000,000). Without them each purge batch scanned every session
/// twice: once to erase sealed rotation tokens past their window, once for idle sessions.
/// - `idx_sessions_sealed`: the few sessions that still hold a sealed rotated token, by the end
///   of their grace window;
/// - `idx_sessions_client_last_used`: a client's sessions by last use, for the idle purge of the
///   clients with an `idle_timeout`. It also serves every lookup by client, so the single-column
///   `idx_sessions_client` it starts with is dropped.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_sessions_sealed ON sessions (previous_until) WHERE rotated_token IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_sessions_client_last_used ON sessions (client_id, last_used)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX idx_sessions_client")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX idx_sessions_client ON sessions (client_id)")
            .await?;
        db.execute_unprepared("DROP INDEX idx_sessions_client_last_used")
            .await?;
        db.execute_unprepared("DROP INDEX idx_sessions_sealed")
            .await?;
        Ok(())
    }
}
