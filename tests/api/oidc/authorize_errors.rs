//! Hostile or malformed requests at `/authorize`: those that must get an error page at the
//! provider and never a redirect (unknown client, unregistered or repeated `redirect_uri`),
//! and those refused with an error sent back to the client (RFC 6749 §4.1.2.1, RFC 9207).

use std::collections::HashMap;

use super::support::{CHALLENGE, Reply, no_redirects};
use super::{ClientOptions, Provider, REDIRECT, provider, register};
use crate::helpers::TestApp;

/// A complete, valid authorization request for the provider's client.
fn valid_request(p: &Provider) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", p.client.client_id.clone()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid email".into()),
        ("state", "st-123".into()),
        ("nonce", "n-456".into()),
        ("code_challenge", CHALLENGE.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// `valid_request` with `name` set to `value` (`None` removes it).
fn with_param(
    mut params: Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    params.retain(|(k, _)| *k != name);
    if let Some(v) = value {
        params.push((name, v.to_owned()));
    }
    params
}

async fn get_authorize(app: &TestApp, params: &[(&str, String)]) -> Reply {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let res = no_redirects()
        .get(format!("{}/authorize?{query}", app.address))
        .send()
        .await
        .unwrap();
    Reply::read(res).await
}

/// An error page at the provider: never a redirect.
fn assert_error_page(reply: &Reply, what: &str) {
    assert!(
        reply.header("location").is_none(),
        "{what}: must not redirect, got Location {:?}",
        reply.header("location")
    );
    assert!(
        (400..500).contains(&reply.status),
        "{what}: an error page, got {}",
        reply.status
    );
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{what}: an HTML page"
    );
}

/// The parameters of a redirect back to the registered redirect URI.
fn client_redirect(reply: &Reply, what: &str) -> HashMap<String, String> {
    assert!(
        matches!(reply.status, 302 | 303),
        "{what}: expected a redirect, got {}: {}",
        reply.status,
        reply.body
    );
    let location = reply.header("location").unwrap();
    assert_eq!(
        location.split('?').next(),
        Some(REDIRECT),
        "{what}: redirected to the registered URI, got {location}"
    );
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

/// RFC 6749 §4.1.2.1 + RFC 9207: the error goes back to the client with state and iss.
fn assert_client_error(p: &Provider, reply: &Reply, code: &str, what: &str) -> HashMap<String, String> {
    let params = client_redirect(reply, what);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(code),
        "{what}: {params:?}"
    );
    assert_eq!(params.get("iss"), Some(&p.app.address), "{what}: iss");
    assert!(!params.contains_key("code"), "{what}: no code with an error");
    params
}

#[tokio::test]
async fn unknown_client_and_unregistered_redirect_uri_get_the_same_error_page() {
    let p = provider(ClientOptions::default()).await;
    // The valid request reaches the login page: the baseline.
    let ok = get_authorize(&p.app, &valid_request(&p)).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.header("location").unwrap().starts_with("/login"));

    let unknown_client = get_authorize(
        &p.app,
        &with_param(valid_request(&p), "client_id", Some("no-such-client")),
    )
    .await;
    assert_error_page(&unknown_client, "unknown client_id");
    for bad_uri in [
        "http://127.0.0.1:9/evil",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?next=/evil",
        "http://127.0.0.1:9/callback/../evil",
        "http://127.0.0.1:9/callback#frag",
        "HTTP://127.0.0.1:9/callback",
        "http://127.0.0.1:90/callback",
        "http://evil.example.com/callback",
        "https://127.0.0.1:9/callback",
    ] {
        let reply = get_authorize(&p.app, &with_param(valid_request(&p), "redirect_uri", Some(bad_uri))).await;
        assert_error_page(&reply, bad_uri);
        assert_eq!(
            reply.status, unknown_client.status,
            "{bad_uri}: same status as an unknown client"
        );
        assert_eq!(
            reply.body, unknown_client.body,
            "{bad_uri}: same page as an unknown client"
        );
    }
    // Checked before anything else: other errors with a bad redirect URI are not redirected.
    let bad_both = with_param(valid_request(&p), "redirect_uri", Some("http://evil.example.com/cb"));
    let reply = get_authorize(&p.app, &with_param(bad_both, "response_type", Some("token"))).await;
    assert_error_page(&reply, "bad redirect_uri and response_type=token");
    assert_eq!(reply.body, unknown_client.body);
    // Missing client_id or redirect_uri: still an error page at the provider.
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "client_id", None)).await;
    assert_error_page(&reply, "no client_id");
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "redirect_uri", None)).await;
    assert_error_page(&reply, "no redirect_uri");
}

#[tokio::test]
async fn repeated_client_id_or_redirect_uri_gets_the_error_page() {
    let p = provider(ClientOptions::default()).await;
    let other = register(&p.db, &ClientOptions::default()).await;
    let mut twice = valid_request(&p);
    twice.push(("client_id", other.client_id.clone()));
    assert_error_page(&get_authorize(&p.app, &twice).await, "client_id twice (two clients)");
    let mut same_twice = valid_request(&p);
    same_twice.push(("client_id", p.client.client_id.clone()));
    assert_error_page(
        &get_authorize(&p.app, &same_twice).await,
        "client_id twice (same value)",
    );
    let mut uri_twice = valid_request(&p);
    uri_twice.push(("redirect_uri", "http://evil.example.com/cb".into()));
    assert_error_page(&get_authorize(&p.app, &uri_twice).await, "redirect_uri twice");
}

