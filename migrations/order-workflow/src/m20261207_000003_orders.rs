//! Orders: what a customer bought, item by item, and who delivers it. Every order carries its
//! organization (the tenant), a number unique within it, and a `version` for optimistic locking.
//! Totals are stored for listing and filtering but are only ever written together with the items
//! they sum, in one transaction. `customer_id`, `service_record_id`, `product_id` and the users
//! point into other services' data, so they are plain columns without foreign keys;
//! `customer_name` is a snapshot taken when the customer is set, so lists can show and filter by
//! it without asking service-management for every row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
    OrganizationId,
    OrderNumber,
    Title,
    CustomerId,
    CustomerName,
    ServiceRecordId,
    OpportunityId,
    SalesUserId,
    TotalAmount,
    DiscountAmount,
    FinalAmount,
    CurrencyCode,
    ExchangeRate,
    StatusCode,
    ExpectedStartDate,
    ExpectedCompletionDate,
    ActualStartDate,
    ActualCompletionDate,
    CustomerNotes,
    InternalNotes,
    Requirements,
    Description,
    Notes,
    EntryCity,
    PassportId,
    Processor,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderItems {
    Table,
    Id,
    OrganizationId,
    OrderId,
    ItemNumber,
    ProductId,
    ProductNameZh,
    ProductNameId,
    ProductCode,
    ServiceTypeId,
    ServiceTypeNameZh,
    ServiceTypeNameId,
    Quantity,
    Unit,
    UnitPrice,
    DiscountAmount,
    ItemAmount,
    CurrencyCode,
    DescriptionZh,
    DescriptionId,
    Requirements,
    ExpectedStartDate,
    ExpectedCompletionDate,
    Status,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderAssignments {
    Table,
    Id,
    OrganizationId,
    OrderId,
    AssignedToUserId,
    AssignedByUserId,
    AssignmentType,
    IsPrimary,
    Notes,
    AssignedAt,
    UnassignedAt,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Orders as O;
        m.create_table(
            Table::create()
                .table(O::Table)
                .col(uuid(O::Id).primary_key())
                .col(uuid(O::OrganizationId))
                .col(string_len(O::OrderNumber, 100))
                .col(string_len(O::Title, 255))
                .col(uuid(O::CustomerId))
                .col(string_len_null(O::CustomerName, 255))
                .col(uuid_null(O::ServiceRecordId))
                .col(uuid_null(O::OpportunityId))
                .col(uuid(O::SalesUserId))
                .col(amount(O::TotalAmount))
                .col(amount(O::DiscountAmount))
                .col(amount(O::FinalAmount))
                .col(string_len(O::CurrencyCode, 10).default("CNY"))
                .col(decimal_len_null(O::ExchangeRate, 18, 6))
                .col(string_len(O::StatusCode, 20).default("submitted"))
                .col(date_null(O::ExpectedStartDate))
                .col(date_null(O::ExpectedCompletionDate))
                .col(date_null(O::ActualStartDate))
                .col(date_null(O::ActualCompletionDate))
                .col(text_null(O::CustomerNotes))
                .col(text_null(O::InternalNotes))
                .col(text_null(O::Requirements))
                .col(text_null(O::Description))
                .col(text_null(O::Notes))
                .col(string_len_null(O::EntryCity, 100))
                .col(string_len_null(O::PassportId, 100))
                .col(string_len_null(O::Processor, 100))
                .col(uuid_null(O::CreatedBy))
                .col(uuid_null(O::UpdatedBy))
                .col(timestamp_with_time_zone(O::CreatedAt))
                .col(timestamp_with_time_zone(O::UpdatedAt))
                .col(integer(O::Version).default(1))
                .check(Expr::col(O::StatusCode).is_in([
                    "submitted",
                    "approved",
                    "assigned",
                    "processing",
                    "completed",
                    "cancelled",
                ]))
                .check(Expr::col(O::TotalAmount).gte(0))
                .check(Expr::col(O::DiscountAmount).gte(0))
                .to_owned(),
        )
        .await?;
        // Numbers are unique per organization; this index is what makes generating them
        // race-free (a colliding insert fails and is retried with a new number).
        m.create_index(
            index("uq_orders_org_number", O::Table, &[O::OrganizationId, O::OrderNumber]).unique().to_owned(),
        )
        .await?;
        // The list's default order (newest first) and its filters.
        m.create_index(index("idx_orders_org_created", O::Table, &[O::OrganizationId, O::CreatedAt, O::Id])).await?;
        m.create_index(index("idx_orders_org_status", O::Table, &[O::OrganizationId, O::StatusCode, O::CreatedAt]))
            .await?;
        m.create_index(index("idx_orders_org_customer", O::Table, &[O::OrganizationId, O::CustomerId, O::CreatedAt]))
            .await?;
        m.create_index(index("idx_orders_org_sales", O::Table, &[O::OrganizationId, O::SalesUserId, O::CreatedAt]))
            .await?;
        m.create_index(index("idx_orders_opportunity", O::Table, &[O::OpportunityId])).await?;

        let to_order = |table: DynIden, col: DynIden| {
            ForeignKey::create().from(table, col).to(O::Table, O::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
        };

        use OrderItems as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(uuid(I::Id).primary_key())
                .col(uuid(I::OrganizationId))
                .col(uuid(I::OrderId))
                .col(integer(I::ItemNumber))
                .col(uuid_null(I::ProductId))
                .col(string_len_null(I::ProductNameZh, 255))
                .col(string_len_null(I::ProductNameId, 255))
                .col(string_len_null(I::ProductCode, 100))
                .col(uuid_null(I::ServiceTypeId))
                .col(string_len_null(I::ServiceTypeNameZh, 255))
                .col(string_len_null(I::ServiceTypeNameId, 255))
                .col(integer(I::Quantity).default(1))
                .col(string_len_null(I::Unit, 50))
                .col(decimal_len_null(I::UnitPrice, 18, 2))
                .col(amount(I::DiscountAmount))
                .col(decimal_len_null(I::ItemAmount, 18, 2))
                .col(string_len(I::CurrencyCode, 10).default("CNY"))
                .col(text_null(I::DescriptionZh))
                .col(text_null(I::DescriptionId))
                .col(text_null(I::Requirements))
                .col(date_null(I::ExpectedStartDate))
                .col(date_null(I::ExpectedCompletionDate))
                .col(string_len(I::Status, 20).default("pending"))
                .col(timestamp_with_time_zone(I::CreatedAt))
                .col(timestamp_with_time_zone(I::UpdatedAt))
                .col(integer(I::Version).default(1))
                .check(Expr::col(I::ItemNumber).gte(1))
                .check(Expr::col(I::Quantity).gte(1))
                .check(Expr::col(I::DiscountAmount).gte(0))
                .check(Expr::col(I::Status).is_in(["pending", "in_progress", "completed", "cancelled"]))
                .foreign_key(&mut to_order(I::Table.into_iden(), I::OrderId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("uq_order_items_number", I::Table, &[I::OrderId, I::ItemNumber]).unique().to_owned())
            .await?;

        use OrderAssignments as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(uuid(A::Id).primary_key())
                .col(uuid(A::OrganizationId))
                .col(uuid(A::OrderId))
                .col(uuid(A::AssignedToUserId))
                .col(uuid_null(A::AssignedByUserId))
                .col(string_len(A::AssignmentType, 20).default("operation"))
                .col(boolean(A::IsPrimary).default(true))
                .col(text_null(A::Notes))
                .col(timestamp_with_time_zone(A::AssignedAt))
                .col(timestamp_with_time_zone_null(A::UnassignedAt))
                .check(Expr::col(A::AssignmentType).is_in(["operation", "sales"]))
                .foreign_key(&mut to_order(A::Table.into_iden(), A::OrderId.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_order_assignments_order", A::Table, &[A::OrderId, A::AssignedAt])).await?;
        m.create_index(index("idx_order_assignments_user", A::Table, &[A::AssignedToUserId, A::UnassignedAt])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [OrderAssignments::Table.into_iden(), OrderItems::Table.into_iden(), Orders::Table.into_iden()] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
