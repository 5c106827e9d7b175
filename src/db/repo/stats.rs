//! Admin console queries (stats): the dashboard's counts. Each is one indexed COUNT, so the
//! dashboard stays cheap however many audit rows there are.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{audit_events, login_failures, sessions, users};

pub fn users(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Users created in `[from, to)` (index `users_created_at`).
pub fn users_created(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<i64> {
    users::table
        .filter(users::created_at.ge(from))
        .filter(users::created_at.lt(to))
        .count()
        .get_result(conn)
}

/// Sessions neither revoked nor expired at `now`.
pub fn live_sessions(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Audit events of `kind` in `[from, to)` (index `audit_events_kind` on (kind, occurred_at)).
pub fn events(conn: &mut DbConn, kind: &str, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<i64> {
    audit_events::table
        .filter(audit_events::kind.eq(kind))
        .filter(audit_events::occurred_at.ge(from))
        .filter(audit_events::occurred_at.lt(to))
        .count()
        .get_result(conn)
}

/// Addresses locked at `now`. A lock is a `blocked_until` in the future on a row whose count
/// reached `threshold`; `service::lockout` also restarts the count at 0 when it locks, and a
/// progressive delay always leaves a count of at least 1, so a zero count with a future
/// `blocked_until` is a lock too.
pub fn locked(conn: &mut DbConn, now: NaiveDateTime, threshold: i32) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::blocked_until.gt(now))
        .filter(
            login_failures::failures
                .ge(threshold)
                .or(login_failures::failures.eq(0)),
        )
        .count()
        .get_result(conn)
}
