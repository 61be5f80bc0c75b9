//! The opportunity rules that need no database: how `stage` and `status` stay consistent, when the
//! close date is set, and a product line's total. Plain functions so that their tables are tested
//! here, by hand, apart from HTTP.
//!
//! The original kept stage and status apart (a "won" deal could sit in `proposal`). Here they move
//! together: `closed_won` is `won`, `closed_lost` is `lost`, and an open stage is `active` (or
//! `cancelled`, a deal dropped where it stood). Setting one sets the other; changing both into a
//! contradiction is refused.

use chrono::NaiveDate;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;

/// Every stage, in the board's order.
pub const STAGES: &[&str] =
    &["initial_contact", "needs_analysis", "proposal", "negotiation", "closed_won", "closed_lost"];
/// Every status.
pub const STATUSES: &[&str] = &["active", "won", "lost", "cancelled"];
/// What a product line of an opportunity may be at.
pub const PRODUCT_STATUSES: &[&str] = &["pending", "in_progress", "completed", "cancelled"];
/// What triggers a payment stage.
pub const PAYMENT_TRIGGERS: &[&str] = &["manual", "milestone", "date", "completion"];
/// Where a payment stage stands.
pub const PAYMENT_STATUSES: &[&str] = &["pending", "paid", "overdue", "cancelled"];

/// Where a reopened deal goes when only its status is set back to `active`: the last open stage,
/// where a deal stands just before it is closed.
pub const REOPEN_STAGE: &str = "negotiation";

pub fn is_open_stage(stage: &str) -> bool {
    STAGES.contains(&stage) && !is_closed_stage(stage)
}

fn is_closed_stage(stage: &str) -> bool {
    matches!(stage, "closed_won" | "closed_lost")
}

/// The status a stage implies, where it implies one: closed stages their outcome; open stages
/// `active` (unless the deal is `cancelled`, which an open stage allows too).
fn status_of_closed(stage: &str) -> Option<&'static str> {
    match stage {
        "closed_won" => Some("won"),
        "closed_lost" => Some("lost"),
        _ => None,
    }
}

/// Whether `stage` and `status` may stand together.
pub fn consistent(stage: &str, status: &str) -> bool {
    match status_of_closed(stage) {
        Some(outcome) => status == outcome,
        None => matches!(status, "active" | "cancelled"),
    }
}

fn check_known(stage: Option<&str>, status: Option<&str>) -> ApiResult<()> {
    let mut v = crm_common::api::validate::Validator::new();
    v.one_of("stage", stage, STAGES).one_of("status", status, STATUSES);
    v.finish()
}

/// The `(stage, status)` an opportunity at `(stage, status)` ends up at when a request sets
/// `new_stage` and/or `new_status`:
/// - a stage alone carries the status with it: closed stages their outcome, an open stage
///   `active` (moving a won, lost or cancelled deal back onto the board reopens it);
/// - a status alone carries the stage: `won`/`lost` close it, `active` reopens a closed deal at
///   [`REOPEN_STAGE`] and leaves an open one where it is, `cancelled` drops an open deal where it
///   stands (a closed one must be reopened first: 409);
/// - both that agree are taken; both that disagree count as the one that changes alone, since
///   the admin frontend's edit dialog sends both whichever the user touched (a stage picked with
///   the status left as it was moves the status too); both changing into a contradiction is a
///   400 naming them.
pub fn settle(
    stage: &str,
    status: &str,
    new_stage: Option<&str>,
    new_status: Option<&str>,
) -> ApiResult<(String, String)> {
    check_known(new_stage, new_status)?;
    let (to_stage, to_status) = match (new_stage, new_status) {
        (None, None) => (stage, status),
        (Some(s), Some(t)) if consistent(s, t) => (s, t),
        (Some(s), Some(t)) if t == status => return settle(stage, status, Some(s), None),
        (Some(s), Some(t)) if s == stage => return settle(stage, status, None, Some(t)),
        (Some(s), Some(t)) => {
            return Err(ApiError::field(
                "status",
                format!("stage {s} and status {t} contradict each other: {}", pairing()),
            ));
        }
        (Some(s), None) => (s, status_of_closed(s).unwrap_or("active")),
        (None, Some(t)) => match t {
            "won" => ("closed_won", t),
            "lost" => ("closed_lost", t),
            "active" if is_closed_stage(stage) => (REOPEN_STAGE, t),
            "cancelled" if is_closed_stage(stage) => {
                return Err(ApiError::conflict(format!(
                    "a deal at {stage} cannot be cancelled; move it back to an open stage first"
                )));
            }
            _ => (stage, t),
        },
    };
    Ok((to_stage.to_owned(), to_status.to_owned()))
}

fn pairing() -> &'static str {
    "closed_won goes with won, closed_lost with lost, and the open stages with active or cancelled"
}

/// The close date after a move from `before` to `after` (statuses): closing (into `won` or `lost`
/// from anything else) dates it `today` unless the request gives a date; reopening (out of
/// `won`/`lost`) clears it unless the request gives one; otherwise the request's date, if any,
/// or the stored one.
pub fn close_date(
    before: &str,
    after: &str,
    stored: Option<NaiveDate>,
    given: Option<Option<NaiveDate>>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let closed = |s: &str| matches!(s, "won" | "lost");
    match given {
        Some(date) if date.is_some() || !closed(after) => date,
        _ if closed(after) && before != after => Some(today),
        _ if closed(before) && !closed(after) => None,
        _ => stored,
    }
}

/// A product line's total: `unit_price × quantity`, exact.
pub fn line_total(unit_price: Decimal, quantity: i32) -> Decimal {
    unit_price * Decimal::from(quantity)
}

