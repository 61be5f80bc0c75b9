//! The customer rules: who sees which customer, how codes are numbered, what a parent may be,
//! and how the answer is assembled (names by batched lookups, contact fields masked).

use super::dto::CustomerItem;
use super::model::{code_counter, customer};
use crate::AppState;
use crate::perm::CUSTOMER_PII;
use crate::reference::model::{channel, industry, level, source};
use chrono::{DateTime, Utc};
use crm_common::auth::Principal;
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult, pii};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Levels a customer hierarchy may have; also bounds the walk that looks for cycles.
pub const MAX_DEPTH: usize = 16;

/// What the caller may see of customers.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    /// Sees every customer of the organization: administrators, and the roles that serve
    /// customers rather than sell to them (operations, finance). Sellers (SALES, AGENT) see only
    /// their own.
    pub is_admin: bool,
    /// Holds `customer.pii`: sees contact fields unmasked on every record it sees.
    pub sees_pii: bool,
}

impl Viewer {
    pub fn of(p: &Principal) -> Self {
        Self {
            user_id: p.user_id,
            organization_id: p.organization_id,
            is_admin: p.is_platform_admin || p.has_role("ADMIN") || !(p.has_role("SALES") || p.has_role("AGENT")),
            sees_pii: p.has(CUSTOMER_PII),
        }
    }

    /// Whether this caller may see `c` at all (its organization, and for sellers only the
    /// customers they own, created or act for as agent).
    pub fn can_see(&self, c: &customer::Model) -> bool {
        c.organization_id == self.organization_id
            && (self.is_admin
                || c.owner_user_id == Some(self.user_id)
                || c.created_by == Some(self.user_id)
                || c.agent_user_id == Some(self.user_id))
    }

    /// Whether `c`'s contact fields are shown unmasked.
    pub fn sees_pii_of(&self, c: &customer::Model) -> bool {
        self.sees_pii || c.owner_user_id == Some(self.user_id)
    }
}

/// Whose customers a list shows, from `view_type` and an explicit `owner_user_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owners {
    /// The whole organization's.
    All,
    /// One user's (owned, created or acting as agent for).
    Of(Uuid),
}

/// The original's rules: `my` → the caller's; `global` or nothing → the organization's for an
/// administrator, the caller's for anyone else; an explicit owner is honoured for administrators
/// (others may only name themselves, where the original let anyone read anyone's).
pub fn owners(viewer: &Viewer, view_type: Option<&str>, owner: Option<Uuid>) -> ApiResult<Owners> {
    match view_type {
        None | Some("my") | Some("global") => {}
        Some(_) => return Err(ApiError::field("view_type", "must be my or global")),
    }
    if let Some(o) = owner {
        return if viewer.is_admin || o == viewer.user_id {
            Ok(Owners::Of(o))
        } else {
            Err(ApiError::forbidden("only administrators may list another user's customers"))
        };
    }
    Ok(match view_type {
        Some("my") => Owners::Of(viewer.user_id),
        _ if viewer.is_admin => Owners::All,
        _ => Owners::Of(viewer.user_id),
    })
}

/// The condition of [`Owners::Of`].
pub fn owned_by(user: Uuid) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(customer::Column::OwnerUserId.eq(user))
        .add(customer::Column::CreatedBy.eq(user))
        .add(customer::Column::AgentUserId.eq(user))
}

/// A customer the caller may see; anything else (another organization's, another seller's) is
/// a 404, as if it did not exist.
pub async fn find_visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> ApiResult<customer::Model> {
    customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| viewer.can_see(c))
        .ok_or_else(|| ApiError::not_found("customer"))
}

/// `I` for individuals, `O` for organizations.
pub fn code_prefix(customer_type: &str) -> &'static str {
    if customer_type == "organization" { "O" } else { "I" }
}

/// `I20261207001`: the prefix, the day and a sequence of at least three digits.
pub fn format_code(prefix: &str, day: &str, seq: i32) -> String {
    format!("{prefix}{day}{seq:03}")
}

