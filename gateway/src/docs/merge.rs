//! Merging the services' OpenAPI documents into one, as plain JSON.
//!
//! Paths are already prefixed by service (`/api/<service>/…`), so they are a union. Components
//! (schemas, responses, security schemes, …) are a union by name too, except where two services
//! define one name differently: then every service's definition of that name is renamed
//! `<service>.<name>` and that service's references to it (`$ref`, and security requirements for
//! security schemes) are rewritten, so no service's operation ends up described by another's type.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The extension listing services whose document could not be fetched.
pub const UNAVAILABLE: &str = "x-unavailable-services";

/// One service's document.
pub struct Source {
    pub service: String,
    pub doc: Value,
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/// One document from `sources` (in that order), listing `unavailable` services in [`UNAVAILABLE`].
pub fn merge(sources: Vec<Source>, unavailable: &[String], version: &str) -> Value {
    let renames = clashing_names(&sources);
    let mut paths = Map::new();
    let mut components: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut tags: Vec<Value> = Vec::new();
    let mut operation_ids = BTreeSet::new();
    let mut services = Vec::new();
    for Source { service, mut doc } in sources {
        let renamed = renamed_for(&renames, &service);
        push_down_security(&mut doc);
        rewrite(&mut doc, &renamed);
        services.push(json!({
            "name": service,
            "title": doc["info"]["title"],
            "version": doc["info"]["version"],
        }));
        if let Some(Value::Object(kinds)) = doc.get_mut("components").map(Value::take) {
            for (kind, entries) in kinds {
                let Value::Object(entries) = entries else { continue };
                let merged = components.entry(kind.clone()).or_default();
                for (name, definition) in entries {
                    let name = renamed.get(&(kind.clone(), name.clone())).cloned().unwrap_or(name);
                    merged.entry(name).or_insert(definition);
                }
            }
        }
        if let Some(Value::Object(items)) = doc.get_mut("paths").map(Value::take) {
            for (path, item) in items {
                add_path(&mut paths, path, item, &service, &mut operation_ids);
            }
        }
        for tag in doc["tags"].as_array().into_iter().flatten() {
            if !tags.iter().any(|t| t["name"] == tag["name"]) {
                tags.push(tag.clone());
            }
        }
    }
    let mut merged = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "BANTU CRM",
            "version": version,
            "description": "Every service behind this gateway, from the document each one serves at \
                `/api/<service>/openapi.json`. A name two services define differently is prefixed with \
                the service's name.",
        },
        "paths": paths,
        "components": components,
        "tags": tags,
        "x-services": services,
    });
    merged[UNAVAILABLE] = json!(unavailable);
    merged
}

type Clashes = BTreeMap<(String, String), BTreeSet<String>>;

/// `(component kind, name)` → the services defining it, for names defined differently by two or
/// more services. Definitions are compared as they will be merged, with references to renamed
/// names already rewritten: two textually equal `Page`s whose `items` refer to two different
/// `User`s differ, so `Page` is renamed too. Renaming only ever adds differences, so this settles.
fn clashing_names(sources: &[Source]) -> Clashes {
    let mut clashes = Clashes::new();
    loop {
        let mut definitions: BTreeMap<(String, String), Vec<(&str, Value)>> = BTreeMap::new();
        for source in sources {
            let renamed = renamed_for(&clashes, &source.service);
            for (kind, entries) in source.doc["components"].as_object().into_iter().flatten() {
                for (name, definition) in entries.as_object().into_iter().flatten() {
                    let mut definition = definition.clone();
                    rewrite(&mut definition, &renamed);
                    definitions.entry((kind.clone(), name.clone())).or_default().push((&source.service, definition));
                }
            }
        }
        let found: Clashes = definitions
            .into_iter()
            .filter(|(_, defs)| defs.iter().any(|(_, d)| *d != defs[0].1))
            .map(|(key, defs)| (key, defs.into_iter().map(|(s, _)| s.to_owned()).collect()))
            .collect();
        if found == clashes {
            return clashes;
        }
        clashes = found;
    }
}

