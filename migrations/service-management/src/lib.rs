//! Schema of the service-management service. Written with the schema builder so it runs on
//! SQLite and PostgreSQL alike; each migration is append-only once released.

pub use sea_orm_migration::prelude::*;

mod m20261207_000001_catalogue;
mod m20261207_000002_customers;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261207_000001_catalogue::Migration), Box::new(m20261207_000002_customers::Migration)]
    }
}
