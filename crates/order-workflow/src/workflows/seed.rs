//! The original's `order_approval` definition, given to every organization the first time it
//! creates an order, looks at its definitions or starts one by code (inserted if missing, so
//! concurrent first looks insert it once). It starts switched on (`auto_start` true): every new
//! order of the organization starts it and its stages drive the order's status, which is what
//! the workflow is for. The switch is per organization — an administrator turns it off with
//! `PUT /workflows/definitions/{id}` `{"auto_start": false}` and orders then move by hand alone.
//! An organization that already starts another definition of orders gets it switched off.
//!
//! submitted (a manager reviews) → approved (operations allocate the order to an operator) →
//! assigned (the operator starts) → processing (the operator delivers) → completed; a review
//! with `approval_result == 'rejected'` ends in `rejected`, which cancels the order.

use super::model::definition;
use chrono::Utc;
use crm_common::ApiResult;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

pub const ORDER_APPROVAL: &str = "order_approval";

pub fn order_approval_json() -> Value {
    json!({
        "stages": [
            {"stage_code": "submitted", "stage_name_zh": "已提交", "stage_name_id": "Diajukan", "order_status": "submitted",
             "task_code": "review", "task_name_zh": "审核订单", "task_name_id": "Tinjau pesanan",
             "task_type": "user_task", "assign_to_role": "ADMIN", "due_in_days": 1},
            {"stage_code": "approved", "stage_name_zh": "已批准", "stage_name_id": "Disetujui", "order_status": "approved",
             "task_code": "allocate", "task_name_zh": "分配订单", "task_name_id": "Alokasikan pesanan",
             "task_type": "user_task", "assign_to_role": "OPERATION", "action": "assign_order", "due_in_days": 1},
            {"stage_code": "assigned", "stage_name_zh": "已分配", "stage_name_id": "Ditugaskan", "order_status": "assigned",
             "task_code": "process", "task_name_zh": "开始办理", "task_name_id": "Mulai proses",
             "task_type": "user_task", "assign_to": "order_assignee", "assign_to_role": "OPERATION", "due_in_days": 2},
            {"stage_code": "processing", "stage_name_zh": "处理中", "stage_name_id": "Diproses", "order_status": "processing",
             "task_code": "deliver", "task_name_zh": "完成交付", "task_name_id": "Selesaikan layanan",
             "task_type": "service_task", "assign_to": "order_assignee", "assign_to_role": "OPERATION"},
            {"stage_code": "completed", "stage_name_zh": "已完成", "stage_name_id": "Selesai", "order_status": "completed",
             "is_end": true},
            {"stage_code": "rejected", "stage_name_zh": "已驳回", "stage_name_id": "Ditolak", "order_status": "cancelled",
             "is_end": true}
        ],
        "transitions": [
            {"from": "submitted", "to": "approved", "condition": "approval_result == 'approved'"},
            {"from": "submitted", "to": "rejected", "condition": "approval_result == 'rejected'"},
            {"from": "approved", "to": "assigned", "condition": "auto"},
            {"from": "assigned", "to": "processing", "condition": "auto"},
            {"from": "processing", "to": "completed", "condition": "auto"}
        ]
    })
}

/// Inserts the organization's `order_approval` unless it has one.
pub async fn ensure(db: &impl ConnectionTrait, organization_id: Uuid) -> ApiResult<()> {
    let has = |code: Option<&str>| {
        let mut q = definition::Entity::find().filter(definition::Column::OrganizationId.eq(organization_id));
        q = match code {
            Some(c) => q.filter(definition::Column::Code.eq(c)),
            None => {
                q.filter(definition::Column::BusinessType.eq("order")).filter(definition::Column::AutoStart.eq(true))
            }
        };
        q.one(db)
    };
    if has(Some(ORDER_APPROVAL)).await?.is_some() {
        return Ok(());
    }
    // One definition of orders starts on every new order.
    let auto_start = has(None).await?.is_none();
    let now = Utc::now();
    let row = definition::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        code: Set(ORDER_APPROVAL.into()),
        name_zh: Set("订单审批".into()),
        name_id: Set("Persetujuan pesanan".into()),
        description_zh: Set(Some("订单提交后由经理审核，运营分配并办理，直至完成。".into())),
        description_id: Set(Some(
            "Pesanan ditinjau manajer, dialokasikan dan diproses operasional hingga selesai.".into(),
        )),
        workflow_type: Set(ORDER_APPROVAL.into()),
        business_type: Set("order".into()),
        definition_json: Set(order_approval_json()),
        version: Set(1),
        is_active: Set(true),
        auto_start: Set(auto_start),
        created_by: Set(None),
        updated_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    definition::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([definition::Column::OrganizationId, definition::Column::Code]).do_nothing().to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
