//! Export tasks: a file made in the background (work-log exports), kept in the database so that
//! every replica of the service can report on it and hand it out.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ExportTasks {
    Table,
    Id,
    OrganizationId,
    UserId,
    Kind,
    Status,
    Progress,
    FileName,
    MimeType,
    Content,
    Rows,
    Error,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let t = ExportTasks::Table;
        let fk = |col: ExportTasks, to: DynIden, to_col: DynIden| {
            ForeignKey::create().from(t, col).to(to, to_col).on_delete(ForeignKeyAction::Cascade).to_owned()
        };
        m.create_table(
            Table::create()
                .table(t)
                .col(uuid(ExportTasks::Id).primary_key())
                .col(uuid(ExportTasks::OrganizationId))
                .col(uuid(ExportTasks::UserId))
                .col(string_len(ExportTasks::Kind, 50))
                .col(string_len(ExportTasks::Status, 20))
                .col(small_integer(ExportTasks::Progress).default(0))
                .col(string_len_null(ExportTasks::FileName, 255))
                .col(string_len_null(ExportTasks::MimeType, 100))
                .col(blob_null(ExportTasks::Content))
                .col(big_integer_null(ExportTasks::Rows))
                .col(text_null(ExportTasks::Error))
                .col(timestamp_with_time_zone(ExportTasks::CreatedAt))
                .col(timestamp_with_time_zone_null(ExportTasks::FinishedAt))
                .foreign_key(&mut fk(
                    ExportTasks::OrganizationId,
                    Organizations::Table.into_iden(),
                    Organizations::Id.into_iden(),
                ))
                .foreign_key(&mut fk(ExportTasks::UserId, Users::Table.into_iden(), Users::Id.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_export_tasks_user_created")
                .table(t)
                .col(ExportTasks::UserId)
                .col(ExportTasks::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ExportTasks::Table).to_owned()).await
    }
}