/// The check for a repeated `client_id` / `redirect_uri` must not depend on what else is
/// repeated: with two values the client is unknown, so nothing may be redirected.
#[tokio::test]
async fn repeated_client_id_or_redirect_uri_is_an_error_page_whatever_else_repeats() {
    let p = provider(ClientOptions::default()).await;
    let other = register(&p.db, &ClientOptions::default()).await;
    let mut client_twice = vec![("client_id", other.client_id.clone())];
    client_twice.extend(valid_request(&p));
    client_twice.push(("scope", "openid".into()));
    let mut uri_twice = vec![("redirect_uri", "http://evil.example.com/cb".to_owned())];
    uri_twice.extend(valid_request(&p));
    uri_twice.push(("nonce", "again".into()));
    let mut redirected = Vec::new();
    for (what, params) in [
        ("client_id twice, then scope twice", client_twice),
        ("redirect_uri twice, then nonce twice", uri_twice),
    ] {
        let reply = get_authorize(&p.app, &params).await;
        if let Some(location) = reply.header("location") {
            redirected.push(format!("{what}: {} to {location}", reply.status));
        } else {
            assert_error_page(&reply, what);
        }
    }
    assert!(redirected.is_empty(), "must not redirect:\n{}", redirected.join("\n"));
}

#[tokio::test]
async fn repeated_parameter_is_invalid_request_at_the_client() {
    let p = provider(ClientOptions::default()).await;
    for (name, value) in [
        ("scope", "openid"),
        ("response_type", "code"),
        ("code_challenge", CHALLENGE),
        ("nonce", "again"),
        ("prompt", "login"),
        ("max_age", "60"),
    ] {
        let mut params = valid_request(&p);
        if !params.iter().any(|(k, _)| *k == name) {
            params.push((name, value.to_owned()));
        }
        params.push((name, value.to_owned()));
        let reply = get_authorize(&p.app, &params).await;
        let got = assert_client_error(&p, &reply, "invalid_request", &format!("{name} twice"));
        assert_eq!(
            got.get("state").map(String::as_str),
            Some("st-123"),
            "{name} twice: state echoed"
        );
    }
}

#[tokio::test]
async fn response_type_other_than_code_is_unsupported_response_type() {
    let p = provider(ClientOptions::default()).await;
    for rt in ["token", "id_token", "code id_token", "code token"] {
        let reply = get_authorize(&p.app, &with_param(valid_request(&p), "response_type", Some(rt))).await;
        let got = assert_client_error(&p, &reply, "unsupported_response_type", rt);
        assert_eq!(got.get("state").map(String::as_str), Some("st-123"));
        // No fragment: nothing may travel in an implicit-style response.
        assert!(!reply.header("location").unwrap().contains('#'), "{rt}: no fragment");
    }
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "response_type", None)).await;
    assert_client_error(&p, &reply, "invalid_request", "no response_type");
}

#[tokio::test]
async fn public_client_without_code_challenge_is_invalid_request() {
    let p = provider(ClientOptions {
        public: true,
        ..Default::default()
    })
    .await;
    let params = with_param(valid_request(&p), "code_challenge", None);
    let params = with_param(params, "code_challenge_method", None);
    let reply = get_authorize(&p.app, &params).await;
    let got = assert_client_error(&p, &reply, "invalid_request", "public client without PKCE");
    assert_eq!(got.get("state").map(String::as_str), Some("st-123"));
    // With the challenge it proceeds to the login page.
    let reply = get_authorize(&p.app, &valid_request(&p)).await;
    assert!(reply.header("location").unwrap().starts_with("/login"), "{reply:?}");
}

#[tokio::test]
async fn plain_or_unknown_code_challenge_method_is_refused() {
    for public in [true, false] {
        let p = provider(ClientOptions {
            public,
            ..Default::default()
        })
        .await;
        for method in [Some("plain"), Some("S512"), Some("s256"), None] {
            let reply = get_authorize(&p.app, &with_param(valid_request(&p), "code_challenge_method", method)).await;
            assert_client_error(
                &p,
                &reply,
                "invalid_request",
                &format!("public={public}, code_challenge_method={method:?}"),
            );
        }
    }
}

#[tokio::test]
async fn oversized_state_or_nonce_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let long = "s".repeat(2049);
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "state", Some(&long))).await;
    assert_client_error(&p, &reply, "invalid_request", "state > 2 KB");
    let long_nonce = "n".repeat(2049);
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "nonce", Some(&long_nonce))).await;
    assert_client_error(&p, &reply, "invalid_request", "nonce > 2 KB");
    // Exactly 2 KB is still fine.
    let ok = "s".repeat(2048);
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "state", Some(&ok))).await;
    assert!(
        reply.header("location").unwrap().starts_with("/login"),
        "2048-byte state"
    );
}
