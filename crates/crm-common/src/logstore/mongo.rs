//! The production log store: MongoDB collection `app_logs` in the database named by the URL (or
//! `bantu_crm`), indexed on timestamp, level and service. Times are BSON dates (millisecond
//! precision); `_id` is an ObjectId, returned as the record's `id` in hex.

use super::{LogQuery, LogRecord, LogStoreError, non_blank};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, IndexModel};
use std::time::Duration;

pub const DEFAULT_DATABASE: &str = "bantu_crm";
pub const COLLECTION: &str = "app_logs";

#[derive(Clone, Debug)]
pub struct MongoLogStore {
    client: Client,
    collection: Collection<Document>,
}

impl MongoLogStore {
    /// Connects by URL and creates the collection's indexes when missing.
    pub async fn open(url: &str) -> Result<Self, LogStoreError> {
        let mut options = ClientOptions::parse(url).await?;
        if options.app_name.is_none() {
            options.app_name = Some("bantu-crm-logstore".into());
        }
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(Duration::from_secs(10));
        }
        if options.connect_timeout.is_none() {
            options.connect_timeout = Some(Duration::from_secs(5));
        }
        let database = options.default_database.clone().unwrap_or_else(|| DEFAULT_DATABASE.into());
        let client = Client::with_options(options)?;
        let collection = client.database(&database).collection::<Document>(COLLECTION);
        let indexes = ["timestamp", "level", "service"].map(|key| {
            let mut keys = Document::new();
            keys.insert(key, if key == "timestamp" { -1 } else { 1 });
            IndexModel::builder().keys(keys).build()
        });
        collection.create_indexes(indexes).await?;
        Ok(Self { client, collection })
    }

    pub fn database_name(&self) -> String {
        self.collection.namespace().db
    }

    /// Drops this store's database (tests clean up with it).
    pub async fn drop_database(&self) -> Result<(), LogStoreError> {
        self.client.database(&self.database_name()).drop().await?;
        Ok(())
    }

    pub(super) async fn insert(&self, records: &[LogRecord]) -> Result<(), LogStoreError> {
        let docs: Vec<Document> = records.iter().map(to_document).collect();
        self.collection.insert_many(docs).await?;
        Ok(())
    }

    pub(super) async fn query(&self, query: &LogQuery) -> Result<(Vec<LogRecord>, u64), LogStoreError> {
        let filter = filter(query);
        let total = self.collection.count_documents(filter.clone()).await?;
        let (_, size) = query.paging();
        let cursor = self
            .collection
            .find(filter)
            .sort(doc! { "timestamp": -1, "_id": -1 })
            .skip(query.offset())
            .limit(i64::try_from(size).unwrap_or(i64::MAX))
            .await?;
        let docs: Vec<Document> = cursor.try_collect().await?;
        let logs = docs.iter().map(from_document).collect::<Result<Vec<_>, _>>()?;
        Ok((logs, total))
    }
}

impl MongoLogStore {
    /// `(level, service, count)` of the records matching `query` (its paging ignored), grouped
    /// in the database.
    pub(super) async fn counts(&self, query: &LogQuery) -> Result<Vec<(String, String, u64)>, LogStoreError> {
        let pipeline = vec![
            doc! { "$match": filter(query) },
            doc! { "$group": { "_id": { "level": "$level", "service": "$service" }, "n": { "$sum": 1 } } },
        ];
        let docs: Vec<Document> = self.collection.aggregate(pipeline).await?.try_collect().await?;
        let mut out = Vec::with_capacity(docs.len());
        for d in docs {
            let id = d.get_document("_id").map_err(|e| LogStoreError::Other(e.to_string()))?;
            let text = |k: &str| id.get_str(k).unwrap_or_default().to_owned();
            let n = match d.get("n") {
                Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
                Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
                Some(Bson::Double(n)) => *n as u64,
                _ => 0,
            };
            out.push((text("level"), text("service"), n));
        }
        Ok(out)
    }
}

fn bson_time(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(t.timestamp_millis())
}

