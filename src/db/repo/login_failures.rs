//! Failed sign-in counters. Callers change a counter inside one write transaction that
//! starts with [`lock`], so concurrent failures (on any replica) are counted one by one.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::LoginFailureRow;
use crate::db::schema::login_failures;

pub fn find(conn: &mut DbConn, subject: &str) -> QueryResult<Option<LoginFailureRow>> {
    login_failures::table
        .find(subject)
        .select(LoginFailureRow::as_select())
        .first(conn)
        .optional()
}

/// A write that changes nothing: it takes the row lock on PostgreSQL, and makes SQLite's
/// transaction a writer from its first statement. Returns whether the row exists.
pub fn lock(conn: &mut DbConn, subject: &str) -> QueryResult<bool> {
    let n = diesel::update(login_failures::table.find(subject))
        .set(login_failures::failures.eq(login_failures::failures))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn insert(conn: &mut DbConn, row: &LoginFailureRow) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn save(conn: &mut DbConn, row: &LoginFailureRow) -> QueryResult<()> {
    diesel::update(login_failures::table.find(&row.subject))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// Forgets the failures of one address (after a successful sign-in).
pub fn clear(conn: &mut DbConn, subject: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.find(subject)).execute(conn)
}

/// Deletes counters whose window began before `cutoff` and that block nothing any more.
pub fn delete_stale(conn: &mut DbConn, cutoff: chrono::NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::window_start.lt(cutoff))
            .filter(
                login_failures::blocked_until
                    .is_null()
                    .or(login_failures::blocked_until.lt(cutoff)),
            ),
    )
    .execute(conn)
}
