//! Seeding the owners' databases for analytics tests: customers and service records through
//! service-management's API, then dated and typed in its database; orders, payment stages and
//! opportunities written straight into order-workflow's database (the rows its API would write).

use crate::helpers::*;
use chrono::{DateTime, NaiveDate, Utc};
use crm_order_workflow::opportunities::model::opportunity;
use crm_order_workflow::orders::model::order;
use crm_order_workflow::payment_stages::model::stage;
use crm_service_management::customers::model::customer;
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

impl TestApp {
    /// A customer created by `token` through service-management, then given `kind`, `source` and
    /// a creation time in its database; its id.
    pub async fn customer(&self, token: &str, name: &str, kind: &str, source: &str, created: DateTime<Utc>) -> Uuid {
        let sm = self.sm.client();
        let sources = sm.get("/api/service-management/customer-sources", Some(token)).await;
        let body = json!({"name": name, "source_id": sources.data()[0]["id"]});
        let r = sm.post("/api/service-management/customers", Some(token), &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let id = uuid(&r.data()["id"]);
        customer::Entity::update_many()
            .col_expr(customer::Column::CustomerType, Expr::value(kind))
            .col_expr(customer::Column::CustomerSourceType, Expr::value(source))
            .col_expr(customer::Column::CreatedAt, Expr::value(created))
            .filter(customer::Column::Id.eq(id))
            .exec(&self.sm_db)
            .await
            .unwrap();
        id
    }

    /// A service record of `customer` with `status` and `priority`, through service-management.
    pub async fn service_record(&self, token: &str, customer: Uuid, status: &str, priority: &str) {
        let body =
            json!({"customer_id": customer, "service_name": "Work visa", "status": status, "priority": priority});
        let r = self.sm.client().post("/api/service-management/service-records", Some(token), &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    /// An order of `org` in order-workflow's database; its id.
    pub async fn order(&self, org: Uuid, status: &str, amount: i64, currency: &str, rate: Option<i64>) -> Uuid {
        let id = Uuid::now_v7();
        let now = Utc::now();
        order::ActiveModel {
            id: Set(id),
            organization_id: Set(org),
            order_number: Set(format!("ORD-{}", id.simple())),
            title: Set("Work visa".into()),
            customer_id: Set(Uuid::now_v7()),
            customer_name: Set(None),
            service_record_id: Set(None),
            opportunity_id: Set(None),
            sales_user_id: Set(Uuid::now_v7()),
            total_amount: Set(Decimal::from(amount)),
            discount_amount: Set(Decimal::ZERO),
            final_amount: Set(Decimal::from(amount)),
            currency_code: Set(currency.into()),
            exchange_rate: Set(rate.map(Decimal::from)),
            status_code: Set(status.into()),
            expected_start_date: Set(None),
            expected_completion_date: Set(None),
            actual_start_date: Set(None),
            actual_completion_date: Set(None),
            customer_notes: Set(None),
            internal_notes: Set(None),
            requirements: Set(None),
            description: Set(None),
            notes: Set(None),
            entry_city: Set(None),
            passport_id: Set(None),
            processor: Set(None),
            created_by: Set(None),
            updated_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(&self.ow_db)
        .await
        .unwrap();
        id
    }

    /// A payment stage of `order`, paid `paid` IDR on `paid_on`.
    pub async fn paid_stage(&self, org: Uuid, order: Uuid, amount: i64, paid: i64, paid_on: NaiveDate) {
        let now = Utc::now();
        stage::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            order_id: Set(order),
            order_number: Set("ORD".into()),
            stage_number: Set(1),
            stage_name: Set("Deposit".into()),
            stage_description: Set(None),
            amount: Set(Decimal::from(amount)),
            paid_amount: Set(Decimal::from(paid)),
            currency_code: Set("IDR".into()),
            payment_trigger: Set("manual".into()),
            trigger_date: Set(None),
            due_date: Set(None),
            actual_payment_date: Set(Some(paid_on)),
            status: Set("paid".into()),
            notes: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.ow_db)
        .await
        .unwrap();
    }

    /// An opportunity of `org` at `stage` with `status` and `amount`.
    pub async fn opportunity(&self, org: Uuid, stage: &str, status: &str, amount: i64) {
        let now = Utc::now();
        opportunity::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            customer_id: Set(None),
            lead_id: Set(None),
            name: Set("Visas".into()),
            amount: Set(Some(Decimal::from(amount))),
            probability: Set(None),
            stage: Set(stage.into()),
            status: Set(status.into()),
            owner_user_id: Set(None),
            expected_close_date: Set(None),
            actual_close_date: Set(None),
            description: Set(None),
            created_by: Set(None),
            updated_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(&self.ow_db)
        .await
        .unwrap();
    }
}
