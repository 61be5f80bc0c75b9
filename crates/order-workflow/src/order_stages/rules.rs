//! The stage rules that need no database: the status machine and what a change of status or
//! progress makes of the other. Kept apart so each is tested as a table.

use crm_common::{ApiError, ApiResult};

pub const STATUSES: &[&str] = &["pending", "in_progress", "completed", "cancelled"];

/// Where a stage may go from `from`: forward only; `completed` and `cancelled` are final.
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
        format!("a stage that is {from} cannot change status")
    } else {
        format!("a stage that is {from} cannot become {to}; allowed: {}", allowed.join(", "))
    }))
}

/// The status and progress a stage ends with after a change asking for `status` and `progress`
/// (either may be absent): completing means 100 %; progress on a pending stage starts it; a
/// finished stage's progress no longer moves; progress 100 alone does not complete a stage
/// (someone must say it is done).
pub fn settle(
    current_status: &str,
    current_progress: i32,
    status: Option<&str>,
    progress: Option<i32>,
) -> ApiResult<(String, i32)> {
    if let Some(p) = progress
        && !(0..=100).contains(&p)
    {
        return Err(ApiError::field("progress_percent", "must be between 0 and 100"));
    }
    let mut to = status.unwrap_or(current_status).to_owned();
    check_move(current_status, &to)?;
    let final_now = matches!(current_status, "completed" | "cancelled");
    if final_now && progress.is_some_and(|p| p != current_progress) {
        return Err(ApiError::conflict(format!("a stage that is {current_status} keeps its progress")));
    }
    if to == "pending" && progress.is_some_and(|p| p > 0) {
        to = "in_progress".into();
    }
    let progress = match to.as_str() {
        "completed" => 100,
        _ => progress.unwrap_or(current_progress),
    };
    Ok((to, progress))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_machine() {
        let table = [
            ("pending", "in_progress", true),
            ("pending", "completed", true),
            ("pending", "cancelled", true),
            ("in_progress", "completed", true),
            ("in_progress", "cancelled", true),
            ("in_progress", "pending", false),
            ("completed", "in_progress", false),
            ("completed", "cancelled", false),
            ("cancelled", "pending", false),
            ("completed", "completed", true),
        ];
        for (from, to, ok) in table {
            assert_eq!(check_move(from, to).is_ok(), ok, "{from} -> {to}");
        }
        let err = check_move("in_progress", "pending").unwrap_err().to_string();
        assert!(err.contains("completed, cancelled"), "{err}");
    }

    #[test]
    fn status_and_progress_settle_together() {
        assert_eq!(settle("pending", 0, None, Some(30)).unwrap(), ("in_progress".into(), 30));
        assert_eq!(settle("pending", 0, None, Some(0)).unwrap(), ("pending".into(), 0));
        assert_eq!(settle("in_progress", 30, Some("completed"), None).unwrap(), ("completed".into(), 100));
        assert_eq!(settle("in_progress", 30, Some("completed"), Some(50)).unwrap(), ("completed".into(), 100));
        assert_eq!(settle("in_progress", 30, None, Some(100)).unwrap(), ("in_progress".into(), 100));
        assert_eq!(settle("in_progress", 30, Some("cancelled"), None).unwrap(), ("cancelled".into(), 30));
        assert!(settle("pending", 0, None, Some(101)).is_err());
        assert!(settle("pending", 0, None, Some(-1)).is_err());
        assert!(settle("completed", 100, None, Some(50)).is_err());
        assert!(settle("in_progress", 10, Some("pending"), None).is_err());
    }
}
