use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::IdentityRow;
use crate::db::schema::user_identities as ui;

pub fn insert(conn: &mut DbConn, row: &IdentityRow) -> QueryResult<()> {
    diesel::insert_into(ui::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, provider: &str, subject: &str) -> QueryResult<Option<IdentityRow>> {
    ui::table
        .find((provider, subject))
        .select(IdentityRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_for_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<IdentityRow>> {
    ui::table
        .filter(ui::user_id.eq(user_id))
        .order(ui::provider.asc())
        .select(IdentityRow::as_select())
        .load(conn)
}

/// Records a sign-in through the identity, with the address the provider gave this time.
pub fn touch(
    conn: &mut DbConn,
    provider: &str,
    subject: &str,
    email: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(ui::table.find((provider, subject)))
        .set((ui::last_used_at.eq(now), ui::email.eq(email)))
        .execute(conn)
        .map(|_| ())
}

pub fn delete(conn: &mut DbConn, user_id: &str, provider: &str) -> QueryResult<bool> {
    let n = diesel::delete(
        ui::table
            .filter(ui::user_id.eq(user_id))
            .filter(ui::provider.eq(provider)),
    )
    .execute(conn)?;
    Ok(n == 1)
}
