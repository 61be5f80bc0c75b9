//! Money on the wire: `rust_decimal` values written as JSON numbers with their exact digits
//! (`12500000.50`, never a float's rounding such as `12500000.499999`), and read from a JSON
//! number or a numeric string, digit for digit. Clients add amounts with `+`, so they must be
//! numbers; storage and arithmetic stay decimal.
//!
//! Use with `#[serde(with = "crm_common::api::money")]` on `Decimal` fields and
//! `#[serde(with = "crm_common::api::money::opt", default)]` on `Option<Decimal>` ones.

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::str::FromStr;

/// Digits kept for amounts (IDR and CNY have two decimal places at most).
pub const AMOUNT_SCALE: u32 = 2;
/// Digits kept for rates and ratios (`0.1250`).
pub const RATE_SCALE: u32 = 4;

/// An amount rounded to [`AMOUNT_SCALE`] (banker's rounding is not what accountants expect:
/// half away from zero).
pub fn amount(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(AMOUNT_SCALE, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// A rate rounded to [`RATE_SCALE`].
pub fn rate(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(RATE_SCALE, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(value.normalize().to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    let raw = Box::<RawValue>::deserialize(deserializer)?;
    parse(raw.get()).map_err(D::Error::custom)
}

/// A JSON number or a string holding one.
fn parse(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    let digits = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.trim(),
        None if text.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) => text,
        None => return Err("expected a number".into()),
    };
    let parsed = if digits.contains(['e', 'E']) {
        Decimal::from_scientific(digits).ok()
    } else {
        Decimal::from_str_exact(digits).ok().or_else(|| Decimal::from_str(digits).ok())
    };
    parsed.ok_or_else(|| "expected a decimal number".into())
}

/// `Option<Decimal>`: `null` or absent is `None`.
pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::serialize(v, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(deserializer)?;
        match raw {
            None => Ok(None),
            Some(r) if r.get().trim() == "null" => Ok(None),
            Some(r) => parse(r.get()).map(Some).map_err(D::Error::custom),
        }
    }
}

/// `Option<Option<Decimal>>` for partial updates: absent keeps, `null` clears, a number sets.
pub mod patch {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<Decimal>>, D::Error> {
        super::opt::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Price {
        #[serde(with = "super")]
        amount: Decimal,
        #[serde(with = "super::opt", default)]
        cost: Option<Decimal>,
    }

    #[test]
    fn exact_digits_both_ways() {
        let p: Price = crate::api::parse_json(br#"{"amount": 12345678901234.57, "cost": "0.10"}"#).unwrap();
        assert_eq!(p.amount.to_string(), "12345678901234.57");
        assert_eq!(p.cost.unwrap().to_string(), "0.10");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"amount":12345678901234.57,"cost":0.1}"#);
        let back: Price = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Price { amount: p.amount, cost: Some(Decimal::new(1, 1)) });
    }

    #[test]
    fn nulls_exponents_and_garbage() {
        let p: Price = serde_json::from_str(r#"{"amount": 1e3, "cost": null}"#).unwrap();
        assert_eq!(p.amount, Decimal::new(1000, 0));
        assert_eq!(p.cost, None);
        let p: Price = serde_json::from_str(r#"{"amount": 5}"#).unwrap();
        assert_eq!(p.cost, None);
        assert!(crate::api::parse_json::<Price>(br#"{"amount": "abc"}"#).is_err());
        assert!(crate::api::parse_json::<Price>(br#"{"amount": true}"#).is_err());
        assert!(crate::api::parse_json::<Price>(br#"{"amount": [1]}"#).is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(amount(Decimal::from_str("2.345").unwrap()).to_string(), "2.35");
        assert_eq!(rate(Decimal::from_str("0.33335").unwrap()).to_string(), "0.3334");
    }
}
