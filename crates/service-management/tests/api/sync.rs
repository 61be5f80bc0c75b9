//! Offline sync: batches of offline writes (create, update, conflict, force, replay, delete,
//! per-item errors) and the changes since a cursor (paging, tombstones, concurrent writers).

use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

async fn source_id(app: &TestApp) -> Uuid {
    let r = app.get("/customer-sources", app.admin()).await;
    r.expect(200);
    uuid(&r.data()[0]["id"])
}

async fn batch(app: &TestApp, token: Option<&str>, body: Value) -> Value {
    let r = app.post("/sync/batch", token, body).await;
    r.expect(200);
    r.data().clone()
}

async fn changes(app: &TestApp, token: Option<&str>, since: i64, limit: u64) -> Value {
    let r = app.get(&format!("/sync/changes?since={since}&limit={limit}"), token).await;
    r.expect(200);
    r.data().clone()
}

fn upsert(id: Uuid, base_version: Option<i64>, data: Value) -> Value {
    json!({"entity": "customer", "op": "upsert", "id": id, "base_version": base_version, "data": data})
}

db_test!(
    async fn a_batch_creates_under_client_ids_and_a_replay_changes_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let source = source_id(&app).await;
        let (a, b, f, k) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let body = json!({"items": [
            upsert(a, None, json!({"name": "Acme", "source_id": source, "phone": "+62811000111", "tags": ["vip"]})),
            upsert(b, None, json!({"name": "Budi", "source_id": source, "customer_type": "individual"})),
            {"entity": "follow_up", "op": "upsert", "id": f, "data": {"customer_id": a, "follow_up_type": "call",
                "content": "first call", "follow_up_date": "2026-12-07T10:00:00Z"}},
            {"entity": "contact", "op": "upsert", "id": k, "data": {"customer_id": a, "first_name": "Siti", "last_name": "Rahma", "phone": "+62811222333"}},
        ]});
        let first = batch(&app, app.admin(), body.clone()).await;
        let results = first["results"].as_array().unwrap();
        assert_eq!(results.len(), 4);
        assert_eq!(results[0]["status"], "created", "{first}");
        assert_eq!(results[0]["id"], a.to_string());
        assert_eq!(results[0]["entity"], "customer");
        assert_eq!(results[1]["status"], "created");
        assert_eq!(results[2]["status"], "created", "{first}");
        assert_eq!(results[2]["server"]["customer_id"], a.to_string());
        assert_eq!(results[3]["status"], "created", "{first}");
        assert_eq!(results[3]["server"]["full_name"], "Siti Rahma");
        app.get(&format!("/contacts/{k}"), app.admin()).await.expect(200);
        let cursor = first["cursor"].as_i64().unwrap();
        assert!(cursor >= 4, "{first}");

        // Read through the API: the client's ids, the fields sent, the follow-up moved the customer.
        let r = app.get(&format!("/customers/{a}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["name"], "Acme");
        assert_eq!(r.data()["tags"], json!(["vip"]));
        assert_eq!(r.data()["phone"], "+62811000111");
        assert!(r.data()["last_follow_up_at"].as_str().is_some());
        let version = r.data()["version"].as_i64().unwrap();
        let r = app.get(&format!("/customers/{a}/follow-ups"), app.admin()).await;
        assert_eq!(r.data()[0]["id"], f.to_string());

        // The same batch again: nothing is written, versions and the cursor stay.
        let again = batch(&app, app.admin(), body).await;
        for (i, r) in again["results"].as_array().unwrap().iter().enumerate() {
            assert_eq!(r["status"], "unchanged", "item {i}: {again}");
        }
        assert_eq!(again["cursor"].as_i64().unwrap(), cursor);
        let r = app.get(&format!("/customers/{a}"), app.admin()).await;
        assert_eq!(r.data()["version"].as_i64().unwrap(), version);
        // Equal up to notation (padding, blank for empty) is equal too.
        let third = batch(&app, app.admin(), json!({"items": [upsert(a, Some(1), json!({"name": " Acme ", "description": ""}))]})).await;
        assert_eq!(third["results"][0]["status"], "unchanged", "{third}");
        assert_eq!(third["cursor"].as_i64().unwrap(), cursor);

        // A contact edited online meanwhile: the offline edit against its old version conflicts.
        app.put(&format!("/contacts/{k}"), app.admin(), json!({"position": "Director"})).await.expect(200);
        let item = json!({"entity": "contact", "op": "upsert", "id": k, "base_version": 1, "data": {"position": "Manager"}});
        let r = batch(&app, app.admin(), json!({"items": [item.clone()]})).await;
        assert_eq!(r["results"][0]["status"], "conflict", "{r}");
        assert_eq!(r["results"][0]["differences"], json!(["position"]));
        let mut forced = json!({"force": true, "items": [item]});
        let r = batch(&app, app.admin(), forced.take()).await;
        assert_eq!(r["results"][0]["status"], "updated", "{r}");
        let all = changes(&app, app.admin(), 0, 1000).await;
        let contact_change = all["changes"].as_array().unwrap().iter().find(|c| c["id"] == k.to_string()).cloned().unwrap();
        assert_eq!(contact_change["entity"], "contact");
        assert_eq!(contact_change["data"]["position"], "Manager");
        let cursor = all["cursor"].as_i64().unwrap();

        // An update with the current base version.
        let r = batch(&app, app.admin(), json!({"items": [upsert(b, Some(1), json!({"name": "Budi Santoso"}))]})).await;
        assert_eq!(r["results"][0]["status"], "updated", "{r}");
        assert_eq!(r["results"][0]["version"], 2);
        assert_eq!(r["results"][0]["server"]["name"], "Budi Santoso");
        assert_eq!(r["cursor"].as_i64().unwrap(), cursor + 1);
    }
);

db_test!(
    async fn a_stale_base_version_is_a_conflict_that_force_overrides(backend) {
        let app = TestApp::spawn(backend).await;
        let source = source_id(&app).await;
        let id = Uuid::now_v7();
        batch(&app, app.admin(), json!({"items": [upsert(id, None, json!({"name": "Offline", "source_id": source, "description": "d"}))]})).await;
        app.put(&format!("/customers/{id}"), app.admin(), json!({"name": "Edited online"})).await.expect(200);
        let before = changes(&app, app.admin(), 0, 1000).await["cursor"].as_i64().unwrap();

        let item = upsert(id, Some(1), json!({"name": "Edited offline", "description": "d"}));
        let r = batch(&app, app.admin(), json!({"items": [item.clone()]})).await;
        let result = &r["results"][0];
        assert_eq!(result["status"], "conflict", "{r}");
        assert_eq!(result["server"]["name"], "Edited online");
        assert_eq!(result["server"]["version"], 2);
        assert_eq!(result["version"], 2);
        assert_eq!(result["differences"], json!(["name"]));
        assert_eq!(r["cursor"].as_i64().unwrap(), before, "nothing written");
        let got = app.get(&format!("/customers/{id}"), app.admin()).await;
        assert_eq!(got.data()["name"], "Edited online");
        assert_eq!(got.data()["version"], 2);

        let r = batch(&app, app.admin(), json!({"force": true, "items": [item]})).await;
        assert_eq!(r["results"][0]["status"], "updated", "{r}");
        assert_eq!(r["results"][0]["version"], 3);
        let got = app.get(&format!("/customers/{id}"), app.admin()).await;
        assert_eq!(got.data()["name"], "Edited offline");

        // A delete with a stale base version conflicts too; forced, it deletes.
        let del = json!({"entity": "customer", "op": "delete", "id": id, "base_version": 1});
        let r = batch(&app, app.admin(), json!({"items": [del.clone()]})).await;
        assert_eq!(r["results"][0]["status"], "conflict", "{r}");
        let r = batch(&app, app.admin(), json!({"force": true, "items": [del]})).await;
        assert_eq!(r["results"][0]["status"], "deleted", "{r}");
    }
);

db_test!(
    async fn deletions_leave_tombstones_and_changes_page_in_order(backend) {
        let app = TestApp::spawn(backend).await;
        let source = source_id(&app).await;
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let items: Vec<Value> =
            ids.iter().enumerate().map(|(i, id)| upsert(*id, None, json!({"name": format!("C{i}"), "source_id": source}))).collect();
        batch(&app, app.admin(), json!({"items": items})).await;
        let follow_up = Uuid::now_v7();
        batch(&app, app.admin(), json!({"items": [{"entity": "follow_up", "op": "upsert", "id": follow_up,
            "data": {"customer_id": ids[0], "follow_up_type": "visit", "follow_up_date": "2026-12-07T09:00:00Z"}}]})).await;

        // Pages of two: in change-number order, each at its latest state, has_more until the end.
        let mut since = 0;
        let mut seen = Vec::new();
        loop {
            let page = changes(&app, app.admin(), since, 2).await;
            let list = page["changes"].as_array().unwrap();
            assert!(list.len() <= 2);
            for c in list {
                let seq = c["sync_seq"].as_i64().unwrap();
                assert!(seq > since);
                since = seq;
                seen.push((c["entity"].as_str().unwrap().to_owned(), uuid(&c["id"]), c["op"].as_str().unwrap().to_owned()));
            }
            assert_eq!(page["cursor"].as_i64().unwrap(), since);
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
        }
        // The follow-up moved customer 0 to a later change: it comes after the follow-up.
        let expected: Vec<(String, Uuid, String)> = ids[1..]
            .iter()
            .map(|id| ("customer".to_owned(), *id, "upsert".to_owned()))
            .chain([("follow_up".to_owned(), follow_up, "upsert".to_owned()), ("customer".to_owned(), ids[0], "upsert".to_owned())])
            .collect();
        assert_eq!(seen, expected);
        let page = changes(&app, app.admin(), since, 2).await;
        assert_eq!(page["changes"], json!([]));
        assert_eq!(page["cursor"].as_i64().unwrap(), since);
        assert_eq!(page["has_more"], false);

        // Deleting through a batch: tombstones of the customer and its follow-up; an absent id is unchanged.
        let r = batch(&app, app.admin(), json!({"items": [
            {"entity": "customer", "op": "delete", "id": ids[0]},
            {"entity": "customer", "op": "delete", "id": Uuid::now_v7()},
        ]})).await;
        assert_eq!(r["results"][0]["status"], "deleted", "{r}");
        assert_eq!(r["results"][1]["status"], "unchanged");
        let page = changes(&app, app.admin(), since, 100).await;
        let gone: Vec<(String, Uuid)> = page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                assert_eq!(c["op"], "delete");
                assert!(c.get("data").is_none());
                (c["entity"].as_str().unwrap().to_owned(), uuid(&c["id"]))
            })
            .collect();
        assert_eq!(gone, vec![("follow_up".to_owned(), follow_up), ("customer".to_owned(), ids[0])]);
        app.get(&format!("/customers/{}", ids[0]), app.admin()).await.expect(404);
        // Replaying the delete changes nothing.
        let cursor = page["cursor"].as_i64().unwrap();
        let r = batch(&app, app.admin(), json!({"items": [{"entity": "customer", "op": "delete", "id": ids[0]}]})).await;
        assert_eq!(r["results"][0]["status"], "unchanged");
        assert_eq!(r["cursor"].as_i64().unwrap(), cursor);

        // Bad parameters.
        app.get("/sync/changes?limit=0", app.admin()).await.expect(400);
        app.get("/sync/changes?limit=1001", app.admin()).await.expect(400);
        app.get("/sync/changes?since=-1", app.admin()).await.expect(400);
        app.get("/sync/changes?since=x", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn the_cursor_misses_nothing_under_concurrent_writers(backend) {
        let app = std::sync::Arc::new(TestApp::spawn(backend).await);
        let source = source_id(&app).await;
        let writers: Vec<_> = (0..5)
            .map(|w| {
                let app = app.clone();
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for i in 0..20 {
                        let id = Uuid::now_v7();
                        let r = app
                            .post("/sync/batch", app.admin(), json!({"items": [upsert(id, None, json!({"name": format!("W{w}-{i}"), "source_id": source}))]}))
                            .await;
                        r.expect(200);
                        assert_eq!(r.data()["results"][0]["status"], "created", "{}", r.text);
                        ids.push(id);
                    }
                    ids
                })
            })
            .collect();
        let mut seen: HashMap<Uuid, usize> = HashMap::new();
        let mut since = 0;
        let mut read = |page: &Value, since: &mut i64| {
            for c in page["changes"].as_array().unwrap() {
                *seen.entry(uuid(&c["id"])).or_default() += 1;
            }
            *since = page["cursor"].as_i64().unwrap();
        };
        while !writers.iter().all(|w| w.is_finished()) {
            let page = changes(&app, app.admin(), since, 7).await;
            read(&page, &mut since);
        }
        let mut written = Vec::new();
        for w in writers {
            written.extend(w.await.unwrap());
        }
        loop {
            let page = changes(&app, app.admin(), since, 7).await;
            read(&page, &mut since);
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
        }
        assert_eq!(written.len(), 100);
        assert_eq!(seen.len(), 100, "every id seen");
        for id in written {
            assert_eq!(seen.get(&id), Some(&1), "{id} seen exactly once");
        }
    }
);

