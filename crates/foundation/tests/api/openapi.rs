//! The OpenAPI document: served without a token, OpenAPI 3.1, complete, in step with the router,
//! and true to what the handlers answer.
//!
//! Two checks keep the document and the router from drifting apart, one per direction:
//!
//! - **Every mounted route is documented** ([`every_mounted_route_is_documented`]). axum cannot
//!   list a router's routes, so the test reads them from the code that declares them: every
//!   `.route("/path", get(..).post(..))` in the library's `src/**/*.rs`, under `/api/foundation` plus the
//!   module's `.nest("/prefix", module::routes())` in `lib.rs`. A route added to any `routes()`
//!   without an annotated handler in that resource's `Api` makes the two sets differ. The reader
//!   refuses what it does not understand (a `.route(` it cannot parse, a `.nest(` inside a
//!   resource), so a new way of declaring routes fails the test rather than slipping past it.
//! - **Every documented operation is mounted** ([`served_without_a_token_and_every_operation_is_mounted`]).
//!   Each one is called on a running server without a token; the router's own answers to an
//!   unknown path (404 `not found`) or method (405) must not come back, so a documented path with a
//!   typo or a wrong method fails even if the source reading above were fooled.
//!
//! [`responses_match_the_documented_schemas`] then checks real responses of a populated server
//! against the schemas the document gives for them, field by field.

use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `(METHOD, path)` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// A string literal at the start of `s` (after whitespace): its content and the rest.
fn literal(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start().strip_prefix('"')?;
    let end = s.find('"')?;
    Some((&s[..end], &s[end + 1..]))
}

/// The text up to the parenthesis closing one already open.
fn until_close(s: &str) -> &str {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in a route declaration");
}

/// The HTTP methods a method router expression names: `get(a).post(b)`, `axum::routing::delete(c)`.
fn methods_of(expr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = expr.as_bytes();
    for method in METHODS {
        let needle = format!("{method}(");
        let mut from = 0;
        while let Some(at) = expr[from..].find(&needle) {
            let start = from + at;
            let before = start.checked_sub(1).map(|i| bytes[i]);
            if before.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_')) {
                found.push(method.to_uppercase());
            }
            from = start + needle.len();
        }
    }
    assert!(!found.is_empty(), "no HTTP method found in route expression {expr:?}");
    found
}

/// The routes declared in one file, with `prefix` before each path.
fn routes_in(text: &str, prefix: &str, file: &Path) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    // Comments may show routes that are not declared (examples in doc comments).
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
    let text = code.as_str();
    for (i, _) in text.match_indices(".route(") {
        let rest = &text[i + ".route(".len()..];
        let (path, rest) =
            literal(rest).unwrap_or_else(|| panic!("{}: a .route( whose path is not a literal", file.display()));
        let rest = rest.trim_start().strip_prefix(',').expect("a comma after the route path");
        for method in methods_of(until_close(rest)) {
            routes.push((method, format!("{prefix}{path}")));
        }
    }
    routes
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(METHOD, path)` the source mounts under `/api/foundation`.
fn mounted_routes() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains(r#".nest("/api/foundation", api)"#), "lib.rs mounts the API under /api/foundation");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for unread in [".route_service(", ".nest_service(", ".fallback_service("] {
            assert!(!text.contains(unread), "{}: {unread} mounts routes this reader does not see", file.display());
        }
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or_default();
        // Other binaries (`src/bin/`, `main.rs`) are not the service's router.
        if module == "bin" || module == "main.rs" {
            continue;
        }
        let prefix = if relative == Path::new("lib.rs") {
            String::new()
        } else {
            assert!(!text.contains(".nest("), "{}: nested routers are not understood here", file.display());
            // `.nest("/auth", auth::routes())` in lib.rs puts a resource under a prefix.
            let nested = format!(", {module}::routes())");
            lib.match_indices(".nest(")
                .filter_map(|(i, _)| literal(&lib[i + ".nest(".len()..]))
                .find(|(_, rest)| rest.starts_with(&nested))
                .map(|(p, _)| p.to_owned())
                .unwrap_or_default()
        };
        routes.extend(routes_in(&text, &format!("/api/foundation{prefix}"), &file));
    }
    routes
}

#[test]
fn every_mounted_route_is_documented() {
    let mounted = mounted_routes();
    // The reader works: it finds routes declared both ways, including under a nested prefix.
    assert!(mounted.len() > 60, "only {} routes read from the source", mounted.len());
    for known in [
        ("POST", "/api/foundation/auth/login"),
        ("DELETE", "/api/foundation/organizations/{organization_id}/members/{user_id}"),
        ("PUT", "/api/foundation/users/{user_id}/restore"),
        ("GET", "/api/foundation/openapi.json"),
    ] {
        assert!(mounted.contains(&(known.0.into(), known.1.into())), "{known:?} not read from the source");
    }
    let doc = crm_foundation::openapi::document().unwrap();
    let documented = documented(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:#?}");
    assert!(unmounted.is_empty(), "documented but not mounted: {unmounted:#?}");
}

/// Follows `$ref`s to `#/components/…`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}"));
            resolve(doc, target)
        }
        None => schema,
    }
}

