//! Admin console: every user's live sessions, and ending one.

use super::audit::{cursor, parse_cursor};
use crate::db::models::SessionRow;
use crate::db::repo;
use crate::error::AppError;
use crate::startup::AppState;

/// Sessions per page.
pub const PAGE_SIZE: i64 = 50;

/// A live session and its user's email.
pub struct SessionEntry {
    pub session: SessionRow,
    pub email: String,
}

pub struct SessionPage {
    pub rows: Vec<SessionEntry>,
    /// The cursor of the next page, if there is more.
    pub next: Option<String>,
}

/// Live sessions of every user, newest first, after the cursor `after` (keyset paging).
pub async fn list(state: &AppState, after: Option<&str>) -> Result<SessionPage, AppError> {
    let before = match after.filter(|a| !a.is_empty()) {
        Some(raw) => Some(parse_cursor(raw).ok_or_else(|| AppError::Invalid("That page link is not valid.".into()))?),
        None => None,
    };
    let mut rows = state
        .db
        .run(move |conn| {
            Ok(repo::sessions::list_live_page(
                conn,
                crate::service::now(),
                before,
                PAGE_SIZE + 1,
            )?)
        })
        .await?;
    let next = if rows.len() > PAGE_SIZE as usize {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|(s, _)| cursor(s.created_at, &s.id))
    } else {
        None
    };
    let rows = rows
        .into_iter()
        .map(|(session, email)| SessionEntry { session, email })
        .collect();
    Ok(SessionPage { rows, next })
}

/// Ends a session and its refresh tokens, audited with the administrator as actor. The rule
/// lives in [`crate::service::sessions::end`], as for a user ending their own; an id that is
/// not live is left alone.
pub async fn revoke(state: &AppState, actor: &str, session_id: &str) -> Result<(), AppError> {
    crate::service::sessions::end(&state.db, session_id, actor, "revoked_by_admin").await
}
