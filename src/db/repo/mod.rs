//! All SQL: synchronous functions taking a connection. Not-found is `Option`, never an error.

pub mod audit;
pub mod clients;
pub mod users;