/// The new names of `service`'s clashing components.
fn renamed_for(clashes: &Clashes, service: &str) -> HashMap<(String, String), String> {
    clashes
        .iter()
        .filter(|(_, definers)| definers.contains(service))
        .map(|((kind, name), _)| ((kind.clone(), name.clone()), format!("{service}.{name}")))
        .collect()
}

/// A document-wide `security` applies to every operation that has none of its own; once merged
/// with other services' operations it must say so on each.
fn push_down_security(doc: &mut Value) {
    let Some(Value::Array(global)) = doc.as_object_mut().and_then(|d| d.remove("security")) else { return };
    for item in doc["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
        for method in METHODS {
            if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                op.entry("security").or_insert_with(|| Value::Array(global.clone()));
            }
        }
    }
}

/// Rewrites `$ref`s to renamed components, and security requirements naming renamed schemes.
fn rewrite(value: &mut Value, renamed: &HashMap<(String, String), String>) {
    if renamed.is_empty() {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some((kind, name)) =
                    reference.strip_prefix("#/components/").and_then(|rest| rest.split_once('/'))
                && let Some(new) = renamed.get(&(kind.to_owned(), name.to_owned()))
            {
                *reference = format!("#/components/{kind}/{new}");
            }
            if let Some(Value::Array(requirements)) = map.get_mut("security") {
                for requirement in requirements.iter_mut().filter_map(Value::as_object_mut) {
                    let names: Vec<String> = requirement.keys().cloned().collect();
                    for name in names {
                        if let Some(new) = renamed.get(&("securitySchemes".to_owned(), name.clone()))
                            && let Some(scopes) = requirement.remove(&name)
                        {
                            requirement.insert(new.clone(), scopes);
                        }
                    }
                }
            }
            map.values_mut().for_each(|v| rewrite(v, renamed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, renamed)),
        _ => {}
    }
}

