//! What an administrator does to users. Each change is one transaction with its audit event,
//! the administrator as actor.

use chrono::Duration;
use diesel::Connection;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::db::models::{OneTimeTokenRow, UserRow};
use crate::db::{DbConn, DbError, repo};
use crate::domain::Email;
use crate::error::AppError;
use crate::mail::{self, Message};
use crate::service::accounts::{self, Link, RESET_PASSWORD, RESET_TTL_MINUTES};
use crate::service::{audit, lockout, now, users};
use crate::startup::AppState;

/// Invitations outlive reset links: the invited person may not read the mail the same day.
const INVITATION_TTL_DAYS: i64 = 7;

fn no_such_user() -> AppError {
    AppError::NotFound("There is no such user (it may have been deleted).".into())
}

/// Runs a write on the user `id`; `None` from `f` (or a missing user) is "no such user".
async fn with_user<T, F>(state: &AppState, id: &str, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, UserRow) -> Result<T, DbError> + Send + 'static,
{
    let id = id.to_owned();
    let done = state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| match repo::users::find_by_id(conn, &id)? {
                Some(user) => f(conn, user).map(Some),
                None => Ok(None),
            })
        })
        .await;
    match done {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(no_such_user()),
        Err(e) if e.is_unique_violation() => Err(AppError::Conflict("Another user already has this address.".into())),
        Err(e) => Err(e.into()),
    }
}

/// Role names as stored: sorted, without repeats, space-separated.
fn role_list(roles: &[String]) -> String {
    let mut roles: Vec<&str> = roles.iter().map(|r| r.trim()).filter(|r| !r.is_empty()).collect();
    roles.sort_unstable();
    roles.dedup();
    roles.join(" ")
}

/// Refuses names that are not roles (a stale form, or a forged one).
fn check_roles_exist(conn: &mut DbConn, roles: &[String]) -> Result<Result<(), String>, DbError> {
    let known: Vec<String> = repo::roles::list(conn)?.into_iter().map(|r| r.name).collect();
    Ok(match roles.iter().find(|r| !known.contains(r)) {
        Some(unknown) => Err(format!("There is no role named {unknown:?}.")),
        None => Ok(()),
    })
}

/// Input of [`create`].
pub struct NewUser {
    pub email: String,
    pub name: String,
    /// Typed by the administrator; `None` with `invite` set.
    pub password: Option<SecretString>,
    /// Mail a set-password link instead of taking a password.
    pub invite: bool,
    pub verified: bool,
    pub roles: Vec<String>,
}

