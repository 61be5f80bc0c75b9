//! OpenAPI pieces every service's document shares (feature `openapi`): the error envelopes and the
//! responses that carry them, the bearer-token scheme, and [`finish`], which adds them to a
//! service's generated document and returns it as JSON.
//!
//! Handlers declare their successes (`body = Envelope<T>`) and the errors particular to them
//! (`response = NotFound`, …); [`finish`] adds what any operation can answer: 500, and 401 wherever
//! a bearer token is required.

use super::{Envelope, FieldError};
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, OpenApi, Ref, RefOr, Response};
use utoipa::{PartialSchema, ToResponse, ToSchema};

/// The security scheme every authenticated operation names: `security(("bearer" = []))`.
pub const BEARER: &str = "bearer";

/// `data: null`: what an error carries, and a success with nothing to return.
#[derive(Serialize)]
pub struct NoData;

impl PartialSchema for NoData {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Null).into()
    }
}

impl ToSchema for NoData {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NoData")
    }
}

/// A 400's `data`: every failing field, or null when the request as a whole is refused.
#[derive(Serialize)]
struct FieldErrors;

impl PartialSchema for FieldErrors {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ArrayBuilder::new().items(Ref::from_schema_name(FieldError::name())))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("Every failing field; null when the request as a whole is refused."))
            .into()
    }
}

impl ToSchema for FieldErrors {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FieldErrors")
    }
}

/// A 409's `data`: the record as it now is after a stale `version`; null for a duplicate.
#[derive(Serialize)]
struct CurrentRecord;

impl PartialSchema for CurrentRecord {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("The record as it now is when `version` was stale; null otherwise."))
            .into()
    }
}

impl ToSchema for CurrentRecord {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CurrentRecord")
    }
}

/// The error envelopes, by the names the responses refer to, and the `data` shapes they refer to.
fn error_schemas() -> Vec<(Cow<'static, str>, RefOr<Schema>)> {
    vec![
        ("ErrorEnvelope".into(), Envelope::<NoData>::schema()),
        ("ValidationErrorEnvelope".into(), Envelope::<FieldErrors>::schema()),
        ("ConflictEnvelope".into(), Envelope::<CurrentRecord>::schema()),
        (NoData::name(), NoData::schema()),
        (FieldErrors::name(), FieldErrors::schema()),
        (CurrentRecord::name(), CurrentRecord::schema()),
        (FieldError::name(), FieldError::schema()),
    ]
}

/// Declares the shared error responses: `(status = 404, response = NotFound)` refers to
/// `#/components/responses/NotFound`, which [`finish`] adds.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident => $schema:literal, $retry_after:literal, $description:literal;)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'s> ToResponse<'s> for $name {
                fn response() -> (&'s str, RefOr<Response>) {
                    (stringify!($name), error_response($schema, $retry_after, $description).into())
                }
            }
        )*

        fn all_error_responses() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$(<$name as ToResponse>::response()),*]
        }
    };
}

error_responses! {
    /// 400: malformed or invalid input.
    BadRequest => "ValidationErrorEnvelope", false,
        "Malformed or invalid input: `data` lists every failing field as `{field, message}`.";
    /// 401: no valid access token.
    Unauthorized => "ErrorEnvelope", false,
        "Not authenticated: no valid access token (missing, expired, forged, revoked), or wrong credentials.";
    /// 403: authenticated, but not allowed.
    Forbidden => "ErrorEnvelope", false,
        "Authenticated, but without the permission this needs (or the account or organization is locked).";
    /// 404: unknown, or another organization's.
    NotFound => "ErrorEnvelope", false, "No such record visible to the caller (another organization's ids too).";
    /// 409: duplicate, stale version, or still in use.
    Conflict => "ConflictEnvelope", false,
        "A duplicate, a stale `version` (`data` is then the record as it now is), or a record still in use.";
    /// 410: existed, but no longer serves (expired, used up).
    Gone => "ErrorEnvelope", false, "No longer available: expired, or used up.";
    /// 413: body over the configured limit.
    PayloadTooLarge => "ErrorEnvelope", false, "The request body is larger than the service accepts.";
    /// 415: a body that is not JSON.
    UnsupportedMediaType => "ErrorEnvelope", false, "`Content-Type` is present and not JSON.";
    /// 429: rate limited.
    TooManyRequests => "ErrorEnvelope", true, "Too many attempts; `Retry-After` says when to try again.";
    /// 503: a dependency or feature is unavailable.
    Unavailable => "ErrorEnvelope", true, "Temporarily unavailable or not configured; `Retry-After` suggests a wait.";
    /// 500: anything unexpected.
    InternalError => "ErrorEnvelope", false,
        "Unexpected failure. The cause is logged with the request id, never returned.";
}

