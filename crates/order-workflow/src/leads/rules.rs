//! The lead rules that need no database: the status machine and the duplicate check's scoring.
//! Plain functions so that their tables are tested here, by hand, apart from HTTP.

use crm_common::{ApiError, ApiResult};

/// Every lead status, in the machine's order.
pub const STATUSES: &[&str] = &["new", "contacted", "qualified", "converted", "lost"];

/// Position on the forward path `new < contacted < qualified < converted`; `lost` is off it.
fn rank(status: &str) -> Option<u8> {
    match status {
        "new" => Some(1),
        "contacted" => Some(2),
        "qualified" => Some(3),
        "converted" => Some(4),
        _ => None,
    }
}

/// `converted` and `lost` end a lead's life: nothing moves them again.
pub fn is_final(status: &str) -> bool {
    matches!(status, "converted" | "lost")
}

/// Whether a lead may go from `from` to `to`: staying put is always allowed; final statuses move
/// nowhere; any other may be lost; `converted` only from `qualified`; otherwise forward only.
pub fn can_move(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    if is_final(from) {
        return false;
    }
    match (rank(from), to) {
        (_, "lost") => true,
        (Some(3), "converted") => true,
        (_, "converted") => false,
        (Some(f), t) => rank(t).is_some_and(|t| t > f),
        (None, _) => false,
    }
}

/// The statuses `from` may move to (besides staying), in the machine's order.
pub fn allowed_moves(from: &str) -> Vec<&'static str> {
    STATUSES.iter().copied().filter(|to| *to != from && can_move(from, to)).collect()
}

/// [`can_move`] as an answer: an unknown status is a 400; a move the machine refuses is a 409
/// naming the moves that are allowed.
pub fn check_move(from: &str, to: &str) -> ApiResult<()> {
    if !STATUSES.contains(&to) {
        return Err(ApiError::field("status", format!("must be one of {}", STATUSES.join(", "))));
    }
    if can_move(from, to) {
        return Ok(());
    }
    let allowed = allowed_moves(from);
    let hint = if allowed.is_empty() {
        format!("{from} is final")
    } else {
        format!("allowed from {from}: {}", allowed.join(", "))
    };
    Err(ApiError::conflict(format!("a lead cannot move from {from} to {to}; {hint}")))
}

/// Python's `difflib.SequenceMatcher(None, a, b).ratio()` (the original's measure), over
/// characters: `2·M / (|a| + |b|)` where M counts the characters matched by repeatedly taking the
/// longest common block and recursing on both sides of it. 1.0 for two empty strings.
pub fn sequence_ratio(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    2.0 * matching_chars(&a, &b) as f64 / total as f64
}

/// The longest common block of `a` and `b` (earliest in `a`, then in `b`, on ties, as difflib).
fn longest_block(a: &[char], b: &[char]) -> (usize, usize, usize) {
    let mut best = (0, 0, 0);
    let mut prev = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            if ca == cb {
                row[j + 1] = prev[j] + 1;
                let k = row[j + 1];
                if k > best.2 {
                    best = (i + 1 - k, j + 1 - k, k);
                }
            }
        }
        prev = row;
    }
    best
}

fn matching_chars(a: &[char], b: &[char]) -> usize {
    let (i, j, k) = longest_block(a, b);
    if k == 0 {
        return 0;
    }
    k + matching_chars(&a[..i], &b[..j]) + matching_chars(&a[i + k..], &b[j + k..])
}

/// What a duplicate check compares, on the query's side or a lead's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Contact<'a> {
    pub company_name: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// How alike a lead is to the query: the average over the fields present on both sides of the
