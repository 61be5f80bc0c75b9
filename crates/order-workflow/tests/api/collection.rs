//! Collection tasks and notifications: manual tasks default to the order's seller and notify
//! them, only the assignee completes, the automatic job gives each due payment stage one task —
//! exactly one even with two replicas running it at once on one database — and marks stages
//! overdue; the caller's notifications, read one by one or all at once; other tenants' ids.

use crate::helpers::*;
use crate::stages::{all_404, processing_order};
use chrono::{Duration, Utc};
use crm_common::db_test;
use crm_order_workflow::collection::job;
use serde_json::json;
use uuid::Uuid;

/// The order's set-up (approved, assigned, processing) notified its people; these tests count
/// the collection tasks' notifications only.
async fn forget_notifications(app: &TestApp) {
    use sea_orm::EntityTrait;
    crm_order_workflow::notifications::model::Entity::delete_many().exec(&app.state.db).await.unwrap();
}

db_test!(
    async fn manual_tasks_notify_their_assignee_who_alone_completes_them(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        forget_notifications(&app).await;
        let id = &s.order;
        let r = app
            .post(&format!("/orders/{id}/payment-stages"), Some(&s.finance), json!({"stage_name": "deposit", "amount": 100,
                "due_date": "2099-03-01"}))
            .await;
        let stage = id_of(r.data());
        let tasks = format!("/collection-tasks/orders/{id}");

        app.post(&tasks, Some(&s.operator), json!({})).await.expect(403);
        app.post(&tasks, Some(&s.finance), json!({"task_type": "sometimes"})).await.expect(400);
        app.post(&tasks, Some(&s.finance), json!({"payment_stage_id": Uuid::now_v7()})).await.expect(400);
        app.post(&tasks, Some(&s.finance), json!({"assigned_to_user_id": Uuid::now_v7()})).await.expect(400);
        app.post(&format!("/collection-tasks/orders/{}", Uuid::now_v7()), Some(&s.finance), json!({})).await.expect(404);
        let r = app.post(&tasks, Some(&s.finance), json!({"payment_stage_id": stage, "notes": "call the director"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let task = id_of(r.data());
        assert_eq!(r.data()["task_type"], "manual");
        assert_eq!(r.data()["status"], "pending");
        assert_eq!(r.data()["assigned_to_user_id"], s.seller_id.to_string(), "defaults to the order's seller");
        assert_eq!(r.data()["due_date"], "2099-03-01", "the stage's due date");
        // The seller adds one for the operator.
        let r = app.post(&tasks, Some(&s.seller), json!({"assigned_to_user_id": s.operator_id, "due_date": "2099-01-01"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let ops_task = id_of(r.data());

        // Each assignee sees their own tasks and a notification about each.
        let r = app.get("/collection-tasks", Some(&s.seller)).await;
        r.expect(200);
        assert_eq!((r.data()["total"].as_u64(), r.data()["page"].as_u64(), r.data()["size"].as_u64()), (Some(1), Some(1), Some(20)));
        assert_eq!(r.data()["items"][0]["id"], task.as_str());
        let r = app.get("/collection-tasks?status=completed", Some(&s.seller)).await;
        assert_eq!(r.data()["total"], 0);
        app.get("/collection-tasks?status=later", Some(&s.seller)).await.expect(400);
        app.get("/collection-tasks?size=101", Some(&s.seller)).await.expect(400);
        let r = app.get(&tasks, Some(&s.finance)).await;
        r.expect(200);
        assert_eq!(r.data().as_array().unwrap().len(), 2);
        app.get(&format!("/collection-tasks/{ops_task}"), Some(&s.operator)).await.expect(200);
        let r = app.get("/notifications/unread-count", Some(&s.seller)).await;
        r.expect(200);
        assert_eq!(r.data()["unread_count"], 1);
        let r = app.get("/notifications", Some(&s.seller)).await;
        r.expect(200);
        let note = &r.data()["items"][0];
        assert_eq!(note["notification_type"], "collection_task");
        assert_eq!(note["resource_id"], task.as_str());
        assert_eq!(note["is_read"], false);
        let seller_note = id_of(note);
        let r = app.get("/notifications/unread-count", Some(&s.operator)).await;
        assert_eq!(r.data()["unread_count"], 1);

        // Only the assignee completes; the status moves forward only.
        app.post(&format!("/collection-tasks/{task}/complete"), Some(&s.finance), json!({})).await.expect(403);
        app.put(&format!("/collection-tasks/{task}"), Some(&s.operator), json!({"notes": "x"})).await.expect(403);
        let r = app.put(&format!("/collection-tasks/{task}"), Some(&s.finance), json!({"status": "in_progress", "notes": "called"})).await;
        r.expect(200);
        assert_eq!(r.data()["notes"], "called");
        let r = app.put(&format!("/collection-tasks/{task}"), Some(&s.seller), json!({"status": "pending"})).await;
        r.expect(409);
        assert!(r.text.contains("completed, cancelled"), "{}", r.text);
        let r = app.post(&format!("/collection-tasks/{task}/complete"), Some(&s.seller), json!({})).await;
        r.expect(200);
        assert_eq!(r.data()["status"], "completed");
        assert!(r.data()["completed_at"].is_string());
        app.post(&format!("/collection-tasks/{task}/complete"), Some(&s.seller), json!({})).await.expect(409);
        // Reassigning notifies the new assignee.
        app.put(&format!("/collection-tasks/{ops_task}"), Some(&s.finance), json!({"assigned_to_user_id": s.seller_id})).await.expect(200);
        let r = app.get("/notifications/unread-count", Some(&s.seller)).await;
        assert_eq!(r.data()["unread_count"], 2);

        // Notifications: read one (only one's own), read all, filter.
        let op_notes = app.get("/notifications", Some(&s.operator)).await;
        let op_note = id_of(&op_notes.data()["items"][0]);
        app.put(&format!("/notifications/{op_note}/read"), Some(&s.seller), json!({})).await.expect(404);
        let r = app.put(&format!("/notifications/{seller_note}/read"), Some(&s.seller), json!({})).await;
        r.expect(200);
        assert_eq!(r.data()["is_read"], true);
        assert!(r.data()["read_at"].is_string());
        let r = app.get("/notifications?is_read=false", Some(&s.seller)).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.get("/notifications?is_read=true", Some(&s.seller)).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.put("/notifications/read-all", Some(&s.seller), json!({})).await;
        r.expect(200);
        assert_eq!(r.data()["updated_count"], 1);
        let r = app.get("/notifications/unread-count", Some(&s.seller)).await;
        assert_eq!(r.data()["unread_count"], 0);
        let r = app.get("/notifications/unread-count", Some(&s.operator)).await;
        assert_eq!(r.data()["unread_count"], 1, "another user's notifications are untouched");
        app.get("/notifications", None).await.expect(401);

        // Another organization sees none of it.
        let (_, _, stranger) = app.org("PT Lain", "internal").await;
        all_404(
            &app,
            &stranger,
            vec![
                ("get", tasks.clone(), None),
                ("post", tasks.clone(), Some(json!({}))),
                ("get", format!("/collection-tasks/{ops_task}"), None),
                ("put", format!("/collection-tasks/{ops_task}"), Some(json!({"notes": "mine"}))),
                ("post", format!("/collection-tasks/{ops_task}/complete"), None),
                ("put", format!("/notifications/{op_note}/read"), None),
            ],
        )
        .await;
        let r = app.get("/collection-tasks", Some(&stranger)).await;
        assert_eq!(r.data()["total"], 0);
    }
);

db_test!(
    async fn the_job_creates_one_task_per_due_stage_even_with_two_replicas(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        forget_notifications(&app).await;
        let path = format!("/orders/{}/payment-stages", s.order);
        let today = Utc::now().date_naive();
        let days = |n: i64| (today + Duration::days(n)).to_string();
        let mut due = Vec::new();
        for (n, (when, trigger)) in
            [(days(-3), "manual"), (days(-1), "manual"), (days(0), "manual"), (days(-2), "milestone")].into_iter().enumerate()
        {
            let r = app.post(&path, Some(&s.finance), json!({"stage_name": format!("s{n}"), "amount": 100,
                "due_date": when, "payment_trigger": trigger})).await;
            assert_eq!(r.status, 200, "{}", r.text);
            due.push(id_of(r.data()));
        }
        // Not due: later, paid, cancelled; due by its trigger date.
        let later = id_of(app.post(&path, Some(&s.finance), json!({"stage_name": "later", "amount": 100, "due_date": days(5)})).await.data());
        let paid = id_of(app.post(&path, Some(&s.finance), json!({"stage_name": "paid", "amount": 100, "due_date": days(-1)})).await.data());
        app.post(&format!("{path}/{paid}/payments"), Some(&s.finance), json!({"amount": 100})).await.expect(200);
        let cancelled = id_of(app.post(&path, Some(&s.finance), json!({"stage_name": "off", "amount": 100, "due_date": days(-1)})).await.data());
        app.put(&format!("{path}/{cancelled}"), Some(&s.finance), json!({"status": "cancelled"})).await.expect(200);
        let r = app.post(&path, Some(&s.finance), json!({"stage_name": "dated", "amount": 100, "payment_trigger": "date",
            "trigger_date": days(0), "due_date": days(10)})).await;
        due.push(id_of(r.data()));

        // Two replicas: two independent states on the same database, each running the job
        // several times at once.
        let dir = app.db.data_dir().join("replica");
        let other_sm = app.sm.as_ref().unwrap().url();
        let a = crm_order_workflow::prepare(config(&app.db, &dir.join("a"), &app.foundation.url(), &other_sm)).await.unwrap();
        let b = crm_order_workflow::prepare(config(&app.db, &dir.join("b"), &app.foundation.url(), &other_sm)).await.unwrap();
        let runs = (0..6).map(|n| {
            let db = if n % 2 == 0 { a.db.clone() } else { b.db.clone() };
            async move { job::run_once(&db, today).await.unwrap() }
        });
        let results = futures_util::future::join_all(runs).await;
        let created: usize = results.iter().map(|r| r.created).sum();
        assert_eq!(created, due.len(), "one task per due stage across all runs: {results:?}");
        let again = job::run_once(&app.state.db, today).await.unwrap();
        assert_eq!(again.created, 0);

        let r = app.get(&format!("/collection-tasks/orders/{}", s.order), Some(&s.finance)).await;
        r.expect(200);
        let tasks = r.data().as_array().unwrap().clone();
        assert_eq!(tasks.len(), due.len());
        let mut stages: Vec<String> = tasks.iter().map(|t| t["payment_stage_id"].as_str().unwrap().to_owned()).collect();
        stages.sort();
        let mut want = due.clone();
        want.sort();
        assert_eq!(stages, want, "exactly the due stages");
        for t in &tasks {
            assert_eq!(t["task_type"], "auto");
            assert_eq!(t["assigned_to_user_id"], s.seller_id.to_string());
        }
        let r = app.get("/notifications/unread-count", Some(&s.seller)).await;
        assert_eq!(r.data()["unread_count"].as_u64(), Some(due.len() as u64), "one notification per task");
        let r = app.get("/collection-tasks", Some(&s.seller)).await;
        assert_eq!(r.data()["total"].as_u64(), Some(due.len() as u64));

        // Past-due stages are overdue now; the one due today, the later and the paid ones not.
        let r = app.get(&path, Some(&s.finance)).await;
        let status = |id: &str| {
            r.data().as_array().unwrap().iter().find(|x| x["id"] == id).unwrap()["status"].as_str().unwrap().to_owned()
        };
        assert_eq!(status(&due[0]), "overdue");
        assert_eq!(status(&due[1]), "overdue");
        assert_eq!(status(&due[2]), "pending");
        assert_eq!(status(&later), "pending");
        assert_eq!(status(&paid), "paid");
        assert_eq!(status(&cancelled), "cancelled");
        // A manual auto task for a stage that has one is refused.
        let r = app
            .post(&format!("/collection-tasks/orders/{}", s.order), Some(&s.finance), json!({"task_type": "auto", "payment_stage_id": due[0]}))
            .await;
        r.expect(409);
        // Paying an overdue stage in full makes it paid.
        let r = app.post(&format!("{path}/{}/payments", due[0]), Some(&s.finance), json!({"amount": 100})).await;
        r.expect(200);
        assert_eq!(r.data()["payment_stage"]["status"], "paid");
    }
);

db_test!(
    async fn the_spawned_job_keeps_running_on_its_interval(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let path = format!("/orders/{}/payment-stages", s.order);
        let yesterday = (Utc::now().date_naive() - Duration::days(1)).to_string();
        let r = app.post(&path, Some(&s.finance), json!({"stage_name": "DP", "amount": 100, "due_date": yesterday})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let handle = job::spawn(app.state.clone(), std::time::Duration::from_millis(50));
        let tasks = format!("/collection-tasks/orders/{}", s.order);
        let mut found = 0;
        for _ in 0..200 {
            found = app.get(&tasks, Some(&s.finance)).await.data().as_array().unwrap().len();
            if found > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(found, 1, "the loop ran the job without being asked");
        // A stage falling due later is picked up by a later tick, and nothing is repeated.
        let r = app.post(&path, Some(&s.finance), json!({"stage_name": "Rest", "amount": 50, "due_date": yesterday})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for _ in 0..200 {
            found = app.get(&tasks, Some(&s.finance)).await.data().as_array().unwrap().len();
            if found > 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        handle.abort();
        assert_eq!(app.get(&tasks, Some(&s.finance)).await.data().as_array().unwrap().len(), 2, "one task per stage");
    }
);
