//! The product rules, as plain functions over the product as it will be stored: field bounds,
//! the status bookkeeping, and the profits derived from the IDR prices (recomputed on every
//! write, so they never disagree with the prices beside them). The checks that need the
//! database (category, service type, unique code) are the async functions below.

use super::model as product;
use crate::categories::model as category;
use crate::service_types::model as service_type;
use chrono::{DateTime, Utc};
use crm_common::api::money;
use crm_common::api::validate::Validator;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub const STATUSES: &[&str] = &["active", "suspended", "discontinued"];
pub const SERVICE_LEVELS: &[&str] = &["standard", "premium", "vip"];
pub const CURRENCIES: &[&str] = &["IDR", "CNY"];

/// The largest amount a `decimal(18,2)` column holds (16 digits before the point).
fn max_amount() -> Decimal {
    Decimal::from_i128_with_scale(10_i128.pow(16), 0)
}

/// The largest rate a `decimal(18,4)` column holds (14 digits before the point).
fn max_rate() -> Decimal {
    Decimal::from_i128_with_scale(10_i128.pow(14), 0)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<product::Model> {
    product::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("product"))
}

/// The profit figures derived from the IDR prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Profits {
    pub channel_profit: Option<Decimal>,
    pub channel_profit_rate: Option<Decimal>,
    pub channel_customer_profit: Option<Decimal>,
    pub channel_customer_profit_rate: Option<Decimal>,
    pub direct_profit: Option<Decimal>,
    pub direct_profit_rate: Option<Decimal>,
}

/// `high − low` as an amount and its ratio to `base` as a rate; a missing price gives no
/// figure, and a zero base no rate (a margin on nothing is not a number).
fn margin(high: Option<Decimal>, low: Option<Decimal>, base: Option<Decimal>) -> (Option<Decimal>, Option<Decimal>) {
    let (Some(high), Some(low)) = (high, low) else { return (None, None) };
    let profit = money::amount(high - low);
    let rate = base.filter(|b| !b.is_zero()).and_then(|b| profit.checked_div(b)).map(money::rate);
    (Some(profit), rate)
}

/// The original's formulas: the channel earns direct − channel (rate over the channel price),
/// BANTU earns channel − cost from a channel sale and direct − cost from a direct one (rates
/// over the cost).
pub fn profits(cost: Option<Decimal>, channel: Option<Decimal>, direct: Option<Decimal>) -> Profits {
    let (channel_profit, channel_profit_rate) = margin(direct, channel, channel);
    let (channel_customer_profit, channel_customer_profit_rate) = margin(channel, cost, cost);
    let (direct_profit, direct_profit_rate) = margin(direct, cost, cost);
    Profits {
        channel_profit,
        channel_profit_rate,
        channel_customer_profit,
        channel_customer_profit_rate,
        direct_profit,
        direct_profit_rate,
    }
}

/// Stores [`profits`] of `p`'s IDR prices into `p`.
pub fn apply_profits(p: &mut product::Model) {
    let f = profits(p.price_cost_idr, p.price_channel_idr, p.price_direct_idr);
    p.channel_profit = f.channel_profit;
    p.channel_profit_rate = f.channel_profit_rate;
    p.channel_customer_profit = f.channel_customer_profit;
    p.channel_customer_profit_rate = f.channel_customer_profit_rate;
    p.direct_profit = f.direct_profit;
    p.direct_profit_rate = f.direct_profit_rate;
}

/// The bookkeeping of the status: a suspension keeps its reason and nothing else does; a
/// discontinued product records when (now unless the caller said), and one brought back loses
/// the date unless the caller set it in the same request.
pub fn settle_status(p: &mut product::Model, discontinued_at_sent: bool, now: DateTime<Utc>) {
    if p.status != "suspended" {
        p.suspended_reason = None;
    }
    if p.status == "discontinued" {
        if p.discontinued_at.is_none() {
            p.discontinued_at = Some(now);
        }
    } else if !discontinued_at_sent {
        p.discontinued_at = None;
    }
}

