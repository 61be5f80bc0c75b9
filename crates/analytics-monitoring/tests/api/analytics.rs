//! Seed 001's analytics endpoints over seeded data (values computed by hand), the cache (hit,
//! miss, single flight, stale while an owner is down) and tenant isolation.

use crate::helpers::*;
use chrono::{Duration, Utc};
use crm_common::db_test;
use serde_json::{Value, json};

/// Organization A's data, in three services; organization B's beside it.
struct Seeded {
    a_admin: String,
}

async fn seed(app: &TestApp) -> Seeded {
    let now = Utc::now();
    let (a, _, a_admin) = app.org("PT Agen Satu", "agent").await;
    let (b, _, b_admin) = app.org("PT Agen Dua", "agent").await;
    // Customers: one before the 30-day window, one two days ago (an organization, from an
    // agent), one today.
    app.customer(&a_admin, "Budi", "individual", "own", now - Duration::days(40)).await;
    let active = app.customer(&a_admin, "PT Maju", "organization", "agent", now - Duration::days(2)).await;
    app.customer(&a_admin, "Sari", "individual", "own", now).await;
    app.service_record(&a_admin, active, "in_progress", "high").await;
    app.service_record(&a_admin, active, "pending", "normal").await;
    // Orders: 1,000,000 completed without stages (revenue today), 2,000,000 processing with a
    // 500,000 paid stage (revenue today), a cancelled one (no amount), 100 CNY at 2,200 (220,000),
    // 50 USD without a rate (unconverted).
    app.order(a, "completed", 1_000_000, "IDR", None).await;
    let with_stage = app.order(a, "processing", 2_000_000, "IDR", None).await;
    app.paid_stage(a, with_stage, 800_000, 500_000, now.date_naive()).await;
    app.order(a, "cancelled", 9_999, "IDR", None).await;
    app.order(a, "submitted", 100, "CNY", Some(2_200)).await;
    app.order(a, "approved", 50, "USD", None).await;
    app.opportunity(a, "proposal", "active", 1_000).await;
    app.opportunity(a, "closed_won", "won", 5_000).await;
    // Organization B: must never show in A's figures.
    app.customer(&b_admin, "Other", "organization", "agent", now).await;
    app.order(b, "completed", 7_777_777, "IDR", None).await;
    app.opportunity(b, "closed_won", "won", 99_999).await;
    // A member of A who never logged in.
    let r = app
        .fpost(
            "/users",
            app.admin(),
            json!({"organization_id": a, "email": "idle@agen.test", "password": PASSWORD, "role_ids": [app.role_id("SALES").await]}),
        )
        .await;
    r.expect(200);
    Seeded { a_admin }
}

async fn data(app: &TestApp, path: &str, token: &str) -> Value {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    assert_eq!(r.body["code"], 200);
    r.data().clone()
}

