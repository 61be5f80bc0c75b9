//! The lead rules that touch the database: who sees and changes which lead, how answers are
//! assembled (names by batched lookups, contact fields masked) and the writes, each conditional
//! on the version it read so that two people claiming one pool lead cannot both win.

use super::dto::{CreateLead, LeadItem, UpdateLead};
use super::model::lead;
use super::rules;
use crate::AppState;
use crate::perm::CUSTOMER_PII;
use chrono::{DateTime, Utc};
use crm_common::api::patch::{clean, set_text};
use crm_common::api::validate::Validator;
use crm_common::auth::Principal;
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult, pii};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What the caller may see and change of leads.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    /// Sees and changes every lead of the organization (ADMIN); everyone else sees their own
    /// leads and the public pool, and changes only their own.
    pub is_admin: bool,
    /// Holds `customer.pii`: sees phone and e-mail unmasked on every lead it sees.
    pub sees_pii: bool,
}

impl Viewer {
    pub fn of(p: &Principal) -> Self {
        Self {
            user_id: p.user_id,
            organization_id: p.organization_id,
            is_admin: p.is_platform_admin || p.has_role("ADMIN"),
            sees_pii: p.has(CUSTOMER_PII),
        }
    }

    /// The organization's, and for non-administrators only their own or the pool's.
    pub fn can_see(&self, l: &lead::Model) -> bool {
        l.organization_id == self.organization_id
            && (self.is_admin || l.owner_user_id == Some(self.user_id) || l.is_in_public_pool)
    }

    /// Changes (update, follow-ups, notes, move to the pool): administrators and the owner.
    pub fn can_change(&self, l: &lead::Model) -> bool {
        self.is_admin || l.owner_user_id == Some(self.user_id)
    }

    pub fn sees_pii_of(&self, l: &lead::Model) -> bool {
        self.sees_pii || l.owner_user_id == Some(self.user_id)
    }

    /// The list's visibility as a condition (the organization's leads, narrowed for non-admins).
    pub fn condition(&self) -> Condition {
        let mut cond = Condition::all().add(lead::Column::OrganizationId.eq(self.organization_id));
        if !self.is_admin {
            cond = cond.add(
                Condition::any()
                    .add(lead::Column::OwnerUserId.eq(self.user_id))
                    .add(lead::Column::IsInPublicPool.eq(true)),
            );
        }
        cond
    }
}

/// A lead the caller may see; anything else (another organization's, another seller's) is a 404,
/// as if it did not exist.
pub async fn find_visible(state: &AppState, viewer: &Viewer, id: Uuid) -> ApiResult<lead::Model> {
    lead::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|l| viewer.can_see(l))
        .ok_or_else(|| ApiError::not_found("lead"))
}

/// A lead the caller may change: visible (404) and theirs or the caller an administrator (403).
pub async fn find_changeable(state: &AppState, viewer: &Viewer, id: Uuid) -> ApiResult<lead::Model> {
    let l = find_visible(state, viewer, id).await?;
    if viewer.can_change(&l) {
        Ok(l)
    } else {
        Err(ApiError::forbidden("only the lead's owner or an administrator may change it"))
    }
}

/// `owner` may own leads of the caller's organization: a non-administrator may name only
/// themselves (403); an administrator anyone foundation shows them (400 otherwise) — members of
/// their organization, or anyone for a BANTU platform administrator.
pub async fn check_owner(state: &AppState, forward: &Forward, viewer: &Viewer, owner: Uuid) -> ApiResult<()> {
    if owner == viewer.user_id {
        return Ok(());
    }
    if !viewer.is_admin {
        return Err(ApiError::forbidden("only administrators may give a lead to someone else"));
    }
    require_member(state, forward, owner).await
}

/// `owner` is someone foundation shows the caller: a member of their organization, or anyone for
/// a BANTU platform administrator (400 on `owner_user_id` otherwise).
pub async fn require_member(state: &AppState, forward: &Forward, owner: Uuid) -> ApiResult<()> {
    // Asked of foundation directly, not through the shared name cache: the cache is keyed by
    // user alone, so a name cached for another organization's caller would pass for membership.
    let path = format!("/api/foundation/lookup/users?ids={owner}");
    let found: Vec<serde_json::Value> = state.foundation.get(&path, forward).await?;
    if found.iter().any(|u| u.get("id").and_then(|v| v.as_str()) == Some(owner.to_string().as_str())) {
        Ok(())
    } else {
        Err(ApiError::field("owner_user_id", "not a user of this organization"))
    }
}

