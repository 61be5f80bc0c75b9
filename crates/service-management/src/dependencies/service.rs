//! The dependency rules as plain functions over edges: whether a new edge closes a cycle, which
//! dependencies a selection of products leaves unsatisfied, and the order to carry them out in.

use super::dto::{MissingDependency, OrderStep};
use super::model as dependency;
use crate::products::model as product;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet, VecDeque};
use uuid::Uuid;

/// Product id → (name, code).
pub type Names = HashMap<Uuid, (String, Option<String>)>;

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<dependency::Model> {
    dependency::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("dependency"))
}

/// Names and codes of `ids`, in one query; unknown products are absent.
pub async fn names(db: &impl ConnectionTrait, ids: impl IntoIterator<Item = Uuid>) -> ApiResult<Names> {
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Names::new());
    }
    let rows: Vec<(Uuid, String, Option<String>)> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .column(product::Column::Name)
        .column(product::Column::Code)
        .filter(product::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, name, code)| (id, (name, code))).collect())
}

/// Both products of the dependencies in `rows`, in one query.
pub async fn names_of(db: &impl ConnectionTrait, rows: &[dependency::Model]) -> ApiResult<Names> {
    names(db, rows.iter().flat_map(|d| [d.product_id, d.depends_on_product_id])).await
}

/// Makes concurrent dependency writes take turns, so that two edges that only together close a
/// cycle (A→B and B→A at once) cannot both pass the check. SQLite's `BEGIN IMMEDIATE` already
/// serializes writers; PostgreSQL takes a transaction-scoped advisory lock.
pub async fn serialize_writes(txn: &impl ConnectionTrait) -> ApiResult<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // An arbitrary constant naming "the product dependency graph".
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7220531001)").await?;
    }
    Ok(())
}

