//! The comment rules: a comment is seen by whoever sees its order and written by whoever may
//! change orders and sees it; only its author or an order manager edits or deletes it. A reply
//! answers a comment of the same order and is never pinned. Lists show pinned comments first,
//! then the newest.

use super::dto::{CommentView, CreateComment, UpdateComment};
use super::model as comment;
use crate::AppState;
use crate::notifications::triggers::{OrderEvent, order_event};
use crate::orders::model::order;
use crate::orders::service::{Viewer, find_visible, pick};
use chrono::Utc;
use crm_common::api::patch::clean;
use crm_common::api::validate::Validator;
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashSet;
use uuid::Uuid;

pub const COMMENT_TYPES: &[&str] = &["general", "internal", "customer", "system"];
/// Longest text kept per language.
const MAX_CONTENT_CHARS: usize = 10_000;

/// A comment of an order the caller sees; `order` (the nested paths) must be its order. Another
/// organization's comment, or one of an order the caller does not see, is a 404.
pub async fn find(
    state: &AppState,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
) -> ApiResult<(order::Model, comment::Model)> {
    let c = comment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|c| c.organization_id == viewer.organization_id && order.is_none_or(|o| o == c.order_id))
        .ok_or_else(|| ApiError::not_found("order comment"))?;
    let o = find_visible(&state.db, viewer, c.order_id).await.map_err(|_| ApiError::not_found("order comment"))?;
    Ok((o, c))
}

/// The texts of a write: `content` goes to the `lang` language unless that language is sent
/// explicitly too.
fn texts(
    indonesian: bool,
    content: Option<String>,
    zh: Option<String>,
    id: Option<String>,
) -> (Option<String>, Option<String>) {
    let (mut zh, mut id) = (clean(zh), clean(id));
    if let Some(c) = clean(content) {
        if indonesian { id = id.or(Some(c)) } else { zh = zh.or(Some(c)) }
    }
    (zh, id)
}

fn check_texts(v: &mut Validator, zh: Option<&str>, id: Option<&str>) {
    for (field, text) in [("content_zh", zh), ("content_id", id)] {
        v.check(text.is_none_or(|t| t.chars().count() <= MAX_CONTENT_CHARS), field, "must be at most 10000 characters");
    }
}

