//! Self-service accounts: sign-up, email verification and password reset. Every answer is
//! the same whether or not an account exists; the difference goes to the mailbox only.

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::config::SignupPolicy;
use crate::db::models::{OneTimeTokenRow, UserRow};
use crate::db::{DbConn, DbError, repo};
use crate::domain::Email;
use crate::error::AppError;
use crate::mail::{self, Message};
use crate::startup::AppState;

pub const VERIFY_EMAIL: &str = "verify_email";
pub const RESET_PASSWORD: &str = "reset_password";
/// A link proving a new address before the account's email changes to it.
pub const CHANGE_EMAIL: &str = "change_email";
/// Reset links live one hour (issue: "token single-use, hashed, 1 h").
pub(super) const RESET_TTL_MINUTES: i64 = 60;
/// At most one verification or reset mail per account per minute, whatever is asked.
const RESEND_INTERVAL_SECS: i64 = 60;

/// Why a form was refused; `Field` messages are shown beside the kept form.
#[derive(Debug)]
pub enum FormError {
    Field(String),
    Other(AppError),
}

impl From<AppError> for FormError {
    fn from(e: AppError) -> Self {
        FormError::Other(e)
    }
}

impl From<DbError> for FormError {
    fn from(e: DbError) -> Self {
        FormError::Other(e.into())
    }
}

/// What a person typed on the sign-up page.
pub struct SignupForm {
    pub email: String,
    pub name: String,
    pub password: SecretString,
    pub confirm: SecretString,
    /// The authorization request to resume once the address is verified.
    pub request: Option<String>,
}

/// Whether sign-up is offered at all (`LATCHKEY_SIGNUP=closed` hides it).
pub fn signup_open(state: &AppState) -> bool {
    state.settings.signup != SignupPolicy::Closed
}

/// Why `LATCHKEY_SIGNUP` refuses a new account for this address, if it does. Shared by the
/// sign-up form and just-in-time creation after an upstream sign-in.
pub fn signup_refusal(policy: &SignupPolicy, email: &Email) -> Option<String> {
    match policy {
        SignupPolicy::Open => None,
        SignupPolicy::Closed => Some("Sign-up is closed on this server.".into()),
        SignupPolicy::Domains(domains) => {
            let domain = email.as_str().rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            (!domains.iter().any(|d| d == domain))
                .then(|| format!("Sign-up is open to addresses at {} only.", domains.join(", ")))
        }
    }
}

/// Registers an account and mails a verification link; for an address that already has an
/// account, mails its owner instead. The caller shows "check your email" either way.
pub async fn sign_up(state: &AppState, form: SignupForm) -> Result<(), FormError> {
    let email = Email::parse(&form.email).map_err(|e| FormError::Field(e.0))?;
    if let Some(refusal) = signup_refusal(&state.settings.signup, &email) {
        return Err(FormError::Field(refusal));
    }
    let name = form.name.trim().to_owned();
    if form.password.expose_secret() != form.confirm.expose_secret() {
        return Err(FormError::Field("The two passwords do not match.".into()));
    }
    state
        .settings
        .password_policy
        .check(form.password.expose_secret(), email.as_str(), &name)
        .map_err(|e| FormError::Field(e.0))?;
    // Hashed before we know whether the account exists, so both paths take the same time.
    let hash = state.hasher.hash(form.password).await?;
    let (issuer, ttl) = (state.settings.issuer.clone(), state.settings.lifetimes.email_verify);
    let request = form.request.filter(|r| !r.is_empty());
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                if let Some(existing) = repo::users::find_by_email(conn, email.as_str())? {
                    let message = Message::SignupAttempt {
                        to: existing.email.clone(),
                        sign_in_link: format!("{issuer}/login"),
                        reset_link: format!("{issuer}/forgot-password"),
                    };
                    mail::enqueue(conn, &message)?;
                    let event =
                        super::audit::event("signup.existing_email", "anonymous", Some(&existing.id), json!({}));
                    repo::audit::insert(conn, &event)?;
                    return Ok(());
                }
                let user = UserRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    email: email.as_str().to_owned(),
                    email_verified: false,
                    name,
                    password_hash: Some(hash),
                    disabled: false,
                    roles: String::new(),
                    created_at: now,
                    updated_at: now,
                };
                repo::users::insert(conn, &user)?;
                let lifetime = Duration::from_std(ttl).unwrap_or(Duration::hours(24));
                send_link(
                    conn,
                    &issuer,
                    &user,
                    Link {
                        kind: VERIFY_EMAIL,
                        to: &user.email,
                        lifetime,
                        request,
                        now,
                    },
                )?;
                repo::audit::insert(
                    conn,
                    &super::audit::event("user.signed_up", &user.id, Some(&user.id), json!({})),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// What a mailed link is for, and where it goes.
pub(super) struct Link<'a> {
    pub kind: &'a str,
    /// The address the link goes to, and so proves (the new one, for an email change).
    pub to: &'a str,
    pub lifetime: Duration,
    /// The authorization request to resume afterwards.
    pub request: Option<String>,
    pub now: NaiveDateTime,
}

