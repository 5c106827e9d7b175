use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::revoked_tokens;

/// Denies an access token's `jti` until it expires. Denying twice is not an error: the insert
/// runs in a savepoint so a duplicate does not abort the caller's transaction on PostgreSQL.
pub fn deny(conn: &mut DbConn, jti: &str, expires_at: NaiveDateTime) -> QueryResult<()> {
    let result = conn.transaction(|conn| {
        diesel::insert_into(revoked_tokens::table)
            .values((revoked_tokens::jti.eq(jti), revoked_tokens::expires_at.eq(expires_at)))
            .execute(conn)
    });
    match result {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn is_denied(conn: &mut DbConn, jti: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(revoked_tokens::table.find(jti))).get_result(conn)
}

/// Forgets denials of tokens that have expired anyway.
pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(now))).execute(conn)
}
