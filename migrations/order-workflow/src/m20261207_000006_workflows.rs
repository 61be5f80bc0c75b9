//! The workflow engine's tables: definitions (per organization, unique by code), instances bound
//! to an order or a service record, the tasks people complete, and the transitions a completion
//! records. An instance keeps a snapshot of the definition it started with, so editing a
//! definition never strands a running instance on a stage that no longer exists. A transition
//! names the task whose completion made it, unique: however completions race, one task moves
//! its instance once. Tasks without an instance are people's own to-dos attached to a record
//! (seed 003's tasks on deals).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowDefinitions {
    Table,
    Id,
    OrganizationId,
    Code,
    NameZh,
    NameId,
    DescriptionZh,
    DescriptionId,
    WorkflowType,
    BusinessType,
    DefinitionJson,
    Version,
    IsActive,
    AutoStart,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowInstances {
    Table,
    Id,
    OrganizationId,
    WorkflowDefinitionId,
    DefinitionCode,
    DefinitionSnapshot,
    BusinessType,
    BusinessId,
    CurrentStage,
    Status,
    StartedBy,
    StartedAt,
    CompletedAt,
    Variables,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowTasks {
    Table,
    Id,
    OrganizationId,
    WorkflowInstanceId,
    StageCode,
    TaskCode,
    TaskNameZh,
    TaskNameId,
    Description,
    TaskType,
    Action,
    AssignRule,
    AssignedToUserId,
    AssignedToRole,
    BusinessType,
    BusinessId,
    Status,
    DueDate,
    CompletedAt,
    CompletedBy,
    Result,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowTransitions {
    Table,
    Id,
    OrganizationId,
    WorkflowInstanceId,
    TaskId,
    FromStage,
    ToStage,
    TransitionCondition,
    TriggeredBy,
    TriggeredAt,
    Notes,
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowDefinitions as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(uuid(D::Id).primary_key())
                .col(uuid(D::OrganizationId))
                .col(string_len(D::Code, 100))
                .col(string_len(D::NameZh, 255))
                .col(string_len(D::NameId, 255))
                .col(text_null(D::DescriptionZh))
                .col(text_null(D::DescriptionId))
                .col(string_len(D::WorkflowType, 50))
                .col(string_len(D::BusinessType, 30))
                .col(json(D::DefinitionJson))
                .col(integer(D::Version).default(1))
                .col(boolean(D::IsActive).default(true))
                .col(boolean(D::AutoStart).default(false))
                .col(uuid_null(D::CreatedBy))
                .col(uuid_null(D::UpdatedBy))
                .col(timestamp_with_time_zone(D::CreatedAt))
                .col(timestamp_with_time_zone(D::UpdatedAt))
                .check(Expr::col(D::WorkflowType).is_in(["order_approval", "delivery_review", "payment_approval"]))
                .check(Expr::col(D::BusinessType).is_in(["order", "service_record"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_workflow_definitions_code", D::Table, &[D::OrganizationId, D::Code]).unique().to_owned(),
        )
        .await?;

        use WorkflowInstances as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(uuid(I::Id).primary_key())
                .col(uuid(I::OrganizationId))
                .col(uuid_null(I::WorkflowDefinitionId))
                .col(string_len(I::DefinitionCode, 100))
                .col(json(I::DefinitionSnapshot))
                .col(string_len(I::BusinessType, 30))
                .col(uuid(I::BusinessId))
                .col(string_len(I::CurrentStage, 100))
                .col(string_len(I::Status, 20).default("running"))
                .col(uuid_null(I::StartedBy))
                .col(timestamp_with_time_zone(I::StartedAt))
                .col(timestamp_with_time_zone_null(I::CompletedAt))
                .col(json(I::Variables))
                .col(timestamp_with_time_zone(I::UpdatedAt))
                .check(Expr::col(I::Status).is_in(["running", "completed", "cancelled", "suspended"]))
                .check(Expr::col(I::BusinessType).is_in(["order", "service_record"]))
                .foreign_key(
                    ForeignKey::create()
                        .from(I::Table, I::WorkflowDefinitionId)
                        .to(D::Table, D::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_workflow_instances_business",
            I::Table,
            &[I::OrganizationId, I::BusinessType, I::BusinessId],
        ))
        .await?;

        use WorkflowTasks as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(uuid(T::Id).primary_key())
                .col(uuid(T::OrganizationId))
                .col(uuid_null(T::WorkflowInstanceId))
                .col(string_len_null(T::StageCode, 100))
                .col(string_len_null(T::TaskCode, 100))
                .col(string_len(T::TaskNameZh, 255))
                .col(string_len(T::TaskNameId, 255))
                .col(text_null(T::Description))
                .col(string_len_null(T::TaskType, 20))
                .col(string_len_null(T::Action, 50))
                .col(string_len_null(T::AssignRule, 50))
                .col(uuid_null(T::AssignedToUserId))
                .col(string_len_null(T::AssignedToRole, 50))
                .col(string_len_null(T::BusinessType, 30))
                .col(uuid_null(T::BusinessId))
                .col(string_len(T::Status, 20).default("pending"))
                .col(date_null(T::DueDate))
                .col(timestamp_with_time_zone_null(T::CompletedAt))
                .col(uuid_null(T::CompletedBy))
                .col(json_null(T::Result))
                .col(uuid_null(T::CreatedBy))
                .col(timestamp_with_time_zone(T::CreatedAt))
                .col(timestamp_with_time_zone(T::UpdatedAt))
                .check(Expr::col(T::Status).is_in(["pending", "in_progress", "completed", "cancelled"]))
                .check(Expr::col(T::TaskType).is_null().or(Expr::col(T::TaskType).is_in([
                    "user_task",
                    "service_task",
                    "script_task",
                ])))
                .foreign_key(
                    ForeignKey::create()
                        .from(T::Table, T::WorkflowInstanceId)
                        .to(I::Table, I::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_workflow_tasks_user",
            T::Table,
            &[T::OrganizationId, T::AssignedToUserId, T::Status, T::DueDate],
        ))
        .await?;
        m.create_index(index("idx_workflow_tasks_role", T::Table, &[T::OrganizationId, T::AssignedToRole, T::Status]))
            .await?;
        m.create_index(index("idx_workflow_tasks_instance", T::Table, &[T::WorkflowInstanceId])).await?;

        use WorkflowTransitions as X;
        m.create_table(
            Table::create()
                .table(X::Table)
                .col(uuid(X::Id).primary_key())
                .col(uuid(X::OrganizationId))
                .col(uuid(X::WorkflowInstanceId))
                .col(uuid_null(X::TaskId))
                .col(string_len_null(X::FromStage, 100))
                .col(string_len(X::ToStage, 100))
                .col(text_null(X::TransitionCondition))
                .col(uuid_null(X::TriggeredBy))
                .col(timestamp_with_time_zone(X::TriggeredAt))
                .col(text_null(X::Notes))
                .foreign_key(
                    ForeignKey::create()
                        .from(X::Table, X::WorkflowInstanceId)
                        .to(I::Table, I::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One transition per completed task, whatever races (null for an instance's start).
        m.create_index(index("uq_workflow_transitions_task", X::Table, &[X::TaskId]).unique().to_owned()).await?;
        m.create_index(index("idx_workflow_transitions_instance", X::Table, &[X::WorkflowInstanceId, X::TriggeredAt]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            WorkflowTransitions::Table.into_iden(),
            WorkflowTasks::Table.into_iden(),
            WorkflowInstances::Table.into_iden(),
            WorkflowDefinitions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