/// A probability as sent (the admin frontend parses it as a float): 0–100, kept as a whole
/// percentage, rounded half away from zero.
pub fn probability(value: f64) -> ApiResult<i32> {
    if !(0.0..=100.0).contains(&value) {
        return Err(ApiError::field("probability", "must be between 0 and 100"));
    }
    Ok(value.round() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(
        stage: &str,
        status: &str,
        new_stage: Option<&str>,
        new_status: Option<&str>,
    ) -> Option<(String, String)> {
        settle(stage, status, new_stage, new_status).ok()
    }

    fn pair(stage: &str, status: &str) -> Option<(String, String)> {
        Some((stage.to_owned(), status.to_owned()))
    }

    /// From (stage, status), a request (stage, status) → the result, or `None` when refused.
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, Option<(String, String)>);

    #[test]
    fn the_stage_and_status_table() {
        // (from stage, from status, new stage, new status) → (stage, status) or refused.
        let table: &[Row] = &[
            ("initial_contact", "active", Some("proposal"), None, pair("proposal", "active")),
            ("proposal", "active", Some("closed_won"), None, pair("closed_won", "won")),
            ("proposal", "active", Some("closed_lost"), None, pair("closed_lost", "lost")),
            ("closed_won", "won", Some("negotiation"), None, pair("negotiation", "active")),
            ("proposal", "cancelled", Some("negotiation"), None, pair("negotiation", "active")),
            ("proposal", "active", None, Some("won"), pair("closed_won", "won")),
            ("proposal", "active", None, Some("lost"), pair("closed_lost", "lost")),
            ("closed_lost", "lost", None, Some("active"), pair("negotiation", "active")),
            ("closed_won", "won", None, Some("lost"), pair("closed_lost", "lost")),
            ("needs_analysis", "active", None, Some("cancelled"), pair("needs_analysis", "cancelled")),
            ("needs_analysis", "cancelled", None, Some("active"), pair("needs_analysis", "active")),
            ("closed_won", "won", None, Some("cancelled"), None),
            ("proposal", "active", Some("closed_won"), Some("won"), pair("closed_won", "won")),
            ("proposal", "active", Some("negotiation"), Some("cancelled"), pair("negotiation", "cancelled")),
            ("proposal", "active", Some("closed_won"), Some("lost"), None),
            ("proposal", "active", Some("negotiation"), Some("won"), None),
            // The edit dialog sends both: the one that changed decides.
            ("proposal", "active", Some("closed_lost"), Some("active"), pair("closed_lost", "lost")),
            ("closed_won", "won", Some("proposal"), Some("won"), pair("proposal", "active")),
            ("proposal", "active", Some("proposal"), Some("won"), pair("closed_won", "won")),
            ("closed_won", "won", Some("closed_won"), Some("cancelled"), None),
            ("proposal", "active", None, None, pair("proposal", "active")),
            ("proposal", "active", Some("won"), None, None),
            ("proposal", "active", None, Some("closed_won"), None),
        ];
        for (stage, status, new_stage, new_status, expected) in table {
            assert_eq!(
                &settled(stage, status, *new_stage, *new_status),
                expected,
                "{stage}/{status} + {new_stage:?}/{new_status:?}"
            );
        }
    }

    #[test]
    fn refusals_say_why() {
        let Err(ApiError::Validation(f)) = settle("proposal", "active", Some("closed_won"), Some("lost")) else {
            panic!("not a validation error")
        };
        assert!(f[0].message.contains("closed_won goes with won"), "{}", f[0].message);
        let Err(ApiError::Conflict { message, .. }) = settle("closed_won", "won", None, Some("cancelled")) else {
            panic!("not a conflict")
        };
        assert!(message.contains("open stage"), "{message}");
    }

    #[test]
    fn every_settled_pair_is_consistent() {
        for stage in STAGES {
            for status in STATUSES.iter().copied().filter(|s| consistent(stage, s)) {
                for new_stage in STAGES.iter().copied().map(Some).chain([None]) {
                    for new_status in STATUSES.iter().copied().map(Some).chain([None]) {
                        if let Ok((s, t)) = settle(stage, status, new_stage, new_status) {
                            assert!(consistent(&s, &t), "{stage}/{status} + {new_stage:?}/{new_status:?} → {s}/{t}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn closing_dates_it_and_reopening_clears_it() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
        let earlier = NaiveDate::from_ymd_opt(2026, 11, 1);
        assert_eq!(close_date("active", "won", None, None, today), Some(today));
        assert_eq!(close_date("active", "lost", None, Some(earlier), today), earlier);
        assert_eq!(close_date("active", "won", None, Some(None), today), Some(today), "a closed deal has a date");
        assert_eq!(close_date("won", "won", earlier, None, today), earlier);
        assert_eq!(close_date("won", "lost", earlier, None, today), Some(today));
        assert_eq!(close_date("won", "active", earlier, None, today), None);
        assert_eq!(close_date("active", "active", None, Some(earlier), today), earlier);
        assert_eq!(close_date("active", "cancelled", earlier, None, today), earlier);
    }

    #[test]
    fn totals_and_probabilities() {
        assert_eq!(line_total(Decimal::new(125_050, 2), 3), Decimal::new(375_150, 2));
        assert_eq!(line_total(Decimal::ZERO, 2), Decimal::ZERO);
        assert_eq!(probability(33.5).ok(), Some(34));
        assert_eq!(probability(0.0).ok(), Some(0));
        assert!(probability(100.5).is_err());
        assert!(probability(-1.0).is_err());
    }
}
