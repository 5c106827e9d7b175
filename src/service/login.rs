//! Password sign-in: constant-time answers, bounded argon2 concurrency, no fixation.

use std::sync::{Arc, Mutex, OnceLock, TryLockError, mpsc};

use diesel::Connection;
use secrecy::SecretString;
use serde_json::json;

use super::lockout;
use super::sessions::{self, Origin};
use crate::config::{BruteForce, Settings};
use crate::crypto::password;
use crate::db::models::SessionRow;
use crate::db::{Db, DbError, repo};
use crate::domain::Email;
use crate::error::AppError;
use crate::mail::{self, Message};

/// Runs argon2 on its own threads, one per core, at a lower CPU priority (nice 10). A
/// sign-in storm then queues here instead of taking Tokio's blocking threads from the
/// database, and the kernel lets the HTTP workers (JWKS, discovery, token) run first
/// whenever they have work, so their latency stays flat while every spare cycle hashes.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// Checked for unknown emails so that they take as long as a wrong password. Made on a
    /// hashing thread just after start, so start-up does not wait for an argon2 hash.
    dummy_hash: Arc<OnceLock<String>>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Nice value of the hashing threads: HTTP workers get about nine tenths of a contended core.
const HASHING_NICE: i32 = 10;

impl PasswordHasher {
    /// Starts the hashing threads; the first job they take makes the dummy hash.
    pub fn new() -> anyhow::Result<PasswordHasher> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..cores {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || hashing_thread(&queue))?;
        }
        let dummy_hash = Arc::new(OnceLock::new());
        let first = dummy_hash.clone();
        jobs.send(Box::new(move || {
            first.get_or_init(dummy);
        }))
        .map_err(|_| anyhow::anyhow!("the password hashing threads did not start"))?;
        Ok(PasswordHasher { jobs, dummy_hash })
    }

    /// Runs `f` on a hashing thread and waits for its answer without blocking the caller.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (client disconnected); the result is then unused.
            let _ = answer.send(f());
        });
        self.jobs
            .send(job)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the password hashing threads have stopped")))?;
        answered
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a password hashing thread stopped")))
    }

    /// Verifies `password` against `hash`, or against the dummy when there is no hash.
    pub async fn verify(&self, password: SecretString, hash: Option<String>) -> Result<bool, AppError> {
        let has_hash = hash.is_some();
        let dummy_hash = self.dummy_hash.clone();
        let ok = self
            .run(move || match hash {
                Some(hash) => password::verify_password(&password, &hash),
                // Waits for the dummy if a request comes in the first milliseconds.
                None => password::verify_password(&password, dummy_hash.get_or_init(dummy)),
            })
            .await?;
        Ok(ok && has_hash)
    }

    /// Hashes a password on the same threads.
    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        Ok(self.run(move || password::hash_password(&password)).await??)
    }
}

/// A hash of a random password, for unknown emails. Hashing only fails for invalid
/// parameters, which are constants; an empty dummy would merely verify as false at once.
fn dummy() -> String {
    password::hash_password(&SecretString::from(crate::crypto::random_token(24))).unwrap_or_default()
}

/// Takes jobs until every `PasswordHasher` clone is dropped.
fn hashing_thread(queue: &Mutex<mpsc::Receiver<Job>>) {
    // SAFETY: setpriority has no memory effects. On Linux the nice value is per thread and
    // PRIO_PROCESS with 0 names the calling one (elsewhere it would be the whole process, so
    // this is Linux only). A refusal leaves the default priority, which is only slower.
    #[cfg(target_os = "linux")]
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICE) };
    loop {
        // The lock is held only while taking a job, never while hashing. When another
        // thread holds it, that thread is waiting for work: the queue is empty.
        let queued = match queue.try_lock() {
            Ok(q) => match q.try_recv() {
                Ok(job) => Some(job),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => return,
            },
            Err(TryLockError::WouldBlock) => None,
            Err(TryLockError::Poisoned(_)) => return,
        };
        let job = match queued {
            Some(job) => job,
            None => {
                // Idle: argon2's 19 MiB go back to the system until the next sign-in, so a
                // quiet server stays small; under load the queue is never empty and the
                // memory is reused hash after hash.
                password::release_memory();
                match queue.lock().map(|q| q.recv()) {
                    Ok(Ok(job)) => job,
                    _ => return,
                }
            }
        };
        job();
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
