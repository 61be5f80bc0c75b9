use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

async fn log(app: &TestApp, token: &str, date: &str, status: &str, rating: i64) -> Uuid {
    let r = app
        .post("/worklogs", Some(token), json!({"work_date": date, "content": format!("work of {date}"), "completion_status": status, "self_rating": rating}))
        .await;
    r.expect(200);
    uuid(&r.data()["id"])
}

fn total(r: &crm_common::testing::TestResponse) -> Value {
    r.data()["total"].clone()
}

db_test!(
    async fn authoring_listing_and_editing(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, manager_admin) = app.org_with_admin("Work Agent").await;
        let (a_id, a) = app.user_with_token(org, "a@work.test", &["SALES"]).await;
        let (_, b) = app.user_with_token(org, "b@work.test", &["SALES"]).await;

        let first = app
            .post("/worklogs", Some(&a), json!({"work_date": "2026-01-05", "content": "Visited clients", "completion_status": "in_progress", "self_rating": 4}))
            .await;
        first.expect(200);
        assert_eq!(first.data()["employee_id"], a_id.to_string());
        assert_eq!(first.data()["organization_id"], org.to_string());
        assert_eq!(first.data()["supervisor_rating"], Value::Null);
        let a1 = uuid(&first.data()["id"]);
        let a2 = log(&app, &a, "2026-01-06", "completed", 5).await;
        let defaulted = app.post("/worklogs", Some(&b), json!({"work_date": "2026-01-10", "content": "Filed visas"})).await;
        defaulted.expect(200);
        assert_eq!(defaulted.data()["completion_status"], "completed");
        for (body, field) in [
            (json!({"work_date": "2026-01-05", "content": "x", "self_rating": 6}), "self_rating"),
            (json!({"work_date": "2026-01-05", "content": "x", "completion_status": "done"}), "completion_status"),
            (json!({"work_date": "2026-01-05", "content": ""}), "content"),
            (json!({"work_date": "05/01/2026", "content": "x"}), "work_date"),
            (json!({"content": "x"}), "work_date"),
        ] {
            let r = app.post("/worklogs", Some(&a), body).await;
            r.expect(400);
            assert_eq!(r.data()[0]["field"], field);
        }

        // Authors see their own; the organization's manager sees everyone's.
        assert_eq!(total(&app.get("/worklogs", Some(&a)).await), 2);
        assert_eq!(total(&app.get("/worklogs", Some(&b)).await), 1);
        let all = app.get("/worklogs", Some(&manager_admin)).await;
        all.expect(200);
        assert_eq!(total(&all), 3);
        assert_eq!(all.data()["items"][0]["work_date"], "2026-01-10");
        assert_eq!(total(&app.get(&format!("/worklogs?employee_id={a_id}"), Some(&manager_admin)).await), 2);
        assert_eq!(total(&app.get("/worklogs?start_date=2026-01-06&end_date=2026-01-07", Some(&manager_admin)).await), 1);
        assert_eq!(total(&app.get("/worklogs?completion_status=completed", Some(&manager_admin)).await), 2);
        let paged = app.get("/worklogs?page_size=1&page=2", Some(&manager_admin)).await;
        assert_eq!((paged.data()["items"].as_array().unwrap().len(), paged.data()["pages"].clone()), (1, json!(3)));
        assert_eq!(paged.data()["size"], 1);
        app.get("/worklogs?completion_status=nope", Some(&a)).await.expect(400);
        app.get("/worklogs?start_date=yesterday", Some(&a)).await.expect(400);
        // Nobody outside the organization sees them, not even BANTU's admins acting in BANTU.
        assert_eq!(total(&app.get("/worklogs", app.admin()).await), 0);
        app.get(&format!("/worklogs/{a1}"), app.admin()).await.expect(404);

        app.get(&format!("/worklogs/{a1}"), Some(&a)).await.expect(200);
        app.get(&format!("/worklogs/{a1}"), Some(&b)).await.expect(404);
        app.get(&format!("/worklogs/{a1}"), Some(&manager_admin)).await.expect(200);

        let edited = app.put(&format!("/worklogs/{a1}"), Some(&a), json!({"content": "Visited three clients", "completion_status": "completed", "version": 1})).await;
        edited.expect(200);
        assert_eq!((edited.data()["content"].clone(), edited.data()["version"].clone()), (json!("Visited three clients"), json!(2)));
        app.put(&format!("/worklogs/{a1}"), Some(&a), json!({"content": "late", "version": 1})).await.expect(409);
        app.put(&format!("/worklogs/{a1}"), Some(&a), json!({"self_rating": 9})).await.expect(400);
        let cleared = app.put(&format!("/worklogs/{a2}"), Some(&a), json!({"self_rating": null})).await;
        assert_eq!(cleared.data()["self_rating"], Value::Null);
        app.put(&format!("/worklogs/{a2}"), Some(&a), json!({"self_rating": 5})).await.expect(200);
        app.put(&format!("/worklogs/{a1}"), Some(&b), json!({"content": "mine now"})).await.expect(404);
        // Supervisors see the log but only the author edits it.
        app.put(&format!("/worklogs/{a1}"), Some(&manager_admin), json!({"content": "edited by boss"})).await.expect(403);
        app.get("/worklogs", None).await.expect(401);
    }
);

