//! Rules for menus: the tree, who sees which entry, and parent links that never form a cycle.

use super::dto::{AccessibleMenu, MenuNode, MenuView};
use super::model::{menu, menu_permission};
use crate::permissions::model::permission;
use crate::permissions::service as grants;
use chrono::Utc;
use crm_common::auth::has_permission;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<menu::Model> {
    menu::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("menu"))
}

fn ordered(query: Select<menu::Entity>) -> Select<menu::Entity> {
    query.order_by_asc(menu::Column::DisplayOrder).order_by_asc(menu::Column::Code)
}

async fn links(db: &impl ConnectionTrait, menu_ids: Vec<Uuid>) -> ApiResult<Vec<menu_permission::Model>> {
    Ok(menu_permission::Entity::find().filter(menu_permission::Column::MenuId.is_in(menu_ids)).all(db).await?)
}

pub async fn views(db: &impl ConnectionTrait, menus: Vec<menu::Model>) -> ApiResult<Vec<MenuView>> {
    let links = links(db, menus.iter().map(|m| m.id).collect()).await?;
    let mut perms = grants::grouped(db, links.into_iter().map(|l| (l.menu_id, l.permission_id))).await?;
    Ok(menus
        .into_iter()
        .map(|m| {
            let p = perms.remove(&m.id).unwrap_or_default();
            MenuView::new(m, p)
        })
        .collect())
}

pub async fn view(db: &impl ConnectionTrait, m: menu::Model) -> ApiResult<MenuView> {
    views(db, vec![m]).await?.pop().ok_or_else(|| ApiError::internal("view of one menu was empty"))
}

/// Every active menu as a tree, ordered by `display_order`.
pub async fn tree(db: &impl ConnectionTrait) -> ApiResult<Vec<MenuNode>> {
    let menus = ordered(menu::Entity::find().filter(menu::Column::IsActive.eq(true))).all(db).await?;
    let views = views(db, menus).await?;
    Ok(crate::tree::build(views, |v| v.id, |v| v.parent_id, |menu, children| MenuNode { menu, children }))
}

/// The menus a holder of `granted` sees: active and visible, and either open to everyone (no
/// linked permission) or linked to a permission they hold. An entry under a hidden one is hidden.
pub async fn accessible(db: &impl ConnectionTrait, granted: &BTreeSet<String>) -> ApiResult<Vec<AccessibleMenu>> {
    let menus =
        ordered(menu::Entity::find().filter(menu::Column::IsActive.eq(true)).filter(menu::Column::IsVisible.eq(true)))
            .all(db)
            .await?;
    let links = links(db, menus.iter().map(|m| m.id).collect()).await?;
    let codes: HashMap<Uuid, String> = permission::Entity::find()
        .filter(permission::Column::Id.is_in(links.iter().map(|l| l.permission_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.code))
        .collect();
    let mut required: HashMap<Uuid, Vec<&str>> = HashMap::new();
    for l in &links {
        if let Some(code) = codes.get(&l.permission_id) {
            required.entry(l.menu_id).or_default().push(code);
        }
    }
    let open =
        |m: &menu::Model| required.get(&m.id).is_none_or(|codes| codes.iter().any(|c| has_permission(granted, c)));
    let visible: Vec<menu::Model> = menus.into_iter().filter(|m| open(m)).collect();
    Ok(crate::tree::build(
        visible,
        |m| m.id,
        |m| m.parent_id,
        |m, children| AccessibleMenu {
            id: m.id,
            code: m.code,
            name_zh: m.name_zh,
            name_id: m.name_id,
            path: m.path,
            component: m.component,
            icon: m.icon,
            display_order: m.display_order,
            children,
        },
    ))
}

/// The parent exists and is not the menu itself or one of its descendants.
pub async fn check_parent(db: &impl ConnectionTrait, menu_id: Option<Uuid>, parent: Uuid) -> ApiResult<()> {
    let bad = |msg: &str| ApiError::field("parent_id", msg);
    let mut at = Some(parent);
    let mut hops = 0;
    while let Some(id) = at {
        if Some(id) == menu_id {
            return Err(bad("a menu cannot be placed under itself or its descendants"));
        }
        let m = menu::Entity::find_by_id(id).one(db).await?.ok_or_else(|| bad("parent menu not found"))?;
        at = m.parent_id;
        hops += 1;
        if hops > 64 {
            return Err(bad("the menu tree is too deep"));
        }
    }
    Ok(())
}

/// Replaces the permissions that open a menu; every id must exist.
pub async fn replace_permissions(db: &impl ConnectionTrait, menu_id: Uuid, permission_ids: &[Uuid]) -> ApiResult<()> {
    let ids = grants::existing(db, permission_ids).await?;
    menu_permission::Entity::delete_many().filter(menu_permission::Column::MenuId.eq(menu_id)).exec(db).await?;
    link(db, menu_id, ids).await
}

pub async fn link(db: &impl ConnectionTrait, menu_id: Uuid, permission_ids: Vec<Uuid>) -> ApiResult<()> {
    let now = Utc::now();
    let rows: Vec<menu_permission::ActiveModel> = permission_ids
        .into_iter()
        .map(|pid| menu_permission::ActiveModel {
            menu_id: Set(menu_id),
            permission_id: Set(pid),
            created_at: Set(now),
        })
        .collect();
    if !rows.is_empty() {
        menu_permission::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}
