//! Partial updates: a field that may be cleared needs three states — absent (keep), `null`
//! (clear) and a value (set). Declare it `Option<Option<T>>` with
//! `#[serde(default, deserialize_with = "crate::patch::nullable")]`.

use sea_orm::ActiveValue;
use serde::{Deserialize, Deserializer};

/// Applies an optional text field of an update body: absent keeps the column, a value is stored
/// trimmed, and a blank value clears it.
pub fn set_text(field: &mut ActiveValue<Option<String>>, value: Option<String>) {
    if let Some(v) = value {
        *field = ActiveValue::Set(Some(v.trim().to_owned()).filter(|s| !s.is_empty()));
    }
}

pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
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
