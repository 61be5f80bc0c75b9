//! Checks of a service's OpenAPI document against its code and its answers, for every service's
//! tests:
//!
//! - [`mounted_routes`] reads the routes a service declares from its source (axum cannot list a
//!   router's routes): every `.route("/path", get(..).post(..))` in `src/**/*.rs`, under the
//!   prefix the caller gives per resource module. It refuses what it does not understand (a
//!   `.route(` whose path is not a literal, a `.nest(` inside a resource), so a new way of
//!   declaring routes fails the test instead of slipping past it. Compare with [`documented`].
//! - [`assert_documented`] checks a real response against the schema the document gives for its
//!   method, path and status: every required field present, nothing undocumented, types as
//!   documented.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `(METHOD, path)` of every operation in the document.
pub fn documented(doc: &Value) -> BTreeSet<(String, String)> {
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
pub fn literal(s: &str) -> Option<(&str, &str)> {
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
pub fn routes_in(text: &str, prefix: &str, file: &Path) -> Vec<(String, String)> {
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

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(METHOD, path)` the library under `src` mounts. `prefix(module)` is the full prefix of
/// a resource module's `routes()` (`"lib.rs"` for routes declared in lib.rs itself); `src/bin/`
/// and `main.rs` are skipped.
pub fn mounted_routes(src: &Path, prefix: impl Fn(&str) -> String) -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source file");
        for unread in [".route_service(", ".nest_service(", ".fallback_service("] {
            assert!(!text.contains(unread), "{}: {unread} mounts routes this reader does not see", file.display());
        }
        let relative = file.strip_prefix(src).expect("file under src");
        let module = relative.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or_default();
        if module == "bin" || module == "main.rs" {
            continue;
        }
        if relative != Path::new("lib.rs") {
            assert!(!text.contains(".nest("), "{}: nested routers are not understood here", file.display());
        }
        routes.extend(routes_in(&text, &prefix(module), &file));
    }
    routes
}

/// Follows `$ref`s to `#/components/…`.
pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}"));
            resolve(doc, target)
        }
        None => schema,
    }
}

/// Checks `value` against `schema` the way the services serialize: every documented required
/// field present, no field the schema does not list, types as documented.
pub fn conform(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
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
pub fn assert_documented(doc: &Value, method: &str, template: &str, response: &super::TestResponse) {
    let op = &doc["paths"][template][method];
    assert!(op.is_object(), "{method} {template} is not documented");
    let documented = resolve(doc, &op["responses"][response.status.to_string()]);
    let schema = &documented["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {template}: status {} not documented: {}", response.status, response.text);
    let mut problems = Vec::new();
    conform(doc, schema, &response.body, "body", &mut problems);
    assert!(problems.is_empty(), "{method} {template} answered outside its schema:\n{}", problems.join("\n"));
}

/// Panics unless every operation of `doc` has a summary, a described tag, a unique operation id,
/// a success response and a 500, security except on `public` paths (and a 401 where a bearer
/// token is required), every path parameter declared, and every `$ref` resolving.
pub fn assert_complete(doc: &Value, public: &[&str]) {
    let tags: BTreeSet<&str> =
        doc["tags"].as_array().expect("tags").iter().filter_map(|t| t["name"].as_str()).collect();
    let mut ids = BTreeSet::new();
    for (method, path) in documented(doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let name = format!("{method} {path}");
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: no summary");
        let tag = op["tags"][0].as_str().unwrap_or_else(|| panic!("{name}: no tag"));
        assert!(tags.contains(tag), "{name}: tag {tag} is not described");
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{name}: no operationId"));
        assert!(ids.insert(id.to_owned()), "{name}: operationId not unique");
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{name}: no responses"));
        // 101: a WebSocket's success.
        assert!(responses.keys().any(|s| s.starts_with('2') || s == "101"), "{name}: no success response");
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
    let text = doc.to_string();
    for (i, _) in text.match_indices("\"$ref\":\"") {
        let rest = &text[i + 8..];
        let reference = &rest[..rest.find('"').unwrap_or(0)];
        assert!(doc.pointer(reference.trim_start_matches('#')).is_some(), "dangling $ref {reference}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn routes_are_read_with_their_methods() {
        let text = r#"Router::new().route("/a", get(h::a).post(h::b))
            // .route("/comment", get(x))
            .route("/b/{id}", axum::routing::delete(h::c))"#;
        let routes = routes_in(text, "/api/x", Path::new("t.rs"));
        assert_eq!(
            routes,
            [
                ("GET".into(), "/api/x/a".into()),
                ("POST".into(), "/api/x/a".into()),
                ("DELETE".into(), "/api/x/b/{id}".into())
            ]
        );
    }
}
