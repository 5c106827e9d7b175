//! What a client developer sees at `/token`, `/revoke` (RFC 7009), `/introspect` (RFC 7662)
//! and in the discovery document: successful shapes and RFC 6749 §5.2 error shapes.

use chrono::Utc;
use serde_json::{Value, json};

use super::security::{
    Auth, Reply, access_claims, assert_invalid_token, auth_of, exchange, field, fixture_signed, introspect, post_form,
    refresh, rs256_header, server_kid, signed_in, tokens, userinfo,
};
use super::{ClientOptions, Provider, REDIRECT, provider, register};
use crate::helpers::TestApp;

/// The registered client's id and secret (it is confidential).
fn secret_of(p: &Provider) -> (&str, &str) {
    (
        &p.client.client_id,
        p.client.client_secret.as_deref().expect("a confidential client"),
    )
}

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

fn assert_inactive(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status, 200,
        "{what}: introspection answers 200, body {}",
        reply.body
    );
    assert_eq!(
        reply.json(),
        json!({ "active": false }),
        "{what}: exactly {{\"active\": false}}"
    );
}

fn assert_successful_token_response(reply: &Reply, what: &str) -> Value {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}: RFC 6749 §5.1");
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"),
        "{what}: JSON"
    );
    let json = reply.json();
    assert!(
        json["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "{what}: token_type Bearer in {json}"
    );
    assert!(json["access_token"].is_string(), "{what}: access_token in {json}");
    assert!(
        json["expires_in"].as_u64().is_some_and(|n| n > 0),
        "{what}: expires_in in {json}"
    );
    json
}

// ---------------------------------------------------------------------------------------
// /token
// ---------------------------------------------------------------------------------------

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
    let basic = super::security::basic_header(id, secret);
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

