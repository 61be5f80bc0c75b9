//! Builds a forest from flat rows that point at their parent (menus, positions). Rows keep their
//! input order among siblings; a row whose parent is not among the rows is left out, so a child
//! of a hidden or inactive branch never surfaces at the top, and a corrupt cycle cannot loop.

use std::collections::HashMap;
use uuid::Uuid;

pub fn build<T, N>(
    rows: Vec<T>,
    id: impl Fn(&T) -> Uuid,
    parent: impl Fn(&T) -> Option<Uuid>,
    make: impl Fn(T, Vec<N>) -> N,
) -> Vec<N> {
    let mut by_parent: HashMap<Option<Uuid>, Vec<T>> = HashMap::new();
    for row in rows {
        by_parent.entry(parent(&row)).or_default().push(row);
    }
    grow(None, &mut by_parent, &id, &make)
}

fn grow<T, N>(
    key: Option<Uuid>,
    by_parent: &mut HashMap<Option<Uuid>, Vec<T>>,
    id: &impl Fn(&T) -> Uuid,
    make: &impl Fn(T, Vec<N>) -> N,
) -> Vec<N> {
    let Some(level) = by_parent.remove(&key) else {
        return Vec::new();
    };
    level
        .into_iter()
        .map(|row| {
            let children = grow(Some(id(&row)), by_parent, id, make);
            make(row, children)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Node(u128, Vec<Node>);

    #[test]
    fn orphans_and_cycles_are_left_out() {
        let u = Uuid::from_u128;
        let rows = vec![(1, None), (2, Some(1)), (3, Some(2)), (4, Some(99)), (5, Some(6)), (6, Some(5)), (7, None)];
        let forest = build(rows, |r| u(r.0), |r| r.1.map(u), |r, kids| Node(r.0, kids));
        assert_eq!(forest, vec![Node(1, vec![Node(2, vec![Node(3, vec![])])]), Node(7, vec![])]);
    }
}
