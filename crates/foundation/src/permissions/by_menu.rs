//! Seed 002's view of permissions: per menu, which of `view`, `create`, `update` and `delete` a
//! role may do. It is a projection of the permission codes, not a second model: a menu's actions
//! are the actions of the permissions linked to it (`/menus/{id}/permissions/assign`), with `list`
//! counted as `view`. Codes with other actions (`lock`, `assign`, `export`, …) have no place in it
//! and are left as they are.

use super::model::{permission, role_permission};
use crate::menus::model::{menu, menu_permission};
use crm_common::api::FieldError;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use utoipa::ToSchema;
use uuid::Uuid;

/// Seed 002's actions, in the order they are listed.
pub const ACTIONS: [&str; 4] = ["view", "create", "update", "delete"];

/// The seed 002 action a permission's action counts as.
pub fn seed_action(action: &str) -> Option<&'static str> {
    match action {
        "view" | "list" => Some("view"),
        "create" => Some("create"),
        "update" => Some("update"),
        "delete" => Some("delete"),
        _ => None,
    }
}

/// A permission linked to a menu, by the seed 002 action it counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub menu_id: Uuid,
    pub permission_id: Uuid,
    pub action: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MenuActions {
    pub menu_id: Uuid,
    /// Any of `view`, `create`, `update`, `delete`; those not listed are taken away.
    pub actions: Vec<String>,
}

/// `POST /permissions/assign`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignByMenu {
    pub role_id: Uuid,
    pub permissions: Vec<MenuActions>,
}

/// One menu's row of a role's permissions.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct MenuGrant {
    pub menu_id: Uuid,
    pub menu_code: String,
    pub name_zh: String,
    pub name_id: String,
    /// What the role may do here: an action counts when the role holds every permission of the
    /// menu that counts as it.
    pub actions: Vec<&'static str>,
    /// What can be granted here.
    pub available: Vec<&'static str>,
}

/// The grants and revocations that make the role's actions on each requested menu exactly the
/// requested ones. A permission linked to several menus is kept when any requested menu wants it.
pub fn plan(
    links: &[Link],
    held: &HashSet<Uuid>,
    requested: &[(Uuid, BTreeSet<&'static str>)],
) -> (BTreeSet<Uuid>, BTreeSet<Uuid>) {
    let mut wanted = BTreeSet::new();
    let mut unwanted = BTreeSet::new();
    for (menu_id, actions) in requested {
        for link in links.iter().filter(|l| l.menu_id == *menu_id) {
            if actions.contains(link.action) {
                wanted.insert(link.permission_id);
            } else {
                unwanted.insert(link.permission_id);
            }
        }
    }
    let grant = wanted.iter().filter(|p| !held.contains(p)).copied().collect();
    let revoke = unwanted.difference(&wanted).filter(|p| held.contains(p)).copied().collect();
    (grant, revoke)
}

/// The actions of `menu_id` that the role holds, and those it could.
pub fn actions_on(links: &[Link], held: &HashSet<Uuid>, menu_id: Uuid) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut holds = Vec::new();
    let mut available = Vec::new();
    for action in ACTIONS {
        let mut of_action = links.iter().filter(|l| l.menu_id == menu_id && l.action == action).peekable();
        if of_action.peek().is_none() {
            continue;
        }
        available.push(action);
        if of_action.all(|l| held.contains(&l.permission_id)) {
            holds.push(action);
        }
    }
    (holds, available)
}

/// Every menu-to-permission link that counts as a seed 002 action (active permissions only).
pub async fn links(db: &impl ConnectionTrait) -> ApiResult<Vec<Link>> {
    let actions: HashMap<Uuid, &'static str> = permission::Entity::find()
        .filter(permission::Column::IsActive.eq(true))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| Some((p.id, seed_action(&p.action)?)))
        .collect();
    Ok(menu_permission::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|l| {
            let action = *actions.get(&l.permission_id)?;
            Some(Link { menu_id: l.menu_id, permission_id: l.permission_id, action })
        })
        .collect())
}

pub async fn held(db: &impl ConnectionTrait, role_id: Uuid) -> ApiResult<HashSet<Uuid>> {
    let rows = role_permission::Entity::find().filter(role_permission::Column::RoleId.eq(role_id)).all(db).await?;
    Ok(rows.into_iter().map(|r| r.permission_id).collect())
}

