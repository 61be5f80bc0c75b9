//! Schema of the foundation service. Written with the schema builder so it runs on SQLite and
//! PostgreSQL alike; each migration is append-only once released.

pub use sea_orm_migration::prelude::*;

mod m20260101_000001_identity;
mod m20260201_000002_administration;
mod m20261203_000003_export_tasks;
mod m20261203_000004_uploads;
mod m20261207_000005_sessions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_identity::Migration),
            Box::new(m20260201_000002_administration::Migration),
            Box::new(m20261203_000003_export_tasks::Migration),
            Box::new(m20261203_000004_uploads::Migration),
            Box::new(m20261207_000005_sessions::Migration),
        ]
    }
}
