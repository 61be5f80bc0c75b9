use super::dto::{
    AdminUser, CreateOrganization, CreatedOrganization, ListOrganizations, OrgView, TYPES, UpdateOrganization,
};
use super::model::organization;
use super::service;
use crate::AppState;
use crate::access::require_platform_admin;
use crate::auth::password;
use crate::perm::{
    OrganizationCreate, OrganizationDelete, OrganizationList, OrganizationLock, OrganizationUpdate, OrganizationView,
};
use crate::roles::model as role;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, RecordsPage, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Create an organization
///
/// Platform administrators only. The organization gets an admin account (`ADMIN` role) whose
/// password is `admin_password`, or a generated one returned once.
#[utoipa::path(
    post,
    path = "/api/foundation/organizations",
    tag = "organizations",
    request_body = CreateOrganization,
    responses(
        (status = 200, description = "The organization and its admin account", body = Envelope<CreatedOrganization>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<OrganizationCreate>,
    Json(body): Json<CreateOrganization>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "create organizations")?;
    let mut v = Validator::new();
    v.one_of("organization_type", Some(body.organization_type.as_str()), TYPES);
    if body.fields.name.is_none() {
        v.add("name", "is required");
    }
    body.fields.validate(&mut v);
    v.finish()?;
    if let Some(pw) = &body.admin_password {
        password::check_policy("admin_password", pw)?;
    }
    if let Some(code) = &body.fields.code
        && service::code_taken(&state.db, code.trim(), None).await?
    {
        return Err(ApiError::conflict("organization code already exists"));
    }
    let admin_role = role::Entity::find()
        .filter(role::Column::Code.eq("ADMIN"))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::internal("preset role ADMIN missing"))?;
    let (admin_password, generated) = match body.admin_password {
        Some(p) => (p, false),
        None => (password::generate(), true),
    };
    let password_hash = state.passwords.hash(&admin_password).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    let code = match body.fields.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => c.to_owned(),
        None => service::generate_code(&txn, &body.organization_type).await?,
    };
    let now = Utc::now();
    let mut active = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_type: Set(body.organization_type),
        code: Set(Some(code)),
        is_active: Set(true),
        is_locked: Set(false),
        is_verified: Set(false),
        verified_at: Set(None),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    let mut fields = body.fields;
    fields.code = None;
    fields.apply(&mut active);
    fill_unset(&mut active);
    let org = organization::Entity::insert(active).exec_with_returning(&txn).await?;
    let admin = service::create_admin(&txn, &org, admin_role.id, password_hash, caller.user_id).await?;
    txn.commit().await?;
    let organization = service::view(&state.db, org).await?;
    let admin_user = AdminUser {
        id: admin.id,
        username: admin.username,
        email: admin.email,
        initial_password: generated.then_some(admin_password),
    };
    Ok(ok(CreatedOrganization { organization, admin_user }))
}

/// Optional columns not given in the body are NULL, not "not set", for the INSERT.
fn fill_unset(m: &mut organization::ActiveModel) {
    use sea_orm::ActiveValue::NotSet;
    macro_rules! null_if_unset {
        ($($f:ident),*) => { $( if matches!(m.$f, NotSet) { m.$f = Set(None); } )* };
    }
    null_if_unset!(
        email,
        phone,
        website,
        logo_url,
        description,
        street,
        city,
        state_province,
        postal_code,
        country_region,
        country,
        country_code,
        company_size,
        company_nature,
        company_type,
        company_status,
        industry,
        registration_number,
        tax_id,
        legal_representative,
        established_date,
        employee_count,
        certifications,
        external_id,
        parent_id
    );
    if matches!(m.name, NotSet) {
        m.name = Set(String::new());
    }
}

/// List organizations
///
/// The caller's organizations; every organization for platform administrators.
#[utoipa::path(
    get,
    path = "/api/foundation/organizations",
    tag = "organizations",
    params(ListOrganizations),
    responses(
        (status = 200, description = "A page of organizations", body = Envelope<RecordsPage<OrgView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<OrganizationList>,
    Query(q): Query<ListOrganizations>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }
        .resolve(10, crate::users::dto::MAX_PAGE_SIZE)?;
    let org_type = q.organization_type.as_deref().map(str::trim).filter(|s| !s.is_empty());
    // A type that no organization can have is a mistake in the request, not an empty filter.
    Validator::new().one_of("organization_type", org_type, super::dto::TYPES).finish()?;
    let mut query = organization::Entity::find();
    if !caller.is_platform_admin {
        let mine = sea_orm::sea_query::Query::select()
            .column(super::model::employee::Column::OrganizationId)
            .from(super::model::employee::Entity)
            .and_where(super::model::employee::Column::UserId.eq(caller.user_id))
            .and_where(super::model::employee::Column::IsActive.eq(true))
            .to_owned();
        query = query.filter(organization::Column::Id.in_subquery(mine));
    }
    if let Some(name) = q.name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(crm_common::db::contains_ci(organization::Column::Name, name));
    }
    if let Some(code) = q.code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(organization::Column::Code.eq(code));
    }
    if let Some(t) = org_type {
        query = query.filter(organization::Column::OrganizationType.eq(t));
    }
    if let Some(a) = q.is_active {
        query = query.filter(organization::Column::IsActive.eq(a));
    }
    if let Some(l) = q.is_locked {
        query = query.filter(organization::Column::IsLocked.eq(l));
    }
    let paginator = query
        .order_by_desc(organization::Column::CreatedAt)
        .order_by_desc(organization::Column::Id)
        .paginate(&state.db, size);
    let total = paginator.num_items().await?;
    let orgs = paginator.fetch_page(page - 1).await?;
    Ok(ok(RecordsPage::new(service::views(&state.db, orgs).await?, total, page, size)))
}

