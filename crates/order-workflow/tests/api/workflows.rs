//! Workflows and tasks: the seeded `order_approval` driving an order end to end, a rejection,
//! allocation through the task, definitions refused naming where, two completions of one task
//! making one transition, the task list's filters, other tenants' ids, and who may do what.

use crate::helpers::*;
use crate::stages::all_404;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

struct People {
    seller_id: Uuid,
    seller: String,
    operator_id: Uuid,
    operator: String,
    other_operator_id: Uuid,
    other_operator: String,
}

async fn people(app: &TestApp) -> People {
    let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
    let (operator_id, operator) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
    let (other_operator_id, other_operator) = app.user(BANTU, "ops2@bantu.test", &["OPERATION"]).await;
    People { seller_id, seller, operator_id, operator, other_operator_id, other_operator }
}

/// The organization's seeded `order_approval`.
async fn order_approval(app: &TestApp, token: &str) -> Value {
    let r = app.get("/workflows/definitions", Some(token)).await;
    r.expect(200);
    r.data().as_array().unwrap().iter().find(|d| d["code"] == "order_approval").expect("seeded").clone()
}

/// Switches workflow-driven orders on or off for the BANTU organization (on by default).
async fn switch(app: &TestApp, on: bool) {
    let def = order_approval(app, app.admin_token.as_str()).await;
    let r = app.put(&format!("/workflows/definitions/{}", id_of(&def)), app.admin(), json!({"auto_start": on})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["auto_start"], on);
}

async fn switch_on(app: &TestApp) {
    switch(app, true).await;
}