/// The answer for `rows`: owner names by one lookup and level names from one (cached) call for
/// the whole page; phone and e-mail masked per lead for this viewer.
pub async fn items(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    rows: Vec<lead::Model>,
) -> ApiResult<Vec<LeadItem>> {
    let owners: HashSet<Uuid> = rows.iter().filter_map(|l| l.owner_user_id).collect();
    let users = if owners.is_empty() { HashMap::new() } else { state.users.get(owners, forward).await? };
    let levels =
        if rows.iter().any(|l| l.level.is_some()) { state.levels.names(forward).await } else { Default::default() };
    Ok(rows
        .into_iter()
        .map(|l| {
            let hide = !viewer.sees_pii_of(&l);
            let lvl = l.level.as_ref().and_then(|c| levels.get(c));
            LeadItem {
                owner_username: text_of(&users, l.owner_user_id, "username"),
                level_name_zh: lvl.map(|x| x.name_zh.clone()),
                level_name_id: lvl.map(|x| x.name_id.clone()),
                phone: pii::masked(l.phone, hide, pii::phone),
                email: pii::masked(l.email, hide, pii::email),
                pii_masked: hide,
                id: l.id,
                organization_id: l.organization_id,
                name: l.name,
                company_name: l.company_name,
                contact_name: l.contact_name,
                address: l.address,
                customer_id: l.customer_id,
                owner_user_id: l.owner_user_id,
                status: l.status,
                level: l.level,
                source: l.source,
                is_in_public_pool: l.is_in_public_pool,
                pool_id: l.pool_id,
                moved_to_pool_at: l.moved_to_pool_at,
                last_follow_up_at: l.last_follow_up_at,
                next_follow_up_at: l.next_follow_up_at,
                created_by: l.created_by,
                updated_by: l.updated_by,
                created_at: l.created_at,
                updated_at: l.updated_at,
                version: l.version,
            }
        })
        .collect())
}

pub async fn one(state: &AppState, forward: &Forward, viewer: &Viewer, l: lead::Model) -> ApiResult<LeadItem> {
    items(state, forward, viewer, vec![l]).await?.pop().ok_or_else(|| ApiError::internal("empty lead view"))
}

/// The answer to a stale `version`: 409 carrying the lead as it now is.
pub async fn stale(state: &AppState, forward: &Forward, viewer: &Viewer, current: lead::Model) -> ApiError {
    let current = one(state, forward, viewer, current).await.ok();
    ApiError::Conflict {
        message: "the lead was changed by someone else; here is its current version".into(),
        current: current.and_then(|c| serde_json::to_value(c).ok()),
    }
}

