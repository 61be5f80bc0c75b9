//! Request and response shapes of offline sync.

use crm_common::api::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The most items one batch may carry: enough for a day offline, small enough that one request
/// stays well inside the body limit and a few seconds of work.
pub const MAX_BATCH_ITEMS: usize = 500;

/// Synced kinds of record. The names are the ones tombstones carry (`sync_tombstones.entity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[schema(as = SyncEntity)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Customer,
    Contact,
    FollowUp,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Contact => "contact",
            Self::FollowUp => "follow_up",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(Self::Customer),
            "contact" => Some(Self::Contact),
            "follow_up" => Some(Self::FollowUp),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[schema(as = SyncOp)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Upsert,
    Delete,
}

/// Changes an offline client made, applied item by item.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncBatch {
    /// Apply upserts whatever their `base_version` (the client resolved a conflict in its favour).
    #[serde(default)]
    pub force: bool,
    /// At most 500.
    pub items: Vec<SyncItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncItem {
    pub entity: Entity,
    pub op: Op,
    /// Chosen by the client when it created the record offline; the record's id from then on.
    pub id: Uuid,
    /// The `version` the client's copy was based on; a different server version is a conflict.
    pub base_version: Option<i32>,
    /// The record's fields as the create and update APIs take them (a follow-up also names its
    /// `customer_id`). Only the keys sent are compared and written.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = SyncStatus)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Updated,
    Deleted,
    /// Nothing to do: the data is what the server holds already, or the record is already gone.
    Unchanged,
    /// The server's copy moved on since `base_version`; nothing was written.
    Conflict,
    Error,
}

/// Why one item failed: the HTTP status the same request would have answered and its message.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncItemError)]
pub struct ItemError {
    pub code: u16,
    pub message: String,
    /// The invalid fields of a validation failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncItemResult)]
pub struct ItemResult {
    pub id: Uuid,
    pub entity: Entity,
    pub status: Status,
    /// The record's version after the item (absent once deleted or on errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// The record as the API shows it to this caller: the server's copy on a conflict, the
    /// result otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub server: Option<serde_json::Value>,
    /// On a conflict, the keys of `data` whose value differs from the server's copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

impl ItemResult {
    pub fn new(id: Uuid, entity: Entity, status: Status) -> Self {
        Self { id, entity, status, version: None, server: None, differences: None, error: None }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// One per item, in the order sent.
    pub results: Vec<ItemResult>,
    /// The organization's change number after the batch: a client that was up to date before
    /// may continue `GET /sync/changes` from here (its own writes are included in what it skips).
    pub cursor: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `cursor` of the previous answer; 0 (default) for everything.
    pub since: Option<i64>,
    /// 1–1000, default 200.
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncChange)]
pub struct Change {
    pub entity: Entity,
    pub id: Uuid,
    pub op: Op,
    pub sync_seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// The record at its latest state as the API shows it to this caller (contact fields masked
    /// as there); absent for deletions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesPage {
    /// In change-number order.
    pub changes: Vec<Change>,
    /// The last `sync_seq` returned, or `since` when none: pass it as the next `since`.
    pub cursor: i64,
    pub has_more: bool,
}