/// Get an organization
#[utoipa::path(
    get,
    path = "/api/foundation/organizations/{organization_id}",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The organization", body = Envelope<OrgView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<OrganizationView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let org = service::find_visible(&state.db, &caller, id).await?;
    Ok(ok(service::view(&state.db, org).await?))
}

/// Update an organization
///
/// A stale `version` answers 409 with the organization as it now is.
#[utoipa::path(
    put,
    path = "/api/foundation/organizations/{organization_id}",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    request_body = UpdateOrganization,
    responses(
        (status = 200, description = "The updated organization", body = Envelope<OrgView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<OrganizationUpdate>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateOrganization>,
) -> ApiResult<Response> {
    let org = service::find_visible(&state.db, &caller, id).await?;
    let mut v = Validator::new();
    body.fields.validate(&mut v);
    v.finish()?;
    if let Some(locked) = body.is_locked {
        require_platform_admin(&caller, "lock or unlock organizations")?;
        if locked {
            service::ensure_not_bantu(&org)?;
        }
    }
    if let Some(code) = body.fields.code.as_deref()
        && service::code_taken(&state.db, code.trim(), Some(id)).await?
    {
        return Err(ApiError::conflict("organization code already exists"));
    }
    if body.version.is_some_and(|v| v != org.version) {
        return Err(stale(&state, org).await);
    }
    let version = org.version;
    let before = service::view(&state.db, org.clone()).await?;
    let mut active = org.into_active_model();
    body.fields.apply(&mut active);
    if let Some(locked) = body.is_locked {
        active.is_locked = Set(locked);
    }
    active.updated_at = Set(Utc::now());
    active.version = Set(version + 1);
    let result = organization::Entity::update_many()
        .set(active)
        .filter(organization::Column::Id.eq(id))
        .filter(organization::Column::Version.eq(version))
        .exec(&state.db)
        .await?;
    let current = organization::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    if result.rows_affected != 1 {
        return Err(stale(&state, current).await);
    }
    crate::authz::invalidate_all(&state.cache).await;
    Ok(with_before(ok(service::view(&state.db, current).await?), &before))
}

async fn stale(state: &AppState, current: organization::Model) -> ApiError {
    let current = service::view(&state.db, current).await.ok().and_then(|v| serde_json::to_value(v).ok());
    ApiError::Conflict { message: "the organization was changed by someone else; reload and retry".into(), current }
}

/// Lock an organization
///
/// Platform administrators only; every member is cut off at once (login, refresh, live tokens).
#[utoipa::path(
    post,
    path = "/api/foundation/organizations/{organization_id}/lock",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The locked organization", body = Envelope<OrgView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn lock(
    State(state): State<AppState>,
    caller: Authorized<OrganizationLock>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    set_locked(&state, &caller, id, true).await
}

/// Unlock an organization
#[utoipa::path(
    post,
    path = "/api/foundation/organizations/{organization_id}/unlock",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The unlocked organization", body = Envelope<OrgView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Authorized<OrganizationLock>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    set_locked(&state, &caller, id, false).await
}

/// Locking cuts every member off (login, refresh and live tokens); data is kept.
async fn set_locked(
    state: &AppState,
    caller: &crm_common::auth::Principal,
    id: Uuid,
    locked: bool,
) -> ApiResult<Response> {
    require_platform_admin(caller, "lock or unlock organizations")?;
    let org = service::find_visible(&state.db, caller, id).await?;
    if locked {
        service::ensure_not_bantu(&org)?;
    }
    let before = service::view(&state.db, org).await?;
    set_state(state, id, locked, None).await?;
    let org = service::find_visible(&state.db, caller, id).await?;
    Ok(with_before(ok(service::view(&state.db, org).await?), &before))
}

/// Sets the lock (and, given, the active flag) and drops every cached permission set, since
/// either cuts the members off or lets them back.
async fn set_state(state: &AppState, id: Uuid, locked: bool, active: Option<bool>) -> ApiResult<()> {
    service::set_state(&state.db, id, locked, active).await?;
    crate::authz::invalidate_all(&state.cache).await;
    Ok(())
}

/// Delete an organization
///
/// Platform administrators only. The organization is locked and deactivated: every member is cut
/// off at once, and its data is kept; `PUT …/restore` brings it back.
#[utoipa::path(
    delete,
    path = "/api/foundation/organizations/{organization_id}",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<OrganizationDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "delete organizations")?;
    let org = service::find_visible(&state.db, &caller, id).await?;
    service::ensure_deletable(&org)?;
    let before = service::view(&state.db, org).await?;
    set_state(&state, id, true, Some(false)).await?;
    Ok(with_before(ok(()), &before))
}

/// Restore a deleted organization
///
/// Platform administrators only: unlocked and active again, its members can log in again.
#[utoipa::path(
    put,
    path = "/api/foundation/organizations/{organization_id}/restore",
    tag = "organizations",
    params(("organization_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The restored organization", body = Envelope<OrgView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn restore(
    State(state): State<AppState>,
    caller: Authorized<OrganizationDelete>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    require_platform_admin(&caller, "restore organizations")?;
    let org = service::find_visible(&state.db, &caller, id).await?;
    service::ensure_deleted(&org)?;
    let before = service::view(&state.db, org).await?;
    set_state(&state, id, false, Some(true)).await?;
    let org = service::find_visible(&state.db, &caller, id).await?;
    Ok(with_before(ok(service::view(&state.db, org).await?), &before))
}
