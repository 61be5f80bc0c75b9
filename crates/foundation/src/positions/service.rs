//! Rules for positions: they belong to one organization, form a tree without cycles, and cannot
//! be deleted while members hold them or other positions hang below them.

use super::dto::{ParentRef, PositionItem, item};
use super::model as position;
use crate::organizations::model::employee;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// Deeper than this is treated as a broken chain rather than followed.
const MAX_DEPTH: usize = 100;

pub async fn find(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> ApiResult<position::Model> {
    position::Entity::find_by_id(id)
        .filter(position::Column::OrganizationId.eq(org))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("position"))
}

/// An organization's positions as `id → (name, parent)`: enough to draw paths and find cycles.
pub struct Hierarchy(HashMap<Uuid, (String, Option<Uuid>)>);

impl Hierarchy {
    pub async fn load(db: &impl ConnectionTrait, org: Uuid) -> ApiResult<Self> {
        let rows = position::Entity::find()
            .select_only()
            .column(position::Column::Id)
            .column(position::Column::Name)
            .column(position::Column::ParentId)
            .filter(position::Column::OrganizationId.eq(org))
            .into_tuple::<(Uuid, String, Option<Uuid>)>()
            .all(db)
            .await?;
        Ok(Self(rows.into_iter().map(|(id, name, parent)| (id, (name, parent))).collect()))
    }

    /// `id` and its ancestors, the root last.
    fn chain(&self, id: Uuid) -> Vec<Uuid> {
        let mut out = Vec::new();
        let mut at = Some(id);
        while let Some(x) = at.filter(|_| out.len() < MAX_DEPTH) {
            let Some((_, parent)) = self.0.get(&x) else { break };
            out.push(x);
            at = *parent;
        }
        out
    }

    /// "CEO > CTO > Senior developer".
    pub fn path(&self, id: Uuid) -> String {
        let names: Vec<&str> =
            self.chain(id).iter().rev().filter_map(|x| self.0.get(x).map(|(n, _)| n.as_str())).collect();
        names.join(" > ")
    }

    /// Whether `candidate` is `root` or lies below it.
    pub fn within(&self, candidate: Uuid, root: Uuid) -> bool {
        self.chain(candidate).contains(&root)
    }

    pub fn descendants(&self, root: Uuid) -> Vec<Uuid> {
        self.0.keys().copied().filter(|id| *id != root && self.within(*id, root)).collect()
    }

    pub fn parent_ref(&self, parent: Option<Uuid>, with_path: bool) -> Option<ParentRef> {
        let id = parent?;
        let (name, _) = self.0.get(&id)?;
        Some(ParentRef { id, name: name.clone(), full_path: with_path.then(|| self.path(id)) })
    }
}

/// `(members holding it, positions directly below it)` per position.
pub async fn counts(db: &impl ConnectionTrait, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, (u64, u64)>> {
    let count = || Expr::from(Func::count(Expr::col(employee::Column::Id)));
    let holders: Vec<(Option<Uuid>, i64)> = employee::Entity::find()
        .select_only()
        .column(employee::Column::PositionId)
        .column_as(count(), "n")
        .filter(employee::Column::PositionId.is_in(ids.to_vec()))
        .filter(employee::Column::IsActive.eq(true))
        .group_by(employee::Column::PositionId)
        .into_tuple()
        .all(db)
        .await?;
    let children: Vec<(Option<Uuid>, i64)> = position::Entity::find()
        .select_only()
        .column(position::Column::ParentId)
        .column_as(Expr::from(Func::count(Expr::col(position::Column::Id))), "n")
        .filter(position::Column::ParentId.is_in(ids.to_vec()))
        .group_by(position::Column::ParentId)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, (u64, u64)> = HashMap::new();
    for (id, n) in holders {
        if let Some(id) = id {
            out.entry(id).or_default().0 = n.max(0) as u64;
        }
    }
    for (id, n) in children {
        if let Some(id) = id {
            out.entry(id).or_default().1 = n.max(0) as u64;
        }
    }
    Ok(out)
}

pub async fn items(db: &impl ConnectionTrait, org: Uuid, rows: Vec<position::Model>) -> ApiResult<Vec<PositionItem>> {
    let tree = Hierarchy::load(db, org).await?;
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let counts = counts(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|p| {
            let parent = tree.parent_ref(p.parent_id, false);
            let path = tree.path(p.id);
            let c = counts.get(&p.id).copied().unwrap_or_default();
            item(p, parent, path, c)
        })
        .collect())
}

pub async fn code_taken(db: &impl ConnectionTrait, org: Uuid, code: &str, except: Option<Uuid>) -> ApiResult<bool> {
    let mut q = position::Entity::find()
        .filter(position::Column::OrganizationId.eq(org))
        .filter(position::Column::Code.eq(code));
    if let Some(id) = except {
        q = q.filter(position::Column::Id.ne(id));
    }
    Ok(q.count(db).await? > 0)
}
