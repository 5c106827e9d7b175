//! Single sign-on in one browser, `prompt` (`login`, `none`, `consent`), remembered and denied
//! consent, and `max_age`, as a relying party and a browser see them.

use std::collections::HashMap;

use openidconnect::TokenResponse;
use openidconnect::core::CoreTokenResponse;

use super::flows::{code_tokens, exchange};
use super::{Attempt, Browser, ClientOptions, Outcome, PASSWORD, Provider, REDIRECT, Rp, attempt, provider, sign_in};

/// The ID token's `auth_time`, as seconds since the epoch.
fn auth_time(rp: &Rp, tokens: &CoreTokenResponse, nonce: &openidconnect::Nonce) -> i64 {
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&rp.client.id_token_verifier(), nonce)
        .unwrap();
    claims.auth_time().expect("auth_time in the ID token").timestamp()
}

fn is_login(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Page { status: 200, url, .. } if url.contains("/login"))
}

fn is_consent(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Page { status: 200, url, .. } if url.contains("/consent"))
}

/// Asserts the browser was sent straight back to the client with a code, `state` and `iss`.
fn expect_code(p: &Provider, outcome: &Outcome, a: &Attempt) -> String {
    let params = outcome.client_params();
    assert!(!params.contains_key("error"), "unexpected error: {params:?}");
    assert_eq!(params.get("state"), Some(a.state.secret()), "state is echoed");
    assert_eq!(params.get("iss"), Some(&p.app.address), "RFC 9207 iss");
    params.get("code").expect("a code").clone()
}

/// Asserts an RFC 6749 §4.1.2.1 error redirect with `state` and `iss`, and no code.
fn expect_error(p: &Provider, outcome: &Outcome, a: &Attempt, error: &str) -> HashMap<String, String> {
    let params = outcome.client_params();
    assert_eq!(params.get("error").map(String::as_str), Some(error), "{params:?}");
    assert_eq!(params.get("state"), Some(a.state.secret()), "state is echoed");
    assert_eq!(params.get("iss"), Some(&p.app.address), "RFC 9207 iss");
    assert!(!params.contains_key("code"), "no code with an error: {params:?}");
    params
}

// ---------------------------------------------------------------------------------------
// Single sign-on and prompt.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn second_authorization_in_the_same_browser_skips_the_login_page() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);

    let first = attempt(&rp, &["openid"], &[]);
    let page = browser.start(&first.url).await;
    assert!(is_login(&page), "a new browser signs in first: {page:?}");
    let outcome = browser.login(&page, &p.email, PASSWORD).await;
    let code = expect_code(&p, &outcome, &first);
    let first_tokens = exchange(&rp, code, first).await;
    assert!(first_tokens.id_token().is_some());

    // Same browser, a new authorization: straight back to the client, no page at all.
    let second = attempt(&rp, &["openid", "email"], &[]);
    let outcome = browser.start(&second.url).await;
    let code = expect_code(&p, &outcome, &second);
    let nonce = second.nonce.clone();
    let tokens = exchange(&rp, code, second).await;
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&rp.client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), p.user_id);
    assert_eq!(claims.email().unwrap().as_str(), p.email);

    // Another browser has no session and is asked to sign in.
    let other = Browser::new(&p.app);
    let third = attempt(&rp, &["openid"], &[]);
    assert!(is_login(&other.start(&third.url).await));
}

#[tokio::test]
async fn prompt_login_forces_the_login_page_despite_a_session() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let first = attempt(&rp, &["openid"], &[]);
    sign_in(&p, &browser, &first).await;

    let a = attempt(&rp, &["openid"], &[("prompt", "login")]);
    let page = browser.start(&a.url).await;
    assert!(is_login(&page), "prompt=login shows the login page: {page:?}");
    let outcome = browser.login(&page, &p.email, PASSWORD).await;
    let code = expect_code(&p, &outcome, &a);
    let tokens = exchange(&rp, code, a).await;
    assert!(tokens.id_token().is_some());
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid"], &[("prompt", "none")]);
    let outcome = browser.start(&a.url).await;
    assert!(
        matches!(outcome, Outcome::Client(_)),
        "prompt=none never shows a page: {outcome:?}"
    );
    let params = expect_error(&p, &outcome, &a, "login_required");
    assert!(outcome.url().starts_with(REDIRECT), "{params:?}");
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_is_consent_required() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    // Sign in, but leave the consent page unanswered.
    let first = attempt(&rp, &["openid", "email"], &[]);
    let page = browser.start(&first.url).await;
    let page = browser.login(&page, &p.email, PASSWORD).await;
    assert!(is_consent(&page), "the client needs consent: {page:?}");

    let a = attempt(&rp, &["openid", "email"], &[("prompt", "none")]);
    let outcome = browser.start(&a.url).await;
    assert!(matches!(outcome, Outcome::Client(_)), "{outcome:?}");
    expect_error(&p, &outcome, &a, "consent_required");
}

