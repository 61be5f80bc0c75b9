//! The aggregates analytics-monitoring composes, as the owning services serve them on their
//! internal `/stats/*` endpoints (DESIGN §12: each owner groups and counts in its own database;
//! no service reads another's tables). One definition of each wire shape, of the scope parameter
//! and of the trend windows and bucket labels (spec §3), shared by producer and consumer.
//!
//! The endpoints are called with the end user's bearer token, as the `/lookup/*` endpoints are:
//! each owner checks `analytics.view` and scopes the aggregate to the caller's organization
//! itself ([`crate::auth::Principal::scope_org`]: a platform administrator sees all, or the one
//! named by `organization_id`), so an aggregate never leaves its tenant even if the caller of the
//! endpoint is not analytics-monitoring.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The organization an aggregate is computed for (platform administrators only; others always get
/// their own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct StatsScope {
    /// A platform administrator's choice of organization; omitted: every organization.
    pub organization_id: Option<Uuid>,
}

/// Days from `since` (inclusive): the range a trend asks an owner for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct SinceScope {
    pub organization_id: Option<Uuid>,
    /// First day counted, `YYYY-MM-DD` (UTC).
    pub since: NaiveDate,
}

/// A day the aggregates accept: years 1900–9999 (what both databases store and date arithmetic
/// handles; anything else is a client's mistake, answered 400).
pub fn check_day(field: &str, day: NaiveDate) -> Result<NaiveDate, crate::api::ApiError> {
    if (1900..=9999).contains(&day.year()) {
        Ok(day)
    } else {
        Err(crate::api::ApiError::field(field, "must be a day between the years 1900 and 9999"))
    }
}

/// `count` per UTC day from `since`, and how many there were before it (the baseline of a running
/// total). Days without any are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyCounts {
    pub before: u64,
    pub days: BTreeMap<NaiveDate, u64>,
}

/// Users of an organization (seed 001's `users/activity`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsersActivity {
    pub total_users: u64,
    /// Logged in within the last 30 days.
    pub active_users: u64,
    pub inactive_users: u64,
    /// Logged in within the last 7 days.
    pub recent_login_count: u64,
}

/// Organizations (seed 001's `organizations/summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationsSummary {
    pub total: u64,
    /// `internal`, `vendor`, `agent`: count (every type present, zero when none).
    pub by_type: BTreeMap<String, u64>,
    /// Active and not locked.
    pub active_count: u64,
}

/// Customers (seed 001's `customers/summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomersSummary {
    pub total: u64,
    /// `individual`, `organization`.
    pub by_type: BTreeMap<String, u64>,
    /// `own`, `agent`.
    pub by_source: BTreeMap<String, u64>,
    /// Customers with a service record created in the last 30 days.
    pub active_count: u64,
}

/// Service records (seed 001's `service-records/statistics`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceRecordStatistics {
    pub total: u64,
    pub by_status: BTreeMap<String, u64>,
    pub by_priority: BTreeMap<String, u64>,
}

/// An amount inside a map, written as an exact JSON number like every other amount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub Decimal);

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::api::money::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::api::money::deserialize(d).map(Money)
    }
}

/// The currency every amount of the analytics is reported in. Orders in another currency count
/// at their own `exchange_rate` (units of this currency per unit of the order's); an amount
/// without a rate cannot be converted and is reported apart, in `unconverted`, never guessed.
pub const REPORTING_CURRENCY: &str = "IDR";

/// Converts `amount` of `currency` into the reporting currency, when it can.
pub fn to_reporting(amount: Decimal, currency: &str, exchange_rate: Option<Decimal>) -> Option<Decimal> {
    if currency.eq_ignore_ascii_case(REPORTING_CURRENCY) {
        Some(amount)
    } else {
        exchange_rate.filter(|r| *r > Decimal::ZERO).map(|r| (amount * r).round_dp(2))
    }
}

