//! What changed since a cursor: the organization's synced records and tombstones with a change
//! number above it, merged in number order, only what the caller may see, masked as the API
//! masks it.

use super::dto::{Change, ChangesPage, Entity, Op};
use super::model::tombstone;
use super::service::current_seq;
use crate::AppState;
use crate::contacts::model as contact;
use crate::customers::model::{customer, follow_up};
use crate::customers::service::{self as customers, Viewer};
use crm_common::ApiResult;
use crm_common::http::peer::Forward;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use std::collections::HashMap;
use uuid::Uuid;

/// One row of the merge, before it is shown.
enum Row {
    /// Boxed: a customer row is several times the size of the others.
    Customer(Box<customer::Model>),
    FollowUp(follow_up::Model),
    Contact(Box<contact::Model>),
    Gone(tombstone::Model),
}

impl Row {
    fn seq(&self) -> i64 {
        match self {
            Self::Customer(c) => c.sync_seq,
            Self::FollowUp(f) => f.sync_seq,
            Self::Contact(c) => c.sync_seq,
            Self::Gone(t) => t.sync_seq,
        }
    }
}

/// Up to `limit` changes after `since`.
///
/// Every table is read with `sync_seq` between `since` and the organization's last committed
/// change number, read first: the statements see different moments, but all of them see every
/// change up to that number (changes commit in number order) and none of them shows a later one,
/// so no change can be skipped between two of them. Each table gives at most `limit + 1` rows in
/// number order, which is enough for the first `limit` of the merge and to tell whether there
/// are more.
pub async fn changes(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    since: i64,
    limit: u64,
) -> ApiResult<ChangesPage> {
    let db = &state.db;
    let org = viewer.organization_id;
    let high = current_seq(db, org).await?;
    if high <= since {
        return Ok(ChangesPage { changes: Vec::new(), cursor: since, has_more: false });
    }
    let visible_customers = || {
        let mut q = customer::Entity::find().filter(customer::Column::OrganizationId.eq(org));
        if !viewer.is_admin {
            q = q.filter(customers::owned_by(viewer.user_id));
        }
        q
    };
    let customers = visible_customers()
        .filter(customer::Column::SyncSeq.gt(since))
        .filter(customer::Column::SyncSeq.lte(high))
        .order_by_asc(customer::Column::SyncSeq)
        .limit(limit + 1)
        .all(db)
        .await?;
    let mut follow_ups = follow_up::Entity::find()
        .filter(follow_up::Column::OrganizationId.eq(org))
        .filter(follow_up::Column::SyncSeq.gt(since))
        .filter(follow_up::Column::SyncSeq.lte(high));
    if !viewer.is_admin {
        let ids = visible_customers().select_only().column(customer::Column::Id).into_query();
        follow_ups = follow_ups.filter(follow_up::Column::CustomerId.in_subquery(ids));
    }
    let follow_ups = follow_ups.order_by_asc(follow_up::Column::SyncSeq).limit(limit + 1).all(db).await?;
    // A contact is visible with its customer, like a follow-up.
    let mut contacts = contact::Entity::find()
        .filter(contact::Column::OrganizationId.eq(org))
        .filter(contact::Column::SyncSeq.gt(since))
        .filter(contact::Column::SyncSeq.lte(high));
    if !viewer.is_admin {
        let ids = visible_customers().select_only().column(customer::Column::Id).into_query();
        contacts = contacts.filter(contact::Column::CustomerId.in_subquery(ids));
    }
    let contacts = contacts.order_by_asc(contact::Column::SyncSeq).limit(limit + 1).all(db).await?;
    // Tombstones carry no owner: every deletion of the organization is listed, and a client
    // drops the id if it holds it.
    let gone = tombstone::Entity::find()
        .filter(tombstone::Column::OrganizationId.eq(org))
        .filter(tombstone::Column::SyncSeq.gt(since))
        .filter(tombstone::Column::SyncSeq.lte(high))
        .order_by_asc(tombstone::Column::SyncSeq)
        .limit(limit + 1)
        .all(db)
        .await?;
    let mut rows: Vec<Row> = customers
        .into_iter()
        .map(|c| Row::Customer(Box::new(c)))
        .chain(follow_ups.into_iter().map(Row::FollowUp))
        .chain(contacts.into_iter().map(|c| Row::Contact(Box::new(c))))
        .chain(gone.into_iter().map(Row::Gone))
        .collect();
    rows.sort_by_key(Row::seq);
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let cursor = rows.last().map_or(since, Row::seq);

    let (mut shown_customers, mut shown_follow_ups, mut shown_contacts) = (Vec::new(), Vec::new(), Vec::new());
    for row in &rows {
        match row {
            Row::Customer(c) => shown_customers.push(c.as_ref().clone()),
            Row::FollowUp(f) => shown_follow_ups.push(f.clone()),
            Row::Contact(c) => shown_contacts.push(c.as_ref().clone()),
            Row::Gone(_) => {}
        }
    }
    let mut customer_data: HashMap<Uuid, serde_json::Value> = HashMap::new();
    for item in customers::items(state, forward, viewer, shown_customers).await? {
        customer_data.insert(item.id, serde_json::to_value(&item)?);
    }
    let mut follow_up_data: HashMap<Uuid, serde_json::Value> = HashMap::new();
    for item in customers::follow_up_items(state, forward, shown_follow_ups).await? {
        follow_up_data.insert(item.id, serde_json::to_value(&item)?);
    }
    let mut contact_data: HashMap<Uuid, serde_json::Value> = HashMap::new();
    for item in crate::contacts::service::items(db, viewer, shown_contacts).await? {
        contact_data.insert(item.id, serde_json::to_value(&item)?);
    }
    let changes = rows
        .into_iter()
        .filter_map(|row| match row {
            Row::Customer(c) => Some(Change {
                entity: Entity::Customer,
                id: c.id,
                op: Op::Upsert,
                sync_seq: c.sync_seq,
                version: Some(c.version),
                data: customer_data.remove(&c.id),
            }),
            Row::FollowUp(f) => Some(Change {
                entity: Entity::FollowUp,
                id: f.id,
                op: Op::Upsert,
                sync_seq: f.sync_seq,
                version: Some(f.version),
                data: follow_up_data.remove(&f.id),
            }),
            Row::Contact(c) => Some(Change {
                entity: Entity::Contact,
                id: c.id,
                op: Op::Upsert,
                sync_seq: c.sync_seq,
                version: Some(c.version),
                data: contact_data.remove(&c.id),
            }),
            // A kind this version does not know is skipped; the cursor still moves past it.
            Row::Gone(t) => Entity::parse(&t.entity).map(|entity| Change {
                entity,
                id: t.entity_id,
                op: Op::Delete,
                sync_seq: t.sync_seq,
                version: None,
                data: None,
            }),
        })
        .collect();
    Ok(ChangesPage { changes, cursor, has_more })
}
