use super::error::ApiError;
use serde::{Deserialize, Serialize};

/// `page` (from 1) and `size` (`page_size` accepted too), bounded per endpoint.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct PageParams {
    pub page: Option<u64>,
    pub size: Option<u64>,
    pub page_size: Option<u64>,
}

impl PageParams {
    /// `(page, size)` with the endpoint's default and maximum size; out of range → 400.
    pub fn resolve(&self, default_size: u64, max_size: u64) -> Result<(u64, u64), ApiError> {
        let page = self.page.unwrap_or(1);
        if page == 0 {
            return Err(ApiError::field("page", "must be at least 1"));
        }
        let size = self.size.or(self.page_size).unwrap_or(default_size);
        if size == 0 || size > max_size {
            return Err(ApiError::field("size", format!("must be between 1 and {max_size}")));
        }
        Ok((page, size))
    }
}

fn pages(total: u64, size: u64) -> u64 {
    if size == 0 { 0 } else { total.div_ceil(size) }
}

/// The convention for new endpoints: `{items, total, page, size, pages}`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub size: u64,
    pub pages: u64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: u64, page: u64, size: u64) -> Self {
        Self { items, total, page, size, pages: pages(total, size) }
    }
}

/// The original's users/organizations shape: `{records, total, size, current, pages}`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordsPage<T> {
    pub records: Vec<T>,
    pub total: u64,
    pub size: u64,
    pub current: u64,
    pub pages: u64,
}

impl<T> RecordsPage<T> {
    pub fn new(records: Vec<T>, total: u64, page: u64, size: u64) -> Self {
        Self { records, total, size, current: page, pages: pages(total, size) }
    }
}
