use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Code,
    OrganizationType,
    Email,
    Phone,
    Website,
    LogoUrl,
    Description,
    Street,
    City,
    StateProvince,
    PostalCode,
    CountryRegion,
    Country,
    CountryCode,
    CompanySize,
    CompanyNature,
    CompanyType,
    CompanyStatus,
    Industry,
    RegistrationNumber,
    TaxId,
    LegalRepresentative,
    EstablishedDate,
    EmployeeCount,
    Certifications,
    IsActive,
    IsLocked,
    IsVerified,
    VerifiedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    Phone,
    ContactPhone,
    Whatsapp,
    Wechat,
    DisplayName,
    AvatarUrl,
    Bio,
    Address,
    Gender,
    PasswordHash,
    IsActive,
    IsLocked,
    LastLoginAt,
    DeletedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum OrganizationEmployees {
    Table,
    Id,
    UserId,
    OrganizationId,
    FirstName,
    LastName,
    Email,
    Phone,
    Position,
    Department,
    EmployeeNumber,
    IsPrimary,
    IsManager,
    IsDecisionMaker,
    IsActive,
    JoinedAt,
    LeftAt,
    Notes,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    Code,
    Name,
    NameZh,
    NameId,
    Description,
    DescriptionZh,
    DescriptionId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    UserId,
    RoleId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Permissions {
    Table,
    Id,
    Code,
    NameZh,
    NameId,
    DescriptionZh,
    DescriptionId,
    ResourceType,
    Action,
    DisplayOrder,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RolePermissions {
    Table,
    RoleId,
    PermissionId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    RotatedAt,
    RevokedAt,
    CreatedAt,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(c);
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(uuid(Organizations::Id).primary_key())
                .col(text(Organizations::Name))
                .col(string_len_null(Organizations::Code, 100).unique_key())
                .col(string_len(Organizations::OrganizationType, 20))
                .col(string_null(Organizations::Email))
                .col(string_len_null(Organizations::Phone, 50))
                .col(string_null(Organizations::Website))
                .col(string_null(Organizations::LogoUrl))
                .col(text_null(Organizations::Description))
                .col(string_null(Organizations::Street))
                .col(string_len_null(Organizations::City, 100))
                .col(string_len_null(Organizations::StateProvince, 100))
                .col(string_len_null(Organizations::PostalCode, 20))
                .col(string_len_null(Organizations::CountryRegion, 100))
                .col(string_len_null(Organizations::Country, 100))
                .col(string_len_null(Organizations::CountryCode, 10))
                .col(string_len_null(Organizations::CompanySize, 20))
                .col(string_len_null(Organizations::CompanyNature, 20))
                .col(string_len_null(Organizations::CompanyType, 30))
                .col(string_len_null(Organizations::CompanyStatus, 20))
                .col(string_len_null(Organizations::Industry, 100))
                .col(string_len_null(Organizations::RegistrationNumber, 100))
                .col(string_len_null(Organizations::TaxId, 100))
                .col(string_len_null(Organizations::LegalRepresentative, 100))
                .col(date_null(Organizations::EstablishedDate))
                .col(integer_null(Organizations::EmployeeCount))
                .col(json_null(Organizations::Certifications))
                .col(boolean(Organizations::IsActive).default(true))
                .col(boolean(Organizations::IsLocked).default(false))
                .col(boolean(Organizations::IsVerified).default(false))
                .col(timestamp_with_time_zone_null(Organizations::VerifiedAt))
                .col(uuid_null(Organizations::CreatedBy))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                .col(integer(Organizations::Version).default(1))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_org_type", Organizations::Table, vec![Organizations::OrganizationType.into_iden()]))
            .await?;
        m.create_index(index("idx_org_created", Organizations::Table, vec![Organizations::CreatedAt.into_iden()]))
            .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(string(Users::Username))
                .col(string(Users::Email).unique_key())
                .col(string_len_null(Users::Phone, 50))
                .col(string_len_null(Users::ContactPhone, 50))
                .col(string_len_null(Users::Whatsapp, 50))
                .col(string_len_null(Users::Wechat, 50))
                .col(string_null(Users::DisplayName))
                .col(string_null(Users::AvatarUrl))
                .col(text_null(Users::Bio))
                .col(text_null(Users::Address))
                .col(string_len_null(Users::Gender, 10))
                .col(string(Users::PasswordHash))
                .col(boolean(Users::IsActive).default(true))
                .col(boolean(Users::IsLocked).default(false))
                .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                .col(timestamp_with_time_zone_null(Users::DeletedAt))
                .col(uuid_null(Users::CreatedBy))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .col(integer(Users::Version).default(1))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_users_username", Users::Table, vec![Users::Username.into_iden()])).await?;
        m.create_index(index("idx_users_created", Users::Table, vec![Users::CreatedAt.into_iden()])).await?;

        m.create_table(
            Table::create()
                .table(OrganizationEmployees::Table)
                .col(uuid(OrganizationEmployees::Id).primary_key())
                .col(uuid(OrganizationEmployees::UserId))
                .col(uuid(OrganizationEmployees::OrganizationId))
                .col(string_len_null(OrganizationEmployees::FirstName, 100))
                .col(string_len_null(OrganizationEmployees::LastName, 100))
                .col(string_null(OrganizationEmployees::Email))
                .col(string_len_null(OrganizationEmployees::Phone, 50))
                .col(string_len_null(OrganizationEmployees::Position, 100))
                .col(string_len_null(OrganizationEmployees::Department, 100))
                .col(string_len_null(OrganizationEmployees::EmployeeNumber, 50))
                .col(boolean(OrganizationEmployees::IsPrimary).default(false))
                .col(boolean(OrganizationEmployees::IsManager).default(false))
                .col(boolean(OrganizationEmployees::IsDecisionMaker).default(false))
                .col(boolean(OrganizationEmployees::IsActive).default(true))
                .col(date_null(OrganizationEmployees::JoinedAt))
                .col(date_null(OrganizationEmployees::LeftAt))
                .col(text_null(OrganizationEmployees::Notes))
                .col(uuid_null(OrganizationEmployees::CreatedBy))
                .col(timestamp_with_time_zone(OrganizationEmployees::CreatedAt))
                .col(timestamp_with_time_zone(OrganizationEmployees::UpdatedAt))
                .foreign_key(&mut fk(
                    (OrganizationEmployees::Table, OrganizationEmployees::UserId),
                    (Users::Table, Users::Id),
                ))
                .foreign_key(&mut fk(
                    (OrganizationEmployees::Table, OrganizationEmployees::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_org_employee",
                OrganizationEmployees::Table,
                vec![OrganizationEmployees::UserId.into_iden(), OrganizationEmployees::OrganizationId.into_iden()],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_org_employee_org",
            OrganizationEmployees::Table,
            vec![OrganizationEmployees::OrganizationId.into_iden(), OrganizationEmployees::IsActive.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Roles::Table)
                .col(uuid(Roles::Id).primary_key())
                .col(string_len(Roles::Code, 50).unique_key())
                .col(string(Roles::Name))
                .col(string_null(Roles::NameZh))
                .col(string_null(Roles::NameId))
                .col(text_null(Roles::Description))
                .col(text_null(Roles::DescriptionZh))
                .col(text_null(Roles::DescriptionId))
                .col(timestamp_with_time_zone(Roles::CreatedAt))
                .col(timestamp_with_time_zone(Roles::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserRoles::Table)
                .col(uuid(UserRoles::UserId))
                .col(uuid(UserRoles::RoleId))
                .col(timestamp_with_time_zone(UserRoles::CreatedAt))
                .primary_key(Index::create().col(UserRoles::UserId).col(UserRoles::RoleId))
                .foreign_key(&mut fk((UserRoles::Table, UserRoles::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((UserRoles::Table, UserRoles::RoleId), (Roles::Table, Roles::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_user_roles_role", UserRoles::Table, vec![UserRoles::RoleId.into_iden()])).await?;

        m.create_table(
            Table::create()
                .table(Permissions::Table)
                .col(uuid(Permissions::Id).primary_key())
                .col(string_len(Permissions::Code, 100).unique_key())
                .col(string(Permissions::NameZh))
                .col(string(Permissions::NameId))
                .col(text_null(Permissions::DescriptionZh))
                .col(text_null(Permissions::DescriptionId))
                .col(string_len(Permissions::ResourceType, 50))
                .col(string_len(Permissions::Action, 50))
                .col(integer(Permissions::DisplayOrder).default(0))
                .col(boolean(Permissions::IsActive).default(true))
                .col(timestamp_with_time_zone(Permissions::CreatedAt))
                .col(timestamp_with_time_zone(Permissions::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_permissions_resource",
            Permissions::Table,
            vec![Permissions::ResourceType.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(RolePermissions::Table)
                .col(uuid(RolePermissions::RoleId))
                .col(uuid(RolePermissions::PermissionId))
                .col(timestamp_with_time_zone(RolePermissions::CreatedAt))
                .primary_key(Index::create().col(RolePermissions::RoleId).col(RolePermissions::PermissionId))
                .foreign_key(&mut fk((RolePermissions::Table, RolePermissions::RoleId), (Roles::Table, Roles::Id)))
                .foreign_key(&mut fk(
                    (RolePermissions::Table, RolePermissions::PermissionId),
                    (Permissions::Table, Permissions::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(uuid(RefreshTokens::Id).primary_key())
                .col(uuid(RefreshTokens::UserId))
                .col(uuid(RefreshTokens::FamilyId))
                .col(string_len(RefreshTokens::TokenHash, 64).unique_key())
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .foreign_key(&mut fk((RefreshTokens::Table, RefreshTokens::UserId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_refresh_family", RefreshTokens::Table, vec![RefreshTokens::FamilyId.into_iden()]))
            .await?;
        Ok(())
    }
}