db_test!(
    async fn seed_001_shapes_and_hand_computed_values(backend) {
        let app = TestApp::spawn(backend).await;
        let s = seed(&app).await;
        let t = &s.a_admin;

        let c = data(&app, "/analytics/customers/summary", t).await;
        assert_eq!(
            c,
            json!({"total": 3, "by_type": {"individual": 2, "organization": 1}, "by_source": {"own": 2, "agent": 1}, "active_count": 1})
        );

        let trend = data(&app, "/analytics/customers/trend?period=day", t).await;
        assert_eq!(trend["period"], "day");
        let points = trend["data_points"].as_array().unwrap();
        assert_eq!(points.len(), 30);
        let today = Utc::now().date_naive();
        assert_eq!(points[29], json!({"date": today.to_string(), "count": 1, "cumulative": 3}));
        assert_eq!(points[27], json!({"date": (today - Duration::days(2)).to_string(), "count": 1, "cumulative": 2}));
        assert_eq!(points[0]["cumulative"], 1, "the customer created before the window");
        let weeks = data(&app, "/analytics/customers/trend?period=week", t).await;
        assert_eq!(weeks["data_points"].as_array().unwrap().len(), 12);
        assert_eq!(weeks["data_points"][11]["cumulative"], 3);
        let months = data(&app, "/analytics/customers/trend?period=month", t).await;
        assert_eq!(months["data_points"][11]["date"], today.format("%Y-%m").to_string());

        let o = data(&app, "/analytics/orders/summary", t).await;
        assert_eq!(o["total"], 5);
        assert_eq!(
            o["by_status"],
            json!({"submitted": 1, "approved": 1, "assigned": 0, "processing": 1, "completed": 1, "cancelled": 1})
        );
        assert_eq!(o["total_amount"], json!(3_220_000));
        assert_eq!(o["currency_code"], "IDR");
        assert_eq!(o["unconverted"], json!({"USD": 50}));
        let tomorrow = (today + Duration::days(1)).to_string();
        let none = data(&app, &format!("/analytics/orders/summary?start_date={tomorrow}&end_date={tomorrow}"), t).await;
        assert_eq!(none["total"], 0);

        let rev = data(&app, "/analytics/orders/revenue?period=month", t).await;
        assert_eq!(rev["period"], "month");
        assert_eq!(rev["total_revenue"], json!(1_500_000));
        assert_eq!(rev["currency_code"], "IDR");
        let last = rev["data_points"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last, json!({"date": today.format("%Y-%m").to_string(), "revenue": 1_500_000}));

        let sr = data(&app, "/analytics/service-records/statistics", t).await;
        assert_eq!(sr["total"], 2);
        assert_eq!(sr["by_status"], json!({"pending": 1, "in_progress": 1, "completed": 0, "cancelled": 0, "on_hold": 0}));
        assert_eq!(sr["by_priority"], json!({"low": 0, "normal": 1, "high": 1, "urgent": 0}));

        let u = data(&app, "/analytics/users/activity", t).await;
        assert_eq!(u, json!({"total_users": 2, "active_users": 1, "inactive_users": 1, "recent_login_count": 1}));

        let orgs = data(&app, "/analytics/organizations/summary", t).await;
        assert_eq!(orgs, json!({"total": 1, "by_type": {"agent": 1, "internal": 0, "vendor": 0}, "active_count": 1}));

        let opp = data(&app, "/analytics/opportunities/summary", t).await;
        assert_eq!(opp["total"], 2);
        assert_eq!(opp["by_status"], json!({"active": 1, "won": 1, "lost": 0, "cancelled": 0}));
        assert_eq!(opp["won_amount"], json!(5_000));
        let funnel = data(&app, "/analytics/opportunities/funnel", t).await;
        assert_eq!(funnel["total"], 2);
        let stages: Vec<&str> = funnel["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
        assert_eq!(stages, ["initial_contact", "needs_analysis", "proposal", "negotiation", "closed_won", "closed_lost"]);
        assert_eq!(funnel["stages"][2], json!({"stage": "proposal", "count": 1, "amount": 1_000}));
        assert_eq!(funnel["stages"][4], json!({"stage": "closed_won", "count": 1, "amount": 5_000}));

        // The platform administrator sees every organization, or one.
        let all = data(&app, "/analytics/customers/summary", &app.admin_token).await;
        assert_eq!(all["total"], 4);
        let orgs_all = data(&app, "/analytics/organizations/summary", &app.admin_token).await;
        assert!(orgs_all["total"].as_u64().unwrap() >= 3, "{orgs_all}");
    }
);

db_test!(
    async fn one_organization_never_sees_another(backend) {
        let app = TestApp::spawn(backend).await;
        let s = seed(&app).await;
        let (b_org, _, _) = app.org("PT Ketiga", "vendor").await;
        // Asking for another organization's figures is refused as "not found".
        let r = app.get(&format!("/analytics/customers/summary?organization_id={b_org}"), Some(&s.a_admin)).await;
        assert_eq!(r.status, 404, "{}", r.text);
        let opp = data(&app, "/analytics/opportunities/summary", &s.a_admin).await;
        assert_eq!(opp["total_amount"], json!(6_000), "B's 99,999 is not A's");
        // The platform administrator may pick one organization.
        let picked = data(&app, &format!("/analytics/customers/summary?organization_id={b_org}"), &app.admin_token).await;
        assert_eq!(picked["total"], 0);
        // Without analytics.view: refused.
        let (_, seller) = app.user(crate::helpers::BANTU, "seller@bantu.test", &["SALES"]).await;
        let r = app.get("/analytics/customers/summary", Some(&seller)).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.get("/analytics/customers/trend?period=year", Some(&s.a_admin)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.get("/analytics/orders/summary?start_date=2024-13-01", Some(&s.a_admin)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.get("/analytics/orders/summary?start_date=2024-11-30&end_date=2024-11-01", Some(&s.a_admin)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.get("/analytics/orders/summary?end_date=+262142-12-31", Some(&s.a_admin)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        // The owners check the same bounds when called directly.
        let r = app.sm.client().get("/api/service-management/stats/customers/created?since=0001-01-01", Some(&s.a_admin)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.ow.client().get("/api/order-workflow/stats/orders/summary?end_date=9999-12-31", Some(&s.a_admin)).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
);

db_test!(
    async fn cached_answers_and_one_computation_for_64_cold_requests(backend) {
        let app = TestApp::spawn(backend).await;
        let s = seed(&app).await;
        let first = app.get("/analytics/customers/summary", Some(&s.a_admin)).await;
        assert_eq!(first.header("x-cache"), Some("miss"));
        let before = app.state.analytics.computations();
        let second = app.get("/analytics/customers/summary", Some(&s.a_admin)).await;
        assert_eq!(second.header("x-cache"), Some("hit"));
        assert_eq!(second.body["data"], first.body["data"]);
        assert_eq!(app.state.analytics.computations(), before, "a hit computes nothing");
        // A new customer is not seen until the cached result expires (time-based only).
        app.customer(&s.a_admin, "Late", "individual", "own", Utc::now()).await;
        let third = app.get("/analytics/customers/summary", Some(&s.a_admin)).await;
        assert_eq!(third.data()["total"], 3);

        // 64 concurrent requests for a key nobody has computed: one computation.
        let before = app.state.analytics.computations();
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let client = app.client.clone();
            let token = s.a_admin.clone();
            tasks.push(tokio::spawn(async move {
                client.get(&format!("{PREFIX}/analytics/service-records/statistics"), Some(&token)).await
            }));
        }
        let mut misses = 0;
        for t in tasks {
            let r = t.await.unwrap();
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.data()["total"], 2);
            misses += usize::from(r.header("x-cache") == Some("miss"));
        }
        assert_eq!(app.state.analytics.computations() - before, 1, "single flight");
        assert_eq!(misses, 1);
    }
);

db_test!(
    async fn an_owner_down_answers_stale_or_503_never_500(backend) {
        let mut app = TestApp::spawn_with(backend, |c| c.analytics_ttl = std::time::Duration::from_millis(1)).await;
        let s = seed(&app).await;
        let fresh = app.get("/analytics/orders/summary", Some(&s.a_admin)).await;
        assert_eq!(fresh.status, 200, "{}", fresh.text);
        app.ow.stop().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let stale = app.get("/analytics/orders/summary", Some(&s.a_admin)).await;
        assert_eq!(stale.status, 200, "{}", stale.text);
        assert_eq!(stale.header("x-cache"), Some("stale"));
        assert_eq!(stale.body["data"], fresh.body["data"]);
        // Nothing to fall back on: 503 naming the peer.
        let none = app.get("/analytics/opportunities/funnel", Some(&s.a_admin)).await;
        assert_eq!(none.status, 503, "{}", none.text);
        assert!(none.body["message"].as_str().unwrap().contains("order-workflow"), "{}", none.text);
        app.ow.start().await;
        let back = app.get("/analytics/opportunities/funnel", Some(&s.a_admin)).await;
        assert_eq!(back.status, 200, "{}", back.text);
        assert_eq!(back.header("x-cache"), Some("miss"));
    }
);