/// Adds a comment to `order_id`, or a reply to `parent` (which decides the order; `order_id`,
/// when given, must be the parent's). 404 when the caller does not see the order or the parent.
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    order_id: Option<Uuid>,
    parent: Option<Uuid>,
    body: CreateComment,
    indonesian: bool,
) -> ApiResult<comment::Model> {
    let parent = match parent.or(body.replied_to_comment_id) {
        Some(p) => Some(find(state, viewer, order_id, p).await?.1),
        None => None,
    };
    let order_id = match (&parent, order_id) {
        (Some(p), _) => p.order_id,
        (None, Some(o)) => o,
        (None, None) => return Err(ApiError::field("order_id", "is required")),
    };
    let kind = clean(body.comment_type).unwrap_or_else(|| "general".into());
    let (zh, id) = texts(indonesian, body.content, body.content_zh, body.content_id);
    let mut v = Validator::new();
    v.one_of("comment_type", Some(&kind), COMMENT_TYPES).check(
        zh.is_some() || id.is_some(),
        "content",
        "is required (content, content_zh or content_id)",
    );
    check_texts(&mut v, zh.as_deref(), id.as_deref());
    v.finish()?;
    let o = find_visible(&state.db, viewer, order_id).await?;
    let stage_id = body.order_stage_id.or(parent.as_ref().and_then(|p| p.order_stage_id));
    crate::order_stages::service::check_of_order(&state.db, &o, stage_id).await?;
    let now = Utc::now();
    let row = comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        order_id: Set(o.id),
        order_stage_id: Set(stage_id),
        is_internal: Set(body.is_internal.unwrap_or(kind == "internal")),
        comment_type: Set(kind),
        content_zh: Set(zh),
        content_id: Set(id),
        is_pinned: Set(parent.is_none() && body.is_pinned.unwrap_or(false)),
        replied_to_comment_id: Set(parent.as_ref().map(|p| p.id)),
        created_by: Set(Some(viewer.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let saved = row.insert(&state.db).await?;
    let text = saved.content_zh.as_deref().or(saved.content_id.as_deref()).unwrap_or_default();
    let replied_to: Vec<Uuid> = parent.and_then(|p| p.created_by).into_iter().collect();
    order_event(&state.db, &o, viewer.user_id, &replied_to, OrderEvent::Comment(text)).await?;
    Ok(saved)
}

/// Only the author or an order manager.
fn check_author(viewer: &Viewer, c: &comment::Model, what: &str) -> ApiResult<()> {
    if viewer.actor.approver || c.created_by == Some(viewer.user_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only the comment's author or an order manager may {what} it")))
    }
}

/// Changes a comment; absent fields are kept.
pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
    body: UpdateComment,
    indonesian: bool,
) -> ApiResult<(comment::Model, comment::Model)> {
    let (_, before) = find(state, viewer, order, id).await?;
    check_author(viewer, &before, "change")?;
    let kind = clean(body.comment_type);
    // `content` writes the `lang` language unless that language is sent explicitly; an
    // explicit empty text clears its language.
    let content = clean(body.content);
    let written = |explicit: Option<String>, from_content: bool, kept: &Option<String>| match explicit {
        Some(t) => clean(Some(t)),
        None if from_content && content.is_some() => content.clone(),
        None => kept.clone(),
    };
    let zh = written(body.content_zh, !indonesian, &before.content_zh);
    let id_text = written(body.content_id, indonesian, &before.content_id);
    let mut v = Validator::new();
    v.one_of("comment_type", kind.as_deref(), COMMENT_TYPES)
        .check(
            !(body.is_pinned == Some(true) && before.replied_to_comment_id.is_some()),
            "is_pinned",
            "a reply is never pinned",
        )
        .check(zh.is_some() || id_text.is_some(), "content", "a comment cannot be left without content");
    check_texts(&mut v, zh.as_deref(), id_text.as_deref());
    v.finish()?;
    let mut a = before.clone().into_active_model();
    if let Some(k) = kind {
        a.comment_type = Set(k);
    }
    a.content_zh = Set(zh);
    a.content_id = Set(id_text);
    if let Some(i) = body.is_internal {
        a.is_internal = Set(i);
    }
    if let Some(p) = body.is_pinned {
        a.is_pinned = Set(p);
    }
    a.updated_at = Set(Utc::now());
    let after = a.update(&state.db).await?;
    Ok((before, after))
}

/// Pins or unpins a comment (not a reply).
pub async fn pin(
    state: &AppState,
    viewer: &Viewer,
    order: Uuid,
    id: Uuid,
    pinned: bool,
) -> ApiResult<(comment::Model, comment::Model)> {
    let body = UpdateComment { is_pinned: Some(pinned), ..UpdateComment::default() };
    update(state, viewer, Some(order), id, body, false).await
}

/// Deletes a comment; its replies stay, no longer pointing at it.
pub async fn delete(state: &AppState, viewer: &Viewer, order: Option<Uuid>, id: Uuid) -> ApiResult<comment::Model> {
    let (_, before) = find(state, viewer, order, id).await?;
    check_author(viewer, &before, "delete")?;
    comment::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(before)
}

/// What a list may be narrowed to.
#[derive(Debug, Default, Clone, Copy)]
pub struct Filter {
    pub order_stage_id: Option<Uuid>,
    pub is_internal: Option<bool>,
}

/// A page of an order's comments: pinned first, then newest.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    filter: Filter,
    (page, size): (u64, u64),
) -> ApiResult<(Vec<comment::Model>, u64)> {
    find_visible(&state.db, viewer, order_id).await?;
    let mut query = comment::Entity::find().filter(comment::Column::OrderId.eq(order_id));
    if let Some(s) = filter.order_stage_id {
        query = query.filter(comment::Column::OrderStageId.eq(s));
    }
    if let Some(i) = filter.is_internal {
        query = query.filter(comment::Column::IsInternal.eq(i));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(comment::Column::IsPinned)
        .order_by_desc(comment::Column::CreatedAt)
        .order_by_desc(comment::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok((rows, total))
}

/// The answer for `rows`, with the authors' names from one lookup for the whole page.
pub async fn views(
    state: &AppState,
    forward: &Forward,
    rows: Vec<comment::Model>,
    indonesian: bool,
) -> ApiResult<Vec<CommentView>> {
    let people: HashSet<Uuid> = rows.iter().filter_map(|c| c.created_by).collect();
    let users = if people.is_empty() { Default::default() } else { state.users.get(people, forward).await? };
    Ok(rows
        .into_iter()
        .map(|c| CommentView {
            content: pick(indonesian, &c.content_zh, &c.content_id),
            created_by_name: text_of(&users, c.created_by, "name"),
            id: c.id,
            order_id: c.order_id,
            order_stage_id: c.order_stage_id,
            comment_type: c.comment_type,
            content_zh: c.content_zh,
            content_id: c.content_id,
            is_internal: c.is_internal,
            is_pinned: c.is_pinned,
            replied_to_comment_id: c.replied_to_comment_id,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
        .collect())
}

pub async fn view(state: &AppState, forward: &Forward, c: comment::Model, indonesian: bool) -> ApiResult<CommentView> {
    views(state, forward, vec![c], indonesian).await?.pop().ok_or_else(|| ApiError::internal("empty comment view"))
}
