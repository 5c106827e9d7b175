//! Brute-force protection through the pages: the per-address lockout (with its mail, sent
//! over SMTP) and the per-IP rate limit. Time moves through the server's injectable clock.

use std::time::Duration;

use latchkey::clock::Clock;
use latchkey::db::{Db, repo};
use latchkey::domain::Email;
use latchkey::service::users;
use secrecy::SecretString;

use crate::helpers::{TestApp, TestDb, folder_with_fixture_key, spawn_app_with};
use crate::oidc::{Browser, Outcome, PASSWORD, hidden};
use crate::smtp::SmtpServer;

const EMAIL: &str = "pat@example.com";
const UNKNOWN: &str = "nobody@example.com";
const INVALID: &str = "Invalid email or password";
const TOO_MANY: &str = "Too many attempts";
/// Longer than the longest progressive delay (60 s).
const PAST_DELAY: Duration = Duration::from_secs(61);

struct Fixture {
    app: TestApp,
    smtp: SmtpServer,
    db: Db,
    clock: Clock,
    user_id: String,
}

/// A server with one user, mail over SMTP and a clock the test moves. `rate` is the per-IP
/// limit (requests a minute).
async fn fixture(rate: u32) -> Fixture {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let clock = Clock::default();
    let dir = folder_with_fixture_key();
    let db = TestDb::new(dir.path());
    let server_clock = clock.clone();
    let app = spawn_app_with(dir, db, &[("SMTP_URL", &url)], move |s| {
        s.clock = server_clock;
        s.brute_force.login_rate = rate;
        s.mail_poll = Duration::from_millis(50);
    })
    .await;
    let db = Db::connect(&app.db.url).unwrap();
    let user = users::create(
        &db,
        "test",
        users::NewUser {
            email: Email::parse(EMAIL).unwrap(),
            name: "Pat Doe".into(),
            password: Some(SecretString::from(PASSWORD)),
            admin: false,
            verified: true,
        },
    )
    .await
    .unwrap();
    Fixture {
        app,
        smtp,
        db,
        clock,
        user_id: user.id,
    }
}

/// One sign-in attempt from a fresh login page.
async fn attempt(browser: &Browser, email: &str, password: &str) -> Outcome {
    let page = browser.follow(browser.get("/login").await).await;
    browser.login(&page, email, password).await
}

fn status(outcome: &Outcome) -> u16 {
    match outcome {
        Outcome::Page { status, .. } => *status,
        Outcome::Client(url) => panic!("unexpected redirect to {url}"),
    }
}

/// The page with what differs by design (the CSRF token, the email typed) blanked out.
fn normalised(outcome: &Outcome, email: &str) -> (u16, String) {
    let body = outcome.body();
    let csrf = hidden(body, "csrf_token");
    (status(outcome), body.replace(&csrf, "CSRF").replace(email, "EMAIL"))
}

/// Tries `password` for the real address and for an unknown one; both answers must be the
/// same page. Returns the real address's page.
async fn both(known: &Browser, unknown: &Browser, password: &str) -> String {
    let real = attempt(known, EMAIL, password).await;
    let other = attempt(unknown, UNKNOWN, password).await;
    assert_eq!(normalised(&real, EMAIL), normalised(&other, UNKNOWN));
    real.body().to_owned()
}

/// Signed in: the browser left the login page for a page without the refusal.
fn assert_signed_in(outcome: &Outcome) {
    assert!(!outcome.url().contains("/login"), "still at {}", outcome.url());
    assert!(!outcome.body().contains(INVALID), "{}", outcome.body());
}

