//! The contact rules: a contact is seen through its customer, its contact fields are masked like
//! the customer's, and a customer has at most one primary contact.

use super::dto::ContactItem;
use super::model as contact;
use crate::customers::model::customer;
use crate::customers::service::{Viewer, find_visible as find_visible_customer};
use crm_common::{ApiError, ApiResult, pii};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// First and last name joined by a space, without stray spaces when one is missing.
pub fn full_name(first: Option<&str>, last: &str) -> String {
    format!("{} {}", first.unwrap_or_default().trim(), last.trim()).trim().to_owned()
}

/// A contact the caller may see, with its customer. A contact of a customer the caller cannot
/// see (another organization's, another seller's) is a 404, as if it did not exist.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<(contact::Model, customer::Model)> {
    let not_found = || ApiError::not_found("contact");
    let c = contact::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| c.organization_id == viewer.organization_id)
        .ok_or_else(not_found)?;
    let owner = find_visible_customer(db, viewer, c.customer_id).await.map_err(|_| not_found())?;
    Ok((c, owner))
}

/// One contact as answered to `viewer`, masked unless the viewer may see its customer's details.
pub fn item(viewer: &Viewer, owner: Option<&customer::Model>, c: contact::Model) -> ContactItem {
    let hide = !owner.is_some_and(|o| viewer.sees_pii_of(o));
    ContactItem {
        customer_name: owner.map(|o| o.name.clone()),
        full_name: full_name(c.first_name.as_deref(), &c.last_name),
        email: pii::masked(c.email, hide, pii::email),
        phone: pii::masked(c.phone, hide, pii::phone),
        mobile: pii::masked(c.mobile, hide, pii::phone),
        wechat_id: pii::masked(c.wechat_id, hide, pii::handle),
        pii_masked: hide,
        id: c.id,
        organization_id: c.organization_id,
        customer_id: c.customer_id,
        first_name: c.first_name,
        last_name: c.last_name,
        position: c.position,
        department: c.department,
        contact_role: c.contact_role,
        is_primary: c.is_primary,
        is_decision_maker: c.is_decision_maker,
        address: c.address,
        city: c.city,
        province: c.province,
        country: c.country,
        postal_code: c.postal_code,
        preferred_contact_method: c.preferred_contact_method,
        is_active: c.is_active,
        notes: c.notes,
        created_by: c.created_by,
        updated_by: c.updated_by,
        created_at: c.created_at,
        updated_at: c.updated_at,
        version: c.version,
    }
}

