use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::ClientRow;
use crate::db::schema::clients;

pub fn insert(conn: &mut DbConn, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(clients::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<ClientRow>> {
    clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ClientRow>> {
    clients::table
        .order(clients::created_at.asc())
        .select(ClientRow::as_select())
        .load(conn)
}

pub fn delete(conn: &mut DbConn, client_id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(clients::table.find(client_id)).execute(conn)? > 0)
}

/// Replaces the secret hash; returns whether the client exists.
pub fn set_secret_hash(
    conn: &mut DbConn,
    client_id: &str,
    hash: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(clients::table.find(client_id))
        .set((clients::secret_hash.eq(Some(hash)), clients::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n > 0)
}

/// Replaces what an administrator may edit (not the id, secret, type or creation time);
/// returns whether the client exists.
pub fn update(conn: &mut DbConn, row: &ClientRow) -> QueryResult<bool> {
    let n = diesel::update(clients::table.find(&row.client_id))
        .set((
            clients::name.eq(&row.name),
            clients::redirect_uris.eq(&row.redirect_uris),
            clients::post_logout_redirect_uris.eq(&row.post_logout_redirect_uris),
            clients::grant_types.eq(&row.grant_types),
            clients::resources.eq(&row.resources),
            clients::skip_consent.eq(row.skip_consent),
            clients::allowed_scopes.eq(&row.allowed_scopes),
            clients::access_token_ttl.eq(row.access_token_ttl),
            clients::refresh_token_ttl.eq(row.refresh_token_ttl),
            clients::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(n > 0)
}
