//! Order files at the original's flat paths and the real client's nested ones: multipart
//! uploads checked against their type and size, per item and per stage, verification, download,
//! deletion with the stored object, and signed links a browser opens without a token — refused
//! once expired or changed, and never opening another organization's file.

use crate::helpers::*;
use crate::order_comments::sold_order;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use crm_order_workflow::order_files::signing::Signer;
use serde_json::{Value, json};
use uuid::Uuid;

const BOUNDARY: &str = "crm-order-files-boundary-4c2e";
pub const PNG: &[u8] = b"\x89PNG\r\n\x1A\n\0\0\0\rIHDRsome image bytes";
const PDF: &[u8] = b"%PDF-1.7\nsome pdf bytes";

/// A form part: field name, file name, content.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(file_name) = file_name {
            body.extend_from_slice(
                format!("; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream").as_bytes(),
            );
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn upload(app: &TestApp, token: Option<&str>, path: &str, parts: &[Part<'_>]) -> TestResponse {
    let req = app.client.builder(reqwest::Method::POST, &format!("{PREFIX}{path}"), token);
    let req = req.header("content-type", format!("multipart/form-data; boundary={BOUNDARY}")).body(form(parts));
    app.client.send(req).await
}

/// Status, headers and bytes of a GET of `url` (a path on the service).
async fn fetch(app: &TestApp, token: Option<&str>, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app.client.builder(reqwest::Method::GET, url, token).send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn files_dir(app: &TestApp) -> std::path::PathBuf {
    app.state.config.files_dir.clone()
}

/// `url` with its query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|kv| if kv.starts_with(&format!("{name}=")) { format!("{name}={value}") } else { kv.to_owned() })
        .collect();
    format!("{path}?{}", query.join("&"))
}

db_test!(
    async fn files_at_both_addresses_with_signed_links(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let s = Some(seller.as_str());
        let id = sold_order(&app, &seller).await;
        let r = app.get(&format!("/orders/{id}"), s).await;
        let item = id_of(&r.data()["order_items"][0]);
        let r = app.post(&format!("/orders/{id}/stages"), app.admin(), json!({"stage_name": "Documents"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let stage = id_of(r.data());

        // The original's form, every field.
        let r = upload(&app, s, "/order-files/upload", &[
            ("order_id", None, id.as_bytes()),
            ("order_item_id", None, item.as_bytes()),
            ("file_category", None, b"passport"),
            ("file_name_zh", None, "护照".as_bytes()),
            ("file_name_id", None, b"Paspor"),
            ("description_zh", None, "首页".as_bytes()),
            ("is_required", None, b"true"),
            ("file", Some("scan.PNG"), PNG),
        ])
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let png = r.data().clone();
        let png_id = id_of(&png);
        assert_eq!(png["file_type"], "image");
        assert_eq!(png["mime_type"], "image/png");
        assert_eq!(png["file_size"], PNG.len());
        assert_eq!(png["file_category"], "passport");
        assert_eq!(png["file_name"], "护照");
        assert_eq!(png["description"], "首页");
        assert_eq!(png["order_item_id"], item.as_str());
        assert_eq!((png["is_required"].as_bool(), png["is_verified"].as_bool()), (Some(true), Some(false)));
        assert_eq!(png["uploaded_by"], seller_id.to_string());
        let stored = files_dir(&app).join(format!("order_{id}/{png_id}.png"));
        assert_eq!(std::fs::read(&stored).unwrap(), PNG, "kept under order_{{order_id}}/{{file_id}}.{{ext}}");
        // A stage must be one of this order's.
        let r = upload(&app, s, &format!("/orders/{id}/files"), &[
            ("file", Some("kontrak.pdf"), PDF),
            ("order_stage_id", None, Uuid::now_v7().to_string().as_bytes()),
        ])
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("order_stage_id"), "{}", r.text);
        // The real client's form: file, file_category, description (in the `lang` language).
        let r = upload(&app, s, &format!("/orders/{id}/files?lang=id"), &[
            ("file", Some("kontrak.pdf"), PDF),
            ("file_category", None, b"document"),
            ("description", None, b"Kontrak"),
            ("order_stage_id", None, stage.as_bytes()),
        ])
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let pdf = r.data().clone();
        let pdf_id = id_of(&pdf);
        assert_eq!((pdf["file_type"].as_str(), pdf["file_name"].as_str()), (Some("pdf"), Some("kontrak.pdf")));
        assert_eq!((pdf["description_id"].as_str(), pdf["description_zh"].as_str()), (Some("Kontrak"), None));
        assert_eq!(pdf["is_required"], false);

        // Lists: newest first, with their filters, at both addresses.
        let r = app.get(&format!("/order-files/order/{id}/files"), s).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        let ids: Vec<&str> = r.data()["files"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [pdf_id.as_str(), png_id.as_str()]);
        for (query, expected) in [
            ("file_category=passport".to_owned(), 1),
            (format!("order_item_id={item}"), 1),
            (format!("order_stage_id={stage}"), 1),
            ("size=1&page=2".to_owned(), 1),
        ] {
            let r = app.get(&format!("/order-files/order/{id}/files?{query}"), s).await;
            assert_eq!(r.data()["files"].as_array().unwrap().len(), expected, "{query}: {}", r.text);
        }
        app.get(&format!("/order-files/order/{id}/files?file_category=selfie"), s).await.expect(400);
        let r = app.get(&format!("/orders/{id}/files?lang=id"), s).await;
        r.expect(200);
        assert_eq!((r.data()["total"].as_u64(), r.data()["page"].as_u64(), r.data()["size"].as_u64()), (Some(2), Some(1), Some(50)));
        assert_eq!(r.data()["items"][1]["file_name"], "Paspor");
        for (query, expected) in [(format!("item_id={item}"), 1), (format!("stage_id={stage}"), 1), ("category=visa".to_owned(), 0)] {
            let r = app.get(&format!("/orders/{id}/files?{query}"), s).await;
            assert_eq!(r.data()["total"], expected, "{query}");
        }
        let r = app.get(&format!("/orders/{id}/items/{item}/files"), s).await;
        r.expect(200);
        assert_eq!(r.data().as_array().unwrap().len(), 1);
        assert_eq!(r.data()[0]["id"], png_id.as_str());
        let r = app.get(&format!("/orders/{id}/stages/{stage}/files"), s).await;
        assert_eq!(r.data()[0]["id"], pdf_id.as_str());

        // One file at both addresses; details changed, verified.
        app.get(&format!("/order-files/{png_id}"), s).await.expect(200);
        let r = app.get(&format!("/orders/{id}/files/{pdf_id}"), s).await;
        r.expect(200);
        assert_eq!(r.data()["description"], "Kontrak", "falls back to the other language");
        let r = app.put(&format!("/order-files/{png_id}?lang=id"), s, json!({"file_name": "Paspor depan"})).await;
        r.expect(200);
        assert_eq!((r.data()["file_name_id"].as_str(), r.data()["file_name_zh"].as_str()), (Some("Paspor depan"), Some("护照")));
        let r = app.put(&format!("/orders/{id}/files/{png_id}"), s, json!({"file_category": "visa", "is_required": false})).await;
        r.expect(200);
        assert_eq!((r.data()["file_category"].as_str(), r.data()["is_required"].as_bool()), (Some("visa"), Some(false)));
        app.put(&format!("/orders/{id}/files/{png_id}"), s, json!({"file_type": "movie"})).await.expect(400);
        let r = app.post(&format!("/orders/{id}/files/{png_id}/verify"), s, json!({"is_verified": true})).await;
        r.expect(200);
        assert_eq!(r.data()["is_verified"], true);
        assert_eq!(r.data()["verified_by"], seller_id.to_string());
        assert!(r.data()["verified_at"].is_string());
        let r = app.post(&format!("/orders/{id}/files/{pdf_id}/verify"), s, json!({"is_verified": false})).await;
        assert_eq!((r.data()["is_verified"].as_bool(), r.data()["verified_by"].is_null()), (Some(false), true));

        // Download with the token: the bytes, their type.
        let download = format!("{PREFIX}/orders/{id}/files/{png_id}/download");
        let (status, headers, bytes) = fetch(&app, s, &download).await;
        assert_eq!((status, bytes.as_slice()), (200, PNG));
        assert_eq!(headers["content-type"], "image/png");
        assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline"));
        assert_eq!(fetch(&app, None, &download).await.0, 401);
        let (_, headers, bytes) = fetch(&app, s, &format!("{PREFIX}/orders/{id}/files/{pdf_id}/download")).await;
        assert_eq!(bytes, PDF);
        assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"));

        // The signed link opens without a token.
        let link = app.get(&format!("/order-files/{png_id}"), s).await.data()["file_url"].as_str().unwrap().to_owned();
        assert!(link.starts_with(&format!("{PREFIX}/files/signed/{png_id}?expires=")), "{link}");
        let (status, headers, bytes) = fetch(&app, None, &link).await;
        assert_eq!((status, bytes.as_slice()), (200, PNG));
        assert_eq!(headers["content-type"], "image/png");
        let r = app.get(&format!("/order-files/{png_id}/url?expires_in=120"), s).await;
        r.expect(200);
        let asked = r.data()["file_url"].as_str().unwrap().to_owned();
        assert!(r.data()["expires_at"].is_string());
        assert_eq!(fetch(&app, None, &asked).await.0, 200);
        app.get(&format!("/order-files/{png_id}/url?expires_in=10"), s).await.expect(400);
        // Changed in any part: 403. Expired: 410.
        let sig = link.rsplit_once("sig=").unwrap().1;
        let stem = &sig[..sig.len() - 1];
        let flipped = if sig.ends_with('A') { format!("{stem}B") } else { format!("{stem}A") };
        let expires: i64 = link.split("expires=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
        for changed in [
            with_param(&link, "sig", &flipped),
            with_param(&link, "expires", &(expires + 3600).to_string()),
            link.replace(&png_id, &pdf_id),
            with_param(&link, "sig", ""),
        ] {
            let (status, _, bytes) = fetch(&app, None, &changed).await;
            assert_eq!(status, 403, "{changed}");
            assert_ne!(bytes, PNG);
        }
        let key = Signer::new(FILE_URL_KEY.as_bytes()).unwrap();
        let png_uuid: Uuid = png_id.parse().unwrap();
        let past = chrono::Utc::now().timestamp() - 1;
        let expired = format!("/api/order-workflow/files/signed/{png_id}?expires={past}&sig={}", key.sign(png_uuid, BANTU, past));
        assert_eq!(fetch(&app, None, &expired).await.0, 410);
        let future = chrono::Utc::now().timestamp() + 600;
        let other_org = key.url(png_uuid, Uuid::now_v7(), future);
        assert_eq!(fetch(&app, None, &other_org).await.0, 403, "signed for another organization");
        assert_eq!(fetch(&app, None, &key.url(png_uuid, BANTU, future)).await.0, 200, "this service's key, this organization");

        // Deletes at both addresses remove the object; its link stops working.
        let r = app.delete(&format!("/order-files/{png_id}"), s).await;
        r.expect(200);
        assert_eq!(r.data(), &json!(true));
        assert!(!stored.exists(), "the object is removed");
        app.get(&format!("/order-files/{png_id}"), s).await.expect(404);
        assert_eq!(fetch(&app, None, &link).await.0, 403);
        app.delete(&format!("/orders/{id}/files/{pdf_id}"), s).await.expect(200);
        app.get(&format!("/orders/{id}/files/{pdf_id}"), s).await.expect(404);
        assert_eq!(app.get(&format!("/orders/{id}/files"), s).await.data()["total"], 0);

        // Deleting the order takes its files' objects with it.
        let r = upload(&app, s, &format!("/orders/{id}/files"), &[("file", Some("last.png"), PNG)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let last = files_dir(&app).join(format!("order_{id}/{}.png", id_of(r.data())));
        assert!(last.exists());
        app.delete(&format!("/orders/{id}"), s).await.expect(200);
        assert!(!last.exists(), "an order's delete removes its stored files");
    }
);

db_test!(
    async fn uploads_are_checked_and_other_tenants_see_no_file(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, operator) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        let (_, finance) = app.user(BANTU, "finance@bantu.test", &["FINANCE"]).await;
        let s = Some(seller.as_str());
        let id = sold_order(&app, &seller).await;
        let other = sold_order(&app, &seller).await;
        let other_item = id_of(&app.get(&format!("/orders/{other}"), s).await.data()["order_items"][0]);
        let nested = format!("/orders/{id}/files");

        // A PNG called .pdf, an HTML page, an empty file: refused with the reason.
        let r = upload(&app, s, &nested, &[("file", Some("passport.pdf"), PNG)]).await;
        r.expect(400);
        assert!(r.text.contains("the content is not a .pdf file"), "{}", r.text);
        let r = upload(&app, s, &nested, &[("file", Some("page.html"), b"<html></html>")]).await;
        r.expect(400);
        assert!(r.text.contains("not accepted"), "{}", r.text);
        upload(&app, s, &nested, &[("file", Some("empty.png"), b"")]).await.expect(400);
        // More than 10,000,000 bytes: 413, the limit itself kept (the service's own body limit
        // is smaller: uploads have theirs).
        let at_limit = vec![b'a'; 10_000_000];
        let over = upload(&app, s, &nested, &[("file", Some("big.txt"), &[at_limit.as_slice(), b"a"].concat())]).await;
        over.expect(413);
        assert_eq!(over.body["message"], "the file is larger than 10000000 bytes (10 MB)");
        let far_over = upload(&app, s, &nested, &[("file", Some("big.txt"), &vec![b'a'; 10_200_000])]).await;
        far_over.expect(413);
        let kept = upload(&app, s, &nested, &[("file", Some("big.txt"), &at_limit)]).await;
        assert_eq!(kept.status, 200, "{}", kept.text);
        assert_eq!((kept.data()["file_size"].as_u64(), kept.data()["file_type"].as_str()), (Some(10_000_000), Some("other")));
        // The other fields.
        upload(&app, s, "/order-files/upload", &[("file", Some("a.png"), PNG)]).await.expect(400);
        upload(&app, s, &nested, &[("file_category", None, b"passport")]).await.expect(400);
        upload(&app, s, &nested, &[("file", Some("a.png"), PNG), ("file_category", None, b"selfie")]).await.expect(400);
        upload(&app, s, &nested, &[("file", Some("a.png"), PNG), ("is_required", None, b"maybe")]).await.expect(400);
        let r = upload(&app, s, &nested, &[("file", Some("a.png"), PNG), ("order_item_id", None, other_item.as_bytes())]).await;
        assert_eq!(r.status, 400, "an item of another order: {}", r.text);
        let req = app.client.builder(reqwest::Method::POST, &format!("{PREFIX}{nested}"), s);
        app.client.send(req.json(&json!({"file": "x"}))).await.expect(415);
        upload(&app, None, &nested, &[("file", Some("a.png"), PNG)]).await.expect(401);
        upload(&app, Some(&finance), &nested, &[("file", Some("a.png"), PNG)]).await.expect(403);
        let incoming = files_dir(&app).join(".incoming");
        assert_eq!(std::fs::read_dir(&incoming).unwrap().count(), 0, "refused uploads leave nothing behind");
        assert_eq!(app.get(&nested, s).await.data()["total"], 1, "only the file of the limit was kept");

        // Only the uploader or a manager deletes.
        let f = id_of(upload(&app, s, &nested, &[("file", Some("a.png"), PNG)]).await.data());
        app.delete(&format!("{nested}/{f}"), Some(&operator)).await.expect(403);
        app.post(&format!("{nested}/{f}/verify"), Some(&operator), json!({"is_verified": true})).await.expect(200);

        // Another organization's administrator: every id route is a 404, and a link signed for
        // this file under its organization opens nothing.
        let (stranger_org, _, stranger) = app.org("PT Lain", "internal").await;
        let t = Some(stranger.as_str());
        let item = id_of(&app.get(&format!("/orders/{id}"), s).await.data()["order_items"][0]);
        let checks: Vec<(&str, String, Option<Value>)> = vec![
            ("get", nested.clone(), None),
            ("get", format!("{nested}/{f}"), None),
            ("put", format!("{nested}/{f}"), Some(json!({"file_name": "x"}))),
            ("delete", format!("{nested}/{f}"), None),
            ("post", format!("{nested}/{f}/verify"), Some(json!({"is_verified": false}))),
            ("get", format!("{nested}/{f}/download"), None),
            ("get", format!("/orders/{id}/items/{item}/files"), None),
            ("get", format!("/orders/{id}/stages/{}/files", Uuid::now_v7()), None),
            ("get", format!("/order-files/{f}"), None),
            ("put", format!("/order-files/{f}"), Some(json!({"file_name": "x"}))),
            ("delete", format!("/order-files/{f}"), None),
            ("get", format!("/order-files/{f}/url"), None),
            ("get", format!("/order-files/order/{id}/files"), None),
        ];
        for (method, path, body) in checks {
            let r: TestResponse = match method {
                "get" => app.get(&path, t).await,
                "put" => app.put(&path, t, body.unwrap()).await,
                "post" => app.post(&path, t, body.unwrap()).await,
                _ => app.delete(&path, t).await,
            };
            assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
        }
        upload(&app, t, &nested, &[("file", Some("a.png"), PNG)]).await.expect(404);
        let id_bytes = id.clone();
        upload(&app, t, "/order-files/upload", &[("order_id", None, id_bytes.as_bytes()), ("file", Some("a.png"), PNG)])
            .await
            .expect(404);
        let key = Signer::new(FILE_URL_KEY.as_bytes()).unwrap();
        let future = chrono::Utc::now().timestamp() + 600;
        assert_eq!(fetch(&app, None, &key.url(f.parse().unwrap(), stranger_org, future)).await.0, 403);
        let r = app.get(&format!("{nested}/{f}"), s).await;
        r.expect(200);
        assert_eq!(r.data()["is_verified"], true, "nothing changed");
        assert_eq!(app.get(&nested, s).await.data()["total"], 2);

        // Deleting the order takes its files and their objects with it (cascade); the objects
        // of a deleted order are no longer reachable through any link.
        app.delete(&format!("/orders/{id}"), app.admin()).await.expect(200);
        app.get(&format!("/order-files/{f}"), app.admin()).await.expect(404);
    }
);
