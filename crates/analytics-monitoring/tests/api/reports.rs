//! Report exports: a job over seeded data produces a workbook whose rows are read back; the
//! per-user limit; another user's job is not found; other organizations' rows never appear.

use crate::helpers::*;
use chrono::{Duration as Days, Utc};
use crm_common::db_test;
use serde_json::{Value, json};
use std::io::{Cursor, Read};
use std::time::Duration;
use uuid::Uuid;

/// The cells of the workbook's sheet, row by row, each cell at its column (`r="C2"`).
fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP container");
    for part in ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"] {
        assert!(archive.by_name(part).is_ok(), "{part} is in the workbook");
    }
    let mut xml = String::new();
    archive.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
    let between = |text: &str, open: &str, close: &str| -> Option<String> {
        let start = text.find(open)? + open.len();
        Some(text[start..start + text[start..].find(close)?].to_owned())
    };
    xml.split("<row ")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</row>").unwrap()];
            let mut cells = Vec::new();
            for cell in row.split("<c ").skip(1) {
                let at = between(cell, "r=\"", "\"").unwrap();
                let column = at
                    .chars()
                    .take_while(char::is_ascii_uppercase)
                    .fold(0usize, |n, c| n * 26 + (c as usize - 'A' as usize + 1))
                    - 1;
                let text = between(cell, "<t xml:space=\"preserve\">", "</t>")
                    .or_else(|| between(cell, "<v>", "</v>"))
                    .unwrap_or_default()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&");
                if cells.len() <= column {
                    cells.resize(column + 1, String::new());
                }
                cells[column] = text;
            }
            cells
        })
        .collect()
}

fn range() -> Value {
    let today = Utc::now().date_naive();
    json!({"start_date": (today - Days::days(1)).to_string(), "end_date": (today + Days::days(1)).to_string()})
}

async fn export(app: &TestApp, token: &str, kind: &str, dates: Value) -> crm_common::testing::TestResponse {
    let mut body = dates;
    body["report_type"] = json!(kind);
    app.post("/reports/export", Some(token), body).await
}

/// Waits for the job to leave `running`; its final view.
async fn finished(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..300 {
        let r = app.get("/reports/jobs?size=100", Some(token)).await;
        r.expect(200);
        let job = r.data()["items"].as_array().unwrap().iter().find(|j| j["id"] == id).cloned().expect("listed");
        if job["status"] != "running" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} never finished");
}

