//! Mail: queued in the database, sent by the background sender to a real SMTP server on
//! 127.0.0.1, retried through an outage, written to the outbox folder without SMTP.

use std::collections::HashSet;
use std::time::Duration;

use diesel::prelude::*;
use latchkey::config::Settings;
use latchkey::db::models::MailRow;
use latchkey::db::schema::mail_outbox;
use latchkey::db::{Db, DbError, repo};
use latchkey::mail::{self, Mailer, Message, SenderOptions};

use crate::helpers::{TestApp, TestDb, eventually, folder_with_fixture_key, spawn_app_with, vars};
use crate::smtp::{Mode, Received, SmtpServer};

const FAST: SenderOptions = SenderOptions {
    poll: Duration::from_millis(20),
    retry_base: Duration::from_millis(50),
};

/// A server mailing through `smtp_url` (the outbox folder if `None`), polling its outbox
/// often and retrying quickly.
async fn spawn_mail_app(smtp_url: Option<&str>) -> TestApp {
    let dir = folder_with_fixture_key();
    let db = TestDb::new(dir.path());
    let extra: Vec<(&str, &str)> = smtp_url.map(|url| vec![("SMTP_URL", url)]).unwrap_or_default();
    spawn_app_with(dir, db, &extra, |s| {
        s.mail_poll = FAST.poll;
        s.mail_retry_base = FAST.retry_base;
    })
    .await
}

/// Another pool on the app's database, as a replica (or a page handler) would have.
async fn open_db(url: &str) -> Db {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || Db::connect(&url))
        .await
        .unwrap()
        .unwrap()
}

async fn enqueue(db: &Db, message: Message) {
    db.run_write(move |conn| mail::enqueue(conn, &message)).await.unwrap();
}

async fn rows(db: &Db) -> Vec<MailRow> {
    db.run(|conn| Ok(mail_outbox::table.select(MailRow::as_select()).load(conn)?))
        .await
        .unwrap()
}

fn verify(to: &str) -> Message {
    Message::VerifyEmail {
        to: to.into(),
        link: "http://issuer.test:8080/verify-email?token=abc123".into(),
    }
}

