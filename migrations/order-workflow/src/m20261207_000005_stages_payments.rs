//! Delivery stages of an order, the money collected for it in payment stages and payments,
//! collection tasks that chase overdue money, and the in-app notifications that tell people
//! about them. Every row carries its organization (the tenant). A payment stage's remaining
//! amount is not stored: it is always `amount − paid_amount`, computed where it is read, so the
//! two can never disagree. Payments keep their order (RESTRICT): an order with money received
//! cannot be deleted by accident. An automatic collection task records its payment stage in
//! `auto_stage_key`, unique, so two replicas running the collection job at once create one task
//! per stage (a unique index on a nullable column allows any number of manual tasks, whose key
//! is null, on SQLite and PostgreSQL alike).

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
enum OrderStages {
    Table,
    Id,
    OrganizationId,
    OrderId,
    StageName,
    StageCode,
    StageOrder,
    Status,
    StartedAt,
    CompletedAt,
    ProgressPercent,
    Notes,
    AssignedToUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PaymentStages {
    Table,
    Id,
    OrganizationId,
    OrderId,
    OrderNumber,
    StageNumber,
    StageName,
    StageDescription,
    Amount,
    PaidAmount,
    CurrencyCode,
    PaymentTrigger,
    TriggerDate,
    DueDate,
    ActualPaymentDate,
    Status,
    Notes,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Payments {
    Table,
    Id,
    OrganizationId,
    OrderId,
    PaymentStageId,
    PaymentType,
    Amount,
    CurrencyCode,
    PaymentMethod,
    PaymentDate,
    TransactionId,
    PayerName,
    Status,
    Notes,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CollectionTasks {
    Table,
    Id,
    OrganizationId,
    OrderId,
    PaymentStageId,
    AutoStageKey,
    TaskType,
    Status,
    DueDate,
    ReminderCount,
    Notes,
    AssignedToUserId,
    CreatedBy,
    CompletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    OrganizationId,
    UserId,
    NotificationType,
    Title,
    Content,
    ResourceType,
    ResourceId,
    IsRead,
    ReadAt,
    CreatedAt,
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

fn amount<T: IntoIden>(col: T) -> ColumnDef {
    decimal_len(col, 18, 2).default(0).to_owned()
}

fn fk(
    table: DynIden,
    col: DynIden,
    to: DynIden,
    to_col: DynIden,
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, col).to(to, to_col).on_delete(action).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use OrderStages as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(uuid(S::Id).primary_key())
                .col(uuid(S::OrganizationId))
                .col(uuid(S::OrderId))
                .col(string_len(S::StageName, 255))
                .col(string_len_null(S::StageCode, 100))
                .col(integer(S::StageOrder))
                .col(string_len(S::Status, 20).default("pending"))
                .col(timestamp_with_time_zone_null(S::StartedAt))
                .col(timestamp_with_time_zone_null(S::CompletedAt))
                .col(integer(S::ProgressPercent).default(0))
                .col(text_null(S::Notes))
                .col(uuid_null(S::AssignedToUserId))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .check(Expr::col(S::Status).is_in(["pending", "in_progress", "completed", "cancelled"]))
                .check(Expr::col(S::ProgressPercent).between(0, 100))
                .foreign_key(&mut fk(
                    S::Table.into_iden(),
                    S::OrderId.into_iden(),
                    Orders::Table.into_iden(),
                    Orders::Id.into_iden(),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_order_stages_order", S::Table, &[S::OrderId, S::StageOrder])).await?;

        use PaymentStages as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(uuid(P::Id).primary_key())
                .col(uuid(P::OrganizationId))
                .col(uuid(P::OrderId))
                .col(string_len(P::OrderNumber, 100))
                .col(integer(P::StageNumber))
                .col(string_len(P::StageName, 100))
                .col(text_null(P::StageDescription))
                .col(amount(P::Amount))
                .col(amount(P::PaidAmount))
                .col(string_len(P::CurrencyCode, 10).default("CNY"))
                .col(string_len(P::PaymentTrigger, 20).default("manual"))
                .col(date_null(P::TriggerDate))
                .col(date_null(P::DueDate))
                .col(date_null(P::ActualPaymentDate))
                .col(string_len(P::Status, 20).default("pending"))
                .col(text_null(P::Notes))
                .col(uuid_null(P::CreatedBy))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone(P::UpdatedAt))
                .check(Expr::col(P::StageNumber).gt(0))
                .check(Expr::col(P::Amount).gte(0))
                .check(Expr::col(P::PaidAmount).gte(0))
                .check(Expr::col(P::PaidAmount).lte(Expr::col(P::Amount)))
                .check(Expr::col(P::PaymentTrigger).is_in(["manual", "milestone", "date", "completion"]))
                .check(Expr::col(P::Status).is_in(["pending", "partial", "paid", "overdue", "cancelled"]))
                .foreign_key(&mut fk(
                    P::Table.into_iden(),
                    P::OrderId.into_iden(),
                    Orders::Table.into_iden(),
                    Orders::Id.into_iden(),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("uq_payment_stages_number", P::Table, &[P::OrderId, P::StageNumber]).unique().to_owned())
            .await?;
        // The collection job's scan: open stages by due date.
        m.create_index(index("idx_payment_stages_status_due", P::Table, &[P::Status, P::DueDate])).await?;

        use Payments as Y;
        m.create_table(
            Table::create()
                .table(Y::Table)
                .col(uuid(Y::Id).primary_key())
                .col(uuid(Y::OrganizationId))
                .col(uuid(Y::OrderId))
                .col(uuid(Y::PaymentStageId))
                .col(string_len(Y::PaymentType, 50))
                .col(decimal_len(Y::Amount, 18, 2))
                .col(string_len(Y::CurrencyCode, 10).default("CNY"))
                .col(string_len_null(Y::PaymentMethod, 50))
                .col(date(Y::PaymentDate))
                .col(string_len_null(Y::TransactionId, 100))
                .col(string_len_null(Y::PayerName, 255))
                .col(string_len(Y::Status, 20).default("confirmed"))
                .col(text_null(Y::Notes))
                .col(uuid_null(Y::CreatedBy))
                .col(timestamp_with_time_zone(Y::CreatedAt))
                .check(Expr::col(Y::Amount).gt(0))
                .foreign_key(&mut fk(
                    Y::Table.into_iden(),
                    Y::OrderId.into_iden(),
                    Orders::Table.into_iden(),
                    Orders::Id.into_iden(),
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    Y::Table.into_iden(),
                    Y::PaymentStageId.into_iden(),
                    P::Table.into_iden(),
                    P::Id.into_iden(),
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_payments_stage", Y::Table, &[Y::PaymentStageId, Y::CreatedAt])).await?;
        m.create_index(index("idx_payments_order", Y::Table, &[Y::OrderId])).await?;

        use CollectionTasks as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(uuid(C::Id).primary_key())
                .col(uuid(C::OrganizationId))
                .col(uuid(C::OrderId))
                .col(uuid_null(C::PaymentStageId))
                .col(uuid_null(C::AutoStageKey))
                .col(string_len(C::TaskType, 20).default("manual"))
                .col(string_len(C::Status, 20).default("pending"))
                .col(date_null(C::DueDate))
                .col(integer(C::ReminderCount).default(0))
                .col(text_null(C::Notes))
                .col(uuid_null(C::AssignedToUserId))
                .col(uuid_null(C::CreatedBy))
                .col(timestamp_with_time_zone_null(C::CompletedAt))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .check(Expr::col(C::TaskType).is_in(["auto", "manual"]))
                .check(Expr::col(C::Status).is_in(["pending", "in_progress", "completed", "cancelled"]))
                .check(Expr::col(C::ReminderCount).gte(0))
                .foreign_key(&mut fk(
                    C::Table.into_iden(),
                    C::OrderId.into_iden(),
                    Orders::Table.into_iden(),
                    Orders::Id.into_iden(),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    C::Table.into_iden(),
                    C::PaymentStageId.into_iden(),
                    P::Table.into_iden(),
                    P::Id.into_iden(),
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        // One automatic task per payment stage, whichever replica's job gets there first.
        m.create_index(index("uq_collection_tasks_auto_stage", C::Table, &[C::AutoStageKey]).unique().to_owned())
            .await?;
        m.create_index(index(
            "idx_collection_tasks_assignee",
            C::Table,
            &[C::AssignedToUserId, C::Status, C::CreatedAt],
        ))
        .await?;
        m.create_index(index("idx_collection_tasks_order", C::Table, &[C::OrderId])).await?;

        use Notifications as N;
        m.create_table(
            Table::create()
                .table(N::Table)
                .col(uuid(N::Id).primary_key())
                .col(uuid(N::OrganizationId))
                .col(uuid(N::UserId))
                .col(string_len(N::NotificationType, 50))
                .col(string_len(N::Title, 255))
                .col(text_null(N::Content))
                .col(string_len_null(N::ResourceType, 50))
                .col(uuid_null(N::ResourceId))
                .col(boolean(N::IsRead).default(false))
                .col(timestamp_with_time_zone_null(N::ReadAt))
                .col(timestamp_with_time_zone(N::CreatedAt))
                .check(Expr::col(N::NotificationType).is_in([
                    "collection_task",
                    "lead_assigned",
                    "order_updated",
                    "lead_created",
                    "lead_updated",
                ]))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_notifications_user", N::Table, &[N::UserId, N::IsRead, N::CreatedAt])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Notifications::Table.into_iden(),
            CollectionTasks::Table.into_iden(),
            Payments::Table.into_iden(),
            PaymentStages::Table.into_iden(),
            OrderStages::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