/// Every edge (product → the product it depends on), of any type.
pub async fn all_edges(db: &impl ConnectionTrait) -> ApiResult<Vec<(Uuid, Uuid)>> {
    Ok(dependency::Entity::find()
        .select_only()
        .column(dependency::Column::ProductId)
        .column(dependency::Column::DependsOnProductId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Whether adding `from → to` to `edges` closes a cycle: it does when `to` already reaches
/// `from` (or is `from`). Breadth-first, each product visited once, so any graph terminates.
pub fn creates_cycle(edges: &[(Uuid, Uuid)], from: Uuid, to: Uuid) -> bool {
    if from == to {
        return true;
    }
    let mut next: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (a, b) in edges {
        next.entry(*a).or_default().push(*b);
    }
    let mut seen = HashSet::from([to]);
    let mut queue = VecDeque::from([to]);
    while let Some(at) = queue.pop_front() {
        for &n in next.get(&at).into_iter().flatten() {
            if n == from {
                return true;
            }
            if seen.insert(n) {
                queue.push_back(n);
            }
        }
    }
    false
}

/// Dependencies of the selected products whose target is not selected: `(missing required,
/// missing recommended)`; `optional` ones are informational and never reported. `deps` are
/// `(product, depends on, type)`; `names` gives the missing products' names.
pub fn unsatisfied(
    selected: &[Uuid],
    deps: &[(Uuid, Uuid, String)],
    names: &Names,
) -> (Vec<MissingDependency>, Vec<MissingDependency>) {
    let chosen: HashSet<Uuid> = selected.iter().copied().collect();
    let mut required = Vec::new();
    let mut recommended = Vec::new();
    for (product_id, target, kind) in deps {
        if !chosen.contains(product_id) || chosen.contains(target) {
            continue;
        }
        let missing = MissingDependency {
            product_id: *product_id,
            depends_on_product_id: *target,
            depends_on_product_name: names.get(target).map(|(n, _)| n.clone()),
        };
        match kind.as_str() {
            "required" => required.push(missing),
            "recommended" => recommended.push(missing),
            _ => {}
        }
    }
    (required, recommended)
}

/// The order to carry out the selected products in: a topological order over the `required`
/// edges among them (a product after what it requires), ties kept in the selection's order;
/// products caught in a cycle cannot be ordered and come last, in the selection's order.
/// Duplicates in the selection count once.
pub fn execution_order(selected: &[Uuid], required: &[(Uuid, Uuid)]) -> Vec<OrderStep> {
    let mut products = Vec::new();
    let mut seen = HashSet::new();
    for id in selected {
        if seen.insert(*id) {
            products.push(*id);
        }
    }
    let mut waiting_on: HashMap<Uuid, usize> = products.iter().map(|p| (*p, 0)).collect();
    let mut unlocks: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut edges = HashSet::new();
    for &(product, target) in required {
        if product == target || !seen.contains(&product) || !seen.contains(&target) || !edges.insert((product, target))
        {
            continue;
        }
        *waiting_on.entry(product).or_default() += 1;
        unlocks.entry(target).or_default().push(product);
    }
    let mut done = HashSet::new();
    let mut order = Vec::with_capacity(products.len());
    // Repeated passes in selection order keep the result stable for equal standing.
    loop {
        let ready: Vec<Uuid> =
            products.iter().filter(|p| !done.contains(*p) && waiting_on.get(*p) == Some(&0)).copied().collect();
        if ready.is_empty() {
            break;
        }
        for p in ready {
            done.insert(p);
            order.push(p);
            for q in unlocks.get(&p).into_iter().flatten() {
                if let Some(n) = waiting_on.get_mut(q) {
                    *n = n.saturating_sub(1);
                }
            }
        }
    }
    order.extend(products.iter().filter(|p| !done.contains(*p)));
    let mut requires: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (product, target) in unlocks.iter().flat_map(|(t, ps)| ps.iter().map(move |p| (*p, *t))) {
        requires.entry(product).or_default().push(target);
    }
    order
        .into_iter()
        .zip(1u32..)
        .map(|(product_id, execution_order)| {
            let mut dependencies = requires.remove(&product_id).unwrap_or_default();
            dependencies.sort_by_key(|d| products.iter().position(|p| p == d));
            OrderStep { product_id, execution_order, dependencies }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_cycle_is_found_through_any_path_and_an_unrelated_edge_is_not_one() {
        let edges = vec![(id(1), id(2)), (id(2), id(3)), (id(4), id(5))];
        assert!(creates_cycle(&edges, id(3), id(1)));
        assert!(creates_cycle(&edges, id(2), id(1)));
        assert!(creates_cycle(&edges, id(7), id(7)));
        assert!(!creates_cycle(&edges, id(1), id(3)));
        assert!(!creates_cycle(&edges, id(3), id(4)));
        assert!(!creates_cycle(&[], id(1), id(2)));
    }

    #[test]
    fn an_existing_cycle_in_the_data_does_not_make_the_walk_loop() {
        let edges = vec![(id(1), id(2)), (id(2), id(1))];
        assert!(!creates_cycle(&edges, id(9), id(1)));
    }

    #[test]
    fn missing_required_and_recommended_are_reported_and_optional_is_not() {
        let deps = vec![
            (id(1), id(2), "required".to_owned()),
            (id(1), id(3), "recommended".to_owned()),
            (id(1), id(4), "optional".to_owned()),
            (id(1), id(5), "required".to_owned()),
            (id(9), id(6), "required".to_owned()),
        ];
        let names = Names::from([(id(2), ("Company registration".to_owned(), None))]);
        let (required, warnings) = unsatisfied(&[id(1), id(5)], &deps, &names);
        assert_eq!(required.len(), 1);
        assert_eq!(required[0].depends_on_product_id, id(2));
        assert_eq!(required[0].depends_on_product_name.as_deref(), Some("Company registration"));
        assert_eq!(warnings.iter().map(|w| w.depends_on_product_id).collect::<Vec<_>>(), [id(3)]);
    }

    fn ids(steps: &[OrderStep]) -> Vec<Uuid> {
        steps.iter().map(|s| s.product_id).collect()
    }

    #[test]
    fn requirements_come_first_and_ties_keep_the_selection_order() {
        // 1 requires 2, 2 requires 3; 4 is independent; 5 is not selected.
        let edges = vec![(id(1), id(2)), (id(2), id(3)), (id(4), id(5))];
        let order = execution_order(&[id(1), id(4), id(2), id(3), id(4)], &edges);
        assert_eq!(ids(&order), [id(4), id(3), id(2), id(1)]);
        assert_eq!(order.iter().map(|s| s.execution_order).collect::<Vec<_>>(), [1, 2, 3, 4]);
        let deps: Vec<Vec<Uuid>> = order.iter().map(|s| s.dependencies.clone()).collect();
        assert_eq!(deps, [vec![], vec![], vec![id(3)], vec![id(2)]], "only selected requirements are named");
    }

    #[test]
    fn cycle_members_are_appended_at_the_end() {
        let edges = vec![(id(1), id(2)), (id(2), id(1)), (id(3), id(4))];
        let order = execution_order(&[id(1), id(2), id(3), id(4)], &edges);
        assert_eq!(ids(&order), [id(4), id(3), id(1), id(2)]);
        assert!(execution_order(&[], &edges).is_empty());
    }
}