db_test!(
    async fn rating_is_for_managers_and_never_for_oneself(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, org_admin) = app.org_with_admin("Rating Agent").await;
        let (a_id, a) = app.user_with_token(org, "a@rate.test", &["SALES"]).await;
        let (_, colleague) = app.user_with_token(org, "c@rate.test", &["SALES"]).await;
        let (m_id, manager) = app.user_with_token(org, "m@rate.test", &["SALES"]).await;
        let members = app.get(&format!("/organizations/{org}/employees"), app.admin()).await;
        let m_member = members.data()["items"].as_array().unwrap().iter().find(|m| m["user_id"] == m_id.to_string()).unwrap()["id"].clone();
        app.put(&format!("/organizations/{org}/employees/{}", m_member.as_str().unwrap()), app.admin(), json!({"is_manager": true})).await.expect(200);
        let a1 = log(&app, &a, "2026-02-02", "completed", 4).await;
        let a2 = log(&app, &a, "2026-02-03", "in_progress", 5).await;
        let m1 = log(&app, &manager, "2026-02-03", "completed", 3).await;

        let own = app.post(&format!("/worklogs/{a1}/rate"), Some(&a), json!({"supervisor_rating": 5})).await;
        own.expect(403);
        app.post(&format!("/worklogs/{m1}/rate"), Some(&manager), json!({"supervisor_rating": 5})).await.expect(403);
        // A colleague without a manager's standing does not even see the log.
        app.post(&format!("/worklogs/{a1}/rate"), Some(&colleague), json!({"supervisor_rating": 5})).await.expect(404);
        // Another organization's admin neither.
        let (_, stranger) = app.org_with_admin("Stranger Agent").await;
        app.post(&format!("/worklogs/{a1}/rate"), Some(&stranger), json!({"supervisor_rating": 5})).await.expect(404);
        let bad = app.post(&format!("/worklogs/{a1}/rate"), Some(&manager), json!({"supervisor_rating": 0})).await;
        bad.expect(400);
        assert_eq!(bad.data()[0]["field"], "supervisor_rating");

        let rated = app.post(&format!("/worklogs/{a1}/rate"), Some(&manager), json!({"supervisor_rating": 5, "supervisor_comment": " Good work "})).await;
        rated.expect(200);
        assert_eq!(rated.data()["supervisor_rating"], 5);
        assert_eq!(rated.data()["supervisor_comment"], "Good work");
        assert_eq!(rated.data()["rated_by"], m_id.to_string());
        assert!(rated.data()["rated_at"].is_string());
        // The organization's admin (worklog.rate) rates the manager's own log.
        app.post(&format!("/worklogs/{m1}/rate"), Some(&org_admin), json!({"supervisor_rating": 4})).await.expect(200);
        app.post(&format!("/worklogs/{a2}/rate"), Some(&org_admin), json!({"supervisor_rating": 4})).await.expect(200);
        app.post(&format!("/worklogs/{}/rate", Uuid::now_v7()), Some(&org_admin), json!({"supervisor_rating": 4})).await.expect(404);

        // The author's detail shows the counts and averages.
        let detail = app.get(&format!("/users/{a_id}"), Some(&org_admin)).await;
        detail.expect(200);
        assert_eq!(detail.data()["work_logs_count"], 2);
        assert_eq!(detail.data()["avg_self_rating"], 4.5);
        assert_eq!(detail.data()["avg_supervisor_rating"], 4.5);
        let fresh = app.get(&format!("/users/{}", uuid(&app.get("/auth/me", Some(&colleague)).await.data()["id"])), Some(&org_admin)).await;
        assert_eq!(fresh.data()["work_logs_count"], 0);
        assert_eq!(fresh.data()["avg_self_rating"], Value::Null);
    }
);