db_test!(
    async fn items_follow_the_api_rules_and_fail_alone(backend) {
        let app = TestApp::spawn(backend).await;
        let source = source_id(&app).await;
        let (_, ana) = app.user(BANTU, "ana@bantu.test", &["SALES"]).await;
        let (_, budi) = app.user(BANTU, "budi@bantu.test", &["SALES"]).await;
        let (_, ops) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        let anas = Uuid::now_v7();
        batch(&app, Some(&ana), json!({"items": [upsert(anas, None, json!({"name": "Ana's", "source_id": source}))]})).await;

        let mine = Uuid::now_v7();
        let r = batch(&app, Some(&budi), json!({"items": [
            upsert(anas, Some(1), json!({"name": "taken over"})),
            {"entity": "customer", "op": "delete", "id": anas},
            {"entity": "follow_up", "op": "upsert", "id": Uuid::now_v7(), "data": {"customer_id": anas, "follow_up_type": "call", "follow_up_date": "2026-12-07T09:00:00Z"}},
            upsert(mine, None, json!({"name": "Budi's", "source_id": source})),
            upsert(Uuid::now_v7(), None, json!({"name": ""})),
            upsert(Uuid::now_v7(), None, json!({"name": 5})),
        ]})).await;
        let results = r["results"].as_array().unwrap();
        for i in [0, 2] {
            assert_eq!(results[i]["status"], "error", "{r}");
            assert_eq!(results[i]["error"]["code"], 404, "{r}");
        }
        // Deleting needs customer.delete (administrators), checked first as in the API.
        assert_eq!(results[1]["error"]["code"], 403, "{r}");
        assert_eq!(results[3]["status"], "created", "{r}");
        assert_eq!(results[4]["error"]["code"], 400);
        assert!(results[4]["error"]["fields"].as_array().unwrap().iter().any(|f| f["field"] == "name"), "{r}");
        assert_eq!(results[5]["error"]["code"], 400);
        let r = batch(&app, Some(&budi), json!({"items": [{"entity": "customer", "op": "delete", "id": mine}]})).await;
        assert_eq!(r["results"][0]["error"]["code"], 403, "{r}");
        app.get(&format!("/customers/{anas}"), Some(&ana)).await.expect(200);
        assert_eq!(app.get(&format!("/customers/{anas}"), Some(&ana)).await.data()["name"], "Ana's");

        // Changes show each seller only their own customers; the administrator sees both.
        let ids = |page: &Value| -> Vec<Uuid> { page["changes"].as_array().unwrap().iter().map(|c| uuid(&c["id"])).collect() };
        assert_eq!(ids(&changes(&app, Some(&ana), 0, 100).await), vec![anas]);
        assert_eq!(ids(&changes(&app, Some(&budi), 0, 100).await), vec![mine]);
        assert_eq!(ids(&changes(&app, app.admin(), 0, 100).await).len(), 2);

        // Permissions: batches need customer.update.
        app.post("/sync/batch", Some(&ops), json!({"items": []})).await.expect(403);
        app.get("/sync/changes", Some(&ops)).await.expect(200);
        app.get("/sync/changes", None).await.expect(401);
    }
);

