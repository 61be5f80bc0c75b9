//! Partial updates; shared with the other services through crm-common.

pub use crm_common::api::patch::{nullable, set_text};
