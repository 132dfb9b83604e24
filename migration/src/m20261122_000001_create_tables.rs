use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_len_uniq("username", 150))
                    .col(string_len("password_hash", 255))
                    .col(boolean("is_active"))
                    .col(boolean("is_admin"))
                    .col(big_integer("created"))
                    .col(big_integer_null("last_login"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("clients")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_len_uniq("name", 64))
                    .col(text("description"))
                    .col(big_integer_null("token_ttl"))
                    .col(big_integer_null("max_lifetime"))
                    .col(string_len_null("throttle_rate", 32))
                    .col(integer_null("max_sessions"))
                    .col(boolean("auto_renew"))
                    .col(big_integer("created"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .if_not_exists()
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("kind", 16))
                    .col(integer("user_id"))
                    .col(integer("client_id"))
                    .col(string_len("device_name", 100))
                    .col(string_len("user_agent", 512))
                    .col(string_len_null("ip", 64))
                    .col(big_integer("created"))
                    .col(big_integer("last_used"))
                    .col(big_integer("renewed"))
                    .col(big_integer_null("expiry"))
                    .col(string_len_uniq("token_digest", 64))
                    .col(string_len("token_hint", 8))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from("sessions", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_client")
                            .from("sessions", "client_id")
                            .to("clients", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_client")
                    .table("sessions")
                    .col("user_id")
                    .col("client_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_client")
                    .table("sessions")
                    .col("client_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expiry")
                    .table("sessions")
                    .col("expiry")
                    .to_owned(),
            )
            .await?;
        // One API key per user, enforced by the database so two racing POSTs cannot both win.
        // Partial unique indexes exist on both SQLite and PostgreSQL with this syntax.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_sessions_api_key ON sessions (user_id) WHERE kind = 'api_key'",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("throttle_overrides")
                    .if_not_exists()
                    .col(integer("user_id"))
                    .col(integer("client_id"))
                    .col(string_len_null("rate", 32))
                    .primary_key(Index::create().col("user_id").col("client_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_throttle_overrides_user")
                            .from("throttle_overrides", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_throttle_overrides_client")
                            .from("throttle_overrides", "client_id")
                            .to("clients", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["throttle_overrides", "sessions", "clients", "users"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
