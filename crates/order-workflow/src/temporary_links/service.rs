//! Share links: made for a resource the creator can see, opened by anyone holding the token
//! while it is active, unexpired and within its budget. Each open spends one access by a single
//! conditional `UPDATE … WHERE current_access_count < max_access_count`, so however many opens
//! race, exactly `max_access_count` of them succeed.

use super::dto::CreateLink;
use super::model as link;
use super::rules;
use crate::AppState;
use crate::orders::model::order;
use crate::orders::rules::Actor;
use crate::orders::service::{Viewer, find_visible, views_as};
use crate::perm::OrderView;
use chrono::Utc;
use crm_common::auth::{Permission, Principal};
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// A link to a resource the caller can see (404 otherwise; an order needs `order.view`).
pub async fn create(state: &AppState, p: &Principal, forward: &Forward, body: CreateLink) -> ApiResult<link::Model> {
    let now = Utc::now();
    let (kind, max) = rules::check(&body, now)?;
    let resource_id = body.resource_id.ok_or_else(|| ApiError::field("resource_id", "is required"))?;
    match kind.as_str() {
        "order" => {
            p.require(OrderView::CODE)?;
            find_visible(&state.db, &Viewer::of(p), resource_id).await?;
        }
        "customer" => {
            // service-management decides whether the caller sees the customer.
            let path = format!("/api/service-management/customers/{resource_id}");
            match state.service_management.get::<serde_json::Value>(&path, forward).await {
                Ok(_) => {}
                Err(ApiError::NotFound(_)) => return Err(ApiError::not_found("customer")),
                Err(e) => return Err(e),
            }
        }
        // No service holds service accounts yet: nothing to check, nothing to show.
        _ => {}
    }
    Ok(link::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(p.organization_id),
        link_token: Set(rules::new_token()),
        resource_type: Set(kind),
        resource_id: Set(resource_id),
        expires_at: Set(body.expires_at),
        max_access_count: Set(max),
        current_access_count: Set(0),
        is_active: Set(true),
        created_by: Set(p.user_id),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?)
}

/// Opens a link: spends one access and answers the link and the resource. A resource that no
/// longer exists in the link's organization answers 410 without spending an access: the link
/// shows what its creator shared, not whatever now has that id.
pub async fn open(state: &AppState, token: &str) -> ApiResult<(link::Model, Option<serde_json::Value>)> {
    let find = || link::Entity::find().filter(link::Column::LinkToken.eq(token)).one(&state.db);
    let now = Utc::now();
    let before = find().await?;
    if let Some(refused) = rules::refusal(before.as_ref(), now) {
        return Err(refused);
    }
    if let Some(l) = &before {
        shared_order(state, l).await?;
    }
    let spent = link::Entity::update_many()
        .col_expr(link::Column::CurrentAccessCount, Expr::col(link::Column::CurrentAccessCount).add(1))
        .filter(link::Column::LinkToken.eq(token))
        .filter(link::Column::IsActive.eq(true))
        .filter(Expr::col(link::Column::CurrentAccessCount).lt(Expr::col(link::Column::MaxAccessCount)))
        .filter(Condition::any().add(link::Column::ExpiresAt.is_null()).add(link::Column::ExpiresAt.gt(now)))
        .exec(&state.db)
        .await?;
    let after = find().await?;
    if spent.rows_affected == 0 {
        // Someone else spent the last access (or disabled it) in between: say why now.
        return Err(rules::refusal(after.as_ref(), now)
            .unwrap_or_else(|| ApiError::Gone("this link has reached its access limit".into())));
    }
    let l = after.ok_or_else(|| ApiError::not_found("temporary link"))?;
    let data = resource(state, &l).await?;
    Ok((l, data))
}

/// The order a link shares, in the link's organization (`None` for other types); 410 when it
/// has been deleted since.
async fn shared_order(state: &AppState, l: &link::Model) -> ApiResult<Option<order::Model>> {
    if l.resource_type != "order" {
        return Ok(None);
    }
    order::Entity::find_by_id(l.resource_id)
        .filter(order::Column::OrganizationId.eq(l.organization_id))
        .one(&state.db)
        .await?
        .map(Some)
        .ok_or_else(|| ApiError::Gone("the shared order no longer exists".into()))
}

/// The resource as the link's creator saw it, for the types this service owns.
async fn resource(state: &AppState, l: &link::Model) -> ApiResult<Option<serde_json::Value>> {
    let Some(o) = shared_order(state, l).await? else {
        return Ok(None);
    };
    // The creator could see the order when making the link; passport numbers stay masked
    // unless they sold or deliver it (their `customer.pii` grant cannot be checked without them).
    let creator = Viewer {
        user_id: l.created_by,
        organization_id: l.organization_id,
        org_wide: true,
        sees_pii: false,
        actor: Actor { user_id: l.created_by, approver: false, assigner: false },
    };
    let view = views_as(state, None, &creator, vec![o], false, true).await?.pop();
    view.map(serde_json::to_value).transpose().map_err(ApiError::internal)
}

/// The caller's links, newest first.
pub async fn mine(state: &AppState, p: &Principal, page: u64, size: u64) -> ApiResult<(Vec<link::Model>, u64)> {
    let cond = Condition::all()
        .add(link::Column::CreatedBy.eq(p.user_id))
        .add(link::Column::OrganizationId.eq(p.organization_id));
    let total = link::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let rows = link::Entity::find()
        .filter(cond)
        .order_by_desc(link::Column::CreatedAt)
        .order_by_desc(link::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok((rows, total))
}

/// Disables a link: its creator only (403 for a colleague, 404 outside the organization).
pub async fn disable(state: &AppState, p: &Principal, id: Uuid) -> ApiResult<link::Model> {
    let l = link::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|l| l.organization_id == p.organization_id)
        .ok_or_else(|| ApiError::not_found("temporary link"))?;
    if l.created_by != p.user_id {
        return Err(ApiError::forbidden("only its creator disables a link"));
    }
    let mut active: link::ActiveModel = l.into();
    active.is_active = Set(false);
    Ok(active.update(&state.db).await?)
}
