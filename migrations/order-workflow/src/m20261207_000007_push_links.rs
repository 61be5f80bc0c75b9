//! What live push and share links need. Notifications gain their Indonesian wording beside the
//! Chinese `title`/`content` and a finer `category` (`order_status`, `order_file`,
//! `workflow_task`…) than the original's five `notification_type`s, which stay as they are so
//! existing readers keep working. `temporary_links` are share links: a random token, an optional
//! expiry and an access budget whose counter is only ever moved by one conditional `UPDATE`, so
//! concurrent opens can never overspend it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Category,
    TitleId,
    ContentId,
}

#[derive(DeriveIden, Clone, Copy)]
enum TemporaryLinks {
    Table,
    Id,
    OrganizationId,
    LinkToken,
    ResourceType,
    ResourceId,
    ExpiresAt,
    MaxAccessCount,
    CurrentAccessCount,
    IsActive,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Notifications as N;
        // One column per statement: SQLite alters a table one column at a time.
        for col in [string_len_null(N::Category, 50), string_len_null(N::TitleId, 255), text_null(N::ContentId)] {
            m.alter_table(Table::alter().table(N::Table).add_column(col).to_owned()).await?;
        }

        use TemporaryLinks as L;
        m.create_table(
            Table::create()
                .table(L::Table)
                .col(uuid(L::Id).primary_key())
                .col(uuid(L::OrganizationId))
                .col(string_len_uniq(L::LinkToken, 255))
                .col(string_len(L::ResourceType, 30))
                .col(uuid(L::ResourceId))
                .col(timestamp_with_time_zone_null(L::ExpiresAt))
                .col(integer(L::MaxAccessCount).default(1))
                .col(integer(L::CurrentAccessCount).default(0))
                .col(boolean(L::IsActive).default(true))
                .col(uuid(L::CreatedBy))
                .col(timestamp_with_time_zone(L::CreatedAt))
                .check(Expr::col(L::ResourceType).is_in(["service_account", "order", "customer"]))
                .check(Expr::col(L::MaxAccessCount).gt(0))
                .check(Expr::col(L::CurrentAccessCount).gte(0))
                .check(Expr::col(L::CurrentAccessCount).lte(Expr::col(L::MaxAccessCount)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_temporary_links_creator")
                .table(L::Table)
                .col(L::CreatedBy)
                .col(L::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TemporaryLinks::Table).to_owned()).await?;
        use Notifications as N;
        for col in [N::ContentId, N::TitleId, N::Category] {
            m.alter_table(Table::alter().table(N::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