/// Writes `a` (a change of `before`) only if the stored lead still has `before`'s version; bumps
/// the version and stamps who and when.
pub async fn save(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    before: &lead::Model,
    mut a: lead::ActiveModel,
    db: &impl sea_orm::ConnectionTrait,
) -> ApiResult<lead::Model> {
    a.updated_by = Set(Some(viewer.user_id));
    a.updated_at = Set(Utc::now());
    a.version = Set(before.version + 1);
    let result = match lead::Entity::update(a).validate() {
        Ok(update) => update.filter(lead::Column::Version.eq(before.version)).exec(db).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(after) => Ok(after),
        Err(sea_orm::DbErr::RecordNotUpdated) => {
            let current = lead::Entity::find_by_id(before.id).one(&state.db).await?;
            match current.filter(|l| viewer.can_see(l)) {
                Some(c) => Err(stale(state, forward, viewer, c).await),
                None => Err(ApiError::not_found("lead")),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// A sent contact value unless it only echoes the mask the caller was shown.
fn unless_echo<'a>(sent: Option<&'a str>, stored: Option<&str>, mask: fn(&str) -> String) -> Option<&'a str> {
    sent.filter(|s| !pii::echoes_mask(s.trim(), stored, mask))
}

fn validate_contact(v: &mut Validator, phone: Option<&str>, email: Option<&str>) {
    v.optional_length("phone", phone.map(str::trim), 50);
    if let Some(e) = email.map(str::trim).filter(|e| !e.is_empty()) {
        v.email("email", e);
    }
}

/// A new lead of the caller's organization, owned by the caller unless an administrator names
/// someone else or it goes straight into the public pool.
pub async fn create(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    body: CreateLead,
) -> ApiResult<lead::Model> {
    let viewer = Viewer::of(caller);
    if body.customer_id.is_some() {
        return Err(ApiError::field("customer_id", "a lead gets its customer only by conversion"));
    }
    let status = body.status.clone().unwrap_or_else(|| "new".into());
    let mut v = Validator::new();
    v.length("name", body.name.trim(), 1, 255)
        .optional_length("company_name", body.company_name.as_deref().map(str::trim), 255)
        .optional_length("contact_name", body.contact_name.as_deref().map(str::trim), 255)
        .one_of("status", Some(&status), rules::STATUSES)
        .check(status != "converted", "status", "a lead becomes converted only by conversion");
    validate_contact(&mut v, body.phone.as_deref(), body.email.as_deref());
    v.finish()?;
    let owner = if body.is_in_public_pool { None } else { Some(body.owner_user_id.unwrap_or(viewer.user_id)) };
    if let Some(o) = owner {
        check_owner(state, forward, &viewer, o).await?;
    }
    let level = clean(body.level);
    if let Some(code) = &level {
        state.levels.check(forward, code).await?;
    }
    let now = Utc::now();
    Ok(lead::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(viewer.organization_id),
        name: Set(body.name.trim().to_owned()),
        company_name: Set(clean(body.company_name)),
        contact_name: Set(clean(body.contact_name)),
        phone: Set(clean(body.phone)),
        email: Set(clean(body.email)),
        address: Set(clean(body.address)),
        customer_id: Set(None),
        owner_user_id: Set(owner),
        status: Set(status),
        level: Set(level),
        source: Set(clean(body.source)),
        is_in_public_pool: Set(body.is_in_public_pool),
        pool_id: Set(None),
        moved_to_pool_at: Set(body.is_in_public_pool.then_some(now)),
        last_follow_up_at: Set(None),
        next_follow_up_at: Set(body.next_follow_up_at),
        created_by: Set(Some(viewer.user_id)),
        updated_by: Set(Some(viewer.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&state.db)
    .await?)
}

/// A contact field of an update: a masked value the caller was shown and sends back leaves the
/// stored one alone; anything else replaces it (blank clears it).
fn contact_field(
    field: &mut sea_orm::ActiveValue<Option<String>>,
    sent: Option<String>,
    stored: Option<&str>,
    mask: fn(&str) -> String,
) {
    if let Some(v) = sent
        && !pii::echoes_mask(v.trim(), stored, mask)
    {
        set_text(field, Some(v));
    }
}

/// Applies `body` to a lead the caller may change. A status change follows the status machine;
/// an owner change follows the assignment rules (a `null` owner is ignored: only moving to the
/// pool clears it). With `expected` the write happens only if nobody changed the lead since.
pub async fn update(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    body: UpdateLead,
    expected: Option<i32>,
) -> ApiResult<(lead::Model, lead::Model)> {
    let viewer = Viewer::of(caller);
    let before = find_changeable(state, &viewer, id).await?;
    if let Some(v) = expected
        && v != before.version
    {
        return Err(stale(state, forward, &viewer, before).await);
    }
    if body.customer_id.is_some_and(|c| Some(c) != before.customer_id) {
        return Err(ApiError::field("customer_id", "a lead gets its customer only by conversion"));
    }
    let mut v = Validator::new();
    if let Some(n) = &body.name {
        v.length("name", n.trim(), 1, 255);
    }
    v.optional_length("company_name", body.company_name.as_deref().map(str::trim), 255).optional_length(
        "contact_name",
        body.contact_name.as_deref().map(str::trim),
        255,
    );
    validate_contact(
        &mut v,
        unless_echo(body.phone.as_deref(), before.phone.as_deref(), pii::phone),
        unless_echo(body.email.as_deref(), before.email.as_deref(), pii::email),
    );
    v.finish()?;
    if let Some(s) = &body.status {
        rules::check_move(&before.status, s)?;
    }
    if let Some(Some(owner)) = body.owner_user_id
        && before.owner_user_id != Some(owner)
    {
        check_owner(state, forward, &viewer, owner).await?;
    }
    if let Some(Some(code)) = &body.level
        && before.level.as_deref() != Some(code.trim())
        && !code.trim().is_empty()
    {
        state.levels.check(forward, code.trim()).await?;
    }
    let mut a = before.clone().into_active_model();
    if let Some(n) = body.name {
        a.name = Set(n.trim().to_owned());
    }
    set_text(&mut a.company_name, body.company_name);
    set_text(&mut a.contact_name, body.contact_name);
    set_text(&mut a.address, body.address);
    set_text(&mut a.source, body.source);
    contact_field(&mut a.phone, body.phone, before.phone.as_deref(), pii::phone);
    contact_field(&mut a.email, body.email, before.email.as_deref(), pii::email);
    if let Some(Some(owner)) = body.owner_user_id
        && before.owner_user_id != Some(owner)
    {
        a.owner_user_id = Set(Some(owner));
        a.is_in_public_pool = Set(false);
        a.moved_to_pool_at = Set(None);
        a.pool_id = Set(None);
    }
    if let Some(s) = body.status {
        a.status = Set(s);
    }
    if let Some(level) = body.level {
        a.level = Set(clean(level));
    }
    if let Some(n) = body.next_follow_up_at {
        a.next_follow_up_at = Set(n);
    }
    if let Some(l) = body.last_follow_up_at {
        a.last_follow_up_at = Set(l);
    }
    let after = save(state, forward, &viewer, &before, a, &state.db).await?;
    Ok((before, after))
}

/// Administrators delete any lead of their organization; others only leads they own or created
/// (the original's code; its API document said administrators only).
pub async fn delete(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<lead::Model> {
    let viewer = Viewer::of(caller);
    let before = find_visible(state, &viewer, id).await?;
    let mine = before.owner_user_id == Some(viewer.user_id) || before.created_by == Some(viewer.user_id);
    if !(viewer.is_admin || mine) {
        return Err(ApiError::forbidden("only the lead's owner, its creator or an administrator may delete it"));
    }
    lead::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(before)
}

/// Into the organization's public pool, without an owner (the owner or an administrator).
pub async fn move_to_pool(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    pool_id: Option<Uuid>,
) -> ApiResult<(lead::Model, lead::Model)> {
    let viewer = Viewer::of(caller);
    let before = find_changeable(state, &viewer, id).await?;
    if before.status == "converted" {
        return Err(ApiError::conflict("a converted lead cannot go back to the public pool"));
    }
    let mut a = before.clone().into_active_model();
    a.is_in_public_pool = Set(true);
    a.pool_id = Set(pool_id);
    a.moved_to_pool_at = Set(Some(Utc::now()));
    a.owner_user_id = Set(None);
    let after = save(state, forward, &viewer, &before, a, &state.db).await?;
    Ok((before, after))
}

/// Gives a lead an owner and takes it out of the pool. Administrators assign any lead to any
/// member; anyone else may only claim a pool lead for themselves (403 otherwise) — or claim
/// again what they already own, so that a retried claim succeeds.
pub async fn assign(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    owner: Uuid,
) -> ApiResult<(lead::Model, lead::Model)> {
    let viewer = Viewer::of(caller);
    let before = find_visible(state, &viewer, id).await?;
    let claim = owner == viewer.user_id && (before.is_in_public_pool || before.owner_user_id == Some(owner));
    if !viewer.is_admin && !claim {
        return Err(ApiError::forbidden(
            "only administrators assign leads; others may only claim a pool lead for themselves",
        ));
    }
    check_owner(state, forward, &viewer, owner).await?;
    let mut a = before.clone().into_active_model();
    a.owner_user_id = Set(Some(owner));
    a.is_in_public_pool = Set(false);
    a.pool_id = Set(None);
    a.moved_to_pool_at = Set(None);
    let after = save(state, forward, &viewer, &before, a, &state.db).await?;
    if before.owner_user_id != Some(owner) {
        crate::notifications::triggers::lead_assigned(
            &state.db,
            after.organization_id,
            after.id,
            &after.name,
            owner,
            viewer.user_id,
        )
        .await?;
    }
    Ok((before, after))
}

/// The list's keyset cursor: the last row's `(created_at, id)`, opaque to clients.
pub fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", created_at.timestamp_micros(), id.simple())
}

pub fn decode_cursor(cursor: &str) -> ApiResult<(DateTime<Utc>, Uuid)> {
    let bad = || ApiError::field("after", "not a cursor from this list");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = Utc::now();
        let id = Uuid::now_v7();
        let (back_at, back_id) = decode_cursor(&encode_cursor(at, id)).unwrap_or_else(|_| (Utc::now(), Uuid::nil()));
        assert_eq!((back_at.timestamp_micros(), back_id), (at.timestamp_micros(), id));
        assert!(decode_cursor("nope").is_err());
        assert!(decode_cursor("12_notauuid").is_err());
    }
}