#[tokio::test]
async fn a_queued_message_is_delivered_over_smtp_with_text_and_html_parts() {
    let smtp = SmtpServer::start().await;
    let app = spawn_mail_app(Some(&smtp.url())).await;
    let db = open_db(&app.db.url).await;
    let link = "http://issuer.test:8080/verify-email?token=Zm9vYmFy-0123456789abcdef0123456789abcdef&next=%2Fauthorize";
    enqueue(
        &db,
        Message::VerifyEmail {
            to: "alice@example.com".into(),
            link: link.into(),
        },
    )
    .await;

    let mail = smtp.wait_for("alice@example.com").await;
    assert_eq!(mail.rcpt_to, ["alice@example.com"]);
    assert_eq!(mail.mail_from, "no-reply@localhost");
    assert_eq!(mail.header("To").unwrap(), "alice@example.com");
    assert_eq!(mail.header("Subject").unwrap(), "Verify your email address");
    assert!(mail.header("From").unwrap().contains("no-reply@localhost"));
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    assert_eq!(mail.links(), [link], "the text part carries the link verbatim");
    assert!(
        mail.data.contains(link),
        "the raw text part keeps the link whole (7bit)"
    );
    assert!(
        mail.html().contains(&link.replace('&', "&#38;")),
        "the HTML part escapes it"
    );
    let id = rows(&db).await[0].id.clone();
    assert!(mail.header("Message-ID").unwrap().contains(&id));

    eventually("the row marked sent", || {
        let db = db.clone();
        async move { rows(&db).await.iter().all(|r| r.sent_at.is_some()) }
    })
    .await;
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn mail_queued_during_an_smtp_outage_is_delivered_when_the_server_is_back() {
    let smtp = SmtpServer::start().await;
    smtp.set_mode(Mode::Unavailable);
    let app = spawn_mail_app(Some(&smtp.url())).await;
    let db = open_db(&app.db.url).await;
    enqueue(
        &db,
        Message::ResetPassword {
            to: "bob@example.com".into(),
            link: "http://issuer.test:8080/reset-password?token=xyz".into(),
        },
    )
    .await;

    eventually("two refused attempts", || std::future::ready(smtp.refused() >= 2)).await;
    let row = rows(&db).await.remove(0);
    assert!(row.attempts >= 1);
    assert!(row.sent_at.is_none() && row.failed_at.is_none());
    assert!(row.last_error.unwrap().contains("421"), "the server's answer is kept");

    smtp.set_mode(Mode::Accept);
    let mail = smtp.wait_for("bob@example.com").await;
    assert_eq!(mail.header("Subject").unwrap(), "Reset your password");
    assert_eq!(mail.links(), ["http://issuer.test:8080/reset-password?token=xyz"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1, "sent once");
}

#[tokio::test]
async fn a_message_refused_at_the_end_of_data_is_sent_again() {
    let smtp = SmtpServer::start().await;
    smtp.set_mode(Mode::RejectData);
    let app = spawn_mail_app(Some(&smtp.url())).await;
    let db = open_db(&app.db.url).await;
    enqueue(&db, verify("carol@example.com")).await;

    eventually("a refused message", || std::future::ready(smtp.refused() >= 1)).await;
    smtp.set_mode(Mode::Accept);
    smtp.wait_for("carol@example.com").await;
    let row = rows(&db).await.remove(0);
    assert!(row.attempts >= 1);
    assert!(row.last_error.unwrap().contains("451"));
}

#[tokio::test]
async fn without_smtp_url_mail_is_written_to_the_outbox_folder() {
    let app = spawn_mail_app(None).await;
    let db = open_db(&app.db.url).await;
    enqueue(
        &db,
        Message::EmailChanged {
            to: "dave@example.com".into(),
            new_email: "dave+<b>@example.org".into(),
        },
    )
    .await;

    let id = rows(&db).await[0].id.clone();
    let path = app.dir.path().join(format!("data/outbox/{id}.eml"));
    eventually("the .eml file", || std::future::ready(path.exists())).await;
    let mail = Received::from_data(std::fs::read_to_string(&path).unwrap());
    assert_eq!(mail.header("To").unwrap(), "dave@example.com");
    assert_eq!(mail.header("Subject").unwrap(), "Your email address was changed");
    assert!(mail.text().contains("dave+<b>@example.org"));
    assert!(mail.html().contains("dave+&#60;b&#62;@example.org"));
    assert!(!mail.html().contains("<b>@"));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no partial files left: {leftovers:?}");
}

#[tokio::test]
async fn several_senders_on_one_database_never_send_a_message_twice() {
    let smtp = SmtpServer::start().await;
    let app = spawn_mail_app(Some(&smtp.url())).await;
    // Three more senders, each with its own pool, as three more replicas would run.
    let settings = Settings::from_vars(&vars(app.dir.path(), &app.db, &[("SMTP_URL", &smtp.url())])).unwrap();
    let mailer = Mailer::from_settings(&settings).unwrap();
    let mut senders = Vec::new();
    for _ in 0..3 {
        senders.push(mail::spawn_sender(open_db(&app.db.url).await, mailer.clone(), FAST));
    }
    let db = open_db(&app.db.url).await;
    db.run_write(|conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            for i in 0..40 {
                mail::enqueue(conn, &verify(&format!("user{i}@example.com")))?;
            }
            Ok(())
        })
    })
    .await
    .unwrap();

    eventually("40 messages", || std::future::ready(smtp.received().len() >= 40)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = smtp.received();
    let recipients: HashSet<_> = received.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(received.len(), 40, "no message twice");
    assert_eq!(recipients.len(), 40);
    for sender in senders {
        sender.abort();
    }
}

#[tokio::test]
async fn a_claim_left_by_a_dead_sender_runs_out_and_the_message_is_sent() {
    let smtp = SmtpServer::start().await;
    let app = spawn_mail_app(Some(&smtp.url())).await;
    let db = open_db(&app.db.url).await;
    // Queue and claim in one transaction, so the app's sender never sees the row unclaimed:
    // this is a sender that took the message and died before sending it.
    db.run_write(|conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            mail::enqueue(conn, &verify("erin@example.com"))?;
            let id: String = mail_outbox::table.select(mail_outbox::id).first(conn)?;
            let now = chrono::Utc::now().naive_utc();
            assert!(repo::mail_outbox::claim(
                conn,
                &id,
                now,
                now + chrono::TimeDelta::seconds(2)
            )?);
            Ok(())
        })
    })
    .await
    .unwrap();

    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(smtp.received().is_empty(), "a live claim is respected");
    smtp.wait_for("erin@example.com").await;
}