fn error_response(schema: &str, retry_after: bool, description: &str) -> Response {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build();
    let mut response = ResponseBuilder::new().description(description).content("application/json", content);
    if retry_after {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0));
        let header = HeaderBuilder::new().schema(Some(seconds)).description(Some("Seconds to wait")).build();
        response = response.header("Retry-After", header);
    }
    response.build()
}

/// A service's finished document as the bytes it serves, built once on first use (the document
/// only changes with the code): `static DOC: Served = Served::new(generated);`.
pub struct Served(std::sync::LazyLock<Result<axum::body::Bytes, String>>);

impl Served {
    pub const fn new(build: fn() -> Result<axum::body::Bytes, String>) -> Self {
        Self(std::sync::LazyLock::new(build))
    }

    /// The document with its caching headers, or a 500 envelope when it could not be built.
    pub fn response(&self) -> axum::response::Response {
        use axum::response::IntoResponse;
        match &*self.0 {
            Ok(bytes) => (
                [
                    (axum::http::header::CONTENT_TYPE, "application/json"),
                    (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
                ],
                bytes.clone(),
            )
                .into_response(),
            Err(cause) => super::ApiError::internal(format!("OpenAPI document: {cause}")).into_response(),
        }
    }
}

/// [`finish`]ed and serialized, for [`Served::new`].
pub fn render(doc: OpenApi) -> Result<axum::body::Bytes, String> {
    finish(doc).and_then(|d| serde_json::to_vec(&d)).map(axum::body::Bytes::from).map_err(|e| e.to_string())
}

/// Panics when two parts of a document define one schema name differently: `merge` keeps the
/// first, so the second type would silently be documented wrongly. For each service's tests.
pub fn assert_schema_names_do_not_clash(parts: Vec<OpenApi>) {
    let mut seen: std::collections::BTreeMap<String, (usize, String)> = Default::default();
    for (i, part) in parts.into_iter().enumerate() {
        for (name, schema) in part.components.map(|c| c.schemas).unwrap_or_default() {
            let json = serde_json::to_string(&schema).unwrap_or_default();
            if let Some((other, earlier)) = seen.get(&name) {
                assert_eq!(earlier, &json, "schema {name} differs between parts {other} and {i}");
            }
            seen.insert(name, (i, json));
        }
    }
}

/// Completes a service's generated document and returns it as JSON: the error envelopes and
/// responses, the bearer scheme, 500 on every operation and 401 on every authenticated one,
/// operation ids made unique as `<tag>.<function>`, and inline copies of named schemas (utoipa
/// inlines a generic's arguments, e.g. `Envelope<UserView>`) replaced by references to them.
pub fn finish(mut doc: OpenApi) -> Result<Value, serde_json::Error> {
    let components = doc.components.get_or_insert_with(Components::new);
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .description(Some("An access token from `POST /api/foundation/auth/login` (EdDSA JWT)."))
        .build();
    components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
    for (name, schema) in error_schemas() {
        components.schemas.insert(name.into_owned(), schema);
    }
    for (name, response) in all_error_responses() {
        components.responses.insert(name.into(), response);
    }
    let mut json = serde_json::to_value(&doc)?;
    complete_operations(&mut json);
    reference_named_schemas(&mut json);
    Ok(json)
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

fn complete_operations(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut() {
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else { continue };
            let authenticated = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|reqs| reqs.iter().any(|r| r.get(BEARER).is_some()));
            let tag = op.get("tags").and_then(|t| t.get(0)).and_then(Value::as_str).map(str::to_owned);
            if let (Some(tag), Some(id)) = (tag, op.get("operationId").and_then(Value::as_str))
                && !id.starts_with(&format!("{tag}."))
            {
                let unique = format!("{tag}.{id}");
                op.insert("operationId".into(), unique.into());
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            if authenticated {
                responses.entry("401").or_insert_with(|| json!({"$ref": "#/components/responses/Unauthorized"}));
            }
            responses.entry("500").or_insert_with(|| json!({"$ref": "#/components/responses/InternalError"}));
        }
    }
}

/// Only object-like schemas are worth naming where they appear; a bare `{"type": "string"}` that
/// happens to equal some named schema stays as it is.
fn is_structured(schema: &Value) -> bool {
    ["properties", "allOf", "oneOf", "anyOf"].iter().any(|k| schema.get(k).is_some())
}

fn reference_named_schemas(doc: &mut Value) {
    let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) else { return };
    let named: HashMap<String, String> = schemas
        .iter()
        .filter(|(_, schema)| is_structured(schema))
        .map(|(name, schema)| (schema.to_string(), name.clone()))
        .collect();
    // The named schemas themselves stay; only what is inside them is replaced.
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for schema in schemas.values_mut() {
            replace_within(schema, &named);
        }
    }
    for section in ["/paths", "/components/responses"] {
        if let Some(value) = doc.pointer_mut(section) {
            replace_within(value, &named);
        }
    }
}

