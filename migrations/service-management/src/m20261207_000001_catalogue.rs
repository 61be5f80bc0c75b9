//! The service catalogue: categories, service types, products with their prices in two
//! currencies, vendor offers, time-bounded prices with their history, and product dependencies.
//! Organizations and users live in foundation: their ids are stored without foreign keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ProductCategories {
    Table,
    Id,
    Code,
    Name,
    Description,
    ParentId,
    DisplayOrder,
    IsActive,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceTypes {
    Table,
    Id,
    Code,
    Name,
    NameEn,
    Description,
    DisplayOrder,
    IsActive,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    Id,
    Name,
    Code,
    EnterpriseServiceCode,
    CategoryId,
    ServiceTypeId,
    ServiceType,
    ServiceSubtype,
    Description,
    ValidityPeriod,
    ProcessingDays,
    ProcessingTimeText,
    IsUrgentAvailable,
    UrgentProcessingDays,
    UrgentPriceSurcharge,
    RequiredDocuments,
    SlaDescription,
    ServiceLevel,
    PriceCostIdr,
    PriceCostCny,
    PriceChannelIdr,
    PriceChannelCny,
    PriceDirectIdr,
    PriceDirectCny,
    PriceListIdr,
    PriceListCny,
    DefaultCurrency,
    ExchangeRate,
    ChannelProfit,
    ChannelProfitRate,
    ChannelCustomerProfit,
    ChannelCustomerProfitRate,
    DirectProfit,
    DirectProfitRate,
    CommissionRate,
    CommissionAmount,
    EquivalentCny,
    MonthlyOrders,
    TotalAmount,
    Status,
    SuspendedReason,
    DiscontinuedAt,
    IsActive,
    IsLocked,
    Tags,
    Notes,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum VendorProducts {
    Table,
    Id,
    OrganizationId,
    ProductId,
    IsPrimary,
    Priority,
    CostPriceIdr,
    CostPriceCny,
    ExchangeRate,
    MinQuantity,
    MaxQuantity,
    LeadTimeDays,
    ProcessingDays,
    IsAvailable,
    AvailabilityNotes,
    AvailableFrom,
    AvailableTo,
    AccountCode,
    CostCenter,
    ExpenseCategory,
    Notes,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductPrices {
    Table,
    Id,
    ProductId,
    OrganizationId,
    PriceType,
    Currency,
    Amount,
    ExchangeRate,
    EffectiveFrom,
    EffectiveTo,
    Source,
    IsApproved,
    ApprovedBy,
    ApprovedAt,
    ChangeReason,
    ChangedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductPriceHistory {
    Table,
    Id,
    ProductId,
    OrganizationId,
    PriceType,
    Currency,
    OldPrice,
    NewPrice,
    ChangeReason,
    EffectiveFrom,
    EffectiveTo,
    ChangedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductDependencies {
    Table,
    Id,
    ProductId,
    DependsOnProductId,
    DependencyType,
    Description,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

fn money<T: IntoIden>(col: T) -> ColumnDef {
    decimal_len_null(col, 18, 2)
}

fn rate<T: IntoIden>(col: T) -> ColumnDef {
    decimal_len_null(col, 18, 4)
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
        use ProductCategories as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(uuid(C::Id).primary_key())
                .col(string_len_uniq(C::Code, 100))
                .col(string_len(C::Name, 255))
                .col(text_null(C::Description))
                .col(uuid_null(C::ParentId))
                .col(integer(C::DisplayOrder).default(0))
                .col(boolean(C::IsActive).default(true))
                .col(uuid_null(C::CreatedBy))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .col(integer(C::Version).default(1))
                .foreign_key(ForeignKey::create().from(C::Table, C::ParentId).to(C::Table, C::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_product_categories_parent", C::Table, &[C::ParentId])).await?;

        use ServiceTypes as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(uuid(S::Id).primary_key())
                .col(string_len_uniq(S::Code, 50))
                .col(string_len(S::Name, 255))
                .col(string_len_null(S::NameEn, 255))
                .col(text_null(S::Description))
                .col(integer(S::DisplayOrder).default(0))
                .col(boolean(S::IsActive).default(true))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .col(integer(S::Version).default(1))
                .to_owned(),
        )
        .await?;

        use Products as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(uuid(P::Id).primary_key())
                .col(string_len(P::Name, 255))
                .col(string_len_null(P::Code, 100).unique_key())
                .col(string_len_null(P::EnterpriseServiceCode, 100))
                .col(uuid_null(P::CategoryId))
                .col(uuid_null(P::ServiceTypeId))
                .col(string_len_null(P::ServiceType, 50))
                .col(string_len_null(P::ServiceSubtype, 50))
                .col(text_null(P::Description))
                .col(integer_null(P::ValidityPeriod))
                .col(integer_null(P::ProcessingDays))
                .col(string_len_null(P::ProcessingTimeText, 255))
                .col(boolean(P::IsUrgentAvailable).default(false))
                .col(integer_null(P::UrgentProcessingDays))
                .col(money(P::UrgentPriceSurcharge))
                .col(text_null(P::RequiredDocuments))
                .col(text_null(P::SlaDescription))
                .col(string_len_null(P::ServiceLevel, 20))
                .col(money(P::PriceCostIdr))
                .col(money(P::PriceCostCny))
                .col(money(P::PriceChannelIdr))
                .col(money(P::PriceChannelCny))
                .col(money(P::PriceDirectIdr))
                .col(money(P::PriceDirectCny))
                .col(money(P::PriceListIdr))
                .col(money(P::PriceListCny))
                .col(string_len(P::DefaultCurrency, 3).default("IDR"))
                .col(decimal_len(P::ExchangeRate, 18, 4).default(2000))
                .col(money(P::ChannelProfit))
                .col(rate(P::ChannelProfitRate))
                .col(money(P::ChannelCustomerProfit))
                .col(rate(P::ChannelCustomerProfitRate))
                .col(money(P::DirectProfit))
                .col(rate(P::DirectProfitRate))
                .col(rate(P::CommissionRate))
                .col(money(P::CommissionAmount))
                .col(money(P::EquivalentCny))
                .col(integer_null(P::MonthlyOrders))
                .col(money(P::TotalAmount))
                .col(string_len(P::Status, 20).default("active"))
                .col(text_null(P::SuspendedReason))
                .col(timestamp_with_time_zone_null(P::DiscontinuedAt))
                .col(boolean(P::IsActive).default(true))
                .col(boolean(P::IsLocked).default(false))
                .col(json_null(P::Tags))
                .col(text_null(P::Notes))
                .col(uuid_null(P::CreatedBy))
                .col(uuid_null(P::UpdatedBy))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone(P::UpdatedAt))
                .col(integer(P::Version).default(1))
                .foreign_key(ForeignKey::create().from(P::Table, P::CategoryId).to(C::Table, C::Id))
                .foreign_key(ForeignKey::create().from(P::Table, P::ServiceTypeId).to(S::Table, S::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_products_category", P::Table, &[P::CategoryId, P::CreatedAt])).await?;
        m.create_index(index("idx_products_service_type", P::Table, &[P::ServiceTypeId])).await?;
        m.create_index(index("idx_products_status", P::Table, &[P::Status, P::CreatedAt])).await?;
        m.create_index(index("idx_products_created", P::Table, &[P::CreatedAt, P::Id])).await?;

        use VendorProducts as V;
        let cascade = |from: V| {
            ForeignKey::create()
                .from(V::Table, from)
                .to(P::Table, P::Id)
                .on_delete(ForeignKeyAction::Cascade)
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table(V::Table)
                .col(uuid(V::Id).primary_key())
                .col(uuid(V::OrganizationId))
                .col(uuid(V::ProductId))
                .col(boolean(V::IsPrimary).default(false))
                .col(integer(V::Priority).default(0))
                .col(money(V::CostPriceIdr))
                .col(money(V::CostPriceCny))
                .col(decimal_len(V::ExchangeRate, 18, 4).default(2000))
                .col(integer(V::MinQuantity).default(1))
                .col(integer_null(V::MaxQuantity))
                .col(integer_null(V::LeadTimeDays))
                .col(integer_null(V::ProcessingDays))
                .col(boolean(V::IsAvailable).default(true))
                .col(text_null(V::AvailabilityNotes))
                .col(timestamp_with_time_zone_null(V::AvailableFrom))
                .col(timestamp_with_time_zone_null(V::AvailableTo))
                .col(string_len_null(V::AccountCode, 50))
                .col(string_len_null(V::CostCenter, 50))
                .col(string_len_null(V::ExpenseCategory, 50))
                .col(text_null(V::Notes))
                .col(uuid_null(V::CreatedBy))
                .col(uuid_null(V::UpdatedBy))
                .col(timestamp_with_time_zone(V::CreatedAt))
                .col(timestamp_with_time_zone(V::UpdatedAt))
                .col(integer(V::Version).default(1))
                .foreign_key(&mut cascade(V::ProductId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_vendor_products_org_product", V::Table, &[V::OrganizationId, V::ProductId]).unique().to_owned(),
        )
        .await?;
        m.create_index(index("idx_vendor_products_product", V::Table, &[V::ProductId])).await?;
        // One primary supplier per product (the original's trigger), as a partial unique index:
        // both SQLite and PostgreSQL have them.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_vendor_products_primary ON vendor_products (product_id) WHERE is_primary",
            )
            .await?;

        use ProductPrices as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(uuid(R::Id).primary_key())
                .col(uuid(R::ProductId))
                .col(uuid_null(R::OrganizationId))
                .col(string_len(R::PriceType, 20))
                .col(string_len(R::Currency, 3))
                .col(decimal_len(R::Amount, 18, 2))
                .col(rate(R::ExchangeRate))
                .col(timestamp_with_time_zone(R::EffectiveFrom))
                .col(timestamp_with_time_zone_null(R::EffectiveTo))
                .col(string_len(R::Source, 20).default("manual"))
                .col(boolean(R::IsApproved).default(false))
                .col(uuid_null(R::ApprovedBy))
                .col(timestamp_with_time_zone_null(R::ApprovedAt))
                .col(text_null(R::ChangeReason))
                .col(uuid_null(R::ChangedBy))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .col(timestamp_with_time_zone(R::UpdatedAt))
                .col(integer(R::Version).default(1))
                .foreign_key(
                    ForeignKey::create()
                        .from(R::Table, R::ProductId)
                        .to(P::Table, P::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_product_prices_key",
            R::Table,
            &[R::ProductId, R::OrganizationId, R::PriceType, R::Currency, R::EffectiveFrom],
        ))
        .await?;

        use ProductPriceHistory as H;
        m.create_table(
            Table::create()
                .table(H::Table)
                .col(uuid(H::Id).primary_key())
                .col(uuid(H::ProductId))
                .col(uuid_null(H::OrganizationId))
                .col(string_len(H::PriceType, 20))
                .col(string_len(H::Currency, 3))
                .col(money(H::OldPrice))
                .col(money(H::NewPrice))
                .col(text_null(H::ChangeReason))
                .col(timestamp_with_time_zone(H::EffectiveFrom))
                .col(timestamp_with_time_zone_null(H::EffectiveTo))
                .col(uuid_null(H::ChangedBy))
                .col(timestamp_with_time_zone(H::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(H::Table, H::ProductId)
                        .to(P::Table, P::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_price_history_product", H::Table, &[H::ProductId, H::CreatedAt])).await?;

        use ProductDependencies as D;
        let dep_fk = |from: D| {
            ForeignKey::create()
                .from(D::Table, from)
                .to(P::Table, P::Id)
                .on_delete(ForeignKeyAction::Cascade)
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(uuid(D::Id).primary_key())
                .col(uuid(D::ProductId))
                .col(uuid(D::DependsOnProductId))
                .col(string_len(D::DependencyType, 20).default("required"))
                .col(text_null(D::Description))
                .col(uuid_null(D::CreatedBy))
                .col(timestamp_with_time_zone(D::CreatedAt))
                .col(timestamp_with_time_zone(D::UpdatedAt))
                .col(integer(D::Version).default(1))
                .foreign_key(&mut dep_fk(D::ProductId))
                .foreign_key(&mut dep_fk(D::DependsOnProductId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_product_dependencies_pair", D::Table, &[D::ProductId, D::DependsOnProductId]).unique().to_owned(),
        )
        .await?;
        m.create_index(index("idx_product_dependencies_target", D::Table, &[D::DependsOnProductId])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ProductDependencies::Table.into_iden(),
            ProductPriceHistory::Table.into_iden(),
            ProductPrices::Table.into_iden(),
            VendorProducts::Table.into_iden(),
            Products::Table.into_iden(),
            ServiceTypes::Table.into_iden(),
            ProductCategories::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
