//! Self-service accounts through the pages, with mail received by a real SMTP server over
//! TCP: sign-up, verification, password reset. The browser is a cookie-keeping client.

use crate::helpers::{TestApp, spawn_issuer_app};
use crate::oidc::{Browser, ClientOptions, Outcome, REDIRECT, hidden, register};
use crate::smtp::SmtpServer;

const STRONG: &str = "velvet orbit lantern quay";
const STRONGER: &str = "copper meadow signal harbor";

struct Fixture {
    app: TestApp,
    smtp: SmtpServer,
    db: latchkey::db::Db,
}

async fn fixture(extra: &[(&str, &str)]) -> Fixture {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut vars = vec![("SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    let app = spawn_issuer_app(&vars).await;
    let db = latchkey::db::Db::connect(&app.db.url).unwrap();
    Fixture { app, smtp, db }
}

fn authorize_url(app: &TestApp, client_id: &str, scope: &str) -> url::Url {
    let mut url = url::Url::parse(&format!("{}/authorize", app.address)).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "st-1");
    url
}

fn title(outcome: &Outcome) -> String {
    let re = regex_lite::Regex::new("<h1>([^<]*)</h1>").unwrap();
    re.captures(outcome.body()).map(|c| c[1].to_owned()).unwrap_or_default()
}

/// Fills the sign-up form shown at `page`.
async fn sign_up(browser: &Browser, page: &Outcome, email: &str, password: &str, confirm: &str) -> Outcome {
    let body = page.body();
    let form = [
        ("csrf_token", hidden(body, "csrf_token")),
        ("request", hidden(body, "request")),
        ("email", email.to_owned()),
        ("name", "Pat Doe".to_owned()),
        ("password", password.to_owned()),
        ("password_confirm", confirm.to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = browser.post_form("/signup", &form).await;
    browser.follow(res).await
}

/// The form at a page with one email field (forgot password, resend verification).
async fn submit_email(browser: &Browser, path: &str, email: &str) -> Outcome {
    let page = browser.follow(browser.get(path).await).await;
    let res = browser
        .post_form(
            path,
            &[("csrf_token", &hidden(page.body(), "csrf_token")), ("email", email)],
        )
        .await;
    browser.follow(res).await
}

#[tokio::test]
async fn sign_up_verify_and_sign_in_resumes_the_authorization() {
    let f = fixture(&[]).await;
    let client = register(
        &f.db,
        &ClientOptions {
            skip_consent: true,
            ..Default::default()
        },
    )
    .await;
    let browser = Browser::new(&f.app);
    let login = browser
        .start(&authorize_url(&f.app, &client.client_id, "openid email"))
        .await;
    let re = regex_lite::Regex::new(r#"href="(/signup\?request=[^"]+)""#).unwrap();
    let signup_href = re.captures(login.body()).expect("a sign-up link on the login page")[1].replace("&amp;", "&");
    let page = browser.follow(browser.get(&signup_href).await).await;
    let done = sign_up(&browser, &page, "Pat@Example.com", STRONG, STRONG).await;
    assert_eq!(title(&done), "Check your email");

    // Not verified yet: signing in does not finish the authorization.
    let login = browser
        .start(&authorize_url(&f.app, &client.client_id, "openid email"))
        .await;
    let blocked = browser.login(&login, "pat@example.com", STRONG).await;
    assert!(matches!(blocked, Outcome::Page { status: 403, .. }), "{blocked:?}");

    let mail = f.smtp.wait_for("pat@example.com").await;
    assert!(mail.header("Subject").unwrap().contains("Verify"));
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/verify-email?token="))
        .unwrap();
    // The link resumes the authorization the sign-up began at: sign in, and the code arrives.
    let resumed = browser.follow(browser.get(&link).await).await;
    assert!(resumed.url().contains("/login?request="), "{}", resumed.url());
    let back = browser.login(&resumed, "pat@example.com", STRONG).await;
    let params = back.client_params();
    assert!(params.contains_key("code"));
    assert_eq!(params["state"], "st-1");

    // A verification link works once.
    let again = browser.follow(browser.get(&link).await).await;
    assert_eq!(title(&again), "Link not valid");
}

#[tokio::test]
async fn signing_up_with_an_existing_address_looks_the_same_and_tells_the_owner() {
    let f = fixture(&[]).await;
    let browser = Browser::new(&f.app);
    let page = browser.follow(browser.get("/signup").await).await;
    let first = sign_up(&browser, &page, "sam@example.com", STRONG, STRONG).await;
    f.smtp.wait_for("sam@example.com").await;
    let other = Browser::new(&f.app);
    let page = other.follow(other.get("/signup").await).await;
    let second = sign_up(&other, &page, "SAM@example.com", STRONGER, STRONGER).await;
    assert_eq!(title(&first), title(&second));
    assert_eq!(
        first.body(),
        second.body(),
        "the same page whether or not the account exists"
    );
    for _ in 0..100 {
        if f.smtp.received().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mails = f.smtp.received();
    assert_eq!(mails.len(), 2);
    let notice = &mails[1];
    assert!(
        notice.header("Subject").unwrap().to_lowercase().contains("already"),
        "{:?}",
        notice.header("Subject")
    );
    assert!(
        notice.links().iter().all(|l| !l.contains("token=")),
        "no verification link for an existing account"
    );
}

#[tokio::test]
async fn a_refused_sign_up_keeps_the_form_and_says_why() {
    let f = fixture(&[("LATCHKEY_SIGNUP", "domains:example.org")]).await;
    let browser = Browser::new(&f.app);
    let page = browser.follow(browser.get("/signup").await).await;
    let weak = sign_up(&browser, &page, "kim@example.org", "password123", "password123").await;
    assert!(matches!(weak, Outcome::Page { status: 400, .. }));
    assert!(weak.body().contains("too weak"), "{}", weak.body());
    assert!(weak.body().contains(r#"value="kim@example.org""#), "the email is kept");
    assert!(!weak.body().contains("password123"), "passwords are never echoed");
    let mismatch = sign_up(&browser, &weak, "kim@example.org", STRONG, STRONGER).await;
    assert!(mismatch.body().contains("do not match"));
    let elsewhere = sign_up(&browser, &mismatch, "kim@example.com", STRONG, STRONG).await;
    assert!(elsewhere.body().contains("example.org only"), "{}", elsewhere.body());
    assert!(f.smtp.received().is_empty(), "nothing was created, nothing was sent");
}

#[tokio::test]
async fn closed_sign_up_shows_no_form() {
    let f = fixture(&[("LATCHKEY_SIGNUP", "closed")]).await;
    let res = f.app.get("/signup").await;
    assert_eq!(res.status(), 403);
    let login = f.app.get("/login").await.text().await.unwrap();
    assert!(!login.contains("/signup"), "the login page offers no sign-up link");
}

#[tokio::test]
async fn password_reset_revokes_sessions_and_refresh_tokens() {
    let f = fixture(&[]).await;
    let client = register(
        &f.db,
        &ClientOptions {
            skip_consent: true,
            ..Default::default()
        },
    )
    .await;
    let email = "riley@example.com";
    let browser = Browser::new(&f.app);
    let page = browser.follow(browser.get("/signup").await).await;
    sign_up(&browser, &page, email, STRONG, STRONG).await;
    let verify = f
        .smtp
        .wait_for(email)
        .await
        .links()
        .into_iter()
        .find(|l| l.contains("verify-email"))
        .unwrap();
    browser.get(&verify).await;

    // A signed-in browser with a refresh token.
    let login = browser.start(&authorize_url(&f.app, &client.client_id, "openid")).await;
    let code = browser.login(&login, email, STRONG).await.client_params()["code"].clone();
    let tokens: serde_json::Value = f
        .app
        .http
        .post(format!("{}/token", f.app.address))
        .basic_auth(&client.client_id, client.client_secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("a first-party client gets a refresh token")
        .to_owned();

    // Forgot password: same answer for a known and an unknown address.
    let stranger = Browser::new(&f.app);
    let unknown = submit_email(&stranger, "/forgot-password", "nobody@example.com").await;
    let known = submit_email(&stranger, "/forgot-password", email).await;
    assert_eq!(unknown.body(), known.body());
    let mut reset_link = None;
    for _ in 0..100 {
        reset_link = f
            .smtp
            .received()
            .iter()
            .flat_map(|m| m.links())
            .find(|l| l.contains("/reset-password?token="));
        if reset_link.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let reset_link = reset_link.expect("a reset mail");
    let form = stranger.follow(stranger.get(&reset_link).await).await;
    let weak = [
        ("csrf_token", hidden(form.body(), "csrf_token")),
        ("token", hidden(form.body(), "token")),
    ];
    let res = stranger
        .post_form(
            "/reset-password",
            &[
                ("csrf_token", &weak[0].1),
                ("token", &weak[1].1),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert!(stranger.follow(res).await.body().contains("at least 8"));
    let res = stranger
        .post_form(
            "/reset-password",
            &[
                ("csrf_token", &weak[0].1),
                ("token", &weak[1].1),
                ("password", STRONGER),
                ("password_confirm", STRONGER),
            ],
        )
        .await;
    assert_eq!(title(&stranger.follow(res).await), "Password changed");

    // The refresh token and the old session are dead; the old password too.
    let res = f
        .app
        .http
        .post(format!("{}/token", f.app.address))
        .basic_auth(&client.client_id, client.client_secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let again = browser.start(&authorize_url(&f.app, &client.client_id, "openid")).await;
    assert!(again.url().contains("/login"), "the old session was revoked");
    let old = browser.login(&again, email, STRONG).await;
    assert!(old.body().contains("Invalid email or password"));
    let new = browser.login(&old, email, STRONGER).await;
    assert!(new.client_params().contains_key("code"));

    // The link was single-use.
    let reused = stranger.follow(stranger.get(&reset_link).await).await;
    assert_eq!(title(&reused), "Link not valid");
}

#[tokio::test]
async fn an_expired_verification_link_is_refused_and_a_new_one_can_be_asked_for() {
    let f = fixture(&[("EMAIL_VERIFY_TTL", "1s")]).await;
    let browser = Browser::new(&f.app);
    let page = browser.follow(browser.get("/signup").await).await;
    sign_up(&browser, &page, "lee@example.com", STRONG, STRONG).await;
    let link = f
        .smtp
        .wait_for("lee@example.com")
        .await
        .links()
        .into_iter()
        .find(|l| l.contains("verify-email"))
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let expired = browser.follow(browser.get(&link).await).await;
    assert_eq!(title(&expired), "Link not valid");
    // Asking again within a minute of the first mail sends nothing more (rate limit), but the
    // answer is the same as for any address.
    let answer = submit_email(&browser, "/verify-email", "lee@example.com").await;
    assert_eq!(title(&answer), "Check your email");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(f.smtp.received().len(), 1);
}

#[tokio::test]
async fn a_hash_with_older_parameters_is_upgraded_at_the_next_sign_in() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let f = fixture(&[]).await;
    let email = "old@example.com";
    let user = latchkey::service::users::create(
        &f.db,
        "test",
        latchkey::service::users::NewUser {
            email: latchkey::domain::Email::parse(email).unwrap(),
            name: String::new(),
            password: None,
            admin: false,
            verified: true,
        },
    )
    .await
    .unwrap();
    // A hash made with weaker, older parameters (m=4096, t=3).
    let params = argon2::Params::new(4096, 3, 1, None).unwrap();
    let old = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(STRONG.as_bytes(), &SaltString::from_b64("c2FsdHNhbHRzYWx0").unwrap())
        .unwrap()
        .to_string();
    let id = user.id.clone();
    let now = chrono::Utc::now().naive_utc();
    f.db.run(move |conn| Ok(latchkey::db::repo::users::set_password_hash(conn, &id, &old, now)?))
        .await
        .unwrap();

    let browser = Browser::new(&f.app);
    let login = browser.follow(browser.get("/login").await).await;
    let done = browser.login(&login, email, STRONG).await;
    assert_eq!(title(&done), "Your account");
    let id = user.id.clone();
    let row =
        f.db.run(move |conn| Ok(latchkey::db::repo::users::find_by_id(conn, &id)?))
            .await
            .unwrap()
            .unwrap();
    let hash = row.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
}
