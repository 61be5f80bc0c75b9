//! The supplier rules: which organization may supply, one primary supplier per product, how a
//! batch price row names its prices, and how a page of suppliers maps onto foundation's pages.

use super::dto::{PriceUpdate, SupplierService};
use super::model as offer;
use crate::AppState;
use crate::access::{Organization, organization};
use crate::categories::model as category;
use crate::prices::model::history;
use crate::products::model as product;
use chrono::{DateTime, Utc};
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect,
    Select,
};
use uuid::Uuid;

/// The largest page foundation's organization list serves.
pub const FOUNDATION_PAGE: u64 = 100;

/// A supplier: an existing vendor or internal organization, else 404.
pub async fn supplier(state: &AppState, forward: &Forward, id: Uuid) -> ApiResult<Organization> {
    organization(state, forward, id)
        .await?
        .filter(|o| matches!(o.organization_type.as_str(), "vendor" | "internal"))
        .ok_or_else(|| ApiError::not_found("supplier"))
}

/// Foundation's pages (of `chunk` rows) that hold rows `[(page-1)·size, page·size)`, each with
/// how many of its rows to skip and to keep.
pub fn foundation_pages(page: u64, size: u64, chunk: u64) -> Vec<(u64, usize, usize)> {
    let start = (page - 1).saturating_mul(size);
    let end = start.saturating_add(size);
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let p = at / chunk;
        let skip = at - p * chunk;
        let take = (chunk - skip).min(end - at);
        out.push((p + 1, skip as usize, take as usize));
        at += take;
    }
    out
}

/// The IDR and CNY costs a batch row sets: `cost_price` in its `currency`, or the two fields
/// (these win when both are given). 400 for a currency other than IDR or CNY, or a negative cost.
pub fn row_costs(u: &PriceUpdate) -> ApiResult<(Option<Decimal>, Option<Decimal>)> {
    let (mut idr, mut cny) = (None, None);
    if let Some(cost) = u.cost_price {
        match u.currency.as_deref().unwrap_or("IDR") {
            "IDR" => idr = Some(cost),
            "CNY" => cny = Some(cost),
            _ => return Err(ApiError::field("currency", "must be IDR or CNY")),
        }
    }
    idr = u.cost_price_idr.or(idr);
    cny = u.cost_price_cny.or(cny);
    check_costs(idr, cny)?;
    Ok((idr, cny))
}

pub fn check_costs(idr: Option<Decimal>, cny: Option<Decimal>) -> ApiResult<()> {
    if idr.is_some_and(|d| d.is_sign_negative()) {
        return Err(ApiError::field("cost_price_idr", "must be 0 or more"));
    }
    if cny.is_some_and(|d| d.is_sign_negative()) {
        return Err(ApiError::field("cost_price_cny", "must be 0 or more"));
    }
    Ok(())
}

/// One supplier's offers with their products and categories: one joined query.
pub fn services_query(vendor: Uuid) -> Select<offer::Entity> {
    let to_product =
        offer::Entity::belongs_to(product::Entity).from(offer::Column::ProductId).to(product::Column::Id).into();
    let to_category =
        product::Entity::belongs_to(category::Entity).from(product::Column::CategoryId).to(category::Column::Id).into();
    offer::Entity::find()
        .select_only()
        .column(offer::Column::Id)
        .column(offer::Column::ProductId)
        .column_as(product::Column::Name, "product_name")
        .column_as(product::Column::Code, "product_code")
        .column(product::Column::EnterpriseServiceCode)
        .column(product::Column::CategoryId)
        .column_as(category::Column::Name, "category_name")
        .column(product::Column::Status)
        .column(product::Column::IsActive)
        .column(offer::Column::IsAvailable)
        .column(offer::Column::CostPriceCny)
        .column(offer::Column::CostPriceIdr)
        .column(offer::Column::ProcessingDays)
        .column(offer::Column::IsPrimary)
        .column(offer::Column::Priority)
        .join(JoinType::InnerJoin, to_product)
        .join(JoinType::LeftJoin, to_category)
        .filter(offer::Column::OrganizationId.eq(vendor))
}

