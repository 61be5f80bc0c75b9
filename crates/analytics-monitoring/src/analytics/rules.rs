//! Shaping the owners' daily aggregates into seed 001's buckets: pure functions of the aggregate,
//! the period and today's date.

use super::dto::{CustomerTrend, Revenue, RevenuePoint, TrendPoint};
use chrono::NaiveDate;
use crm_common::stats::{DailyCounts, DailyRevenue, Period};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Every bucket of the window ending `today`, with its new customers and the running total
/// (customers created before the window included).
pub fn trend(period: Period, today: NaiveDate, counts: &DailyCounts) -> CustomerTrend {
    let start = period.window_start(today);
    let mut per_label: HashMap<String, u64> = HashMap::new();
    for (day, n) in &counts.days {
        if *day >= start && *day <= today {
            *per_label.entry(period.label(*day)).or_default() += n;
        }
    }
    let mut cumulative = counts.before;
    let data_points = period
        .labels(today)
        .into_iter()
        .map(|date| {
            let count = per_label.get(&date).copied().unwrap_or(0);
            cumulative += count;
            TrendPoint { date, count, cumulative }
        })
        .collect();
    CustomerTrend { period: period.as_str().into(), data_points }
}

/// Every bucket of the window ending `today` with its revenue, and the window's total.
pub fn revenue(period: Period, today: NaiveDate, daily: &DailyRevenue) -> Revenue {
    let start = period.window_start(today);
    let mut per_label: HashMap<String, Decimal> = HashMap::new();
    for (day, amount) in &daily.days {
        if *day >= start && *day <= today {
            *per_label.entry(period.label(*day)).or_default() += amount.0;
        }
    }
    let data_points: Vec<RevenuePoint> = period
        .labels(today)
        .into_iter()
        .map(|date| {
            let revenue = per_label.get(&date).copied().unwrap_or_default();
            RevenuePoint { date, revenue }
        })
        .collect();
    let total_revenue = data_points.iter().map(|p| p.revenue).sum();
    Revenue {
        period: period.as_str().into(),
        total_revenue,
        currency_code: daily.currency_code.clone(),
        data_points,
        unconverted: daily.unconverted.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_common::stats::Money;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_trend_counts_and_accumulates() {
        let counts =
            DailyCounts { before: 90, days: [(d("2024-11-01"), 5), (d("2024-11-02"), 3), (d("2024-11-30"), 2)].into() };
        let t = trend(Period::Day, d("2024-11-30"), &counts);
        assert_eq!(t.data_points.len(), 30);
        assert_eq!(t.data_points[0], TrendPoint { date: "2024-11-01".into(), count: 5, cumulative: 95 });
        assert_eq!(t.data_points[1], TrendPoint { date: "2024-11-02".into(), count: 3, cumulative: 98 });
        assert_eq!(t.data_points[29], TrendPoint { date: "2024-11-30".into(), count: 2, cumulative: 100 });
        let m = trend(Period::Month, d("2024-11-30"), &counts);
        assert_eq!(m.data_points.last().unwrap(), &TrendPoint { date: "2024-11".into(), count: 10, cumulative: 100 });
        assert_eq!(m.data_points[0].cumulative, 90);
    }

    #[test]
    fn revenue_per_month() {
        let daily = DailyRevenue {
            currency_code: "IDR".into(),
            days: [
                (d("2024-11-03"), Money(Decimal::from(30_000_000))),
                (d("2024-11-20"), Money(Decimal::from(20_000_000))),
            ]
            .into(),
            unconverted: Default::default(),
        };
        let r = revenue(Period::Month, d("2024-11-30"), &daily);
        assert_eq!(r.total_revenue, Decimal::from(50_000_000));
        assert_eq!(r.data_points.last().unwrap().revenue, Decimal::from(50_000_000));
        assert_eq!(r.data_points.last().unwrap().date, "2024-11");
        assert_eq!(r.data_points.len(), 12);
    }
}
