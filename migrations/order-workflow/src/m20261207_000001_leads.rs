//! Leads: prospective customers before conversion, their follow-ups (which drive the status
//! machine) and free-text notes. Every lead carries its organization (the tenant) and a `version`
//! for optimistic locking. `customer_id` and `level` point into service-management's data, so
//! they are plain columns without foreign keys: no service reads another's tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Leads {
    Table,
    Id,
    OrganizationId,
    Name,
    CompanyName,
    ContactName,
    Phone,
    Email,
    Address,
    CustomerId,
    OwnerUserId,
    Status,
    Level,
    Source,
    IsInPublicPool,
    PoolId,
    MovedToPoolAt,
    LastFollowUpAt,
    NextFollowUpAt,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum LeadFollowUps {
    Table,
    Id,
    OrganizationId,
    LeadId,
    FollowUpType,
    Content,
    FollowUpDate,
    StatusBefore,
    StatusAfter,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum LeadNotes {
    Table,
    Id,
    OrganizationId,
    LeadId,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Leads as L;
        m.create_table(
            Table::create()
                .table(L::Table)
                .col(uuid(L::Id).primary_key())
                .col(uuid(L::OrganizationId))
                .col(string_len(L::Name, 255))
                .col(string_len_null(L::CompanyName, 255))
                .col(string_len_null(L::ContactName, 255))
                .col(string_len_null(L::Phone, 50))
                .col(string_len_null(L::Email, 255))
                .col(text_null(L::Address))
                .col(uuid_null(L::CustomerId))
                .col(uuid_null(L::OwnerUserId))
                .col(string_len(L::Status, 20).default("new"))
                .col(string_len_null(L::Level, 50))
                .col(string_len_null(L::Source, 100))
                .col(boolean(L::IsInPublicPool).default(false))
                .col(uuid_null(L::PoolId))
                .col(timestamp_with_time_zone_null(L::MovedToPoolAt))
                .col(timestamp_with_time_zone_null(L::LastFollowUpAt))
                .col(timestamp_with_time_zone_null(L::NextFollowUpAt))
                .col(uuid_null(L::CreatedBy))
                .col(uuid_null(L::UpdatedBy))
                .col(timestamp_with_time_zone(L::CreatedAt))
                .col(timestamp_with_time_zone(L::UpdatedAt))
                .col(integer(L::Version).default(1))
                .check(Expr::col(L::Status).is_in(["new", "contacted", "qualified", "converted", "lost"]))
                .to_owned(),
        )
        .await?;
        // The list's default order (newest first) per organization, and the views it filters
        // by: the caller's own leads, the public pool, a status, a converted lead's customer.
        m.create_index(index("idx_leads_org_created", L::Table, &[L::OrganizationId, L::CreatedAt, L::Id])).await?;
        m.create_index(index("idx_leads_org_owner", L::Table, &[L::OrganizationId, L::OwnerUserId, L::CreatedAt]))
            .await?;
        m.create_index(index("idx_leads_org_pool", L::Table, &[L::OrganizationId, L::IsInPublicPool, L::CreatedAt]))
            .await?;
        m.create_index(index("idx_leads_org_status", L::Table, &[L::OrganizationId, L::Status])).await?;
        m.create_index(index("idx_leads_customer", L::Table, &[L::CustomerId])).await?;
        // The duplicate check and the exact filters look leads up by these.
        m.create_index(index("idx_leads_org_company", L::Table, &[L::OrganizationId, L::CompanyName])).await?;
        m.create_index(index("idx_leads_org_phone", L::Table, &[L::OrganizationId, L::Phone])).await?;
        m.create_index(index("idx_leads_org_email", L::Table, &[L::OrganizationId, L::Email])).await?;

        let to_lead = |table: DynIden, col: DynIden| {
            ForeignKey::create().from(table, col).to(L::Table, L::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
        };

        use LeadFollowUps as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(uuid(F::Id).primary_key())
                .col(uuid(F::OrganizationId))
                .col(uuid(F::LeadId))
                .col(string_len(F::FollowUpType, 20))
                .col(text_null(F::Content))
                .col(timestamp_with_time_zone(F::FollowUpDate))
                .col(string_len_null(F::StatusBefore, 20))
                .col(string_len_null(F::StatusAfter, 20))
                .col(uuid_null(F::CreatedBy))
                .col(timestamp_with_time_zone(F::CreatedAt))
                .check(Expr::col(F::FollowUpType).is_in(["call", "meeting", "email", "note"]))
                .foreign_key(&mut to_lead(F::Table.into_iden(), F::LeadId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_lead_follow_ups_lead", F::Table, &[F::LeadId, F::FollowUpDate])).await?;

        use LeadNotes as N;
        m.create_table(
            Table::create()
                .table(N::Table)
                .col(uuid(N::Id).primary_key())
                .col(uuid(N::OrganizationId))
                .col(uuid(N::LeadId))
                .col(string_len(N::NoteType, 20))
                .col(text(N::Content))
                .col(boolean(N::IsImportant).default(false))
                .col(uuid_null(N::CreatedBy))
                .col(timestamp_with_time_zone(N::CreatedAt))
                .check(Expr::col(N::NoteType).is_in(["comment", "reminder", "task"]))
                .foreign_key(&mut to_lead(N::Table.into_iden(), N::LeadId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_lead_notes_lead", N::Table, &[N::LeadId, N::CreatedAt])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [LeadNotes::Table.into_iden(), LeadFollowUps::Table.into_iden(), Leads::Table.into_iden()] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
