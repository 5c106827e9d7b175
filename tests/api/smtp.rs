//! A small SMTP server for tests: enough of RFC 5321 for lettre (EHLO/HELO, MAIL, RCPT, DATA
//! with dot-unstuffing, RSET, NOOP, QUIT; no TLS, no AUTH), on 127.0.0.1 and a free port. It
//! records what it receives, and can be told to refuse mail to play an outage.
//!
//! ```ignore
//! let smtp = SmtpServer::start().await;
//! let app = spawn_app_in(dir, db, &[("SMTP_URL", &smtp.url())]).await;
//! // ... sign up ...
//! let mail = smtp.wait_for("alice@example.com").await;
//! let link = &mail.links()[0];
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Takes every message.
    Accept,
    /// Greets with `421` and hangs up, as a server that is down for maintenance.
    Unavailable,
    /// Takes the whole message, then answers `451` (a temporary failure) and keeps nothing.
    RejectData,
}

/// One message as received: the envelope and the raw DATA (dot-unstuffed, CRLF line ends).
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

struct State {
    mode: Mode,
    received: Vec<Received>,
    refused: usize,
}

/// A running server; it stops when dropped.
pub struct SmtpServer {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Accept,
            received: Vec::new(),
            refused: 0,
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    // A client hanging up mid-conversation is its business.
                    let _ = session(stream, state).await;
                });
            }
        });
        SmtpServer { port, state, task }
    }

    /// `SMTP_URL` for the server under test: plain SMTP, no TLS.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    /// Everything received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// How many times a connection or a message was refused.
    pub fn refused(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    /// The first message to `to`, waiting up to ten seconds for it.
    pub async fn wait_for(&self, to: &str) -> Received {
        for _ in 0..200 {
            if let Some(mail) = self.received().into_iter().find(|m| m.rcpt_to.iter().any(|r| r == to)) {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail to {to} within 10 s");
    }
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mode = state.lock().unwrap().mode;
    if mode == Mode::Unavailable {
        state.lock().unwrap().refused += 1;
        writer
            .write_all(b"421 4.3.2 smtp.test service not available\r\n")
            .await?;
        return Ok(());
    }
    writer.write_all(b"220 smtp.test ESMTP test server\r\n").await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-smtp.test\r\n250 8BITMIME\r\n",
            "HELO" => b"250 smtp.test\r\n",
            "MAIL" => {
                mail_from = Some(angle_address(&command));
                rcpt_to.clear();
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if mail_from.is_none() => b"503 5.5.1 MAIL first\r\n",
            "RCPT" => {
                rcpt_to.push(angle_address(&command));
                b"250 2.1.5 OK\r\n"
            }
            "DATA" if rcpt_to.is_empty() => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                writer.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let data = read_data(&mut reader).await?;
                let mut state = state.lock().unwrap();
                if state.mode == Mode::RejectData {
                    state.refused += 1;
                    b"451 4.3.0 try again later\r\n"
                } else {
                    state.received.push(Received {
                        mail_from: mail_from.take().unwrap_or_default(),
                        rcpt_to: std::mem::take(&mut rcpt_to),
                        data,
                    });
                    b"250 2.0.0 queued\r\n"
                }
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing (RFC 5321 §4.5.2).
async fn read_data(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        let unstuffed = if line.starts_with(b".") { &line[1..] } else { &line[..] };
        data.extend_from_slice(unstuffed);
    }
}

/// `MAIL FROM:<a@b> BODY=8BITMIME` -> `a@b`.
fn angle_address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..].find('>').map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

impl Received {
    /// Parses a stored message (e.g. an `.eml` file of the outbox folder).
    pub fn from_data(data: String) -> Received {
        Received {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            data,
        }
    }

    /// A top-level header, unfolded; `None` if absent.
    pub fn header(&self, name: &str) -> Option<String> {
        header(split_head(&self.data).0, name)
    }

    /// The decoded `text/plain` part.
    pub fn text(&self) -> String {
        self.part("text/plain")
            .unwrap_or_else(|| panic!("no text/plain part in:\n{}", self.data))
    }

    /// The decoded `text/html` part.
    pub fn html(&self) -> String {
        self.part("text/html")
            .unwrap_or_else(|| panic!("no text/html part in:\n{}", self.data))
    }

    /// The links of the plain-text part, in order.
    pub fn links(&self) -> Vec<String> {
        let re = regex_lite::Regex::new(r"https?://\S+").unwrap();
        re.find_iter(&self.text()).map(|m| m.as_str().to_owned()).collect()
    }

    /// The first part of type `mime` (the message itself if it is not multipart), decoded.
    fn part(&self, mime: &str) -> Option<String> {
        let (head, body) = split_head(&self.data);
        let content_type = header(head, "Content-Type").unwrap_or_default();
        let Some(boundary) = parameter(&content_type, "boundary") else {
            return content_type.starts_with(mime).then(|| decode(head, body));
        };
        let delimiter = format!("--{boundary}");
        body.split(delimiter.as_str()).skip(1).find_map(|part| {
            let part = part.strip_prefix("\r\n")?;
            let (head, body) = split_head(part);
            let content_type = header(head, "Content-Type").unwrap_or_default();
            content_type.starts_with(mime).then(|| decode(head, body))
        })
    }
}

fn split_head(data: &str) -> (&str, &str) {
    data.split_once("\r\n\r\n").unwrap_or((data, ""))
}

/// Header lookup with unfolding (RFC 5322 §2.2.3).
fn header(head: &str, name: &str) -> Option<String> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
    })
}

/// `multipart/alternative; boundary="abc"` -> `abc`.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (key, v) = p.trim().split_once('=')?;
        key.eq_ignore_ascii_case(name).then(|| v.trim_matches('"').to_owned())
    })
}

/// The body of a part under its Content-Transfer-Encoding, with LF line ends.
fn decode(head: &str, body: &str) -> String {
    let body = body.trim_end_matches("\r\n");
    let encoding = header(head, "Content-Transfer-Encoding").unwrap_or_default();
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.replace("\r\n", ""))
            .unwrap(),
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}

/// RFC 2045 §6.7: `=XX` is a byte, `=` at a line end is a soft break.
fn quoted_printable(body: &str) -> Vec<u8> {
    let body = body.replace("=\r\n", "");
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
