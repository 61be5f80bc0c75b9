//! Schema of the analytics-monitoring service: its alerts, the history of the metrics they are
//! evaluated over, and the lease that lets one replica evaluate them, and the report export jobs. It owns no business data:
//! analytics are composed from the owners' aggregates. Written with the schema builder so it runs
//! on SQLite and PostgreSQL alike; each migration is append-only once released.

pub use sea_orm_migration::prelude::*;

mod m20261207_000001_alerts;
mod m20261207_100001_report_jobs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261207_000001_alerts::Migration), Box::new(m20261207_100001_report_jobs::Migration)]
    }
}
