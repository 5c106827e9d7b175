//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at `/logout`.

use std::sync::Arc;

use chrono::Utc;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};

use super::support::{
    Reply, auth_of, exchange, field, fixture_signed, no_redirects, payload_of, refresh, rs256_header, server_kid,
    with_payload,
};
use super::{Browser, ClientOptions, Outcome, Provider, REDIRECT, Rp, attempt, hidden, provider, register, sign_in};

const AFTER: &str = "http://127.0.0.1:9/after-logout";

/// A first-party client (so a refresh token comes with the code) with a logout URI.
async fn logout_provider() -> Provider {
    provider(ClientOptions {
        skip_consent: true,
        post_logout: vec![AFTER],
        ..Default::default()
    })
    .await
}

/// A browser whose cookies the test can read and copy.
fn browser_with_jar(p: &Provider) -> (Browser, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let browser = Browser {
        http,
        base: p.app.address.clone(),
    };
    (browser, jar)
}

/// Signs the browser in through the code flow; returns the token response.
async fn sign_in_with(p: &Provider, browser: &Browser) -> Value {
    let rp = Rp::discover(p).await;
    let a = attempt(&rp, &["openid", "email"], &[]);
    let code = sign_in(p, browser, &a).await;
    let reply = exchange(
        &p.app,
        auth_of(&p.client),
        &code,
        Some(a.verifier.secret()),
        Some(REDIRECT),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert!(
        json["id_token"].is_string() && json["refresh_token"].is_string(),
        "{json}"
    );
    json
}

/// Whether the browser still has a Latchkey session: a new authorization either comes back
/// with a code at once (SSO) or stops at the login page.
async fn has_session(p: &Provider, browser: &Browser) -> bool {
    let rp = Rp::discover(p).await;
    let a = attempt(&rp, &["openid"], &[]);
    match browser.start(&a.url).await {
        Outcome::Client(url) => {
            assert!(url.query_pairs().any(|(k, _)| k == "code"), "expected a code: {url}");
            true
        }
        page => {
            assert!(page.url().contains("/login"), "expected the login page, got {page:?}");
            false
        }
    }
}

fn logout_path(params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/logout?{query}")
}

/// A 303 to exactly `AFTER`, with `state` echoed.
fn assert_redirect_to_after_logout(reply: &Reply, state: &str, what: &str) {
    assert_eq!(reply.status, 303, "{what}: body {}", reply.body);
    let location = reply.header("location").unwrap_or_default();
    let url = url::Url::parse(location).unwrap_or_else(|e| panic!("{what}: Location {location:?}: {e}"));
    assert_eq!(location.split('?').next(), Some(AFTER), "{what}: Location {location}");
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        params,
        [("state".to_owned(), state.to_owned())],
        "{what}: state echoed as sent"
    );
}

/// A page at the provider: 200 and no redirect anywhere.
fn assert_no_redirect(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: body {}", reply.body);
    assert!(
        reply.header("location").is_none(),
        "{what}: no redirect, got {:?}",
        reply.header("location")
    );
}

#[tokio::test]
async fn logout_with_hint_redirects_with_state_and_ends_the_session() {
    let p = logout_provider().await;
    let (browser, jar) = browser_with_jar(&p);
    let t = sign_in_with(&p, &browser).await;
    let id_token = field(&t, "id_token");
    let refresh_token = field(&t, "refresh_token");
    let base = url::Url::parse(&p.app.address).unwrap();
    let cookie = jar
        .cookies(&base)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();

    let state = "st & ate=/ü?";
    let res = browser
        .get(&logout_path(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", AFTER),
            ("state", state),
        ]))
        .await;
    assert_redirect_to_after_logout(&Reply::read(res).await, state, "logout with a hint");

    assert!(!has_session(&p, &browser).await, "the browser is signed out");
    refresh(&p.app, auth_of(&p.client), &refresh_token)
        .await
        .assert_oauth_error(400, "invalid_grant", "the session's refresh token after logout");
    // The session ended at the server, not only in this browser: its old cookie is useless.
    let (replayed, replay_jar) = browser_with_jar(&p);
    for part in cookie.split("; ") {
        replay_jar.add_cookie_str(&format!("{part}; Path=/"), &base);
    }
    assert!(
        !has_session(&p, &replayed).await,
        "a copy of the old session cookie signs nobody in"
    );
}

