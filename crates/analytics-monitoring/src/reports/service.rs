//! Export jobs: started under the per-user limit, run in the background on the replica that took
//! the request, fetching the rows from their owners a page at a time with the requester's token.
//! A job is its requester's alone. One that has not finished within [`STALE_AFTER`] (its replica
//! stopped, or the token it runs with expired) is reported failed rather than running forever;
//! jobs are kept for [`KEPT_FOR`].

use super::model as job;
use super::rules::{self, Export, MAX_ROWS, PAGE_SIZE, ReportKind};
use super::xlsx::{self, Cell};
use crate::AppState;
use chrono::{DateTime, Duration, Utc};
use crm_common::auth::Principal;
use crm_common::http::peer::{Forward, PeerClient};
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

pub const RUNNING: &str = "running";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";
/// Longer than any export should take (and than the access token it runs with lives).
pub const STALE_AFTER: Duration = Duration::minutes(20);
/// How long a job and its file are kept.
pub const KEPT_FOR: Duration = Duration::days(7);

/// Scope of the advisory lock one user's export starts queue on.
const START_LOCK: u8 = 0xE5;

/// A new running job for the caller, unless the caller has used up the limit (429 with the
/// seconds until the next one may start). Old jobs are deleted first, so files do not pile up.
/// One user's starts take turns (count, then insert, in one serialized transaction), so
/// concurrent requests, on one replica or several, cannot together pass the limit.
pub async fn start(
    db: &DatabaseConnection,
    caller: &Principal,
    export: &Export,
    limit: crm_common::config::RateSpec,
) -> ApiResult<Uuid> {
    let txn = crm_common::db::begin_serialized(db, crm_common::db::lock_key(START_LOCK, caller.user_id)).await?;
    let db = &txn;
    let now = Utc::now();
    job::Entity::delete_many().filter(job::Column::CreatedAt.lt(now - KEPT_FOR)).exec(db).await?;
    let window = Duration::from_std(limit.window).unwrap_or(Duration::hours(1));
    let started: Vec<DateTime<Utc>> = job::Entity::find()
        .select_only()
        .column(job::Column::CreatedAt)
        .filter(job::Column::UserId.eq(caller.user_id))
        .filter(job::Column::CreatedAt.gt(now - window))
        .into_tuple()
        .all(db)
        .await?;
    if let Err(retry_after_secs) = rules::admit(limit, &started, now) {
        return Err(ApiError::TooManyRequests {
            message: format!("at most {} exports per {} s; try again later", limit.limit, limit.window.as_secs()),
            retry_after_secs,
        });
    }
    let id = Uuid::now_v7();
    job::Entity::insert(job::ActiveModel::from(job::Model {
        id,
        organization_id: caller.organization_id,
        user_id: caller.user_id,
        report_type: export.kind.name().into(),
        start_date: export.start,
        end_date: export.end,
        status: RUNNING.into(),
        progress: 0,
        row_count: None,
        file_name: None,
        content: None,
        error: None,
        created_at: now,
        finished_at: None,
    }))
    .exec_without_returning(db)
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// The caller's jobs, newest first, without their files.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Principal,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<job::Model>, u64)> {
    expire_stale(db, Some(caller.user_id)).await?;
    let query = job::Entity::find()
        .filter(job::Column::UserId.eq(caller.user_id))
        .filter(job::Column::OrganizationId.eq(caller.organization_id));
    let total = query.clone().count(db).await?;
    let rows = query
        .select_only()
        .columns([
            job::Column::Id,
            job::Column::OrganizationId,
            job::Column::UserId,
            job::Column::ReportType,
            job::Column::StartDate,
            job::Column::EndDate,
            job::Column::Status,
            job::Column::Progress,
            job::Column::RowCount,
            job::Column::FileName,
            job::Column::Error,
            job::Column::CreatedAt,
            job::Column::FinishedAt,
        ])
        .expr_as(Expr::value(Option::<Vec<u8>>::None), "content")
        .order_by_desc(job::Column::CreatedAt)
        .order_by_desc(job::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .into_model::<job::Model>()
        .all(db)
        .await?;
    Ok((rows, total))
}

/// The caller's job `id`; anyone else's is "not found".
pub async fn find_own(db: &impl ConnectionTrait, caller: &Principal, id: Uuid) -> ApiResult<job::Model> {
    expire_stale(db, Some(caller.user_id)).await?;
    job::Entity::find_by_id(id)
        .filter(job::Column::UserId.eq(caller.user_id))
        .filter(job::Column::OrganizationId.eq(caller.organization_id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("report job"))
}

/// Marks running jobs older than [`STALE_AFTER`] failed.
async fn expire_stale(db: &impl ConnectionTrait, user: Option<Uuid>) -> ApiResult<()> {
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(FAILED))
        .col_expr(job::Column::Error, Expr::value("the export was interrupted; start it again"))
        .col_expr(job::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(job::Column::Status.eq(RUNNING))
        .filter(job::Column::CreatedAt.lt(Utc::now() - STALE_AFTER));
    if let Some(user) = user {
        update = update.filter(job::Column::UserId.eq(user));
    }
    update.exec(db).await?;
    Ok(())
}

async fn progress(db: &impl ConnectionTrait, id: Uuid, progress: i32) -> ApiResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::Progress, Expr::value(progress))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(RUNNING))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends a running job (only a running one: a job reported stale stays failed).
async fn finish(db: &impl ConnectionTrait, id: Uuid, outcome: Result<(String, Vec<u8>, i64), String>) -> ApiResult<()> {
    let update = job::Entity::update_many()
        .col_expr(job::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(RUNNING));
    let update = match outcome {
        Ok((file_name, content, rows)) => update
            .col_expr(job::Column::Status, Expr::value(COMPLETED))
            .col_expr(job::Column::Progress, Expr::value(100))
            .col_expr(job::Column::FileName, Expr::value(file_name))
            .col_expr(job::Column::Content, Expr::value(content))
            .col_expr(job::Column::RowCount, Expr::value(rows)),
        Err(error) => {
            update.col_expr(job::Column::Status, Expr::value(FAILED)).col_expr(job::Column::Error, Expr::value(error))
        }
    };
    update.exec(db).await?;
    Ok(())
}

