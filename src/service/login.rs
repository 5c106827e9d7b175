//! Password sign-in: constant-time answers, bounded argon2 concurrency, no fixation.

use std::sync::Arc;

use diesel::Connection;
use secrecy::SecretString;
use serde_json::json;
use tokio::sync::Semaphore;

use super::lockout;
use super::sessions::{self, Origin};
use crate::config::{BruteForce, Settings};
use crate::crypto::password;
use crate::db::models::SessionRow;
use crate::db::{Db, DbError, repo};
use crate::domain::Email;
use crate::error::AppError;
use crate::mail::{self, Message};

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

/// Why a sign-in failed. The page shows one message for the first two: the second adds that
/// attempts are being refused for a while, whether or not the password was right.
#[derive(Debug)]
pub enum LoginError {
    InvalidCredentials,
    /// Too many failures for this address: a progressive delay or a lock is running.
    TooManyAttempts,
    Other(AppError),
}

impl From<AppError> for LoginError {
    fn from(e: AppError) -> Self {
        LoginError::Other(e)
    }
}

/// Checks an email and password and opens a session. Unknown email, wrong password, no
/// password and disabled account are indistinguishable to the caller, in answer and time;
/// so are a delayed or locked real address and a delayed or locked unknown one.
pub async fn password_login(
    db: &Db,
    hasher: &PasswordHasher,
    typed_email: &str,
    password: SecretString,
    origin: Origin,
    settings: &Settings,
) -> Result<SessionRow, LoginError> {
    let subject = lockout::subject(typed_email);
    let email = Email::parse(typed_email).ok();
    let lookup = email.as_ref().map(|e| e.as_str().to_owned());
    let user = match lookup {
        Some(e) => db
            .run(move |conn| Ok(repo::users::find_by_email(conn, &e)?))
            .await
            .map_err(AppError::from)?,
        None => None,
    };
    let email = email.map(|e| e.to_string());
    let user_id = user.as_ref().map(|u| u.id.clone());
    let now = settings.clock.now();
    if lockout::is_blocked(db, &subject, now).await.map_err(AppError::from)? {
        // Refused before the password is looked at: the answer cannot depend on it.
        let detail = json!({ "reason": "throttled", "email": email, "ip": origin.ip });
        let event = super::audit::event("login.failed", "anonymous", user_id.as_deref(), detail);
        db.run_write(move |conn| Ok(repo::audit::insert(conn, &event)?))
            .await
            .map_err(AppError::from)?;
        return Err(LoginError::TooManyAttempts);
    }
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
        let record = FailedAttempt {
            subject,
            reason,
            email,
            user: user.as_ref().map(|u| (u.id.clone(), u.email.clone())),
            ip: origin.ip.clone(),
            now: settings.clock.now(),
            rules: settings.brute_force.clone(),
        };
        let counted = match count_failure(db, record.clone()).await {
            // Two replicas created the same counter at once; it exists now.
            Err(e) if e.is_unique_violation() => count_failure(db, record).await,
            other => other,
        };
        let counted = counted.map_err(AppError::from)?;
        return Err(match counted.locked_until {
            Some(_) => LoginError::TooManyAttempts,
            None => LoginError::InvalidCredentials,
        });
    }
    let Some(user) = user else {
        return Err(LoginError::InvalidCredentials);
    };
    // Hashes made with older parameters are upgraded now that we know the password.
    let new_hash = match upgrade {
        Some(pw) => Some(hasher.hash(pw).await?),
        None => None,
    };
    let row = sessions::new_row(&user.id, &origin, settings.lifetimes.session, super::now());
    let (inserted, user_id) = (row.clone(), user.id.clone());
    db.run_write(move |conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            repo::sessions::insert(conn, &inserted)?;
            lockout::clear(conn, &subject)?;
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

/// A failed attempt, as it is counted and audited.
#[derive(Clone)]
struct FailedAttempt {
    subject: String,
    reason: &'static str,
    email: Option<String>,
    /// The account's id and address, when the email belongs to one.
    user: Option<(String, String)>,
    ip: Option<String>,
    now: chrono::NaiveDateTime,
    rules: BruteForce,
}

/// Counts the failure and audits it in one transaction; a failure that locks the address
/// is audited as `login.locked` too, and its owner (if any) is mailed, once per lock.
async fn count_failure(db: &Db, a: FailedAttempt) -> Result<lockout::Failure, DbError> {
    db.run_write(move |conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            let counted = lockout::record_failure(conn, &a.subject, a.now, &a.rules)?;
            let user_id = a.user.as_ref().map(|(id, _)| id.as_str());
            let detail = json!({ "reason": a.reason, "email": a.email, "ip": a.ip, "failures": counted.count });
            repo::audit::insert(conn, &super::audit::event("login.failed", "anonymous", user_id, detail))?;
            if let Some(until) = counted.locked_until {
                let until = until.and_utc();
                let detail = json!({
                    "email": a.email, "ip": a.ip, "failures": counted.count, "until": until.to_rfc3339()
                });
                repo::audit::insert(conn, &super::audit::event("login.locked", "anonymous", user_id, detail))?;
                if let Some((_, to)) = &a.user {
                    mail::enqueue(conn, &Message::AccountLocked { to: to.clone(), until })?;
                }
            }
            Ok(counted)
        })
    })
    .await
}
