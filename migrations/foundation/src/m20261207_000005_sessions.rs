//! Server-side sessions, so that access tokens can live a working day and still be ended at once
//! (logout, password change, lock, an administrator). Each access token names its session (`sid`);
//! a session's id is also the family id of its refresh tokens.
//!
//! Also the organizations' `external_id` (legacy import id) and `parent_id` (the original's
//! deprecated hierarchy), which the original's organization detail carries.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    ExternalId,
    ParentId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    UserId,
    ClientIp,
    UserAgent,
    CreatedAt,
    LastSeenAt,
    EndedAt,
    EndReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(uuid(Sessions::Id).primary_key())
                .col(uuid(Sessions::UserId))
                .col(string_len_null(Sessions::ClientIp, 45))
                .col(string_len_null(Sessions::UserAgent, 500))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .col(timestamp_with_time_zone_null(Sessions::EndedAt))
                .col(string_len_null(Sessions::EndReason, 20))
                .foreign_key(
                    ForeignKey::create()
                        .from(Sessions::Table, Sessions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A user's open sessions: listing them, and ending them all.
        m.create_index(
            Index::create()
                .name("idx_sessions_user_ended")
                .table(Sessions::Table)
                .col(Sessions::UserId)
                .col(Sessions::EndedAt)
                .to_owned(),
        )
        .await?;
        // One statement per column: SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .add_column(string_len_null(Organizations::ExternalId, 100))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Organizations::Table).add_column(uuid_null(Organizations::ParentId)).to_owned(),
        )
        .await?;
        // SQLite cannot add a UNIQUE column; a unique index does the same (NULLs never collide).
        m.create_index(
            Index::create()
                .name("idx_organizations_external_id")
                .table(Organizations::Table)
                .col(Organizations::ExternalId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("idx_organizations_external_id").table(Organizations::Table).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Organizations::Table).drop_column(Organizations::ParentId).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Organizations::Table).drop_column(Organizations::ExternalId).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Sessions::Table).to_owned()).await
    }
}