#[tokio::test]
async fn unregistered_post_logout_redirect_uri_is_not_redirected_to() {
    let p = logout_provider().await;
    let other = register(
        &p.db,
        &ClientOptions {
            post_logout: vec!["http://127.0.0.1:9/other-after-logout"],
            ..Default::default()
        },
    )
    .await;
    let (browser, _) = browser_with_jar(&p);
    let t = sign_in_with(&p, &browser).await;
    let id_token = field(&t, "id_token");
    let refresh_token = field(&t, "refresh_token");

    let res = browser
        .get(&logout_path(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", "http://evil.example.com/after-logout"),
            ("state", "s1"),
        ]))
        .await;
    assert_no_redirect(&Reply::read(res).await, "unregistered URI");
    // The hint was valid, so the sign-out itself still happened.
    assert!(!has_session(&p, &browser).await);
    refresh(&p.app, auth_of(&p.client), &refresh_token)
        .await
        .assert_oauth_error(400, "invalid_grant", "refresh token after logout");

    let client = no_redirects();
    for (what, uri) in [
        ("a login redirect URI, not a logout one", REDIRECT),
        ("another client's logout URI", "http://127.0.0.1:9/other-after-logout"),
        ("a longer path", "http://127.0.0.1:9/after-logout/x"),
        ("an added query", "http://127.0.0.1:9/after-logout?x=1"),
        ("another port", "http://127.0.0.1:90/after-logout"),
    ] {
        let path = logout_path(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", uri),
            ("state", "s2"),
        ]);
        let res = client.get(format!("{}{path}", p.app.address)).send().await.unwrap();
        assert_no_redirect(&Reply::read(res).await, what);
    }
    // A client_id that contradicts the hint's audience earns no redirect either.
    let path = logout_path(&[
        ("id_token_hint", &id_token),
        ("client_id", &other.client_id),
        ("post_logout_redirect_uri", "http://127.0.0.1:9/other-after-logout"),
    ]);
    let res = client.get(format!("{}{path}", p.app.address)).send().await.unwrap();
    assert_no_redirect(&Reply::read(res).await, "client_id differing from the hint");
}

#[tokio::test]
async fn expired_id_token_hint_is_accepted() {
    let p = logout_provider().await;
    let (browser, _) = browser_with_jar(&p);
    let t = sign_in_with(&p, &browser).await;
    let refresh_token = field(&t, "refresh_token");
    // The ID token as the server issued it, but long expired, signed with the server's key.
    let mut claims = payload_of(&field(&t, "id_token"));
    let now = Utc::now().timestamp();
    claims["iat"] = json!(now - 7200);
    claims["auth_time"] = json!(now - 7200);
    claims["exp"] = json!(now - 3600);
    assert_eq!(claims["aud"], p.client.client_id.as_str());
    let kid = server_kid(&p.app).await;
    let hint = fixture_signed(&rs256_header("JWT", &kid), &claims);

    let res = browser
        .get(&logout_path(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", AFTER),
            ("state", "expired-hint"),
        ]))
        .await;
    // No confirmation page: the expired hint still proves which client asked.
    assert_redirect_to_after_logout(&Reply::read(res).await, "expired-hint", "expired hint");
    assert!(!has_session(&p, &browser).await, "signed out");
    refresh(&p.app, auth_of(&p.client), &refresh_token)
        .await
        .assert_oauth_error(400, "invalid_grant", "refresh token after logout");

    // A minimal ID-token-shaped hint (iss, sub, aud, exp, iat) is enough too.
    let (browser, _) = browser_with_jar(&p);
    sign_in_with(&p, &browser).await;
    let minimal = fixture_signed(
        &rs256_header("JWT", &kid),
        &json!({
            "iss": p.app.address, "sub": p.user_id, "aud": p.client.client_id,
            "exp": now - 86_400, "iat": now - 90_000, "auth_time": now - 90_000,
        }),
    );
    let res = browser
        .get(&logout_path(&[
            ("id_token_hint", &minimal),
            ("post_logout_redirect_uri", AFTER),
            ("state", "minimal"),
        ]))
        .await;
    assert_redirect_to_after_logout(&Reply::read(res).await, "minimal", "minimal expired hint");
    assert!(!has_session(&p, &browser).await, "signed out");
}

