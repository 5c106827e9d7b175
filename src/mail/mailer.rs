//! Where mail goes: an SMTP server, `.eml` files in an outbox folder (no `SMTP_URL`: local use
//! needs no mail server), or memory (tests).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentTransferEncoding;
use lettre::message::{Body, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use super::Sent;
use crate::config::Settings;

/// How long one SMTP command may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The configured transport, cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp {
        smtp: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Outbox {
        dir: PathBuf,
        from: Mailbox,
    },
    Memory(Arc<Mutex<Vec<Sent>>>),
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message cannot be built (e.g. an address SMTP cannot carry): retrying is pointless.
    #[error("cannot build the message: {0}")]
    Invalid(String),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot write to the outbox folder: {0}")]
    Outbox(#[from] std::io::Error),
}

impl SendError {
    /// True when a retry cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Invalid(_))
    }
}

impl Mailer {
    /// SMTP when `SMTP_URL` is set (`smtp://host:25`, `smtp://user:pass@host:587?tls=required`
    /// for STARTTLS, `smtps://user:pass@host:465`), otherwise the folder `DATA_DIR/outbox`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM is not an address: {e}"))?;
        let transport = match &settings.smtp_url {
            Some(url) => {
                // lettre's errors name the problem, never the URL, which may hold a password.
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("SMTP_URL cannot be used")?;
                Transport::Smtp {
                    smtp: builder.timeout(Some(SMTP_TIMEOUT)).build(),
                    from,
                }
            }
            None => Transport::Outbox {
                dir: settings.data_dir().join("outbox"),
                from,
            },
        };
        Ok(Mailer { transport })
    }

    /// Keeps messages in memory, for tests: [`Mailer::sent`] returns them.
    pub fn memory() -> Mailer {
        Mailer {
            transport: Transport::Memory(Arc::default()),
        }
    }

    /// The messages a memory mailer has sent, oldest first; empty for the other transports.
    pub fn sent(&self) -> Vec<Sent> {
        match &self.transport {
            Transport::Memory(sent) => sent.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            _ => Vec::new(),
        }
    }

    /// Says where mail goes, for the start-up log. Never the SMTP URL: it may hold a password.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp { .. } => "SMTP (SMTP_URL)".to_owned(),
            Transport::Outbox { dir, .. } => format!("the folder {} (no SMTP_URL)", dir.display()),
            Transport::Memory(_) => "memory".to_owned(),
        }
    }

    /// Sends one message now. `id` is its outbox id: it becomes the Message-ID (so a retried
    /// message keeps its identity) and the `.eml` file name. Pages do not call this: they
    /// [`enqueue`](super::enqueue), and the background sender calls this.
    pub async fn send(&self, id: &str, mail: &Sent) -> Result<(), SendError> {
        match &self.transport {
            Transport::Memory(sent) => {
                sent.lock().unwrap_or_else(PoisonError::into_inner).push(mail.clone());
            }
            Transport::Smtp { smtp, from } => {
                smtp.send(build(from, id, mail)?).await?;
            }
            Transport::Outbox { dir, from } => {
                let message = build(from, id, mail)?;
                let path = dir.join(format!("{id}.eml"));
                let bytes = message.formatted();
                let target = path.clone();
                tokio::task::spawn_blocking(move || write_eml(&target, &bytes))
                    .await
                    .map_err(|_| std::io::Error::other("outbox write was cancelled"))??;
                tracing::info!(path = %path.display(), subject = %mail.subject, "mail written to the outbox folder");
            }
        }
        Ok(())
    }
}

/// A multipart/alternative message: plain text first, HTML preferred by clients that show it.
fn build(from: &Mailbox, id: &str, mail: &Sent) -> Result<lettre::Message, SendError> {
    // The address is not repeated in the error: it ends up in the outbox row and the logs.
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| SendError::Invalid(format!("the recipient address is not valid ({e})")))?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.as_str())
        .message_id(Some(format!("<{id}@{}>", from.email.domain())))
        .multipart(MultiPart::alternative_plain_html(
            text_body(&mail.text),
            mail.html.clone(),
        ))
        .map_err(|e| SendError::Invalid(e.to_string()))
}

/// The plain-text part as `7bit` whenever RFC 5322 allows it (ASCII, lines of at most 998
/// bytes). lettre would choose quoted-printable for any line over 76 characters, which breaks
/// a long link over lines and turns its `=` into `=3D`: in the raw `.eml` a developer opens
/// from the outbox folder, the link would not work.
fn text_body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let plain = crlf.is_ascii()
        && crlf
            .split("\r\n")
            .all(|line| line.len() <= 998 && !line.contains(['\r', '\0']));
    if plain {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    }
}

/// Writes beside the target, then renames, so nobody opens half a file; the folder is created
/// on first use.
fn write_eml(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension("eml.partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}
