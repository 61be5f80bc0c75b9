//! Who is told what, in Chinese and Indonesian, when something happens to an order or a lead.
//! The resources call these at their triggers, inside their own transaction where they have one;
//! like [`notify`], they never fail the operation.

use super::service::{Notice, Wording, notify_bilingual};
use crate::orders::model::order;
use crate::orders::service::{assignees, status_name};
use crm_common::ApiResult;
use sea_orm::ConnectionTrait;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Something that happened to an order.
#[derive(Debug, Clone, Copy)]
pub enum OrderEvent<'a> {
    /// Its status moved (the order given is the one after the move).
    Status,
    /// It was assigned to an operator (the order's current assignee).
    Assigned,
    ItemAdded,
    ItemChanged,
    ItemRemoved,
    /// A file was uploaded; its name.
    FileUploaded(&'a str),
    /// A file was verified (or unverified); its name.
    FileVerified(&'a str),
    /// A comment was written; its text.
    Comment(&'a str),
}

impl OrderEvent<'_> {
    fn category(self) -> &'static str {
        match self {
            Self::Status => "order_status",
            Self::Assigned => "order_assigned",
            Self::ItemAdded | Self::ItemChanged | Self::ItemRemoved => "order_item",
            Self::FileUploaded(_) | Self::FileVerified(_) => "order_file",
            Self::Comment(_) => "order_comment",
        }
    }

    /// (Chinese title, Indonesian title, detail) for `recipient`.
    fn wording(self, o: &order::Model, to_assignee: bool) -> (String, String, Option<String>) {
        let n = &o.order_number;
        match self {
            Self::Status => (
                format!("订单 {n} 状态变更为{}", status_name(&o.status_code, false)),
                format!("Status pesanan {n} menjadi {}", status_name(&o.status_code, true)),
                Some(o.title.clone()),
            ),
            Self::Assigned if to_assignee => {
                (format!("订单 {n} 已分配给您"), format!("Pesanan {n} ditugaskan kepada Anda"), Some(o.title.clone()))
            }
            Self::Assigned => {
                (format!("订单 {n} 已分配"), format!("Pesanan {n} telah ditugaskan"), Some(o.title.clone()))
            }
            Self::ItemAdded => {
                (format!("订单 {n} 新增了服务项目"), format!("Item ditambahkan ke pesanan {n}"), Some(o.title.clone()))
            }
            Self::ItemChanged => {
                (format!("订单 {n} 的服务项目已更新"), format!("Item pesanan {n} diperbarui"), Some(o.title.clone()))
            }
            Self::ItemRemoved => {
                (format!("订单 {n} 删除了服务项目"), format!("Item dihapus dari pesanan {n}"), Some(o.title.clone()))
            }
            Self::FileUploaded(name) => {
                (format!("订单 {n} 上传了文件"), format!("Berkas diunggah ke pesanan {n}"), Some(name.to_owned()))
            }
            Self::FileVerified(name) => {
                (format!("订单 {n} 的文件已审核"), format!("Berkas pesanan {n} diverifikasi"), Some(name.to_owned()))
            }
            Self::Comment(text) => (
                format!("订单 {n} 有新评论"),
                format!("Komentar baru pada pesanan {n}"),
                Some(text.chars().take(200).collect()),
            ),
        }
    }
}

/// Tells the order's seller, its current assignee and `also` about `event` — everyone but
/// `actor`, who knows already.
pub async fn order_event(
    db: &impl ConnectionTrait,
    o: &order::Model,
    actor: Uuid,
    also: &[Uuid],
    event: OrderEvent<'_>,
) -> ApiResult<()> {
    let assignee = match assignees(db, &[o.id]).await {
        Ok(found) => found.get(&o.id).copied(),
        Err(err) => {
            tracing::warn!(error = %err, order = %o.id, "notifications: the order's assignee is unknown");
            None
        }
    };
    let recipients: BTreeSet<Uuid> =
        [Some(o.sales_user_id), assignee].into_iter().flatten().chain(also.iter().copied()).collect();
    for user in recipients.into_iter().filter(|u| *u != actor) {
        let (zh, id, detail) = event.wording(o, Some(user) == assignee);
        let notice = Notice {
            organization_id: o.organization_id,
            user_id: user,
            notification_type: "order_updated",
            title: zh,
            content: detail.clone(),
            resource_type: "order",
            resource_id: o.id,
        };
        let wording = Wording { title_id: Some(id), content_id: detail, category: Some(event.category()) };
        notify_bilingual(db, notice, wording).await?;
    }
    Ok(())
}

/// Tells a lead's new owner it is theirs (unless they took it themselves).
pub async fn lead_assigned(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    lead_id: Uuid,
    name: &str,
    owner: Uuid,
    actor: Uuid,
) -> ApiResult<()> {
    if owner == actor {
        return Ok(());
    }
    let notice = Notice {
        organization_id,
        user_id: owner,
        notification_type: "lead_assigned",
        title: format!("线索 {name} 已分配给您"),
        content: None,
        resource_type: "lead",
        resource_id: lead_id,
    };
    let wording = Wording { title_id: Some(format!("Prospek {name} ditugaskan kepada Anda")), ..Wording::default() };
    notify_bilingual(db, notice, wording).await?;
    Ok(())
}