/// Creates a single-use link token (256 random bits, stored hashed) and queues its mail.
pub(super) fn send_link(conn: &mut DbConn, issuer: &str, user: &UserRow, link: Link) -> Result<(), DbError> {
    let Link {
        kind,
        to,
        lifetime,
        request,
        now,
    } = link;
    let token = crate::crypto::random_token(32);
    let row = OneTimeTokenRow {
        token_hash: crate::crypto::hash_secret(&token),
        kind: kind.to_owned(),
        user_id: user.id.clone(),
        // The address the link goes to, and so proves (the new one, for an email change).
        email: to.to_owned(),
        request,
        created_at: now,
        expires_at: now + lifetime,
        used_at: None,
    };
    repo::one_time_tokens::insert(conn, &row)?;
    let message = if kind == VERIFY_EMAIL || kind == CHANGE_EMAIL {
        Message::VerifyEmail {
            to: row.email.clone(),
            link: format!("{issuer}/verify-email?token={token}"),
        }
    } else {
        Message::ResetPassword {
            to: user.email.clone(),
            link: format!("{issuer}/reset-password?token={token}"),
        }
    };
    mail::enqueue(conn, &message)
}

/// Whether a link of this kind went to the user less than a minute ago.
fn sent_recently(conn: &mut DbConn, user_id: &str, kind: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let latest = repo::one_time_tokens::latest_created(conn, user_id, kind)?;
    Ok(latest.is_some_and(|t| now - t < Duration::seconds(RESEND_INTERVAL_SECS)))
}

/// Spends a verification link and marks the address verified. Returns the authorization
/// request to resume, if the sign-up started at one; `None` for a bad or used link.
pub async fn verify_email(state: &AppState, token: &str) -> Result<Option<Option<String>>, AppError> {
    let hash = crate::crypto::hash_secret(token);
    let outcome = state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                if !repo::one_time_tokens::spend(conn, &hash, VERIFY_EMAIL, now)? {
                    return Ok(None);
                }
                let Some(row) = repo::one_time_tokens::find(conn, &hash)? else {
                    return Ok(None);
                };
                repo::users::mark_verified(conn, &row.user_id, &row.email, now)?;
                let event = super::audit::event("email.verified", &row.user_id, Some(&row.user_id), json!({}));
                repo::audit::insert(conn, &event)?;
                Ok(Some(row.request))
            })
        })
        .await?;
    Ok(outcome)
}

/// Mails a fresh verification link if the address has an unverified account (at most once
/// a minute). Says nothing about whether it did.
pub async fn resend_verification(state: &AppState, email: &str) -> Result<(), AppError> {
    let Ok(email) = Email::parse(email) else { return Ok(()) };
    let (issuer, ttl) = (state.settings.issuer.clone(), state.settings.lifetimes.email_verify);
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                let Some(user) = repo::users::find_by_email(conn, email.as_str())? else {
                    return Ok(());
                };
                if user.email_verified || user.disabled || sent_recently(conn, &user.id, VERIFY_EMAIL, now)? {
                    return Ok(());
                }
                let lifetime = Duration::from_std(ttl).unwrap_or(Duration::hours(24));
                send_link(
                    conn,
                    &issuer,
                    &user,
                    Link {
                        kind: VERIFY_EMAIL,
                        to: &user.email,
                        lifetime,
                        request: None,
                        now,
                    },
                )
            })
        })
        .await?;
    Ok(())
}

