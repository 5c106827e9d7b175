//! Creating and managing users (CLI today, admin console later).

use chrono::{DateTime, Utc};
use diesel::Connection;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use crate::crypto::password;
use crate::db::models::UserRow;
use crate::db::repo;
use crate::db::{Db, DbError};
use crate::domain::Email;
use crate::error::AppError;

/// Password length bounds (characters). The upper bound keeps argon2 input bounded.
pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

/// What a user looks like to an administrator; never the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub disabled: bool,
    pub roles: Vec<String>,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for UserView {
    fn from(r: UserRow) -> Self {
        UserView {
            id: r.id,
            email: r.email,
            name: r.name,
            email_verified: r.email_verified,
            disabled: r.disabled,
            roles: r.roles.split_whitespace().map(str::to_owned).collect(),
            has_password: r.password_hash.is_some(),
            created_at: r.created_at.and_utc(),
        }
    }
}

/// Input of [`create`].
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub password: Option<SecretString>,
    pub admin: bool,
    pub verified: bool,
}

/// Checks the length rule; the strength rules arrive with self-service sign-up.
pub fn check_password(password: &SecretString) -> Result<(), AppError> {
    let len = password.expose_secret().chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(AppError::Invalid(format!(
            "password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters long"
        )));
    }
    Ok(())
}

/// Creates a user, hashing the password on a blocking thread; audited in the same transaction.
pub async fn create(db: &Db, actor: &str, new: NewUser) -> Result<UserView, AppError> {
    let password_hash = match new.password {
        Some(pw) => {
            check_password(&pw)?;
            let hash = tokio::task::spawn_blocking(move || password::hash_password(&pw))
                .await
                .map_err(|e| AppError::Internal(e.into()))??;
            Some(hash)
        }
        None => None,
    };
    let now = super::now();
    let row = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        email: new.email.as_str().to_owned(),
        email_verified: new.verified,
        name: new.name.trim().to_owned(),
        password_hash,
        disabled: false,
        roles: if new.admin { "admin".into() } else { String::new() },
        created_at: now,
        updated_at: now,
    };
    let event = super::audit::event("user.created", actor, Some(&row.id), json!({ "admin": new.admin }));
    let inserted = row.clone();
    let result = db
        .run(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                repo::users::insert(conn, &inserted)?;
                repo::audit::insert(conn, &event)?;
                Ok(())
            })
        })
        .await;
    match result {
        Ok(()) => Ok(row.into()),
        Err(e) if e.is_unique_violation() => Err(AppError::Conflict(format!(
            "a user with email {} already exists",
            new.email
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(db: &Db) -> Result<Vec<UserView>, AppError> {
    let rows = db.run(|conn| Ok(repo::users::list(conn)?)).await?;
    Ok(rows.into_iter().map(UserView::from).collect())
}

/// Disables or enables the user with this email.
pub async fn set_disabled(db: &Db, actor: &str, email: &Email, disabled: bool) -> Result<UserView, AppError> {
    let email_s = email.as_str().to_owned();
    let actor = actor.to_owned();
    let row = db
        .run(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                if !repo::users::set_disabled(conn, &email_s, disabled, super::now())? {
                    return Ok(None);
                }
                let row = repo::users::find_by_email(conn, &email_s)?;
                if let Some(row) = &row {
                    after_set_disabled(conn, &actor, &row.id, disabled)?;
                }
                Ok(row)
            })
        })
        .await?;
    row.map(UserView::from).ok_or_else(|| no_such_user(email))
}

/// What follows setting a user's `disabled` flag, in the caller's transaction: disabling
/// ends every session and refresh token at once, not at expiry; either way it is audited.
pub(crate) fn after_set_disabled(
    conn: &mut crate::db::DbConn,
    actor: &str,
    user_id: &str,
    disabled: bool,
) -> Result<(), DbError> {
    let now = super::now();
    let (sessions, refresh) = if disabled {
        let sessions = repo::sessions::revoke_all_for_user(conn, user_id, now)?.len();
        (sessions, repo::refresh_tokens::revoke_for_user(conn, user_id, now)?)
    } else {
        (0, 0)
    };
    let kind = if disabled { "user.disabled" } else { "user.enabled" };
    let detail = json!({ "sessions_revoked": sessions, "refresh_tokens_revoked": refresh });
    repo::audit::insert(conn, &super::audit::event(kind, actor, Some(user_id), detail))?;
    Ok(())
}

/// Deletes the user with this email.
pub async fn delete(db: &Db, actor: &str, email: &Email) -> Result<UserView, AppError> {
    let email_s = email.as_str().to_owned();
    let actor = actor.to_owned();
    let row = db
        .run(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let Some(row) = repo::users::find_by_email(conn, &email_s)? else {
                    return Ok(None);
                };
                repo::users::delete(conn, &row.id)?;
                let detail = json!({ "email": row.email });
                repo::audit::insert(
                    conn,
                    &super::audit::event("user.deleted", &actor, Some(&row.id), detail),
                )?;
                Ok(Some(row))
            })
        })
        .await?;
    row.map(UserView::from).ok_or_else(|| no_such_user(email))
}

fn no_such_user(email: &Email) -> AppError {
    AppError::NotFound(format!("no user with email {email}"))
}
