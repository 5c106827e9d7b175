use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::UserRow;
use crate::db::schema::users;

pub fn insert(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table).values(row).execute(conn).map(|_| ())
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Every user by email. The admin console pages through users; the CLI lists them all.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<UserRow>> {
    users::table
        .order(users::email.asc())
        .select(UserRow::as_select())
        .load(conn)
}

/// Sets `disabled`; returns whether a user had that email.
pub fn set_disabled(conn: &mut DbConn, email: &str, disabled: bool, now: chrono::NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(users::table.filter(users::email.eq(email)))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(users::table.find(id)).execute(conn)? > 0)
}

pub fn set_password_hash(conn: &mut DbConn, id: &str, hash: &str, now: chrono::NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(Some(hash)), users::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Marks the address verified, only if it is still the user's address (it may have changed
/// since the link was sent).
pub fn mark_verified(conn: &mut DbConn, id: &str, email: &str, now: chrono::NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id).filter(users::email.eq(email)))
        .set((users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn set_name(conn: &mut DbConn, id: &str, name: &str, now: chrono::NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::name.eq(name), users::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Changes the address (verified: the caller proved the new mailbox).
pub fn set_verified_email(conn: &mut DbConn, id: &str, email: &str, now: chrono::NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::email.eq(email),
            users::email_verified.eq(true),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
