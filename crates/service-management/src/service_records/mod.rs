//! Service records: what each customer needs.

pub mod model;
