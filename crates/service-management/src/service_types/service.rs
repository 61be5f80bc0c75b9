//! The service type rules: a code of 1–50 characters, unique; a required name; a display order
//! of 0 or more; no deletion while products use the type.

use super::model as service_type;
use crate::products::model as product;
use crm_common::api::validate::Validator;
use crm_common::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// The longest code the column holds.
pub const CODE_MAX: usize = 50;

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<service_type::Model> {
    service_type::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("service type"))
}

/// Checks the fields a request sets (`None` = not sent, so not checked).
pub fn validate(
    code: Option<&str>,
    name: Option<&str>,
    name_en: Option<&str>,
    display_order: Option<i32>,
) -> ApiResult<()> {
    let mut v = Validator::new();
    if let Some(c) = code {
        v.length("code", c.trim(), 1, CODE_MAX);
    }
    if let Some(n) = name {
        v.length("name", n.trim(), 1, 255);
    }
    v.optional_length("name_en", name_en.map(str::trim), 255);
    v.check(display_order.is_none_or(|d| d >= 0), "display_order", "must be 0 or more").finish()
}

/// A conflict when another service type already has `code`.
pub async fn check_code_free(db: &impl ConnectionTrait, code: &str) -> ApiResult<()> {
    let taken = service_type::Entity::find().filter(service_type::Column::Code.eq(code)).count(db).await?;
    if taken > 0 {
        return Err(ApiError::conflict(format!("service type code {code} already exists")));
    }
    Ok(())
}

/// Products pointing at a service type would be left dangling (and the foreign key refuses it):
/// a conflict naming how many there are.
pub async fn check_unused(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<()> {
    let products = product::Entity::find().filter(product::Column::ServiceTypeId.eq(id)).count(db).await?;
    if products > 0 {
        return Err(ApiError::conflict(format!(
            "the service type is used by {products} products; change or delete them first"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: ApiResult<()>) -> Vec<String> {
        match r {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn codes_names_and_orders_are_bounded() {
        assert!(fields(validate(Some("LANDING_VISA"), Some("落地签"), Some("Landing visa"), Some(0))).is_empty());
        assert_eq!(fields(validate(Some(" "), Some("x"), None, None)), ["code"]);
        assert_eq!(fields(validate(Some(&"C".repeat(51)), None, None, None)), ["code"]);
        assert!(fields(validate(Some(&"C".repeat(50)), None, None, None)).is_empty());
        assert_eq!(
            fields(validate(None, Some(""), Some(&"e".repeat(256)), Some(-1))),
            ["name", "name_en", "display_order"]
        );
        // An update that sends nothing checks nothing.
        assert!(fields(validate(None, None, None, None)).is_empty());
    }
}
