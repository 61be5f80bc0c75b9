//! Report export jobs: who asked for which report over which dates, how far it has got, and the
//! finished XLSX file (kept in the database so that any replica can serve it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ReportJobs {
    Table,
    Id,
    OrganizationId,
    UserId,
    /// `orders` | `leads` | `customers`.
    ReportType,
    StartDate,
    EndDate,
    /// `running` | `completed` | `failed`.
    Status,
    Progress,
    RowCount,
    FileName,
    Content,
    Error,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ReportJobs as J;
        m.create_table(
            Table::create()
                .table(J::Table)
                .col(uuid(J::Id).primary_key())
                .col(uuid(J::OrganizationId))
                .col(uuid(J::UserId))
                .col(string_len(J::ReportType, 20))
                .col(date(J::StartDate))
                .col(date(J::EndDate))
                .col(string_len(J::Status, 20).default("running"))
                .col(integer(J::Progress).default(0))
                .col(big_integer_null(J::RowCount))
                .col(string_len_null(J::FileName, 255))
                .col(blob_null(J::Content))
                .col(text_null(J::Error))
                .col(timestamp_with_time_zone(J::CreatedAt))
                .col(timestamp_with_time_zone_null(J::FinishedAt))
                .check(Expr::col(J::Status).is_in(["running", "completed", "failed"]))
                .check(Expr::col(J::ReportType).is_in(["orders", "leads", "customers"]))
                .to_owned(),
        )
        .await?;
        // A user's jobs newest first (the list) and within the limit's window (the count).
        m.create_index(
            Index::create()
                .name("idx_report_jobs_user_created")
                .table(J::Table)
                .col(J::UserId)
                .col(J::CreatedAt)
                .to_owned(),
        )
        .await?;
        // Old jobs are deleted by creation time.
        m.create_index(Index::create().name("idx_report_jobs_created").table(J::Table).col(J::CreatedAt).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReportJobs::Table).to_owned()).await
    }
}
