use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::RefreshRow;
use crate::db::schema::refresh_tokens as rt;

pub fn insert(conn: &mut DbConn, row: &RefreshRow) -> QueryResult<()> {
    diesel::insert_into(rt::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, jti_hash: &str) -> QueryResult<Option<RefreshRow>> {
    rt::table
        .find(jti_hash)
        .select(RefreshRow::as_select())
        .first(conn)
        .optional()
}

/// Spends a refresh token: one atomic UPDATE guarded by "not used, not revoked", so of any
/// number of concurrent requests with the same token exactly one gets `true`.
pub fn spend(conn: &mut DbConn, jti_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        rt::table
            .find(jti_hash)
            .filter(rt::used_at.is_null())
            .filter(rt::revoked_at.is_null()),
    )
    .set(rt::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Takes the row lock of one token (a no-op write), so that concurrent replays of it queue
/// here, one after another, before they touch the rest of its family.
pub fn lock(conn: &mut DbConn, jti_hash: &str) -> QueryResult<()> {
    diesel::update(rt::table.find(jti_hash))
        .set(rt::jti_hash.eq(jti_hash))
        .execute(conn)
        .map(|_| ())
}

/// Revokes the live tokens of a family and denies the access tokens issued with them.
pub fn revoke_family(conn: &mut DbConn, family_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    revoke_families(conn, &[family_id.to_owned()], now)
}

/// Revokes every family bound to a browser session (logout, session revocation).
pub fn revoke_for_session(conn: &mut DbConn, session_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    let families: Vec<String> = rt::table
        .filter(rt::session_id.eq(session_id))
        .filter(rt::revoked_at.is_null())
        .select(rt::family_id)
        .distinct()
        .load(conn)?;
    revoke_families(conn, &families, now)
}

/// Revokes every refresh token of a user (disabling, password change).
pub fn revoke_for_user(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    let families: Vec<String> = rt::table
        .filter(rt::user_id.eq(user_id))
        .filter(rt::revoked_at.is_null())
        .select(rt::family_id)
        .distinct()
        .load(conn)?;
    revoke_families(conn, &families, now)
}

/// Callers run this inside a transaction: the denials and the revocation land together.
///
/// Rows are revoked one by one in `jti_hash` order, and a transaction denies the access
/// tokens of the rows it revoked itself. Concurrent revocations of one family (twenty
/// replays of a spent token at once) then queue on the same first row lock instead of
/// deadlocking on each other's denials.
fn revoke_families(conn: &mut DbConn, families: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    if families.is_empty() {
        return Ok(0);
    }
    let live: Vec<(String, String, NaiveDateTime)> = rt::table
        .filter(rt::family_id.eq_any(families))
        .filter(rt::revoked_at.is_null())
        .order(rt::jti_hash.asc())
        .select((rt::jti_hash, rt::access_jti, rt::access_expires_at))
        .load(conn)?;
    let mut revoked = 0;
    for (jti_hash, access_jti, access_expires_at) in live {
        let n = diesel::update(rt::table.find(&jti_hash).filter(rt::revoked_at.is_null()))
            .set(rt::revoked_at.eq(now))
            .execute(conn)?;
        if n == 1 {
            revoked += 1;
            if access_expires_at > now {
                super::revoked::deny(conn, &access_jti, access_expires_at)?;
            }
        }
    }
    Ok(revoked)
}

/// Deletes refresh tokens that expired before `cutoff`.
pub fn delete_expired(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(rt::table.filter(rt::expires_at.lt(cutoff))).execute(conn)
}