#[test]
fn the_document_is_complete() {
    let doc = crm_foundation::openapi::document().unwrap();
    let public = [
        "/api/foundation/auth/login",
        "/api/foundation/auth/refresh",
        "/api/foundation/auth/register",
        "/api/foundation/auth/jwks.json",
        "/api/foundation/openapi.json",
    ];
    let tags: BTreeSet<&str> =
        doc["tags"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect::<BTreeSet<_>>();
    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let name = format!("{method} {path}");
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: no summary");
        let tag = op["tags"][0].as_str().unwrap_or_else(|| panic!("{name}: no tag"));
        assert!(tags.contains(tag), "{name}: tag {tag} is not described");
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()), "{name}: operationId not unique");
        assert!(op["responses"].as_object().unwrap().keys().any(|s| s.starts_with('2')), "{name}: no success response");
        assert!(op["responses"]["500"].is_object(), "{name}: no 500");
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(secured, !public.contains(&path.as_str()), "{name}: security");
        if op["security"][0].get("bearer").is_some() {
            assert!(op["responses"]["401"].is_object(), "{name}: no 401");
        }
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let param = segment.trim_matches(['{', '}']);
            let declared = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == param && p["in"] == "path"));
            assert!(declared, "{name}: path parameter {param} not declared");
        }
    }
    // Every reference resolves.
    let text = doc.to_string();
    for (i, _) in text.match_indices("\"$ref\":\"") {
        let rest = &text[i + 8..];
        let reference = &rest[..rest.find('"').unwrap()];
        assert!(doc.pointer(reference.trim_start_matches('#')).is_some(), "dangling $ref {reference}");
    }
}

db_test!(
    async fn served_without_a_token_and_every_operation_is_mounted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
        let doc = &r.body;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "openapi: {}", doc["openapi"]);
        assert_eq!(doc, &crm_foundation::openapi::document().unwrap(), "served as generated");

        for (method, path) in documented(doc) {
            let target = path
                .split('/')
                .map(|s| match s {
                    "{resource_type}" => "user".to_owned(),
                    s if s.starts_with('{') => uuid::Uuid::now_v7().to_string(),
                    s => s.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let mut request = app.client.builder(method.parse().unwrap(), &target, None);
            if method == "POST" || method == "PUT" {
                request = request.json(&json!({}));
            }
            let r = app.client.send(request).await;
            let unrouted = (r.status == 404 && r.body["message"] == "not found") || r.status == 405;
            assert!(!unrouted, "{method} {path} is documented but not routed: {} {}", r.status, r.text);
        }
    }
);

/// Checks `value` against `schema` the way the services serialize: every documented required
/// field present, no field the schema does not list, types as documented.
fn conform(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let mut best: Option<Vec<String>> = None;
        for alternative in alternatives {
            let mut found = Vec::new();
            conform(doc, alternative, value, at, &mut found);
            if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        problems.extend(best.unwrap_or_default());
        return;
    }
    let mut shape = serde_json::Map::new();
    let mut required = BTreeSet::new();
    collect_object(doc, schema, &mut shape, &mut required);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ if !shape.is_empty() || schema.get("allOf").is_some() => vec!["object"],
        _ => return, // any value
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
    if !fits {
        problems.push(format!("{at}: {actual}, documented as {types:?}"));
        return;
    }
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conform(doc, &schema["items"], item, &format!("{at}[{i}]"), problems);
            }
        }
        Value::Object(fields) if !shape.is_empty() || schema.get("allOf").is_some() => {
            for name in &required {
                if !fields.contains_key(name) {
                    problems.push(format!("{at}.{name}: documented as required, missing"));
                }
            }
            for (name, field) in fields {
                match shape.get(name) {
                    Some(s) => conform(doc, s, field, &format!("{at}.{name}"), problems),
                    None => problems.push(format!("{at}.{name}: not documented")),
                }
            }
        }
        _ => {}
    }
}

#[test]
fn conformance_check_finds_differences() {
    let doc = json!({"components": {"schemas": {"A": {"type": "object", "required": ["a"],
        "properties": {"a": {"type": "string"}, "n": {"type": ["integer", "null"]}}}}}});
    let schema = json!({"$ref": "#/components/schemas/A"});
    let mut problems = Vec::new();
    conform(&doc, &schema, &json!({"a": "x", "n": null}), "body", &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    conform(&doc, &schema, &json!({"n": "text", "extra": 1}), "body", &mut problems);
    assert_eq!(problems.len(), 3, "missing a, wrong type of n, undocumented extra: {problems:?}");
}

/// The properties and required fields of an object schema, through `$ref` and `allOf`.
fn collect_object(
    doc: &Value,
    schema: &Value,
    shape: &mut serde_json::Map<String, Value>,
    required: &mut BTreeSet<String>,
) {
    let schema = resolve(doc, schema);
    if let Some(props) = schema["properties"].as_object() {
        shape.extend(props.clone());
    }
    required.extend(schema["required"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(String::from)));
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect_object(doc, part, shape, required);
    }
}

