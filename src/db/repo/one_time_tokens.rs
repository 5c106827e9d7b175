use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::OneTimeTokenRow;
use crate::db::schema::one_time_tokens as ott;

pub fn insert(conn: &mut DbConn, row: &OneTimeTokenRow) -> QueryResult<()> {
    diesel::insert_into(ott::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, hash: &str) -> QueryResult<Option<OneTimeTokenRow>> {
    ott::table
        .find(hash)
        .select(OneTimeTokenRow::as_select())
        .first(conn)
        .optional()
}

/// A token of `kind` that is unused and unexpired at `now`.
pub fn find_usable(
    conn: &mut DbConn,
    hash: &str,
    kind: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<OneTimeTokenRow>> {
    ott::table
        .find(hash)
        .filter(ott::kind.eq(kind))
        .filter(ott::used_at.is_null())
        .filter(ott::expires_at.gt(now))
        .select(OneTimeTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Spends a token: one atomic UPDATE, so a link works once even when clicked twice at once.
pub fn spend(conn: &mut DbConn, hash: &str, kind: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        ott::table
            .find(hash)
            .filter(ott::kind.eq(kind))
            .filter(ott::used_at.is_null())
            .filter(ott::expires_at.gt(now)),
    )
    .set(ott::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// When the newest token of `kind` for a user was made, to rate-limit resends.
pub fn latest_created(conn: &mut DbConn, user_id: &str, kind: &str) -> QueryResult<Option<NaiveDateTime>> {
    ott::table
        .filter(ott::user_id.eq(user_id))
        .filter(ott::kind.eq(kind))
        .order(ott::created_at.desc())
        .select(ott::created_at)
        .first(conn)
        .optional()
}

/// Spends every open token of `kind` for a user (a new password makes old reset links void).
pub fn spend_all(conn: &mut DbConn, user_id: &str, kind: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        ott::table
            .filter(ott::user_id.eq(user_id))
            .filter(ott::kind.eq(kind))
            .filter(ott::used_at.is_null()),
    )
    .set(ott::used_at.eq(now))
    .execute(conn)
}
