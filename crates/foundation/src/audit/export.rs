//! `POST /audit-logs/export`: up to [`INLINE_MAX`] rows come back in the original's envelope
//! shape `{content, mime_type, format}`; larger exports stream as a file download, read from the
//! database in chunks of [`CHUNK`] rows by keyset (newest or oldest first), so memory stays flat
//! whatever the size.

use super::dto::{ExportAudit, InlineExport};
use super::model as audit_log;
use super::service::order_column;
use crate::AppState;
use crate::perm::AuditExport;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use chrono::{DateTime, Utc};
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Json, ok};
use crm_common::auth::Authorized;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub const INLINE_MAX: u64 = 1000;
const CHUNK: u64 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

impl Format {
    fn parse(raw: Option<&str>) -> ApiResult<Self> {
        match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            _ => Err(ApiError::field("format", "must be json or csv")),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
    fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv",
        }
    }
}

const CSV_COLUMNS: &str = "id,created_at,organization_id,user_id,user_name,action,category,resource_type,resource_id,\
service,request_method,request_path,status,status_code,error_message,ip_address,user_agent,duration_ms,request_id,\
request_params\r\n";

/// One CSV field: quoted when it holds a separator, quote or line break; a leading `=`, `+`, `-`
/// or `@` is defused so spreadsheets do not run it as a formula.
pub(crate) fn csv_field(out: &mut String, value: &str) {
    let defused = matches!(value.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    let needs_quotes = defused || value.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        out.push_str(value);
        return;
    }
    out.push('"');
    if defused {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

fn csv_row(out: &mut String, r: &audit_log::Model) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let id = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
    let fields = [
        r.id.to_string(),
        r.created_at.to_rfc3339(),
        id(r.organization_id),
        id(r.user_id),
        opt(&r.user_name),
        r.action.clone(),
        r.category.clone(),
        opt(&r.resource_type),
        opt(&r.resource_id),
        r.service.clone(),
        r.request_method.clone(),
        r.request_path.clone(),
        r.status.clone(),
        r.status_code.to_string(),
        opt(&r.error_message),
        opt(&r.ip_address),
        opt(&r.user_agent),
        r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
        opt(&r.request_id),
        r.request_params.as_ref().map(|p| p.to_string()).unwrap_or_default(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push_str("\r\n");
}

/// Renders rows; `first` says whether a JSON array element is the first of the document.
fn render(format: Format, rows: &[audit_log::Model], mut first: bool) -> ApiResult<String> {
    let mut out = String::new();
    for r in rows {
        match format {
            Format::Csv => csv_row(&mut out, r),
            Format::Json => {
                if !first {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(r)?);
                first = false;
            }
        }
    }
    Ok(out)
}

/// Export audit entries as JSON or CSV
#[utoipa::path(
    post,
    path = "/api/foundation/audit-logs/export",
    tag = "audit-logs",
    request_body = ExportAudit,
    responses(
        (status = 200,
         description = "Up to 1,000 rows: the envelope with the file's content inline. More: the file itself, streamed \
                        as a download (`Content-Disposition: attachment`, `X-Total-Count`), a JSON array or CSV.",
         content(
             (Envelope<InlineExport> = "application/json"),
             (String = "text/csv"),
         )),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Authorized<AuditExport>,
    Json(body): Json<ExportAudit>,
) -> ApiResult<Response> {
    let format = Format::parse(body.format.as_deref())?;
    let condition = body.filters(&caller)?.condition();
    let order_by = order_column(body.order_by.as_deref())?;
    let desc = body.order_desc.unwrap_or(true);
    let total = audit_log::Entity::find().filter(condition.clone()).count(&state.db).await?;
    if total <= INLINE_MAX {
        let dir = if desc { Order::Desc } else { Order::Asc };
        let rows = audit_log::Entity::find()
            .filter(condition)
            .order_by(order_by, dir.clone())
            .order_by(audit_log::Column::Id, dir)
            .all(&state.db)
            .await?;
        let mut content = render(format, &rows, true)?;
        match format {
            Format::Json => content = format!("[{content}]"),
            Format::Csv => content.insert_str(0, CSV_COLUMNS),
        }
        return Ok(ok(InlineExport { content, mime_type: format.mime(), format: format.name() }));
    }
    let stream = Chunks { db: state.db.clone(), condition, desc, format, after: None, stage: Stage::Start };
    let body = Body::from_stream(futures_util::stream::unfold(stream, Chunks::next));
    let filename = format!("audit-logs-{}.{}", Utc::now().format("%Y%m%dT%H%M%SZ"), format.name());
    Response::builder()
        .header(header::CONTENT_TYPE, format!("{}; charset=utf-8", format.mime()))
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\""))
        .header("x-total-count", total.to_string())
        .body(body)
        .map_err(ApiError::internal)
}

enum Stage {
    Start,
    Rows { first: bool },
    Done,
}

/// The state of a streamed export: the filter and the last row sent.
struct Chunks {
    db: DatabaseConnection,
    condition: Condition,
    desc: bool,
    format: Format,
    after: Option<(DateTime<Utc>, Uuid)>,
    stage: Stage,
}

impl Chunks {
    fn keyset(&self) -> Condition {
        use audit_log::Column as C;
        let Some((at, id)) = self.after else { return Condition::all() };
        let (before_at, before_id) =
            if self.desc { (C::CreatedAt.lt(at), C::Id.lt(id)) } else { (C::CreatedAt.gt(at), C::Id.gt(id)) };
        Condition::any().add(before_at).add(Condition::all().add(C::CreatedAt.eq(at)).add(before_id))
    }

    async fn fetch(&self) -> ApiResult<Vec<audit_log::Model>> {
        let dir = if self.desc { Order::Desc } else { Order::Asc };
        Ok(audit_log::Entity::find()
            .filter(self.condition.clone())
            .filter(self.keyset())
            .order_by(audit_log::Column::CreatedAt, dir.clone())
            .order_by(audit_log::Column::Id, dir)
            .limit(CHUNK)
            .all(&self.db)
            .await?)
    }

    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        match self.stage {
            Stage::Done => None,
            Stage::Start => {
                self.stage = Stage::Rows { first: true };
                let head = if self.format == Format::Csv { CSV_COLUMNS } else { "[" };
                Some((Ok(Bytes::from_static(head.as_bytes())), self))
            }
            Stage::Rows { first } => {
                let rows = match self.fetch().await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::error!(error = %e, "audit export failed midway");
                        self.stage = Stage::Done;
                        return Some((Err(std::io::Error::other("audit export failed")), self));
                    }
                };
                let Some(last) = rows.last() else {
                    self.stage = Stage::Done;
                    let tail = if self.format == Format::Csv { "" } else { "]" };
                    return Some((Ok(Bytes::from_static(tail.as_bytes())), self));
                };
                self.after = Some((last.created_at, last.id));
                self.stage = Stage::Rows { first: false };
                match render(self.format, &rows, first) {
                    Ok(text) => Some((Ok(Bytes::from(text)), self)),
                    Err(e) => {
                        tracing::error!(error = %e, "audit export could not render rows");
                        self.stage = Stage::Done;
                        Some((Err(std::io::Error::other("audit export failed")), self))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_escaping() {
        let f = |v: &str| {
            let mut s = String::new();
            csv_field(&mut s, v);
            s
        };
        assert_eq!(f("plain"), "plain");
        assert_eq!(f("a,b"), "\"a,b\"");
        assert_eq!(f("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(f("two\nlines"), "\"two\nlines\"");
        assert_eq!(f("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(f(""), "");
    }
}
