use crate::AppState;
use crate::customers::model::customer;
use crate::customers::service::{Viewer, owned_by};
use crate::perm::{CatalogView, CustomerView};
use crate::products::model as product;
use axum::extract::State;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::Authorized;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Ids one lookup may name: a page of any list the other services show, with room to spare.
const MAX_IDS: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Ids {
    /// Comma-separated ids (at most 500).
    pub ids: String,
}

fn parse_ids(raw: &str) -> ApiResult<Vec<Uuid>> {
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        ids.push(Uuid::parse_str(part).map_err(|_| ApiError::field("ids", format!("{part:?} is not an id")))?);
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::field("ids", format!("at most {MAX_IDS} ids")));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A customer as other services show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerName {
    pub id: Uuid,
    pub name: String,
    pub code: String,
    /// `individual` or `organization`.
    pub customer_type: String,
    pub owner_user_id: Option<Uuid>,
}

/// Names of customers
///
/// The customers among `ids` the caller may see (their organization's; sellers only those they
/// own, created or act for as agent, as in `GET /customers/{id}`). Others, and unknown ids, are
/// left out.
#[utoipa::path(get, path = "/api/service-management/lookup/customers", tag = "lookup", params(Ids),
    responses((status = 200, description = "The customers found", body = Envelope<Vec<CustomerName>>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn customers(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    Query(q): Query<Ids>,
) -> ApiResult<Response> {
    let ids = parse_ids(&q.ids)?;
    if ids.is_empty() {
        return Ok(ok(Vec::<CustomerName>::new()));
    }
    let viewer = Viewer::of(&caller);
    let mut query = customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids))
        .filter(customer::Column::OrganizationId.eq(viewer.organization_id));
    if !viewer.is_admin {
        query = query.filter(owned_by(viewer.user_id));
    }
    let names: Vec<CustomerName> = query
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| CustomerName {
            id: c.id,
            name: c.name,
            code: c.code,
            customer_type: c.customer_type,
            owner_user_id: c.owner_user_id,
        })
        .collect();
    Ok(ok(names))
}

/// A product as other services show it and copy it (names and codes are snapshotted into
/// opportunities and orders).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductName {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub enterprise_service_code: Option<String>,
    /// The product's sales state (`active`, `suspended`, `discontinued`).
    pub status: String,
    pub is_active: bool,
}

/// Names of products
///
/// The products among `ids`; the catalogue is the company's and every signed-in role reads it.
/// Unknown ids are left out.
#[utoipa::path(get, path = "/api/service-management/lookup/products", tag = "lookup", params(Ids),
    responses((status = 200, description = "The products found", body = Envelope<Vec<ProductName>>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn products(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Query(q): Query<Ids>,
) -> ApiResult<Response> {
    let ids = parse_ids(&q.ids)?;
    if ids.is_empty() {
        return Ok(ok(Vec::<ProductName>::new()));
    }
    let names: Vec<ProductName> = product::Entity::find()
        .filter(product::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| ProductName {
            id: p.id,
            name: p.name,
            code: p.code,
            enterprise_service_code: p.enterprise_service_code,
            status: p.status,
            is_active: p.is_active,
        })
        .collect();
    Ok(ok(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_deduplicated() {
        let a = Uuid::now_v7();
        assert_eq!(parse_ids(&format!("{a}, {a},")).ok(), Some(vec![a]));
        assert!(parse_ids("nope").is_err());
        assert_eq!(parse_ids("").ok(), Some(vec![]));
        let many = (0..501).map(|_| Uuid::now_v7().to_string()).collect::<Vec<_>>().join(",");
        assert!(parse_ids(&many).is_err());
    }
}
