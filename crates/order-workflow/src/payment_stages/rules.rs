//! The payment-stage rules that need no database: the status a stage has for what was paid and
//! when it falls due, the moves a person may make by hand, and the payment checks. Kept apart
//! so each is tested as a table.

use chrono::NaiveDate;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;

pub const STATUSES: &[&str] = &["pending", "partial", "paid", "overdue", "cancelled"];
pub const TRIGGERS: &[&str] = &["manual", "milestone", "date", "completion"];

/// How far along the money is: statuses only ever move to a higher rank (`overdue` sits beside
/// `partial`: a stage late with or without a first payment; only a later due date, set by hand,
/// takes it back to `pending`).
fn rank(status: &str) -> u8 {
    match status {
        "pending" => 0,
        "partial" | "overdue" => 1,
        "paid" => 2,
        _ => 3,
    }
}

/// The status of a stage that is not cancelled, from what it asks, what was paid and its due
/// date: `paid` once nothing remains (a stage of zero asks nothing, so it stays `pending`),
/// `overdue` when money remains after the due date, `partial` when some came, else `pending`.
/// Never lower than `current`: money received is never taken back by a status.
pub fn status_for(current: &str, amount: Decimal, paid: Decimal, due: Option<NaiveDate>, today: NaiveDate) -> String {
    if current == "cancelled" {
        return current.into();
    }
    let derived = if amount > Decimal::ZERO && paid >= amount {
        "paid"
    } else if due.is_some_and(|d| d < today) {
        "overdue"
    } else if paid > Decimal::ZERO {
        "partial"
    } else {
        "pending"
    };
    if rank(derived) < rank(current) { current.into() } else { derived.into() }
}

/// What a person may set by hand: only `cancelled` (on a stage not yet paid); every other status
/// follows the payments. 409 naming the allowed move otherwise.
pub fn check_manual_status(from: &str, to: &str) -> ApiResult<()> {
    if from == to {
        return Ok(());
    }
    let allowed: &[&str] = if matches!(from, "paid" | "cancelled") { &[] } else { &["cancelled"] };
    if allowed.contains(&to) {
        return Ok(());
    }
    Err(ApiError::conflict(if allowed.is_empty() {
        format!("a payment stage that is {from} cannot change status")
    } else {
        format!(
            "a payment stage that is {from} cannot become {to} by hand (its status follows its payments); allowed: {}",
            allowed.join(", ")
        )
    }))
}

/// A payment must be more than zero and at most what remains (400 naming `amount` otherwise).
pub fn check_payment(status: &str, remaining: Decimal, amount: Decimal) -> ApiResult<()> {
    if matches!(status, "cancelled" | "paid") {
        return Err(ApiError::conflict(format!("the payment stage is {status} and takes no more payments")));
    }
    if amount <= Decimal::ZERO {
        return Err(ApiError::field("amount", "must be greater than 0"));
    }
    if amount > remaining {
        return Err(ApiError::field("amount", format!("is more than the {remaining} that remains to be paid")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn status_follows_the_money_forward_only() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let past = NaiveDate::from_ymd_opt(2026, 12, 1);
        let later = NaiveDate::from_ymd_opt(2026, 12, 31);
        let table = [
            ("pending", "100", "0", later, "pending"),
            ("pending", "100", "40", later, "partial"),
            ("partial", "100", "100", later, "paid"),
            ("pending", "100", "100", None, "paid"),
            ("pending", "100", "0", past, "overdue"),
            ("partial", "100", "40", past, "overdue"),
            ("overdue", "100", "100", past, "paid"),
            ("overdue", "100", "50", past, "overdue"),
            ("pending", "100", "0", Some(today), "pending"),
            ("partial", "100", "0", later, "partial"),
            ("paid", "100", "50", later, "paid"),
            ("cancelled", "100", "100", later, "cancelled"),
            ("pending", "0", "0", later, "pending"),
        ];
        for (from, amount, paid, due, want) in table {
            assert_eq!(status_for(from, d(amount), d(paid), due, today), want, "{from} {amount}/{paid} {due:?}");
        }
    }

    #[test]
    fn only_cancelling_by_hand() {
        assert!(check_manual_status("pending", "cancelled").is_ok());
        assert!(check_manual_status("overdue", "cancelled").is_ok());
        assert!(check_manual_status("partial", "partial").is_ok());
        assert!(check_manual_status("pending", "paid").is_err());
        assert!(check_manual_status("paid", "cancelled").is_err());
        assert!(check_manual_status("cancelled", "pending").is_err());
        let err = check_manual_status("partial", "pending").unwrap_err().to_string();
        assert!(err.contains("allowed: cancelled"), "{err}");
    }

    #[test]
    fn payments_are_positive_and_never_overpay() {
        assert!(check_payment("pending", d("100"), d("100")).is_ok());
        assert!(check_payment("partial", d("60"), d("0.01")).is_ok());
        assert!(check_payment("pending", d("100"), d("100.01")).is_err());
        assert!(check_payment("pending", d("100"), d("0")).is_err());
        assert!(check_payment("pending", d("100"), d("-1")).is_err());
        assert!(check_payment("paid", d("0"), d("1")).is_err());
        assert!(check_payment("cancelled", d("100"), d("1")).is_err());
    }
}
