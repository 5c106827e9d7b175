use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::AuditRow;
use crate::db::schema::audit_events;

pub fn insert(conn: &mut DbConn, row: &AuditRow) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The newest events first, at most `limit`.
pub fn latest(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .order(audit_events::occurred_at.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

/// What the admin audit log is narrowed to; `None` matches anything. Actors and subjects
/// are lists so that one filter can match a user by id or by the email typed for it.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub kind: Option<String>,
    pub actors: Option<Vec<String>>,
    pub subjects: Option<Vec<String>>,
    /// Inclusive.
    pub from: Option<chrono::NaiveDateTime>,
    /// Exclusive.
    pub to: Option<chrono::NaiveDateTime>,
}

type Backend = <DbConn as diesel::Connection>::Backend;

/// The filtered events, newest first on (occurred_at, id). Every filter maps to a range on
/// one of the indexes of migration `000008_audit_indexes`.
fn filtered(filter: &AuditFilter) -> audit_events::BoxedQuery<'static, Backend> {
    let mut query = audit_events::table.into_boxed::<Backend>();
    if let Some(kind) = &filter.kind {
        query = query.filter(audit_events::kind.eq(kind.clone()));
    }
    if let Some(actors) = &filter.actors {
        query = query.filter(audit_events::actor.eq_any(actors.clone()));
    }
    if let Some(subjects) = &filter.subjects {
        query = query.filter(audit_events::subject.eq_any(subjects.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::occurred_at.lt(to));
    }
    query.order((audit_events::occurred_at.desc(), audit_events::id.desc()))
}

/// One page of the filtered log: at most `limit` events strictly older than `before` in the
/// (occurred_at, id) order. Keyset paging: deep pages cost what the first one does.
pub fn page(
    conn: &mut DbConn,
    filter: &AuditFilter,
    before: Option<(chrono::NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = filtered(filter);
    if let Some((at, id)) = before {
        query = query.filter(
            audit_events::occurred_at
                .lt(at)
                .or(audit_events::occurred_at.eq(at).and(audit_events::id.lt(id))),
        );
    }
    query.limit(limit).select(AuditRow::as_select()).load(conn)
}

/// The emails of the users among `ids` (events name users by id), for showing a page of
/// the log. One query per page, by primary key.
pub fn user_emails(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    use crate::db::schema::users;
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::email))
        .load(conn)
}