fn amount(v: &mut Validator, field: &str, value: Option<Decimal>) {
    if let Some(x) = value {
        v.check(x >= Decimal::ZERO, field, "must be 0 or more");
        v.check(x.normalize().scale() <= money::AMOUNT_SCALE, field, "must have at most 2 decimal places");
        v.check(x < max_amount(), field, "is too large");
    }
}

fn count(v: &mut Validator, field: &str, value: Option<i32>) {
    v.check(value.is_none_or(|d| d >= 0), field, "must be 0 or more");
}

/// Every field rule over the product as it will be stored, all errors at once.
pub fn validate(p: &product::Model) -> ApiResult<()> {
    let mut v = Validator::new();
    v.length("name", &p.name, 1, 255);
    v.optional_length("code", p.code.as_deref(), 100);
    v.optional_length("enterprise_service_code", p.enterprise_service_code.as_deref(), 100);
    v.optional_length("service_type", p.service_type.as_deref(), 50);
    v.optional_length("service_subtype", p.service_subtype.as_deref(), 50);
    v.optional_length("processing_time_text", p.processing_time_text.as_deref(), 255);
    count(&mut v, "validity_period", p.validity_period);
    count(&mut v, "processing_days", p.processing_days);
    count(&mut v, "urgent_processing_days", p.urgent_processing_days);
    count(&mut v, "monthly_orders", p.monthly_orders);
    for (field, value) in [
        ("urgent_price_surcharge", p.urgent_price_surcharge),
        ("price_cost_idr", p.price_cost_idr),
        ("price_cost_cny", p.price_cost_cny),
        ("price_channel_idr", p.price_channel_idr),
        ("price_channel_cny", p.price_channel_cny),
        ("price_direct_idr", p.price_direct_idr),
        ("price_direct_cny", p.price_direct_cny),
        ("price_list_idr", p.price_list_idr),
        ("price_list_cny", p.price_list_cny),
        ("commission_amount", p.commission_amount),
        ("equivalent_cny", p.equivalent_cny),
        ("total_amount", p.total_amount),
    ] {
        amount(&mut v, field, value);
    }
    if let Some(rate) = p.commission_rate {
        v.check(rate >= Decimal::ZERO && rate <= Decimal::ONE, "commission_rate", "must be between 0 and 1");
        v.check(rate.normalize().scale() <= money::RATE_SCALE, "commission_rate", "must have at most 4 decimal places");
    }
    let rate = p.exchange_rate;
    v.check(rate > Decimal::ZERO, "exchange_rate", "must be greater than 0");
    v.check(rate.normalize().scale() <= money::RATE_SCALE, "exchange_rate", "must have at most 4 decimal places");
    v.check(rate < max_rate(), "exchange_rate", "is too large");
    v.one_of("status", Some(&p.status), STATUSES);
    v.one_of("service_level", p.service_level.as_deref(), SERVICE_LEVELS);
    v.one_of("default_currency", Some(&p.default_currency), CURRENCIES);
    v.finish()
}

