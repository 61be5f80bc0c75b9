//! Schema of the order-workflow service. Written with the schema builder so it runs on SQLite and
//! PostgreSQL alike; each migration is append-only once released.

pub use sea_orm_migration::prelude::*;

mod m20261207_000001_leads;
mod m20261207_000002_opportunities;
mod m20261207_000003_orders;
mod m20261207_000004_order_comments_files;
mod m20261207_000005_stages_payments;
mod m20261207_000006_workflows;
mod m20261207_000007_push_links;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261207_000001_leads::Migration),
            Box::new(m20261207_000002_opportunities::Migration),
            Box::new(m20261207_000003_orders::Migration),
            Box::new(m20261207_000004_order_comments_files::Migration),
            Box::new(m20261207_000005_stages_payments::Migration),
            Box::new(m20261207_000006_workflows::Migration),
            Box::new(m20261207_000007_push_links::Migration),
        ]
    }
}
