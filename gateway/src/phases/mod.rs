//! The request phases, in the order a request meets them.

pub mod authenticate;
pub mod edge;
pub mod identify;
pub mod limit;
pub mod log;
pub mod login;
pub mod proxy;
pub mod route;
