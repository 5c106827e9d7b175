//! The background sender: takes due messages from `mail_outbox` one at a time and sends them.
//!
//! Every replica runs one. A sender claims a message with a guarded UPDATE that sets a lease
//! (`claimed_until`), so no two senders hold the same message; a sender that dies mid-send
//! lets the lease run out and the message is sent by the next one. Delivery is therefore at
//! least once: a crash after the SMTP server accepted a message but before it was marked
//! sent sends it again, with the same Message-ID.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::{Mailer, Sent, now};
use crate::config::Settings;
use crate::db::models::MailRow;
use crate::db::{Db, DbError, repo};

/// How long a claim holds a message: well beyond one SMTP conversation (each command times
/// out after 30 s, and the whole send after [`SEND_TIMEOUT`]).
const LEASE: Duration = Duration::from_secs(300);
/// The longest one send may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// A message still failing this long after it was written is abandoned, as mail servers bounce
/// after a few days (Postfix's default queue lifetime); its links have long expired by then.
const QUEUE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(5);
/// Sent messages are deleted after a day (their bodies hold links), abandoned ones after a week.
const KEEP_SENT: chrono::TimeDelta = chrono::TimeDelta::days(1);
const KEEP_FAILED: chrono::TimeDelta = chrono::TimeDelta::days(7);
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// Messages handled in one pass before the loop looks up (purge) and goes on without sleeping.
const PER_PASS: usize = 50;
/// Candidates read per claim: enough that senders racing for the oldest still find one free.
const CANDIDATES: i64 = 8;

/// Timing of the sender. Not environment variables: the defaults suit production, and tests
/// shorten them through [`Settings`].
#[derive(Debug, Clone, Copy)]
pub struct SenderOptions {
    /// How often the outbox is polled when it is empty.
    pub poll: Duration,
    /// The first retry waits twice this, the n-th 2^n times this (at most ten minutes).
    pub retry_base: Duration,
}

impl SenderOptions {
    pub fn from_settings(settings: &Settings) -> SenderOptions {
        SenderOptions {
            poll: settings.mail_poll,
            retry_base: settings.mail_retry_base,
        }
    }
}

/// Starts the sender on the current runtime. It runs until the runtime stops (or the handle is
/// aborted); database and SMTP failures are logged and retried, never fatal.
pub fn spawn_sender(db: Db, mailer: Mailer, options: SenderOptions) -> tokio::task::JoinHandle<()> {
    tracing::info!(to = %mailer.describe(), "mail sender started");
    tokio::spawn(async move {
        let mut last_purge: Option<Instant> = None;
        loop {
            let handled = match deliver_due(&db, &mailer, options).await {
                Ok(n) => n,
                Err(err) => {
                    tracing::warn!(error = %err, "mail sender cannot reach the database; will retry");
                    0
                }
            };
            if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                last_purge = Some(Instant::now());
                purge(&db).await;
            }
            // A full pass means more may be waiting: go on at once.
            if handled < PER_PASS {
                tokio::time::sleep(options.poll).await;
            }
        }
    })
}

/// Sends the messages due now, one claim at a time, and returns how many it handled (sent,
/// rescheduled or abandoned). No database connection is held while SMTP is talked to.
pub async fn deliver_due(db: &Db, mailer: &Mailer, options: SenderOptions) -> Result<usize, DbError> {
    let mut handled = 0;
    while handled < PER_PASS {
        let Some((row, claim)) = claim_next(db).await? else {
            break;
        };
        handled += 1;
        let mail = Sent {
            to: row.to_address.clone(),
            subject: row.subject.clone(),
            text: row.body_text.clone(),
            html: row.body_html.clone(),
        };
        // Only a message that cannot be built is given up at once. SMTP refusals, permanent
        // (5xx) ones included, are retried: a 5xx is as often a relay's configuration (auth,
        // relaying denied) that an operator fixes, and the mail must outlive the fix.
        let outcome = match tokio::time::timeout(SEND_TIMEOUT, mailer.send(&row.id, &mail)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err((err.is_permanent(), err.to_string())),
            Err(_) => Err((false, format!("no answer within {} s", SEND_TIMEOUT.as_secs()))),
        };
        record(db, &row, claim, outcome, options).await?;
    }
    Ok(handled)
}

/// Claims the next due message. Reading the candidates needs no write turn, so an idle poll
/// does not queue behind SQLite writers.
async fn claim_next(db: &Db) -> Result<Option<(MailRow, NaiveDateTime)>, DbError> {
    let candidates = db
        .run(|conn| Ok(repo::mail_outbox::due_ids(conn, now(), CANDIDATES)?))
        .await?;
    if candidates.is_empty() {
        return Ok(None);
    }
    db.run_write(move |conn| {
        let now = now();
        let until = now + LEASE;
        for id in candidates {
            if repo::mail_outbox::claim(conn, &id, now, until)? {
                return Ok(repo::mail_outbox::find(conn, &id)?.map(|row| (row, until)));
            }
        }
        Ok(None)
    })
    .await
}

/// Writes down how a send went: sent, to be retried after a backoff, or abandoned.
async fn record(
    db: &Db,
    row: &MailRow,
    claim: NaiveDateTime,
    outcome: Result<(), (bool, String)>,
    options: SenderOptions,
) -> Result<(), DbError> {
    let id = row.id.clone();
    let attempts = row.attempts.saturating_add(1);
    match outcome {
        Ok(()) => {
            tracing::info!(mail_id = %id, subject = %row.subject, attempts, "mail sent");
            db.run_write(move |conn| Ok(repo::mail_outbox::mark_sent(conn, &id, now())?))
                .await
        }
        Err((permanent, error)) => {
            let error: String = error.chars().take(1000).collect();
            let now = now();
            if permanent || now - row.created_at > QUEUE_LIFETIME {
                tracing::error!(mail_id = %id, subject = %row.subject, attempts, error, "mail abandoned");
                db.run_write(move |conn| Ok(repo::mail_outbox::mark_failed(conn, &id, claim, attempts, now, &error)?))
                    .await
            } else {
                let wait = backoff(options.retry_base, attempts);
                let next = now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
                tracing::warn!(mail_id = %id, attempts, retry_in = ?wait, error, "mail not sent; will retry");
                db.run_write(move |conn| Ok(repo::mail_outbox::mark_retry(conn, &id, claim, attempts, next, &error)?))
                    .await
            }
        }
    }
}

/// The wait after the `attempts`-th failure: `base * 2^attempts`, at most [`MAX_BACKOFF`].
fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(1 << exponent).min(MAX_BACKOFF)
}

async fn purge(db: &Db) {
    let purged = db
        .run_write(|conn| {
            let now = now();
            Ok(repo::mail_outbox::purge(conn, now - KEEP_SENT, now - KEEP_FAILED)?)
        })
        .await;
    match purged {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "purged old mail from the outbox"),
        Err(err) => tracing::warn!(error = %err, "cannot purge the mail outbox"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 1), Duration::from_secs(2));
        assert_eq!(backoff(base, 3), Duration::from_secs(8));
        assert_eq!(backoff(base, 9), Duration::from_secs(512));
        assert_eq!(backoff(base, 10), MAX_BACKOFF);
        assert_eq!(backoff(base, i32::MAX), MAX_BACKOFF);
        assert_eq!(backoff(Duration::from_millis(50), 2), Duration::from_millis(200));
    }
}
