//! Linking an upstream identity to an existing account: after a password sign-in or a
//! mailed single-use link (pending links), or by the signed-in user on the account page.

use diesel::Connection;
use secrecy::SecretString;
use subtle::ConstantTimeEq;

use super::{LinkError, Pending, add_identity, open_session};
use crate::db::models::{PendingLinkRow, SessionRow};
use crate::db::{DbConn, DbError, repo};
use crate::error::AppError;
use crate::mail::{self, Message};
use crate::service::login;
use crate::service::sessions::Origin;
use crate::service::upstream::Profile;
use crate::startup::AppState;

/// The pending link this browser's cookie names, if it is still usable.
pub async fn pending(state: &AppState, pending_id: &str) -> Result<Option<Pending>, AppError> {
    let hash = crate::crypto::hash_secret(pending_id);
    Ok(state
        .db
        .run(move |conn| {
            let Some(link) = repo::upstream_logins::find_pending(conn, &hash, crate::service::now())? else {
                return Ok(None);
            };
            Ok(repo::users::find_by_id(conn, &link.user_id)?.map(|user| Pending { link, user }))
        })
        .await?)
}

/// Links after a password sign-in to the account (counted by the brute-force rules like any
/// other). Returns the new session and the authorization request to resume.
pub async fn link_with_password(
    state: &AppState,
    pending_id: &str,
    password: SecretString,
    origin: Origin,
) -> Result<(SessionRow, Option<String>), LinkError> {
    let Some(p) = pending(state, pending_id).await.map_err(LinkError::Other)? else {
        return Err(LinkError::Expired);
    };
    // Checked before the password, so that a link that cannot be made does not leave a
    // session behind; `spend_pending` checks again inside the transaction.
    let (provider, subject, user_id) = (p.link.provider.clone(), p.link.subject.clone(), p.user.id.clone());
    let conflict = state
        .db
        .run(move |conn| {
            if repo::identities::find(conn, &provider, &subject)?.is_some() {
                return Ok(Some(LinkError::LinkedElsewhere));
            }
            let taken = repo::identities::list_for_user(conn, &user_id)?;
            Ok(taken
                .iter()
                .any(|i| i.provider == provider)
                .then_some(LinkError::ProviderTaken))
        })
        .await?;
    if let Some(refused) = conflict {
        return Err(refused);
    }
    let (db, hasher, settings) = (&state.db, &state.hasher, &state.settings);
    let session = login::password_login(db, hasher, &p.user.email, password, origin, settings)
        .await
        .map_err(LinkError::Login)?;
    let link = p.link.clone();
    state
        .db
        .run_write(move |conn| conn.transaction::<_, DbError, _>(|conn| spend_pending(conn, &link, "password")))
        .await
        .map_err(link_error)??;
    Ok((session, p.link.request))
}

/// Mails the account's owner a single-use link that completes the pending link. Offered
/// only when the account's address is verified: an unverified account may have been made
/// by someone else in advance, and its password must be reset, not kept.
pub async fn mail_link(state: &AppState, pending_id: &str, display_name: &str) -> Result<bool, AppError> {
    let Some(p) = pending(state, pending_id).await? else {
        return Ok(false);
    };
    if !p.user.email_verified {
        return Ok(false);
    }
    let token = crate::crypto::random_token(32);
    let message = Message::LinkIdentity {
        to: p.user.email.clone(),
        link: format!("{}/login/link/confirm?token={token}", state.settings.issuer),
        provider: display_name.to_owned(),
    };
    let (id_hash, token_hash) = (p.link.id_hash.clone(), crate::crypto::hash_secret(&token));
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                repo::upstream_logins::set_email_token(conn, &id_hash, &token_hash)?;
                mail::enqueue(conn, &message)
            })
        })
        .await?;
    Ok(true)
}

/// Links with the mailed token, in the browser whose cookie names the pending link, and
/// signs that browser in. Returns the session and the authorization request to resume.
pub async fn link_with_token(
    state: &AppState,
    pending_id: &str,
    token: &str,
    origin: Origin,
) -> Result<(SessionRow, Option<String>), LinkError> {
    let Some(p) = pending(state, pending_id).await.map_err(LinkError::Other)? else {
        return Err(LinkError::Expired);
    };
    let presented = crate::crypto::hash_secret(token);
    let matches = p
        .link
        .email_token_hash
        .as_deref()
        .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(presented.as_bytes())));
    if !matches || p.user.disabled {
        return Err(LinkError::Expired);
    }
    let settings = state.settings.clone();
    let link = p.link.clone();
    let session = state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                if let Err(refused) = spend_pending(conn, &link, "email")? {
                    return Ok(Err(refused));
                }
                let now = crate::service::now();
                let session = open_session(conn, &settings, &link.user_id, &link.provider, &origin, now)?;
                Ok(Ok(session))
            })
        })
        .await
        .map_err(link_error)??;
    Ok((session, p.link.request))
}

/// Spends a pending link and adds its identity. The outer error rolls the transaction back.
fn spend_pending(conn: &mut DbConn, link: &PendingLinkRow, via: &str) -> Result<Result<(), LinkError>, DbError> {
    if !repo::upstream_logins::delete_pending(conn, &link.id_hash)? {
        return Ok(Err(LinkError::Expired));
    }
    if repo::identities::find(conn, &link.provider, &link.subject)?.is_some() {
        return Ok(Err(LinkError::LinkedElsewhere));
    }
    let profile = Profile {
        provider: link.provider.clone(),
        subject: link.subject.clone(),
        email: Some(link.email.clone()),
        email_verified: true,
        name: None,
    };
    add_identity(conn, &link.user_id, &profile, via, crate::service::now())?;
    Ok(Ok(()))
}

fn link_error(e: DbError) -> LinkError {
    if e.is_unique_violation() {
        LinkError::ProviderTaken
    } else {
        LinkError::Other(e.into())
    }
}

/// Links an upstream identity to the signed-in user who asked for it on the account page.
pub async fn link_to_account(state: &AppState, user_id: &str, profile: Profile) -> Result<(), LinkError> {
    let user_id = user_id.to_owned();
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let now = crate::service::now();
                match repo::identities::find(conn, &profile.provider, &profile.subject)? {
                    Some(existing) if existing.user_id == user_id => {
                        repo::identities::touch(
                            conn,
                            &profile.provider,
                            &profile.subject,
                            profile.email.as_deref(),
                            now,
                        )?;
                        Ok(Ok(()))
                    }
                    Some(_) => Ok(Err(LinkError::LinkedElsewhere)),
                    None => {
                        add_identity(conn, &user_id, &profile, "account", now)?;
                        Ok(Ok(()))
                    }
                }
            })
        })
        .await
        .map_err(link_error)?
}
