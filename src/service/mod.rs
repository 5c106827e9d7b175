//! Use cases, free of HTTP: the CLI and the handlers call these.

pub mod account;
pub mod accounts;
pub mod admin;
pub mod audit;
pub mod clients;
pub mod identities;
pub mod lockout;
pub mod login;
pub mod maintenance;
pub mod oidc;
pub mod rate_limit;
pub mod sessions;
pub mod upstream;
pub mod users;

/// Now, as the naive UTC timestamp the schema stores.
pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
