//! Which account an upstream sign-in opens. A known identity signs its user in; a new one
//! creates an account just in time; one whose address belongs to an existing account is
//! linked only after the browser proves it owns that account — never silently, and never on
//! an address the provider does not vouch for.

mod link;

pub use link::{link_to_account, link_with_password, link_with_token, mail_link, pending};

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;
use serde_json::json;

use super::accounts::{self, FormError, Link, VERIFY_EMAIL};
use super::login::LoginError;
use super::sessions::{self, Origin};
use super::upstream::Profile;
use crate::db::models::{IdentityRow, PendingLinkRow, SessionRow, UserRow};
use crate::db::{DbConn, DbError, repo};
use crate::domain::Email;
use crate::error::AppError;
use crate::startup::AppState;

/// A pending link (and its mailed token) lives this long.
const PENDING_MINUTES: i64 = 15;

/// What an upstream sign-in led to.
#[derive(Debug)]
pub enum Resolution {
    /// A session for the identity's user (created just now if `created`).
    SignedIn { session: SessionRow, created: bool },
    /// The provider vouches for an address that has an account: the browser must prove it
    /// owns the account. `pending_id` goes into its cookie.
    ProofNeeded { pending_id: String },
    /// The address has an account but the provider does not vouch for it: no link.
    UnverifiedCollision,
    /// `LATCHKEY_SIGNUP` refuses a new account for the address (the message says why).
    SignupRefused(String),
    /// The provider gave no usable address, so no account can be made.
    NoEmail,
    /// The identity's account is disabled.
    Disabled,
}

/// Why linking failed.
#[derive(Debug)]
pub enum LinkError {
    /// The pending link is unknown, expired, or already used (or the token is wrong).
    Expired,
    /// The password proof failed (the sign-in page's message applies).
    Login(LoginError),
    /// The upstream account is already linked to another account.
    LinkedElsewhere,
    /// The account already has an identity at this provider.
    ProviderTaken,
    Other(AppError),
}

impl From<DbError> for LinkError {
    fn from(e: DbError) -> Self {
        LinkError::Other(e.into())
    }
}

/// A pending link, with the account it would join.
pub struct Pending {
    pub link: PendingLinkRow,
    pub user: UserRow,
}

/// Signs in with an upstream identity. Two sign-ins racing to create the same account
/// collide on a unique index; the loser runs again and finds the winner's rows.
pub async fn sign_in(
    state: &AppState,
    profile: Profile,
    request: Option<String>,
    origin: Origin,
) -> Result<Resolution, AppError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (profile, request, origin) = (profile.clone(), request.clone(), origin.clone());
        let settings = state.settings.clone();
        let result = state
            .db
            .run_write(move |conn| {
                conn.transaction::<_, DbError, _>(|conn| resolve(conn, &settings, &profile, request, &origin))
            })
            .await;
        match result {
            Err(e) if e.is_unique_violation() && attempt < 2 => continue,
            other => return Ok(other?),
        }
    }
}

fn resolve(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    profile: &Profile,
    request: Option<String>,
    origin: &Origin,
) -> Result<Resolution, DbError> {
    let now = super::now();
    if let Some(identity) = repo::identities::find(conn, &profile.provider, &profile.subject)? {
        let Some(user) = repo::users::find_by_id(conn, &identity.user_id)? else {
            return Ok(Resolution::Disabled);
        };
        if user.disabled {
            return Ok(Resolution::Disabled);
        }
        repo::identities::touch(conn, &profile.provider, &profile.subject, profile.email.as_deref(), now)?;
        let session = open_session(conn, settings, &user.id, &profile.provider, origin, now)?;
        return Ok(Resolution::SignedIn {
            session,
            created: false,
        });
    }
    let Some(email) = profile.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Ok(Resolution::NoEmail);
    };
    if let Some(user) = repo::users::find_by_email(conn, email.as_str())? {
        if !profile.email_verified {
            return Ok(Resolution::UnverifiedCollision);
        }
        let pending_id = crate::crypto::random_token(24);
        let row = PendingLinkRow {
            id_hash: crate::crypto::hash_secret(&pending_id),
            user_id: user.id.clone(),
            provider: profile.provider.clone(),
            subject: profile.subject.clone(),
            email: email.as_str().to_owned(),
            request,
            email_token_hash: None,
            created_at: now,
            expires_at: now + Duration::minutes(PENDING_MINUTES),
        };
        repo::upstream_logins::insert_pending(conn, &row)?;
        return Ok(Resolution::ProofNeeded { pending_id });
    }
    if let Some(refusal) = accounts::signup_refusal(&settings.signup, &email) {
        return Ok(Resolution::SignupRefused(refusal));
    }
    let user = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.as_str().to_owned(),
        email_verified: profile.email_verified,
        name: profile.name.clone().unwrap_or_default(),
        password_hash: None,
        disabled: false,
        roles: String::new(),
        created_at: now,
        updated_at: now,
    };
    repo::users::insert(conn, &user)?;
    let detail = json!({ "method": profile.provider, "email_verified": profile.email_verified });
    repo::audit::insert(
        conn,
        &super::audit::event("user.signed_up", &user.id, Some(&user.id), detail),
    )?;
    add_identity(conn, &user.id, profile, "sign-up", now)?;
    if !profile.email_verified {
        // The provider does not vouch for the address: prove it the way sign-up does.
        let lifetime = Duration::from_std(settings.lifetimes.email_verify).unwrap_or(Duration::hours(24));
        let link = Link {
            kind: VERIFY_EMAIL,
            to: &user.email,
            lifetime,
            request,
            now,
        };
        accounts::send_link(conn, &settings.issuer, &user, link)?;
    }
    let session = open_session(conn, settings, &user.id, &profile.provider, origin, now)?;
    Ok(Resolution::SignedIn { session, created: true })
}

