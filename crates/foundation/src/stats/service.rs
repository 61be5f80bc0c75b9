//! The counts, grouped in SQL: a handful of rows come back whatever the number of users.

use crate::organizations::dto::TYPES;
use crate::organizations::model::organization;
use crate::users::model::user;
use crate::users::service::members_of;
use chrono::{DateTime, Duration, Utc};
use crm_common::ApiResult;
use crm_common::stats::{OrganizationsSummary, UsersActivity};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// Active: logged in within this many days (spec §3).
pub const ACTIVE_DAYS: i64 = 30;
/// Recent login: within this many days.
pub const RECENT_DAYS: i64 = 7;

fn count_of(c: impl sea_orm::sea_query::IntoColumnRef) -> Expr {
    Expr::from(Func::count(Expr::col(c)))
}

async fn count_users(db: &impl ConnectionTrait, scope: &Condition, extra: Condition) -> ApiResult<u64> {
    let n: Option<i64> = user::Entity::find()
        .select_only()
        .column_as(count_of(user::Column::Id), "n")
        .filter(scope.clone())
        .filter(extra)
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0).max(0) as u64)
}

pub async fn users_activity(
    db: &impl ConnectionTrait,
    org: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<UsersActivity> {
    let mut scope = Condition::all().add(user::Column::DeletedAt.is_null());
    if let Some(org) = org {
        scope = scope.add(user::Column::Id.in_subquery(members_of(org)));
    }
    let total_users = count_users(db, &scope, Condition::all()).await?;
    let active_users =
        count_users(db, &scope, Condition::all().add(user::Column::LastLoginAt.gte(now - Duration::days(ACTIVE_DAYS))))
            .await?;
    let recent_login_count =
        count_users(db, &scope, Condition::all().add(user::Column::LastLoginAt.gte(now - Duration::days(RECENT_DAYS))))
            .await?;
    Ok(UsersActivity {
        total_users,
        active_users,
        inactive_users: total_users.saturating_sub(active_users),
        recent_login_count,
    })
}

pub async fn organizations_summary(db: &impl ConnectionTrait, org: Option<Uuid>) -> ApiResult<OrganizationsSummary> {
    let mut q = organization::Entity::find()
        .select_only()
        .column(organization::Column::OrganizationType)
        .column(organization::Column::IsActive)
        .column(organization::Column::IsLocked)
        .column_as(count_of(organization::Column::Id), "n")
        .group_by(organization::Column::OrganizationType)
        .group_by(organization::Column::IsActive)
        .group_by(organization::Column::IsLocked);
    if let Some(org) = org {
        q = q.filter(organization::Column::Id.eq(org));
    }
    let rows: Vec<(String, bool, bool, i64)> = q.into_tuple().all(db).await?;
    let mut out = OrganizationsSummary {
        by_type: TYPES.iter().map(|t| ((*t).to_owned(), 0)).collect(),
        ..OrganizationsSummary::default()
    };
    for (kind, active, locked, n) in rows {
        let n = n.max(0) as u64;
        out.total += n;
        *out.by_type.entry(kind).or_default() += n;
        if active && !locked {
            out.active_count += n;
        }
    }
    Ok(out)
}
