//! Password sign-in: constant-time answers, bounded argon2 concurrency, no fixation.

use std::sync::Arc;

use diesel::Connection;
use secrecy::SecretString;
use serde_json::json;
use tokio::sync::Semaphore;

use super::sessions::{self, Origin};
use crate::crypto::password;
use crate::db::models::SessionRow;
use crate::db::{Db, DbError, repo};
use crate::domain::Email;
use crate::error::AppError;

/// Runs argon2 on blocking threads, at most one hash per core at a time, so a sign-in storm
/// queues here instead of starving every other endpoint of threads.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Checked for unknown emails so that they take as long as a wrong password.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// Blocking (one argon2 hash for the dummy): call at start.
    pub fn new() -> anyhow::Result<PasswordHasher> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let dummy = password::hash_password(&SecretString::from(crate::crypto::random_token(24)))?;
        Ok(PasswordHasher {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: dummy.into(),
        })
    }

    /// Verifies `password` against `hash`, or against the dummy when there is no hash.
    pub async fn verify(&self, password: SecretString, hash: Option<String>) -> Result<bool, AppError> {
        let _permit = self.permits.acquire().await.map_err(|e| AppError::Internal(e.into()))?;
        let has_hash = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = tokio::task::spawn_blocking(move || password::verify_password(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(ok && has_hash)
    }

    /// Hashes a password under the same concurrency bound.
    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        let _permit = self.permits.acquire().await.map_err(|e| AppError::Internal(e.into()))?;
        Ok(tokio::task::spawn_blocking(move || password::hash_password(&password))
            .await
            .map_err(|e| AppError::Internal(e.into()))??)
    }
}

/// Why a sign-in failed. The page shows one message for all of them.
#[derive(Debug)]
pub enum LoginError {
    InvalidCredentials,
    Other(AppError),
}

impl From<AppError> for LoginError {
    fn from(e: AppError) -> Self {
        LoginError::Other(e)
    }
}

/// Checks an email and password and opens a session. Unknown email, wrong password, no
/// password and disabled account are indistinguishable to the caller, in answer and time.
pub async fn password_login(
    db: &Db,
    hasher: &PasswordHasher,
    email: &str,
    password: SecretString,
    origin: Origin,
    session_ttl: std::time::Duration,
) -> Result<SessionRow, LoginError> {
    let email = Email::parse(email).ok();
    let lookup = email.as_ref().map(|e| e.as_str().to_owned());
    let user = match lookup {
        Some(e) => db
            .run(move |conn| Ok(repo::users::find_by_email(conn, &e)?))
            .await
            .map_err(AppError::from)?,
        None => None,
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let upgrade = hash
        .as_deref()
        .is_some_and(password::needs_rehash)
        .then(|| password.clone());
    let verified = hasher.verify(password, hash).await?;
    let failure = match &user {
        None => Some("unknown_email"),
        Some(u) if u.password_hash.is_none() => Some("no_password"),
        Some(_) if !verified => Some("bad_password"),
        Some(u) if u.disabled => Some("disabled"),
        Some(_) => None,
    };
    if let Some(reason) = failure {
        let subject = user.as_ref().map(|u| u.id.clone());
        let detail = json!({ "reason": reason, "email": email.map(|e| e.to_string()), "ip": origin.ip });
        let event = super::audit::event("login.failed", "anonymous", subject.as_deref(), detail);
        db.run(move |conn| Ok(repo::audit::insert(conn, &event)?))
            .await
            .map_err(AppError::from)?;
        return Err(LoginError::InvalidCredentials);
    }
    let Some(user) = user else {
        return Err(LoginError::InvalidCredentials);
    };
    // Hashes made with older parameters are upgraded now that we know the password.
    let new_hash = match upgrade {
        Some(pw) => Some(hasher.hash(pw).await?),
        None => None,
    };
    let row = sessions::new_row(&user.id, &origin, session_ttl, super::now());
    let (inserted, user_id) = (row.clone(), user.id.clone());
    db.run_write(move |conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            repo::sessions::insert(conn, &inserted)?;
            if let Some(hash) = &new_hash {
                repo::users::set_password_hash(conn, &user_id, hash, super::now())?;
            }
            let detail = json!({ "method": "password", "session": inserted.id, "ip": inserted.ip });
            repo::audit::insert(
                conn,
                &super::audit::event("login.succeeded", &user_id, Some(&user_id), detail),
            )?;
            Ok(())
        })
    })
    .await
    .map_err(AppError::from)?;
    Ok(row)
}
