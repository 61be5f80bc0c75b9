//! What travels from the replica that wrote a notification to the sockets of its recipient
//! (through Redis between replicas), and the frame a socket receives.

use crate::notifications::model as notification;
use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The language a socket asked for (`?lang=`): `zh` (default) or `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh = 0,
    Id = 1,
}

impl Lang {
    pub fn parse(s: Option<&str>) -> Option<Self> {
        match s {
            None | Some("zh") => Some(Self::Zh),
            Some("id") => Some(Self::Id),
            Some(_) => None,
        }
    }
}

/// One committed notification, in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub user_id: Uuid,
    pub id: Uuid,
    pub title: String,
    pub message: Option<String>,
    pub title_id: Option<String>,
    pub message_id: Option<String>,
    pub category: String,
    pub timestamp: DateTime<Utc>,
}

impl From<&notification::Model> for Push {
    fn from(n: &notification::Model) -> Self {
        Self {
            user_id: n.user_id,
            id: n.id,
            title: n.title.clone(),
            message: n.content.clone(),
            title_id: n.title_id.clone(),
            message_id: n.content_id.clone(),
            category: n.category.clone().unwrap_or_else(|| n.notification_type.clone()),
            timestamp: n.created_at,
        }
    }
}

#[derive(Serialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    id: Uuid,
    title: &'a str,
    message: &'a str,
    category: &'a str,
    timestamp: String,
    read: bool,
}

impl Push {
    /// `{"type":"notification","data":{id,title,message,category,timestamp,read}}` in `lang`
    /// (the Chinese wording when there is no Indonesian).
    pub fn frame(&self, lang: Lang) -> Utf8Bytes {
        let (title, message) = match lang {
            Lang::Id => (
                self.title_id.as_deref().unwrap_or(&self.title),
                self.message_id.as_deref().or(self.message.as_deref()),
            ),
            Lang::Zh => (self.title.as_str(), self.message.as_deref()),
        };
        let frame = Frame {
            kind: "notification",
            data: Data {
                id: self.id,
                title,
                message: message.unwrap_or_default(),
                category: &self.category,
                timestamp: self.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true),
                read: false,
            },
        };
        // Serialising these plain fields cannot fail; an empty frame would only be skipped.
        serde_json::to_string(&frame).unwrap_or_default().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_has_the_seed_shape_in_either_language() {
        let p = Push {
            user_id: Uuid::nil(),
            id: Uuid::nil(),
            title: "订单状态已更新".into(),
            message: Some("ORD-1".into()),
            title_id: Some("Status pesanan diperbarui".into()),
            message_id: None,
            category: "order_status".into(),
            timestamp: DateTime::parse_from_rfc3339("2024-01-20T10:30:00Z").unwrap().with_timezone(&Utc),
        };
        let zh: serde_json::Value = serde_json::from_str(p.frame(Lang::Zh).as_str()).unwrap();
        assert_eq!(
            zh,
            serde_json::json!({"type": "notification", "data": {"id": Uuid::nil(), "title": "订单状态已更新",
                "message": "ORD-1", "category": "order_status", "timestamp": "2024-01-20T10:30:00Z", "read": false}})
        );
        let id: serde_json::Value = serde_json::from_str(p.frame(Lang::Id).as_str()).unwrap();
        assert_eq!(id["data"]["title"], "Status pesanan diperbarui");
        assert_eq!(id["data"]["message"], "ORD-1", "the Chinese message when there is no Indonesian one");
    }
}
