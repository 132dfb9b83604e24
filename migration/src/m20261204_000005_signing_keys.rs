use sea_orm_migration::{prelude::*, schema::*};

/// Signing keys for JWT access tokens (SPEC v2 §1, §4.3, §4.5): Ed25519 pairs, one `current`
/// (signs), one `next` (published ahead of its turn) and any number of `retired` ones (published
/// until `publish_until`, then deleted). The private key is sealed under the server secret.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("signing_keys")
                    .if_not_exists()
                    .col(string_len("kid", 64).primary_key())
                    .col(string_len("state", 16))
                    .col(string_len("public_key", 64))
                    .col(text("private_key"))
                    .col(big_integer("created"))
                    .col(big_integer_null("retired_at"))
                    .col(big_integer_null("publish_until"))
                    .to_owned(),
            )
            .await?;
        // At most one `current` and one `next`, whatever instances race at first start.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_signing_keys_state ON signing_keys (state) WHERE state <> 'retired'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("signing_keys").to_owned())
            .await
    }
}
