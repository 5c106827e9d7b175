//! The admin console's user queries: search with keyset paging, and what the user page shows.
//!
//! Search stays fast at millions of users because every query shape is a range on one index
//! walked in its ORDER BY, stopped by LIMIT (migration `000006_roles`):
//! - email prefix: `email >= p AND email < p || U+10FFFF` on the email index. Not `LIKE 'p%'`:
//!   SQLite's LIKE is case-insensitive and cannot use a BINARY index, and PostgreSQL's cannot
//!   use an index under a non-C collation.
//! - name prefix: the same range on `lower(name)`, an expression index in both databases
//!   (rather than a stored `name_lower` column, which every writer of `users` would have to
//!   keep in step). The query's bound goes through the same `lower()`, so the database folds
//!   both sides alike (SQLite folds ASCII only; a stored column would not fix that either).
//! - filters: literal WHERE terms matching the partial indexes, so a filtered page reads
//!   only matching rows.
//!
//! PostgreSQL compares with `COLLATE "C"` (SQLite's BINARY order) so that prefix ranges are
//! contiguous whatever the database's collation: the one backend-specific part.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::db::DbConn;
use crate::db::models::{AuditRow, ConsentRow, IdentityRow, SessionRow, UserRow};
use crate::db::schema::{audit_events, clients, consents, login_failures, sessions, user_identities, users};

type Backend = <DbConn as diesel::Connection>::Backend;

/// Past the last character any name or address has: `p || MAX` bounds the strings
/// starting with `p`.
const MAX_CHAR: &str = "\u{10FFFF}";

/// Which index a search walks, and so the order of its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchBy {
    Email,
    Name,
}

/// Where the previous page ended: the sort key of its last row, and its id (the tie-break
/// for names; emails are unique).
#[derive(Debug, Clone)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

/// One search: all the conditions hold at once.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub by: SearchBy,
    /// Lower-cased by the caller for emails (stored lower-cased); names are folded here.
    pub prefix: Option<String>,
    pub admin: bool,
    pub disabled: bool,
    pub unverified: bool,
    /// Only these users (the locked ones, found from their lock events).
    pub only_ids: Option<Vec<String>>,
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// The sort-key expressions of this backend: (email, lower(name)).
fn keys(conn: &DbConn) -> (&'static str, &'static str) {
    match conn {
        DbConn::Sqlite(_) => ("users.email", "lower(users.name)"),
        DbConn::Postgresql(_) => (r#"(users.email COLLATE "C")"#, r#"(lower(users.name) COLLATE "C")"#),
    }
}

/// One page of users with each row's sort key (for the next page's cursor).
pub fn search(conn: &mut DbConn, q: &UserQuery) -> QueryResult<Vec<(UserRow, String)>> {
    let (email_key, name_key) = keys(conn);
    let key = match q.by {
        SearchBy::Email => email_key,
        SearchBy::Name => name_key,
    };
    let mut query = users::table.into_boxed::<Backend>();
    if let Some(prefix) = q.prefix.clone().filter(|p| !p.is_empty()) {
        query = match q.by {
            SearchBy::Email => query.filter(
                sql::<Bool>(&format!("{key} >= "))
                    .bind::<Text, _>(prefix.clone())
                    .sql(&format!(" AND {key} < "))
                    .bind::<Text, _>(format!("{prefix}{MAX_CHAR}")),
            ),
            SearchBy::Name => query.filter(
                sql::<Bool>(&format!("{key} >= lower("))
                    .bind::<Text, _>(prefix.clone())
                    .sql(&format!(") AND {key} < lower("))
                    .bind::<Text, _>(prefix)
                    .sql(") || ")
                    .bind::<Text, _>(MAX_CHAR),
            ),
        };
    }
    // Literal terms, written exactly as in the partial indexes' WHERE clauses.
    if q.disabled {
        query = query.filter(sql::<Bool>("users.disabled"));
    }
    if q.unverified {
        query = query.filter(sql::<Bool>("NOT users.email_verified"));
    }
    if q.admin {
        query = query.filter(sql::<Bool>("(' ' || users.roles || ' ') LIKE '% admin %'"));
    }
    if let Some(ids) = &q.only_ids {
        query = query.filter(users::id.eq_any(ids.clone()));
    }
    if let Some(after) = &q.after {
        query = match q.by {
            SearchBy::Email => query.filter(sql::<Bool>(&format!("{key} > ")).bind::<Text, _>(after.key.clone())),
            // The row value is the keyset; the redundant `key >=` lets SQLite seek the
            // expression index to it (it does not seek on a row value over an expression).
            SearchBy::Name => query.filter(
                sql::<Bool>(&format!("{key} >= "))
                    .bind::<Text, _>(after.key.clone())
                    .sql(&format!(" AND ({key}, users.id) > ("))
                    .bind::<Text, _>(after.key.clone())
                    .sql(", ")
                    .bind::<Text, _>(after.id.clone())
                    .sql(")"),
            ),
        };
    }
    let query = match q.by {
        SearchBy::Email => query.order(sql::<Text>(key).asc()),
        SearchBy::Name => query.order((sql::<Text>(key).asc(), users::id.asc())),
    };
    query
        .limit(q.limit)
        .select((UserRow::as_select(), sql::<Text>(key)))
        .load(conn)
}

/// Users whose sign-in was locked since `since` (the `login.locked` events that name an
/// account; index `audit_events_kind`). Locks are counted per hashed address, so the events
/// are what lead from a lock back to an account.
pub fn recently_locked_user_ids(conn: &mut DbConn, since: NaiveDateTime) -> QueryResult<Vec<String>> {
    let ids: Vec<Option<String>> = audit_events::table
        .filter(audit_events::kind.eq("login.locked"))
        .filter(audit_events::occurred_at.ge(since))
        .filter(audit_events::subject.is_not_null())
        .select(audit_events::subject)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// `(id, email)` of these users.
pub fn emails_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::email))
        .load(conn)
}

