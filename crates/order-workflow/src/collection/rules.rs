//! The collection-task rules that need no database: the task's status machine and which payment
//! stages are due for collection. Kept apart so each is tested as a table.

use chrono::NaiveDate;
use crm_common::{ApiError, ApiResult};

pub const STATUSES: &[&str] = &["pending", "in_progress", "completed", "cancelled"];
pub const TYPES: &[&str] = &["manual", "auto"];

/// Forward only; `completed` and `cancelled` are final.
pub fn moves_from(from: &str) -> &'static [&'static str] {
    match from {
        "pending" => &["in_progress", "completed", "cancelled"],
        "in_progress" => &["completed", "cancelled"],
        _ => &[],
    }
}

/// A move along the machine, or 409 naming the moves allowed from here.
pub fn check_move(from: &str, to: &str) -> ApiResult<()> {
    if from == to || moves_from(from).contains(&to) {
        return Ok(());
    }
    let allowed = moves_from(from);
    Err(ApiError::conflict(if allowed.is_empty() {
        format!("a collection task that is {from} cannot change status")
    } else {
        format!("a collection task that is {from} cannot become {to}; allowed: {}", allowed.join(", "))
    }))
}

/// Whether a payment stage is due for collection today: money still expected (not paid or
/// cancelled) and its due date reached, or for the `date` trigger its trigger date.
pub fn is_due(
    status: &str,
    trigger: &str,
    trigger_date: Option<NaiveDate>,
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    matches!(status, "pending" | "partial" | "overdue")
        && (due.is_some_and(|d| d <= today) || (trigger == "date" && trigger_date.is_some_and(|d| d <= today)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_machine() {
        let table = [
            ("pending", "in_progress", true),
            ("pending", "completed", true),
            ("in_progress", "completed", true),
            ("in_progress", "pending", false),
            ("completed", "pending", false),
            ("cancelled", "in_progress", false),
        ];
        for (from, to, ok) in table {
            assert_eq!(check_move(from, to).is_ok(), ok, "{from} -> {to}");
        }
        assert!(check_move("in_progress", "pending").unwrap_err().to_string().contains("completed, cancelled"));
    }

    #[test]
    fn which_stages_are_due() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let yesterday = NaiveDate::from_ymd_opt(2026, 12, 6);
        let tomorrow = NaiveDate::from_ymd_opt(2026, 12, 8);
        assert!(is_due("pending", "manual", None, Some(today), today));
        assert!(is_due("overdue", "manual", None, yesterday, today));
        assert!(is_due("partial", "manual", None, yesterday, today));
        assert!(!is_due("pending", "manual", None, tomorrow, today));
        assert!(!is_due("paid", "manual", None, yesterday, today));
        assert!(!is_due("cancelled", "manual", None, yesterday, today));
        assert!(is_due("pending", "date", yesterday, None, today));
        assert!(!is_due("pending", "manual", yesterday, None, today));
        assert!(!is_due("pending", "manual", None, None, today));
    }
}
