use super::dto::{
    CreatePosition, Holder, ListPositions, MovePosition, PositionDetail, PositionItem, PositionList, PositionNode,
    UpdatePosition, validate_fields,
};
use super::model as position;
use super::service::{self, Hierarchy};
use crate::AppState;
use crate::organizations::model::employee;
use crate::perm::{PositionCreate, PositionDelete, PositionUpdate, PositionView};
use crate::users::model::user;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn one(db: &impl ConnectionTrait, p: position::Model) -> ApiResult<super::dto::PositionItem> {
    let org = p.organization_id;
    service::items(db, org, vec![p]).await?.pop().ok_or_else(|| ApiError::internal("view of one position was empty"))
}

/// Create a position
#[utoipa::path(
    post,
    path = "/api/foundation/positions",
    tag = "positions",
    request_body = CreatePosition,
    responses(
        (status = 200, description = "The new position", body = Envelope<PositionItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<PositionCreate>,
    Json(body): Json<CreatePosition>,
) -> ApiResult<Response> {
    let org = caller.organization_id;
    let code = clean(body.code);
    validate_fields(Some(&body.name), code.as_deref(), body.level)?;
    let parent = match body.parent_id {
        Some(p) => Some(
            service::find(&state.db, org, p)
                .await
                .map_err(|_| ApiError::field("parent_id", "parent position not found"))?,
        ),
        None => None,
    };
    if let Some(c) = &code
        && service::code_taken(&state.db, org, c, None).await?
    {
        return Err(ApiError::conflict("position code already exists"));
    }
    let now = Utc::now();
    let saved = position::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        name: Set(body.name.trim().to_owned()),
        code: Set(code),
        description: Set(clean(body.description)),
        level: Set(body.level.unwrap_or_else(|| parent.as_ref().map_or(1, |p| p.level + 1))),
        parent_id: Set(body.parent_id),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(one(&state.db, saved).await?))
}

