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

/// A running export task of `user` created `age` ago, as a stopped replica would leave it.
async fn old_task(app: &TestApp, org: Uuid, user: Uuid, age: chrono::Duration) -> Uuid {
    use crm_foundation::tasks::model as task;
    use sea_orm::EntityTrait;
    let id = Uuid::now_v7();
    let row = task::Model {
        id,
        organization_id: org,
        user_id: user,
        kind: "work_logs".into(),
        status: "running".into(),
        progress: 40,
        file_name: None,
        mime_type: None,
        content: None,
        rows: None,
        error: None,
        created_at: chrono::Utc::now() - age,
        finished_at: None,
    };
    task::Entity::insert(task::ActiveModel::from(row)).exec_without_returning(&app.state.db).await.unwrap();
    id
}

/// Polls the export task until it is no longer running.
async fn finished_task(app: &TestApp, token: &str, task: Uuid) -> Value {
    for _ in 0..100 {
        let r = app.get(&format!("/tasks/{task}"), Some(token)).await;
        r.expect(200);
        if r.data()["status"] != "running" {
            return r.data().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("export task {task} still running");
}

async fn export(app: &TestApp, token: &str, body: Value) -> (Value, String) {
    let r = app.post("/worklogs/export", Some(token), body).await;
    r.expect(200);
    let task = uuid(&r.data()["task_id"]);
    let done = finished_task(app, token, task).await;
    assert_eq!((done["status"].as_str(), done["progress"].as_i64()), (Some("completed"), Some(100)), "{done}");
    let url = done["file_url"].as_str().unwrap().strip_prefix("/api/foundation").unwrap().to_owned();
    let file = app.get(&url, Some(token)).await;
    assert_eq!(file.status, 200, "{}", file.text);
    assert_eq!(file.header("content-type"), Some("text/csv"));
    assert!(file.header("content-disposition").unwrap().starts_with("attachment; filename=\"work-logs-"));
    (done, file.text.clone())
}

db_test!(
    async fn exports_run_as_tasks_for_their_requester(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, manager) = app.org_with_admin("Export Agent").await;
        let (a_id, a) = app.user_with_token(org, "a@export.test", &["SALES"]).await;
        let (b_id, b) = app.user_with_token(org, "b@export.test", &["SALES"]).await;
        log(&app, &a, "2026-02-02", "completed", 4).await;
        log(&app, &a, "2026-02-01", "in_progress", 3).await;
        let tricky = json!({"work_date": "2026-02-03", "content": "=SUM(A1), \"quoted\"\nsecond line", "completion_status": "completed"});
        app.post("/worklogs", Some(&a), tricky).await.expect(200);
        log(&app, &b, "2026-02-02", "completed", 5).await;

        // An author exports their own logs only, oldest first, fields escaped.
        let (task, csv) = export(&app, &a, json!({})).await;
        assert_eq!(task["rows"], 3);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "id,work_date,employee_id,employee_name,completion_status,self_rating,supervisor_rating,supervisor_comment,rated_at,content,created_at");
        assert!(lines[1].contains(",2026-02-01,") && lines[1].contains(",in_progress,3,"), "{}", lines[1]);
        assert!(lines[2].contains(",2026-02-02,") && lines[2].contains(&a_id.to_string()));
        assert!(csv.contains("\"'=SUM(A1), \"\"quoted\"\"\nsecond line\""), "{csv}");
        assert!(!csv.contains(&b_id.to_string()) && lines.len() == 5, "only a's three logs: {csv}");

        // A supervisor exports the organization's, filtered.
        let (all, _) = export(&app, &manager, json!({})).await;
        assert_eq!(all["rows"], 4);
        let (day, csv) = export(&app, &manager, json!({"start_date": "2026-02-02", "end_date": "2026-02-02"})).await;
        assert_eq!(day["rows"], 2);
        assert!(!csv.contains("2026-02-01"));
        let (mine, _) = export(&app, &manager, json!({"employee_id": a_id, "completion_status": "in_progress"})).await;
        assert_eq!(mine["rows"], 1);

        // Tasks are their requester's alone.
        let theirs = task["task_id"].as_str().unwrap();
        app.get(&format!("/tasks/{theirs}"), Some(&b)).await.expect(404);
        app.get(&format!("/tasks/{theirs}/file"), Some(&b)).await.expect(404);
        app.get(&format!("/tasks/{theirs}"), Some(&manager)).await.expect(404);
        app.get(&format!("/tasks/{theirs}"), None).await.expect(401);
        app.get(&format!("/tasks/{}", Uuid::now_v7()), Some(&a)).await.expect(404);

        // A task left running by a stopped replica is reported failed, and has no file.
        let stuck = old_task(&app, org, a_id, chrono::Duration::minutes(11)).await;
        let failed = app.get(&format!("/tasks/{stuck}"), Some(&a)).await;
        failed.expect(200);
        assert_eq!((failed.data()["status"].as_str(), failed.data()["file_url"].as_str()), (Some("failed"), None));
        assert!(failed.data()["error"].as_str().unwrap().contains("interrupted"));
        app.get(&format!("/tasks/{stuck}/file"), Some(&a)).await.expect(409);

        // Tasks older than a week are removed when the next one starts.
        let ancient = old_task(&app, org, a_id, chrono::Duration::days(8)).await;
        app.get(&format!("/tasks/{ancient}"), Some(&a)).await.expect(200);
        export(&app, &a, json!({})).await;
        app.get(&format!("/tasks/{ancient}"), Some(&a)).await.expect(404);
        app.get(&format!("/tasks/{stuck}"), Some(&a)).await.expect(200);

        // Bad filters start nothing.
        for (body, field) in [
            (json!({"start_date": "2026-02-03", "end_date": "2026-02-01"}), "end_date"),
            (json!({"completion_status": "done"}), "completion_status"),
        ] {
            let r = app.post("/worklogs/export", Some(&a), body).await;
            r.expect(400);
            assert_eq!(r.data()[0]["field"], field);
        }
        app.post("/worklogs/export", Some(&a), json!({"start_date": "yesterday"})).await.expect(400);
        app.get("/worklogs?start_date=2026-02-03&end_date=2026-02-01", Some(&a)).await.expect(400);
    }
);

db_test!(
    async fn an_export_larger_than_the_cap_fails_with_a_reason(backend) {
        let app = TestApp::spawn_with(backend, |cfg| cfg.export_max_bytes = 600).await;
        let (org, _) = app.org_with_admin("Big Export Agent").await;
        let (_, a) = app.user_with_token(org, "big@export.test", &["SALES"]).await;
        let small = app.post("/worklogs/export", Some(&a), json!({})).await;
        small.expect(200);
        let done = finished_task(&app, &a, uuid(&small.data()["task_id"])).await;
        assert_eq!(done["status"], "completed", "the header alone fits: {done}");
        let long = "x".repeat(700);
        app.post("/worklogs", Some(&a), json!({"work_date": "2026-03-01", "content": long})).await.expect(200);
        let big = app.post("/worklogs/export", Some(&a), json!({})).await;
        big.expect(200);
        let task = uuid(&big.data()["task_id"]);
        let done = finished_task(&app, &a, task).await;
        assert_eq!((done["status"].as_str(), done["file_url"].as_str()), (Some("failed"), None), "{done}");
        assert!(done["error"].as_str().unwrap().contains("narrow the dates"), "{done}");
        app.get(&format!("/tasks/{task}/file"), Some(&a)).await.expect(409);
    }
);