/// Adds a service's path item; an operation whose method and path another service already
/// documents is left out (the route table sends the request to one of them only), and a clashing
/// `operationId` gets the service's name in front.
fn add_path(paths: &mut Map<String, Value>, path: String, mut item: Value, service: &str, ids: &mut BTreeSet<String>) {
    for method in METHODS {
        let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else { continue };
        if let Some(id) = op.get("operationId").and_then(Value::as_str).map(str::to_owned)
            && !ids.insert(id.clone())
        {
            let unique = format!("{service}.{id}");
            ids.insert(unique.clone());
            op.insert("operationId".into(), unique.into());
        }
    }
    match paths.get_mut(&path).and_then(Value::as_object_mut) {
        None => {
            paths.insert(path, item);
        }
        Some(existing) => {
            for (key, value) in item.as_object().into_iter().flatten() {
                if existing.contains_key(key) {
                    tracing::warn!(%path, method = %key, %service, "OpenAPI: operation documented by two services");
                } else {
                    existing.insert(key.clone(), value.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(service: &str, doc: Value) -> Source {
        Source { service: service.into(), doc }
    }

    fn foundation() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "foundation", "version": "1.0.0"},
            "tags": [{"name": "users", "description": "Accounts"}],
            "paths": {"/api/foundation/users": {"get": {
                "operationId": "users.list",
                "tags": ["users"],
                "security": [{"bearer": []}],
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}},
                              "404": {"$ref": "#/components/responses/NotFound"}},
            }}},
            "components": {
                "schemas": {
                    "User": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "Page": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}},
                    "FieldError": {"type": "object", "properties": {"field": {"type": "string"}}},
                },
                "responses": {"NotFound": {"description": "none"}},
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        })
    }

    fn orders() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "orders", "version": "2.0.0"},
            "tags": [{"name": "users", "description": "Other"}, {"name": "orders"}],
            "security": [{"bearer": []}],
            "paths": {"/api/orders/orders": {"post": {
                "operationId": "users.list",
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}},
                "responses": {"200": {"description": "ok"}},
            }}},
            "components": {
                "schemas": {
                    "User": {"type": "object", "properties": {"name": {"type": "string"}}},
                    "FieldError": {"type": "object", "properties": {"field": {"type": "string"}}},
                },
                "securitySchemes": {"bearer": {"type": "apiKey", "in": "header", "name": "X-Key"}},
            },
        })
    }

    #[test]
    fn paths_are_united_and_unavailable_services_listed() {
        let merged = merge(vec![source("foundation", foundation()), source("orders", orders())], &["x".into()], "9");
        assert_eq!(merged["openapi"], "3.1.0");
        assert_eq!(merged["info"]["version"], "9");
        assert!(merged["paths"]["/api/foundation/users"]["get"].is_object());
        assert!(merged["paths"]["/api/orders/orders"]["post"].is_object());
        assert_eq!(merged[UNAVAILABLE], json!(["x"]));
        assert_eq!(merged["x-services"][1], json!({"name": "orders", "title": "orders", "version": "2.0.0"}));
        let tags: Vec<_> = merged["tags"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect();
        assert_eq!(tags, vec![json!("users"), json!("orders")]);
        assert_eq!(merged["tags"][0]["description"], "Accounts", "the first description of a tag wins");
    }

    #[test]
    fn a_name_defined_differently_is_prefixed_and_its_references_follow() {
        let merged = merge(vec![source("foundation", foundation()), source("orders", orders())], &[], "9");
        let schemas = merged["components"]["schemas"].as_object().unwrap();
        assert!(schemas.contains_key("foundation.User") && schemas.contains_key("orders.User"));
        assert!(!schemas.contains_key("User"), "no unprefixed User when the definitions differ");
        assert!(schemas.contains_key("FieldError") && !schemas.contains_key("orders.FieldError"), "equal: kept");
        assert_eq!(schemas["Page"]["properties"]["items"]["items"]["$ref"], "#/components/schemas/foundation.User");
        let body = &merged["paths"]["/api/orders/orders"]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(body["schema"]["$ref"], "#/components/schemas/orders.User");
        // Security schemes: renamed too, and the requirements naming them (incl. a pushed-down global one).
        let schemes = merged["components"]["securitySchemes"].as_object().unwrap();
        assert!(schemes.contains_key("foundation.bearer") && schemes.contains_key("orders.bearer"));
        assert_eq!(merged["paths"]["/api/foundation/users"]["get"]["security"], json!([{"foundation.bearer": []}]));
        assert_eq!(merged["paths"]["/api/orders/orders"]["post"]["security"], json!([{"orders.bearer": []}]));
        assert!(merged.get("security").is_none());
        // Unclashed components keep their names and references.
        assert!(merged["components"]["responses"]["NotFound"].is_object());
        let not_found = &merged["paths"]["/api/foundation/users"]["get"]["responses"]["404"]["$ref"];
        assert_eq!(not_found, "#/components/responses/NotFound");
    }

    #[test]
    fn a_name_equal_in_text_but_referring_to_a_renamed_one_is_renamed_too() {
        let mut orders = orders();
        orders["components"]["schemas"]["Page"] = foundation()["components"]["schemas"]["Page"].clone();
        orders["paths"]["/api/orders/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/Page"});
        let merged = merge(vec![source("foundation", foundation()), source("orders", orders)], &[], "9");
        let schemas = &merged["components"]["schemas"];
        assert_eq!(schemas["orders.Page"]["properties"]["items"]["items"]["$ref"], "#/components/schemas/orders.User");
        let page = &schemas["foundation.Page"]["properties"]["items"]["items"]["$ref"];
        assert_eq!(page, "#/components/schemas/foundation.User");
        let body = &merged["paths"]["/api/orders/orders"]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(body["schema"]["$ref"], "#/components/schemas/orders.Page");
        assert!(schemas.get("Page").is_none());
    }

    #[test]
    fn operation_ids_stay_unique() {
        let merged = merge(vec![source("foundation", foundation()), source("orders", orders())], &[], "9");
        assert_eq!(merged["paths"]["/api/foundation/users"]["get"]["operationId"], "users.list");
        assert_eq!(merged["paths"]["/api/orders/orders"]["post"]["operationId"], "orders.users.list");
    }

    #[test]
    fn the_same_definition_everywhere_is_not_renamed() {
        let merged = merge(vec![source("a", foundation()), source("b", foundation())], &[], "9");
        let schemas = merged["components"]["schemas"].as_object().unwrap();
        assert_eq!(schemas.len(), 3, "{schemas:?}");
        assert_eq!(merged["paths"]["/api/foundation/users"]["get"]["operationId"], "users.list");
    }
}
