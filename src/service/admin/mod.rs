//! Use cases of the admin console, free of HTTP. Every change is audited with the
//! administrator as actor, in the transaction that makes it.

pub mod audit;
pub mod clients;
pub mod dashboard;
pub mod keys;
pub mod roles;
pub mod sessions;
pub mod users;
