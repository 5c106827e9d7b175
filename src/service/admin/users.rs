//! Admin console: users. Search here; the user page in [`detail`]; changes in [`actions`].

pub mod actions;
pub mod detail;

use std::collections::HashSet;

use chrono::NaiveDateTime;

use crate::db::repo::user_admin::{self, UserQuery};
use crate::db::{Db, DbConn, DbError};
use crate::error::AppError;
use crate::service::lockout;
use crate::service::users::UserView;

pub use crate::db::repo::user_admin::{Cursor, SearchBy};

/// Users on one page of the list.
pub const PAGE_SIZE: i64 = 50;

/// What the administrator asked the list for.
#[derive(Debug, Clone)]
pub struct Search {
    pub by: SearchBy,
    /// A prefix of the email or name, any case; empty for everyone.
    pub text: String,
    pub admin: bool,
    pub disabled: bool,
    pub unverified: bool,
    pub locked: bool,
    pub after: Option<Cursor>,
}

/// One user in the list.
#[derive(Debug, Clone)]
pub struct Line {
    pub user: UserView,
    pub locked: bool,
}

/// One page, and where the next one starts (none on the last page).
#[derive(Debug, Clone)]
pub struct Page {
    pub users: Vec<Line>,
    pub next: Option<Cursor>,
}

/// One page of users matching `search`, in email or name order. `lock_window` is how long a
/// lock lasts (`LOCKOUT_DURATION`); `now` is the lockout clock's time. The page and the
/// benchmark (`examples/admin_search.rs`) both call this.
pub async fn search(
    db: &Db,
    lock_window: std::time::Duration,
    now: NaiveDateTime,
    search: Search,
) -> Result<Page, AppError> {
    let since = crate::service::now() - chrono::Duration::from_std(lock_window).unwrap_or(chrono::Duration::days(1));
    let page = db
        .run(move |conn| {
            let only_ids = if search.locked {
                let candidates = user_admin::recently_locked_user_ids(conn, since)?;
                let locked = locked_among(conn, &candidates, now)?;
                if locked.is_empty() {
                    return Ok(Page {
                        users: vec![],
                        next: None,
                    });
                }
                Some(locked.into_iter().collect())
            } else {
                None
            };
            let text = search.text.trim();
            let prefix = match search.by {
                // Addresses are stored lower-cased (`Email::parse`).
                SearchBy::Email => text.to_lowercase(),
                SearchBy::Name => text.to_owned(),
            };
            let query = UserQuery {
                by: search.by,
                prefix: Some(prefix).filter(|p| !p.is_empty()),
                admin: search.admin,
                disabled: search.disabled,
                unverified: search.unverified,
                only_ids,
                after: search.after,
                limit: PAGE_SIZE + 1,
            };
            let mut rows = user_admin::search(conn, &query)?;
            let next = if rows.len() > PAGE_SIZE as usize {
                rows.truncate(PAGE_SIZE as usize);
                rows.last().map(|(u, key)| Cursor {
                    key: key.clone(),
                    id: u.id.clone(),
                })
            } else {
                None
            };
            let ids: Vec<String> = rows.iter().map(|(u, _)| u.id.clone()).collect();
            let locked = locked_among(conn, &ids, now)?;
            let users = rows
                .into_iter()
                .map(|(u, _)| Line {
                    locked: locked.contains(&u.id),
                    user: u.into(),
                })
                .collect();
            Ok(Page { users, next })
        })
        .await?;
    Ok(page)
}

/// Which of these users cannot sign in now because of a lock or delay. Lockout counters are
/// keyed by a hash of the address, so the addresses are hashed here to find them.
pub(crate) fn locked_among(conn: &mut DbConn, ids: &[String], now: NaiveDateTime) -> Result<HashSet<String>, DbError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let by_subject: Vec<(String, String)> = user_admin::emails_of(conn, ids)?
        .into_iter()
        .map(|(id, email)| (lockout::subject(&email), id))
        .collect();
    let subjects: Vec<String> = by_subject.iter().map(|(s, _)| s.clone()).collect();
    let blocked: HashSet<String> = user_admin::blocked_subjects(conn, &subjects, now)?
        .into_iter()
        .collect();
    Ok(by_subject
        .into_iter()
        .filter(|(s, _)| blocked.contains(s))
        .map(|(_, id)| id)
        .collect())
}
