//! The rules of an export, without I/O: what may be exported over which dates, which columns each
//! report has, and the per-user limit.

use chrono::{DateTime, NaiveDate, Utc};
use crm_common::ApiError;
use crm_common::config::{ConfigError, RateSpec, env};
use std::time::Duration;

/// Most rows one report may hold; a job that finds more fails with the count, asking for a
/// narrower range (the file is kept in the database and built in memory).
pub const MAX_ROWS: usize = 50_000;
/// Rows asked of an owner per page.
pub const PAGE_SIZE: u64 = 200;
/// The longest range one report may cover.
pub const MAX_DAYS: i64 = 366;

/// The limit on exports per user. The same variable, syntax and default as the gateway's export
/// limit, so that both hold a user to one number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportSettings {
    pub limit: RateSpec,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self { limit: RateSpec { limit: 5, window: Duration::from_secs(3600) } }
    }
}

impl ReportSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let limit = match env("CRM_RATELIMIT_EXPORT") {
            Some(raw) => {
                raw.parse().map_err(|reason: String| ConfigError { name: "CRM_RATELIMIT_EXPORT".into(), reason })?
            }
            None => Self::default().limit,
        };
        Ok(Self { limit })
    }
}

/// What is exported, and from whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Orders,
    Leads,
    Customers,
}

impl ReportKind {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        match raw.trim() {
            "orders" => Ok(Self::Orders),
            "leads" => Ok(Self::Leads),
            "customers" => Ok(Self::Customers),
            _ => Err(ApiError::field("report_type", "must be one of orders, leads, customers")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Leads => "leads",
            Self::Customers => "customers",
        }
    }

    /// The sheet's columns: (header, field of the owner's list item).
    pub fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Orders => &[
                ("Order number", "order_number"),
                ("Title", "title"),
                ("Customer", "customer_name"),
                ("Status", "status_code"),
                ("Total amount", "total_amount"),
                ("Discount", "discount_amount"),
                ("Final amount", "final_amount"),
                ("Currency", "currency_code"),
                ("Sales", "sales_username"),
                ("Created at", "created_at"),
            ],
            Self::Leads => &[
                ("Name", "name"),
                ("Company", "company_name"),
                ("Contact", "contact_name"),
                ("Phone", "phone"),
                ("E-mail", "email"),
                ("Status", "status"),
                ("Source", "source"),
                ("Owner", "owner_username"),
                ("Created at", "created_at"),
            ],
            Self::Customers => &[
                ("Name", "name"),
                ("Code", "code"),
                ("Type", "customer_type"),
                ("Source type", "customer_source_type"),
                ("Level", "level"),
                ("Owner", "owner_user_name"),
                ("Phone", "phone"),
                ("E-mail", "email"),
                ("Created at", "created_at"),
            ],
        }
    }
}

/// A checked export request: the kind and an inclusive range of creation days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Export {
    pub kind: ReportKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Export {
    pub fn new(kind: &str, start: &str, end: &str) -> Result<Self, ApiError> {
        let day = |field: &str, raw: &str| {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| ApiError::field(field, "must be a date (YYYY-MM-DD)"))
        };
        let me = Self { kind: ReportKind::parse(kind)?, start: day("start_date", start)?, end: day("end_date", end)? };
        if me.end < me.start {
            return Err(ApiError::field("end_date", "must not be before start_date"));
        }
        if (me.end - me.start).num_days() >= MAX_DAYS {
            return Err(ApiError::field("end_date", "a report covers at most 366 days"));
        }
        Ok(me)
    }

    /// Whether a record created at `at` falls in the range (whole days, UTC).
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        let day = at.date_naive();
        self.start <= day && day <= self.end
    }

    pub fn file_name(&self) -> String {
        format!("{}_{}_{}.xlsx", self.kind.name(), self.start.format("%Y%m%d"), self.end.format("%Y%m%d"))
    }
}

/// Whether one more export may start, given the caller's exports started within the window
/// (`started`, any order) and the time now; `Err(seconds)` until the oldest of them leaves it.
pub fn admit(limit: RateSpec, started: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), u64> {
    let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::hours(1));
    let within: Vec<_> = started.iter().filter(|at| **at > now - window).collect();
    if (within.len() as u64) < limit.limit {
        return Ok(());
    }
    let oldest = within.iter().min().map_or(now, |at| **at);
    Err(((oldest + window - now).num_seconds().max(1)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked() {
        assert!(Export::new("orders", "2026-12-01", "2026-12-31").is_ok());
        assert!(Export::new("invoices", "2026-12-01", "2026-12-31").is_err());
        assert!(Export::new("leads", "2026-12-31", "2026-12-01").is_err(), "reversed");
        assert!(Export::new("leads", "2026-13-01", "2026-12-01").is_err(), "not a date");
        assert!(Export::new("customers", "2024-01-01", "2026-01-01").is_err(), "too long");
        let e = Export::new("customers", "2026-12-01", "2026-12-02").unwrap();
        assert_eq!(e.file_name(), "customers_20261201_20261202.xlsx");
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert!(e.covers(at("2026-12-01T00:00:00Z")) && e.covers(at("2026-12-02T23:59:59Z")));
        assert!(!e.covers(at("2026-11-30T23:59:59Z")) && !e.covers(at("2026-12-03T00:00:00Z")));
    }

    #[test]
    fn the_limit_counts_the_window_only() {
        let limit = RateSpec { limit: 2, window: Duration::from_secs(3600) };
        let now = Utc::now();
        let ago = |m: i64| now - chrono::Duration::minutes(m);
        assert_eq!(admit(limit, &[ago(10)], now), Ok(()));
        assert_eq!(admit(limit, &[ago(10), ago(70)], now), Ok(()), "one left the window");
        let wait = admit(limit, &[ago(10), ago(50)], now).unwrap_err();
        assert!((599..=600).contains(&wait), "until the older one leaves: {wait}");
    }
}