async fn new_order(app: &TestApp, seller: &str) -> String {
    let customer = app.customer(seller, &format!("PT Maju {}", Uuid::now_v7().simple())).await;
    let body = json!({"title": "KITAS", "customer_id": customer, "order_items": [{"product_name": "KITAS", "unit_price": 100}]});
    let r = app.post("/orders", Some(seller), body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    id_of(r.data())
}

async fn order_status(app: &TestApp, order: &str) -> String {
    let r = app.get(&format!("/orders/{order}"), app.admin()).await;
    r.expect(200);
    r.data()["status_code"].as_str().unwrap().to_owned()
}

/// The instance driving `order` (as the administrator sees it), with tasks and transitions.
async fn instance_of(app: &TestApp, order: &str) -> Value {
    let r = app.get(&format!("/workflows/instances?business_type=order&business_id={order}"), app.admin()).await;
    r.expect(200);
    assert_eq!(r.data()["total"], 1, "{}", r.text);
    let id = id_of(&r.data()["items"][0]);
    let r = app.get(&format!("/workflows/instances/{id}"), app.admin()).await;
    r.expect(200);
    r.data().clone()
}

/// The open task of `order`'s workflow.
async fn open_task(app: &TestApp, order: &str) -> Value {
    let inst = instance_of(app, order).await;
    let open: Vec<&Value> = inst["tasks"].as_array().unwrap().iter().filter(|t| t["status"] == "pending").collect();
    assert_eq!(open.len(), 1, "{inst}");
    open[0].clone()
}

async fn complete(app: &TestApp, token: &str, task: &str, result: Value) -> crm_common::testing::TestResponse {
    app.post(&format!("/tasks/{task}/complete"), Some(token), json!({"result": result})).await
}

fn task_ids(r: &crm_common::testing::TestResponse) -> Vec<String> {
    r.data()["items"].as_array().unwrap().iter().map(id_of).collect()
}

db_test!(
    async fn order_approval_drives_an_order_from_submitted_to_completed(backend) {
        let app = TestApp::spawn(backend).await;
        let p = people(&app).await;

        // Seeded switched on; switched off, an order behaves as without workflows.
        let def = order_approval(&app, &app.admin_token).await;
        assert_eq!(def["auto_start"], true, "seeded switched on");
        switch(&app, false).await;
        let plain = new_order(&app, &p.seller).await;
        let r = app.get(&format!("/workflows/instances?business_type=order&business_id={plain}"), app.admin()).await;
        assert_eq!(r.data()["total"], 0);
        app.put(&format!("/orders/{plain}"), app.admin(), json!({"status_code": "approved"})).await.expect(200);

        switch_on(&app).await;
        let order = new_order(&app, &p.seller).await;
        assert_eq!(order_status(&app, &order).await, "submitted");
        let inst = instance_of(&app, &order).await;
        assert_eq!(inst["status"], "running");
        assert_eq!(inst["current_stage"], "submitted");
        assert_eq!(inst["current_stage_name"], "已提交");
        let review = open_task(&app, &order).await;
        assert_eq!(review["task_code"], "review");
        assert_eq!(review["assigned_to_role"], "ADMIN");
        assert!(review["assigned_to_user_id"].is_null());
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
        assert_eq!(review["due_date"], tomorrow.as_str());
        let review = id_of(&review);

        // The review is the managers': the seller and operators neither see nor take it.
        let r = app.get("/tasks", Some(&p.seller)).await;
        assert!(!task_ids(&r).contains(&review));
        complete(&app, &p.seller, &review, json!({"approval_result": "approved"})).await.expect(404);
        let r = app.get("/tasks?status=open&lang=id", app.admin()).await;
        let mine = r.data()["items"].as_array().unwrap().iter().find(|t| id_of(t) == review).expect("the manager's");
        assert_eq!(mine["task_name"], "Tinjau pesanan");

        // The order's status is the workflow's now: a move it does not make from here is refused
        // naming the open task (one it makes completes the task: tested below).
        let r = app.put(&format!("/orders/{order}"), app.admin(), json!({"status_code": "completed"})).await;
        assert_eq!(r.status, 409, "{}", r.text);

        // A result no transition matches says what they wait for.
        let r = complete(&app, &app.admin_token, &review, json!({"approval_result": "maybe"})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("approval_result == 'approved'"), "{}", r.text);
        let r = app.post(&format!("/tasks/{review}/complete"), app.admin(), json!({"result": [1]})).await;
        r.expect(400);

        let r = complete(&app, &app.admin_token, &review, json!({"approval_result": "approved"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["task"]["status"], "completed");
        assert_eq!(r.data()["transition"]["from_stage"], "submitted");
        assert_eq!(r.data()["transition"]["to_stage"], "approved");
        assert_eq!(r.data()["instance"]["current_stage"], "approved");
        let allocate = id_of(&r.data()["next_task"]);
        assert_eq!(r.data()["next_task"]["assigned_to_role"], "OPERATION");
        assert_eq!(order_status(&app, &order).await, "approved");
        complete(&app, &app.admin_token, &review, json!({"approval_result": "approved"})).await.expect(409);

        // Operations see the allocation; the manager assigns the order as always, which completes it.
        let r = app.get("/tasks?status=pending", Some(&p.operator)).await;
        assert!(task_ids(&r).contains(&allocate), "{}", r.text);
        let r = app.post(&format!("/orders/{order}/assign"), app.admin(), json!({"assigned_to_user_id": p.operator_id})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["status_code"], "assigned");
        let inst = instance_of(&app, &order).await;
        assert_eq!(inst["current_stage"], "assigned");
        let process = open_task(&app, &order).await;
        assert_eq!(process["task_code"], "process");
        assert_eq!(process["assigned_to_user_id"], p.operator_id.to_string());
        let process = id_of(&process);

        // The operator is told, and finds it in their tasks; nobody else takes it.
        let r = app.get("/notifications", Some(&p.operator)).await;
        let note = r.data()["items"].as_array().unwrap().iter().find(|n| n["resource_id"] == process.as_str()).cloned();
        let note = note.expect("the operator is notified of the task");
        assert_eq!(note["resource_type"], "workflow_task");
        assert!(note["title"].as_str().unwrap().contains("开始办理"), "{note}");
        let r = app.get("/tasks?assignee=me&status=pending", Some(&p.operator)).await;
        assert_eq!(task_ids(&r), vec![process.clone()]);
        complete(&app, &p.other_operator, &process, json!({})).await.expect(404);
        complete(&app, &p.seller, &process, json!({})).await.expect(404);

        let r = complete(&app, &p.operator, &process, json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(order_status(&app, &order).await, "processing");
        let deliver = id_of(&r.data()["next_task"]);
        assert_eq!(r.data()["next_task"]["assigned_to_user_id"], p.operator_id.to_string());
        let r = complete(&app, &p.operator, &deliver, json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.data()["next_task"].is_null());
        assert_eq!(r.data()["instance"]["status"], "completed");
        assert_eq!(order_status(&app, &order).await, "completed");

        let inst = instance_of(&app, &order).await;
        assert_eq!(inst["status"], "completed");
        assert!(!inst["completed_at"].is_null());
        let moves: Vec<(Value, Value)> = inst["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["from_stage"].clone(), t["to_stage"].clone()))
            .collect();
        assert_eq!(
            moves,
            vec![
                (Value::Null, json!("submitted")),
                (json!("submitted"), json!("approved")),
                (json!("approved"), json!("assigned")),
                (json!("assigned"), json!("processing")),
                (json!("processing"), json!("completed")),
            ]
        );
        assert_eq!(inst["variables"]["approval_result"], "approved");
        let tasks = inst["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 4);
        assert!(tasks.iter().all(|t| t["status"] == "completed"));

        // The seller sees their order's instance (they started it by creating the order); an
        // operator, who sees every order, finds it by its order.
        let r = app.get(&format!("/workflows/instances/{}", id_of(&inst)), Some(&p.seller)).await;
        r.expect(200);
        let r = app.get("/workflows/instances", Some(&p.seller)).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.get("/workflows/instances", Some(&p.other_operator)).await;
        assert_eq!(r.data()["total"], 0);
        let r = app.get(&format!("/workflows/instances?business_type=order&business_id={order}"), Some(&p.other_operator)).await;
        assert_eq!(r.data()["total"], 1);
    }
);

db_test!(
    async fn a_rejected_order_is_cancelled_and_allocation_can_be_a_task(backend) {
        let app = TestApp::spawn(backend).await;
        let p = people(&app).await;
        switch_on(&app).await;

        let order = new_order(&app, &p.seller).await;
        let review = id_of(&open_task(&app, &order).await);
        let r = complete(&app, &app.admin_token, &review, json!({"approval_result": "rejected"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["transition"]["to_stage"], "rejected");
        assert_eq!(r.data()["instance"]["status"], "completed");
        assert!(r.data()["next_task"].is_null());
        assert_eq!(order_status(&app, &order).await, "cancelled");

        // Allocation completed as a task by an operator names the operator; a stranger is refused.
        let order = new_order(&app, &p.seller).await;
        let review = id_of(&open_task(&app, &order).await);
        complete(&app, &app.admin_token, &review, json!({"approval_result": "approved"})).await.expect(200);
        let allocate = id_of(&open_task(&app, &order).await);
        let r = complete(&app, &p.operator, &allocate, json!({})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("assigned_to_user_id"), "{}", r.text);
        let r = complete(&app, &p.operator, &allocate, json!({"assigned_to_user_id": Uuid::now_v7()})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = complete(&app, &p.operator, &allocate, json!({"assigned_to_user_id": p.other_operator_id})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["next_task"]["assigned_to_user_id"], p.other_operator_id.to_string());
        assert_eq!(order_status(&app, &order).await, "assigned");
        let r = app.get(&format!("/orders/{order}"), app.admin()).await;
        assert_eq!(r.data()["assigned_to_user_id"], p.other_operator_id.to_string());

        // Reassigning the order moves the operator's open task to the new operator.
        let r = app.post(&format!("/orders/{order}/assign"), app.admin(), json!({"assigned_to_user_id": p.operator_id})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let task = open_task(&app, &order).await;
        assert_eq!(task["assigned_to_user_id"], p.operator_id.to_string());
        let r = app.get("/tasks?status=open", Some(&p.other_operator)).await;
        assert!(!task_ids(&r).contains(&id_of(&task)));

        // Cancelling the order by hand cancels its workflow and the open task.
        app.put(&format!("/orders/{order}"), app.admin(), json!({"status_code": "cancelled"})).await.expect(200);
        let inst = instance_of(&app, &order).await;
        assert_eq!(inst["status"], "cancelled");
        let r = app.get(&format!("/tasks/{}", id_of(&task)), Some(&p.operator)).await;
        assert_eq!(r.data()["status"], "cancelled");
        complete(&app, &p.operator, &id_of(&task), json!({})).await.expect(409);
    }
);

fn stage(code: &str, end: bool) -> Value {
    let mut s = json!({"stage_code": code, "stage_name_zh": code, "stage_name_id": code});
    if end {
        s["is_end"] = json!(true);
    } else {
        s["task_name_zh"] = json!("复核");
        s["task_name_id"] = json!("Periksa");
        s["assign_to_role"] = json!("ADMIN");
    }
    s
}

fn definition(code: &str, def: Value) -> Value {
    json!({"code": code, "name_zh": "交付复核", "name_id": "Tinjauan", "workflow_type": "delivery_review", "definition_json": def})
}

db_test!(
    async fn invalid_definitions_are_refused_naming_where(backend) {
        let app = TestApp::spawn(backend).await;
        let table = [
            (
                json!({"stages": [stage("a", false), stage("done", true)], "transitions": [{"from": "a", "to": "nowhere"}]}),
                "definition_json.transitions[0].to",
                "no stage `nowhere`",
            ),
            (
                json!({"stages": [stage("a", false), stage("b", false)], "transitions": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}),
                "definition_json.stages",
                "needs an end stage",
            ),
            (
                json!({"stages": [stage("a", false), stage("b", false), stage("c", false), stage("done", true)],
                    "transitions": [{"from": "a", "to": "done"}, {"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "c", "to": "b"}]}),
                "definition_json.stages[1]",
                "no end can be reached from `b`",
            ),
            (
                json!({"stages": [stage("a", false), stage("done", true)],
                    "transitions": [{"from": "a", "to": "done", "condition": "approval_result = 'approved'"}]}),
                "definition_json.transitions[0].condition",
                "unexpected `=`",
            ),
            (
                json!({"stages": [stage("a", false), stage("done", true), stage("lost", true)], "transitions": [{"from": "a", "to": "done"}]}),
                "definition_json.stages[2]",
                "cannot be reached",
            ),
            (json!({"stages": [{"stage_code": "a"}], "transitions": []}), "definition_json.stages[0]", "missing field"),
            (json!("stages"), "definition_json", "must be an object"),
        ];
        for (def, field, message) in table {
            let r = app.post("/workflows/definitions", app.admin(), definition("review", def.clone())).await;
            assert_eq!(r.status, 400, "{def}: {}", r.text);
            assert!(r.text.contains(field) && r.text.contains(message), "{def}: {}", r.text);
        }
        let r = app.post("/workflows/definitions", app.admin(), definition("Bad Code", json!({}))).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("code"));

        // A good one saves; its code is the organization's once; edits are checked and versioned.
        let good = json!({"stages": [stage("a", false), stage("done", true)], "transitions": [{"from": "a", "to": "done", "condition": "ok == true"}]});
        let r = app.post("/workflows/definitions", app.admin(), definition("review", good.clone())).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["version"], 1);
        let id = id_of(r.data());
        app.post("/workflows/definitions", app.admin(), definition("review", good.clone())).await.expect(409);
        let broken = json!({"stages": [stage("a", false)], "transitions": []});
        let r = app.put(&format!("/workflows/definitions/{id}"), app.admin(), json!({"definition_json": broken})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let mut better = good.clone();
        better["transitions"][0]["condition"] = json!("auto");
        let r = app.put(&format!("/workflows/definitions/{id}"), app.admin(), json!({"definition_json": better})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["version"], 2);
        // Only definitions of orders start by themselves, and only one of them: the seeded one
        // does until switched off.
        let r = app.put(&format!("/workflows/definitions/{id}"), app.admin(), json!({"auto_start": true})).await;
        assert_eq!(r.status, 409, "{}", r.text);
        switch(&app, false).await;
        let r = app.put(&format!("/workflows/definitions/{id}"), app.admin(), json!({"auto_start": true})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let seeded = order_approval(&app, &app.admin_token).await;
        let r = app.put(&format!("/workflows/definitions/{}", id_of(&seeded)), app.admin(), json!({"auto_start": true})).await;
        assert_eq!(r.status, 409, "{}", r.text);
        app.delete(&format!("/workflows/definitions/{}", id_of(&seeded)), app.admin()).await.expect(409);
        app.delete(&format!("/workflows/definitions/{id}"), app.admin()).await.expect(200);
        app.get(&format!("/workflows/definitions/{id}"), app.admin()).await.expect(404);
    }
);

db_test!(
    async fn two_completions_of_one_task_make_one_transition(backend) {
        let app = TestApp::spawn(backend).await;
        let p = people(&app).await;
        switch_on(&app).await;
        for _ in 0..3 {
            let order = new_order(&app, &p.seller).await;
            let review = id_of(&open_task(&app, &order).await);
            let body = json!({"approval_result": "approved"});
            let (a, b) = tokio::join!(
                complete(&app, &app.admin_token, &review, body.clone()),
                complete(&app, &app.admin_token, &review, body.clone())
            );
            let mut codes = [a.status, b.status];
            codes.sort();
            assert_eq!(codes, [200, 409], "{} / {}", a.text, b.text);
            let inst = instance_of(&app, &order).await;
            let from_review =
                inst["transitions"].as_array().unwrap().iter().filter(|t| t["from_stage"] == "submitted").count();
            assert_eq!(from_review, 1, "{inst}");
            assert_eq!(inst["tasks"].as_array().unwrap().len(), 2, "one allocation task: {inst}");
            assert_eq!(order_status(&app, &order).await, "approved");
        }
    }
);

db_test!(
    async fn tasks_filter_by_status_due_date_and_assignee(backend) {
        let app = TestApp::spawn(backend).await;
        let p = people(&app).await;
        // People's own tasks only: no workflow's.
        switch(&app, false).await;
        let order = new_order(&app, &p.seller).await;
        let mut ids = Vec::new();
        for (title, due) in [("Call back", "2026-12-01"), ("Send quote", "2026-12-10"), ("Visit", "2026-12-20")] {
            let r = app
                .post("/tasks", Some(&p.seller), json!({"title": title, "due_date": due, "business_type": "order", "business_id": order}))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.data()["task_name_zh"], title);
            assert_eq!(r.data()["assigned_to_user_id"], p.seller_id.to_string());
            ids.push(id_of(r.data()));
        }
        app.post("/tasks", Some(&p.seller), json!({"title": ""})).await.expect(400);
        app.post("/tasks", Some(&p.seller), json!({"title": "x", "business_type": "order", "business_id": Uuid::now_v7()}))
            .await
            .expect(400);
        app.post("/tasks", Some(&p.seller), json!({"title": "x", "assigned_to_user_id": p.operator_id})).await.expect(403);

        // A manager gives the operator a task; the operator is told.
        let r = app
            .post("/tasks", app.admin(), json!({"task_name_zh": "核对护照", "task_name_id": "Periksa paspor", "assigned_to_user_id": p.operator_id, "due_date": "2026-12-05"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let ops_task = id_of(r.data());
        let r = app.get("/notifications", Some(&p.operator)).await;
        assert!(r.data()["items"].as_array().unwrap().iter().any(|n| n["resource_id"] == ops_task.as_str()));

        let r = app.get("/tasks", Some(&p.seller)).await;
        assert_eq!(r.data()["total"], 3);
        let r = app.get("/tasks?due_from=2026-12-05&due_to=2026-12-15", Some(&p.seller)).await;
        assert_eq!(task_ids(&r), vec![ids[1].clone()]);
        let r = app.get("/tasks?due_to=2026-12-10", Some(&p.seller)).await;
        assert_eq!(r.data()["total"], 2);
        app.get("/tasks?due_from=2026-12-10&due_to=2026-12-01", Some(&p.seller)).await.expect(400);
        app.get("/tasks?due_from=yesterday", Some(&p.seller)).await.expect(400);
        app.get("/tasks?status=done", Some(&p.seller)).await.expect(400);
        app.get("/tasks?assignee=someone", Some(&p.seller)).await.expect(400);

        // Progress, completion and cancellation of own tasks.
        let r = app.put(&format!("/tasks/{}", ids[0]), Some(&p.seller), json!({"status": "in_progress"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.post(&format!("/tasks/{}/complete", ids[1]), Some(&p.seller), json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.data()["transition"].is_null());
        app.put(&format!("/tasks/{}", ids[2]), Some(&p.seller), json!({"status": "cancelled"})).await.expect(200);
        app.put(&format!("/tasks/{}", ids[2]), Some(&p.seller), json!({"status": "in_progress"})).await.expect(409);
        let r = app.get("/tasks?status=in_progress", Some(&p.seller)).await;
        assert_eq!(task_ids(&r), vec![ids[0].clone()]);
        let r = app.get("/tasks?status=open", Some(&p.seller)).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.get("/tasks?status=completed", Some(&p.seller)).await;
        assert_eq!(task_ids(&r), vec![ids[1].clone()]);

        // By assignee: the caller's view only, or the organization's for managers.
        let r = app.get(&format!("/tasks?assignee={}", p.operator_id), Some(&p.seller)).await;
        assert_eq!(r.data()["total"], 0);
        app.get("/tasks?scope=all", Some(&p.seller)).await.expect(403);
        let r = app.get(&format!("/tasks?scope=all&assignee={}", p.operator_id), app.admin()).await;
        assert_eq!(task_ids(&r), vec![ops_task.clone()]);
        let r = app.get(&format!("/tasks?scope=all&business_type=order&business_id={order}"), app.admin()).await;
        assert_eq!(r.data()["total"], 3);

        // A task on a deal (seed 003): attached to an opportunity the caller owns, listed by it.
        let deal = id_of(&app.opportunity(&p.seller, json!({"name": "Work visas"})).await);
        let r = app
            .post("/tasks", Some(&p.seller), json!({"title": "Follow up", "business_type": "opportunity", "business_id": deal}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.get(&format!("/tasks?business_type=opportunity&business_id={deal}"), Some(&p.seller)).await;
        assert_eq!(r.data()["total"], 1);
        let r = app
            .post("/tasks", Some(&p.operator), json!({"title": "Peek", "business_type": "opportunity", "business_id": deal}))
            .await;
        assert_eq!(r.status, 400, "another's deal: {}", r.text);

        // Others' tasks: not seen, not changed.
        app.get(&format!("/tasks/{ops_task}"), Some(&p.seller)).await.expect(404);
        app.put(&format!("/tasks/{ops_task}"), Some(&p.seller), json!({"status": "in_progress"})).await.expect(404);
        app.delete(&format!("/tasks/{ops_task}"), Some(&p.seller)).await.expect(404);
        app.delete(&format!("/tasks/{}", ids[0]), Some(&p.seller)).await.expect(200);
        app.get(&format!("/tasks/{}", ids[0]), Some(&p.seller)).await.expect(404);
    }
);

db_test!(
    async fn other_tenants_ids_answer_404(backend) {
        let app = TestApp::spawn(backend).await;
        let p = people(&app).await;
        switch_on(&app).await;
        let order = new_order(&app, &p.seller).await;
        let inst = id_of(&instance_of(&app, &order).await);
        let review = id_of(&open_task(&app, &order).await);
        let def = id_of(&order_approval(&app, &app.admin_token).await);
        let (_, _, stranger) = app.org("PT Lain", "internal").await;
        all_404(
            &app,
            &stranger,
            vec![
                ("get", format!("/tasks/{review}"), None),
                ("put", format!("/tasks/{review}"), Some(json!({"status": "in_progress"}))),
                ("delete", format!("/tasks/{review}"), None),
                ("post", format!("/tasks/{review}/complete"), Some(json!({"result": {"approval_result": "approved"}}))),
                ("get", format!("/workflows/definitions/{def}"), None),
                ("put", format!("/workflows/definitions/{def}"), Some(json!({"is_active": false}))),
                ("delete", format!("/workflows/definitions/{def}"), None),
                ("get", format!("/workflows/instances/{inst}"), None),
                ("post", format!("/workflows/instances/{inst}/complete"), None),
                ("post", format!("/workflows/instances/{inst}/cancel"), None),
                ("post", format!("/workflows/instances/{inst}/suspend"), None),
                ("post", format!("/workflows/instances/{inst}/resume"), None),
            ],
        )
        .await;
        // Nor may they start one on this organization's order; their own definitions are theirs.
        let r = app.post("/workflows/instances", Some(&stranger), json!({"code": "order_approval", "business_id": order})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.get("/tasks?scope=all", Some(&stranger)).await;
        assert_eq!(r.data()["total"], 0);
        let theirs = order_approval(&app, &stranger).await;
        assert_ne!(id_of(&theirs), def);
        assert_eq!(order_status(&app, &order).await, "submitted");
    }
);

db_test!(
    async fn who_may_do_what(backend) {
        let app = TestApp::spawn(backend).await;
        let p = people(&app).await;
        // Instances started by hand only.
        switch(&app, false).await;
        app.get("/tasks", None).await.expect(401);
        let good = json!({"stages": [stage("a", false), stage("done", true)], "transitions": [{"from": "a", "to": "done"}]});
        app.post("/workflows/definitions", Some(&p.seller), definition("mine", good)).await.expect(403);
        let def = id_of(&order_approval(&app, &p.seller).await);
        app.put(&format!("/workflows/definitions/{def}"), Some(&p.operator), json!({"auto_start": true})).await.expect(403);
        app.delete(&format!("/workflows/definitions/{def}"), Some(&p.operator)).await.expect(403);

        // A definition whose review is the seller's own: the workflow gives them the task, the
        // order rules still refuse a seller approving.
        let seller_review = json!({
            "stages": [
                {"stage_code": "submitted", "stage_name_zh": "已提交", "stage_name_id": "Diajukan", "task_name_zh": "自审",
                 "task_name_id": "Tinjau sendiri", "assign_to": "order_seller"},
                {"stage_code": "approved", "stage_name_zh": "已批准", "stage_name_id": "Disetujui", "order_status": "approved", "is_end": true}
            ],
            "transitions": [{"from": "submitted", "to": "approved", "condition": "auto"}]
        });
        let body = json!({"code": "seller_review", "name_zh": "自审", "name_id": "Tinjau sendiri",
            "workflow_type": "order_approval", "definition_json": seller_review});
        let r = app.post("/workflows/definitions", app.admin(), body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let order = new_order(&app, &p.seller).await;
        let start = json!({"code": "seller_review", "business_id": order});
        app.post("/workflows/instances", Some(&p.seller), start.clone()).await.expect(403);
        app.post("/workflows/instances", app.admin(), json!({"code": "seller_review", "business_id": Uuid::now_v7()}))
            .await
            .expect(400);
        let r = app.post("/workflows/instances", app.admin(), start.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let inst = id_of(r.data());
        let task = id_of(&r.data()["tasks"][0]);
        assert_eq!(r.data()["tasks"][0]["assigned_to_user_id"], p.seller_id.to_string());
        app.post("/workflows/instances", app.admin(), start).await.expect(409);
        let r = complete(&app, &p.seller, &task, json!({})).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(r.text.contains("only a manager may approve"), "{}", r.text);
        assert_eq!(order_status(&app, &order).await, "submitted");

        // Suspended, nobody completes; resumed, a manager standing in may (and is allowed to approve).
        app.post(&format!("/workflows/instances/{inst}/suspend"), Some(&p.seller), json!({})).await.expect(403);
        app.post(&format!("/workflows/instances/{inst}/suspend"), app.admin(), json!({})).await.expect(200);
        complete(&app, &app.admin_token, &task, json!({})).await.expect(409);
        app.post(&format!("/workflows/instances/{inst}/suspend"), app.admin(), json!({})).await.expect(409);
        app.post(&format!("/workflows/instances/{inst}/resume"), app.admin(), json!({})).await.expect(200);
        let r = complete(&app, &app.admin_token, &task, json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(order_status(&app, &order).await, "approved");
        app.post(&format!("/workflows/instances/{inst}/cancel"), app.admin(), json!({})).await.expect(409);
    }
);

/// Whether the user with `token` has a notification about `task`. Role members are told just
/// after the request that made the task, so this waits up to five seconds for it.
async fn told_of(app: &TestApp, token: &str, task: &str) -> bool {
    for _ in 0..50 {
        let r = app.get("/notifications?size=100", Some(token)).await;
        r.expect(200);
        if r.data()["items"].as_array().unwrap().iter().any(|n| n["resource_id"] == task) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

db_test!(
    async fn a_task_for_a_role_tells_every_member_and_hand_moves_follow_the_workflow(backend) {
        let app = TestApp::spawn(backend).await;
        let p = people(&app).await;
        let (lain, _, _) = app.org("PT Lain", "internal").await;
        let (_, stranger_ops) = app.user(lain, "ops@lain.test", &["OPERATION"]).await;

        // foundation names a role's active members in the caller's organization.
        let r = app.fget("/lookup/role-members?role=OPERATION", app.admin()).await;
        r.expect(200);
        let mut members: Vec<String> = r.data().as_array().unwrap().iter().map(id_of).collect();
        members.sort();
        let mut operators = vec![p.operator_id.to_string(), p.other_operator_id.to_string()];
        operators.sort();
        assert_eq!(members, operators);
        app.fget("/lookup/role-members?role=", app.admin()).await.expect(400);
        app.fget("/lookup/role-members?role=OPERATION", None).await.expect(401);

        // Nothing switched on: a new order starts `order_approval`; every manager is told of the review.
        let order = new_order(&app, &p.seller).await;
        let review = id_of(&open_task(&app, &order).await);
        assert!(told_of(&app, &app.admin_token, &review).await, "the managers are told of the review");

        // Approving by hand (the detail page's button) completes the review.
        let r = app.put(&format!("/orders/{order}"), app.admin(), json!({"status_code": "approved"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let inst = instance_of(&app, &order).await;
        assert_eq!(inst["current_stage"], "approved");
        assert_eq!(inst["variables"]["approval_result"], "approved");
        let allocate = open_task(&app, &order).await;
        assert_eq!(allocate["assigned_to_role"], "OPERATION");
        assert!(allocate["assigned_to_user_id"].is_null());
        let allocate = id_of(&allocate);

        // Both operators are told and find it among their tasks; the seller and another
        // organization's operator are not told.
        for ops in [&p.operator, &p.other_operator] {
            assert!(told_of(&app, ops, &allocate).await, "an operator is told of the allocation");
            let r = app.get("/tasks?assignee=me&status=open", Some(ops)).await;
            assert!(task_ids(&r).contains(&allocate), "{}", r.text);
        }
        let r = app.get("/notifications?size=100", Some(&p.seller)).await;
        assert!(!r.data()["items"].as_array().unwrap().iter().any(|n| n["resource_id"] == allocate.as_str()));
        assert_eq!(app.get("/notifications", Some(&stranger_ops)).await.data()["total"], 0);
        let r = app.get("/tasks?assignee=me", Some(&p.seller)).await;
        assert!(!task_ids(&r).contains(&allocate));

        // Assigned, the operator's task; started by hand, it is completed and the order processes.
        let r = app.post(&format!("/orders/{order}/assign"), app.admin(), json!({"assigned_to_user_id": p.operator_id})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let process = id_of(&open_task(&app, &order).await);
        let r = app.put(&format!("/orders/{order}"), Some(&p.operator), json!({"status_code": "processing"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["status_code"], "processing");
        let inst = instance_of(&app, &order).await;
        assert_eq!(inst["current_stage"], "processing");
        let done = inst["tasks"].as_array().unwrap().iter().find(|t| id_of(t) == process).cloned().unwrap();
        assert_eq!(done["status"], "completed");
        assert_eq!(done["completed_by"], p.operator_id.to_string());
    }
);