/// Asserts that `response` (to `method path_template`) is what the document says for its status.
#[track_caller]
fn assert_documented(doc: &Value, method: &str, template: &str, response: &crm_common::testing::TestResponse) {
    let op = &doc["paths"][template][method];
    assert!(op.is_object(), "{method} {template} is not documented");
    let documented = resolve(doc, &op["responses"][response.status.to_string()]);
    let schema = &documented["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {template}: status {} not documented: {}", response.status, response.text);
    let mut problems = Vec::new();
    conform(doc, schema, &response.body, "body", &mut problems);
    assert!(problems.is_empty(), "{method} {template} answered outside its schema:\n{}", problems.join("\n"));
}

db_test!(
    async fn responses_match_the_documented_schemas(backend) {
        let app = TestApp::spawn(backend).await;
        let doc = crm_foundation::openapi::document().unwrap();
        let admin = app.admin();
        let me = app.admin_id;

        let created = app.post("/organizations", admin, json!({"name": "Docs Org", "organization_type": "agent"})).await;
        assert_documented(&doc, "post", "/api/foundation/organizations", &created);
        let org = uuid(&created.data()["id"]);
        let user = app.create_user(org, "docs@bantu.test", &["SALES"]).await;
        let user_id = uuid(&user["id"]);
        let top = app.post("/positions", admin, json!({"name": "CEO", "code": "ceo"})).await;
        assert_documented(&doc, "post", "/api/foundation/positions", &top);
        let top_id = uuid(&top.data()["id"]);
        app.post("/positions", admin, json!({"name": "CTO", "parent_id": top_id})).await.expect(200);
        let log = app.post("/worklogs", admin, json!({"work_date": "2026-01-05", "content": "docs"})).await;
        assert_documented(&doc, "post", "/api/foundation/worklogs", &log);
        let log_id = uuid(&log.data()["id"]);
        let file = crate::uploads::upload(&app, admin.unwrap(), &[("file", Some("docs.txt"), b"docs")]).await;
        assert_documented(&doc, "post", "/api/foundation/upload", &file);
        let file_id = uuid(&file.data()["file_id"]);
        let role_id = app.role_id("SALES").await;
        let member = app.post(&format!("/organizations/{org}/members"), admin, json!({"user_id": me})).await;
        assert_documented(&doc, "post", "/api/foundation/organizations/{organization_id}/members", &member);
        let invalid = app.post("/users", admin, json!({"email": "nope"})).await;
        assert_documented(&doc, "post", "/api/foundation/users", &invalid);
        let denied = app.get("/users", None).await;
        assert_documented(&doc, "get", "/api/foundation/users", &denied);

        let reads = [
            ("/auth/me", "/auth/me".to_owned()),
            ("/users", "/users".to_owned()),
            ("/users/{user_id}", format!("/users/{user_id}")),
            ("/users/{user_id}/roles", format!("/users/{user_id}/roles")),
            ("/organizations", "/organizations".to_owned()),
            ("/organizations/{organization_id}", format!("/organizations/{org}")),
            ("/organizations/{organization_id}/employees", format!("/organizations/{org}/employees")),
            ("/roles", "/roles".to_owned()),
            ("/roles/{role_id}", format!("/roles/{role_id}")),
            ("/permissions", "/permissions".to_owned()),
            ("/permissions/roles/{role_id}", format!("/permissions/roles/{role_id}")),
            ("/permissions/role/{role_id}", format!("/permissions/role/{role_id}")),
            ("/permissions/users/{user_id}/info", format!("/permissions/users/{me}/info")),
            ("/menus/tree/list", "/menus/tree/list".to_owned()),
            ("/menus/user", "/menus/user".to_owned()),
            ("/organization-domains", "/organization-domains".to_owned()),
            ("/organization-domains/organizations/{organization_id}/domains", format!("/organization-domains/organizations/{org}/domains")),
            ("/positions", "/positions".to_owned()),
            ("/positions", "/positions?tree=true".to_owned()),
            ("/positions/{position_id}", format!("/positions/{top_id}")),
            ("/worklogs", "/worklogs".to_owned()),
            ("/worklogs/{worklog_id}", format!("/worklogs/{log_id}")),
            ("/uploads", "/uploads".to_owned()),
            ("/uploads/{file_id}", format!("/uploads/{file_id}")),
            ("/audit-logs", "/audit-logs".to_owned()),
            ("/auth/jwks.json", "/auth/jwks.json".to_owned()),
        ];
        for (template, path) in reads {
            let r = app.get(&path, admin).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.text);
            assert_documented(&doc, "get", &format!("/api/foundation{template}"), &r);
        }
        let missing = app.get(&format!("/users/{}", uuid::Uuid::now_v7()), admin).await;
        assert_documented(&doc, "get", "/api/foundation/users/{user_id}", &missing);
    }
);
