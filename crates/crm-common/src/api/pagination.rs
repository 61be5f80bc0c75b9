use super::error::ApiError;
use serde::{Deserialize, Serialize};

/// `page` (from 1) and `size` (`page_size` accepted too), bounded per endpoint.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct PageParams {
    pub page: Option<u64>,
    pub size: Option<u64>,
    pub page_size: Option<u64>,
}

/// The last page anyone can ask for: far past any result, while the row offset it makes stays
/// well inside what the databases (and the arithmetic on the way) can hold.
pub const MAX_PAGE: u64 = 1_000_000_000;

impl PageParams {
    /// `(page, size)` with the endpoint's default and maximum size; out of range → 400.
    pub fn resolve(&self, default_size: u64, max_size: u64) -> Result<(u64, u64), ApiError> {
        let page = self.page.unwrap_or(1);
        if page == 0 || page > MAX_PAGE {
            return Err(ApiError::field("page", format!("must be between 1 and {MAX_PAGE}")));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(page: Option<u64>, size: Option<u64>) -> Result<(u64, u64), ApiError> {
        PageParams { page, size, page_size: None }.resolve(20, 100)
    }

    #[test]
    fn pages_and_sizes_are_bounded() {
        assert_eq!(resolve(None, None).unwrap(), (1, 20));
        assert_eq!(resolve(Some(MAX_PAGE), Some(100)).unwrap(), (MAX_PAGE, 100));
        assert!(matches!(resolve(Some(0), None), Err(ApiError::Validation(f)) if f[0].field == "page"));
        // A page whose row offset would overflow is refused, not computed.
        assert!(matches!(resolve(Some(MAX_PAGE + 1), None), Err(ApiError::Validation(f)) if f[0].field == "page"));
        assert!(matches!(resolve(Some(u64::MAX), Some(100)), Err(ApiError::Validation(f)) if f[0].field == "page"));
        assert!(matches!(resolve(None, Some(101)), Err(ApiError::Validation(f)) if f[0].field == "size"));
        assert_eq!(PageParams { page: None, size: None, page_size: Some(5) }.resolve(20, 100).unwrap(), (1, 5));
    }
}
