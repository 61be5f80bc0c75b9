//! The sums and counts, grouped in SQL (a few rows per status, currency and rate come back
//! whatever the number of orders), then converted into the reporting currency here. Amounts are
//! read back as text (`CAST(SUM(..) AS TEXT)`) so PostgreSQL's exact `NUMERIC` stays exact.

use crate::opportunities::rules::{STAGES, STATUSES as OPPORTUNITY_STATUSES};
use crate::orders::rules::STATUSES as ORDER_STATUSES;
use chrono::{Duration, NaiveDate};
use crm_common::ApiResult;
use crm_common::db::{date_text_sql, decimal_text, placeholder, utc_day_sql};
use crm_common::stats::{
    DailyRevenue, Funnel, FunnelStage, Money, OpportunitiesSummary, OrdersSummary, REPORTING_CURRENCY, to_reporting,
};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A statement under construction: SQL text and its bound values, placeholders per backend.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend, text: &str) -> Self {
        Self { backend, text: text.to_owned(), values: Vec::new() }
    }

    /// Appends `clause` with its `{}` replaced by the next placeholder bound to `value`.
    fn and(&mut self, clause: &str, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        let p = placeholder(self.backend, self.values.len());
        self.text.push_str(" AND ");
        self.text.push_str(&clause.replace("{}", &p));
        self
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push(' ');
        self.text.push_str(text);
        self
    }

    async fn rows(&self, db: &impl ConnectionTrait) -> ApiResult<Vec<QueryResult>> {
        let stmt = Statement::from_sql_and_values(self.backend, self.text.clone(), self.values.clone());
        Ok(db.query_all_raw(stmt).await?)
    }
}

fn count(row: &QueryResult, col: &str) -> ApiResult<u64> {
    Ok(row.try_get::<i64>("", col)?.max(0) as u64)
}

fn text(row: &QueryResult, col: &str) -> ApiResult<Option<String>> {
    Ok(row.try_get::<Option<String>>("", col)?)
}

/// Adds `amount` of `currency` (at `rate`) to the reporting total, or to `unconverted`.
fn add_converted(
    total: &mut Decimal,
    unconverted: &mut BTreeMap<String, Money>,
    amount: Decimal,
    currency: &str,
    rate: Option<&str>,
) {
    let rate = rate.map(decimal_rate);
    match to_reporting(amount, currency, rate) {
        Some(v) => *total += v,
        None => unconverted.entry(currency.to_owned()).or_default().0 += amount,
    }
}

fn decimal_rate(text: &str) -> Decimal {
    use std::str::FromStr;
    Decimal::from_str(text.trim()).or_else(|_| Decimal::from_scientific(text.trim())).unwrap_or_default()
}