async fn audit_kinds(db: &Db, user_id: &str) -> Vec<String> {
    let user_id = user_id.to_owned();
    db.run(move |conn| Ok(repo::audit::latest(conn, 500)?))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.subject.as_deref() == Some(&user_id))
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn ten_failures_lock_the_address_even_for_the_right_password_until_the_window_ends() {
    let f = fixture(1000).await;
    let (known, unknown) = (Browser::new(&f.app), Browser::new(&f.app));
    for i in 1..=10 {
        let body = both(&known, &unknown, "wrong password").await;
        assert!(body.contains(INVALID), "attempt {i}");
        assert_eq!(body.contains(TOO_MANY), i == 10, "attempt {i}: {body}");
        if i == 5 {
            // A progressive delay has begun: even the right password is refused unchecked.
            let body = both(&known, &unknown, PASSWORD).await;
            assert!(body.contains(INVALID) && body.contains(TOO_MANY), "{body}");
        }
        if i < 10 {
            f.clock.advance(PAST_DELAY);
        }
    }

    // Locked: the right password gets the same answer as a wrong one.
    let body = both(&known, &unknown, PASSWORD).await;
    assert!(body.contains(INVALID) && body.contains(TOO_MANY), "{body}");
    f.clock.advance(Duration::from_secs(5 * 60));
    let body = both(&known, &unknown, PASSWORD).await;
    assert!(body.contains(TOO_MANY), "still locked after 5 minutes");

    // The owner hears about it, once; the unknown address has no owner to tell.
    let mail = f.smtp.wait_for(EMAIL).await;
    assert!(
        mail.header("Subject").unwrap().contains("locked"),
        "{:?}",
        mail.header("Subject")
    );
    assert!(mail.text().contains("too many failed attempts"), "{}", mail.text());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.smtp.received().len(), 1, "one mail, to the owner only");

    let kinds = audit_kinds(&f.db, &f.user_id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "login.locked").count(), 1);
    assert!(kinds.iter().filter(|k| *k == "login.failed").count() >= 12);

    // Once the lock is over, the right password works again.
    f.clock.advance(Duration::from_secs(10 * 60 + 1));
    assert_signed_in(&attempt(&known, EMAIL, PASSWORD).await);
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_failure_count() {
    let f = fixture(1000).await;
    let browser = Browser::new(&f.app);
    for _ in 0..9 {
        let failed = attempt(&browser, EMAIL, "wrong password").await;
        assert!(!failed.body().contains(TOO_MANY));
        f.clock.advance(PAST_DELAY);
    }
    assert_signed_in(&attempt(&Browser::new(&f.app), EMAIL, PASSWORD).await);
    // Had the nine failures been kept, the next one would lock the address.
    for i in 0..9 {
        let failed = attempt(&browser, EMAIL, "wrong password").await;
        assert!(failed.body().contains(INVALID), "attempt {i}");
        assert!(!failed.body().contains(TOO_MANY), "attempt {i} after the reset");
        f.clock.advance(PAST_DELAY);
    }
    assert_signed_in(&attempt(&Browser::new(&f.app), EMAIL, PASSWORD).await);
}

#[tokio::test]
async fn the_ip_bucket_answers_429_with_retry_after() {
    let f = fixture(3).await;
    let browser = Browser::new(&f.app);
    // Every field any of the four forms has: each takes what it needs.
    let page = browser.follow(browser.get("/login").await).await;
    let csrf = hidden(page.body(), "csrf_token");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("email", UNKNOWN),
        ("name", "Pat"),
        ("password", "wrong password"),
        ("password_confirm", "wrong password"),
    ];
    for path in ["/forgot-password", "/verify-email", "/signup"] {
        let res = browser.post_form(path, &fields).await;
        assert!(res.status().as_u16() < 429, "{path} is within the budget");
    }
    // The fourth POST in the same minute, whichever form it goes to, is refused.
    for path in ["/login", "/forgot-password", "/signup", "/verify-email"] {
        let res = browser.post_form(path, &fields).await;
        assert_eq!(res.status(), 429, "{path}");
        let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "Retry-After: {retry}");
        let body = res.text().await.unwrap();
        assert!(body.contains("Too many requests"), "{body}");
    }
    // Pages that only show a form are not limited; a full minute refills the bucket.
    assert_eq!(browser.get("/login").await.status(), 200);
    f.clock.advance(Duration::from_secs(60));
    let page = browser.follow(browser.get("/forgot-password").await).await;
    let csrf = hidden(page.body(), "csrf_token");
    let res = browser
        .post_form("/forgot-password", &[("csrf_token", &csrf), ("email", UNKNOWN)])
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_password_reset_ends_the_lock() {
    let f = fixture(1000).await;
    let browser = Browser::new(&f.app);
    for _ in 0..10 {
        attempt(&browser, EMAIL, "wrong password").await;
        f.clock.advance(PAST_DELAY);
    }
    assert!(
        attempt(&browser, EMAIL, PASSWORD).await.body().contains(TOO_MANY),
        "locked"
    );

    let page = browser.follow(browser.get("/forgot-password").await).await;
    let csrf = crate::oidc::hidden(page.body(), "csrf_token");
    browser
        .post_form("/forgot-password", &[("csrf_token", &csrf), ("email", EMAIL)])
        .await;
    let mut link = None;
    for _ in 0..200 {
        link = f
            .smtp
            .received()
            .iter()
            .flat_map(|m| m.links())
            .find(|l| l.contains("/reset-password?token="));
        if link.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // This fixture's issuer is not its address: follow the link's path on the server.
    let link = link.expect("a reset mail");
    let path = &link[link.find("/reset-password").unwrap()..];
    let form = browser.follow(browser.get(path).await).await;
    let new_password = "copper meadow signal harbor";
    let fields = [
        ("csrf_token", crate::oidc::hidden(form.body(), "csrf_token")),
        ("token", crate::oidc::hidden(form.body(), "token")),
        ("password", new_password.to_owned()),
        ("password_confirm", new_password.to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = browser
        .follow(browser.post_form("/reset-password", &fields).await)
        .await;
    assert!(done.body().contains("Password changed"), "{}", done.body());
    // No waiting for the lock to run out: the owner proved the mailbox.
    assert_signed_in(&attempt(&browser, EMAIL, new_password).await);
}