/// A product's category must exist and be active: a product filed under a retired category
/// would vanish from the active tree the pickers read.
pub async fn check_category(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<()> {
    match category::Entity::find_by_id(id).one(db).await? {
        None => Err(ApiError::field("category_id", "category not found")),
        Some(c) if !c.is_active => Err(ApiError::field("category_id", "category is inactive")),
        Some(_) => Ok(()),
    }
}

pub async fn check_service_type(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<()> {
    match service_type::Entity::find_by_id(id).one(db).await? {
        None => Err(ApiError::field("service_type_id", "service type not found")),
        Some(_) => Ok(()),
    }
}

/// A conflict when another product already has `code` (the unique index would refuse it too,
/// with a less helpful message).
pub async fn check_code_free(db: &impl ConnectionTrait, code: &str, except: Option<Uuid>) -> ApiResult<()> {
    let mut query = product::Entity::find().filter(product::Column::Code.eq(code));
    if let Some(id) = except {
        query = query.filter(product::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(ApiError::conflict(format!("product code {code} already exists")));
    }
    Ok(())
}

/// The names of the categories and service types of `rows`: two queries, whatever the page.
pub async fn names(
    db: &impl ConnectionTrait,
    rows: &[product::Model],
) -> ApiResult<(HashMap<Uuid, String>, HashMap<Uuid, String>)> {
    let categories: HashSet<Uuid> = rows.iter().filter_map(|p| p.category_id).collect();
    let types: HashSet<Uuid> = rows.iter().filter_map(|p| p.service_type_id).collect();
    let mut category_names = HashMap::new();
    if !categories.is_empty() {
        let found = category::Entity::find().filter(category::Column::Id.is_in(categories)).all(db).await?;
        category_names.extend(found.into_iter().map(|c| (c.id, c.name)));
    }
    let mut type_names = HashMap::new();
    if !types.is_empty() {
        let found = service_type::Entity::find().filter(service_type::Column::Id.is_in(types)).all(db).await?;
        type_names.extend(found.into_iter().map(|s| (s.id, s.name)));
    }
    Ok((category_names, type_names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_else(|_| panic!("bad decimal {s}"))
    }

    fn blank() -> product::Model {
        let now = Utc::now();
        product::Model {
            id: Uuid::nil(),
            name: "KITAS".into(),
            code: None,
            enterprise_service_code: None,
            category_id: None,
            service_type_id: None,
            service_type: None,
            service_subtype: None,
            description: None,
            validity_period: None,
            processing_days: None,
            processing_time_text: None,
            is_urgent_available: false,
            urgent_processing_days: None,
            urgent_price_surcharge: None,
            required_documents: None,
            sla_description: None,
            service_level: None,
            price_cost_idr: None,
            price_cost_cny: None,
            price_channel_idr: None,
            price_channel_cny: None,
            price_direct_idr: None,
            price_direct_cny: None,
            price_list_idr: None,
            price_list_cny: None,
            default_currency: "IDR".into(),
            exchange_rate: d("2000"),
            channel_profit: None,
            channel_profit_rate: None,
            channel_customer_profit: None,
            channel_customer_profit_rate: None,
            direct_profit: None,
            direct_profit_rate: None,
            commission_rate: None,
            commission_amount: None,
            equivalent_cny: None,
            monthly_orders: None,
            total_amount: None,
            status: "active".into(),
            suspended_reason: None,
            discontinued_at: None,
            is_active: true,
            is_locked: false,
            tags: None,
            notes: None,
            created_by: None,
            updated_by: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn fields(r: ApiResult<()>) -> Vec<String> {
        match r {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn profits_match_hand_computed_figures() {
        // cost 1,000,000; channel 1,500,000; direct 2,000,000.
        let f = profits(Some(d("1000000")), Some(d("1500000")), Some(d("2000000")));
        assert_eq!(f.channel_profit, Some(d("500000")));
        assert_eq!(f.channel_profit_rate, Some(d("0.3333"))); // 500,000 / 1,500,000
        assert_eq!(f.channel_customer_profit, Some(d("500000")));
        assert_eq!(f.channel_customer_profit_rate, Some(d("0.5"))); // 500,000 / 1,000,000
        assert_eq!(f.direct_profit, Some(d("1000000")));
        assert_eq!(f.direct_profit_rate, Some(d("1"))); // 1,000,000 / 1,000,000
    }

    #[test]
    fn rates_round_half_away_from_zero_and_losses_are_negative() {
        // 2 / 3 = 0.66666… → 0.6667; 1 / 8 = 0.125 exactly.
        let f = profits(Some(d("3")), Some(d("5")), Some(d("4")));
        assert_eq!(f.channel_customer_profit_rate, Some(d("0.6667")));
        assert_eq!(f.channel_profit, Some(d("-1")));
        assert_eq!(f.channel_profit_rate, Some(d("-0.2")));
        let f = profits(Some(d("8")), Some(d("9")), None);
        assert_eq!(f.channel_customer_profit_rate, Some(d("0.125")));
        // Cents survive: 150,000.75 − 100,000.50.
        let f = profits(Some(d("100000.50")), Some(d("150000.75")), None);
        assert_eq!(f.channel_customer_profit, Some(d("50000.25")));
    }

    #[test]
    fn a_missing_price_or_a_zero_divisor_leaves_the_figure_empty() {
        let f = profits(None, Some(d("1500000")), Some(d("2000000")));
        assert_eq!(f.channel_profit, Some(d("500000")));
        assert_eq!(f.channel_customer_profit, None);
        assert_eq!(f.channel_customer_profit_rate, None);
        assert_eq!(f.direct_profit, None);
        assert_eq!(f.direct_profit_rate, None);
        // A free cost: the profit is the whole price, its rate undefined.
        let f = profits(Some(Decimal::ZERO), Some(Decimal::ZERO), Some(d("100")));
        assert_eq!(f.direct_profit, Some(d("100")));
        assert_eq!(f.direct_profit_rate, None);
        assert_eq!(f.channel_profit_rate, None);
        assert_eq!(f.channel_customer_profit, Some(Decimal::ZERO));
        assert_eq!(profits(None, None, None), Profits::default());
    }

    #[test]
    fn apply_profits_overwrites_stale_figures() {
        let mut p = blank();
        p.direct_profit = Some(d("999"));
        p.price_cost_idr = Some(d("100"));
        p.price_direct_idr = Some(d("150"));
        apply_profits(&mut p);
        assert_eq!(p.direct_profit, Some(d("50")));
        assert_eq!(p.direct_profit_rate, Some(d("0.5")));
        assert_eq!(p.channel_profit, None);
    }

    #[test]
    fn field_rules() {
        assert!(fields(validate(&blank())).is_empty());
        let mut p = blank();
        p.price_list_idr = Some(Decimal::ZERO);
        p.commission_rate = Some(Decimal::ONE);
        p.service_level = Some("vip".into());
        assert!(fields(validate(&p)).is_empty(), "zero prices and a rate of 1 are valid");
        let mut p = blank();
        p.name = "  ".into();
        p.price_cost_idr = Some(d("-1"));
        p.price_direct_cny = Some(d("1.005"));
        p.commission_rate = Some(d("1.01"));
        p.exchange_rate = Decimal::ZERO;
        p.status = "paused".into();
        p.service_level = Some("gold".into());
        p.processing_days = Some(-2);
        assert_eq!(
            fields(validate(&p)),
            [
                "name",
                "processing_days",
                "price_cost_idr",
                "price_direct_cny",
                "commission_rate",
                "exchange_rate",
                "status",
                "service_level"
            ]
        );
        let mut p = blank();
        p.price_list_idr = Some(d("10000000000000000"));
        p.default_currency = "USD".into();
        assert_eq!(fields(validate(&p)), ["price_list_idr", "default_currency"]);
    }

    #[test]
    fn status_bookkeeping() {
        let now = Utc::now();
        let earlier = now - chrono::Duration::days(3);
        let mut p = blank();
        p.status = "suspended".into();
        p.suspended_reason = Some("license renewal".into());
        settle_status(&mut p, false, now);
        assert_eq!(p.suspended_reason.as_deref(), Some("license renewal"));
        assert_eq!(p.discontinued_at, None);
        p.status = "discontinued".into();
        settle_status(&mut p, false, now);
        assert_eq!(p.suspended_reason, None);
        assert_eq!(p.discontinued_at, Some(now));
        // A date the caller gives is kept.
        let mut p = blank();
        p.status = "discontinued".into();
        p.discontinued_at = Some(earlier);
        settle_status(&mut p, true, now);
        assert_eq!(p.discontinued_at, Some(earlier));
        // Back to active: the date goes.
        p.status = "active".into();
        settle_status(&mut p, false, now);
        assert_eq!(p.discontinued_at, None);
    }
}