fn replace_within(value: &mut Value, named: &HashMap<String, String>) {
    match value {
        Value::Object(map) => map.values_mut().for_each(|child| replace(child, named)),
        Value::Array(items) => items.iter_mut().for_each(|child| replace(child, named)),
        _ => {}
    }
}

fn replace(value: &mut Value, named: &HashMap<String, String>) {
    if is_structured(value)
        && let Some(name) = named.get(&value.to_string())
    {
        *value = json!({ "$ref": format!("#/components/schemas/{name}") });
        return;
    }
    replace_within(value, named);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_copies_of_named_schemas_become_references() {
        let user = json!({"type": "object", "properties": {"id": {"type": "string"}}});
        let mut doc = json!({
            "paths": {"/u": {"get": {"responses": {"200": {"content": {"application/json": {"schema": user}}}}}}},
            "components": {"schemas": {
                "User": user,
                "Envelope_User": {"type": "object", "properties": {"data": user, "code": {"type": "integer"}}},
                "Name": {"type": "string"},
            }},
        });
        reference_named_schemas(&mut doc);
        let reference = json!({"$ref": "#/components/schemas/User"});
        assert_eq!(doc["paths"]["/u"]["get"]["responses"]["200"]["content"]["application/json"]["schema"], reference);
        assert_eq!(doc["components"]["schemas"]["Envelope_User"]["properties"]["data"], reference);
        assert_eq!(doc["components"]["schemas"]["User"], user, "a named schema is not replaced by itself");
        assert_eq!(doc["components"]["schemas"]["Envelope_User"]["properties"]["code"], json!({"type": "integer"}));
    }

    #[test]
    fn operations_get_the_standard_errors_and_unique_ids() {
        let mut doc = json!({"paths": {
            "/a": {"get": {"tags": ["users"], "operationId": "list", "security": [{"bearer": []}],
                           "responses": {"200": {}}}},
            "/b": {"post": {"tags": ["auth"], "operationId": "login", "responses": {"200": {}, "401": {"x": 1}}}},
        }});
        complete_operations(&mut doc);
        let a = &doc["paths"]["/a"]["get"];
        assert_eq!(a["operationId"], "users.list");
        assert_eq!(a["responses"]["401"]["$ref"], "#/components/responses/Unauthorized");
        assert_eq!(a["responses"]["500"]["$ref"], "#/components/responses/InternalError");
        let b = &doc["paths"]["/b"]["post"];
        assert_eq!(b["operationId"], "auth.login");
        assert_eq!(b["responses"]["401"], json!({"x": 1}), "an operation's own 401 is kept");
    }

    #[test]
    fn finish_describes_the_envelope_and_the_errors() {
        let doc = finish(OpenApi::default()).unwrap();
        let error = &doc["components"]["schemas"]["ErrorEnvelope"];
        for field in ["code", "message", "data", "timestamp", "request_id"] {
            assert!(error["properties"][field].is_object(), "{field} in {error}");
        }
        assert_eq!(error["properties"]["data"]["$ref"], "#/components/schemas/NoData");
        assert_eq!(doc["components"]["schemas"]["NoData"]["type"], "null");
        let validation = doc["components"]["schemas"]["ValidationErrorEnvelope"].to_string();
        assert!(validation.contains("#/components/schemas/FieldError"), "{validation}");
        assert!(doc["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"].is_object());
        assert_eq!(doc["components"]["securitySchemes"][BEARER]["scheme"], "bearer");
    }
}
