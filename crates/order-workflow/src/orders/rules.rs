//! The order rules that need no database: the status machine, who may make which move, order
//! numbers, and the arithmetic of items and totals. Kept apart so each is tested as a table.

use chrono::NaiveDate;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use uuid::Uuid;

pub const STATUSES: &[&str] = &["submitted", "approved", "assigned", "processing", "completed", "cancelled"];
pub const ITEM_STATUSES: &[&str] = &["pending", "in_progress", "completed", "cancelled"];

/// Where an order may go from `from` (besides staying where it is). `completed` and `cancelled`
/// are final; every other status may be cancelled.
pub fn moves_from(from: &str) -> &'static [&'static str] {
    match from {
        "submitted" => &["approved", "cancelled"],
        "approved" => &["assigned", "cancelled"],
        "assigned" => &["processing", "cancelled"],
        "processing" => &["completed", "cancelled"],
        _ => &[],
    }
}

/// A move along the machine, or 409 naming the moves that are allowed from here.
pub fn check_move(from: &str, to: &str) -> ApiResult<()> {
    if from == to || moves_from(from).contains(&to) {
        return Ok(());
    }
    let allowed = moves_from(from);
    Err(ApiError::conflict(if allowed.is_empty() {
        format!("an order that is {from} cannot change status")
    } else {
        format!("an order that is {from} cannot become {to}; allowed: {}", allowed.join(", "))
    }))
}

/// What the caller is, for deciding who may move an order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor {
    pub user_id: Uuid,
    /// Holds `order.approve`: a manager (ADMIN).
    pub approver: bool,
    /// Holds `order.assign` (ADMIN, OPERATION managers).
    pub assigner: bool,
}

/// Who may make the move `to` on an order assigned to `assignee` and sold by `seller`: approving
/// takes an approver; assigning an assigner; processing and completing the assigned operator (or
/// an approver standing in); cancelling an approver, or the seller while nobody has approved yet.
pub fn check_actor(actor: &Actor, from: &str, to: &str, seller: Uuid, assignee: Option<Uuid>) -> ApiResult<()> {
    if from == to {
        return Ok(());
    }
    let allowed = match to {
        "approved" => actor.approver,
        "assigned" => actor.assigner,
        "processing" | "completed" => actor.approver || assignee == Some(actor.user_id),
        "cancelled" => actor.approver || (from == "submitted" && seller == actor.user_id),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(match to {
            "approved" => "only a manager may approve an order",
            "assigned" => "only a manager of operations may assign an order",
            "processing" | "completed" => "only the operator the order is assigned to may process it",
            "cancelled" => "only a manager, or the seller before approval, may cancel an order",
            _ => "this status change is not allowed",
        }))
    }
}

/// `ORD-YYYYMMDD-XXXXXX`: the day and six upper-case characters of a random id. Uniqueness is
/// the database's (a unique index per organization); a collision is retried with a new id.
pub fn order_number(day: NaiveDate, random: Uuid) -> String {
    let tail: String = random.simple().to_string().chars().take(6).collect();
    format!("ORD-{}-{}", day.format("%Y%m%d"), tail.to_uppercase())
}

/// `quantity × unit_price − discount`, rounded to cents; none without a unit price. A discount
/// larger than the line is refused rather than producing a negative amount.
pub fn item_amount(quantity: i32, unit_price: Option<Decimal>, discount: Decimal) -> ApiResult<Option<Decimal>> {
    let Some(price) = unit_price else { return Ok(None) };
    let gross = price * Decimal::from(quantity);
    if discount > gross {
        return Err(ApiError::field("discount_amount", "is larger than quantity × unit_price"));
    }
    Ok(Some(crm_common::api::money::amount(gross - discount)))
}

/// The order's `total_amount` (Σ item amounts, items without a price counting nothing) and
/// `final_amount` (the total less the order's own discount, never below zero).
pub fn totals(item_amounts: impl IntoIterator<Item = Option<Decimal>>, discount: Decimal) -> (Decimal, Decimal) {
    let total: Decimal = item_amounts.into_iter().flatten().sum();
    let total = crm_common::api::money::amount(total);
    (total, (total - discount).max(Decimal::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_status_machine() {
        let table = [
            ("submitted", "approved", true),
            ("submitted", "cancelled", true),
            ("submitted", "assigned", false),
            ("submitted", "completed", false),
            ("approved", "assigned", true),
            ("approved", "processing", false),
            ("assigned", "processing", true),
            ("assigned", "approved", false),
            ("processing", "completed", true),
            ("processing", "cancelled", true),
            ("completed", "cancelled", false),
            ("cancelled", "submitted", false),
            ("completed", "completed", true),
        ];
        for (from, to, ok) in table {
            assert_eq!(check_move(from, to).is_ok(), ok, "{from} -> {to}");
        }
        let err = check_move("submitted", "completed").unwrap_err().to_string();
        assert!(err.contains("approved, cancelled"), "{err}");
    }

    #[test]
    fn who_may_move() {
        let seller = Uuid::now_v7();
        let operator = Uuid::now_v7();
        let manager = Actor { user_id: Uuid::now_v7(), approver: true, assigner: true };
        let sales = Actor { user_id: seller, ..Actor::default() };
        let op = Actor { user_id: operator, ..Actor::default() };
        assert!(check_actor(&manager, "submitted", "approved", seller, None).is_ok());
        assert!(check_actor(&sales, "submitted", "approved", seller, None).is_err());
        assert!(check_actor(&sales, "submitted", "cancelled", seller, None).is_ok());
        assert!(check_actor(&sales, "approved", "cancelled", seller, None).is_err());
        assert!(check_actor(&op, "assigned", "processing", seller, Some(operator)).is_ok());
        assert!(check_actor(&op, "assigned", "processing", seller, Some(Uuid::now_v7())).is_err());
        assert!(check_actor(&op, "processing", "completed", seller, Some(operator)).is_ok());
        assert!(check_actor(&sales, "approved", "assigned", seller, None).is_err());
    }

    #[test]
    fn numbers_have_the_original_shape() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let n = order_number(day, Uuid::from_str("a1b2c3d4-0000-4000-8000-000000000000").unwrap());
        assert_eq!(n, "ORD-20261207-A1B2C3");
    }

    #[test]
    fn amounts_and_totals() {
        assert_eq!(item_amount(3, Some(d("100.50")), d("1.50")).unwrap(), Some(d("300.00")));
        assert_eq!(item_amount(1, None, Decimal::ZERO).unwrap(), None);
        assert!(item_amount(1, Some(d("5")), d("6")).is_err());
        assert_eq!(totals([Some(d("10")), None, Some(d("2.5"))], d("1")), (d("12.5"), d("11.5")));
        assert_eq!(totals([Some(d("10"))], d("20")), (d("10"), Decimal::ZERO));
        assert_eq!(totals([], Decimal::ZERO), (Decimal::ZERO, Decimal::ZERO));
    }
}
