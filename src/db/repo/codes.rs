use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::CodeRow;
use crate::db::schema::authorization_codes as codes;

pub fn insert(conn: &mut DbConn, row: &CodeRow) -> QueryResult<()> {
    diesel::insert_into(codes::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, code_hash: &str) -> QueryResult<Option<CodeRow>> {
    codes::table
        .find(code_hash)
        .select(CodeRow::as_select())
        .first(conn)
        .optional()
}

/// Spends a code: one atomic UPDATE, so of two racing exchanges exactly one gets `true`.
pub fn spend(conn: &mut DbConn, code_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(codes::table.find(code_hash).filter(codes::used_at.is_null()))
        .set(codes::used_at.eq(now))
        .execute(conn)?;
    Ok(n == 1)
}

/// Takes the row lock of a code (a no-op write), so that concurrent replays queue here.
pub fn lock(conn: &mut DbConn, code_hash: &str) -> QueryResult<()> {
    diesel::update(codes::table.find(code_hash))
        .set(codes::code_hash.eq(code_hash))
        .execute(conn)
        .map(|_| ())
}

/// Records what was issued from a code, so that a replay can revoke it.
pub fn record_issued(
    conn: &mut DbConn,
    code_hash: &str,
    family_id: Option<&str>,
    access_jti: &str,
    access_expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(codes::table.find(code_hash))
        .set((
            codes::family_id.eq(family_id),
            codes::access_jti.eq(access_jti),
            codes::access_expires_at.eq(access_expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Deletes codes that expired before `cutoff`.
pub fn delete_expired(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(codes::table.filter(codes::expires_at.lt(cutoff))).execute(conn)
}
