use sea_orm_migration::{prelude::*, schema::*};

/// Refresh rotation with reuse detection (SPEC v2 §4.1): a client's `rotate_on_refresh`, and per
/// session the digest of the token it replaced last, until when that token is still honoured,
/// and the new token sealed for that window (so a repeated refresh gets the same one back).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("clients")
                    .add_column(boolean("rotate_on_refresh").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(string_len_null("previous_digest", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(big_integer_null("previous_until"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(text_null("rotated_token"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_previous_digest")
                    .table("sessions")
                    .col("previous_digest")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_sessions_previous_digest")
                    .table("sessions")
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            ("sessions", "rotated_token"),
            ("sessions", "previous_until"),
            ("sessions", "previous_digest"),
            ("clients", "rotate_on_refresh"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
