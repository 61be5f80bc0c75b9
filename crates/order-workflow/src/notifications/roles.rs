//! Telling a role of a task. A workflow task given to a role and nobody in particular (the
//! review for ADMIN, the allocation for OPERATION) is for everyone holding that role, so each of
//! them is notified. Users and roles are foundation's: the engine, running inside its
//! transaction, cannot ask it, so it stages the task here; once the request is over (its
//! transaction committed or dropped) foundation is asked — with the caller's own token, so only
//! the caller's organization answers — for the role's active members, and each is notified and
//! pushed live. A failure there is logged: it never fails the operation that made the task.

use crate::AppState;
use crate::orders::model::order;
use crate::tasks::model as task;
use crm_common::ApiResult;
use crm_common::http::peer::Forward;
use sea_orm::EntityTrait;
use serde::Deserialize;
use std::future::Future;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

type Staged = Arc<Mutex<Vec<task::Model>>>;

tokio::task_local! {
    static STAGED: Staged;
}

/// Remembers a new task given to a role, for the end of the current request (outside one:
/// nothing — the task is still listed for the role).
pub fn stage(t: &task::Model) {
    let _ = STAGED.try_with(|s| {
        if let Ok(mut s) = s.lock() {
            s.push(t.clone());
        }
    });
}

/// Runs `work` (a request made by the caller `forward` carries) and then, off the request's
/// path, notifies the members of the roles its new tasks were given to.
pub async fn scope<T>(state: &AppState, forward: Forward, work: impl Future<Output = T>) -> T {
    let staged = Staged::default();
    let out = STAGED.scope(staged.clone(), work).await;
    let tasks = std::mem::take(&mut *staged.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    if !tasks.is_empty() {
        let state = state.clone();
        tokio::spawn(async move {
            let s = state.clone();
            crate::live::outbox::scope(&s.live, &s.db, announce_all(&state, &forward, tasks)).await;
        });
    }
    out
}

#[derive(Debug, Deserialize)]
struct Member {
    id: Uuid,
}

/// A role code as foundation spells them (letters, digits, `_`, `-`): safe in a query string.
fn is_role_code(role: &str) -> bool {
    !role.is_empty() && role.len() <= 50 && role.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The active members of `role` in the caller's organization, from foundation.
pub async fn members(state: &AppState, forward: &Forward, role: &str) -> ApiResult<Vec<Uuid>> {
    if !is_role_code(role) {
        return Ok(Vec::new());
    }
    let path = format!("/api/foundation/lookup/role-members?role={role}");
    let found: Vec<Member> = state.foundation.get(&path, forward).await?;
    Ok(found.into_iter().map(|m| m.id).collect())
}

async fn announce_all(state: &AppState, forward: &Forward, tasks: Vec<task::Model>) {
    for staged in tasks {
        // Committed, still open, and still nobody's in particular.
        let current = match task::Entity::find_by_id(staged.id).one(&state.db).await {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(err) => {
                tracing::warn!(error = %err, task_id = %staged.id, "role notification: task not read");
                continue;
            }
        };
        if current.assigned_to_user_id.is_some() || !matches!(current.status.as_str(), "pending" | "in_progress") {
            continue;
        }
        let Some(role) = current.assigned_to_role.clone() else { continue };
        let users = match members(state, forward, &role).await {
            Ok(users) => users,
            Err(err) => {
                tracing::warn!(error = %err, task_id = %current.id, role, "role notification: members not known");
                continue;
            }
        };
        let about = match (current.business_type.as_deref(), current.business_id) {
            (Some("order"), Some(id)) => order::Entity::find_by_id(id)
                .one(&state.db)
                .await
                .ok()
                .flatten()
                .filter(|o| o.organization_id == current.organization_id),
            _ => None,
        };
        for user in users {
            if let Err(err) = crate::workflows::engine::announce(&state.db, &current, about.as_ref(), user).await {
                tracing::warn!(error = %err, task_id = %current.id, "role notification not written");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_role_codes_reach_a_query_string() {
        assert!(is_role_code("OPERATION"));
        assert!(is_role_code("field-ops_2"));
        assert!(!is_role_code(""));
        assert!(!is_role_code("A&role=ADMIN"));
        assert!(!is_role_code("x y"));
    }
}
