//! Per-key token buckets. Like the login counters: [`lock`] first, in a write transaction.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::RateLimitRow;
use crate::db::schema::rate_limits;

pub fn find(conn: &mut DbConn, key: &str) -> QueryResult<Option<RateLimitRow>> {
    rate_limits::table
        .find(key)
        .select(RateLimitRow::as_select())
        .first(conn)
        .optional()
}

/// A write that changes nothing, taking the row (PostgreSQL) or database (SQLite) lock.
/// Returns whether the row exists.
pub fn lock(conn: &mut DbConn, key: &str) -> QueryResult<bool> {
    let n = diesel::update(rate_limits::table.find(key))
        .set(rate_limits::tokens.eq(rate_limits::tokens))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn insert(conn: &mut DbConn, row: &RateLimitRow) -> QueryResult<()> {
    diesel::insert_into(rate_limits::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn save(conn: &mut DbConn, row: &RateLimitRow) -> QueryResult<()> {
    diesel::update(rate_limits::table.find(&row.key))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// Deletes buckets untouched since `cutoff` (they would be full again anyway).
pub fn delete_stale(conn: &mut DbConn, cutoff: chrono::NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(rate_limits::table.filter(rate_limits::updated_at.lt(cutoff))).execute(conn)
}
