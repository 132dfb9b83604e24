use sea_orm_migration::{prelude::*, schema::*};

/// Security events (SPEC v2 §4.6): an append-only record of who did what, from where. No
/// foreign keys: an event outlives the user, session and client it names (their names are
/// copied in).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("events")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("time"))
                    .col(string_len("type", 32))
                    .col(integer_null("user_id"))
                    .col(string_len_null("username", 150))
                    .col(string_len_null("client", 64))
                    .col(string_len_null("session_id", 36))
                    .col(integer_null("actor_id"))
                    .col(string_len_null("ip", 64))
                    .col(string_len_null("user_agent", 512))
                    .col(text("detail"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_events_user", &["user_id", "id"][..]),
            ("idx_events_type", &["type", "id"][..]),
            ("idx_events_time", &["time"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("events").if_not_exists();
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("events").to_owned())
            .await
    }
}
