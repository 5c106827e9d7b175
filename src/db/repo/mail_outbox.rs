//! The mail outbox. Senders on any number of replicas share it: a message is claimed with one
//! guarded UPDATE, so exactly one sender holds it at a time.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::MailRow;
use crate::db::schema::mail_outbox as outbox;

/// Queues a message (in the caller's transaction, if it has one).
pub fn insert(conn: &mut DbConn, row: &MailRow) -> QueryResult<()> {
    diesel::insert_into(outbox::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<MailRow>> {
    outbox::table
        .find(id)
        .select(MailRow::as_select())
        .first(conn)
        .optional()
}

/// The condition under which a sender may take a message at `now`: still waiting, due, and
/// not held by a live claim. Used both to find candidates and to guard the claim itself.
#[diesel::dsl::auto_type]
fn claimable(now: NaiveDateTime) -> _ {
    outbox::sent_at
        .is_null()
        .and(outbox::failed_at.is_null())
        .and(outbox::next_attempt_at.le(now))
        .and(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now)))
}

/// Ids of messages a sender may claim at `now`, the longest due first. Only candidates:
/// another sender may take any of them first, which [`claim`] finds out.
pub fn due_ids(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    outbox::table
        .filter(claimable(now))
        .order((outbox::next_attempt_at, outbox::created_at))
        .limit(limit)
        .select(outbox::id)
        .load(conn)
}

/// Claims one message until `until`. The guard is re-checked by the UPDATE itself (on
/// PostgreSQL against the row as committed by a racing sender), so of several senders
/// racing for a message exactly one gets `true`.
pub fn claim(conn: &mut DbConn, id: &str, now: NaiveDateTime, until: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(outbox::table.find(id).filter(claimable(now)))
        .set(outbox::claimed_until.eq(until))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a delivery. Not guarded by the claim: once sent, the message is sent, even if
/// the claim ran out meanwhile.
pub fn mark_sent(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::sent_at.is_null()))
        .set((outbox::sent_at.eq(now), outbox::claimed_until.eq(None::<NaiveDateTime>)))
        .execute(conn)
        .map(|_| ())
}

/// Records a failed attempt and when to try again. Only while the claim is still the one
/// this sender took (`claim`): if it ran out and another sender took the message, that
/// sender's claim is left alone.
pub fn mark_retry(
    conn: &mut DbConn,
    id: &str,
    claim: NaiveDateTime,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::claimed_until.eq(claim))
            .filter(outbox::sent_at.is_null()),
    )
    .set((
        outbox::attempts.eq(attempts),
        outbox::next_attempt_at.eq(next_attempt_at),
        outbox::last_error.eq(error),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Gives up on a message for good (guarded by the claim, like [`mark_retry`]).
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    claim: NaiveDateTime,
    attempts: i32,
    now: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::claimed_until.eq(claim))
            .filter(outbox::sent_at.is_null()),
    )
    .set((
        outbox::attempts.eq(attempts),
        outbox::failed_at.eq(now),
        outbox::last_error.eq(error),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Deletes messages sent before `sent_before` and abandoned before `failed_before`: their
/// bodies hold links that are of no use to anyone any more.
pub fn purge(conn: &mut DbConn, sent_before: NaiveDateTime, failed_before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(outbox::table.filter(outbox::sent_at.lt(sent_before).or(outbox::failed_at.lt(failed_before))))
        .execute(conn)
}
