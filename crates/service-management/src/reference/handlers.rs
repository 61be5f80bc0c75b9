use super::model::{follow_up_status, industry, level, source};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::BadRequest;
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::CurrentUser;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which language `name` is in.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    Id,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefQuery {
    /// `zh` (default) or `id`: the language of `name`.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub lang: Lang,
    /// Default true: active entries only; false: the inactive ones.
    pub is_active: Option<bool>,
}

/// A bilingual entry (industries, levels, follow-up statuses).
#[derive(Debug, Serialize, ToSchema)]
pub struct RefItem {
    pub id: Uuid,
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    /// `name_zh` or `name_id`, by `lang`.
    pub name: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub sort_order: i32,
    pub is_active: bool,
}

/// A customer source.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceItem {
    pub id: Uuid,
    pub code: String,
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    /// In the language asked for, falling back to the stored name.
    pub name: String,
    pub description: Option<String>,
    pub display_order: i32,
}

macro_rules! bilingual_list {
    ($state:expr, $q:expr, $module:ident) => {{
        let rows = $module::Entity::find()
            .filter($module::Column::IsActive.eq($q.is_active.unwrap_or(true)))
            .order_by_asc($module::Column::SortOrder)
            .order_by_asc($module::Column::Code)
            .all(&$state.db)
            .await?;
        rows.into_iter()
            .map(|r| RefItem {
                name: if $q.lang == Lang::Id { r.name_id.clone() } else { r.name_zh.clone() },
                id: r.id,
                code: r.code,
                name_zh: r.name_zh,
                name_id: r.name_id,
                description_zh: r.description_zh,
                description_id: r.description_id,
                sort_order: r.sort_order,
                is_active: r.is_active,
            })
            .collect::<Vec<_>>()
    }};
}

/// Industries
#[utoipa::path(get, path = "/api/service-management/industries", tag = "reference", params(RefQuery),
    responses((status = 200, description = "Ordered by sort order, then code", body = Envelope<Vec<RefItem>>), (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn industries(
    State(state): State<AppState>,
    _: CurrentUser,
    Query(q): Query<RefQuery>,
) -> ApiResult<Response> {
    Ok(ok(bilingual_list!(state, q, industry)))
}

/// Customer levels
#[utoipa::path(get, path = "/api/service-management/customer-levels", tag = "reference", params(RefQuery),
    responses((status = 200, description = "Ordered by sort order, then code", body = Envelope<Vec<RefItem>>), (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn levels(State(state): State<AppState>, _: CurrentUser, Query(q): Query<RefQuery>) -> ApiResult<Response> {
    Ok(ok(bilingual_list!(state, q, level)))
}

/// Customer levels (the original's path)
#[utoipa::path(get, path = "/api/order-workflow/customer-levels", tag = "reference", params(RefQuery),
    responses((status = 200, description = "Ordered by sort order, then code", body = Envelope<Vec<RefItem>>), (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn legacy_levels(state: State<AppState>, user: CurrentUser, q: Query<RefQuery>) -> ApiResult<Response> {
    levels(state, user, q).await
}

/// Follow-up statuses
#[utoipa::path(get, path = "/api/service-management/follow-up-statuses", tag = "reference", params(RefQuery),
    responses((status = 200, description = "Ordered by sort order, then code", body = Envelope<Vec<RefItem>>), (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn statuses(State(state): State<AppState>, _: CurrentUser, Query(q): Query<RefQuery>) -> ApiResult<Response> {
    Ok(ok(bilingual_list!(state, q, follow_up_status)))
}

/// Follow-up statuses (the original's path)
#[utoipa::path(get, path = "/api/order-workflow/follow-up-statuses", tag = "reference", params(RefQuery),
    responses((status = 200, description = "Ordered by sort order, then code", body = Envelope<Vec<RefItem>>), (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn legacy_statuses(state: State<AppState>, user: CurrentUser, q: Query<RefQuery>) -> ApiResult<Response> {
    statuses(state, user, q).await
}

/// Customer sources
#[utoipa::path(get, path = "/api/service-management/customer-sources", tag = "reference", params(RefQuery),
    responses((status = 200, description = "Ordered by display order, then code", body = Envelope<Vec<SourceItem>>), (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn sources(State(state): State<AppState>, _: CurrentUser, Query(q): Query<RefQuery>) -> ApiResult<Response> {
    let rows = source::Entity::find()
        .filter(source::Column::IsActive.eq(q.is_active.unwrap_or(true)))
        .order_by_asc(source::Column::DisplayOrder)
        .order_by_asc(source::Column::Code)
        .all(&state.db)
        .await?;
    let items: Vec<SourceItem> = rows
        .into_iter()
        .map(|r| {
            let translated = if q.lang == Lang::Id { r.name_id.clone() } else { r.name_zh.clone() };
            SourceItem {
                name: translated.unwrap_or_else(|| r.name.clone()),
                id: r.id,
                code: r.code,
                name_zh: r.name_zh,
                name_id: r.name_id,
                description: r.description,
                display_order: r.display_order,
            }
        })
        .collect();
    Ok(ok(items))
}
