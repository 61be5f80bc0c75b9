//! Contacts: the people to talk to at a customer.

pub mod model;
