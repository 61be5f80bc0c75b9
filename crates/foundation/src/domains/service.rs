//! Rules for organization domains: an organization's set is replaced as a whole, every domain in
//! it exists and is active, and at most the one named primary is primary.

use super::model::{domain, relation};
use chrono::{DateTime, Utc};
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// A domain as an organization response lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DomainRef {
    pub id: Uuid,
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub is_primary: bool,
}

/// One organization ↔ domain relation (the original's relation item).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RelationView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub domain_id: Uuid,
    pub domain_code: String,
    pub domain_name_zh: String,
    pub domain_name_id: String,
    pub is_primary: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<domain::Model> {
    domain::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("organization domain"))
}

/// The relations of `org_ids` with their domains: primary first, then by display order and code.
async fn relations(db: &impl ConnectionTrait, org_ids: Vec<Uuid>) -> ApiResult<Vec<(relation::Model, domain::Model)>> {
    let rels = relation::Entity::find().filter(relation::Column::OrganizationId.is_in(org_ids)).all(db).await?;
    let domains: HashMap<Uuid, domain::Model> = domain::Entity::find()
        .filter(domain::Column::Id.is_in(rels.iter().map(|r| r.domain_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let mut out: Vec<(relation::Model, domain::Model)> =
        rels.into_iter().filter_map(|r| domains.get(&r.domain_id).cloned().map(|d| (r, d))).collect();
    out.sort_by(|(ra, da), (rb, db)| {
        (!ra.is_primary, da.display_order, &da.code).cmp(&(!rb.is_primary, db.display_order, &db.code))
    });
    Ok(out)
}

/// Each organization's domains, for organization responses.
pub async fn refs_of(db: &impl ConnectionTrait, org_ids: Vec<Uuid>) -> ApiResult<HashMap<Uuid, Vec<DomainRef>>> {
    let mut out: HashMap<Uuid, Vec<DomainRef>> = HashMap::new();
    for (r, d) in relations(db, org_ids).await? {
        out.entry(r.organization_id).or_default().push(DomainRef {
            id: d.id,
            code: d.code,
            name_zh: d.name_zh,
            name_id: d.name_id,
            is_primary: r.is_primary,
        });
    }
    Ok(out)
}

pub async fn relation_views(db: &impl ConnectionTrait, org: Uuid) -> ApiResult<Vec<RelationView>> {
    Ok(relations(db, vec![org])
        .await?
        .into_iter()
        .map(|(r, d)| RelationView {
            id: r.id,
            organization_id: r.organization_id,
            domain_id: d.id,
            domain_code: d.code,
            domain_name_zh: d.name_zh,
            domain_name_id: d.name_id,
            is_primary: r.is_primary,
            created_at: r.created_at,
        })
        .collect())
}

/// Replaces the organization's domains. Run inside a transaction.
pub async fn replace(
    db: &impl ConnectionTrait,
    org: Uuid,
    domain_ids: &[Uuid],
    primary: Option<Uuid>,
) -> ApiResult<()> {
    let ids = crate::users::service::dedup(domain_ids);
    if let Some(p) = primary
        && !ids.contains(&p)
    {
        return Err(ApiError::field("primary_domain_id", "must be one of domain_ids"));
    }
    let usable = domain::Entity::find()
        .filter(domain::Column::Id.is_in(ids.clone()))
        .filter(domain::Column::IsActive.eq(true))
        .all(db)
        .await?;
    if let Some(missing) = ids.iter().find(|id| !usable.iter().any(|d| d.id == **id)) {
        return Err(ApiError::field("domain_ids", format!("domain {missing} does not exist or is inactive")));
    }
    relation::Entity::delete_many().filter(relation::Column::OrganizationId.eq(org)).exec(db).await?;
    let now = Utc::now();
    let rows: Vec<relation::ActiveModel> = ids
        .into_iter()
        .map(|id| relation::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            domain_id: Set(id),
            is_primary: Set(Some(id) == primary),
            created_at: Set(now),
        })
        .collect();
    if !rows.is_empty() {
        relation::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}
