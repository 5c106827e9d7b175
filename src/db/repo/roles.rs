//! Roles, and rewriting role names inside `users.roles` (space-separated names).

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::db::DbConn;
use crate::db::models::RoleRow;
use crate::db::schema::{roles, users};

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<RoleRow>> {
    roles::table
        .order(roles::name.asc())
        .select(RoleRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, name: &str) -> QueryResult<Option<RoleRow>> {
    roles::table
        .find(name)
        .select(RoleRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &RoleRow) -> QueryResult<()> {
    diesel::insert_into(roles::table).values(row).execute(conn).map(|_| ())
}

/// Renames a role and sets its description; returns whether it existed.
pub fn rename(conn: &mut DbConn, from: &str, to: &str, description: &str) -> QueryResult<bool> {
    let n = diesel::update(roles::table.find(from))
        .set((roles::name.eq(to), roles::description.eq(description)))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn delete(conn: &mut DbConn, name: &str) -> QueryResult<bool> {
    Ok(diesel::delete(roles::table.find(name)).execute(conn)? > 0)
}

/// Replaces the role `from` by `to` (or removes it, for an empty `to`) in every user's
/// list, in one statement. Role names are lower-case and spaceless, so padding the list
/// with spaces finds whole names; `\` escapes LIKE's wildcards (`_` is allowed in names).
pub fn replace_in_users(conn: &mut DbConn, from: &str, to: &str, now: NaiveDateTime) -> QueryResult<usize> {
    let escaped = from.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let replacement = if to.is_empty() {
        " ".to_owned()
    } else {
        format!(" {to} ")
    };
    let holders = sql::<Bool>("(' ' || users.roles || ' ') LIKE ")
        .bind::<Text, _>(format!("% {escaped} %"))
        .sql(" ESCAPE '\\'");
    let rewritten = sql::<Text>("trim(replace(' ' || users.roles || ' ', ")
        .bind::<Text, _>(format!(" {from} "))
        .sql(", ")
        .bind::<Text, _>(replacement)
        .sql("))");
    diesel::update(users::table.filter(holders))
        .set((users::roles.eq(rewritten), users::updated_at.eq(now)))
        .execute(conn)
}
