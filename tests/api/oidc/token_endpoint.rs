//! What a client developer sees at `/token`: client authentication (`client_secret_basic`,
//! `client_secret_post`) and the RFC 6749 §5.2 errors for bad credentials, grant types and
//! request encodings.

use serde_json::json;

use super::support::{
    Auth, Reply, assert_successful_token_response, auth_of, exchange, field, post_form, secret_of, signed_in, userinfo,
};
use super::{ClientOptions, REDIRECT, provider};
use crate::helpers::TestApp;

/// Every byte percent-encoded: what a form decoder must undo (RFC 6749 §2.3.1, appendix B).
fn percent_encode_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// POSTs a raw body with the given headers.
async fn post_raw(app: &TestApp, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut req = app.http.post(format!("{}{path}", app.address)).body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Reply::read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn token_bad_client_credentials_are_invalid_client_with_a_challenge() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let (id, secret) = secret_of(&p);
    let wrong = format!("{secret}x");
    let attempts: Vec<(&str, Auth<'_>)> = vec![
        ("basic, wrong secret", Auth::Basic(id, &wrong)),
        ("basic, empty secret", Auth::Basic(id, "")),
        ("basic, unknown client", Auth::Basic("no-such-client", secret)),
        ("post, wrong secret", Auth::Post(id, &wrong)),
        ("post, unknown client", Auth::Post("no-such-client", secret)),
        ("confidential client without its secret", Auth::Public(id)),
        ("no client authentication", Auth::None),
    ];
    for (what, auth) in attempts {
        let reply = exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT)).await;
        reply.assert_oauth_error(401, "invalid_client", what);
        let challenge = reply.header("www-authenticate").unwrap_or_default().to_owned();
        assert!(!challenge.is_empty(), "{what}: a 401 carries WWW-Authenticate");
        if matches!(auth, Auth::Basic(..)) {
            // RFC 6749 §5.2: the challenge matches the scheme the client used.
            assert!(
                challenge.to_ascii_lowercase().starts_with("basic"),
                "{what}: challenge {challenge:?}"
            );
        }
    }
    // None of this spent the code: the real client still exchanges it.
    let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    assert_successful_token_response(&reply, "the genuine exchange afterwards");
}

#[tokio::test]
async fn token_two_client_authentication_methods_is_invalid_request() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let (id, secret) = secret_of(&p);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", s.code.as_str()),
        ("code_verifier", s.verifier()),
        ("redirect_uri", REDIRECT),
        ("client_secret", secret),
    ];
    let reply = post_form(&p.app, "/token", Auth::Basic(id, secret), &form).await;
    reply.assert_oauth_error(400, "invalid_request", "Basic and client_secret in the body");
    let mut with_id = form.to_vec();
    with_id.push(("client_id", id));
    let reply = post_form(&p.app, "/token", Auth::Basic(id, secret), &with_id).await;
    reply.assert_oauth_error(
        400,
        "invalid_request",
        "Basic and client_id + client_secret in the body",
    );
}

#[tokio::test]
async fn token_unknown_grant_type_is_unsupported_grant_type() {
    let p = provider(ClientOptions::default()).await;
    let auth = auth_of(&p.client);
    for grant in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "AUTHORIZATION_CODE",
    ] {
        let reply = post_form(&p.app, "/token", auth, &[("grant_type", grant), ("username", "x")]).await;
        reply.assert_oauth_error(400, "unsupported_grant_type", grant);
    }
}

#[tokio::test]
async fn token_missing_grant_type_is_invalid_request() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let reply = post_form(
        &p.app,
        "/token",
        auth_of(&p.client),
        &[
            ("code", s.code.as_str()),
            ("code_verifier", s.verifier()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    reply.assert_oauth_error(400, "invalid_request", "no grant_type");
}

#[tokio::test]
async fn token_request_that_is_not_a_form_is_invalid_request() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let (id, secret) = secret_of(&p);
    let basic = super::support::basic_header(id, secret);
    let json_body = json!({
        "grant_type": "authorization_code", "code": s.code, "code_verifier": s.verifier(), "redirect_uri": REDIRECT,
    })
    .to_string();
    let form_body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", s.code.as_str()),
            ("code_verifier", s.verifier()),
            ("redirect_uri", REDIRECT),
        ])
        .finish();
    let cases: [(&str, Option<&str>, &str); 4] = [
        ("JSON", Some("application/json"), json_body.as_str()),
        ("form bytes labelled text/plain", Some("text/plain"), form_body.as_str()),
        ("form bytes without a Content-Type", None, form_body.as_str()),
        (
            "multipart label",
            Some("multipart/form-data; boundary=x"),
            form_body.as_str(),
        ),
    ];
    for (what, content_type, body) in cases {
        let mut headers = vec![("Authorization", basic.as_str())];
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        let reply = post_raw(&p.app, "/token", &headers, body).await;
        reply.assert_oauth_error(400, "invalid_request", what);
    }
    // The same request as a form works.
    let reply = post_raw(
        &p.app,
        "/token",
        &[
            ("Authorization", basic.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form_body,
    )
    .await;
    assert_successful_token_response(&reply, "the same request as a form");
}

#[tokio::test]
async fn token_client_secret_post_works() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid", "email"]).await;
    let (id, secret) = secret_of(&p);
    let reply = exchange(
        &p.app,
        Auth::Post(id, secret),
        &s.code,
        Some(s.verifier()),
        Some(REDIRECT),
    )
    .await;
    let json = assert_successful_token_response(&reply, "client_secret_post");
    assert!(json["id_token"].is_string(), "openid scope gives an ID token: {json}");
    let scope = field(&json, "scope");
    assert!(scope.split(' ').any(|s| s == "openid"), "scope {scope:?}");
    let access = field(&json, "access_token");
    assert_eq!(userinfo(&p.app, &access).await.status, 200);
}

#[tokio::test]
async fn token_client_secret_basic_with_form_encoded_credentials_works() {
    let p = provider(ClientOptions::default()).await;
    let (id, secret) = secret_of(&p);
    let s = signed_in(&p, &["openid"]).await;
    // Credentials fully percent-encoded before base64: the server must form-decode them.
    let header = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", percent_encode_all(id), percent_encode_all(secret))
        )
    );
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", s.code.as_str()),
            ("code_verifier", s.verifier()),
            ("redirect_uri", REDIRECT),
        ])
        .finish();
    let reply = post_raw(
        &p.app,
        "/token",
        &[
            ("Authorization", header.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form,
    )
    .await;
    assert_successful_token_response(&reply, "client_secret_basic, percent-encoded");
    // And the plain encoding (what most libraries send) works too.
    let s = signed_in(&p, &["openid"]).await;
    let reply = exchange(
        &p.app,
        Auth::Basic(id, secret),
        &s.code,
        Some(s.verifier()),
        Some(REDIRECT),
    )
    .await;
    assert_successful_token_response(&reply, "client_secret_basic");
}
