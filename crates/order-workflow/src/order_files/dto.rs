//! Request and response shapes of order files: the original's bilingual names and descriptions,
//! plus the real client's `file_name`/`description` (written in the `lang` language), collapsed
//! by `lang`. Every file answer carries a signed `file_url`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The form of `POST /order-files/upload` and `POST /orders/{id}/files` (`multipart/form-data`).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct UploadForm {
    /// The file: at most 10,000,000 bytes; its name's extension decides its type, which its
    /// content must match (.pdf .jpg .jpeg .png .webp .doc .docx .xls .xlsx .csv .txt).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Required at `/order-files/upload`; the path names it at `/orders/{id}/files`.
    pub order_id: Option<Uuid>,
    pub order_item_id: Option<Uuid>,
    pub order_stage_id: Option<Uuid>,
    /// `passport`, `visa`, `document` or `other` (default).
    pub file_category: Option<String>,
    pub file_name_zh: Option<String>,
    pub file_name_id: Option<String>,
    /// In the `lang` language.
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    /// `true` or `false` (default).
    pub is_required: Option<bool>,
}

/// Absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateFile {
    /// In the `lang` language.
    pub file_name: Option<String>,
    pub file_name_zh: Option<String>,
    pub file_name_id: Option<String>,
    pub file_category: Option<String>,
    /// `image`, `pdf`, `doc`, `excel` or `other`.
    pub file_type: Option<String>,
    /// In the `lang` language.
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub is_required: Option<bool>,
    /// Sets (or clears) `verified_by` and `verified_at`.
    pub is_verified: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VerifyFile {
    pub is_verified: bool,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileLang {
    /// `zh` (default) or `id`: the language names and descriptions are collapsed to.
    pub lang: Option<String>,
}

/// The original's list filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFiles {
    pub page: Option<u64>,
    /// 1–200, default 50.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub order_item_id: Option<Uuid>,
    pub order_stage_id: Option<Uuid>,
    pub file_category: Option<String>,
    pub lang: Option<String>,
}

/// The real client's list filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrderFiles {
    pub page: Option<u64>,
    /// 1–200, default 50.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub item_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    pub category: Option<String>,
    pub lang: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UrlParams {
    /// Seconds the link stays valid: 60–604800, default 3600.
    pub expires_in: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedParams {
    /// Unix seconds after which the link no longer opens.
    pub expires: i64,
    /// The link's signature.
    pub sig: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub order_item_id: Option<Uuid>,
    pub order_stage_id: Option<Uuid>,
    /// `passport`, `visa`, `document` or `other`.
    pub file_category: String,
    /// `file_name_zh` or `file_name_id` by `lang`, falling back to the other.
    pub file_name: Option<String>,
    pub file_name_zh: Option<String>,
    pub file_name_id: Option<String>,
    /// `image`, `pdf`, `doc`, `excel` or `other`, from the MIME type.
    pub file_type: String,
    pub file_size: i64,
    pub mime_type: String,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub is_required: bool,
    pub is_verified: bool,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTime<Utc>>,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A short-lived signed link that opens the file without a token (relative to the gateway).
    pub file_url: String,
    pub file_url_expires_at: DateTime<Utc>,
}

/// The original's list shape (`GET /order-files/order/{id}/files`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FileList {
    pub files: Vec<FileView>,
    pub total: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileUrl {
    pub file_url: String,
    pub expires_at: DateTime<Utc>,
}
