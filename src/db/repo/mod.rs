//! All SQL: synchronous functions taking a connection. Not-found is `Option`, never an error.

pub mod audit;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod identities;
pub mod login_failures;
pub mod mail_outbox;
pub mod one_time_tokens;
pub mod rate_limits;
pub mod refresh_tokens;
pub mod revoked;
pub mod roles;
pub mod sessions;
pub mod stats;
pub mod upstream_logins;
pub mod user_admin;
pub mod users;
