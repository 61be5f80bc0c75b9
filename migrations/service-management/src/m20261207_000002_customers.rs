//! The customer side: reference data (levels, follow-up statuses, industries, sources, channels),
//! customers with their follow-ups and notes, contacts, and service records. Every business row
//! carries its organization (the tenant), a `version` for optimistic locking and, for what offline
//! clients sync (customers, contacts, follow-ups), a `sync_seq` from the organization's counter so
//! that `GET /sync/changes` can walk changes in commit order; deletions leave tombstones.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Levels and follow-up statuses share one shape.
#[derive(DeriveIden, Clone, Copy)]
enum Ref {
    Id,
    Code,
    NameZh,
    NameId,
    SortOrder,
    IsActive,
    DescriptionZh,
    DescriptionId,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerLevels {
    Table,
}
#[derive(DeriveIden, Clone, Copy)]
enum FollowUpStatuses {
    Table,
}
#[derive(DeriveIden, Clone, Copy)]
enum Industries {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Named {
    Id,
    Code,
    Name,
    NameZh,
    NameId,
    Description,
    DisplayOrder,
    IsActive,
}
#[derive(DeriveIden, Clone, Copy)]
enum CustomerSources {
    Table,
}
#[derive(DeriveIden, Clone, Copy)]
enum CustomerChannels {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    Table,
    Id,
    OrganizationId,
    Name,
    Code,
    CustomerType,
    CustomerSourceType,
    ParentCustomerId,
    OwnerUserId,
    AgentUserId,
    AgentId,
    SourceId,
    ChannelId,
    Level,
    IndustryId,
    Description,
    Tags,
    IsLocked,
    CustomerRequirements,
    IdExternal,
    Phone,
    Mobile,
    Email,
    WechatId,
    IdNumber,
    LastFollowUpAt,
    NextFollowUpAt,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
    SyncSeq,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerCodeCounters {
    Table,
    OrganizationId,
    Day,
    Prefix,
    Seq,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerFollowUps {
    Table,
    Id,
    OrganizationId,
    CustomerId,
    FollowUpType,
    Content,
    FollowUpDate,
    StatusBefore,
    StatusAfter,
    NextFollowUpAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
    SyncSeq,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerNotes {
    Table,
    Id,
    OrganizationId,
    CustomerId,
    NoteType,
    Content,
    IsImportant,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    Id,
    OrganizationId,
    CustomerId,
    FirstName,
    LastName,
    Email,
    Phone,
    Mobile,
    WechatId,
    Position,
    Department,
    ContactRole,
    IsPrimary,
    IsDecisionMaker,
    Address,
    City,
    Province,
    Country,
    PostalCode,
    PreferredContactMethod,
    IsActive,
    Notes,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
    SyncSeq,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceRecords {
    Table,
    Id,
    OrganizationId,
    CustomerId,
    CustomerName,
    ServiceTypeId,
    ServiceTypeName,
    ProductId,
    ProductName,
    ProductCode,
    ServiceName,
    ServiceDescription,
    ServiceCode,
    ContactId,
    ContactName,
    SalesUserId,
    SalesUsername,
    ReferralCustomerId,
    ReferralCustomerName,
    Status,
    StatusDescription,
    Priority,
    PriorityRank,
    ExpectedStartDate,
    ExpectedCompletionDate,
    ActualStartDate,
    ActualCompletionDate,
    Deadline,
    EstimatedPrice,
    FinalPrice,
    CurrencyCode,
    PriceNotes,
    Quantity,
    Unit,
    Requirements,
    CustomerRequirements,
    InternalNotes,
    CustomerNotes,
    RequiredDocuments,
    Attachments,
    LastFollowUpAt,
    NextFollowUpAt,
    FollowUpNotes,
    Tags,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum SyncCounters {
    Table,
    OrganizationId,
    Seq,
}

#[derive(DeriveIden, Clone, Copy)]
enum SyncTombstones {
    Table,
    Id,
    OrganizationId,
    Entity,
    EntityId,
    SyncSeq,
    DeletedAt,
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

fn money<T: IntoIden>(col: T) -> ColumnDef {
    decimal_len_null(col, 18, 2)
}

async fn reference_table<T: IntoIden + Copy + 'static>(m: &SchemaManager<'_>, table: T) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(table)
            .col(uuid(Ref::Id).primary_key())
            .col(string_len_uniq(Ref::Code, 50))
            .col(string_len(Ref::NameZh, 255))
            .col(string_len(Ref::NameId, 255))
            .col(integer(Ref::SortOrder).default(0))
            .col(boolean(Ref::IsActive).default(true))
            .col(text_null(Ref::DescriptionZh))
            .col(text_null(Ref::DescriptionId))
            .to_owned(),
    )
    .await
}

async fn named_table<T: IntoIden + Copy + 'static>(m: &SchemaManager<'_>, table: T) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(table)
            .col(uuid(Named::Id).primary_key())
            .col(string_len_uniq(Named::Code, 50))
            .col(string_len(Named::Name, 255))
            .col(string_len_null(Named::NameZh, 255))
            .col(string_len_null(Named::NameId, 255))
            .col(text_null(Named::Description))
            .col(integer(Named::DisplayOrder).default(0))
            .col(boolean(Named::IsActive).default(true))
            .to_owned(),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        reference_table(m, CustomerLevels::Table).await?;
        reference_table(m, FollowUpStatuses::Table).await?;
        reference_table(m, Industries::Table).await?;
        named_table(m, CustomerSources::Table).await?;
        named_table(m, CustomerChannels::Table).await?;

        use Customers as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(uuid(C::Id).primary_key())
                .col(uuid(C::OrganizationId))
                .col(string_len(C::Name, 255))
                .col(string_len(C::Code, 100))
                .col(string_len(C::CustomerType, 20).default("individual"))
                .col(string_len(C::CustomerSourceType, 20).default("own"))
                .col(uuid_null(C::ParentCustomerId))
                .col(uuid_null(C::OwnerUserId))
                .col(uuid_null(C::AgentUserId))
                .col(uuid_null(C::AgentId))
                .col(uuid_null(C::SourceId))
                .col(uuid_null(C::ChannelId))
                .col(string_len_null(C::Level, 50))
                .col(uuid_null(C::IndustryId))
                .col(text_null(C::Description))
                .col(json_null(C::Tags))
                .col(boolean(C::IsLocked).default(false))
                .col(text_null(C::CustomerRequirements))
                .col(string_len_null(C::IdExternal, 100))
                .col(string_len_null(C::Phone, 50))
                .col(string_len_null(C::Mobile, 50))
                .col(string_len_null(C::Email, 255))
                .col(string_len_null(C::WechatId, 100))
                .col(string_len_null(C::IdNumber, 100))
                .col(timestamp_with_time_zone_null(C::LastFollowUpAt))
                .col(timestamp_with_time_zone_null(C::NextFollowUpAt))
                .col(uuid_null(C::CreatedBy))
                .col(uuid_null(C::UpdatedBy))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .col(integer(C::Version).default(1))
                .col(big_integer(C::SyncSeq).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::ParentCustomerId)
                        .to(C::Table, C::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("uq_customers_org_code", C::Table, &[C::OrganizationId, C::Code]).unique().to_owned())
            .await?;
        m.create_index(index("uq_customers_id_external", C::Table, &[C::IdExternal]).unique().to_owned()).await?;
        // The list's default order (newest first) and its keyset cursor, per organization.
        m.create_index(index("idx_customers_org_created", C::Table, &[C::OrganizationId, C::CreatedAt, C::Id])).await?;
        m.create_index(index("idx_customers_org_owner", C::Table, &[C::OrganizationId, C::OwnerUserId, C::CreatedAt]))
            .await?;
        m.create_index(index("idx_customers_org_sync", C::Table, &[C::OrganizationId, C::SyncSeq])).await?;
        m.create_index(index("idx_customers_parent", C::Table, &[C::ParentCustomerId])).await?;

        use CustomerCodeCounters as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(uuid(K::OrganizationId))
                .col(string_len(K::Day, 8))
                .col(string_len(K::Prefix, 1))
                .col(integer(K::Seq))
                .primary_key(Index::create().col(K::OrganizationId).col(K::Day).col(K::Prefix))
                .to_owned(),
        )
        .await?;

