//! Use cases, free of HTTP: the CLI and the handlers call these.

pub mod accounts;
pub mod audit;
pub mod clients;
pub mod login;
pub mod maintenance;
pub mod oidc;
pub mod sessions;
pub mod users;

/// Now, as the naive UTC timestamp the schema stores.
pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
