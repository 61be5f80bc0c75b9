//! Alerts with their lifecycle (`active → acknowledged → resolved`), the metric samples the rules
//! read and the dashboard charts, and the leases that make one replica the evaluator.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Alerts {
    Table,
    Id,
    /// The rule: `cpu_high`, `memory_high`, `disk_high`, `error_rate_high`.
    AlertType,
    /// What the rule looked at: `host`, or a service's name for its error rate.
    Subject,
    /// `warning` | `critical`.
    Severity,
    Title,
    Message,
    Value,
    Threshold,
    Status,
    /// How often the rule fired again while this alert was open (not raised anew).
    Occurrences,
    CreatedAt,
    LastSeenAt,
    AcknowledgedAt,
    AcknowledgedBy,
    ResolvedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MetricSamples {
    Table,
    Id,
    /// `cpu_percent`, `memory_percent`, `disk_percent`, `db_connections`, `error_rate:{service}`.
    Metric,
    Value,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Leases {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Alerts as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(uuid(A::Id).primary_key())
                .col(string_len(A::AlertType, 50))
                .col(string_len(A::Subject, 100))
                .col(string_len(A::Severity, 20))
                .col(string_len(A::Title, 255))
                .col(text(A::Message))
                .col(double(A::Value))
                .col(double(A::Threshold))
                .col(string_len(A::Status, 20).default("active"))
                .col(integer(A::Occurrences).default(1))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .col(timestamp_with_time_zone(A::LastSeenAt))
                .col(timestamp_with_time_zone_null(A::AcknowledgedAt))
                .col(uuid_null(A::AcknowledgedBy))
                .col(timestamp_with_time_zone_null(A::ResolvedAt))
                .check(Expr::col(A::Status).is_in(["active", "acknowledged", "resolved"]))
                .check(Expr::col(A::Severity).is_in(["info", "warning", "critical"]))
                .to_owned(),
        )
        .await?;
        // The open alerts (the active list, the repeat check per rule and subject).
        m.create_index(
            Index::create()
                .name("idx_alerts_status_type_subject")
                .table(A::Table)
                .col(A::Status)
                .col(A::AlertType)
                .col(A::Subject)
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("idx_alerts_created").table(A::Table).col(A::CreatedAt).to_owned()).await?;

        use MetricSamples as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(uuid(S::Id).primary_key())
                .col(string_len(S::Metric, 150))
                .col(double(S::Value))
                .col(timestamp_with_time_zone(S::RecordedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_metric_samples_metric_time")
                .table(S::Table)
                .col(S::Metric)
                .col(S::RecordedAt)
                .to_owned(),
        )
        .await?;

        use Leases as L;
        m.create_table(
            Table::create()
                .table(L::Table)
                .col(string_len(L::Name, 100).primary_key())
                .col(string_len_null(L::Holder, 100))
                .col(timestamp_with_time_zone(L::ExpiresAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Leases::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(MetricSamples::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Alerts::Table).to_owned()).await
    }
}
