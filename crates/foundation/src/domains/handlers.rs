use super::model::{domain, relation};
use super::service;
use crate::AppState;
use crate::access::require_platform_admin;
use crate::organizations::service as orgs;
use crate::perm::{DomainManage, DomainView};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const WHAT: &str = "change the domain catalogue";

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDomain {
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    #[serde(default)]
    pub display_order: i32,
    pub is_active: Option<bool>,
}

/// Every field optional; the code is fixed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateDomain {
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub display_order: Option<i32>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDomains {
    pub is_active: Option<bool>,
}

/// The organization's complete set of domains afterwards.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetDomains {
    /// Each existing and active.
    pub domain_ids: Vec<Uuid>,
    /// One of `domain_ids`.
    pub primary_domain_id: Option<Uuid>,
}

/// Create a domain
///
/// The catalogue is global, so only platform administrators change it.
#[utoipa::path(
    post,
    path = "/api/foundation/organization-domains",
    tag = "organization-domains",
    request_body = CreateDomain,
    responses(
        (status = 200, description = "The new domain", body = Envelope<domain::Model>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<DomainManage>,
    Json(body): Json<CreateDomain>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, WHAT)?;
    Validator::new()
        .length("code", &body.code, 1, 100)
        .length("name_zh", &body.name_zh, 1, 255)
        .length("name_id", &body.name_id, 1, 255)
        .finish()?;
    let code = body.code.trim().to_owned();
    if domain::Entity::find().filter(domain::Column::Code.eq(&code)).one(&state.db).await?.is_some() {
        return Err(ApiError::conflict("domain code already exists"));
    }
    let now = Utc::now();
    let saved = domain::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name_zh: Set(body.name_zh.trim().to_owned()),
        name_id: Set(body.name_id.trim().to_owned()),
        description_zh: Set(body.description_zh),
        description_id: Set(body.description_id),
        display_order: Set(body.display_order),
        is_active: Set(body.is_active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(saved))
}

/// List domains
#[utoipa::path(
    get,
    path = "/api/foundation/organization-domains",
    tag = "organization-domains",
    params(ListDomains),
    responses(
        (status = 200, description = "The catalogue in display order", body = Envelope<Vec<domain::Model>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Authorized<DomainView>,
    Query(q): Query<ListDomains>,
) -> ApiResult<Response> {
    let mut query = domain::Entity::find();
    if let Some(active) = q.is_active {
        query = query.filter(domain::Column::IsActive.eq(active));
    }
    let rows =
        query.order_by_asc(domain::Column::DisplayOrder).order_by_asc(domain::Column::Code).all(&state.db).await?;
    Ok(ok(rows))
}

/// Get a domain
#[utoipa::path(
    get,
    path = "/api/foundation/organization-domains/{domain_id}",
    tag = "organization-domains",
    params(("domain_id" = Uuid, Path, description = "The domain's id")),
    responses(
        (status = 200, description = "The domain", body = Envelope<domain::Model>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _: Authorized<DomainView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    Ok(ok(service::find(&state.db, id).await?))
}

/// Update a domain
///
/// Platform administrators only.
#[utoipa::path(
    put,
    path = "/api/foundation/organization-domains/{domain_id}",
    tag = "organization-domains",
    params(("domain_id" = Uuid, Path, description = "The domain's id")),
    request_body = UpdateDomain,
    responses(
        (status = 200, description = "The updated domain", body = Envelope<domain::Model>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<DomainManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateDomain>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, WHAT)?;
    let mut v = Validator::new();
    for (field, value) in [("name_zh", &body.name_zh), ("name_id", &body.name_id)] {
        if let Some(value) = value {
            v.length(field, value, 1, 255);
        }
    }
    v.finish()?;
    let before = service::find(&state.db, id).await?;
    let mut m = before.clone().into_active_model();
    if let Some(x) = body.name_zh {
        m.name_zh = Set(x.trim().to_owned());
    }
    if let Some(x) = body.name_id {
        m.name_id = Set(x.trim().to_owned());
    }
    if let Some(x) = body.description_zh {
        m.description_zh = Set(Some(x));
    }
    if let Some(x) = body.description_id {
        m.description_id = Set(Some(x));
    }
    if let Some(x) = body.display_order {
        m.display_order = Set(x);
    }
    if let Some(x) = body.is_active {
        m.is_active = Set(x);
    }
    m.updated_at = Set(Utc::now());
    Ok(with_before(ok(m.update(&state.db).await?), &before))
}

/// Delete a domain
///
/// Deletes a domain and every organization's relation to it.
#[utoipa::path(
    delete,
    path = "/api/foundation/organization-domains/{domain_id}",
    tag = "organization-domains",
    params(("domain_id" = Uuid, Path, description = "The domain's id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<DomainManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, WHAT)?;
    let before = service::find(&state.db, id).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    relation::Entity::delete_many().filter(relation::Column::DomainId.eq(id)).exec(&txn).await?;
    domain::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(with_before(ok(()), &before))
}

/// An organization's domains
#[utoipa::path(
    get,
    path = "/api/foundation/organization-domains/organizations/{organization_id}/domains",
    tag = "organization-domains",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The organization's domains, primary first", body = Envelope<Vec<service::RelationView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn of_organization(
    State(state): State<AppState>,
    caller: Authorized<DomainView>,
    Path(org): Path<Uuid>,
) -> ApiResult<Response> {
    orgs::find_visible(&state.db, &caller, org).await?;
    Ok(ok(service::relation_views(&state.db, org).await?))
}

/// Set an organization's domains
///
/// Replaces the organization's domains: `domain_ids` (each existing and active) and optionally
/// which of them is primary.
#[utoipa::path(
    post,
    path = "/api/foundation/organization-domains/organizations/{organization_id}/domains",
    tag = "organization-domains",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    request_body = SetDomains,
    responses(
        (status = 200, description = "The organization's domains afterwards", body = Envelope<Vec<service::RelationView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn set_for_organization(
    State(state): State<AppState>,
    caller: Authorized<DomainManage>,
    Path(org): Path<Uuid>,
    Json(body): Json<SetDomains>,
) -> ApiResult<Response> {
    orgs::find_visible(&state.db, &caller, org).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    service::replace(&txn, org, &body.domain_ids, body.primary_domain_id).await?;
    txn.commit().await?;
    Ok(ok(service::relation_views(&state.db, org).await?))
}