/// The organization's next code for the day, inside the creating transaction: the counter row
/// is incremented in place, so concurrent creates get consecutive numbers and never the same.
pub async fn next_code(
    txn: &impl ConnectionTrait,
    org: Uuid,
    customer_type: &str,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let prefix = code_prefix(customer_type);
    let day = now.format("%Y%m%d").to_string();
    code_counter::Entity::insert(code_counter::ActiveModel {
        organization_id: Set(org),
        day: Set(day.clone()),
        prefix: Set(prefix.to_owned()),
        seq: Set(0),
    })
    .on_conflict_do_nothing_on([
        code_counter::Column::OrganizationId,
        code_counter::Column::Day,
        code_counter::Column::Prefix,
    ])
    .exec(txn)
    .await?;
    let rows = code_counter::Entity::update_many()
        .col_expr(code_counter::Column::Seq, Expr::col(code_counter::Column::Seq).add(1))
        .filter(code_counter::Column::OrganizationId.eq(org))
        .filter(code_counter::Column::Day.eq(&day))
        .filter(code_counter::Column::Prefix.eq(prefix))
        .exec_with_returning(txn)
        .await?;
    let seq = rows.first().map(|r| r.seq).ok_or_else(|| ApiError::internal("code counter missing after upsert"))?;
    Ok(format_code(prefix, &day, seq))
}

/// `parent` may become `customer`'s parent: it exists in the organization, is not the customer,
/// and the customer is not among its ancestors.
pub async fn check_parent(db: &impl ConnectionTrait, org: Uuid, customer: Option<Uuid>, parent: Uuid) -> ApiResult<()> {
    if Some(parent) == customer {
        return Err(ApiError::field("parent_customer_id", "a customer cannot be its own parent"));
    }
    let found = customer::Entity::find_by_id(parent)
        .one(db)
        .await?
        .filter(|p| p.organization_id == org)
        .ok_or_else(|| ApiError::field("parent_customer_id", "parent customer not found"))?;
    let Some(me) = customer else { return Ok(()) };
    let mut seen = HashSet::new();
    let mut next = found.parent_customer_id;
    while let Some(id) = next {
        if id == me {
            return Err(ApiError::field(
                "parent_customer_id",
                "the parent is under this customer: it would create a cycle",
            ));
        }
        if !seen.insert(id) || seen.len() > MAX_DEPTH {
            return Err(ApiError::field("parent_customer_id", "the customer hierarchy is too deep"));
        }
        next = customer::Entity::find_by_id(id).one(db).await?.and_then(|c| c.parent_customer_id);
    }
    Ok(())
}

/// A customer with orders cannot be deleted (the orders would lose their customer); the count
/// comes from order-workflow, which owns orders.
pub fn check_deletable(orders: u64) -> ApiResult<()> {
    if orders > 0 {
        Err(ApiError::conflict(format!("the customer has {orders} orders and cannot be deleted")))
    } else {
        Ok(())
    }
}

pub fn validate_refs(customer_type: &str, source_type: &str) -> ApiResult<()> {
    let mut v = crm_common::api::validate::Validator::new();
    v.one_of("customer_type", Some(customer_type), super::dto::CUSTOMER_TYPES)
        .one_of("customer_source_type", Some(source_type), super::dto::SOURCE_TYPES)
        .finish()
}

