use super::model::organization;
use chrono::{DateTime, NaiveDate, Utc};
use crm_common::api::validate::Validator;
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const TYPES: &[&str] = &["internal", "vendor", "agent"];
pub const SIZES: &[&str] = &["micro", "small", "medium", "large", "enterprise"];
pub const NATURES: &[&str] =
    &["state_owned", "private", "foreign", "joint_venture", "collective", "individual", "other"];
pub const COMPANY_TYPES: &[&str] = &["limited", "unlimited", "partnership", "sole_proprietorship", "other"];
pub const STATUSES: &[&str] = &["normal", "cancelled", "revoked", "liquidated", "other"];

/// Fields a client may set on create and on update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct OrgFields {
    pub name: Option<String>,
    pub code: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub logo_url: Option<String>,
    pub description: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state_province: Option<String>,
    pub postal_code: Option<String>,
    pub country_region: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    /// `micro`, `small`, `medium`, `large` or `enterprise`.
    pub company_size: Option<String>,
    /// `state_owned`, `private`, `foreign`, `joint_venture`, `collective`, `individual` or `other`.
    pub company_nature: Option<String>,
    /// `limited`, `unlimited`, `partnership`, `sole_proprietorship` or `other`.
    pub company_type: Option<String>,
    /// `normal`, `cancelled`, `revoked`, `liquidated` or `other`.
    pub company_status: Option<String>,
    pub industry: Option<String>,
    pub registration_number: Option<String>,
    pub tax_id: Option<String>,
    pub legal_representative: Option<String>,
    pub established_date: Option<NaiveDate>,
    pub employee_count: Option<i32>,
    pub certifications: Option<Vec<String>>,
    pub is_active: Option<bool>,
}

impl OrgFields {
    pub fn validate(&self, v: &mut Validator) {
        if let Some(name) = &self.name {
            v.length("name", name, 1, 255);
        }
        if let Some(code) = &self.code {
            v.length("code", code, 1, 100);
        }
        if let Some(email) = &self.email {
            v.email("email", email);
        }
        v.one_of("company_size", self.company_size.as_deref(), SIZES)
            .one_of("company_nature", self.company_nature.as_deref(), NATURES)
            .one_of("company_type", self.company_type.as_deref(), COMPANY_TYPES)
            .one_of("company_status", self.company_status.as_deref(), STATUSES)
            .optional_length("phone", self.phone.as_deref(), 50)
            .optional_length("website", self.website.as_deref(), 500)
            .optional_length("logo_url", self.logo_url.as_deref(), 500)
            .optional_length("description", self.description.as_deref(), 5000)
            .optional_length("country_code", self.country_code.as_deref(), 10)
            .check(self.employee_count.is_none_or(|n| n >= 0), "employee_count", "must not be negative");
    }

    pub fn apply(self, m: &mut organization::ActiveModel) {
        let opt = crate::patch::set_text;
        if let Some(name) = self.name {
            m.name = Set(name.trim().to_owned());
        }
        opt(&mut m.code, self.code);
        opt(&mut m.email, self.email.map(|e| e.to_lowercase()));
        opt(&mut m.phone, self.phone);
        opt(&mut m.website, self.website);
        opt(&mut m.logo_url, self.logo_url);
        opt(&mut m.description, self.description);
        opt(&mut m.street, self.street);
        opt(&mut m.city, self.city);
        opt(&mut m.state_province, self.state_province);
        opt(&mut m.postal_code, self.postal_code);
        opt(&mut m.country_region, self.country_region);
        opt(&mut m.country, self.country);
        opt(&mut m.country_code, self.country_code);
        opt(&mut m.company_size, self.company_size);
        opt(&mut m.company_nature, self.company_nature);
        opt(&mut m.company_type, self.company_type);
        opt(&mut m.company_status, self.company_status);
        opt(&mut m.industry, self.industry);
        opt(&mut m.registration_number, self.registration_number);
        opt(&mut m.tax_id, self.tax_id);
        opt(&mut m.legal_representative, self.legal_representative);
        if let Some(d) = self.established_date {
            m.established_date = Set(Some(d));
        }
        if let Some(n) = self.employee_count {
            m.employee_count = Set(Some(n));
        }
        if let Some(c) = self.certifications {
            m.certifications = Set(Some(serde_json::json!(c)));
        }
        if let Some(a) = self.is_active {
            m.is_active = Set(a);
        }
    }
}