/// Mails a reset link if the address has an account (at most once a minute). Says nothing
/// about whether it did.
pub async fn forgot_password(state: &AppState, email: &str) -> Result<(), AppError> {
    let Ok(email) = Email::parse(email) else { return Ok(()) };
    let issuer = state.settings.issuer.clone();
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                let Some(user) = repo::users::find_by_email(conn, email.as_str())? else {
                    return Ok(());
                };
                if user.disabled || sent_recently(conn, &user.id, RESET_PASSWORD, now)? {
                    return Ok(());
                }
                send_link(
                    conn,
                    &issuer,
                    &user,
                    Link {
                        kind: RESET_PASSWORD,
                        to: &user.email,
                        lifetime: Duration::minutes(RESET_TTL_MINUTES),
                        request: None,
                        now,
                    },
                )?;
                repo::audit::insert(
                    conn,
                    &super::audit::event("password.reset_requested", "anonymous", Some(&user.id), json!({})),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// Whether a reset link can still be used (to show the form, or say it expired).
pub async fn reset_link_usable(state: &AppState, token: &str) -> Result<bool, AppError> {
    let hash = crate::crypto::hash_secret(token);
    let found = state
        .db
        .run(move |conn| {
            Ok(repo::one_time_tokens::find_usable(
                conn,
                &hash,
                RESET_PASSWORD,
                super::now(),
            )?)
        })
        .await?;
    Ok(found.is_some())
}

/// Sets a new password from a reset link. The link is spent, every session and refresh token
/// of the user is revoked, and other open reset links die: whoever had the old password, or
/// a session, is out at once. Proving the mailbox also verifies the address.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    password: SecretString,
    confirm: SecretString,
) -> Result<(), FormError> {
    let hash = crate::crypto::hash_secret(token);
    let lookup = hash.clone();
    let found = state
        .db
        .run(move |conn| {
            Ok(repo::one_time_tokens::find_usable(
                conn,
                &lookup,
                RESET_PASSWORD,
                super::now(),
            )?)
        })
        .await?;
    let Some(link) = found else {
        return Err(FormError::Field(INVALID_LINK.into()));
    };
    if password.expose_secret() != confirm.expose_secret() {
        return Err(FormError::Field("The two passwords do not match.".into()));
    }
    let user_id = link.user_id.clone();
    let user = state
        .db
        .run(move |conn| Ok(repo::users::find_by_id(conn, &user_id)?))
        .await?;
    let Some(user) = user else {
        return Err(FormError::Field(INVALID_LINK.into()));
    };
    state
        .settings
        .password_policy
        .check(password.expose_secret(), &user.email, &user.name)
        .map_err(|e| FormError::Field(e.0))?;
    let new_hash = state.hasher.hash(password).await?;
    let spent = state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = super::now();
                if !repo::one_time_tokens::spend(conn, &hash, RESET_PASSWORD, now)? {
                    return Ok(false);
                }
                repo::one_time_tokens::spend_all(conn, &user.id, RESET_PASSWORD, now)?;
                repo::users::set_password_hash(conn, &user.id, &new_hash, now)?;
                repo::users::mark_verified(conn, &user.id, &link.email, now)?;
                if !user.email_verified {
                    // Nobody had proven the address when these were linked: someone may have
                    // made the account in advance to keep a way in. The mailbox's owner decides.
                    super::identities::unlink_all(conn, &user.id, "password reset of an unverified account")?;
                }
                // Whoever reset the password owns the mailbox: their lockout ends.
                super::lockout::clear(conn, &super::lockout::subject(&user.email))?;
                let sessions = repo::sessions::revoke_all_for_user(conn, &user.id, now)?.len();
                let refresh = repo::refresh_tokens::revoke_for_user(conn, &user.id, now)?;
                let detail = json!({ "sessions_revoked": sessions, "refresh_tokens_revoked": refresh });
                repo::audit::insert(
                    conn,
                    &super::audit::event("password.reset", &user.id, Some(&user.id), detail),
                )?;
                Ok(true)
            })
        })
        .await?;
    if spent {
        Ok(())
    } else {
        Err(FormError::Field(INVALID_LINK.into()))
    }
}

/// Shown for an unknown, used or expired link.
pub const INVALID_LINK: &str = "This link is invalid or has expired. Ask for a new one.";
