//! Uploaded files (seed 002's `/upload`), kept in the database like export files, so that every
//! replica can serve them without shared storage.

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
enum Uploads {
    Table,
    Id,
    OrganizationId,
    UploadedBy,
    Category,
    Filename,
    OriginalName,
    MimeType,
    Size,
    Content,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let t = Uploads::Table;
        let fk = |col: Uploads, to: DynIden, to_col: DynIden| {
            ForeignKey::create().from(t, col).to(to, to_col).on_delete(ForeignKeyAction::Cascade).to_owned()
        };
        m.create_table(
            Table::create()
                .table(t)
                .col(uuid(Uploads::Id).primary_key())
                .col(uuid(Uploads::OrganizationId))
                .col(uuid(Uploads::UploadedBy))
                .col(string_len(Uploads::Category, 20))
                .col(string_len(Uploads::Filename, 100))
                .col(string_len(Uploads::OriginalName, 255))
                .col(string_len(Uploads::MimeType, 100))
                .col(big_integer(Uploads::Size))
                .col(blob(Uploads::Content))
                .col(timestamp_with_time_zone(Uploads::CreatedAt))
                .foreign_key(&mut fk(
                    Uploads::OrganizationId,
                    Organizations::Table.into_iden(),
                    Organizations::Id.into_iden(),
                ))
                .foreign_key(&mut fk(Uploads::UploadedBy, Users::Table.into_iden(), Users::Id.into_iden()))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_uploads_org_created")
                .table(t)
                .col(Uploads::OrganizationId)
                .col(Uploads::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Uploads::Table).to_owned()).await
    }
}