// ---------------------------------------------------------------------------------------
// /revoke (RFC 7009)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn revoke_requires_client_authentication() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (_, t) = tokens(&p, &["openid"]).await;
    let access = field(&t, "access_token");
    let refresh_token = field(&t, "refresh_token");
    let (id, secret) = secret_of(&p);
    let wrong = format!("{secret}x");
    for token in [&access, &refresh_token] {
        for (what, auth) in [
            ("no client authentication", Auth::None),
            ("wrong secret", Auth::Basic(id, &wrong)),
            ("confidential client without its secret", Auth::Public(id)),
        ] {
            let reply = post_form(&p.app, "/revoke", auth, &[("token", token.as_str())]).await;
            reply.assert_oauth_error(401, "invalid_client", what);
            assert!(reply.header("www-authenticate").is_some(), "{what}: WWW-Authenticate");
        }
    }
    // Nothing was revoked.
    assert_eq!(userinfo(&p.app, &access).await.status, 200);
    assert_eq!(refresh(&p.app, auth_of(&p.client), &refresh_token).await.status, 200);
    // RFC 7009 §2.1: `token` is required.
    let reply = post_form(
        &p.app,
        "/revoke",
        auth_of(&p.client),
        &[("token_type_hint", "access_token")],
    )
    .await;
    reply.assert_oauth_error(400, "invalid_request", "no token");
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let auth = auth_of(&p.client);
    let (_, first) = tokens(&p, &["openid"]).await;
    // Rotate once, so the family has two generations.
    let second = refresh(&p.app, auth, &field(&first, "refresh_token")).await;
    let second = assert_successful_token_response(&second, "rotation");
    let current = field(&second, "refresh_token");
    assert_eq!(introspect(&p.app, auth, &current).await.json()["active"], true);

    let reply = post_form(
        &p.app,
        "/revoke",
        auth,
        &[("token", current.as_str()), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    refresh(&p.app, auth, &current)
        .await
        .assert_oauth_error(400, "invalid_grant", "the revoked refresh token");
    assert_inactive(&introspect(&p.app, auth, &current).await, "the revoked refresh token");
    // RFC 7009 §2.1: access tokens of the same grant go with it.
    for (what, json) in [("first", &first), ("second", &second)] {
        let access = field(json, "access_token");
        assert_invalid_token(
            &userinfo(&p.app, &access).await,
            &format!("{what} access token of the family"),
        );
    }

    // Revoking a spent generation revokes the live one too.
    let (_, other) = tokens(&p, &["openid"]).await;
    let spent = field(&other, "refresh_token");
    let next = assert_successful_token_response(&refresh(&p.app, auth, &spent).await, "rotation");
    let live = field(&next, "refresh_token");
    let reply = post_form(&p.app, "/revoke", auth, &[("token", spent.as_str())]).await;
    assert_eq!(reply.status, 200);
    refresh(&p.app, auth, &live)
        .await
        .assert_oauth_error(400, "invalid_grant", "the live token of a revoked family");
    assert_inactive(
        &introspect(&p.app, auth, &live).await,
        "the live token of a revoked family",
    );
}

#[tokio::test]
async fn revoking_an_access_token_denies_it() {
    let p = provider(ClientOptions::default()).await;
    let auth = auth_of(&p.client);
    let (_, t) = tokens(&p, &["openid", "email"]).await;
    let access = field(&t, "access_token");
    assert_eq!(introspect(&p.app, auth, &access).await.json()["active"], true);
    let reply = post_form(
        &p.app,
        "/revoke",
        auth,
        &[("token", access.as_str()), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_invalid_token(&userinfo(&p.app, &access).await, "the revoked access token");
    assert_inactive(&introspect(&p.app, auth, &access).await, "the revoked access token");
    // Revoking twice is still 200 (RFC 7009 §2.2).
    let reply = post_form(&p.app, "/revoke", auth, &[("token", access.as_str())]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // A wrong hint does not save the token either (§2.1: the hint is only a hint).
    let (_, t) = tokens(&p, &["openid"]).await;
    let access = field(&t, "access_token");
    let reply = post_form(
        &p.app,
        "/revoke",
        auth,
        &[("token", access.as_str()), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_invalid_token(&userinfo(&p.app, &access).await, "revoked with a wrong hint");
}

#[tokio::test]
async fn revoking_an_unknown_or_garbage_token_is_200_and_revokes_nothing() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let auth = auth_of(&p.client);
    let (_, t) = tokens(&p, &["openid"]).await;
    let access = field(&t, "access_token");
    let refresh_token = field(&t, "refresh_token");
    let kid = server_kid(&p.app).await;
    let unknown_refresh = fixture_signed(
        &rs256_header("refresh+jwt", &kid),
        &json!({
            "iss": p.app.address, "sub": p.user_id, "aud": p.client.client_id,
            "exp": Utc::now().timestamp() + 600, "iat": Utc::now().timestamp(), "jti": "never-issued",
        }),
    );
    let extended = format!("{access}x");
    for junk in ["garbage", "", "a.b.c", unknown_refresh.as_str(), extended.as_str()] {
        let reply = post_form(&p.app, "/revoke", auth, &[("token", junk)]).await;
        assert_eq!(reply.status, 200, "revoking {junk:?}: {}", reply.body);
    }
    assert_eq!(
        userinfo(&p.app, &access).await.status,
        200,
        "the access token still works"
    );
    assert_eq!(introspect(&p.app, auth, &refresh_token).await.json()["active"], true);
    let reply = refresh(&p.app, auth, &refresh_token).await;
    assert_successful_token_response(&reply, "the refresh token still works");
}

#[tokio::test]
async fn revoking_another_clients_token_is_200_and_the_token_still_works() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let auth = auth_of(&p.client);
    let (_, t) = tokens(&p, &["openid"]).await;
    let access = field(&t, "access_token");
    let refresh_token = field(&t, "refresh_token");
    let other = register(&p.db, &ClientOptions::default()).await;
    let public_other = register(
        &p.db,
        &ClientOptions {
            public: true,
            ..Default::default()
        },
    )
    .await;
    for client in [&other, &public_other] {
        for token in [&access, &refresh_token] {
            let reply = post_form(&p.app, "/revoke", auth_of(client), &[("token", token.as_str())]).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
    }
    assert_eq!(
        userinfo(&p.app, &access).await.status,
        200,
        "the access token still works"
    );
    assert_eq!(introspect(&p.app, auth, &access).await.json()["active"], true);
    assert_eq!(introspect(&p.app, auth, &refresh_token).await.json()["active"], true);
    // The other client cannot use it either.
    refresh(&p.app, auth_of(&other), &refresh_token)
        .await
        .assert_oauth_error(400, "invalid_grant", "another client's refresh token");
    let reply = refresh(&p.app, auth, &refresh_token).await;
    assert_successful_token_response(&reply, "the refresh token still works for its client");
}

// ---------------------------------------------------------------------------------------
// /introspect (RFC 7662)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn introspection_requires_a_confidential_client() {
    let p = provider(ClientOptions::default()).await;
    let (_, t) = tokens(&p, &["openid"]).await;
    let access = field(&t, "access_token");
    let public = register(
        &p.db,
        &ClientOptions {
            public: true,
            ..Default::default()
        },
    )
    .await;
    let (id, secret) = secret_of(&p);
    let wrong = format!("{secret}x");
    for (what, auth) in [
        ("public client", auth_of(&public)),
        ("no client authentication", Auth::None),
        ("wrong secret", Auth::Basic(id, &wrong)),
        ("confidential client without its secret", Auth::Public(id)),
    ] {
        let reply = introspect(&p.app, auth, &access).await;
        reply.assert_oauth_error(401, "invalid_client", what);
        assert!(reply.header("www-authenticate").is_some(), "{what}: WWW-Authenticate");
        assert!(!reply.body.contains("active"), "{what}: nothing about the token");
    }
}

#[tokio::test]
async fn introspecting_an_active_access_token() {
    let p = provider(ClientOptions::default()).await;
    let (_, t) = tokens(&p, &["openid", "email"]).await;
    let access = field(&t, "access_token");
    let reply = introspect(&p.app, auth_of(&p.client), &access).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let json = reply.json();
    assert_eq!(json["active"], true, "{json}");
    assert_eq!(json["sub"], p.user_id.as_str());
    assert_eq!(json["client_id"], p.client.client_id.as_str());
    assert_eq!(json["iss"], p.app.address.as_str());
    let scope = field(&json, "scope");
    let mut scopes: Vec<&str> = scope.split(' ').collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["email", "openid"]);
    let exp = json["exp"].as_i64().expect("exp is a number");
    let now = Utc::now().timestamp();
    assert!(
        exp > now && exp <= now + 3600,
        "exp {exp} within the access token lifetime"
    );
    assert!(
        json["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "token_type in {json}"
    );
    // Another confidential client (a resource server) may introspect it too.
    let rs = register(&p.db, &ClientOptions::default()).await;
    assert_eq!(introspect(&p.app, auth_of(&rs), &access).await.json()["active"], true);
    // client_secret_post works here as well.
    let (id, secret) = secret_of(&p);
    assert_eq!(
        introspect(&p.app, Auth::Post(id, secret), &access).await.json()["active"],
        true
    );
}

#[tokio::test]
async fn introspecting_an_expired_forged_or_garbage_token_is_exactly_inactive() {
    let p = provider(ClientOptions::default()).await;
    let auth = auth_of(&p.client);
    let kid = server_kid(&p.app).await;
    let now = Utc::now().timestamp();
    let expired = fixture_signed(&rs256_header("at+jwt", &kid), &access_claims(&p, now - 3600));
    let live = fixture_signed(&rs256_header("at+jwt", &kid), &access_claims(&p, now + 600));
    assert_eq!(
        introspect(&p.app, auth, &live).await.json()["active"],
        true,
        "baseline: the same token unexpired is active"
    );
    let unsigned = format!(
        "{}.{}.",
        super::security::b64(json!({ "alg": "none", "typ": "at+jwt" }).to_string().as_bytes()),
        super::security::b64(access_claims(&p, now + 600).to_string().as_bytes())
    );
    for (what, token) in [
        ("expired", expired.as_str()),
        ("garbage", "garbage"),
        ("empty", ""),
        ("three dots", "a.b.c"),
        ("alg none", unsigned.as_str()),
        ("truncated signature", &live[..live.len() - 4]),
    ] {
        assert_inactive(&introspect(&p.app, auth, token).await, what);
    }
}

#[tokio::test]
async fn introspecting_a_refresh_token() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let auth = auth_of(&p.client);
    let (_, t) = tokens(&p, &["openid"]).await;
    let refresh_token = field(&t, "refresh_token");
    let reply = introspect(&p.app, auth, &refresh_token).await;
    assert_eq!(reply.status, 200);
    let json = reply.json();
    assert_eq!(json["active"], true, "{json}");
    assert_eq!(json["client_id"], p.client.client_id.as_str());
    assert_eq!(json["sub"], p.user_id.as_str());
    // Another client learns nothing about it.
    let other = register(&p.db, &ClientOptions::default()).await;
    assert_inactive(
        &introspect(&p.app, auth_of(&other), &refresh_token).await,
        "another client",
    );
    // Once rotated, the old one is inactive and the new one active.
    let next = refresh(&p.app, auth, &refresh_token).await;
    assert_eq!(next.status, 200, "{}", next.body);
    let new_token = field(&next.json(), "refresh_token");
    assert_inactive(
        &introspect(&p.app, auth, &refresh_token).await,
        "the rotated refresh token",
    );
    assert_eq!(introspect(&p.app, auth, &new_token).await.json()["active"], true);
}

// ---------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_advertises_the_protocol_endpoints_and_they_are_served() {
    let p = provider(ClientOptions::default()).await;
    let doc = p.app.get_json("/.well-known/openid-configuration").await;
    let issuer = p.app.address.as_str();
    assert_eq!(doc["issuer"], issuer);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
        ("end_session_endpoint", "/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    let list = |name: &str| -> Vec<String> {
        doc[name]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is a list: {doc}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        list("code_challenge_methods_supported"),
        ["S256"],
        "plain is not offered"
    );
    assert_eq!(list("response_types_supported"), ["code"]);
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(list("grant_types_supported").iter().any(|g| g == grant), "{grant}");
    }
    assert!(
        !list("grant_types_supported")
            .iter()
            .any(|g| g == "implicit" || g == "password"),
        "no implicit or password grant"
    );
    for scope in ["openid", "profile", "email", "offline_access", "roles"] {
        assert!(list("scopes_supported").iter().any(|s| s == scope), "scope {scope}");
    }
    for claim in ["sub", "iss", "aud", "exp", "iat", "email", "email_verified", "name"] {
        assert!(list("claims_supported").iter().any(|c| c == claim), "claim {claim}");
    }
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(
            list("token_endpoint_auth_methods_supported")
                .iter()
                .any(|m| m == method),
            "token auth method {method}"
        );
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(list("id_token_signing_alg_values_supported"), ["RS256"]);

    // Each advertised protocol endpoint answers as its RFC says, not 404/405.
    let revoke = post_form(&p.app, "/revoke", Auth::None, &[("token", "x")]).await;
    revoke.assert_oauth_error(401, "invalid_client", "revocation_endpoint without client auth");
    let intro = post_form(&p.app, "/introspect", Auth::None, &[("token", "x")]).await;
    intro.assert_oauth_error(401, "invalid_client", "introspection_endpoint without client auth");
    let token = post_form(&p.app, "/token", Auth::None, &[]).await;
    token.assert_oauth_error(400, "invalid_request", "token_endpoint without grant_type");
    let logout = Reply::read(p.app.get("/logout").await).await;
    assert_eq!(logout.status, 200, "end_session_endpoint without a session");
}