/// List positions
///
/// Ordered by level, then name.
#[utoipa::path(
    get,
    path = "/api/foundation/positions",
    tag = "positions",
    params(ListPositions),
    responses(
        (status = 200, description = "A page of positions, or the tree with `tree=true`", body = Envelope<PositionList>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<PositionView>,
    Query(q): Query<ListPositions>,
) -> ApiResult<Response> {
    let org = caller.organization_id;
    let ordered = || {
        position::Entity::find()
            .filter(position::Column::OrganizationId.eq(org))
            .order_by_asc(position::Column::Level)
            .order_by_asc(position::Column::Name)
            .order_by_asc(position::Column::Id)
    };
    if q.tree {
        let rows = ordered().all(&state.db).await?;
        let items = service::items(&state.db, org, rows).await?;
        let forest = crate::tree::build(
            items,
            |p| p.id,
            |p| p.parent_id,
            |position, children| PositionNode { position, children },
        );
        return Ok(ok(PositionList::Tree(forest)));
    }
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(50, 500)?;
    let mut query = ordered();
    if let Some(level) = q.level {
        query = query.filter(position::Column::Level.eq(level));
    }
    if let Some(parent) = q.parent_id {
        query = query.filter(position::Column::ParentId.eq(parent));
    }
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(
            Condition::any()
                .add(crm_common::db::contains_ci(position::Column::Name, search))
                .add(crm_common::db::contains_ci(position::Column::Code, search)),
        );
    }
    let paginator = query.paginate(&state.db, size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(ok(PositionList::Page(Page::new(service::items(&state.db, org, rows).await?, total, page, size))))
}

/// Get a position
#[utoipa::path(
    get,
    path = "/api/foundation/positions/{position_id}",
    tag = "positions",
    params(("position_id" = Uuid, Path, description = "The position's id")),
    responses(
        (status = 200, description = "The position, the positions below it and its holders", body = Envelope<PositionDetail>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<PositionView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let org = caller.organization_id;
    let p = service::find(&state.db, org, id).await?;
    let tree = Hierarchy::load(&state.db, org).await?;
    let parent_path = tree.parent_ref(p.parent_id, true);
    let mut item = one(&state.db, p).await?;
    item.parent = parent_path;
    let children = position::Entity::find()
        .filter(position::Column::ParentId.eq(id))
        .order_by_asc(position::Column::Name)
        .all(&state.db)
        .await?;
    let members = employee::Entity::find()
        .filter(employee::Column::PositionId.eq(id))
        .filter(employee::Column::IsActive.eq(true))
        .all(&state.db)
        .await?;
    let people: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let employees = members
        .into_iter()
        .map(|m| {
            let u = people.get(&m.user_id);
            Holder {
                member_id: m.id,
                user_id: m.user_id,
                username: u.map(|u| u.username.clone()),
                display_name: u.and_then(|u| u.display_name.clone()),
                email: u.map(|u| u.email.clone()),
            }
        })
        .collect();
    let children = service::items(&state.db, org, children).await?;
    Ok(ok(PositionDetail { position: item, children, employees }))
}

/// Update a position
///
/// A stale `version` answers 409 with the position as it now is.
#[utoipa::path(
    put,
    path = "/api/foundation/positions/{position_id}",
    tag = "positions",
    params(("position_id" = Uuid, Path, description = "The position's id")),
    request_body = UpdatePosition,
    responses(
        (status = 200, description = "The updated position", body = Envelope<PositionItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<PositionUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdatePosition>,
) -> ApiResult<Response> {
    let org = caller.organization_id;
    let code = body.code.map(clean);
    validate_fields(body.name.as_deref(), code.as_ref().and_then(|c| c.as_deref()), body.level)?;
    let p = service::find(&state.db, org, id).await?;
    if body.version.is_some_and(|v| v != p.version) {
        let current = serde_json::to_value(one(&state.db, p).await?).ok();
        return Err(ApiError::Conflict { message: "the position was changed by someone else".into(), current });
    }
    if let Some(Some(c)) = &code
        && service::code_taken(&state.db, org, c, Some(id)).await?
    {
        return Err(ApiError::conflict("position code already exists"));
    }
    let version = p.version;
    let before = one(&state.db, p.clone()).await?;
    let mut m = p.into_active_model();
    if let Some(name) = body.name {
        m.name = Set(name.trim().to_owned());
    }
    if let Some(c) = code {
        m.code = Set(c);
    }
    if body.description.is_some() {
        m.description = Set(clean(body.description));
    }
    if let Some(level) = body.level {
        m.level = Set(level);
    }
    m.version = Set(version + 1);
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    Ok(with_before(ok(one(&state.db, saved).await?), &before))
}

/// Delete a position
///
/// Only a position nobody holds and with nothing below it.
#[utoipa::path(
    delete,
    path = "/api/foundation/positions/{position_id}",
    tag = "positions",
    params(("position_id" = Uuid, Path, description = "The position's id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<PositionDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = one(&state.db, service::find(&state.db, caller.organization_id, id).await?).await?;
    let (holders, children) = service::counts(&state.db, &[id]).await?.get(&id).copied().unwrap_or_default();
    if holders > 0 {
        return Err(ApiError::conflict(format!("the position is held by {holders} member(s)")));
    }
    if children > 0 {
        return Err(ApiError::conflict(format!("the position has {children} position(s) below it")));
    }
    position::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(with_before(ok(()), &before))
}

/// Move a position
///
/// Moves a position (with everything below it) under a new parent; levels below shift by the
/// same amount as the moved position's.
#[utoipa::path(
    post,
    path = "/api/foundation/positions/{position_id}/move",
    tag = "positions",
    params(("position_id" = Uuid, Path, description = "The position's id")),
    request_body = MovePosition,
    responses(
        (status = 200, description = "The moved position", body = Envelope<PositionItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn move_to(
    State(state): State<AppState>,
    caller: Authorized<PositionUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<MovePosition>,
) -> ApiResult<Response> {
    let org = caller.organization_id;
    let p = service::find(&state.db, org, id).await?;
    let tree = Hierarchy::load(&state.db, org).await?;
    let parent = match body.new_parent_id {
        Some(np) => {
            let parent = service::find(&state.db, org, np)
                .await
                .map_err(|_| ApiError::field("new_parent_id", "parent position not found"))?;
            if tree.within(np, id) {
                return Err(ApiError::field("new_parent_id", "cannot move a position under itself or below it"));
            }
            Some(parent)
        }
        None => None,
    };
    let level = body.new_level.unwrap_or_else(|| parent.as_ref().map_or(1, |x| x.level + 1));
    validate_fields(None, None, Some(level))?;
    let delta = level - p.level;
    let below = tree.descendants(id);
    let lowest = position::Entity::find()
        .filter(position::Column::Id.is_in(below.clone()))
        .all(&state.db)
        .await?
        .iter()
        .map(|d| d.level + delta)
        .fold(level, Ord::min);
    if lowest < 1 {
        return Err(ApiError::field("new_level", "would move a position below it above level 1"));
    }
    let txn = crm_common::db::begin_write(&state.db).await?;
    let version = p.version;
    let mut m = p.into_active_model();
    m.parent_id = Set(body.new_parent_id);
    m.level = Set(level);
    m.version = Set(version + 1);
    m.updated_at = Set(Utc::now());
    let saved = m.update(&txn).await?;
    if delta != 0 && !below.is_empty() {
        position::Entity::update_many()
            .col_expr(position::Column::Level, Expr::col(position::Column::Level).add(delta))
            .col_expr(position::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(position::Column::Id.is_in(below))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(ok(one(&state.db, saved).await?))
}