/// The answer for `rows`: their customers loaded in one query.
pub async fn items(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    rows: Vec<contact::Model>,
) -> ApiResult<Vec<ContactItem>> {
    let ids: HashSet<Uuid> = rows.iter().map(|c| c.customer_id).collect();
    let owners: HashMap<Uuid, customer::Model> = if ids.is_empty() {
        HashMap::new()
    } else {
        customer::Entity::find()
            .filter(customer::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|c| {
            let owner = owners.get(&c.customer_id);
            item(viewer, owner, c)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_join_first_and_last() {
        assert_eq!(full_name(Some("Budi"), "Santoso"), "Budi Santoso");
        assert_eq!(full_name(None, "Santoso"), "Santoso");
        assert_eq!(full_name(Some("  "), " Santoso "), "Santoso");
        assert_eq!(full_name(Some(" Wang "), "Wei"), "Wang Wei");
    }
}

/// Writes of contacts, shared by the handlers and offline sync.
pub mod write {
    use super::super::dto::{CreateContact, UpdateContact};
    use super::*;
    use crate::AppState;
    use crate::customers::service::contact_field;
    use crate::sync::service::{next_seq, tombstone};
    use chrono::Utc;
    use crm_common::api::patch::{clean, set_text};
    use crm_common::api::validate::Validator;
    use crm_common::auth::Principal;
    use crm_common::db::{begin_write, is_unique_violation};
    use crm_common::http::peer::Forward;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, IntoActiveModel, QuerySelect};

    /// Lengths of the text columns (the schema's), checked before writing so an overlong value is
    /// a 400 naming the field on both databases (SQLite would store it silently).
    const LIMITS: &[(&str, usize)] = &[
        ("first_name", 255),
        ("email", 255),
        ("phone", 50),
        ("mobile", 50),
        ("wechat_id", 100),
        ("position", 100),
        ("department", 100),
        ("contact_role", 50),
        ("city", 100),
        ("province", 100),
        ("country", 100),
        ("postal_code", 20),
        ("preferred_contact_method", 20),
    ];

    fn check_lengths(v: &mut Validator, fields: &[(&str, Option<&str>)]) {
        for (name, value) in fields {
            if let Some(max) = LIMITS.iter().find(|(n, _)| n == name).map(|(_, m)| *m) {
                v.optional_length(name, value.map(str::trim), max);
            }
        }
    }

    /// The 409 of a lost race for the primary flag (the partial unique index refused the second
    /// primary): the client retries, nothing was written.
    fn primary_race(e: sea_orm::DbErr) -> ApiError {
        if is_unique_violation(&e) {
            ApiError::conflict("another contact of this customer was made primary at the same time; try again")
        } else {
            e.into()
        }
    }

    /// Serializes the writes that touch a customer's contacts. The organization's change counter
    /// is taken first: every synced write takes it before the rows it changes (customers' writes
    /// too), so taking the customer row's lock second keeps one lock order and cannot deadlock.
    /// The customer lock (a no-op on SQLite, whose write transactions are already exclusive) is
    /// what makes "clear the other primaries, then set this one" atomic on PostgreSQL.
    async fn lock_customer(txn: &DatabaseTransaction, org: Uuid, customer_id: Uuid) -> ApiResult<i64> {
        let seq = next_seq(txn, org).await?;
        customer::Entity::find_by_id(customer_id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| ApiError::not_found("customer"))?;
        Ok(seq)
    }

    /// Clears the primary flag on the customer's other contacts, each as a change of its own
    /// (new version and change number) so offline clients learn it lost the flag.
    async fn clear_other_primaries(
        txn: &DatabaseTransaction,
        org: Uuid,
        customer_id: Uuid,
        keep: Uuid,
        by: Uuid,
    ) -> ApiResult<()> {
        let others = contact::Entity::find()
            .filter(contact::Column::CustomerId.eq(customer_id))
            .filter(contact::Column::IsPrimary.eq(true))
            .filter(contact::Column::Id.ne(keep))
            .all(txn)
            .await?;
        for other in others {
            let version = other.version;
            let mut a = other.into_active_model();
            a.is_primary = Set(false);
            a.version = Set(version + 1);
            a.updated_by = Set(Some(by));
            a.updated_at = Set(Utc::now());
            a.sync_seq = Set(next_seq(txn, org).await?);
            a.update(txn).await?;
        }
        Ok(())
    }

    /// A new contact of a customer the caller can see.
    pub async fn create(
        state: &AppState,
        _forward: &Forward,
        caller: &Principal,
        body: CreateContact,
    ) -> ApiResult<contact::Model> {
        let viewer = Viewer::of(caller);
        let owner = find_visible_customer(&state.db, &viewer, body.customer_id).await?;
        let mut v = Validator::new();
        v.length("last_name", body.last_name.trim(), 1, 255);
        check_lengths(
            &mut v,
            &[
                ("first_name", body.first_name.as_deref()),
                ("email", body.email.as_deref()),
                ("phone", body.phone.as_deref()),
                ("mobile", body.mobile.as_deref()),
                ("wechat_id", body.wechat_id.as_deref()),
                ("position", body.position.as_deref()),
                ("department", body.department.as_deref()),
                ("contact_role", body.contact_role.as_deref()),
                ("city", body.city.as_deref()),
                ("province", body.province.as_deref()),
                ("country", body.country.as_deref()),
                ("postal_code", body.postal_code.as_deref()),
                ("preferred_contact_method", body.preferred_contact_method.as_deref()),
            ],
        );
        if let Some(e) = body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            v.email("email", e);
        }
        v.finish()?;
        let id = body.id.unwrap_or_else(Uuid::now_v7);
        if contact::Entity::find_by_id(id).one(&state.db).await?.is_some() {
            return Err(ApiError::conflict("a contact with this id already exists"));
        }
        let org = owner.organization_id;
        let now = Utc::now();
        let txn = begin_write(&state.db).await?;
        let seq = lock_customer(&txn, org, owner.id).await?;
        if body.is_primary {
            clear_other_primaries(&txn, org, owner.id, id, caller.user_id).await?;
        }
        let saved = contact::ActiveModel {
            id: Set(id),
            organization_id: Set(org),
            customer_id: Set(owner.id),
            first_name: Set(clean(body.first_name)),
            last_name: Set(body.last_name.trim().to_owned()),
            email: Set(clean(body.email)),
            phone: Set(clean(body.phone)),
            mobile: Set(clean(body.mobile)),
            wechat_id: Set(clean(body.wechat_id)),
            position: Set(clean(body.position)),
            department: Set(clean(body.department)),
            contact_role: Set(clean(body.contact_role)),
            is_primary: Set(body.is_primary),
            is_decision_maker: Set(body.is_decision_maker),
            address: Set(clean(body.address)),
            city: Set(clean(body.city)),
            province: Set(clean(body.province)),
            country: Set(clean(body.country)),
            postal_code: Set(clean(body.postal_code)),
            preferred_contact_method: Set(clean(body.preferred_contact_method)),
            is_active: Set(body.is_active.unwrap_or(true)),
            notes: Set(clean(body.notes)),
            created_by: Set(Some(caller.user_id)),
            updated_by: Set(Some(caller.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            sync_seq: Set(seq),
        }
        .insert(&txn)
        .await
        .map_err(primary_race)?;
        txn.commit().await?;
        Ok(saved)
    }

    /// The answer to a stale `version`: 409 carrying the contact as it now is.
    pub fn stale(viewer: &Viewer, owner: &customer::Model, current: contact::Model) -> ApiError {
        ApiError::Conflict {
            message: "the contact was changed by someone else; here is its current version".into(),
            current: serde_json::to_value(item(viewer, Some(owner), current)).ok(),
        }
    }

    fn flat(f: &Option<Option<String>>) -> Option<&str> {
        f.as_ref().and_then(|x| x.as_deref())
    }

    /// A nullable text field of an update: `null` clears, a value is stored trimmed (blank clears).
    fn text(field: &mut sea_orm::ActiveValue<Option<String>>, sent: Option<Option<String>>) {
        match sent {
            Some(Some(v)) => set_text(field, Some(v)),
            Some(None) => *field = Set(None),
            None => {}
        }
    }

    /// A masked contact field of an update: `null` clears; a masked value echoed back is ignored.
    fn masked(
        field: &mut sea_orm::ActiveValue<Option<String>>,
        sent: Option<Option<String>>,
        stored: Option<&str>,
        mask: fn(&str) -> String,
    ) {
        match sent {
            Some(Some(v)) => contact_field(field, Some(v), stored, mask),
            Some(None) => *field = Set(None),
            None => {}
        }
    }

    /// Applies `body` to a visible contact. With `expected` (the client's base version) the write
    /// happens only if nobody changed the contact since; without it, the check against the version
    /// read first still keeps a concurrent change from being overwritten unseen. Either way the
    /// check is part of the `UPDATE`, and a stale write answers 409 having written nothing.
    pub async fn update(
        state: &AppState,
        _forward: &Forward,
        caller: &Principal,
        id: Uuid,
        body: UpdateContact,
        expected: Option<i32>,
    ) -> ApiResult<(contact::Model, contact::Model)> {
        let viewer = Viewer::of(caller);
        let (before, owner) = find_visible(&state.db, &viewer, id).await?;
        if let Some(v) = expected
            && v != before.version
        {
            return Err(stale(&viewer, &owner, before));
        }
        let mut v = Validator::new();
        if let Some(n) = &body.last_name {
            v.length("last_name", n.trim(), 1, 255);
        }
        check_lengths(
            &mut v,
            &[
                ("first_name", flat(&body.first_name)),
                ("phone", flat(&body.phone)),
                ("mobile", flat(&body.mobile)),
                ("wechat_id", flat(&body.wechat_id)),
                ("position", flat(&body.position)),
                ("department", flat(&body.department)),
                ("contact_role", flat(&body.contact_role)),
                ("city", flat(&body.city)),
                ("province", flat(&body.province)),
                ("country", flat(&body.country)),
                ("postal_code", flat(&body.postal_code)),
                ("preferred_contact_method", flat(&body.preferred_contact_method)),
            ],
        );
        if let Some(e) = flat(&body.email).map(str::trim).filter(|e| !e.is_empty())
            && !pii::echoes_mask(e, before.email.as_deref(), pii::email)
        {
            v.optional_length("email", Some(e), 255).email("email", e);
        }
        v.finish()?;
        let mut a = before.clone().into_active_model();
        if let Some(n) = body.last_name {
            a.last_name = Set(n.trim().to_owned());
        }
        text(&mut a.first_name, body.first_name);
        masked(&mut a.email, body.email, before.email.as_deref(), pii::email);
        masked(&mut a.phone, body.phone, before.phone.as_deref(), pii::phone);
        masked(&mut a.mobile, body.mobile, before.mobile.as_deref(), pii::phone);
        masked(&mut a.wechat_id, body.wechat_id, before.wechat_id.as_deref(), pii::handle);
        text(&mut a.position, body.position);
        text(&mut a.department, body.department);
        text(&mut a.contact_role, body.contact_role);
        text(&mut a.address, body.address);
        text(&mut a.city, body.city);
        text(&mut a.province, body.province);
        text(&mut a.country, body.country);
        text(&mut a.postal_code, body.postal_code);
        text(&mut a.preferred_contact_method, body.preferred_contact_method);
        text(&mut a.notes, body.notes);
        if let Some(p) = body.is_primary {
            a.is_primary = Set(p);
        }
        if let Some(d) = body.is_decision_maker {
            a.is_decision_maker = Set(d);
        }
        if let Some(act) = body.is_active {
            a.is_active = Set(act);
        }
        a.updated_by = Set(Some(caller.user_id));
        a.updated_at = Set(Utc::now());
        a.version = Set(before.version + 1);
        let txn = begin_write(&state.db).await?;
        a.sync_seq = Set(lock_customer(&txn, before.organization_id, before.customer_id).await?);
        if body.is_primary == Some(true) {
            clear_other_primaries(&txn, before.organization_id, before.customer_id, id, caller.user_id).await?;
        }
        let result = match contact::Entity::update(a).validate() {
            Ok(update) => update.filter(contact::Column::Version.eq(before.version)).exec(&txn).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(after) => {
                txn.commit().await?;
                Ok((before, after))
            }
            Err(sea_orm::DbErr::RecordNotUpdated) => {
                txn.rollback().await?;
                let (current, owner) = find_visible(&state.db, &viewer, id).await?;
                Err(stale(&viewer, &owner, current))
            }
            Err(e) => Err(primary_race(e)),
        }
    }

    /// Deletes a visible contact, leaving a tombstone for offline clients. Service records that
    /// named it as their contact keep its name and lose the link (the schema sets it null).
    pub async fn delete(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<contact::Model> {
        let viewer = Viewer::of(caller);
        let (before, _) = find_visible(&state.db, &viewer, id).await?;
        let txn = begin_write(&state.db).await?;
        tombstone(&txn, before.organization_id, "contact", id).await?;
        contact::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(before)
    }
}