/// Exports, waits, downloads: the sheet's rows.
async fn rows_of(app: &TestApp, token: &str, kind: &str, dates: Value) -> Vec<Vec<String>> {
    let r = export(app, token, kind, dates).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.data()["id"].as_str().unwrap().to_owned();
    let job = finished(app, token, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["progress"], 100);
    let url = job["file_url"].as_str().unwrap();
    let r = app.client.send(app.client.builder(reqwest::Method::GET, url, Some(token))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    assert!(r.header("content-disposition").unwrap_or_default().contains(".xlsx"));
    let raw = app.client.builder(reqwest::Method::GET, url, Some(token)).send().await.unwrap().bytes().await.unwrap();
    let rows = sheet(&raw);
    assert_eq!(job["row_count"], json!(rows.len() - 1), "the header and one row per record");
    rows
}

async fn customer(app: &TestApp, token: &str, name: &str) -> Uuid {
    let sm = app.sm.client();
    let sources = sm.get("/api/service-management/customer-sources", Some(token)).await;
    let body = json!({"name": name, "source_id": sources.data()[0]["id"]});
    let r = sm.post("/api/service-management/customers", Some(token), &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    uuid(&r.data()["id"])
}

async fn order(app: &TestApp, token: &str, customer: Uuid, title: &str, price: u32) -> Value {
    let body = json!({"title": title, "customer_id": customer,
        "order_items": [{"product_name": "KITAS", "quantity": 2, "unit_price": price}]});
    let r = app.ow.client().post("/api/order-workflow/orders", Some(token), &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.data().clone()
}

async fn lead(app: &TestApp, token: &str, name: &str) {
    let r = app.ow.client().post("/api/order-workflow/leads", Some(token), &json!({"name": name})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn column(rows: &[Vec<String>], header: &str) -> Vec<String> {
    let at = rows[0].iter().position(|h| h == header).unwrap_or_else(|| panic!("no column {header}: {:?}", rows[0]));
    let mut values: Vec<String> = rows[1..].iter().map(|r| r.get(at).cloned().unwrap_or_default()).collect();
    values.sort();
    values
}

db_test!(
    async fn exports_read_back_with_the_organizations_rows_only(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, _, a) = app.org("PT Alpha", "agent").await;
        let (_, _, b) = app.org("PT Beta", "agent").await;
        let a1 = customer(&app, &a, "Alpha One").await;
        customer(&app, &a, "Alpha Two & Co <ltd>").await;
        let b1 = customer(&app, &b, "Beta Only").await;
        customer(&app, app.admin_token.as_str(), "Bantu Own").await;
        let o1 = order(&app, &a, a1, "Alpha visa", 1500).await;
        let o2 = order(&app, &a, a1, "Alpha permit", 250).await;
        order(&app, &b, b1, "Beta visa", 999).await;
        lead(&app, &a, "Alpha lead").await;
        lead(&app, &b, "Beta lead").await;

        let rows = rows_of(&app, &a, "orders", range()).await;
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(column(&rows, "Title"), ["Alpha permit", "Alpha visa"]);
        let mut numbers = vec![o1["order_number"].as_str().unwrap().to_owned(), o2["order_number"].as_str().unwrap().to_owned()];
        numbers.sort();
        assert_eq!(column(&rows, "Order number"), numbers);
        let finals: Vec<f64> = column(&rows, "Final amount").iter().map(|v| v.parse().unwrap()).collect();
        let mut expected = vec![o1["final_amount"].as_f64().unwrap(), o2["final_amount"].as_f64().unwrap()];
        expected.sort_by(f64::total_cmp);
        let mut finals_sorted = finals.clone();
        finals_sorted.sort_by(f64::total_cmp);
        assert_eq!(finals_sorted, expected, "amounts as numbers");
        assert_eq!(column(&rows, "Customer"), ["Alpha One", "Alpha One"]);

        let rows = rows_of(&app, &a, "customers", range()).await;
        assert_eq!(column(&rows, "Name"), ["Alpha One", "Alpha Two & Co <ltd>"], "escaped and read back");
        let rows = rows_of(&app, &a, "leads", range()).await;
        assert_eq!(column(&rows, "Name"), ["Alpha lead"]);

        // A platform administrator's report is of the platform's own organization too.
        let rows = rows_of(&app, &app.admin_token, "customers", range()).await;
        assert_eq!(column(&rows, "Name"), ["Bantu Own"]);

        // A range with nothing in it: only the header.
        let past = json!({"start_date": "2020-01-01", "end_date": "2020-01-31"});
        let rows = rows_of(&app, &b, "orders", past.clone()).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        let rows = rows_of(&app, &b, "customers", past).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
    }
);

db_test!(
    async fn five_exports_per_hour_per_user_and_jobs_are_their_owners(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, _, a) = app.org("PT Alpha", "agent").await;
        let (_, other) = app.user(org, "finance@alpha.test", &["FINANCE"]).await;
        let past = json!({"start_date": "2020-01-01", "end_date": "2020-01-02"});
        let mut ids = Vec::new();
        for _ in 0..5 {
            let r = export(&app, &a, "customers", past.clone()).await;
            assert_eq!(r.status, 200, "{}", r.text);
            ids.push(r.data()["id"].as_str().unwrap().to_owned());
        }
        let r = export(&app, &a, "customers", past.clone()).await;
        assert_eq!(r.status, 429, "{}", r.text);
        assert_eq!(r.body["code"], 429);
        let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=3600).contains(&wait), "{wait}");
        let r = app.get("/reports/jobs", Some(&a)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 5, "the refused one made no job");

        // Another user has a limit of their own, and sees none of the first one's jobs.
        let r = export(&app, &other, "leads", past.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.get("/reports/jobs", Some(&other)).await;
        assert_eq!(r.data()["total"], 1);
        finished(&app, &a, &ids[0]).await;
        let r = app.get(&format!("/reports/jobs/{}/download", ids[0]), Some(&other)).await;
        assert_eq!(r.status, 404, "{}", r.text);
        let r = app.get(&format!("/reports/jobs/{}/download", ids[0]), Some(&a)).await;
        assert_eq!(r.status, 200);
        let r = app.get(&format!("/reports/jobs/{}/download", Uuid::now_v7()), Some(&a)).await;
        assert_eq!(r.status, 404);
    }
);

db_test!(
    async fn concurrent_exports_cannot_pass_the_limit_together(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, _, a) = app.org("PT Alpha", "agent").await;
        let past = json!({"start_date": "2020-01-01", "end_date": "2020-01-02"});
        let statuses =
            futures_util::future::join_all((0..12).map(|_| export(&app, &a, "customers", past.clone()))).await;
        let mut statuses: Vec<u16> = statuses.iter().map(|r| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [[200; 5].as_slice(), [429; 7].as_slice()].concat(), "exactly the limit starts");
        let r = app.get("/reports/jobs", Some(&a)).await;
        assert_eq!(r.data()["total"], 5);
    }
);

db_test!(
    async fn bad_export_requests_are_refused_clearly(backend) {
        let app = TestApp::spawn(backend).await;
        let a = app.admin();
        for (body, field) in [
            (json!({"report_type": "invoices", "start_date": "2026-01-01", "end_date": "2026-01-02"}), "report_type"),
            (json!({"report_type": "orders", "start_date": "2026-02-01", "end_date": "2026-01-02"}), "end_date"),
            (json!({"report_type": "orders", "start_date": "yesterday", "end_date": "2026-01-02"}), "start_date"),
            (json!({"report_type": "orders", "start_date": "2020-01-01", "end_date": "2026-01-02"}), "end_date"),
        ] {
            let r = app.post("/reports/export", a, body.clone()).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text);
            assert!(r.text.contains(field), "{body}: {}", r.text);
        }
        let r = app.post("/reports/export", a, json!({"report_type": "orders"})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.post("/reports/export", None, json!({})).await;
        assert_eq!(r.status, 401, "{}", r.text);
        let r = app.get("/reports/jobs/not-a-uuid/download", a).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.get("/reports/jobs?size=0", a).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.get("/reports/jobs?page=abc", a).await;
        assert_eq!(r.status, 400, "{}", r.text);
        // An agent has no report permission.
        let (_, agent) = app.user(BANTU, "agent@bantu.test", &["AGENT"]).await;
        let r = app.post("/reports/export", Some(&agent), json!({"report_type": "orders", "start_date": "2026-01-01", "end_date": "2026-01-02"})).await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
);
