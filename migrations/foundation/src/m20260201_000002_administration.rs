//! Menus, organization domains, positions, work logs and the audit log; members get a position.

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
enum Permissions {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrganizationEmployees {
    Table,
    PositionId,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrganizationDomains {
    Table,
    Id,
    Code,
    NameZh,
    NameId,
    DescriptionZh,
    DescriptionId,
    DisplayOrder,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrganizationDomainRelations {
    Table,
    Id,
    OrganizationId,
    DomainId,
    IsPrimary,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Menus {
    Table,
    Id,
    Code,
    NameZh,
    NameId,
    DescriptionZh,
    DescriptionId,
    ParentId,
    Path,
    Component,
    Icon,
    DisplayOrder,
    IsActive,
    IsVisible,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MenuPermissions {
    Table,
    MenuId,
    PermissionId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Positions {
    Table,
    Id,
    OrganizationId,
    Name,
    Code,
    Description,
    Level,
    ParentId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkLogs {
    Table,
    Id,
    OrganizationId,
    UserId,
    WorkDate,
    Content,
    CompletionStatus,
    SelfRating,
    SupervisorRating,
    SupervisorComment,
    RatedBy,
    RatedAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLogs {
    Table,
    Id,
    OrganizationId,
    UserId,
    UserName,
    Action,
    ResourceType,
    ResourceId,
    ResourceName,
    Category,
    IpAddress,
    UserAgent,
    RequestMethod,
    RequestPath,
    RequestParams,
    OldValues,
    NewValues,
    Status,
    StatusCode,
    ErrorMessage,
    DurationMs,
    RequestId,
    Service,
    CreatedAt,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[DynIden]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(c.clone());
    }
    stmt.to_owned()
}

macro_rules! cols {
    ($($c:expr),+) => { &[$($c.into_iden()),+] };
}

impl Migration {
    async fn domains(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OrganizationDomains::Table)
                .col(uuid(OrganizationDomains::Id).primary_key())
                .col(string_len(OrganizationDomains::Code, 100).unique_key())
                .col(string(OrganizationDomains::NameZh))
                .col(string(OrganizationDomains::NameId))
                .col(text_null(OrganizationDomains::DescriptionZh))
                .col(text_null(OrganizationDomains::DescriptionId))
                .col(integer(OrganizationDomains::DisplayOrder).default(0))
                .col(boolean(OrganizationDomains::IsActive).default(true))
                .col(timestamp_with_time_zone(OrganizationDomains::CreatedAt))
                .col(timestamp_with_time_zone(OrganizationDomains::UpdatedAt))
                .to_owned(),
        )
        .await?;
        let rel = OrganizationDomainRelations::Table;
        m.create_table(
            Table::create()
                .table(rel)
                .col(uuid(OrganizationDomainRelations::Id).primary_key())
                .col(uuid(OrganizationDomainRelations::OrganizationId))
                .col(uuid(OrganizationDomainRelations::DomainId))
                .col(boolean(OrganizationDomainRelations::IsPrimary).default(false))
                .col(timestamp_with_time_zone(OrganizationDomainRelations::CreatedAt))
                .foreign_key(&mut fk(
                    (rel, OrganizationDomainRelations::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .foreign_key(&mut fk(
                    (rel, OrganizationDomainRelations::DomainId),
                    (OrganizationDomains::Table, OrganizationDomains::Id),
                ))
                .to_owned(),
        )
        .await?;
        let pair = cols!(OrganizationDomainRelations::OrganizationId, OrganizationDomainRelations::DomainId);
        m.create_index(index("uq_org_domain", rel, pair).unique().to_owned()).await?;
        m.create_index(index("idx_org_domain_domain", rel, cols!(OrganizationDomainRelations::DomainId))).await
    }

    async fn menus(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Menus::Table)
                .col(uuid(Menus::Id).primary_key())
                .col(string_len(Menus::Code, 100).unique_key())
                .col(string(Menus::NameZh))
                .col(string(Menus::NameId))
                .col(text_null(Menus::DescriptionZh))
                .col(text_null(Menus::DescriptionId))
                .col(uuid_null(Menus::ParentId))
                .col(string_null(Menus::Path))
                .col(string_null(Menus::Component))
                .col(string_len_null(Menus::Icon, 100))
                .col(integer(Menus::DisplayOrder).default(0))
                .col(boolean(Menus::IsActive).default(true))
                .col(boolean(Menus::IsVisible).default(true))
                .col(timestamp_with_time_zone(Menus::CreatedAt))
                .col(timestamp_with_time_zone(Menus::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Menus::Table, Menus::ParentId)
                        .to(Menus::Table, Menus::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_menus_parent", Menus::Table, cols!(Menus::ParentId, Menus::DisplayOrder))).await?;
        let mp = MenuPermissions::Table;
        m.create_table(
            Table::create()
                .table(mp)
                .col(uuid(MenuPermissions::MenuId))
                .col(uuid(MenuPermissions::PermissionId))
                .col(timestamp_with_time_zone(MenuPermissions::CreatedAt))
                .primary_key(Index::create().col(MenuPermissions::MenuId).col(MenuPermissions::PermissionId))
                .foreign_key(&mut fk((mp, MenuPermissions::MenuId), (Menus::Table, Menus::Id)))
                .foreign_key(&mut fk((mp, MenuPermissions::PermissionId), (Permissions::Table, Permissions::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_menu_permissions_permission", mp, cols!(MenuPermissions::PermissionId))).await
    }

    async fn positions(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        let p = Positions::Table;
        m.create_table(
            Table::create()
                .table(p)
                .col(uuid(Positions::Id).primary_key())
                .col(uuid(Positions::OrganizationId))
                .col(string_len(Positions::Name, 100))
                .col(string_len_null(Positions::Code, 50))
                .col(text_null(Positions::Description))
                .col(integer(Positions::Level).default(1))
                .col(uuid_null(Positions::ParentId))
                .col(uuid_null(Positions::CreatedBy))
                .col(timestamp_with_time_zone(Positions::CreatedAt))
                .col(timestamp_with_time_zone(Positions::UpdatedAt))
                .col(integer(Positions::Version).default(1))
                .foreign_key(&mut fk((p, Positions::OrganizationId), (Organizations::Table, Organizations::Id)))
                .foreign_key(ForeignKey::create().from(p, Positions::ParentId).to(p, Positions::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_positions_org_code", p, cols!(Positions::OrganizationId, Positions::Code)).unique().to_owned(),
        )
        .await?;
        m.create_index(index("idx_positions_org_parent", p, cols!(Positions::OrganizationId, Positions::ParentId)))
            .await?;
        m.create_index(index("idx_positions_org_level", p, cols!(Positions::OrganizationId, Positions::Level))).await?;
        // SQLite cannot add a foreign key to an existing table; the application checks the
        // position belongs to the member's organization.
        m.alter_table(
            Table::alter()
                .table(OrganizationEmployees::Table)
                .add_column(uuid_null(OrganizationEmployees::PositionId))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_org_employee_position",
            OrganizationEmployees::Table,
            cols!(OrganizationEmployees::PositionId),
        ))
        .await
    }

    async fn work_logs(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        let w = WorkLogs::Table;
        m.create_table(
            Table::create()
                .table(w)
                .col(uuid(WorkLogs::Id).primary_key())
                .col(uuid(WorkLogs::OrganizationId))
                .col(uuid(WorkLogs::UserId))
                .col(date(WorkLogs::WorkDate))
                .col(text(WorkLogs::Content))
                .col(string_len(WorkLogs::CompletionStatus, 20))
                .col(small_integer_null(WorkLogs::SelfRating))
                .col(small_integer_null(WorkLogs::SupervisorRating))
                .col(text_null(WorkLogs::SupervisorComment))
                .col(uuid_null(WorkLogs::RatedBy))
                .col(timestamp_with_time_zone_null(WorkLogs::RatedAt))
                .col(timestamp_with_time_zone(WorkLogs::CreatedAt))
                .col(timestamp_with_time_zone(WorkLogs::UpdatedAt))
                .col(integer(WorkLogs::Version).default(1))
                .foreign_key(&mut fk((w, WorkLogs::OrganizationId), (Organizations::Table, Organizations::Id)))
                .foreign_key(&mut fk((w, WorkLogs::UserId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_work_logs_org_date", w, cols!(WorkLogs::OrganizationId, WorkLogs::WorkDate))).await?;
        m.create_index(index("idx_work_logs_user_date", w, cols!(WorkLogs::UserId, WorkLogs::WorkDate))).await?;
        m.create_index(index(
            "idx_work_logs_org_status",
            w,
            cols!(WorkLogs::OrganizationId, WorkLogs::CompletionStatus),
        ))
        .await
    }

    async fn audit_logs(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        let a = AuditLogs::Table;
        m.create_table(
            Table::create()
                .table(a)
                .col(uuid(AuditLogs::Id).primary_key())
                .col(uuid_null(AuditLogs::OrganizationId))
                .col(uuid_null(AuditLogs::UserId))
                .col(string_null(AuditLogs::UserName))
                .col(string_len(AuditLogs::Action, 50))
                .col(string_len_null(AuditLogs::ResourceType, 100))
                .col(string_len_null(AuditLogs::ResourceId, 100))
                .col(string_null(AuditLogs::ResourceName))
                .col(string_len(AuditLogs::Category, 100))
                .col(string_len_null(AuditLogs::IpAddress, 64))
                .col(text_null(AuditLogs::UserAgent))
                .col(string_len(AuditLogs::RequestMethod, 10))
                .col(text(AuditLogs::RequestPath))
                .col(json_null(AuditLogs::RequestParams))
                .col(json_null(AuditLogs::OldValues))
                .col(json_null(AuditLogs::NewValues))
                .col(string_len(AuditLogs::Status, 20).default("success"))
                .col(integer(AuditLogs::StatusCode))
                .col(text_null(AuditLogs::ErrorMessage))
                .col(big_integer_null(AuditLogs::DurationMs))
                .col(string_len_null(AuditLogs::RequestId, 128))
                .col(string_len(AuditLogs::Service, 50))
                .col(timestamp_with_time_zone(AuditLogs::CreatedAt))
                .to_owned(),
        )
        .await?;
        for (name, columns) in [
            ("idx_audit_created", cols!(AuditLogs::CreatedAt) as &[DynIden]),
            ("idx_audit_org_created", cols!(AuditLogs::OrganizationId, AuditLogs::CreatedAt)),
            ("idx_audit_user_created", cols!(AuditLogs::UserId, AuditLogs::CreatedAt)),
            ("idx_audit_resource_created", cols!(AuditLogs::ResourceType, AuditLogs::ResourceId, AuditLogs::CreatedAt)),
            ("idx_audit_category_created", cols!(AuditLogs::Category, AuditLogs::CreatedAt)),
            ("idx_audit_action_created", cols!(AuditLogs::Action, AuditLogs::CreatedAt)),
            ("idx_audit_status_created", cols!(AuditLogs::Status, AuditLogs::CreatedAt)),
            ("idx_audit_request", cols!(AuditLogs::RequestId)),
        ] {
            m.create_index(index(name, a, columns)).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        Self::domains(m).await?;
        Self::menus(m).await?;
        Self::positions(m).await?;
        Self::work_logs(m).await?;
        Self::audit_logs(m).await
    }
}
