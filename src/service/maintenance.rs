//! Housekeeping: rows that can no longer matter are deleted, so tables stay small.

use diesel::Connection;

use crate::db::{Db, DbError, repo};
use crate::error::AppError;

/// Deletes expired codes, sessions, refresh tokens and access-token denials, and sign-in
/// counters and rate-limit buckets idle for a day (a longer lockout window starts over). Rows are kept
/// a day past expiry, so a replay just after expiry is still recognised and refused as such.
/// Returns how many rows went.
pub async fn purge_expired(db: &Db) -> Result<usize, AppError> {
    let deleted = db
        .run(|conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                let cutoff = now - chrono::Duration::days(1);
                Ok(repo::codes::delete_expired(conn, cutoff)?
                    + repo::refresh_tokens::delete_expired(conn, cutoff)?
                    + repo::sessions::delete_expired(conn, cutoff)?
                    + repo::revoked::delete_expired(conn, now)?
                    + repo::login_failures::delete_stale(conn, cutoff)?
                    + repo::rate_limits::delete_stale(conn, cutoff)?
                    + repo::upstream_logins::delete_expired(conn, now)?)
            })
        })
        .await?;
    Ok(deleted)
}
