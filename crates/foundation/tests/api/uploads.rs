use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use serde_json::json;

const PNG: &[u8] = b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1F\x15\xC4\x89";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
const BOUNDARY: &str = "crm-test-boundary-7d1f";

/// A form part: field name, file name, content.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body of `(name, file name, content)` parts.
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

async fn send_upload(app: &TestApp, token: Option<&str>, content_type: &str, body: Vec<u8>) -> TestResponse {
    let req = app.client.builder(reqwest::Method::POST, "/api/foundation/upload", token);
    app.client.send(req.header("content-type", content_type).body(body)).await
}

pub async fn upload(app: &TestApp, token: &str, parts: &[Part<'_>]) -> TestResponse {
    send_upload(app, Some(token), &format!("multipart/form-data; boundary={BOUNDARY}"), form(parts)).await
}

/// The raw bytes and headers of a download.
async fn download(app: &TestApp, token: Option<&str>, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app.client.builder(reqwest::Method::GET, url, token).send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

db_test!(
    async fn uploads_are_kept_for_the_organization_and_served_to_its_members(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, _) = app.org_with_admin("Upload Agent").await;
        let (amy_id, amy) = app.user_with_token(org, "amy@upload.test", &["SALES"]).await;
        let (_, bob) = app.user_with_token(org, "bob@upload.test", &["FINANCE"]).await;
        let (other_org, _) = app.org_with_admin("Other Agent").await;
        let (_, eve) = app.user_with_token(other_org, "eve@upload.test", &["ADMIN"]).await;
        // A role of its own, without the file permissions every preset role has.
        app.post("/roles", app.admin(), json!({"code": "VISITOR", "name": "Visitor"})).await.expect(200);
        let (_, nobody) = app.user_with_token(org, "nobody@upload.test", &["VISITOR"]).await;

        let avatar = upload(&app, &amy, &[("category", None, b"avatar"), ("file", Some("我的 头像.PNG"), PNG)]).await;
        avatar.expect(200);
        let a = avatar.data().clone();
        let avatar_id = uuid(&a["file_id"]);
        assert_eq!(
            (a["filename"].clone(), a["original_name"].clone(), a["size"].clone(), a["mime_type"].clone(), a["category"].clone()),
            (json!("file.png"), json!("我的 头像.PNG"), json!(PNG.len()), json!("image/png"), json!("avatar"))
        );
        assert_eq!(a["url"], format!("/api/foundation/uploads/{avatar_id}/file.png"));
        assert_eq!(a["uploaded_by"], amy_id.to_string());
        assert!(a["uploaded_at"].is_string());

        // No category: a document. A browser's full path is cut to the name.
        let report = upload(&app, &amy, &[("note", None, b"ignored"), ("file", Some("C:\\Users\\amy\\Q3 report (final).pdf"), PDF)]).await;
        report.expect(200);
        let r = report.data().clone();
        assert_eq!((r["category"].clone(), r["filename"].clone()), (json!("document"), json!("Q3_report_final.pdf")));
        assert_eq!(r["original_name"], "Q3 report (final).pdf");
        let report_url = r["url"].as_str().unwrap().to_owned();

        // Every member of the organization downloads the same bytes; images inline, others attached.
        for token in [&amy, &bob] {
            let (status, headers, bytes) = download(&app, Some(token), a["url"].as_str().unwrap()).await;
            assert_eq!((status, bytes.as_slice()), (200, PNG));
            assert_eq!(headers["content-type"], "image/png");
            assert_eq!(headers["content-disposition"], "inline; filename=\"file.png\"");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(headers["content-security-policy"], "default-src 'none'; sandbox");
        }
        let (status, headers, bytes) = download(&app, Some(&bob), &report_url).await;
        assert_eq!((status, bytes.as_slice()), (200, PDF));
        assert_eq!(headers["content-disposition"], "attachment; filename=\"Q3_report_final.pdf\"");
        app.get(&format!("/uploads/{avatar_id}/other.png"), Some(&amy)).await.expect(404);
        app.get(&format!("/uploads/{avatar_id}/file.png"), None).await.expect(401);
        app.get(&format!("/uploads/{avatar_id}"), Some(&bob)).await.expect(200);
        // Without the file permissions: nothing.
        app.get(&format!("/uploads/{avatar_id}/file.png"), Some(&nobody)).await.expect(403);
        app.get(&format!("/uploads/{avatar_id}"), Some(&nobody)).await.expect(403);
        app.get("/uploads", Some(&nobody)).await.expect(403);
        upload(&app, &nobody, &[("file", Some("a.png"), PNG)]).await.expect(403);
        assert_eq!(app.get(&format!("/uploads/{avatar_id}"), Some(&bob)).await.data(), &a);

        // Lists are the uploader's own, newest first.
        let mine = app.get("/uploads", Some(&amy)).await;
        mine.expect(200);
        assert_eq!((mine.data()["total"].clone(), mine.data()["items"][0]["filename"].clone()), (json!(2), json!("Q3_report_final.pdf")));
        assert_eq!(app.get("/uploads?category=avatar", Some(&amy)).await.data()["items"][0]["file_id"], avatar_id.to_string());
        assert_eq!(app.get("/uploads?page_size=1&page=2", Some(&amy)).await.data()["items"][0]["file_id"], avatar_id.to_string());
        assert_eq!(app.get("/uploads", Some(&bob)).await.data()["total"], 0);
        let bad = app.get("/uploads?category=photo", Some(&amy)).await;
        bad.expect(400);
        assert_eq!(bad.data()[0]["field"], "category");

        // Another organization sees none of it.
        app.get(&format!("/uploads/{avatar_id}"), Some(&eve)).await.expect(404);
        app.get(&format!("/uploads/{avatar_id}/file.png"), Some(&eve)).await.expect(404);
        app.delete(&format!("/uploads/{avatar_id}"), Some(&eve)).await.expect(404);
        assert_eq!(app.get("/uploads", Some(&eve)).await.data()["total"], 0);
        app.get("/uploads/not-a-uuid", Some(&amy)).await.expect(400);

        // Only the uploader deletes.
        app.delete(&format!("/uploads/{avatar_id}"), Some(&bob)).await.expect(403);
        app.delete(&format!("/uploads/{avatar_id}"), Some(&amy)).await.expect(200);
        app.get(&format!("/uploads/{avatar_id}/file.png"), Some(&amy)).await.expect(404);
        app.delete(&format!("/uploads/{avatar_id}"), Some(&amy)).await.expect(404);

        // The audit log has the upload and the delete, without the file's content.
        let report_id = r["file_id"].as_str().unwrap().to_owned();
        let rows = app
            .audit_until("upload audit", |rows| {
                rows.iter().any(|r| r.action == "UPLOAD" && r.resource_id.as_deref() == Some(&report_id))
                    && rows.iter().any(|r| r.action == "DELETE" && r.status_code == 200)
            })
            .await;
        let uploaded = rows.iter().find(|r| r.resource_id.as_deref() == Some(&report_id)).unwrap();
        assert_eq!((uploaded.category.as_str(), uploaded.resource_type.as_deref()), ("file_management", Some("file")));
        assert_eq!(uploaded.new_values.as_ref().unwrap()["original_name"], "Q3 report (final).pdf");
        let deleted = rows.iter().find(|r| r.action == "DELETE" && r.status_code == 200).unwrap();
        assert_eq!(deleted.resource_type.as_deref(), Some("file"));
        assert_eq!(deleted.old_values.as_ref().unwrap()["filename"], "file.png");
        assert!(rows.iter().any(|r| r.action == "DELETE" && r.status_code == 403), "the refused delete is recorded too");
        assert!(!serde_json::to_string(&rows).unwrap().contains("Catalog"), "file content reached the audit log");
    }
);

db_test!(
    async fn bad_uploads_are_refused_and_leave_nothing_behind(backend) {
        // Room for a file of the limit and then some; the service's default body limit is 10 MiB.
        let app = TestApp::spawn_with(backend, |cfg| cfg.common.body_limit_bytes = 10_500_000).await;
        let (org, _) = app.org_with_admin("Strict Agent").await;
        let (_, amy) = app.user_with_token(org, "amy@strict.test", &["SALES"]).await;
        let html: &[u8] = b"<html><script>alert(document.cookie)</script></html>";

        let cases: Vec<(Vec<Part<'_>>, &str, &str)> = vec![
            (vec![("category", None, b"avatar"), ("file", Some("photo.png"), html)], "file", "the content is not a .png file"),
            (vec![("file", Some("page.html"), html)], "file", "the file type is not accepted"),
            (vec![("file", Some("setup.exe"), b"MZ\x90\0")], "file", "accepted: .pdf"),
            (vec![("category", None, b"avatar"), ("file", Some("cv.pdf"), PDF)], "file", "not accepted in category avatar"),
            (vec![("category", None, b"picture"), ("file", Some("a.png"), PNG)], "category", "must be one of"),
            (vec![("file", Some("empty.pdf"), b"")], "file", "the file is empty"),
            (vec![("file", Some(".."), PDF)], "file", "the file has no name"),
            (vec![("category", None, b"document")], "file", "required"),
            (vec![("file", Some("a.png"), PNG), ("file", Some("b.png"), PNG)], "file", "one file per request"),
        ];
        for (parts, field, message) in cases {
            let r = upload(&app, &amy, &parts).await;
            r.expect(400);
            assert_eq!(r.data()[0]["field"], field, "{}", r.text);
            assert!(r.data()[0]["message"].as_str().unwrap().contains(message), "{}", r.text);
        }

        // Not multipart at all, or without a boundary: 415. Broken framing: 400.
        let json_body = serde_json::to_vec(&json!({"file": "x"})).unwrap();
        send_upload(&app, Some(&amy), "application/json", json_body).await.expect(415);
        send_upload(&app, Some(&amy), "multipart/form-data", form(&[("file", Some("a.png"), PNG)])).await.expect(415);
        let cut = form(&[("file", Some("a.png"), PNG)]);
        let r = send_upload(&app, Some(&amy), &format!("multipart/form-data; boundary={BOUNDARY}"), cut[..cut.len() / 2].to_vec()).await;
        r.expect(400);
        assert!(r.body["message"].as_str().unwrap().starts_with("malformed multipart body"), "{}", r.text);
        let anonymous = send_upload(&app, None, &format!("multipart/form-data; boundary={BOUNDARY}"), form(&[("file", Some("a.png"), PNG)])).await;
        anonymous.expect(401);

        // 10,000,000 bytes is the limit: one more byte is refused, the limit itself kept.
        let at_limit = vec![b'a'; 10_000_000];
        let over = upload(&app, &amy, &[("file", Some("big.txt"), &[at_limit.as_slice(), b"a"].concat())]).await;
        over.expect(413);
        assert_eq!(over.body["message"], "the file is larger than 10000000 bytes (10 MB)");
        let kept = upload(&app, &amy, &[("file", Some("big.txt"), &at_limit)]).await;
        kept.expect(200);
        assert_eq!(kept.data()["size"], 10_000_000);

        // An organization's files stay within its quota; deleting makes room.
        let small = TestApp::spawn_with(backend, |cfg| cfg.upload_quota_bytes = 100).await;
        let (org, _) = small.org_with_admin("Quota Agent").await;
        let (_, bea) = small.user_with_token(org, "bea@quota.test", &["SALES"]).await;
        let first = upload(&small, &bea, &[("file", Some("a.txt"), &[b'a'; 60])]).await;
        first.expect(200);
        let full = upload(&small, &bea, &[("file", Some("b.txt"), &[b'b'; 41])]).await;
        full.expect(409);
        assert_eq!(full.body["message"], "the organization's files would exceed its quota of 100 bytes (60 used); delete some first");
        upload(&small, &bea, &[("file", Some("c.txt"), &[b'c'; 40])]).await.expect(200);
        small.delete(&format!("/uploads/{}", first.data()["file_id"].as_str().unwrap()), Some(&bea)).await.expect(200);
        upload(&small, &bea, &[("file", Some("b.txt"), &[b'b'; 41])]).await.expect(200);

        // Only that one was kept.
        let mine = app.get("/uploads", Some(&amy)).await;
        assert_eq!(mine.data()["total"], 1, "{}", mine.text);
        let (status, _, bytes) = download(&app, Some(&amy), kept.data()["url"].as_str().unwrap()).await;
        assert_eq!((status, bytes.len()), (200, 10_000_000));
    }
);