/// The job's body, spawned by the handler: fetch, build the workbook, store it. Every failure
/// ends the job as failed with a message the requester can act on.
pub async fn run(state: AppState, id: Uuid, export: Export, organization_id: Uuid, forward: Forward) {
    let outcome = match collect(&state, id, &export, organization_id, &forward).await {
        Ok(rows) => {
            let headers: Vec<&str> = export.kind.columns().iter().map(|(h, _)| *h).collect();
            let cells: Vec<Vec<Cell>> = rows
                .iter()
                .map(|row| export.kind.columns().iter().map(|(_, field)| Cell::from_json(&row[*field])).collect())
                .collect();
            match xlsx::workbook(export.kind.name(), &headers, &cells) {
                Ok(bytes) => Ok((export.file_name(), bytes, rows.len() as i64)),
                Err(err) => {
                    tracing::error!(job = %id, error = %err, "report workbook could not be written");
                    Err("the workbook could not be written".to_owned())
                }
            }
        }
        Err(err) => Err(err.to_string()),
    };
    if let Err(err) = finish(&state.db, id, outcome).await {
        tracing::error!(job = %id, error = %err, "report job could not be finished");
    }
}

/// Every row of the export, oldest pages last as the owners list them (newest first).
async fn collect(
    state: &AppState,
    id: Uuid,
    export: &Export,
    organization_id: Uuid,
    forward: &Forward,
) -> ApiResult<Vec<Value>> {
    let mut rows = Vec::new();
    let mut reported = 0;
    let (peer, path, list_field): (&PeerClient, &str, &str) = match export.kind {
        ReportKind::Orders => (&state.order_workflow, "/api/order-workflow/orders", "orders"),
        ReportKind::Leads => (&state.order_workflow, "/api/order-workflow/leads", "items"),
        ReportKind::Customers => (&state.service_management, "/api/service-management/customers", "items"),
    };
    let mut page = 1u64;
    let mut after: Option<String> = None;
    loop {
        // Orders filter by creation date at the owner; leads and customers are walked newest
        // first by keyset until the range is passed.
        let url = match export.kind {
            ReportKind::Orders => format!(
                "{path}?page={page}&size={PAGE_SIZE}&created_at_from={}&created_at_to={}",
                export.start, export.end
            ),
            _ => match &after {
                Some(cursor) => format!("{path}?size={PAGE_SIZE}&after={}", encode(cursor)),
                None => format!("{path}?size={PAGE_SIZE}"),
            },
        };
        let data: Value = peer.get(&url, forward).await?;
        let items = data[list_field].as_array().cloned().unwrap_or_default();
        let total = data["total"].as_u64().unwrap_or(0);
        let mut passed = false;
        let count = items.len() as u64;
        for item in items {
            // The owner scopes to the caller; a platform administrator may see other
            // organizations' records there, but a report is of the caller's organization only.
            if item["organization_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()) != Some(organization_id) {
                continue;
            }
            match created_at(&item) {
                Some(at) if export.covers(at) => rows.push(item),
                Some(at) if at.date_naive() < export.start => passed = true,
                _ => {}
            }
        }
        if rows.len() > MAX_ROWS {
            return Err(ApiError::bad_request(format!("more than {MAX_ROWS} rows match: narrow the date range")));
        }
        let seen = (page - 1) * PAGE_SIZE + count;
        let done = match export.kind {
            ReportKind::Orders => count < PAGE_SIZE || seen >= total,
            _ => {
                after = data["next_cursor"].as_str().map(str::to_owned);
                passed || after.is_none()
            }
        };
        if done {
            break;
        }
        page += 1;
        // Progress over what the owner reports in all; capped below 100 until the file is stored.
        let now = (seen.min(total) * 95).checked_div(total).unwrap_or(0) as i32;
        if now > reported {
            reported = now;
            progress(&state.db, id, now).await?;
        }
    }
    Ok(rows)
}

fn created_at(item: &Value) -> Option<DateTime<Utc>> {
    item["created_at"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