#[tokio::test]
async fn prompt_none_with_a_session_and_consent_returns_a_code() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    sign_in(&p, &browser, &attempt(&rp, &["openid", "email"], &[])).await;

    let a = attempt(&rp, &["openid", "email"], &[("prompt", "none")]);
    let outcome = browser.start(&a.url).await;
    let code = expect_code(&p, &outcome, &a);
    let tokens = exchange(&rp, code, a).await;
    assert!(tokens.id_token().is_some());
}

#[tokio::test]
async fn prompt_consent_asks_again_after_consent_was_remembered() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    sign_in(&p, &browser, &attempt(&rp, &["openid", "email"], &[])).await;

    let a = attempt(&rp, &["openid", "email"], &[("prompt", "consent")]);
    let page = browser.start(&a.url).await;
    assert!(is_consent(&page), "prompt=consent shows the consent page: {page:?}");
    let outcome = browser.consent(&page, true).await;
    let code = expect_code(&p, &outcome, &a);
    exchange(&rp, code, a).await;

    // Without prompt=consent the remembered consent applies again.
    let b = attempt(&rp, &["openid", "email"], &[]);
    expect_code(&p, &browser.start(&b.url).await, &b);
}

// ---------------------------------------------------------------------------------------
// Consent.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn consent_is_remembered_for_the_same_scopes() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);

    let first = attempt(&rp, &["openid", "email"], &[]);
    let page = browser.start(&first.url).await;
    let page = browser.login(&page, &p.email, PASSWORD).await;
    assert!(is_consent(&page), "first time: the consent page: {page:?}");
    assert!(page.body().contains("Test app"), "the consent page names the client");
    let outcome = browser.consent(&page, true).await;
    let code = expect_code(&p, &outcome, &first);
    exchange(&rp, code, first).await;

    // The same scopes: no login page, no consent page.
    let same = attempt(&rp, &["openid", "email"], &[]);
    let outcome = browser.start(&same.url).await;
    let code = expect_code(&p, &outcome, &same);
    exchange(&rp, code, same).await;

    // Fewer scopes are covered too.
    let fewer = attempt(&rp, &["openid"], &[]);
    expect_code(&p, &browser.start(&fewer.url).await, &fewer);

    // A scope never approved asks again (but does not ask to sign in again).
    let more = attempt(&rp, &["openid", "email", "profile"], &[]);
    let page = browser.start(&more.url).await;
    assert!(is_consent(&page), "a new scope needs consent: {page:?}");
}

#[tokio::test]
async fn consent_denied_returns_access_denied_to_the_client() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid", "email"], &[]);
    let page = browser.start(&a.url).await;
    let page = browser.login(&page, &p.email, PASSWORD).await;
    assert!(is_consent(&page), "{page:?}");
    let outcome = browser.consent(&page, false).await;
    assert!(outcome.url().starts_with(REDIRECT), "{outcome:?}");
    expect_error(&p, &outcome, &a, "access_denied");

    // Nothing was remembered: the next authorization asks again.
    let b = attempt(&rp, &["openid", "email"], &[]);
    assert!(is_consent(&browser.start(&b.url).await));
}

// ---------------------------------------------------------------------------------------
// max_age.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn max_age_forces_a_new_login_when_the_session_is_older() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let first = attempt(&rp, &["openid"], &[]);
    let first_nonce = first.nonce.clone();
    let first_tokens = code_tokens(&p, &rp, &browser, first).await;
    let first_auth = auth_time(&rp, &first_tokens, &first_nonce);

    // A generous max_age is satisfied by the session.
    let fresh = attempt(&rp, &["openid"], &[("max_age", "3600")]);
    let outcome = browser.start(&fresh.url).await;
    let code = expect_code(&p, &outcome, &fresh);
    let nonce = fresh.nonce.clone();
    let tokens = exchange(&rp, code, fresh).await;
    assert_eq!(
        auth_time(&rp, &tokens, &nonce),
        first_auth,
        "OIDC Core §2: auth_time is the session's sign-in time"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let a = attempt(&rp, &["openid"], &[("max_age", "0")]);
    let page = browser.start(&a.url).await;
    assert!(
        is_login(&page),
        "max_age=0 on an older session shows the login page: {page:?}"
    );
    let outcome = browser.login(&page, &p.email, PASSWORD).await;
    let code = expect_code(&p, &outcome, &a);
    let nonce = a.nonce.clone();
    let tokens = exchange(&rp, code, a).await;
    assert!(
        auth_time(&rp, &tokens, &nonce) > first_auth,
        "the new sign-in is the new auth_time"
    );
}