/// `name` is required; the organization's admin account is created with it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOrganization {
    /// `internal`, `vendor` or `agent`.
    pub organization_type: String,
    #[serde(flatten)]
    pub fields: OrgFields,
    /// Password of the auto-created organization admin; generated (and returned once) when absent.
    pub admin_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateOrganization {
    #[serde(flatten)]
    pub fields: OrgFields,
    /// Platform administrators only.
    pub is_locked: Option<bool>,
    /// Optimistic locking: when given and stale, the update is refused with 409.
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrganizations {
    /// From 1.
    pub page: Option<u64>,
    /// 1–1000, default 10 (the admin frontend fills its drop-downs with `size=1000`).
    pub size: Option<u64>,
    /// Alias of `size`.
    pub page_size: Option<u64>,
    /// Substring of the name, case-insensitive.
    pub name: Option<String>,
    /// Exact code.
    pub code: Option<String>,
    /// `internal`, `vendor` or `agent`; anything else is a 400.
    pub organization_type: Option<String>,
    pub is_active: Option<bool>,
    pub is_locked: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub organization_type: String,
    pub is_locked: bool,
    /// Business domains, primary first; managed through `/organization-domains`.
    pub domains: Vec<crate::domains::service::DomainRef>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub logo_url: Option<String>,
    pub description: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state_province: Option<String>,
    pub postal_code: Option<String>,
    pub country_region: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub company_size: Option<String>,
    pub company_nature: Option<String>,
    pub company_type: Option<String>,
    pub company_status: Option<String>,
    pub industry: Option<String>,
    pub registration_number: Option<String>,
    pub tax_id: Option<String>,
    pub legal_representative: Option<String>,
    pub established_date: Option<NaiveDate>,
    pub employee_count: Option<i32>,
    /// A list of certification names.
    #[schema(value_type = Option<Vec<String>>)]
    pub certifications: Option<serde_json::Value>,
    pub is_active: bool,
    pub is_verified: bool,
    /// Active members.
    pub employees_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// The id an imported organization had in the system it came from; set by imports only.
    pub external_id: Option<String>,
    /// The original's parent organization (a hierarchy it deprecated); set by imports only.
    pub parent_id: Option<Uuid>,
}

/// `POST /organizations`: the organization and its auto-created admin account.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOrganization {
    #[serde(flatten)]
    pub organization: OrgView,
    pub admin_user: AdminUser,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUser {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    /// The generated password, returned this once; null when `admin_password` was given.
    pub initial_password: Option<String>,
}

impl OrgView {
    pub fn new(o: organization::Model, employees_count: u64, domains: Vec<crate::domains::service::DomainRef>) -> Self {
        Self {
            id: o.id,
            name: o.name,
            code: o.code,
            organization_type: o.organization_type,
            is_locked: o.is_locked,
            domains,
            email: o.email,
            phone: o.phone,
            website: o.website,
            logo_url: o.logo_url,
            description: o.description,
            street: o.street,
            city: o.city,
            state_province: o.state_province,
            postal_code: o.postal_code,
            country_region: o.country_region,
            country: o.country,
            country_code: o.country_code,
            company_size: o.company_size,
            company_nature: o.company_nature,
            company_type: o.company_type,
            company_status: o.company_status,
            industry: o.industry,
            registration_number: o.registration_number,
            tax_id: o.tax_id,
            legal_representative: o.legal_representative,
            established_date: o.established_date,
            employee_count: o.employee_count,
            certifications: o.certifications,
            is_active: o.is_active,
            is_verified: o.is_verified,
            employees_count,
            created_at: o.created_at,
            updated_at: o.updated_at,
            version: o.version,
            external_id: o.external_id,
            parent_id: o.parent_id,
        }
    }
}
