//! Pushing only what was committed. [`notifications::service::notify`] runs inside its cause's
//! transaction, which may still roll back, and cannot see the commit; so it only stages the new
//! row here. Every request (and every run of a background job) runs in a scope; when it ends —
//! after any transaction in it has committed or been dropped — the rows staged in it that exist
//! in the database are pushed, and the rest (rolled back) are forgotten. A notification written
//! outside any scope is still stored and listed, just not pushed.
//!
//! [`notifications::service::notify`]: crate::notifications::service::notify

use super::Live;
use crate::AppState;
use crate::notifications::model as notification;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use std::future::Future;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use super::push::Push;

type Staged = Arc<Mutex<Vec<Push>>>;

tokio::task_local! {
    static STAGED: Staged;
}

/// Remembers a just-written notification for the end of the current scope (none: nothing).
pub fn stage(n: &notification::Model) {
    let _ = STAGED.try_with(|s| {
        if let Ok(mut s) = s.lock() {
            s.push(Push::from(n));
        }
    });
}

/// Runs `work` in a scope and then pushes what it staged and committed.
pub async fn scope<T>(live: &Live, db: &DatabaseConnection, work: impl Future<Output = T>) -> T {
    let staged = Staged::default();
    let out = STAGED.scope(staged.clone(), work).await;
    let pushes = std::mem::take(&mut *staged.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    if !pushes.is_empty() {
        // Off the request's path: the answer does not wait for Redis.
        let (live, db) = (live.clone(), db.clone());
        tokio::spawn(async move { publish_committed(&live, &db, pushes).await });
    }
    out
}

/// The middleware form of [`scope`], around every route.
/// Tasks the request gave to a role are announced to the role's members after it, with the
/// caller's token (see [`crate::notifications::roles`]).
pub async fn after_commit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let forward = crm_common::http::peer::Forward::from_headers(req.headers());
    let work = crate::notifications::roles::scope(&state, forward, next.run(req));
    scope(&state.live, &state.db, work).await
}

async fn publish_committed(live: &Live, db: &DatabaseConnection, pushes: Vec<Push>) {
    let ids: Vec<Uuid> = pushes.iter().map(|p| p.id).collect();
    let committed: Vec<Uuid> = match notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await
    {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(error = %err, "notifications not pushed: their commit could not be checked");
            return;
        }
    };
    for p in pushes.into_iter().filter(|p| committed.contains(&p.id)) {
        live.publish(&p).await;
    }
}