/// Creates a user; returns the new id.
pub async fn create(state: &AppState, actor: &str, new: NewUser) -> Result<String, AppError> {
    let email = Email::parse(&new.email)?;
    let name = new.name.trim().to_owned();
    let password = new.password.filter(|p| !p.expose_secret().is_empty());
    let hash = match (&password, new.invite) {
        (Some(_), true) => {
            return Err(AppError::Invalid(
                "Either type a password or send an invitation, not both.".into(),
            ));
        }
        (None, false) => return Err(AppError::Invalid("Type a password, or send an invitation.".into())),
        (None, true) => None,
        (Some(pw), false) => {
            state
                .settings
                .password_policy
                .check(pw.expose_secret(), email.as_str(), &name)?;
            Some(state.hasher.hash(pw.clone()).await?)
        }
    };
    let (actor, issuer, invite, roles) = (actor.to_owned(), state.settings.issuer.clone(), new.invite, new.roles);
    let at = now();
    let row = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.as_str().to_owned(),
        email_verified: new.verified,
        name,
        password_hash: hash,
        disabled: false,
        roles: role_list(&roles),
        created_at: at,
        updated_at: at,
    };
    let id = row.id.clone();
    let done = state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                if let Err(message) = check_roles_exist(conn, &roles)? {
                    return Ok(Err(message));
                }
                repo::users::insert(conn, &row)?;
                if invite {
                    invite_user(conn, &issuer, &row)?;
                }
                let detail = json!({ "email": row.email, "roles": row.roles, "invited": invite });
                repo::audit::insert(conn, &audit::event("user.created", &actor, Some(&row.id), detail))?;
                Ok(Ok(()))
            })
        })
        .await;
    match done {
        Ok(Ok(())) => Ok(id),
        Ok(Err(message)) => Err(AppError::Invalid(message)),
        Err(e) if e.is_unique_violation() => Err(AppError::Conflict(format!(
            "A user with the address {email} already exists."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// An invitation is a reset link that lives longer, so `/reset-password` sets the first
/// password (and, proving the mailbox, verifies the address).
fn invite_user(conn: &mut DbConn, issuer: &str, user: &UserRow) -> Result<(), DbError> {
    let token = crate::crypto::random_token(32);
    let at = now();
    repo::one_time_tokens::insert(
        conn,
        &OneTimeTokenRow {
            token_hash: crate::crypto::hash_secret(&token),
            kind: RESET_PASSWORD.to_owned(),
            user_id: user.id.clone(),
            email: user.email.clone(),
            request: None,
            created_at: at,
            expires_at: at + Duration::days(INVITATION_TTL_DAYS),
            used_at: None,
        },
    )?;
    let message = Message::Invitation {
        to: user.email.clone(),
        link: format!("{issuer}/reset-password?token={token}"),
    };
    mail::enqueue(conn, &message)
}

/// What the profile form sets.
pub struct Profile {
    pub name: String,
    pub email: String,
    pub verified: bool,
}

pub async fn update_profile(state: &AppState, actor: &str, id: &str, profile: Profile) -> Result<(), AppError> {
    let email = Email::parse(&profile.email)?;
    let name = profile.name.trim().to_owned();
    let actor = actor.to_owned();
    with_user(state, id, move |conn, user| {
        repo::user_admin::set_profile(conn, &user.id, &name, email.as_str(), profile.verified, now())?;
        let detail = json!({
            "name": { "from": user.name, "to": name },
            "email": { "from": user.email, "to": email.as_str() },
            "email_verified": { "from": user.email_verified, "to": profile.verified },
        });
        Ok(repo::audit::insert(
            conn,
            &audit::event("user.updated", &actor, Some(&user.id), detail),
        )?)
    })
    .await
}

/// Replaces the user's roles; they appear in the next token issued with the `roles` scope.
pub async fn set_roles(state: &AppState, actor: &str, id: &str, roles: Vec<String>) -> Result<(), AppError> {
    if actor == id && !roles.iter().any(|r| r == "admin") {
        return Err(AppError::Invalid(
            "You cannot take the admin role from yourself: another administrator can.".into(),
        ));
    }
    let actor = actor.to_owned();
    let refused = with_user(state, id, move |conn, user| {
        if let Err(message) = check_roles_exist(conn, &roles)? {
            return Ok(Some(message));
        }
        let list = role_list(&roles);
        repo::user_admin::set_roles(conn, &user.id, &list, now())?;
        let detail = json!({ "from": user.roles, "to": list });
        repo::audit::insert(
            conn,
            &audit::event("user.roles_changed", &actor, Some(&user.id), detail),
        )?;
        Ok(None)
    })
    .await?;
    refused.map_or(Ok(()), |message| Err(AppError::Invalid(message)))
}

/// Disabling also ends every session and refresh token of the user, in the same transaction.
pub async fn set_disabled(state: &AppState, actor: &str, id: &str, disabled: bool) -> Result<(), AppError> {
    if disabled && actor == id {
        return Err(AppError::Invalid("You cannot disable your own account.".into()));
    }
    let actor = actor.to_owned();
    with_user(state, id, move |conn, user| {
        repo::user_admin::set_disabled(conn, &user.id, disabled, now())?;
        users::after_set_disabled(conn, &actor, &user.id, disabled)
    })
    .await
}

/// Forgets the failed sign-ins counted against the user's address, ending a lock.
pub async fn unlock(state: &AppState, actor: &str, id: &str) -> Result<(), AppError> {
    let actor = actor.to_owned();
    with_user(state, id, move |conn, user| {
        lockout::clear(conn, &lockout::subject(&user.email))?;
        Ok(repo::audit::insert(
            conn,
            &audit::event("user.unlocked", &actor, Some(&user.id), json!({})),
        )?)
    })
    .await
}

/// Mails the user a password reset link, as `/forgot-password` would.
pub async fn send_password_reset(state: &AppState, actor: &str, id: &str) -> Result<(), AppError> {
    let (actor, issuer) = (actor.to_owned(), state.settings.issuer.clone());
    let refused = with_user(state, id, move |conn, user| {
        if user.disabled {
            return Ok(Some("This user is disabled: enable them before sending a reset link."));
        }
        let link = Link {
            kind: RESET_PASSWORD,
            to: &user.email,
            lifetime: Duration::minutes(RESET_TTL_MINUTES),
            request: None,
            now: now(),
        };
        accounts::send_link(conn, &issuer, &user, link)?;
        repo::audit::insert(
            conn,
            &audit::event("password.reset_sent", &actor, Some(&user.id), json!({})),
        )?;
        Ok(None)
    })
    .await?;
    refused.map_or(Ok(()), |message| Err(AppError::Invalid(message.into())))
}

/// Ends every session and refresh token of the user; the account stays usable.
pub async fn sign_out_everywhere(state: &AppState, actor: &str, id: &str) -> Result<(), AppError> {
    let actor = actor.to_owned();
    with_user(state, id, move |conn, user| {
        let at = now();
        let sessions = repo::sessions::revoke_all_for_user(conn, &user.id, at)?.len();
        let refresh = repo::refresh_tokens::revoke_for_user(conn, &user.id, at)?;
        let detail = json!({ "sessions_revoked": sessions, "refresh_tokens_revoked": refresh });
        Ok(repo::audit::insert(
            conn,
            &audit::event("user.signed_out", &actor, Some(&user.id), detail),
        )?)
    })
    .await
}

/// Deletes the user (sessions, tokens, identities and consents go with the row).
pub async fn delete(state: &AppState, actor: &str, id: &str) -> Result<String, AppError> {
    if actor == id {
        return Err(AppError::Invalid("You cannot delete your own account here.".into()));
    }
    let actor = actor.to_owned();
    with_user(state, id, move |conn, user| {
        // Access tokens already issued stay valid until they expire unless denied now.
        repo::refresh_tokens::revoke_for_user(conn, &user.id, now())?;
        repo::users::delete(conn, &user.id)?;
        lockout::clear(conn, &lockout::subject(&user.email))?;
        let detail = json!({ "email": user.email });
        repo::audit::insert(conn, &audit::event("user.deleted", &actor, Some(&user.id), detail))?;
        Ok(user.email)
    })
    .await
}
