use sea_orm_migration::{prelude::*, schema::*};

/// API keys v2 (SPEC v2 §1, §4.4): several named, scoped keys per user. Each v1 key (at most one
/// per user) becomes the key named `default`, unrestricted, with its token unchanged; the
/// one-key-per-user index gives way to a unique name per user.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(string_len_null("name", 400))
                    .to_owned(),
            )
            .await?;
        // `NULL` = unrestricted; otherwise the scopes joined by single spaces (a scope never
        // holds a space), and the empty string for a key that holds no scope.
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(text_null("scopes"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE sessions SET name = 'default' WHERE kind = 'api_key'")
            .await?;
        db.execute_unprepared("DROP INDEX uq_sessions_api_key")
            .await?;
        // A racing second key of the same name fails here rather than in a read-then-write check.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_sessions_api_key_name ON sessions (user_id, name) WHERE kind = 'api_key'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX uq_sessions_api_key_name")
            .await?;
        // Back to one key per user: keep each user's oldest key.
        db.execute_unprepared(
            "DELETE FROM sessions WHERE kind = 'api_key' AND id NOT IN \
             (SELECT MIN(id) FROM sessions s WHERE s.kind = 'api_key' AND s.created = \
             (SELECT MIN(created) FROM sessions t WHERE t.kind = 'api_key' AND t.user_id = s.user_id) \
             GROUP BY s.user_id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_sessions_api_key ON sessions (user_id) WHERE kind = 'api_key'",
        )
        .await?;
        for column in ["scopes", "name"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("sessions")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