/// One offer as the services list shows it, or 404.
pub async fn service(db: &impl ConnectionTrait, vendor: Uuid, product_id: Uuid) -> ApiResult<SupplierService> {
    services_query(vendor)
        .filter(offer::Column::ProductId.eq(product_id))
        .into_model::<SupplierService>()
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("offer"))
}

/// Makes `vendor` the only primary supplier of `products`: the others' flags are cleared in the
/// caller's transaction, before this supplier's is set (the partial unique index allows one).
pub async fn clear_other_primaries(txn: &impl ConnectionTrait, products: Vec<Uuid>, vendor: Uuid) -> ApiResult<()> {
    if products.is_empty() {
        return Ok(());
    }
    offer::Entity::update_many()
        .col_expr(offer::Column::IsPrimary, Expr::value(false))
        .filter(offer::Column::ProductId.is_in(products))
        .filter(offer::Column::OrganizationId.ne(vendor))
        .filter(offer::Column::IsPrimary.eq(true))
        .exec(txn)
        .await?;
    Ok(())
}

/// A cost change of an offer, in the price history (type `cost`, the vendor's).
pub struct CostChange {
    pub vendor: Uuid,
    pub product_id: Uuid,
    pub currency: &'static str,
    pub old: Option<Decimal>,
    pub new: Option<Decimal>,
    pub effective_from: DateTime<Utc>,
    pub by: Uuid,
}

pub async fn record_cost(txn: &impl ConnectionTrait, c: CostChange) -> ApiResult<()> {
    if c.old == c.new {
        return Ok(());
    }
    history::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(c.product_id),
        organization_id: Set(Some(c.vendor)),
        price_type: Set("cost".into()),
        currency: Set(c.currency.into()),
        old_price: Set(c.old),
        new_price: Set(c.new),
        change_reason: Set(Some("supplier cost".into())),
        effective_from: Set(c.effective_from),
        effective_to: Set(None),
        changed_by: Set(Some(c.by)),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cost: Option<i64>, currency: Option<&str>, idr: Option<i64>, cny: Option<i64>) -> PriceUpdate {
        PriceUpdate {
            product_id: Uuid::nil(),
            cost_price: cost.map(Decimal::from),
            currency: currency.map(str::to_owned),
            cost_price_cny: cny.map(Decimal::from),
            cost_price_idr: idr.map(Decimal::from),
            processing_days: None,
            is_available: None,
            is_primary: None,
            priority: None,
        }
    }

    #[test]
    fn a_batch_row_names_its_costs_either_way() {
        let d = |n: i64| Some(Decimal::from(n));
        assert_eq!(row_costs(&row(Some(5), Some("CNY"), None, None)).ok(), Some((None, d(5))));
        assert_eq!(row_costs(&row(Some(5), None, None, None)).ok(), Some((d(5), None)));
        assert_eq!(row_costs(&row(None, None, Some(7), Some(8))).ok(), Some((d(7), d(8))));
        assert_eq!(row_costs(&row(Some(5), Some("IDR"), Some(9), None)).ok(), Some((d(9), None)));
        assert!(row_costs(&row(Some(5), Some("USD"), None, None)).is_err());
        assert!(row_costs(&row(None, None, Some(-1), None)).is_err());
        assert_eq!(row_costs(&row(None, None, None, None)).ok(), Some((None, None)));
    }

    #[test]
    fn a_page_maps_onto_foundations_pages() {
        assert_eq!(foundation_pages(1, 10, 100), [(1, 0, 10)]);
        assert_eq!(foundation_pages(3, 10, 100), [(1, 20, 10)]);
        assert_eq!(foundation_pages(2, 60, 100), [(1, 60, 40), (2, 0, 20)]);
        assert_eq!(foundation_pages(1, 250, 100), [(1, 0, 100), (2, 0, 100), (3, 0, 50)]);
        assert_eq!(foundation_pages(2, 1000, 100).len(), 10);
    }
}