#[tokio::test]
async fn a_message_that_cannot_be_sent_is_abandoned_and_the_rest_go_out() {
    let smtp = SmtpServer::start().await;
    let app = spawn_mail_app(Some(&smtp.url())).await;
    let db = open_db(&app.db.url).await;
    enqueue(&db, verify("not an address")).await;
    enqueue(&db, verify("frank@example.com")).await;

    smtp.wait_for("frank@example.com").await;
    eventually("the bad message abandoned", || {
        let db = db.clone();
        async move {
            rows(&db)
                .await
                .iter()
                .any(|r| r.to_address == "not an address" && r.failed_at.is_some())
        }
    })
    .await;
    let bad = rows(&db).await.into_iter().find(|r| r.failed_at.is_some()).unwrap();
    assert_eq!(bad.attempts, 1, "not retried");
    assert!(bad.last_error.unwrap().contains("recipient"));
    assert!(bad.sent_at.is_none());
}

#[tokio::test]
async fn the_memory_mailer_keeps_every_rendered_message() {
    let dir = tempfile::tempdir().unwrap();
    let test_db = TestDb::new(dir.path());
    let url = test_db.url.clone();
    let db = tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url)?;
        db.migrate()?;
        anyhow::Ok(db)
    })
    .await
    .unwrap()
    .unwrap();
    let until = chrono::DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
        .unwrap()
        .to_utc();
    let messages = [
        verify("a@example.com"),
        Message::ResetPassword {
            to: "b@example.com".into(),
            link: "https://id.example.com/reset-password?token=r".into(),
        },
        Message::SignupAttempt {
            to: "c@example.com".into(),
            sign_in_link: "https://id.example.com/login".into(),
            reset_link: "https://id.example.com/forgot-password".into(),
        },
        Message::EmailChanged {
            to: "d@example.com".into(),
            new_email: "<script>@example.com".into(),
        },
        Message::AccountLocked {
            to: "e@example.com".into(),
            until,
        },
    ];
    for message in messages {
        enqueue(&db, message).await;
    }

    let mailer = Mailer::memory();
    assert_eq!(mail::sender::deliver_due(&db, &mailer, FAST).await.unwrap(), 5);
    let mut sent = mailer.sent();
    sent.sort_by(|a, b| a.to.cmp(&b.to));
    let subjects: Vec<_> = sent.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Verify your email address",
            "Reset your password",
            "You already have a Latchkey account",
            "Your email address was changed",
            "Your account is locked for a while",
        ]
    );
    let links = |text: &str| -> Vec<String> {
        let re = regex_lite::Regex::new(r"https?://\S+").unwrap();
        re.find_iter(text).map(|m| m.as_str().to_owned()).collect()
    };
    assert_eq!(links(&sent[1].text), ["https://id.example.com/reset-password?token=r"]);
    assert_eq!(
        links(&sent[2].text),
        ["https://id.example.com/login", "https://id.example.com/forgot-password"]
    );
    assert!(sent[3].html.contains("&#60;script&#62;@example.com") && !sent[3].html.contains("<script>"));
    assert!(sent[4].text.contains("2030-01-02 03:04 UTC") && sent[4].html.contains("2030-01-02 03:04 UTC"));
    assert!(rows(&db).await.iter().all(|r| r.sent_at.is_some()));
    assert_eq!(
        mail::sender::deliver_due(&db, &mailer, FAST).await.unwrap(),
        0,
        "nothing twice"
    );
}

#[test]
fn smtp_settings_are_checked_at_start_without_echoing_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let with = |extra: &[(&str, &str)]| Settings::from_vars(&vars(dir.path(), &db, extra));
    let err = with(&[("SMTP_URL", "http://user:hunter2@mail.example.com")]).unwrap_err();
    assert!(err.to_string().contains("SMTP_URL") && !err.to_string().contains("hunter2"));
    let err = with(&[("MAIL_FROM", "not an address")]).unwrap_err();
    assert!(err.to_string().contains("MAIL_FROM"));
    for ok in [
        "smtp://127.0.0.1:2525",
        "smtp://user:p%40ss@mail.example.com:587?tls=required",
        "smtps://user:pass@mail.example.com",
    ] {
        let settings = with(&[("SMTP_URL", ok), ("MAIL_FROM", "Example <id@example.com>")]).unwrap();
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("example.com:") && !debug.contains(":2525"),
            "Debug hides SMTP_URL"
        );
        Mailer::from_settings(&settings).unwrap();
    }
}