/// Orders in a date range (seed 001's `orders/summary`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrdersSummary {
    pub total: u64,
    pub by_status: BTreeMap<String, u64>,
    /// Sum of the orders' `final_amount` (after discount), cancelled orders excluded, in
    /// `currency_code`.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    #[serde(with = "crate::api::money")]
    pub total_amount: Decimal,
    pub currency_code: String,
    /// Amounts that could not be converted (no exchange rate), by currency.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub unconverted: BTreeMap<String, Money>,
}

/// Revenue per UTC day from `since` in the reporting currency: paid payment stages on the day they
/// were paid, and completed orders without payment stages on the day they completed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyRevenue {
    pub currency_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub days: BTreeMap<NaiveDate, Money>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub unconverted: BTreeMap<String, Money>,
}

/// Opportunities by status (seed 003's deals summary in BANTU terms).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpportunitiesSummary {
    pub total: u64,
    pub by_status: BTreeMap<String, u64>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub amount_by_status: BTreeMap<String, Money>,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    #[serde(with = "crate::api::money")]
    pub total_amount: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    #[serde(with = "crate::api::money")]
    pub won_amount: Decimal,
}

/// One stage of the sales funnel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelStage {
    pub stage: String,
    pub count: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    #[serde(with = "crate::api::money")]
    pub amount: Decimal,
}

/// Opportunities per stage, in the stages' order (seed 003's deals funnel).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Funnel {
    pub stages: Vec<FunnelStage>,
    pub total: u64,
}

/// A trend's bucket size (spec §3): `day` = the last 30 days, labels `YYYY-MM-DD`; `week` = the
/// last 12 ISO weeks, labels `YYYY-WW`; `month` = the last 12 months, labels `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The first day of the window that ends with `today`.
    pub fn window_start(self, today: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => today - Duration::days(29),
            Self::Week => {
                let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
                monday - Duration::weeks(11)
            }
            Self::Month => {
                let first = today.with_day(1).unwrap_or(today);
                let (mut y, mut m) = (first.year(), first.month());
                for _ in 0..11 {
                    if m == 1 {
                        y -= 1;
                        m = 12;
                    } else {
                        m -= 1;
                    }
                }
                NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
            }
        }
    }

    /// The label of the bucket `day` falls into.
    pub fn label(self, day: NaiveDate) -> String {
        match self {
            Self::Day => day.format("%Y-%m-%d").to_string(),
            Self::Week => {
                let w = day.iso_week();
                format!("{:04}-{:02}", w.year(), w.week())
            }
            Self::Month => day.format("%Y-%m").to_string(),
        }
    }

    /// Every bucket's label of the window ending `today`, oldest first.
    pub fn labels(self, today: NaiveDate) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut day = self.window_start(today);
        while day <= today {
            let label = self.label(day);
            if out.last() != Some(&label) {
                out.push(label);
            }
            day += Duration::days(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_and_labels() {
        let today = d("2024-11-30");
        assert_eq!(Period::Day.labels(today).len(), 30);
        assert_eq!(Period::Day.labels(today)[0], "2024-11-01");
        let weeks = Period::Week.labels(today);
        assert_eq!(weeks.len(), 12);
        assert_eq!(weeks.last().unwrap(), "2024-48");
        let months = Period::Month.labels(today);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], "2023-12");
        assert_eq!(months[11], "2024-11");
        // ISO weeks at a year's edge belong to the ISO year.
        assert_eq!(Period::Week.label(d("2024-12-30")), "2025-01");
    }

    #[test]
    fn conversion_needs_a_rate() {
        let hundred = Decimal::from(100);
        assert_eq!(to_reporting(hundred, "IDR", None), Some(hundred));
        assert_eq!(to_reporting(hundred, "CNY", Some(Decimal::from(2200))), Some(Decimal::from(220_000)));
        assert_eq!(to_reporting(hundred, "CNY", None), None);
    }

    #[test]
    fn money_in_maps_is_exact() {
        let m: BTreeMap<String, Money> = [("IDR".to_owned(), Money(Decimal::new(1250000050, 2)))].into();
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text, r#"{"IDR":12500000.5}"#);
        let back: BTreeMap<String, Money> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
    }
}
