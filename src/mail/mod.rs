//! Mail: typed messages rendered from askama templates, queued in the `mail_outbox` table in
//! the transaction of the action that caused them, and sent by a background task.
//!
//! Why a table and not a direct send: a page never waits on SMTP, and neither an SMTP outage
//! nor a crash loses a message. A message the action wrote is sent once the transaction
//! commits (within a second or so), retried with backoff while SMTP fails, and picked up by
//! another replica, or after a restart, if the process sending it dies.

mod mailer;
mod render;
pub mod sender;

use chrono::SubsecRound;

use crate::db::models::MailRow;
use crate::db::{DbConn, DbError, repo};

pub use mailer::{Mailer, SendError};
pub use sender::{SenderOptions, spawn_sender};

/// `MAIL_FROM` when it is not set.
pub const DEFAULT_FROM: &str = "Latchkey <no-reply@localhost>";

/// Everything Latchkey mails. Links are absolute URLs (built from `LATCHKEY_ISSUER`).
/// No `Debug`: the links carry live tokens, and must not end up in a log line.
#[derive(Clone)]
pub enum Message {
    /// Confirms that an address belongs to the person who gave it (sign-up, email change).
    VerifyEmail { to: String, link: String },
    /// A password reset link, asked for at `/forgot-password`.
    ResetPassword { to: String, link: String },
    /// An administrator made an account for `to`: a set-password link (a longer-lived reset
    /// link) with invitation wording.
    Invitation { to: String, link: String },
    /// Someone tried to sign up with an address that already has an account. Sent instead of
    /// a verification mail, so the sign-up page looks the same either way.
    SignupAttempt {
        to: String,
        sign_in_link: String,
        reset_link: String,
    },
    /// Tells the old address that the account's email changed to `new_email`.
    EmailChanged { to: String, new_email: String },
    /// Proves the owner of an account's address wants the upstream `provider` linked to it.
    LinkIdentity { to: String, link: String, provider: String },
    /// Tells the owner that too many failed sign-ins locked the account until `until`.
    AccountLocked {
        to: String,
        until: chrono::DateTime<chrono::Utc>,
    },
}

/// A rendered message, as it goes (or went) out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues a message in the caller's transaction (a row in `mail_outbox`); the background
/// sender sends it once the transaction has committed. If the transaction rolls back, the
/// message is never sent.
pub fn enqueue(conn: &mut DbConn, message: &Message) -> Result<(), DbError> {
    // The templates only print strings, so rendering cannot fail in practice; should it, the
    // row cannot be written, and that is what SerializationError says.
    let mail =
        render::render(message).map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?;
    let now = now();
    repo::mail_outbox::insert(
        conn,
        &MailRow {
            id: uuid::Uuid::new_v4().to_string(),
            to_address: mail.to,
            subject: mail.subject,
            body_text: mail.text,
            body_html: mail.html,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            claimed_until: None,
            sent_at: None,
            failed_at: None,
            last_error: None,
        },
    )?;
    Ok(())
}

/// Checks `SMTP_URL` and `MAIL_FROM` when the settings are read, so a typo stops the start
/// with a line naming the variable. The URL is never echoed: it may hold a password.
pub fn check_settings(smtp_url: Option<&str>, mail_from: &str) -> anyhow::Result<()> {
    mail_from
        .parse::<lettre::message::Mailbox>()
        .map_err(|e| anyhow::anyhow!("MAIL_FROM must be an address like {DEFAULT_FROM:?}: {e}"))?;
    if let Some(url) = smtp_url {
        let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("SMTP_URL is not a URL ({e})"))?;
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let ok = matches!(
            (parsed.scheme(), tls.as_deref()),
            ("smtp", None | Some("required" | "opportunistic")) | ("smtps", None)
        );
        if !ok || parsed.host_str().is_none_or(str::is_empty) {
            anyhow::bail!(
                "SMTP_URL must look like smtp://host:25, smtp://user:pass@host:587?tls=required \
                 (STARTTLS) or smtps://user:pass@host:465"
            );
        }
    }
    Ok(())
}

/// Now, as the schema stores it. Microseconds, because that is what PostgreSQL keeps, and a
/// claim is recognised by its exact timestamp.
fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}