#[tokio::test]
async fn forged_id_token_hint_is_not_trusted() {
    let p = logout_provider().await;
    let (browser, _) = browser_with_jar(&p);
    let t = sign_in_with(&p, &browser).await;
    let id_token = field(&t, "id_token");
    let access = field(&t, "access_token");
    let mut claims = payload_of(&id_token);
    claims["sub"] = json!("someone-else");
    let kid = server_kid(&p.app).await;
    let mut foreign_issuer = payload_of(&id_token);
    foreign_issuer["iss"] = json!("https://evil.example.com");
    for (what, hint) in [
        ("tampered payload", with_payload(&id_token, &claims)),
        ("an access token", access.clone()),
        (
            "another issuer",
            fixture_signed(&rs256_header("JWT", &kid), &foreign_issuer),
        ),
        ("garbage", "garbage".to_owned()),
    ] {
        let res = browser
            .get(&logout_path(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", AFTER),
                ("state", "s"),
            ]))
            .await;
        let reply = Reply::read(res).await;
        assert_no_redirect(&reply, what);
        assert!(
            !hidden(&reply.body, "csrf_token").is_empty(),
            "{what}: the confirmation page is shown"
        );
        assert!(has_session(&p, &browser).await, "{what}: still signed in");
    }
    assert_eq!(super::support::userinfo(&p.app, &access).await.status, 200);
}

#[tokio::test]
async fn logout_without_hint_asks_for_a_csrf_protected_confirmation() {
    let p = logout_provider().await;
    let (browser, _) = browser_with_jar(&p);
    let t = sign_in_with(&p, &browser).await;
    let refresh_token = field(&t, "refresh_token");

    let page = Reply::read(browser.get("/logout").await).await;
    assert_no_redirect(&page, "logout without a hint");
    assert!(
        page.header("content-type").unwrap_or_default().starts_with("text/html"),
        "a page"
    );
    let csrf = hidden(&page.body, "csrf_token");
    assert!(!csrf.is_empty(), "the confirmation form carries a CSRF token");
    assert!(has_session(&p, &browser).await, "showing the page signs nobody out");

    // A cross-site form post: no token, a wrong token, or no confirmation.
    for (what, form) in [
        ("no CSRF token", vec![("confirm", "yes")]),
        ("a wrong CSRF token", vec![("confirm", "yes"), ("csrf_token", "forged")]),
        ("an empty CSRF token", vec![("confirm", "yes"), ("csrf_token", "")]),
    ] {
        let reply = Reply::read(browser.post_form("/logout", &form).await).await;
        assert!(reply.status >= 400, "{what}: refused, got {}", reply.status);
        assert!(reply.header("location").is_none(), "{what}: no redirect");
        assert!(has_session(&p, &browser).await, "{what}: still signed in");
    }
    let reply = Reply::read(browser.post_form("/logout", &[("csrf_token", csrf.as_str())]).await).await;
    assert!(reply.header("location").is_none(), "unconfirmed post: no redirect");
    assert!(
        has_session(&p, &browser).await,
        "a post without confirm=yes signs nobody out"
    );
    // The token from another browser's page does not work here either.
    let (intruder, _) = browser_with_jar(&p);
    sign_in_with(&p, &intruder).await;
    let their_csrf = hidden(&Reply::read(intruder.get("/logout").await).await.body, "csrf_token");
    let reply = Reply::read(
        browser
            .post_form("/logout", &[("confirm", "yes"), ("csrf_token", their_csrf.as_str())])
            .await,
    )
    .await;
    assert!(
        reply.status >= 400,
        "another browser's CSRF token: refused, got {}",
        reply.status
    );
    assert!(
        has_session(&p, &browser).await,
        "another browser's CSRF token: still signed in"
    );

    // The real form, as the page posts it.
    let reply = Reply::read(
        browser
            .post_form("/logout", &[("csrf_token", csrf.as_str()), ("confirm", "yes")])
            .await,
    )
    .await;
    assert_eq!(reply.status, 200, "confirmed: {}", reply.body);
    assert!(!has_session(&p, &browser).await, "signed out after confirming");
    refresh(&p.app, auth_of(&p.client), &refresh_token)
        .await
        .assert_oauth_error(400, "invalid_grant", "refresh token after a confirmed logout");
    assert!(
        has_session(&p, &intruder).await,
        "the other browser's session is untouched"
    );
}
