//! Token revocation (RFC 7009) at `/revoke` and introspection (RFC 7662) at `/introspect`:
//! who may call them, what they answer, and what a revocation ends.

use chrono::Utc;
use serde_json::json;

use super::support::{
    Auth, Reply, access_claims, assert_invalid_token, assert_successful_token_response, auth_of, field, fixture_signed,
    introspect, post_form, refresh, rs256_header, secret_of, server_kid, tokens, userinfo,
};
use super::{ClientOptions, provider, register};

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
        super::support::b64(json!({ "alg": "none", "typ": "at+jwt" }).to_string().as_bytes()),
        super::support::b64(access_claims(&p, now + 600).to_string().as_bytes())
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
