//! The signed-in user's own account: name, password, sessions, deletion.

use diesel::Connection;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::accounts::{CHANGE_EMAIL, FormError};
use super::sessions::LiveSession;
use crate::db::models::SessionRow;
use crate::db::{DbError, repo};
use crate::error::AppError;
use crate::mail::Message;
use crate::startup::AppState;

/// The user's live sessions, newest first.
pub async fn sessions(state: &AppState, user_id: &str) -> Result<Vec<SessionRow>, AppError> {
    let id = user_id.to_owned();
    Ok(state
        .db
        .run(move |conn| Ok(repo::sessions::list_live_for_user(conn, &id, super::now())?))
        .await?)
}

/// Ends one of the user's sessions (and its refresh tokens). Someone else's session id is
/// ignored, as if it did not exist.
pub async fn end_session(state: &AppState, user_id: &str, session_id: &str) -> Result<(), AppError> {
    let mine = sessions(state, user_id).await?.iter().any(|s| s.id == session_id);
    if mine {
        super::sessions::end(&state.db, session_id, user_id, "revoked_by_user").await?;
    }
    Ok(())
}

/// Ends every session of the user but `keep`.
pub async fn end_other_sessions(state: &AppState, user_id: &str, keep: &str) -> Result<usize, AppError> {
    let others: Vec<String> = sessions(state, user_id)
        .await?
        .into_iter()
        .map(|s| s.id)
        .filter(|id| id != keep)
        .collect();
    for id in &others {
        super::sessions::end(&state.db, id, user_id, "revoked_by_user").await?;
    }
    Ok(others.len())
}

pub async fn rename(state: &AppState, user_id: &str, name: &str) -> Result<(), FormError> {
    let name = name.trim().to_owned();
    if name.chars().count() > 200 {
        return Err(FormError::Field("Use at most 200 characters for your name.".into()));
    }
    let id = user_id.to_owned();
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                repo::users::set_name(conn, &id, &name, super::now())?;
                repo::audit::insert(conn, &super::audit::event("user.renamed", &id, Some(&id), json!({})))?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// Checks the password of a signed-in user (re-entry before sensitive changes).
async fn check_current(state: &AppState, live: &LiveSession, password: SecretString) -> Result<(), FormError> {
    let ok = state.hasher.verify(password, live.user.password_hash.clone()).await?;
    if ok {
        Ok(())
    } else {
        Err(FormError::Field("Your current password is not right.".into()))
    }
}

/// Sets a new password after checking the current one. Every other session and every refresh
/// token of the user is revoked: whoever knew the old password is out.
pub async fn change_password(
    state: &AppState,
    live: &LiveSession,
    current: SecretString,
    new: SecretString,
    confirm: SecretString,
) -> Result<(), FormError> {
    check_current(state, live, current).await?;
    if new.expose_secret() != confirm.expose_secret() {
        return Err(FormError::Field("The two new passwords do not match.".into()));
    }
    let (email, name) = (&live.user.email, &live.user.name);
    state
        .settings
        .password_policy
        .check(new.expose_secret(), email, name)
        .map_err(|e| FormError::Field(e.0))?;
    let hash = state.hasher.hash(new).await?;
    let (user_id, keep) = (live.user.id.clone(), live.session.id.clone());
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                repo::users::set_password_hash(conn, &user_id, &hash, now)?;
                let refresh = repo::refresh_tokens::revoke_for_user(conn, &user_id, now)?;
                let mut ended = 0;
                for s in repo::sessions::list_live_for_user(conn, &user_id, now)? {
                    if s.id != keep && repo::sessions::revoke(conn, &s.id, now)? {
                        ended += 1;
                    }
                }
                let detail = json!({ "sessions_revoked": ended, "refresh_tokens_revoked": refresh });
                repo::audit::insert(
                    conn,
                    &super::audit::event("password.changed", &user_id, Some(&user_id), detail),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// Deletes the account after the password is entered again. Sessions, consents, codes and
/// refresh tokens go with it (foreign keys cascade); the audit log keeps the event.
pub async fn delete(state: &AppState, live: &LiveSession, password: SecretString) -> Result<(), FormError> {
    check_current(state, live, password).await?;
    let (user_id, email) = (live.user.id.clone(), live.user.email.clone());
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                repo::refresh_tokens::revoke_for_user(conn, &user_id, now)?;
                repo::users::delete(conn, &user_id)?;
                let event = super::audit::event(
                    "user.deleted",
                    &user_id,
                    Some(&user_id),
                    json!({ "email": email, "by": "self" }),
                );
                repo::audit::insert(conn, &event)?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// Starts an email change: a link goes to the new address, and the change happens only when
/// it is followed. The page answers the same whether or not another account has that address.
pub async fn request_email_change(
    state: &AppState,
    live: &LiveSession,
    new_email: &str,
    password: SecretString,
) -> Result<(), FormError> {
    check_current(state, live, password).await?;
    let email = crate::domain::Email::parse(new_email).map_err(|e| FormError::Field(e.0))?;
    if email.as_str() == live.user.email {
        return Err(FormError::Field("That is already your address.".into()));
    }
    let (user, issuer, ttl) = (
        live.user.clone(),
        state.settings.issuer.clone(),
        state.settings.lifetimes.email_verify,
    );
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                let detail = json!({ "new_email": email.as_str() });
                repo::audit::insert(
                    conn,
                    &super::audit::event("email.change_requested", &user.id, Some(&user.id), detail),
                )?;
                if repo::users::find_by_email(conn, email.as_str())?.is_some() {
                    return Ok(());
                }
                let lifetime = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(24));
                let link = super::accounts::Link {
                    kind: CHANGE_EMAIL,
                    to: email.as_str(),
                    lifetime,
                    request: None,
                    now,
                };
                super::accounts::send_link(conn, &issuer, &user, link)
            })
        })
        .await?;
    Ok(())
}

/// Applies an email change from its link; the old address is told. `false` for a bad, used
/// or expired link, or when the address was taken in the meantime.
pub async fn confirm_email_change(state: &AppState, token: &str) -> Result<bool, AppError> {
    let hash = crate::crypto::hash_secret(token);
    let changed = state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                if !repo::one_time_tokens::spend(conn, &hash, CHANGE_EMAIL, now)? {
                    return Ok(false);
                }
                let Some(link) = repo::one_time_tokens::find(conn, &hash)? else {
                    return Ok(false);
                };
                let Some(user) = repo::users::find_by_id(conn, &link.user_id)? else {
                    return Ok(false);
                };
                if repo::users::find_by_email(conn, &link.email)?.is_some() {
                    return Ok(false);
                }
                repo::users::set_verified_email(conn, &user.id, &link.email, now)?;
                let message = Message::EmailChanged {
                    to: user.email.clone(),
                    new_email: link.email.clone(),
                };
                crate::mail::enqueue(conn, &message)?;
                let detail = json!({ "old_email": user.email, "new_email": link.email });
                repo::audit::insert(
                    conn,
                    &super::audit::event("email.changed", &user.id, Some(&user.id), detail),
                )?;
                Ok(true)
            })
        })
        .await?;
    Ok(changed)
}