fn to_document(r: &LogRecord) -> Document {
    let extra = match &r.extra {
        Some(map) => bson::to_bson(map).unwrap_or_else(|e| Bson::String(format!("unstorable extra: {e}"))),
        None => Bson::Null,
    };
    doc! {
        "timestamp": bson_time(r.timestamp),
        "level": r.level.as_str(),
        "message": r.message.as_str(),
        "service": r.service.as_str(),
        "name": r.name.as_str(),
        "function": r.function.as_deref(),
        "line": r.line.map(i64::from),
        "file": r.file.as_deref(),
        "module": r.module.as_deref(),
        "thread": r.thread.and_then(|t| i64::try_from(t).ok()),
        "process": i64::from(r.process),
        "exception": r.exception.as_deref(),
        "extra": extra,
    }
}

/// A regular expression that matches `text` literally.
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn filter(query: &LogQuery) -> Document {
    let mut filter = Document::new();
    let services = query.normalized_services();
    if !services.is_empty() {
        filter.insert("service", doc! { "$in": services });
    }
    let levels = query.normalized_levels();
    if !levels.is_empty() {
        filter.insert("level", doc! { "$in": levels });
    }
    let mut range = Document::new();
    if let Some(start) = query.start_time {
        range.insert("$gte", bson_time(start));
    }
    if let Some(end) = query.end_time {
        range.insert("$lte", bson_time(end));
    }
    if !range.is_empty() {
        filter.insert("timestamp", range);
    }
    for (field, needle) in [
        ("message", non_blank(&query.keyword)),
        ("file", non_blank(&query.file)),
        ("function", non_blank(&query.function)),
    ] {
        if let Some(needle) = needle {
            filter.insert(field, doc! { "$regex": regex_literal(needle), "$options": "i" });
        }
    }
    filter
}

fn text(d: &Document, key: &str) -> Option<String> {
    d.get_str(key).ok().map(str::to_owned)
}

fn integer(d: &Document, key: &str) -> Option<i64> {
    match d.get(key) {
        Some(Bson::Int32(v)) => Some(i64::from(*v)),
        Some(Bson::Int64(v)) => Some(*v),
        Some(Bson::Double(v)) if v.fract() == 0.0 => Some(*v as i64),
        _ => None,
    }
}

fn from_document(d: &Document) -> Result<LogRecord, LogStoreError> {
    let millis = d
        .get_datetime("timestamp")
        .map_err(|e| LogStoreError::Other(format!("log document without a date timestamp: {e}")))?
        .timestamp_millis();
    let timestamp = DateTime::<Utc>::from_timestamp_millis(millis)
        .ok_or_else(|| LogStoreError::Other(format!("timestamp out of range: {millis}")))?;
    let extra = match d.get("extra") {
        Some(value @ Bson::Document(_)) => match value.clone().into_relaxed_extjson() {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        },
        _ => None,
    };
    let id = match d.get("_id") {
        Some(Bson::ObjectId(oid)) => Some(oid.to_hex()),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    Ok(LogRecord {
        id,
        timestamp,
        level: text(d, "level").unwrap_or_default(),
        message: text(d, "message").unwrap_or_default(),
        service: text(d, "service").unwrap_or_default(),
        name: text(d, "name").unwrap_or_default(),
        function: text(d, "function"),
        line: integer(d, "line").and_then(|l| u32::try_from(l).ok()),
        file: text(d, "file"),
        module: text(d, "module"),
        thread: integer(d, "thread").and_then(|t| u64::try_from(t).ok()),
        process: integer(d, "process").and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
        exception: text(d, "exception"),
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_literals_escape_metacharacters() {
        assert_eq!(regex_literal("a.b*(c)"), "a\\.b\\*\\(c\\)");
        assert_eq!(regex_literal("登录失败"), "登录失败");
    }

    #[test]
    fn filters_combine() {
        let q = LogQuery {
            services: vec!["foundation".into()],
            levels: vec!["warn".into()],
            keyword: Some("fail".into()),
            ..LogQuery::default()
        };
        let f = filter(&q);
        assert_eq!(f.get_document("level").unwrap().get_array("$in").unwrap()[0], Bson::String("WARNING".into()));
        assert_eq!(f.get_document("message").unwrap().get_str("$regex").unwrap(), "fail");
        assert!(f.get("timestamp").is_none());
    }
}