pub async fn orders_summary(
    db: &impl ConnectionTrait,
    org: Option<Uuid>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> ApiResult<OrdersSummary> {
    let mut sql = Sql::new(
        db.get_database_backend(),
        "SELECT status_code, currency_code, CAST(exchange_rate AS TEXT) AS rate, COUNT(*) AS n, \
         CAST(SUM(final_amount) AS TEXT) AS amount FROM orders WHERE 1 = 1",
    );
    if let Some(org) = org {
        sql.and("organization_id = {}", org);
    }
    if let Some(start) = start {
        sql.and("created_at >= {}", start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    if let Some(next) = end.and_then(|e| e.checked_add_signed(Duration::days(1))) {
        sql.and("created_at < {}", next.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    sql.push("GROUP BY status_code, currency_code, exchange_rate");
    let mut out = OrdersSummary {
        by_status: ORDER_STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect(),
        currency_code: REPORTING_CURRENCY.into(),
        ..OrdersSummary::default()
    };
    for row in sql.rows(db).await? {
        let status = text(&row, "status_code")?.unwrap_or_default();
        let n = count(&row, "n")?;
        out.total += n;
        *out.by_status.entry(status.clone()).or_default() += n;
        if status == "cancelled" {
            continue;
        }
        let currency = text(&row, "currency_code")?.unwrap_or_else(|| REPORTING_CURRENCY.into());
        let amount = decimal_text(text(&row, "amount")?.as_deref());
        add_converted(&mut out.total_amount, &mut out.unconverted, amount, &currency, text(&row, "rate")?.as_deref());
    }
    out.total_amount = crm_common::api::money::amount(out.total_amount);
    Ok(out)
}

pub async fn revenue(db: &impl ConnectionTrait, org: Option<Uuid>, since: NaiveDate) -> ApiResult<DailyRevenue> {
    let backend = db.get_database_backend();
    let since = since.format("%Y-%m-%d").to_string();
    let mut out = DailyRevenue { currency_code: REPORTING_CURRENCY.into(), ..DailyRevenue::default() };

    // Paid payment stages, on the day they were paid (their last change when no day was recorded).
    let stage_day = format!(
        "COALESCE({}, {})",
        date_text_sql(backend, "ps.actual_payment_date"),
        utc_day_sql(backend, "ps.updated_at")
    );
    let mut stages = Sql::new(
        backend,
        &format!(
            "SELECT {stage_day} AS day, ps.currency_code AS currency_code, CAST(o.exchange_rate AS TEXT) AS rate, \
             CAST(SUM(ps.paid_amount) AS TEXT) AS amount FROM payment_stages ps JOIN orders o ON o.id = ps.order_id \
             WHERE ps.status = 'paid'"
        ),
    );
    if let Some(org) = org {
        stages.and("ps.organization_id = {}", org);
    }
    stages.and(&format!("{stage_day} >= {{}}"), since.clone());
    stages.push(&format!("GROUP BY {stage_day}, ps.currency_code, o.exchange_rate"));

    // Completed orders without payment stages, on the day they completed.
    let order_day = format!(
        "COALESCE({}, {})",
        date_text_sql(backend, "o.actual_completion_date"),
        utc_day_sql(backend, "o.updated_at")
    );
    let mut orders = Sql::new(
        backend,
        &format!(
            "SELECT {order_day} AS day, o.currency_code AS currency_code, CAST(o.exchange_rate AS TEXT) AS rate, \
             CAST(SUM(o.final_amount) AS TEXT) AS amount FROM orders o WHERE o.status_code = 'completed' \
             AND NOT EXISTS (SELECT 1 FROM payment_stages s WHERE s.order_id = o.id)"
        ),
    );
    if let Some(org) = org {
        orders.and("o.organization_id = {}", org);
    }
    orders.and(&format!("{order_day} >= {{}}"), since);
    orders.push(&format!("GROUP BY {order_day}, o.currency_code, o.exchange_rate"));

    for sql in [stages, orders] {
        for row in sql.rows(db).await? {
            let Some(day) = text(&row, "day")?.and_then(|d| d.get(..10).and_then(|d| d.parse::<NaiveDate>().ok()))
            else {
                continue;
            };
            let currency = text(&row, "currency_code")?.unwrap_or_else(|| REPORTING_CURRENCY.into());
            let amount = decimal_text(text(&row, "amount")?.as_deref());
            let entry = out.days.entry(day).or_default();
            add_converted(&mut entry.0, &mut out.unconverted, amount, &currency, text(&row, "rate")?.as_deref());
        }
    }
    for v in out.days.values_mut() {
        v.0 = crm_common::api::money::amount(v.0);
    }
    Ok(out)
}

/// `(status, stage, count, amount)` of the caller's opportunities.
async fn opportunity_groups(
    db: &impl ConnectionTrait,
    org: Option<Uuid>,
) -> ApiResult<Vec<(String, String, u64, Decimal)>> {
    let mut sql = Sql::new(
        db.get_database_backend(),
        "SELECT status, stage, COUNT(*) AS n, CAST(SUM(amount) AS TEXT) AS amount FROM opportunities WHERE 1 = 1",
    );
    if let Some(org) = org {
        sql.and("organization_id = {}", org);
    }
    sql.push("GROUP BY status, stage");
    let mut out = Vec::new();
    for row in sql.rows(db).await? {
        out.push((
            text(&row, "status")?.unwrap_or_default(),
            text(&row, "stage")?.unwrap_or_default(),
            count(&row, "n")?,
            decimal_text(text(&row, "amount")?.as_deref()),
        ));
    }
    Ok(out)
}

pub async fn opportunities_summary(db: &impl ConnectionTrait, org: Option<Uuid>) -> ApiResult<OpportunitiesSummary> {
    let mut out = OpportunitiesSummary {
        by_status: OPPORTUNITY_STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect(),
        amount_by_status: OPPORTUNITY_STATUSES.iter().map(|s| ((*s).to_owned(), Money::default())).collect(),
        ..OpportunitiesSummary::default()
    };
    for (status, _, n, amount) in opportunity_groups(db, org).await? {
        out.total += n;
        out.total_amount += amount;
        if status == "won" {
            out.won_amount += amount;
        }
        *out.by_status.entry(status.clone()).or_default() += n;
        out.amount_by_status.entry(status).or_default().0 += amount;
    }
    Ok(out)
}

pub async fn funnel(db: &impl ConnectionTrait, org: Option<Uuid>) -> ApiResult<Funnel> {
    let mut stages: Vec<FunnelStage> =
        STAGES.iter().map(|s| FunnelStage { stage: (*s).to_owned(), ..FunnelStage::default() }).collect();
    let mut total = 0;
    for (_, stage, n, amount) in opportunity_groups(db, org).await? {
        total += n;
        match stages.iter_mut().find(|s| s.stage == stage) {
            Some(s) => {
                s.count += n;
                s.amount += amount;
            }
            None => stages.push(FunnelStage { stage, count: n, amount }),
        }
    }
    Ok(Funnel { stages, total })
}
