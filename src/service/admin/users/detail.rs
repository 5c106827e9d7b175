//! What the admin user page shows about one user.

use chrono::NaiveDateTime;

use crate::db::models::{AuditRow, ConsentRow, IdentityRow, LoginFailureRow, RoleRow, SessionRow};
use crate::db::{Db, repo};
use crate::error::AppError;
use crate::service::lockout;
use crate::service::users::UserView;

/// Audit events shown on the user page; the audit log has the rest.
const EVENTS_SHOWN: i64 = 20;

/// A user and everything around them.
#[derive(Debug, Clone)]
pub struct UserDetail {
    pub user: UserView,
    /// Failed sign-ins counted against the address, if any.
    pub failures: Option<LoginFailureRow>,
    /// Whether sign-in is refused now (a lock or a delay is running).
    pub locked: bool,
    pub sessions: Vec<SessionRow>,
    pub identities: Vec<IdentityRow>,
    /// Each consent with its client's name.
    pub consents: Vec<(ConsentRow, String)>,
    pub events: Vec<AuditRow>,
    /// Every role that exists, to assign.
    pub roles: Vec<RoleRow>,
}

/// The user with this id, or `None`. `now` is the lockout clock's time.
pub async fn load(db: &Db, id: &str, now: NaiveDateTime) -> Result<Option<UserDetail>, AppError> {
    let id = id.to_owned();
    let detail = db
        .run(move |conn| {
            let Some(row) = repo::users::find_by_id(conn, &id)? else {
                return Ok(None);
            };
            let failures = repo::login_failures::find(conn, &lockout::subject(&row.email))?;
            let locked = failures
                .as_ref()
                .and_then(|f| f.blocked_until)
                .is_some_and(|until| until > now);
            Ok(Some(UserDetail {
                failures,
                locked,
                sessions: repo::user_admin::sessions_of(conn, &id, crate::service::now())?,
                identities: repo::user_admin::identities_of(conn, &id)?,
                consents: repo::user_admin::consents_of(conn, &id)?,
                events: repo::user_admin::events_about(conn, &id, EVENTS_SHOWN)?,
                roles: repo::roles::list(conn)?,
                user: row.into(),
            }))
        })
        .await?;
    Ok(detail)
}
