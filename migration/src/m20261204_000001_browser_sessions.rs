use sea_orm_migration::{prelude::*, schema::*};

/// Browser sessions and freshness (SPEC v2 §1): a client's `transport` (`bearer` or `cookie`)
/// and `idle_timeout`, and a session's `authenticated_at` (when its user last proved their
/// password). Existing sessions count their creation as their last proof.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("clients")
                    .add_column(string_len("transport", 16).default("bearer"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("clients")
                    .add_column(big_integer_null("idle_timeout"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(big_integer("authenticated_at").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE sessions SET authenticated_at = created")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("sessions", "authenticated_at"),
            ("clients", "idle_timeout"),
            ("clients", "transport"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