fn add_identity(
    conn: &mut DbConn,
    user_id: &str,
    profile: &Profile,
    via: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let row = IdentityRow {
        provider: profile.provider.clone(),
        subject: profile.subject.clone(),
        user_id: user_id.to_owned(),
        email: profile.email.clone(),
        created_at: now,
        last_used_at: now,
    };
    repo::identities::insert(conn, &row)?;
    let detail =
        json!({ "provider": profile.provider, "subject": profile.subject, "email": profile.email, "via": via });
    repo::audit::insert(
        conn,
        &super::audit::event("identity.linked", user_id, Some(user_id), detail),
    )?;
    Ok(())
}

fn open_session(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    user_id: &str,
    method: &str,
    origin: &Origin,
    now: NaiveDateTime,
) -> Result<SessionRow, DbError> {
    let row = sessions::new_row(user_id, origin, settings.lifetimes.session, now);
    repo::sessions::insert(conn, &row)?;
    let detail = json!({ "method": method, "session": row.id, "ip": row.ip });
    repo::audit::insert(
        conn,
        &super::audit::event("login.succeeded", user_id, Some(user_id), detail),
    )?;
    Ok(row)
}

/// The identities linked to a user.
pub async fn list(state: &AppState, user_id: &str) -> Result<Vec<IdentityRow>, AppError> {
    let user_id = user_id.to_owned();
    Ok(state
        .db
        .run(move |conn| Ok(repo::identities::list_for_user(conn, &user_id)?))
        .await?)
}

/// Removes the user's identity at `provider`, unless it is their last way to sign in.
pub async fn unlink(state: &AppState, user_id: &str, provider: &str) -> Result<(), FormError> {
    let (user_id, provider) = (user_id.to_owned(), provider.to_owned());
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let Some(user) = repo::users::find_by_id(conn, &user_id)? else {
                    return Ok(Err("Your account no longer exists."));
                };
                let identities = repo::identities::list_for_user(conn, &user_id)?;
                let Some(identity) = identities.iter().find(|i| i.provider == provider) else {
                    return Ok(Err("That sign-in method is not linked to your account."));
                };
                if user.password_hash.is_none() && identities.len() == 1 {
                    return Ok(Err(
                        "This is your only way to sign in. Set a password (use “Forgot password?” on the sign-in page) or link another provider first.",
                    ));
                }
                repo::identities::delete(conn, &user_id, &provider)?;
                let detail = json!({ "provider": provider, "subject": identity.subject });
                repo::audit::insert(conn, &super::audit::event("identity.unlinked", &user_id, Some(&user_id), detail))?;
                Ok(Ok(()))
            })
        })
        .await?
        .map_err(|message| FormError::Field(message.into()))
}

/// Removes every identity of a user, each audited, in the caller's transaction.
pub(super) fn unlink_all(conn: &mut DbConn, user_id: &str, reason: &str) -> Result<(), DbError> {
    for identity in repo::identities::list_for_user(conn, user_id)? {
        repo::identities::delete(conn, user_id, &identity.provider)?;
        let detail = json!({ "provider": identity.provider, "subject": identity.subject, "reason": reason });
        repo::audit::insert(
            conn,
            &super::audit::event("identity.unlinked", user_id, Some(user_id), detail),
        )?;
    }
    Ok(())
}
