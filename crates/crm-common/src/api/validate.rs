//! Collects field errors so a client learns about every bad field in one round trip.

use super::error::{ApiError, FieldError};

#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) -> &mut Self {
        if !ok {
            self.errors.push(FieldError::new(field, message));
        }
        self
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) -> &mut Self {
        self.errors.push(FieldError::new(field, message));
        self
    }

    /// Trimmed length between `min` and `max` characters.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) -> &mut Self {
        let len = value.trim().chars().count();
        if len < min || len > max {
            let message = if min > 0 && len == 0 {
                "is required".to_owned()
            } else {
                format!("must be between {min} and {max} characters")
            };
            self.errors.push(FieldError::new(field, message));
        }
        self
    }

    pub fn optional_length(&mut self, field: &str, value: Option<&str>, max: usize) -> &mut Self {
        if let Some(v) = value
            && v.chars().count() > max
        {
            self.errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        }
        self
    }

    pub fn email(&mut self, field: &str, value: &str) -> &mut Self {
        self.check(is_email(value), field, "must be a valid e-mail address")
    }

    pub fn one_of(&mut self, field: &str, value: Option<&str>, allowed: &[&str]) -> &mut Self {
        if let Some(v) = value
            && !allowed.contains(&v)
        {
            self.errors.push(FieldError::new(field, format!("must be one of: {}", allowed.join(", "))));
        }
        self
    }

    pub fn finish(&mut self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(std::mem::take(&mut self.errors))) }
    }
}

/// A pragmatic e-mail check: one `@`, non-empty local part, a dotted domain, no spaces, ≤ 254.
pub fn is_email(value: &str) -> bool {
    let value = value.trim();
    if value.len() > 254 || value.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("@b.co"));
        assert!(!is_email("a b@c.co"));
        assert!(!is_email("a@@b.co"));
    }

    #[test]
    fn collects_every_error() {
        let mut v = Validator::new();
        v.length("name", "", 1, 10).email("email", "nope");
        let Err(ApiError::Validation(errs)) = v.finish() else { panic!("expected errors") };
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].message, "is required");
    }
}
