use super::dto::{
    CreateEmployee, EmployeeDetail, EmployeeView, ListEmployees, SortBy, SortOrder, Status, UpdateEmployee,
};
use super::service;
use crate::AppState;
use crate::auth::password;
use crate::organizations::model::employee;
use crate::organizations::service as orgs;
use crate::perm::{UserCreate, UserDelete, UserList, UserUpdate, UserView};
use crate::users::dto::ResetPassword;
use crate::users::model::user;
use crate::users::service::{self as users, NewAccount};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, ExprTrait, Query as Select};
use sea_orm::{ColumnTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Create an employee
///
/// A new account that joins the caller's organization with `role_id`, on `position_id`.
#[utoipa::path(
    post,
    path = "/api/foundation/employees",
    tag = "employees",
    request_body = CreateEmployee,
    responses(
        (status = 200, description = "The new employee", body = Envelope<EmployeeView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<UserCreate>,
    Json(body): Json<CreateEmployee>,
) -> ApiResult<Response> {
    let mut v = Validator::new();
    v.email("email", &body.email).optional_length("full_name", body.full_name.as_deref(), 100);
    if let Some(name) = &body.username {
        v.length("username", name, 1, 50);
    }
    v.finish()?;
    password::check_policy("password", &body.password)?;
    let org = caller.organization_id;
    orgs::ensure_open(&orgs::find_visible(&state.db, &caller, org).await?)?;
    service::ensure_role(&state.db, &caller, body.role_id).await?;
    service::ensure_position(&state.db, org, body.position_id).await?;
    let password_hash = state.passwords.hash(&body.password).await?;
    let username = body.username.map(|u| u.trim().to_owned()).unwrap_or_else(|| users::default_username(&body.email));
    let txn = crm_common::db::begin_write(&state.db).await?;
    let created = users::insert_account(
        &txn,
        NewAccount {
            email: body.email,
            username,
            password_hash,
            display_name: body.full_name,
            phone: None,
            gender: None,
            organization_id: org,
            role_ids: vec![body.role_id],
            is_manager: false,
            position: None,
            position_id: body.position_id,
            is_active: body.status.is_none_or(Status::is_active),
            created_by: Some(caller.user_id),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ok(service::view(&state.db, org, created).await?))
}

/// List employees
///
/// The caller's organization's employees, newest first unless `sort_by`/`sort_order` say otherwise.
#[utoipa::path(
    get,
    path = "/api/foundation/employees",
    tag = "employees",
    params(ListEmployees),
    responses(
        (status = 200, description = "A page of employees", body = Envelope<Page<EmployeeView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<UserList>,
    Query(q): Query<ListEmployees>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let org = caller.organization_id;
    let mut query = user::Entity::find()
        .filter(user::Column::Id.in_subquery(users::members_of(org)))
        .filter(user::Column::DeletedAt.is_null());
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(users::matching(search));
    }
    if let Some(status) = q.status {
        query = query.filter(user::Column::IsActive.eq(status.is_active()));
    }
    if let Some(role_id) = q.role_id {
        query = query.filter(user::Column::Id.in_subquery(users::holders_of(role_id)));
    }
    if let Some(position_id) = q.position_id {
        let holders = Select::select()
            .column(employee::Column::UserId)
            .from(employee::Entity)
            .and_where(employee::Column::OrganizationId.eq(org))
            .and_where(employee::Column::PositionId.eq(position_id))
            .and_where(employee::Column::IsActive.eq(true))
            .to_owned();
        query = query.filter(user::Column::Id.in_subquery(holders));
    }
    let order = match q.sort_order {
        Some(SortOrder::Asc) => Order::Asc,
        Some(SortOrder::Desc) | None => Order::Desc,
    };
    let column = match q.sort_by.unwrap_or(SortBy::CreatedAt) {
        SortBy::CreatedAt => user::Column::CreatedAt,
        SortBy::FullName => user::Column::DisplayName,
        SortBy::Username => user::Column::Username,
    };
    // The id breaks ties, so that pages neither repeat nor skip rows.
    let paginator = query.order_by(column, order.clone()).order_by(user::Column::Id, order).paginate(&state.db, size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(ok(Page::new(service::views(&state.db, org, rows).await?, total, page, size)))
}

/// Get an employee
#[utoipa::path(
    get,
    path = "/api/foundation/employees/{employee_id}",
    tag = "employees",
    params(("employee_id" = Uuid, Path, description = "The employee's (user's) id")),
    responses(
        (status = 200, description = "The employee and their work-log figures", body = Envelope<EmployeeDetail>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<UserView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let org = caller.organization_id;
    let found = service::find(&state.db, org, id).await?;
    let employee = service::view(&state.db, org, found).await?;
    Ok(ok(EmployeeDetail { employee, work_logs: crate::worklogs::service::stats(&state.db, id).await? }))
}

/// Update an employee
#[utoipa::path(
    put,
    path = "/api/foundation/employees/{employee_id}",
    tag = "employees",
    params(("employee_id" = Uuid, Path, description = "The employee's (user's) id")),
    request_body = UpdateEmployee,
    responses(
        (status = 200, description = "The updated employee", body = Envelope<EmployeeView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<UserUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateEmployee>,
) -> ApiResult<Response> {
    let org = caller.organization_id;
    let found = service::find(&state.db, org, id).await?;
    let mut v = Validator::new();
    if let Some(email) = &body.email {
        v.email("email", email);
    }
    v.optional_length("full_name", body.full_name.as_deref(), 100).check(
        !(caller.user_id == id && body.status == Some(Status::Inactive)),
        "status",
        "you cannot deactivate your own account",
    );
    v.finish()?;
    if let Some(email) = &body.email
        && users::email_taken(&state.db, email, Some(id)).await?
    {
        return Err(ApiError::conflict("e-mail already exists"));
    }
    if let Some(role_id) = body.role_id {
        service::ensure_role(&state.db, &caller, role_id).await?;
    }
    if let Some(position_id) = body.position_id {
        service::ensure_position(&state.db, org, position_id).await?;
    }
    let before = service::view(&state.db, org, found.clone()).await?;
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(user::Column::Version, Expr::col(user::Column::Version).add(1));
    if let Some(email) = &body.email {
        update = update.col_expr(user::Column::Email, Expr::value(email.trim().to_lowercase()));
    }
    if let Some(name) = &body.full_name {
        let name = name.trim();
        update = update.col_expr(user::Column::DisplayName, Expr::value((!name.is_empty()).then(|| name.to_owned())));
    }
    if let Some(status) = body.status {
        update = update.col_expr(user::Column::IsActive, Expr::value(status.is_active()));
    }
    let txn = crm_common::db::begin_write(&state.db).await?;
    update.filter(user::Column::Id.eq(id)).exec(&txn).await?;
    if let Some(position_id) = body.position_id {
        service::place(&txn, org, id, position_id).await?;
    }
    if let Some(role_id) = body.role_id {
        users::replace_roles(&txn, id, &[role_id]).await?;
    }
    txn.commit().await?;
    if body.status == Some(Status::Inactive) {
        crate::auth::tokens::revoke_user(&state.db, id, crate::auth::sessions::EndReason::Deactivated).await?;
    }
    crate::users::changed(&state, id).await;
    let updated = service::find(&state.db, org, id).await?;
    Ok(with_before(ok(service::view(&state.db, org, updated).await?), &before))
}

/// Delete an employee
///
/// The same soft delete as `DELETE /users/{id}`; `PUT /users/{id}/restore` brings the account back.
#[utoipa::path(
    delete,
    path = "/api/foundation/employees/{employee_id}",
    tag = "employees",
    params(("employee_id" = Uuid, Path, description = "The employee's (user's) id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<UserDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    if caller.user_id == id {
        return Err(ApiError::bad_request("you cannot delete your own account"));
    }
    let org = caller.organization_id;
    let found = service::find(&state.db, org, id).await?;
    let before = service::view(&state.db, org, found.clone()).await?;
    crate::users::set_deleted(&state, found, true).await?;
    Ok(with_before(ok(()), &before))
}

/// Reset an employee's password
///
/// Every session of the employee ends.
#[utoipa::path(
    post,
    path = "/api/foundation/employees/{employee_id}/reset-password",
    tag = "employees",
    params(("employee_id" = Uuid, Path, description = "The employee's (user's) id")),
    request_body = ResetPassword,
    responses(
        (status = 200, description = "Password set", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Authorized<UserUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<ResetPassword>,
) -> ApiResult<Response> {
    let target = service::find(&state.db, caller.organization_id, id).await?;
    crate::users::reset_to(&state, target.id, &body.new_password).await?;
    Ok(ok(()))
}
