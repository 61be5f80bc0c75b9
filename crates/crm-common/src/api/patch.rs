//! Partial updates: a field that may be cleared needs three states — absent (keep), `null`
//! (clear) and a value (set). Declare it `Option<Option<T>>` with
//! `#[serde(default, deserialize_with = "crm_common::api::patch::nullable")]`.

use serde::{Deserialize, Deserializer};

/// Applies an optional text field of an update body: absent keeps the column, a value is stored
/// trimmed, and a blank value clears it.
#[cfg(feature = "db")]
pub fn set_text(field: &mut sea_orm::ActiveValue<Option<String>>, value: Option<String>) {
    if let Some(v) = value {
        *field = sea_orm::ActiveValue::Set(Some(v.trim().to_owned()).filter(|s| !s.is_empty()));
    }
}

/// A trimmed text, `None` when blank.
pub fn clean(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The version an update is conditional on (optimistic locking): the body's `version`, else an
/// `If-Match` header (`"3"`, `W/"3"` or `3`); `None` makes the update unconditional.
pub fn expected_version(headers: &axum::http::HeaderMap, body: Option<i32>) -> super::ApiResult<Option<i32>> {
    if body.is_some() {
        return Ok(body);
    }
    match headers.get(axum::http::header::IF_MATCH).map(|v| v.to_str().unwrap_or_default()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .map(Some)
            .map_err(|_| super::ApiError::field("If-Match", "must be the record's version")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::nullable")]
        parent: Option<Option<u32>>,
    }

    #[test]
    fn absent_null_and_value() {
        let parse = |s: &str| serde_json::from_str::<Body>(s).unwrap().parent;
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"parent": null}"#), Some(None));
        assert_eq!(parse(r#"{"parent": 3}"#), Some(Some(3)));
    }
}
