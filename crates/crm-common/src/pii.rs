//! Masking of personal data for callers who may not see it (seed 004): customers' and contacts'
//! phones, e-mails, messenger ids and passport numbers in service-management, leads' and orders'
//! in order-workflow. The mask keeps enough to recognise a value (`+62 812-****-7890`) and never
//! enough to use it; an update that sends a masked value back leaves the stored one alone
//! ([`echoes_mask`]).

/// The character that replaces hidden ones.
const HIDDEN: char = '*';

/// Keeps the first `head` and last `tail` letters or digits, hides the ones between, and leaves
/// separators (spaces, dashes, `+`) where they are. Short values are hidden whole.
fn keep(value: &str, head: usize, tail: usize) -> String {
    let significant = value.chars().filter(|c| c.is_alphanumeric()).count();
    if significant <= head + tail {
        return value.chars().map(|c| if c.is_alphanumeric() { HIDDEN } else { c }).collect();
    }
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= head || seen > significant - tail { c } else { HIDDEN }
        })
        .collect()
}

/// `+62 812-3456-7890` → `+62 812-****-7890`.
pub fn phone(value: &str) -> String {
    keep(value, 5, 4)
}

/// `budi.santoso@example.co.id` → `b***@example.co.id`.
pub fn email(value: &str) -> String {
    match value.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => keep(value, 1, 0),
    }
}

/// A messenger id: `budi_2024` → `bu*******`.
pub fn handle(value: &str) -> String {
    keep(value, 2, 0)
}

/// A document number: `X1234567` → `****4567`.
pub fn document(value: &str) -> String {
    keep(value, 0, 4)
}

/// Applies `mask` when `hide` is set.
pub fn masked(value: Option<String>, hide: bool, mask: fn(&str) -> String) -> Option<String> {
    if hide { value.map(|v| mask(&v)) } else { value }
}

/// Whether `sent` is only the masked form of what is stored (a client echoing what it was shown):
/// such a value must not overwrite the real one.
pub fn echoes_mask(sent: &str, stored: Option<&str>, mask: fn(&str) -> String) -> bool {
    sent.contains(HIDDEN) && stored.is_some_and(|s| mask(s) == sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_their_shape_and_ends() {
        assert_eq!(phone("+62 812-3456-7890"), "+62 812-****-7890");
        assert_eq!(phone("081234567890"), "08123***7890");
        assert_eq!(phone("12345"), "*****");
    }

    #[test]
    fn emails_handles_and_documents() {
        assert_eq!(email("budi.santoso@example.co.id"), "b***@example.co.id");
        assert_eq!(handle("budi_2024"), "bu**_****");
        assert_eq!(document("X1234567"), "****4567");
        assert_eq!(masked(Some("X1234567".into()), false, document).as_deref(), Some("X1234567"));
    }

    #[test]
    fn an_echoed_mask_is_recognised_and_a_new_value_is_not() {
        let stored = Some("+62 812-3456-7890");
        assert!(echoes_mask("+62 812-****-7890", stored, phone));
        assert!(!echoes_mask("+62 812-9999-7890", stored, phone));
        assert!(!echoes_mask("+62 8**-****-7890", stored, phone));
        assert!(!echoes_mask("+62 812-****-7890", None, phone));
    }
}