db_test!(
    async fn oversized_and_malformed_batches_are_rejected(backend) {
        let app = TestApp::spawn(backend).await;
        let items: Vec<Value> = (0..501).map(|_| json!({"entity": "customer", "op": "delete", "id": Uuid::now_v7()})).collect();
        let r = app.post("/sync/batch", app.admin(), json!({"items": items})).await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "items", "{}", r.text);
        let items: Vec<Value> = (0..500).map(|_| json!({"entity": "customer", "op": "delete", "id": Uuid::now_v7()})).collect();
        let r = app.post("/sync/batch", app.admin(), json!({"items": items})).await;
        r.expect(200);
        assert_eq!(r.data()["results"].as_array().unwrap().len(), 500);

        app.post("/sync/batch", app.admin(), json!({})).await.expect(400);
        app.post("/sync/batch", app.admin(), json!({"items": [{"entity": "lead", "op": "upsert", "id": Uuid::now_v7()}]})).await.expect(400);
        app.post("/sync/batch", app.admin(), json!({"items": [{"entity": "customer", "op": "merge", "id": Uuid::now_v7()}]})).await.expect(400);
        app.post("/sync/batch", app.admin(), json!({"items": [{"entity": "customer", "op": "upsert", "id": "nope"}]})).await.expect(400);
        let r = app
            .client
            .send(
                app.client
                    .builder(reqwest::Method::POST, "/api/service-management/sync/batch", app.admin())
                    .header("content-type", "application/json")
                    .body("{bad"),
            )
            .await;
        r.expect(400);
    }
);

db_test!(
    async fn the_same_new_customer_sent_at_once_is_created_once_and_replayed_for_the_others(backend) {
        let app = TestApp::spawn(backend).await;
        let source = source_id(&app).await;
        let id = Uuid::now_v7();
        let body = json!({"items": [upsert(id, Some(1), json!({"name": "Acme", "source_id": source}))]});
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let (client, token, body) = (app.client.clone(), app.admin_token.clone(), body.clone());
            tasks.spawn(async move { client.post(&format!("{PREFIX}/sync/batch"), Some(&token), &body).await });
        }
        let mut statuses = HashMap::new();
        while let Some(r) = tasks.join_next().await {
            let r = r.unwrap();
            r.expect(200);
            let status = r.data()["results"][0]["status"].as_str().unwrap().to_owned();
            *statuses.entry(status).or_insert(0) += 1;
        }
        // One creates it; every other copy is answered as a replay, never as an error.
        assert_eq!(statuses.get("created"), Some(&1), "{statuses:?}");
        assert_eq!(statuses.get("unchanged"), Some(&9), "{statuses:?}");
        let r = app.get("/customers?view_type=global", app.admin()).await;
        assert_eq!(r.data()["total"], 1);
    }
);