/// per-field scores — company names by [`sequence_ratio`] case-insensitively, phone and e-mail
/// 1 when equal (e-mail ignoring case) else 0. `None` when no field is present on both sides.
pub fn similarity(query: &Contact, lead: &Contact) -> Option<f64> {
    let mut scores = Vec::new();
    if let (Some(q), Some(l)) = (present(query.company_name), present(lead.company_name)) {
        scores.push(sequence_ratio(&q.to_lowercase(), &l.to_lowercase()));
    }
    if let (Some(q), Some(l)) = (present(query.phone), present(lead.phone)) {
        scores.push(if q == l { 1.0 } else { 0.0 });
    }
    if let (Some(q), Some(l)) = (present(query.email), present(lead.email)) {
        scores.push(if q.eq_ignore_ascii_case(l) { 1.0 } else { 0.0 });
    }
    if scores.is_empty() { None } else { Some(scores.iter().sum::<f64>() / scores.len() as f64) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_machine_table() {
        // (from, to, allowed)
        let table = [
            ("new", "new", true),
            ("new", "contacted", true),
            ("new", "qualified", true),
            ("new", "converted", false),
            ("new", "lost", true),
            ("contacted", "new", false),
            ("contacted", "qualified", true),
            ("contacted", "converted", false),
            ("contacted", "lost", true),
            ("qualified", "new", false),
            ("qualified", "contacted", false),
            ("qualified", "converted", true),
            ("qualified", "lost", true),
            ("converted", "converted", true),
            ("converted", "lost", false),
            ("converted", "qualified", false),
            ("lost", "lost", true),
            ("lost", "new", false),
            ("lost", "contacted", false),
        ];
        for (from, to, allowed) in table {
            assert_eq!(can_move(from, to), allowed, "{from} → {to}");
        }
        assert_eq!(allowed_moves("new"), ["contacted", "qualified", "lost"]);
        assert_eq!(allowed_moves("qualified"), ["converted", "lost"]);
        assert!(allowed_moves("lost").is_empty());
    }

    #[test]
    fn refused_moves_name_the_allowed_ones() {
        let Err(ApiError::Conflict { message, .. }) = check_move("contacted", "new") else { panic!("not a conflict") };
        assert!(message.contains("qualified, lost"), "{message}");
        let Err(ApiError::Conflict { message, .. }) = check_move("lost", "new") else { panic!("not a conflict") };
        assert!(message.contains("lost is final"), "{message}");
        assert!(matches!(check_move("new", "won"), Err(ApiError::Validation(_))));
        assert!(check_move("new", "new").is_ok());
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn sequence_ratio_matches_difflib_by_hand() {
        // difflib.SequenceMatcher(None, "abcd", "bcde").ratio() == 0.75 (block "bcd": 2·3/8).
        assert!(close(sequence_ratio("abcd", "bcde"), 0.75));
        // "pt maju" vs "pt maju jaya": block "pt maju" (7): 2·7/19.
        assert!(close(sequence_ratio("pt maju", "pt maju jaya"), 14.0 / 19.0));
        // "abxcd" vs "abcd": "ab" then "cd" on the right: 2·4/9.
        assert!(close(sequence_ratio("abxcd", "abcd"), 8.0 / 9.0));
        assert!(close(sequence_ratio("abc", "xyz"), 0.0));
        assert!(close(sequence_ratio("same", "same"), 1.0));
        assert!(close(sequence_ratio("", ""), 1.0));
    }

    #[test]
    fn similarity_averages_the_fields_present_on_both_sides() {
        let q = Contact { company_name: Some("PT Maju"), phone: Some("0812"), email: None };
        // Company "pt maju" vs "pt maju jaya" (14/19) and equal phones (1): (14/19 + 1) / 2.
        let lead = Contact { company_name: Some("PT Maju Jaya"), phone: Some("0812"), email: Some("a@b.c") };
        assert!(close(similarity(&q, &lead).unwrap_or(-1.0), (14.0 / 19.0 + 1.0) / 2.0));
        // Different phone: (14/19 + 0) / 2.
        let lead = Contact { company_name: Some("pt maju jaya"), phone: Some("0813"), email: None };
        assert!(close(similarity(&q, &lead).unwrap_or(-1.0), 7.0 / 19.0));
        // Only the e-mail on both sides, equal ignoring case: 1.
        let q = Contact { email: Some("Budi@Maju.id"), ..Contact::default() };
        let lead = Contact { email: Some("budi@maju.id"), phone: Some("1"), ..Contact::default() };
        assert!(close(similarity(&q, &lead).unwrap_or(-1.0), 1.0));
        // Nothing in common: no score.
        let lead = Contact { phone: Some("1"), ..Contact::default() };
        assert!(similarity(&q, &lead).is_none());
        // Blank counts as absent.
        let q = Contact { company_name: Some("  "), phone: Some("1"), ..Contact::default() };
        assert!(close(similarity(&q, &lead).unwrap_or(-1.0), 1.0));
    }
}
