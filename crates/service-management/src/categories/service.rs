//! The category rules: a parent must exist, be active, and not be the category itself or one of
//! its descendants; the tree is built in one pass over the rows.

use super::dto::{TreeNode, TreeProduct};
use super::model as category;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Levels a tree may have: far more than any catalogue needs, and a bound on the walk up.
pub const MAX_DEPTH: usize = 32;

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<category::Model> {
    category::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("category"))
}

/// `parent_id` may become `category`'s parent (`category` is `None` on create).
pub async fn check_parent(db: &impl ConnectionTrait, category: Option<Uuid>, parent_id: Uuid) -> ApiResult<()> {
    if Some(parent_id) == category {
        return Err(ApiError::field("parent_id", "a category cannot be its own parent"));
    }
    let parent = category::Entity::find_by_id(parent_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::field("parent_id", "parent category not found"))?;
    if !parent.is_active {
        return Err(ApiError::field("parent_id", "parent category is inactive"));
    }
    let Some(me) = category else { return Ok(()) };
    // Walk up from the new parent: meeting the category itself means a cycle.
    let mut seen = HashSet::new();
    let mut next = parent.parent_id;
    while let Some(id) = next {
        if id == me {
            return Err(ApiError::field(
                "parent_id",
                "the parent is a descendant of this category: it would create a cycle",
            ));
        }
        if !seen.insert(id) || seen.len() > MAX_DEPTH {
            return Err(ApiError::field("parent_id", "the category tree is too deep"));
        }
        next = category::Entity::find_by_id(id).one(db).await?.and_then(|c| c.parent_id);
    }
    Ok(())
}

/// Names of the parents of `rows`, in one query.
pub async fn parent_names(db: &impl ConnectionTrait, rows: &[category::Model]) -> ApiResult<HashMap<Uuid, String>> {
    let ids: HashSet<Uuid> = rows.iter().filter_map(|c| c.parent_id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let parents = category::Entity::find().filter(category::Column::Id.is_in(ids)).all(db).await?;
    Ok(parents.into_iter().map(|p| (p.id, p.name)).collect())
}

/// The forest of `categories` (ordered by display order, then name), each node counting the
/// products of its whole subtree and, with `include_products`, listing its own. A category
/// whose parent is not among `categories` (filtered out as inactive) is not shown.
pub fn build_tree(
    categories: Vec<category::Model>,
    products: Vec<(Uuid, TreeProduct)>,
    include_products: bool,
) -> Vec<TreeNode> {
    let known: HashSet<Uuid> = categories.iter().map(|c| c.id).collect();
    let mut own: HashMap<Uuid, Vec<TreeProduct>> = HashMap::new();
    for (category_id, p) in products {
        own.entry(category_id).or_default().push(p);
    }
    let mut children: HashMap<Option<Uuid>, Vec<category::Model>> = HashMap::new();
    for c in categories {
        let parent = c.parent_id.filter(|p| known.contains(p));
        if c.parent_id.is_some() && parent.is_none() {
            continue;
        }
        children.entry(parent).or_default().push(c);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.display_order.cmp(&b.display_order).then_with(|| a.name.cmp(&b.name)));
    }
    fn build(
        parent: Option<Uuid>,
        children: &mut HashMap<Option<Uuid>, Vec<category::Model>>,
        own: &mut HashMap<Uuid, Vec<TreeProduct>>,
        include_products: bool,
        depth: usize,
    ) -> Vec<TreeNode> {
        let Some(list) = children.remove(&parent) else { return Vec::new() };
        list.into_iter()
            .map(|c| {
                let kids = if depth < MAX_DEPTH {
                    build(Some(c.id), children, own, include_products, depth + 1)
                } else {
                    Vec::new()
                };
                let mine = own.remove(&c.id).unwrap_or_default();
                let product_count = mine.len() as u64 + kids.iter().map(|k| k.product_count).sum::<u64>();
                TreeNode {
                    id: c.id,
                    code: c.code,
                    name: c.name,
                    parent_id: c.parent_id,
                    display_order: c.display_order,
                    is_active: c.is_active,
                    product_count,
                    children: kids,
                    products: if include_products { mine } else { Vec::new() },
                }
            })
            .collect()
    }
    build(None, &mut children, &mut own, include_products, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn cat(id: u128, parent: Option<u128>, order: i32, name: &str) -> category::Model {
        category::Model {
            id: Uuid::from_u128(id),
            code: format!("C{id}"),
            name: name.into(),
            description: None,
            parent_id: parent.map(Uuid::from_u128),
            display_order: order,
            is_active: true,
            created_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    fn product(category: u128, id: u128) -> (Uuid, TreeProduct) {
        let p =
            TreeProduct { id: Uuid::from_u128(id), name: format!("P{id}"), code: None, enterprise_service_code: None };
        (Uuid::from_u128(category), p)
    }

    #[test]
    fn counts_include_descendants_and_leaves_have_empty_children() {
        let cats = vec![
            cat(1, None, 1, "Visas"),
            cat(2, Some(1), 2, "Work"),
            cat(3, Some(1), 1, "Tourist"),
            cat(4, None, 0, "Tax"),
        ];
        let products = vec![product(1, 10), product(2, 11), product(2, 12), product(3, 13)];
        let tree = build_tree(cats, products, true);
        assert_eq!(tree.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["Tax", "Visas"]);
        let visas = &tree[1];
        assert_eq!(visas.product_count, 4);
        assert_eq!(visas.products.len(), 1);
        assert_eq!(visas.children.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["Tourist", "Work"]);
        assert_eq!(visas.children[1].product_count, 2);
        assert!(visas.children[1].children.is_empty());
        assert_eq!(tree[0].product_count, 0);
    }

    #[test]
    fn without_products_the_counts_remain_and_orphans_are_hidden() {
        let cats = vec![cat(1, None, 0, "A"), cat(2, Some(99), 0, "orphan")];
        let tree = build_tree(cats, vec![product(1, 5)], false);
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].product_count, 1);
        assert!(tree[0].products.is_empty());
    }
}
