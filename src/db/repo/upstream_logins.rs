use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::{PendingLinkRow, UpstreamLoginRow};
use crate::db::schema::{pending_links as pl, upstream_logins as ul};

pub fn insert(conn: &mut DbConn, row: &UpstreamLoginRow) -> QueryResult<()> {
    diesel::insert_into(ul::table).values(row).execute(conn).map(|_| ())
}

/// Takes the unexpired sign-in with this state: found and deleted, so a state works once
/// even when the callback arrives twice at the same moment.
pub fn take(conn: &mut DbConn, state_hash: &str, now: NaiveDateTime) -> QueryResult<Option<UpstreamLoginRow>> {
    let Some(row) = ul::table
        .find(state_hash)
        .filter(ul::expires_at.gt(now))
        .select(UpstreamLoginRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let deleted = diesel::delete(ul::table.find(state_hash)).execute(conn)?;
    Ok((deleted == 1).then_some(row))
}

pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let logins = diesel::delete(ul::table.filter(ul::expires_at.le(now))).execute(conn)?;
    let links = diesel::delete(pl::table.filter(pl::expires_at.le(now))).execute(conn)?;
    Ok(logins + links)
}

pub fn insert_pending(conn: &mut DbConn, row: &PendingLinkRow) -> QueryResult<()> {
    diesel::insert_into(pl::table).values(row).execute(conn).map(|_| ())
}

pub fn find_pending(conn: &mut DbConn, id_hash: &str, now: NaiveDateTime) -> QueryResult<Option<PendingLinkRow>> {
    pl::table
        .find(id_hash)
        .filter(pl::expires_at.gt(now))
        .select(PendingLinkRow::as_select())
        .first(conn)
        .optional()
}

pub fn set_email_token(conn: &mut DbConn, id_hash: &str, token_hash: &str) -> QueryResult<()> {
    diesel::update(pl::table.find(id_hash))
        .set(pl::email_token_hash.eq(token_hash))
        .execute(conn)
        .map(|_| ())
}

/// Deletes a pending link; false when another request already did (it is then spent).
pub fn delete_pending(conn: &mut DbConn, id_hash: &str) -> QueryResult<bool> {
    Ok(diesel::delete(pl::table.find(id_hash)).execute(conn)? == 1)
}
