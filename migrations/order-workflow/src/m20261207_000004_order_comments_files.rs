//! Order comments and order files. Both carry the order's organization (the tenant) so every
//! lookup by id is checked against the caller's organization without a join, and both go with
//! their order (cascade). A reply's parent may be deleted while the reply stays (set null).
//! `order_stage_id` names a stage of the order's workflow; stages are another table's, so it is
//! a plain column. A file's bytes live outside the database, under the service's data directory
//! at `file_path`; the row is what says the object exists.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderItems {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderComments {
    Table,
    Id,
    OrganizationId,
    OrderId,
    OrderStageId,
    CommentType,
    ContentZh,
    ContentId,
    IsInternal,
    IsPinned,
    RepliedToCommentId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderFiles {
    Table,
    Id,
    OrganizationId,
    OrderId,
    OrderItemId,
    OrderStageId,
    FileCategory,
    FileNameZh,
    FileNameId,
    FileType,
    FilePath,
    FileSize,
    MimeType,
    DescriptionZh,
    DescriptionId,
    IsRequired,
    IsVerified,
    VerifiedBy,
    VerifiedAt,
    UploadedBy,
    CreatedAt,
    UpdatedAt,
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use OrderComments as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(uuid(C::Id).primary_key())
                .col(uuid(C::OrganizationId))
                .col(uuid(C::OrderId))
                .col(uuid_null(C::OrderStageId))
                .col(string_len(C::CommentType, 20).default("general"))
                .col(text_null(C::ContentZh))
                .col(text_null(C::ContentId))
                .col(boolean(C::IsInternal).default(false))
                .col(boolean(C::IsPinned).default(false))
                .col(uuid_null(C::RepliedToCommentId))
                .col(uuid_null(C::CreatedBy))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .check(Expr::col(C::CommentType).is_in(["general", "internal", "customer", "system"]))
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::RepliedToCommentId)
                        .to(C::Table, C::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // The list's order: pinned first, then newest.
        m.create_index(index("idx_order_comments_order", C::Table, &[C::OrderId, C::IsPinned, C::CreatedAt])).await?;

        use OrderFiles as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(uuid(F::Id).primary_key())
                .col(uuid(F::OrganizationId))
                .col(uuid(F::OrderId))
                .col(uuid_null(F::OrderItemId))
                .col(uuid_null(F::OrderStageId))
                .col(string_len(F::FileCategory, 20).default("other"))
                .col(string_len_null(F::FileNameZh, 255))
                .col(string_len_null(F::FileNameId, 255))
                .col(string_len(F::FileType, 20).default("other"))
                .col(string_len(F::FilePath, 500))
                .col(big_integer(F::FileSize).default(0))
                .col(string_len(F::MimeType, 100))
                .col(text_null(F::DescriptionZh))
                .col(text_null(F::DescriptionId))
                .col(boolean(F::IsRequired).default(false))
                .col(boolean(F::IsVerified).default(false))
                .col(uuid_null(F::VerifiedBy))
                .col(timestamp_with_time_zone_null(F::VerifiedAt))
                .col(uuid_null(F::UploadedBy))
                .col(timestamp_with_time_zone(F::CreatedAt))
                .col(timestamp_with_time_zone(F::UpdatedAt))
                .check(Expr::col(F::FileCategory).is_in(["passport", "visa", "document", "other"]))
                .check(Expr::col(F::FileType).is_in(["image", "pdf", "doc", "excel", "other"]))
                .check(Expr::col(F::FileSize).gte(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(F::Table, F::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(F::Table, F::OrderItemId)
                        .to(OrderItems::Table, OrderItems::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_order_files_order", F::Table, &[F::OrderId, F::CreatedAt])).await?;
        m.create_index(index("idx_order_files_item", F::Table, &[F::OrderItemId])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [OrderFiles::Table.into_iden(), OrderComments::Table.into_iden()] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
