//! The price rules: allowed values, periods `[from, to)` that never overlap for one key, and
//! the history row every change writes. The checks run inside the caller's write transaction,
//! after [`lock_product`], so two writers cannot both see "no overlap" and both insert.

use super::model::{history, price};
use crate::products::model as product;
use chrono::{DateTime, Utc};
use crm_common::api::validate::Validator;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

pub const PRICE_TYPES: [&str; 4] = ["cost", "channel", "direct", "list"];
pub const CURRENCIES: [&str; 4] = ["IDR", "CNY", "USD", "EUR"];
pub const SOURCES: [&str; 3] = ["manual", "import", "contract"];

/// A price's values, checked before anything is read.
pub fn validate(
    price_type: Option<&str>,
    currency: Option<&str>,
    source: Option<&str>,
    amount: Option<Decimal>,
    exchange_rate: Option<Decimal>,
) -> ApiResult<()> {
    let mut v = Validator::new();
    v.check(price_type.is_none_or(|t| PRICE_TYPES.contains(&t)), "price_type", "must be cost, channel, direct or list");
    v.check(currency.is_none_or(|c| CURRENCIES.contains(&c)), "currency", "must be IDR, CNY, USD or EUR");
    v.check(source.is_none_or(|s| SOURCES.contains(&s)), "source", "must be manual, import or contract");
    v.check(amount.is_none_or(|a| !a.is_sign_negative()), "amount", "must be 0 or more");
    v.check(exchange_rate.is_none_or(|r| r > Decimal::ZERO), "exchange_rate", "must be more than 0");
    v.finish()
}

/// A period must end after it starts (an open end is always fine).
pub fn check_period(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> ApiResult<()> {
    if to.is_some_and(|t| t <= from) {
        return Err(ApiError::field("effective_to", "must be after effective_from"));
    }
    Ok(())
}

/// Whether `[a_from, a_to)` and `[b_from, b_to)` share an instant (`None` = open-ended).
/// Adjacent periods (one ends where the next starts) do not.
pub fn overlaps(
    a_from: DateTime<Utc>,
    a_to: Option<DateTime<Utc>>,
    b_from: DateTime<Utc>,
    b_to: Option<DateTime<Utc>>,
) -> bool {
    b_to.is_none_or(|t| a_from < t) && a_to.is_none_or(|t| b_from < t)
}

/// The first of `existing` (other than `except`) whose period overlaps `[from, to)`.
pub fn find_overlap(
    existing: &[price::Model],
    except: Option<Uuid>,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Option<&price::Model> {
    existing.iter().filter(|p| Some(p.id) != except).find(|p| overlaps(p.effective_from, p.effective_to, from, to))
}

/// The 409 naming the price a period collides with.
pub fn overlap_error(p: &price::Model) -> ApiError {
    let to = p.effective_to.map_or_else(|| "open end".to_owned(), |t| t.to_rfc3339());
    ApiError::conflict(format!(
        "the period overlaps price {} ({} from {} to {})",
        p.id,
        p.amount,
        p.effective_from.to_rfc3339(),
        to
    ))
}

/// Locks the product row for the rest of the transaction (PostgreSQL `SELECT … FOR UPDATE`),
/// so price writers for one product take turns; SQLite's `BEGIN IMMEDIATE` already serializes
/// every writer. 404 when the product does not exist.
pub async fn lock_product(txn: &impl ConnectionTrait, product_id: Uuid) -> ApiResult<()> {
    let mut query = product::Entity::find_by_id(product_id).select_only().column(product::Column::Id);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    let found: Option<Uuid> = query.into_tuple().one(txn).await?;
    found.map(|_| ()).ok_or_else(|| ApiError::not_found("product"))
}

/// Every price of one key: (product, organization or generic, type, currency).
pub async fn same_key(
    txn: &impl ConnectionTrait,
    product_id: Uuid,
    organization_id: Option<Uuid>,
    price_type: &str,
    currency: &str,
) -> ApiResult<Vec<price::Model>> {
    let mut query = price::Entity::find()
        .filter(price::Column::ProductId.eq(product_id))
        .filter(price::Column::PriceType.eq(price_type))
        .filter(price::Column::Currency.eq(currency));
    query = match organization_id {
        Some(o) => query.filter(price::Column::OrganizationId.eq(o)),
        None => query.filter(price::Column::OrganizationId.is_null()),
    };
    Ok(query.all(txn).await?)
}

/// One history row for a change of `p` (as it is after the change, or as it was before a
/// delete) from `old` to `new`.
pub async fn record(
    txn: &impl ConnectionTrait,
    p: &price::Model,
    old: Option<Decimal>,
    new: Option<Decimal>,
    reason: Option<String>,
    by: Uuid,
) -> ApiResult<()> {
    history::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(p.product_id),
        organization_id: Set(p.organization_id),
        price_type: Set(p.price_type.clone()),
        currency: Set(p.currency.clone()),
        old_price: Set(old),
        new_price: Set(new),
        change_reason: Set(reason),
        effective_from: Set(p.effective_from),
        effective_to: Set(p.effective_to),
        changed_by: Set(Some(by)),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn adjacent_periods_do_not_overlap_and_open_ends_reach_forever() {
        assert!(!overlaps(day(1), Some(day(10)), day(10), Some(day(20))));
        assert!(!overlaps(day(10), Some(day(20)), day(1), Some(day(10))));
        assert!(overlaps(day(1), Some(day(11)), day(10), Some(day(20))));
        assert!(overlaps(day(1), None, day(25), Some(day(28))));
        assert!(overlaps(day(5), Some(day(6)), day(1), None));
        assert!(!overlaps(day(1), Some(day(5)), day(5), None));
        assert!(overlaps(day(1), None, day(2), None));
        assert!(overlaps(day(3), Some(day(4)), day(1), Some(day(9))));
    }

    #[test]
    fn values_and_periods_are_checked() {
        assert!(validate(Some("cost"), Some("IDR"), Some("manual"), Some(Decimal::ZERO), None).is_ok());
        assert!(validate(Some("retail"), None, None, None, None).is_err());
        assert!(validate(None, Some("JPY"), None, None, None).is_err());
        assert!(validate(None, None, Some("guess"), None, None).is_err());
        assert!(validate(None, None, None, Some(Decimal::new(-1, 2)), None).is_err());
        assert!(validate(None, None, None, None, Some(Decimal::ZERO)).is_err());
        assert!(check_period(day(2), Some(day(2))).is_err());
        assert!(check_period(day(2), Some(day(3))).is_ok());
        assert!(check_period(day(2), None).is_ok());
    }
}
