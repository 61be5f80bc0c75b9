//! Offline sync (seed 004) for customers, contacts and follow-ups: change numbers handed out in
//! commit order per organization, and tombstones of deletions.

pub mod model;
pub mod service;
