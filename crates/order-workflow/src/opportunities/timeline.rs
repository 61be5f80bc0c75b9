//! An opportunity's follow-ups and notes: the admin frontend's timeline (its own paths; the
//! original had none). Plain arrays, newest first, with the author's name. Recording one answers
//! 200, since that frontend reads any other body `code` as a failure.

use super::dto::{CreateOpportunityFollowUp, CreateOpportunityNote, OpportunityFollowUpItem, OpportunityNoteItem};
use super::model::{follow_up, note};
use super::service::{self, Viewer};
use crate::AppState;
use crate::leads::{FOLLOW_UP_TYPES, NOTE_TYPES};
use crate::perm::{OpportunityUpdate, OpportunityView};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Forbidden, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::Authorized;
use crm_common::http::peer::{Forward, text_of};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// At most this many of each are answered: a timeline, not an archive.
const TIMELINE_LIMIT: u64 = 1000;

/// An opportunity's follow-ups
///
/// A plain array, newest first.
#[utoipa::path(get, path = "/api/order-workflow/opportunities/{id}/follow-ups", tag = "opportunities",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The follow-ups", body = Envelope<Vec<OpportunityFollowUpItem>>),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn follow_ups(
    State(state): State<AppState>,
    caller: Authorized<OpportunityView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    let rows = follow_up::Entity::find()
        .filter(follow_up::Column::OpportunityId.eq(id))
        .order_by_desc(follow_up::Column::FollowUpDate)
        .order_by_desc(follow_up::Column::CreatedAt)
        .order_by_desc(follow_up::Column::Id)
        .limit(TIMELINE_LIMIT)
        .all(&state.db)
        .await?;
    let users = state.users.get(rows.iter().filter_map(|f| f.created_by), &forward).await?;
    let items: Vec<OpportunityFollowUpItem> = rows
        .into_iter()
        .map(|f| OpportunityFollowUpItem {
            created_by_name: text_of(&users, f.created_by, "name"),
            id: f.id,
            opportunity_id: f.opportunity_id,
            follow_up_type: f.follow_up_type,
            content: f.content,
            follow_up_date: f.follow_up_date,
            created_by: f.created_by,
            created_at: f.created_at,
        })
        .collect();
    Ok(ok(items))
}

/// Record a follow-up
///
/// `follow_up_date` is a day (`YYYY-MM-DD`). Whoever sees the opportunity may record one.
#[utoipa::path(post, path = "/api/order-workflow/opportunities/{id}/follow-ups", tag = "opportunities",
    params(("id" = Uuid, Path)), request_body = CreateOpportunityFollowUp,
    responses((status = 200, description = "The follow-up", body = Envelope<OpportunityFollowUpItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn add_follow_up(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<CreateOpportunityFollowUp>,
) -> ApiResult<Response> {
    let o = service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    Validator::new().one_of("follow_up_type", Some(&body.follow_up_type), FOLLOW_UP_TYPES).finish()?;
    let saved = follow_up::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        opportunity_id: Set(id),
        follow_up_type: Set(body.follow_up_type),
        content: Set(clean(body.content)),
        follow_up_date: Set(body.follow_up_date),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(OpportunityFollowUpItem {
        id: saved.id,
        opportunity_id: saved.opportunity_id,
        follow_up_type: saved.follow_up_type,
        content: saved.content,
        follow_up_date: saved.follow_up_date,
        created_by: saved.created_by,
        created_by_name: Some(caller.username.clone()),
        created_at: saved.created_at,
    }))
}

/// An opportunity's notes
///
/// A plain array, newest first.
#[utoipa::path(get, path = "/api/order-workflow/opportunities/{id}/notes", tag = "opportunities", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The notes", body = Envelope<Vec<OpportunityNoteItem>>),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn notes(
    State(state): State<AppState>,
    caller: Authorized<OpportunityView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    let rows = note::Entity::find()
        .filter(note::Column::OpportunityId.eq(id))
        .order_by_desc(note::Column::CreatedAt)
        .order_by_desc(note::Column::Id)
        .limit(TIMELINE_LIMIT)
        .all(&state.db)
        .await?;
    let users = state.users.get(rows.iter().filter_map(|n| n.created_by), &forward).await?;
    let items: Vec<OpportunityNoteItem> = rows
        .into_iter()
        .map(|n| OpportunityNoteItem {
            created_by_name: text_of(&users, n.created_by, "name"),
            id: n.id,
            opportunity_id: n.opportunity_id,
            note_type: n.note_type,
            content: n.content,
            is_important: n.is_important,
            created_by: n.created_by,
            created_at: n.created_at,
        })
        .collect();
    Ok(ok(items))
}

/// Add a note
///
/// Whoever sees the opportunity may annotate it.
#[utoipa::path(post, path = "/api/order-workflow/opportunities/{id}/notes", tag = "opportunities", params(("id" = Uuid, Path)),
    request_body = CreateOpportunityNote,
    responses((status = 200, description = "The note", body = Envelope<OpportunityNoteItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn add_note(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<CreateOpportunityNote>,
) -> ApiResult<Response> {
    let o = service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    Validator::new()
        .one_of("note_type", Some(&body.note_type), NOTE_TYPES)
        .length("content", body.content.trim(), 1, 10_000)
        .finish()?;
    let saved = note::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        opportunity_id: Set(id),
        note_type: Set(body.note_type),
        content: Set(body.content.trim().to_owned()),
        is_important: Set(body.is_important),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(OpportunityNoteItem {
        id: saved.id,
        opportunity_id: saved.opportunity_id,
        note_type: saved.note_type,
        content: saved.content,
        is_important: saved.is_important,
        created_by: saved.created_by,
        created_by_name: Some(caller.username.clone()),
        created_at: saved.created_at,
    }))
}