/// Reference ids and codes point at existing entries, and an agent is an agent organization.
pub async fn check_references(
    state: &AppState,
    forward: &Forward,
    source_id: Option<Uuid>,
    channel_id: Option<Uuid>,
    level_code: Option<&str>,
    industry_id: Option<Uuid>,
    agent_id: Option<Uuid>,
) -> ApiResult<()> {
    let db = &state.db;
    if let Some(id) = source_id
        && source::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(ApiError::field("source_id", "unknown customer source"));
    }
    if let Some(id) = channel_id
        && channel::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(ApiError::field("channel_id", "unknown customer channel"));
    }
    if let Some(code) = level_code
        && level::Entity::find().filter(level::Column::Code.eq(code)).one(db).await?.is_none()
    {
        return Err(ApiError::field("level", "unknown customer level code"));
    }
    if let Some(id) = industry_id
        && industry::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(ApiError::field("industry_id", "unknown industry"));
    }
    if let Some(id) = agent_id {
        let agent = crate::access::organization(state, forward, id).await?;
        if agent.is_none_or(|a| a.organization_type != "agent") {
            return Err(ApiError::field("agent_id", "must be an agent organization"));
        }
    }
    Ok(())
}

fn tags(json: &Option<serde_json::Value>) -> Vec<String> {
    json.as_ref()
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The answer for `rows`: every name by one query per table and one lookup per peer for the
/// whole page; contact fields masked per record for this viewer.
pub async fn items(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    rows: Vec<customer::Model>,
) -> ApiResult<Vec<CustomerItem>> {
    let db = &state.db;
    let parent_ids: HashSet<Uuid> = rows.iter().filter_map(|c| c.parent_customer_id).collect();
    let parents: HashMap<Uuid, String> = if parent_ids.is_empty() {
        HashMap::new()
    } else {
        customer::Entity::find()
            .filter(customer::Column::Id.is_in(parent_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect()
    };
    let sources: HashMap<Uuid, String> =
        source::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let channels: HashMap<Uuid, String> =
        channel::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let levels: HashMap<String, level::Model> =
        level::Entity::find().all(db).await?.into_iter().map(|l| (l.code.clone(), l)).collect();
    let industries: HashMap<Uuid, industry::Model> =
        industry::Entity::find().all(db).await?.into_iter().map(|i| (i.id, i)).collect();
    let user_ids: HashSet<Uuid> = rows.iter().filter_map(|c| c.owner_user_id).collect();
    let users = if user_ids.is_empty() { HashMap::new() } else { state.users.get(user_ids, forward).await? };
    let agent_ids: HashSet<Uuid> = rows.iter().filter_map(|c| c.agent_id).collect();
    let agents =
        if agent_ids.is_empty() { HashMap::new() } else { state.organizations.get(agent_ids, forward).await? };
    Ok(rows
        .into_iter()
        .map(|c| {
            let hide = !viewer.sees_pii_of(&c);
            let lvl = c.level.as_ref().and_then(|code| levels.get(code));
            let ind = c.industry_id.and_then(|id| industries.get(&id));
            CustomerItem {
                parent_customer_name: c.parent_customer_id.and_then(|p| parents.get(&p).cloned()),
                owner_user_name: text_of(&users, c.owner_user_id, "name"),
                agent_name: text_of(&agents, c.agent_id, "name"),
                source_name: c.source_id.and_then(|s| sources.get(&s).cloned()),
                channel_name: c.channel_id.and_then(|s| channels.get(&s).cloned()),
                level_name_zh: lvl.map(|l| l.name_zh.clone()),
                level_name_id: lvl.map(|l| l.name_id.clone()),
                industry_name_zh: ind.map(|i| i.name_zh.clone()),
                industry_name_id: ind.map(|i| i.name_id.clone()),
                tags: tags(&c.tags),
                phone: pii::masked(c.phone, hide, pii::phone),
                mobile: pii::masked(c.mobile, hide, pii::phone),
                email: pii::masked(c.email, hide, pii::email),
                wechat_id: pii::masked(c.wechat_id, hide, pii::handle),
                id_number: pii::masked(c.id_number, hide, pii::document),
                pii_masked: hide,
                id: c.id,
                organization_id: c.organization_id,
                name: c.name,
                code: c.code,
                customer_type: c.customer_type,
                customer_source_type: c.customer_source_type,
                parent_customer_id: c.parent_customer_id,
                owner_user_id: c.owner_user_id,
                agent_user_id: c.agent_user_id,
                agent_id: c.agent_id,
                source_id: c.source_id,
                channel_id: c.channel_id,
                level: c.level,
                industry_id: c.industry_id,
                description: c.description,
                is_locked: c.is_locked,
                customer_requirements: c.customer_requirements,
                id_external: c.id_external,
                last_follow_up_at: c.last_follow_up_at,
                next_follow_up_at: c.next_follow_up_at,
                created_by: c.created_by,
                created_at: c.created_at,
                updated_at: c.updated_at,
                version: c.version,
            }
        })
        .collect())
}

/// The API's follow-up shape, with the recorder's name.
pub async fn follow_up_items(
    state: &AppState,
    forward: &Forward,
    rows: Vec<super::model::follow_up::Model>,
) -> ApiResult<Vec<super::dto::FollowUpItem>> {
    let users = state.users.get(rows.iter().filter_map(|f| f.created_by), forward).await?;
    Ok(rows
        .into_iter()
        .map(|f| super::dto::FollowUpItem {
            created_by_name: crm_common::http::peer::text_of(&users, f.created_by, "name"),
            id: f.id,
            customer_id: f.customer_id,
            follow_up_type: f.follow_up_type,
            content: f.content,
            follow_up_date: f.follow_up_date,
            status_before: f.status_before,
            status_after: f.status_after,
            next_follow_up_at: f.next_follow_up_at,
            created_by: f.created_by,
            created_at: f.created_at,
            updated_at: f.updated_at,
            version: f.version,
        })
        .collect())
}

/// A contact field of an update: a masked value the caller was shown and sends back leaves the
/// stored one alone; anything else replaces it (blank clears it).
pub fn contact_field(
    field: &mut sea_orm::ActiveValue<Option<String>>,
    sent: Option<String>,
    stored: Option<&str>,
    mask: fn(&str) -> String,
) {
    if let Some(v) = sent
        && !pii::echoes_mask(v.trim(), stored, mask)
    {
        crm_common::api::patch::set_text(field, Some(v));
    }
}

/// The keyset cursor of the list: the last row's `(created_at, id)`, opaque to clients.
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

    fn viewer(admin: bool) -> Viewer {
        Viewer { user_id: Uuid::from_u128(7), organization_id: Uuid::from_u128(1), is_admin: admin, sees_pii: false }
    }

    #[test]
    fn list_visibility_follows_the_original_with_explicit_owners_for_administrators_only() {
        let me = Uuid::from_u128(7);
        let other = Uuid::from_u128(8);
        let (admin, seller) = (viewer(true), viewer(false));
        assert_eq!(owners(&admin, Some("global"), None).ok(), Some(Owners::All));
        assert_eq!(owners(&admin, None, None).ok(), Some(Owners::All));
        assert_eq!(owners(&admin, Some("my"), None).ok(), Some(Owners::Of(me)));
        assert_eq!(owners(&seller, Some("global"), None).ok(), Some(Owners::Of(me)));
        assert_eq!(owners(&seller, None, None).ok(), Some(Owners::Of(me)));
        assert_eq!(owners(&admin, None, Some(other)).ok(), Some(Owners::Of(other)));
        assert!(owners(&seller, None, Some(other)).is_err());
        assert_eq!(owners(&seller, None, Some(me)).ok(), Some(Owners::Of(me)));
        assert!(owners(&seller, Some("everyone"), None).is_err());
    }

    #[test]
    fn codes_and_cursors() {
        assert_eq!(format_code(code_prefix("individual"), "20261207", 1), "I20261207001");
        assert_eq!(format_code(code_prefix("organization"), "20261207", 1234), "O202612071234");
        let at = Utc::now();
        let id = Uuid::now_v7();
        let (back_at, back_id) = decode_cursor(&encode_cursor(at, id)).unwrap_or_else(|_| (Utc::now(), Uuid::nil()));
        assert_eq!((back_at.timestamp_micros(), back_id), (at.timestamp_micros(), id));
        assert!(decode_cursor("nope").is_err());
        assert!(decode_cursor("12_notauuid").is_err());
    }

    #[test]
    fn deleting_with_orders_is_refused() {
        assert!(check_deletable(0).is_ok());
        assert!(matches!(check_deletable(2), Err(ApiError::Conflict { .. })));
    }
}

/// Writes of customers and follow-ups, shared by the handlers and offline sync.
pub mod write {
    use super::super::dto::{CreateCustomer, CreateFollowUp, FOLLOW_UP_TYPES, UpdateCustomer};
    use super::super::model::{customer, follow_up};
    use super::*;
    use crate::sync::service::next_seq;
    use crm_common::api::patch::{clean, set_text};
    use crm_common::api::validate::Validator;
    use crm_common::db::begin_write;
    use sea_orm::{ActiveModelTrait, IntoActiveModel};

    fn tags_json(tags: &[String]) -> Option<serde_json::Value> {
        Some(serde_json::Value::Array(
            tags.iter()
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| serde_json::Value::from(t.to_owned()))
                .collect(),
        ))
    }

    /// A new customer of the caller's organization.
    pub async fn create(
        state: &AppState,
        forward: &Forward,
        caller: &Principal,
        body: CreateCustomer,
    ) -> ApiResult<customer::Model> {
        let org = caller.organization_id;
        let customer_type = body.customer_type.clone().unwrap_or_else(|| "individual".into());
        let source_type = body.customer_source_type.clone().unwrap_or_else(|| "own".into());
        let mut v = Validator::new();
        v.length("name", body.name.trim(), 1, 255)
            .optional_length("code", body.code.as_deref().map(str::trim), 100)
            .check(body.source_id.is_some(), "source_id", "is required");
        if let Some(e) = body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            v.email("email", e);
        }
        v.finish()?;
        validate_refs(&customer_type, &source_type)?;
        check_references(
            state,
            forward,
            body.source_id,
            body.channel_id,
            body.level.as_deref(),
            body.industry_id,
            body.agent_id,
        )
        .await?;
        if let Some(parent) = body.parent_customer_id {
            check_parent(&state.db, org, None, parent).await?;
        }
        let id = body.id.unwrap_or_else(Uuid::now_v7);
        if customer::Entity::find_by_id(id).one(&state.db).await?.is_some() {
            return Err(ApiError::conflict("a customer with this id already exists"));
        }
        let now = Utc::now();
        let txn = begin_write(&state.db).await?;
        let code = match clean(body.code) {
            Some(c) => c,
            None => next_code(&txn, org, &customer_type, now).await?,
        };
        if customer::Entity::find()
            .filter(customer::Column::OrganizationId.eq(org))
            .filter(customer::Column::Code.eq(&code))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(ApiError::conflict(format!("customer code {code} already exists")));
        }
        let seq = next_seq(&txn, org).await?;
        let saved = customer::ActiveModel {
            id: Set(id),
            organization_id: Set(org),
            name: Set(body.name.trim().to_owned()),
            code: Set(code),
            customer_type: Set(customer_type),
            customer_source_type: Set(source_type),
            parent_customer_id: Set(body.parent_customer_id),
            owner_user_id: Set(Some(body.owner_user_id.unwrap_or(caller.user_id))),
            agent_user_id: Set(body.agent_user_id),
            agent_id: Set(body.agent_id),
            source_id: Set(body.source_id),
            channel_id: Set(body.channel_id),
            level: Set(clean(body.level)),
            industry_id: Set(body.industry_id),
            description: Set(clean(body.description)),
            tags: Set(tags_json(&body.tags)),
            is_locked: Set(body.is_locked),
            customer_requirements: Set(clean(body.customer_requirements)),
            id_external: Set(clean(body.id_external)),
            phone: Set(clean(body.phone)),
            mobile: Set(clean(body.mobile)),
            email: Set(clean(body.email)),
            wechat_id: Set(clean(body.wechat_id)),
            id_number: Set(clean(body.id_number)),
            last_follow_up_at: Set(None),
            next_follow_up_at: Set(None),
            created_by: Set(Some(caller.user_id)),
            updated_by: Set(Some(caller.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            sync_seq: Set(seq),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// The answer to a stale `version`: 409 carrying the record as it now is.
    pub async fn stale(state: &AppState, forward: &Forward, viewer: &Viewer, current: customer::Model) -> ApiError {
        let current = items(state, forward, viewer, vec![current]).await.ok().and_then(|mut v| v.pop());
        ApiError::Conflict {
            message: "the customer was changed by someone else; here is its current version".into(),
            current: current.and_then(|c| serde_json::to_value(c).ok()),
        }
    }

    /// Applies `body` to a visible customer. With `expected` (the client's base version) the write
    /// happens only if nobody changed the record since: the check is part of the `UPDATE`.
    pub async fn update(
        state: &AppState,
        forward: &Forward,
        caller: &Principal,
        id: Uuid,
        body: UpdateCustomer,
        expected: Option<i32>,
    ) -> ApiResult<(customer::Model, customer::Model)> {
        let viewer = Viewer::of(caller);
        let before = find_visible(&state.db, &viewer, id).await?;
        if let Some(v) = expected
            && v != before.version
        {
            return Err(stale(state, forward, &viewer, before).await);
        }
        let mut v = Validator::new();
        if let Some(n) = &body.name {
            v.length("name", n.trim(), 1, 255);
        }
        if let Some(c) = &body.code {
            v.length("code", c.trim(), 1, 100);
        }
        v.finish()?;
        let customer_type = body.customer_type.clone().unwrap_or_else(|| before.customer_type.clone());
        let source_type = body.customer_source_type.clone().unwrap_or_else(|| before.customer_source_type.clone());
        validate_refs(&customer_type, &source_type)?;
        check_references(
            state,
            forward,
            body.source_id.flatten(),
            body.channel_id.flatten(),
            body.level.clone().flatten().as_deref(),
            body.industry_id.flatten(),
            body.agent_id.flatten().filter(|a| Some(*a) != before.agent_id),
        )
        .await?;
        if let Some(Some(parent)) = body.parent_customer_id
            && before.parent_customer_id != Some(parent)
        {
            check_parent(&state.db, before.organization_id, Some(id), parent).await?;
        }
        let mut a = before.clone().into_active_model();
        if let Some(n) = body.name {
            a.name = Set(n.trim().to_owned());
        }
        if let Some(c) = body.code.map(|c| c.trim().to_owned())
            && c != before.code
        {
            let taken = customer::Entity::find()
                .filter(customer::Column::OrganizationId.eq(before.organization_id))
                .filter(customer::Column::Code.eq(&c))
                .one(&state.db)
                .await?
                .is_some();
            if taken {
                return Err(ApiError::conflict(format!("customer code {c} already exists")));
            }
            a.code = Set(c);
        }
        a.customer_type = Set(customer_type);
        a.customer_source_type = Set(source_type);
        macro_rules! nullable {
            ($($field:ident),*) => {$(
                if let Some(value) = body.$field {
                    a.$field = Set(value);
                }
            )*};
        }
        nullable!(source_id, parent_customer_id, owner_user_id, agent_user_id, agent_id, channel_id, industry_id);
        if let Some(level) = body.level {
            a.level = Set(clean(level));
        }
        set_text(&mut a.description, body.description);
        set_text(&mut a.customer_requirements, body.customer_requirements);
        if let Some(t) = body.tags {
            a.tags = Set(tags_json(&t));
        }
        if let Some(l) = body.is_locked {
            a.is_locked = Set(l);
        }
        contact_field(&mut a.phone, body.phone, before.phone.as_deref(), pii::phone);
        contact_field(&mut a.mobile, body.mobile, before.mobile.as_deref(), pii::phone);
        contact_field(&mut a.email, body.email, before.email.as_deref(), pii::email);
        contact_field(&mut a.wechat_id, body.wechat_id, before.wechat_id.as_deref(), pii::handle);
        contact_field(&mut a.id_number, body.id_number, before.id_number.as_deref(), pii::document);
        a.updated_by = Set(Some(caller.user_id));
        a.updated_at = Set(Utc::now());
        a.version = Set(before.version + 1);
        let txn = begin_write(&state.db).await?;
        a.sync_seq = Set(next_seq(&txn, before.organization_id).await?);
        let result = match customer::Entity::update(a).validate() {
            Ok(update) => update.filter(customer::Column::Version.eq(before.version)).exec(&txn).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(after) => {
                txn.commit().await?;
                Ok((before, after))
            }
            Err(sea_orm::DbErr::RecordNotUpdated) => {
                txn.rollback().await?;
                let current = find_visible(&state.db, &viewer, id).await?;
                Err(stale(state, forward, &viewer, current).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a visible customer, its contacts, follow-ups, notes and service records (the
    /// database cascades), leaving a tombstone for offline clients.
    pub async fn delete(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<customer::Model> {
        let viewer = Viewer::of(caller);
        let before = find_visible(&state.db, &viewer, id).await?;
        // Orders live in order-workflow, which is not deployed yet: no customer has orders.
        check_deletable(0)?;
        let txn = begin_write(&state.db).await?;
        for contact in crate::contacts::model::Entity::find()
            .filter(crate::contacts::model::Column::CustomerId.eq(id))
            .all(&txn)
            .await?
        {
            crate::sync::service::tombstone(&txn, before.organization_id, "contact", contact.id).await?;
        }
        for f in follow_up::Entity::find().filter(follow_up::Column::CustomerId.eq(id)).all(&txn).await? {
            crate::sync::service::tombstone(&txn, before.organization_id, "follow_up", f.id).await?;
        }
        crate::sync::service::tombstone(&txn, before.organization_id, "customer", id).await?;
        customer::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(before)
    }

    /// A follow-up on a visible customer; moves the customer's last (and, when given, next)
    /// follow-up date in the same transaction.
    pub async fn add_follow_up(
        state: &AppState,
        caller: &Principal,
        customer_id: Uuid,
        body: CreateFollowUp,
    ) -> ApiResult<follow_up::Model> {
        let viewer = Viewer::of(caller);
        let c = find_visible(&state.db, &viewer, customer_id).await?;
        Validator::new().one_of("follow_up_type", Some(&body.follow_up_type), FOLLOW_UP_TYPES).finish()?;
        let id = body.id.unwrap_or_else(Uuid::now_v7);
        if follow_up::Entity::find_by_id(id).one(&state.db).await?.is_some() {
            return Err(ApiError::conflict("a follow-up with this id already exists"));
        }
        let now = Utc::now();
        let txn = begin_write(&state.db).await?;
        let seq = next_seq(&txn, c.organization_id).await?;
        let saved = follow_up::ActiveModel {
            id: Set(id),
            organization_id: Set(c.organization_id),
            customer_id: Set(customer_id),
            follow_up_type: Set(body.follow_up_type),
            content: Set(body.content),
            follow_up_date: Set(body.follow_up_date),
            status_before: Set(clean(body.status_before)),
            status_after: Set(clean(body.status_after)),
            next_follow_up_at: Set(body.next_follow_up_at),
            created_by: Set(Some(caller.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            sync_seq: Set(seq),
        }
        .insert(&txn)
        .await?;
        let mut a = c.clone().into_active_model();
        a.last_follow_up_at = Set(Some(body.follow_up_date));
        if body.next_follow_up_at.is_some() {
            a.next_follow_up_at = Set(body.next_follow_up_at);
        }
        a.updated_at = Set(now);
        a.version = Set(c.version + 1);
        a.sync_seq = Set(next_seq(&txn, c.organization_id).await?);
        a.update(&txn).await?;
        txn.commit().await?;
        Ok(saved)
    }
}
