use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::SessionRow;
use crate::db::schema::sessions;

pub fn insert(conn: &mut DbConn, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A session that is neither revoked nor expired at `now`.
pub fn find_live(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

pub fn touch(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

/// Marks a session revoked; returns whether it was live.
/// Whose session this is, live or not.
pub fn owner(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    sessions::table
        .find(id)
        .select(sessions::user_id)
        .first(conn)
        .optional()
}

pub fn revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    Ok(n > 0)
}

/// Revokes every live session of a user; returns their ids.
pub fn revoke_all_for_user(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    let ids: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .select(sessions::id)
        .load(conn)?;
    diesel::update(sessions::table.filter(sessions::id.eq_any(&ids)))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    Ok(ids)
}

/// Deletes sessions that expired before `cutoff`.
pub fn delete_expired(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(cutoff))).execute(conn)
}

/// The live sessions of a user, newest first.
pub fn list_live_for_user(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::created_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}

/// Live sessions of every user with their user's email, newest first on (created_at, id):
/// at most `limit`, strictly older than `before`. Keyset paging (index `sessions_created`).
pub fn list_live_page(
    conn: &mut DbConn,
    now: NaiveDateTime,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<(SessionRow, String)>> {
    use crate::db::schema::users;
    let mut query = sessions::table
        .inner_join(users::table)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .into_boxed::<<DbConn as diesel::Connection>::Backend>();
    if let Some((at, id)) = before {
        query = query.filter(
            sessions::created_at
                .lt(at)
                .or(sessions::created_at.eq(at).and(sessions::id.lt(id))),
        );
    }
    query
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .limit(limit)
        .select((SessionRow::as_select(), users::email))
        .load(conn)
}