        let to_customer = |table: DynIden, col: DynIden| {
            ForeignKey::create().from(table, col).to(C::Table, C::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
        };

        use CustomerFollowUps as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(uuid(F::Id).primary_key())
                .col(uuid(F::OrganizationId))
                .col(uuid(F::CustomerId))
                .col(string_len(F::FollowUpType, 20))
                .col(text_null(F::Content))
                .col(timestamp_with_time_zone(F::FollowUpDate))
                .col(string_len_null(F::StatusBefore, 50))
                .col(string_len_null(F::StatusAfter, 50))
                .col(timestamp_with_time_zone_null(F::NextFollowUpAt))
                .col(uuid_null(F::CreatedBy))
                .col(timestamp_with_time_zone(F::CreatedAt))
                .col(timestamp_with_time_zone(F::UpdatedAt))
                .col(integer(F::Version).default(1))
                .col(big_integer(F::SyncSeq).default(0))
                .foreign_key(&mut to_customer(F::Table.into_iden(), F::CustomerId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_follow_ups_customer", F::Table, &[F::CustomerId, F::FollowUpDate])).await?;
        m.create_index(index("idx_follow_ups_org_sync", F::Table, &[F::OrganizationId, F::SyncSeq])).await?;

        use CustomerNotes as N;
        m.create_table(
            Table::create()
                .table(N::Table)
                .col(uuid(N::Id).primary_key())
                .col(uuid(N::OrganizationId))
                .col(uuid(N::CustomerId))
                .col(string_len(N::NoteType, 30))
                .col(text(N::Content))
                .col(boolean(N::IsImportant).default(false))
                .col(uuid_null(N::CreatedBy))
                .col(timestamp_with_time_zone(N::CreatedAt))
                .foreign_key(&mut to_customer(N::Table.into_iden(), N::CustomerId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_notes_customer", N::Table, &[N::CustomerId, N::CreatedAt])).await?;

        use Contacts as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(uuid(T::Id).primary_key())
                .col(uuid(T::OrganizationId))
                .col(uuid(T::CustomerId))
                .col(string_len_null(T::FirstName, 255))
                .col(string_len(T::LastName, 255))
                .col(string_len_null(T::Email, 255))
                .col(string_len_null(T::Phone, 50))
                .col(string_len_null(T::Mobile, 50))
                .col(string_len_null(T::WechatId, 100))
                .col(string_len_null(T::Position, 100))
                .col(string_len_null(T::Department, 100))
                .col(string_len_null(T::ContactRole, 50))
                .col(boolean(T::IsPrimary).default(false))
                .col(boolean(T::IsDecisionMaker).default(false))
                .col(text_null(T::Address))
                .col(string_len_null(T::City, 100))
                .col(string_len_null(T::Province, 100))
                .col(string_len_null(T::Country, 100))
                .col(string_len_null(T::PostalCode, 20))
                .col(string_len_null(T::PreferredContactMethod, 20))
                .col(boolean(T::IsActive).default(true))
                .col(text_null(T::Notes))
                .col(uuid_null(T::CreatedBy))
                .col(uuid_null(T::UpdatedBy))
                .col(timestamp_with_time_zone(T::CreatedAt))
                .col(timestamp_with_time_zone(T::UpdatedAt))
                .col(integer(T::Version).default(1))
                .col(big_integer(T::SyncSeq).default(0))
                .foreign_key(&mut to_customer(T::Table.into_iden(), T::CustomerId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_contacts_customer", T::Table, &[T::CustomerId, T::CreatedAt])).await?;
        m.create_index(index("idx_contacts_org_sync", T::Table, &[T::OrganizationId, T::SyncSeq])).await?;
        // Exactly one primary contact per customer at most.
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX uq_contacts_primary ON contacts (customer_id) WHERE is_primary")
            .await?;

        use ServiceRecords as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(uuid(S::Id).primary_key())
                .col(uuid(S::OrganizationId))
                .col(uuid(S::CustomerId))
                .col(string_len_null(S::CustomerName, 255))
                .col(uuid_null(S::ServiceTypeId))
                .col(string_len_null(S::ServiceTypeName, 255))
                .col(uuid_null(S::ProductId))
                .col(string_len_null(S::ProductName, 255))
                .col(string_len_null(S::ProductCode, 100))
                .col(string_len_null(S::ServiceName, 255))
                .col(text_null(S::ServiceDescription))
                .col(string_len_null(S::ServiceCode, 100))
                .col(uuid_null(S::ContactId))
                .col(string_len_null(S::ContactName, 255))
                .col(uuid_null(S::SalesUserId))
                .col(string_len_null(S::SalesUsername, 255))
                .col(uuid_null(S::ReferralCustomerId))
                .col(string_len_null(S::ReferralCustomerName, 255))
                .col(string_len(S::Status, 20).default("pending"))
                .col(text_null(S::StatusDescription))
                .col(string_len(S::Priority, 20).default("normal"))
                .col(integer(S::PriorityRank).default(2))
                .col(date_null(S::ExpectedStartDate))
                .col(date_null(S::ExpectedCompletionDate))
                .col(date_null(S::ActualStartDate))
                .col(date_null(S::ActualCompletionDate))
                .col(date_null(S::Deadline))
                .col(money(S::EstimatedPrice))
                .col(money(S::FinalPrice))
                .col(string_len(S::CurrencyCode, 3).default("CNY"))
                .col(text_null(S::PriceNotes))
                .col(decimal_len(S::Quantity, 18, 2).default(1))
                .col(string_len_null(S::Unit, 50))
                .col(text_null(S::Requirements))
                .col(text_null(S::CustomerRequirements))
                .col(text_null(S::InternalNotes))
                .col(text_null(S::CustomerNotes))
                .col(text_null(S::RequiredDocuments))
                .col(json_null(S::Attachments))
                .col(timestamp_with_time_zone_null(S::LastFollowUpAt))
                .col(timestamp_with_time_zone_null(S::NextFollowUpAt))
                .col(text_null(S::FollowUpNotes))
                .col(json_null(S::Tags))
                .col(uuid_null(S::CreatedBy))
                .col(uuid_null(S::UpdatedBy))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .col(integer(S::Version).default(1))
                .foreign_key(&mut to_customer(S::Table.into_iden(), S::CustomerId.into_iden()))
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::ContactId)
                        .to(T::Table, T::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::ReferralCustomerId)
                        .to(C::Table, C::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // The list's order: priority (urgent first), then newest.
        m.create_index(index(
            "idx_service_records_org_order",
            S::Table,
            &[S::OrganizationId, S::PriorityRank, S::CreatedAt],
        ))
        .await?;
        m.create_index(index(
            "idx_service_records_customer",
            S::Table,
            &[S::CustomerId, S::PriorityRank, S::CreatedAt],
        ))
        .await?;

        use SyncCounters as Q;
        m.create_table(
            Table::create()
                .table(Q::Table)
                .col(uuid(Q::OrganizationId).primary_key())
                .col(big_integer(Q::Seq).default(0))
                .to_owned(),
        )
        .await?;

        use SyncTombstones as B;
        m.create_table(
            Table::create()
                .table(B::Table)
                .col(uuid(B::Id).primary_key())
                .col(uuid(B::OrganizationId))
                .col(string_len(B::Entity, 20))
                .col(uuid(B::EntityId))
                .col(big_integer(B::SyncSeq))
                .col(timestamp_with_time_zone(B::DeletedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_tombstones_org_sync", B::Table, &[B::OrganizationId, B::SyncSeq])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SyncTombstones::Table.into_iden(),
            SyncCounters::Table.into_iden(),
            ServiceRecords::Table.into_iden(),
            Contacts::Table.into_iden(),
            CustomerNotes::Table.into_iden(),
            CustomerFollowUps::Table.into_iden(),
            CustomerCodeCounters::Table.into_iden(),
            Customers::Table.into_iden(),
            CustomerChannels::Table.into_iden(),
            CustomerSources::Table.into_iden(),
            Industries::Table.into_iden(),
            FollowUpStatuses::Table.into_iden(),
            CustomerLevels::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
