//! Browser sessions: rows in the database so they can be listed and revoked; the cookie only
//! carries the id.

use chrono::NaiveDateTime;
use diesel::Connection;
use serde_json::json;

use crate::db::models::{SessionRow, UserRow};
use crate::db::{Db, DbError, repo};
use crate::error::AppError;

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub session: SessionRow,
    pub user: UserRow,
}

/// Where a request came from, for the session row and the audit log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Loads the session `id` if it is live and its user may still sign in. Records activity at
/// most once a minute, so browsing does not turn every request into a write.
pub async fn current(db: &Db, id: &str) -> Result<Option<LiveSession>, AppError> {
    let id = id.to_owned();
    let found = db
        .run(move |conn| {
            let now = super::now();
            let Some(session) = repo::sessions::find_live(conn, &id, now)? else {
                return Ok(None);
            };
            let Some(user) = repo::users::find_by_id(conn, &session.user_id)? else {
                return Ok(None);
            };
            if user.disabled {
                return Ok(None);
            }
            if now - session.last_seen_at > chrono::Duration::minutes(1) {
                repo::sessions::touch(conn, &session.id, now)?;
            }
            Ok(Some(LiveSession { session, user }))
        })
        .await?;
    Ok(found)
}

/// A new session row for a user who just proved who they are.
pub fn new_row(user_id: &str, origin: &Origin, ttl: std::time::Duration, now: NaiveDateTime) -> SessionRow {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(7));
    SessionRow {
        id: crate::crypto::random_token(24),
        user_id: user_id.to_owned(),
        auth_time: now,
        created_at: now,
        last_seen_at: now,
        expires_at: now + ttl,
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.as_deref().map(|ua| ua.chars().take(512).collect()),
        revoked_at: None,
    }
}

/// Ends a session: the row is revoked with every refresh token bound to it (and the access
/// tokens issued beside them), in one transaction.
pub async fn end(db: &Db, session_id: &str, actor: &str, reason: &'static str) -> Result<(), AppError> {
    let (id, actor) = (session_id.to_owned(), actor.to_owned());
    db.run_write(move |conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            let now = super::now();
            // The write comes first: a SQLite transaction that starts by reading can fail to
            // upgrade to a writer when another connection writes meanwhile.
            if repo::sessions::revoke(conn, &id, now)? {
                // The session's owner is the event's subject (an administrator may be the actor).
                let owner = repo::sessions::owner(conn, &id)?;
                let revoked = repo::refresh_tokens::revoke_for_session(conn, &id, now)?;
                let detail = json!({ "session": id, "reason": reason, "refresh_tokens_revoked": revoked });
                let subject = owner.as_deref().unwrap_or(&actor);
                repo::audit::insert(
                    conn,
                    &super::audit::event("session.ended", &actor, Some(subject), detail),
                )?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(())
}
