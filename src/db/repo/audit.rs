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
