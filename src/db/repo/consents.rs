use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::ConsentRow;
use crate::db::schema::consents;

pub fn find(conn: &mut DbConn, user_id: &str, client_id: &str) -> QueryResult<Option<ConsentRow>> {
    consents::table
        .find((user_id, client_id))
        .select(ConsentRow::as_select())
        .first(conn)
        .optional()
}

/// Records a grant, replacing the previous one for this user and client.
pub fn upsert(conn: &mut DbConn, row: &ConsentRow) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(consents::table.find((&row.user_id, &row.client_id))).execute(conn)?;
        diesel::insert_into(consents::table)
            .values(row)
            .execute(conn)
            .map(|_| ())
    })
}