/// Which of these lockout subjects are refused at `now`.
pub fn blocked_subjects(conn: &mut DbConn, subjects: &[String], now: NaiveDateTime) -> QueryResult<Vec<String>> {
    login_failures::table
        .filter(login_failures::subject.eq_any(subjects))
        .filter(login_failures::blocked_until.gt(now))
        .select(login_failures::subject)
        .load(conn)
}

/// Live sessions of a user, newest first.
pub fn sessions_of(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::created_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}

pub fn identities_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<IdentityRow>> {
    user_identities::table
        .filter(user_identities::user_id.eq(user_id))
        .order(user_identities::provider.asc())
        .select(IdentityRow::as_select())
        .load(conn)
}

/// A user's consents with each client's name.
pub fn consents_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<(ConsentRow, String)>> {
    consents::table
        .inner_join(clients::table)
        .filter(consents::user_id.eq(user_id))
        .order(consents::granted_at.desc())
        .select((ConsentRow::as_select(), clients::name))
        .load(conn)
}

/// The newest events about a user (index `audit_events_subject`).
pub fn events_about(conn: &mut DbConn, user_id: &str, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .filter(audit_events::subject.eq(user_id))
        .order(audit_events::occurred_at.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

/// Sets name, address and verified flag; the caller maps a UNIQUE failure to "taken".
pub fn set_profile(
    conn: &mut DbConn,
    id: &str,
    name: &str,
    email: &str,
    verified: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set((
            users::name.eq(name),
            users::email.eq(email),
            users::email_verified.eq(verified),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn set_roles(conn: &mut DbConn, id: &str, roles: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set((users::roles.eq(roles), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn set_disabled(conn: &mut DbConn, id: &str, disabled: bool, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n > 0)
}

/// Inserts many users in one statement (the search benchmark seeds a million this way).
/// Multi-row INSERT is backend-specific in Diesel, hence the match.
pub fn insert_many(conn: &mut DbConn, rows: &[UserRow]) -> QueryResult<usize> {
    match conn {
        DbConn::Sqlite(c) => diesel::insert_into(users::table).values(rows).execute(c),
        DbConn::Postgresql(c) => diesel::insert_into(users::table).values(rows).execute(c),
    }
}
