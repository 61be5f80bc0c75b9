//! Opportunities: a lead worked into a possible sale, with the products it would sell (their names
//! and codes copied from service-management when chosen, so history survives catalogue edits), the
//! payment stages agreed, and its follow-ups and notes. Every opportunity carries its organization
//! (the tenant) and a `version` for optimistic locking. `customer_id`, `product_id` and the users
//! point into other services' data, so they are plain columns without foreign keys; `lead_id` is
//! this service's own and set to null when the lead is deleted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Leads {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Opportunities {
    Table,
    Id,
    OrganizationId,
    CustomerId,
    LeadId,
    Name,
    Amount,
    Probability,
    Stage,
    Status,
    OwnerUserId,
    ExpectedCloseDate,
    ActualCloseDate,
    Description,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum OpportunityProducts {
    Table,
    Id,
    OrganizationId,
    OpportunityId,
    ProductId,
    ProductName,
    ProductCode,
    Quantity,
    UnitPrice,
    TotalAmount,
    ExecutionOrder,
    Status,
    StartDate,
    ExpectedCompletionDate,
    ActualCompletionDate,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OpportunityPaymentStages {
    Table,
    Id,
    OrganizationId,
    OpportunityId,
    StageNumber,
    StageName,
    Amount,
    DueDate,
    PaymentTrigger,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OpportunityFollowUps {
    Table,
    Id,
    OrganizationId,
    OpportunityId,
    FollowUpType,
    Content,
    FollowUpDate,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OpportunityNotes {
    Table,
    Id,
    OrganizationId,
    OpportunityId,
    NoteType,
    Content,
    IsImportant,
    CreatedBy,
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

/// Amounts: exact decimals with two places, as service-management's prices.
fn money<T: IntoIden>(col: T) -> ColumnDef {
    decimal_len(col, 18, 2)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Opportunities as O;
        m.create_table(
            Table::create()
                .table(O::Table)
                .col(uuid(O::Id).primary_key())
                .col(uuid(O::OrganizationId))
                // Null until the customer is known (the admin frontend creates such opportunities).
                .col(uuid_null(O::CustomerId))
                .col(uuid_null(O::LeadId))
                .col(string_len(O::Name, 255))
                .col(decimal_len_null(O::Amount, 18, 2))
                .col(integer_null(O::Probability))
                .col(string_len(O::Stage, 20).default("initial_contact"))
                .col(string_len(O::Status, 20).default("active"))
                .col(uuid_null(O::OwnerUserId))
                .col(date_null(O::ExpectedCloseDate))
                .col(date_null(O::ActualCloseDate))
                .col(text_null(O::Description))
                .col(uuid_null(O::CreatedBy))
                .col(uuid_null(O::UpdatedBy))
                .col(timestamp_with_time_zone(O::CreatedAt))
                .col(timestamp_with_time_zone(O::UpdatedAt))
                .col(integer(O::Version).default(1))
                .check(Expr::col(O::Stage).is_in([
                    "initial_contact",
                    "needs_analysis",
                    "proposal",
                    "negotiation",
                    "closed_won",
                    "closed_lost",
                ]))
                .check(Expr::col(O::Status).is_in(["active", "won", "lost", "cancelled"]))
                .check(Expr::col(O::Probability).is_null().or(Expr::col(O::Probability).between(0, 100)))
                .foreign_key(
                    ForeignKey::create()
                        .from(O::Table, O::LeadId)
                        .to(Leads::Table, Leads::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // The list's default order (newest first) per organization, and what it filters by: the
        // caller's own ("my opportunities"), a customer, a stage or status (the board).
        m.create_index(index("idx_opportunities_org_created", O::Table, &[O::OrganizationId, O::CreatedAt, O::Id]))
            .await?;
        m.create_index(index(
            "idx_opportunities_org_owner",
            O::Table,
            &[O::OrganizationId, O::OwnerUserId, O::CreatedAt],
        ))
        .await?;
        m.create_index(index("idx_opportunities_org_customer", O::Table, &[O::OrganizationId, O::CustomerId])).await?;
        m.create_index(index("idx_opportunities_org_stage", O::Table, &[O::OrganizationId, O::Stage])).await?;
        m.create_index(index("idx_opportunities_org_status", O::Table, &[O::OrganizationId, O::Status])).await?;
        // One lead yields at most one opportunity: the backstop of idempotent conversion. Partial
        // (both SQLite and PostgreSQL have them) so that the many opportunities without a lead
        // are not indexed at all.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_opportunities_lead ON opportunities (lead_id) WHERE lead_id IS NOT NULL",
            )
            .await?;

        let to_opportunity = |table: DynIden, col: DynIden| {
            ForeignKey::create().from(table, col).to(O::Table, O::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
        };

        use OpportunityProducts as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(uuid(P::Id).primary_key())
                .col(uuid(P::OrganizationId))
                .col(uuid(P::OpportunityId))
                .col(uuid(P::ProductId))
                .col(string_len(P::ProductName, 255))
                .col(string_len_null(P::ProductCode, 100))
                .col(integer(P::Quantity).default(1))
                .col(money(P::UnitPrice).default(0))
                .col(money(P::TotalAmount).default(0))
                .col(integer(P::ExecutionOrder).default(1))
                .col(string_len(P::Status, 20).default("pending"))
                .col(date_null(P::StartDate))
                .col(date_null(P::ExpectedCompletionDate))
                .col(date_null(P::ActualCompletionDate))
                .col(text_null(P::Notes))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone(P::UpdatedAt))
                .check(Expr::col(P::Quantity).gt(0))
                .check(Expr::col(P::ExecutionOrder).gt(0))
                .check(Expr::col(P::Status).is_in(["pending", "in_progress", "completed", "cancelled"]))
                .foreign_key(&mut to_opportunity(P::Table.into_iden(), P::OpportunityId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_opportunity_products_pair", P::Table, &[P::OpportunityId, P::ProductId]).unique().to_owned(),
        )
        .await?;

        use OpportunityPaymentStages as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(uuid(S::Id).primary_key())
                .col(uuid(S::OrganizationId))
                .col(uuid(S::OpportunityId))
                .col(integer(S::StageNumber))
                .col(string_len(S::StageName, 255))
                .col(money(S::Amount).default(0))
                .col(date_null(S::DueDate))
                .col(string_len(S::PaymentTrigger, 20).default("manual"))
                .col(string_len(S::Status, 20).default("pending"))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .check(Expr::col(S::StageNumber).gt(0))
                .check(Expr::col(S::Amount).gte(0))
                .check(Expr::col(S::PaymentTrigger).is_in(["manual", "milestone", "date", "completion"]))
                .check(Expr::col(S::Status).is_in(["pending", "paid", "overdue", "cancelled"]))
                .foreign_key(&mut to_opportunity(S::Table.into_iden(), S::OpportunityId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_opportunity_payment_stages_number", S::Table, &[S::OpportunityId, S::StageNumber])
                .unique()
                .to_owned(),
        )
        .await?;

        use OpportunityFollowUps as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(uuid(F::Id).primary_key())
                .col(uuid(F::OrganizationId))
                .col(uuid(F::OpportunityId))
                .col(string_len(F::FollowUpType, 20))
                .col(text_null(F::Content))
                // A day, as the admin frontend's date input sends it.
                .col(date(F::FollowUpDate))
                .col(uuid_null(F::CreatedBy))
                .col(timestamp_with_time_zone(F::CreatedAt))
                .check(Expr::col(F::FollowUpType).is_in(["call", "meeting", "email", "note"]))
                .foreign_key(&mut to_opportunity(F::Table.into_iden(), F::OpportunityId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_opportunity_follow_ups_opp", F::Table, &[F::OpportunityId, F::FollowUpDate])).await?;

        use OpportunityNotes as N;
        m.create_table(
            Table::create()
                .table(N::Table)
                .col(uuid(N::Id).primary_key())
                .col(uuid(N::OrganizationId))
                .col(uuid(N::OpportunityId))
                .col(string_len(N::NoteType, 20))
                .col(text(N::Content))
                .col(boolean(N::IsImportant).default(false))
                .col(uuid_null(N::CreatedBy))
                .col(timestamp_with_time_zone(N::CreatedAt))
                .check(Expr::col(N::NoteType).is_in(["comment", "reminder", "task"]))
                .foreign_key(&mut to_opportunity(N::Table.into_iden(), N::OpportunityId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_opportunity_notes_opp", N::Table, &[N::OpportunityId, N::CreatedAt])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            OpportunityNotes::Table.into_iden(),
            OpportunityFollowUps::Table.into_iden(),
            OpportunityPaymentStages::Table.into_iden(),
            OpportunityProducts::Table.into_iden(),
            Opportunities::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