/// The role's row for every menu that has something to grant, in menu order.
pub async fn of_role(db: &impl ConnectionTrait, links: &[Link], role_id: Uuid) -> ApiResult<Vec<MenuGrant>> {
    let held = held(db, role_id).await?;
    let menus =
        menu::Entity::find().order_by_asc(menu::Column::DisplayOrder).order_by_asc(menu::Column::Code).all(db).await?;
    Ok(menus
        .into_iter()
        .filter_map(|m| {
            let (actions, available) = actions_on(links, &held, m.id);
            (!available.is_empty()).then_some(MenuGrant {
                menu_id: m.id,
                menu_code: m.code,
                name_zh: m.name_zh,
                name_id: m.name_id,
                actions,
                available,
            })
        })
        .collect())
}

/// Checks the request against the menus and their `links` (every error at once) and applies it.
pub async fn assign(db: &impl ConnectionTrait, links: &[Link], body: &AssignByMenu) -> ApiResult<()> {
    let ids: Vec<Uuid> = body.permissions.iter().map(|p| p.menu_id).collect();
    let known: HashSet<Uuid> =
        menu::Entity::find().filter(menu::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|m| m.id).collect();
    let mut errors = Vec::new();
    let mut requested = Vec::new();
    for (i, entry) in body.permissions.iter().enumerate() {
        if !known.contains(&entry.menu_id) {
            errors.push(FieldError::new(format!("permissions[{i}].menu_id"), "menu not found"));
            continue;
        }
        let (_, available) = actions_on(links, &HashSet::new(), entry.menu_id);
        let mut actions = BTreeSet::new();
        for (j, action) in entry.actions.iter().enumerate() {
            let field = format!("permissions[{i}].actions[{j}]");
            match ACTIONS.iter().find(|a| **a == action) {
                None => errors.push(FieldError::new(field, "must be one of view, create, update, delete")),
                Some(a) if !available.contains(a) => {
                    errors.push(FieldError::new(field, format!("the menu has no {a} permission")));
                }
                Some(a) => {
                    actions.insert(*a);
                }
            }
        }
        requested.push((entry.menu_id, actions));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (grant, revoke) = plan(links, &held(db, body.role_id).await?, &requested);
    if !revoke.is_empty() {
        role_permission::Entity::delete_many()
            .filter(role_permission::Column::RoleId.eq(body.role_id))
            .filter(role_permission::Column::PermissionId.is_in(revoke))
            .exec(db)
            .await?;
    }
    super::service::grant(db, body.role_id, grant).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn list_counts_as_view_and_other_actions_stay_out() {
        assert_eq!(seed_action("list"), Some("view"));
        assert_eq!(seed_action("delete"), Some("delete"));
        assert_eq!(seed_action("lock"), None);
        assert_eq!(seed_action("export"), None);
    }

    #[test]
    fn a_plan_makes_each_requested_menu_exactly_what_was_asked() {
        let (users, roles) = (id(1), id(2));
        let (view, list, create, delete, role_view) = (id(10), id(11), id(12), id(13), id(20));
        let links = [
            Link { menu_id: users, permission_id: view, action: "view" },
            Link { menu_id: users, permission_id: list, action: "view" },
            Link { menu_id: users, permission_id: create, action: "create" },
            Link { menu_id: users, permission_id: delete, action: "delete" },
            Link { menu_id: roles, permission_id: role_view, action: "view" },
            // Linked to both menus.
            Link { menu_id: roles, permission_id: view, action: "view" },
        ];
        let held: HashSet<Uuid> = [view, delete, role_view].into();
        let (grant, revoke) = plan(&links, &held, &[(users, ["view", "create"].into())]);
        assert_eq!((grant, revoke), ([list, create].into(), [delete].into()));
        // Taking view away from one menu keeps a permission another requested menu wants.
        let (grant, revoke) = plan(&links, &held, &[(roles, BTreeSet::new()), (users, ["view"].into())]);
        assert_eq!((grant, revoke), ([list].into(), [role_view, delete].into()));
        // Menus not in the request are not touched.
        let (grant, revoke) = plan(&links, &held, &[(roles, BTreeSet::new())]);
        assert_eq!((grant, revoke), (BTreeSet::new(), [view, role_view].into()));

        let (actions, available) = actions_on(&links, &held, users);
        assert_eq!(actions, ["delete"], "view needs both view and list");
        assert_eq!(available, ["view", "create", "delete"]);
        let (actions, _) = actions_on(&links, &[view, list].into(), users);
        assert_eq!(actions, ["view"]);
    }
}
