//! Code exchanges at `/token` that must not succeed: missing or wrong PKCE verifier, a code
//! used twice (and what that revokes), another client's code, a mismatched `redirect_uri`,
//! and other tokens presented as refresh tokens.

use serde_json::json;

use super::support::{
    CHALLENGE, assert_invalid_token, auth_of, exchange, field, introspect, refresh, signed_in, tokens, userinfo,
};
use super::{ClientOptions, REDIRECT, provider, register};

#[tokio::test]
async fn missing_code_verifier_is_invalid_grant() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let reply = exchange(&p.app, auth_of(&p.client), &s.code, None, Some(REDIRECT)).await;
    reply.assert_oauth_error(400, "invalid_grant", "no code_verifier");
}

#[tokio::test]
async fn wrong_code_verifier_is_invalid_grant() {
    for public in [false, true] {
        let p = provider(ClientOptions {
            public,
            ..Default::default()
        })
        .await;
        let s = signed_in(&p, &["openid"]).await;
        let wrong = "x".repeat(43);
        let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(&wrong), Some(REDIRECT)).await;
        reply.assert_oauth_error(400, "invalid_grant", &format!("public={public}: wrong code_verifier"));
        // The challenge itself is not the verifier.
        let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(CHALLENGE), Some(REDIRECT)).await;
        reply.assert_oauth_error(400, "invalid_grant", &format!("public={public}: challenge as verifier"));
    }
}

#[tokio::test]
async fn code_used_twice_fails_and_revokes_what_it_issued() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let s = signed_in(&p, &["openid", "email"]).await;
    let auth = auth_of(&p.client);
    let first = exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let access = field(&first, "access_token");
    let refresh_token = field(&first, "refresh_token");
    assert_eq!(
        userinfo(&p.app, &access).await.status,
        200,
        "the first exchange's token works"
    );

    let second = exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    second.assert_oauth_error(400, "invalid_grant", "second use of the code");
    assert_invalid_token(&userinfo(&p.app, &access).await, "access token of a replayed code");
    refresh(&p.app, auth, &refresh_token).await.assert_oauth_error(
        400,
        "invalid_grant",
        "refresh token of a replayed code",
    );
    let answer = introspect(&p.app, auth, &access).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({ "active": false }));
    // A third use fails the same way.
    exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT))
        .await
        .assert_oauth_error(400, "invalid_grant", "third use of the code");
}

/// "Every token issued from it": also those obtained by refreshing since, here with a
/// refresh token granted through `offline_access` and consent rather than first-party status.
#[tokio::test]
async fn code_replay_after_a_refresh_revokes_the_rotated_tokens_too() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid", "offline_access"]).await;
    let auth = auth_of(&p.client);
    let first = exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let rotated = refresh(&p.app, auth, &field(&first, "refresh_token")).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let rotated = rotated.json();
    let (access, refresh_token) = (field(&rotated, "access_token"), field(&rotated, "refresh_token"));
    assert_eq!(userinfo(&p.app, &access).await.status, 200);

    exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT))
        .await
        .assert_oauth_error(400, "invalid_grant", "second use of the code");
    assert_invalid_token(
        &userinfo(&p.app, &access).await,
        "access token from a refresh of a replayed code",
    );
    assert_invalid_token(
        &userinfo(&p.app, &field(&first, "access_token")).await,
        "access token of a replayed code",
    );
    refresh(&p.app, auth, &refresh_token).await.assert_oauth_error(
        400,
        "invalid_grant",
        "rotated refresh token of a replayed code",
    );
}

/// Other tokens are not refresh tokens: an access or ID token at the refresh grant fails.
#[tokio::test]
async fn access_or_id_token_presented_as_a_refresh_token_is_invalid_grant() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (_, t) = tokens(&p, &["openid"]).await;
    for name in ["access_token", "id_token"] {
        refresh(&p.app, auth_of(&p.client), &field(&t, name))
            .await
            .assert_oauth_error(400, "invalid_grant", &format!("{name} as a refresh token"));
    }
    let reply = refresh(&p.app, auth_of(&p.client), &field(&t, "refresh_token")).await;
    assert_eq!(reply.status, 200, "the real refresh token still works: {}", reply.body);
}

#[tokio::test]
async fn code_presented_by_another_client_is_invalid_grant() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let thief = register(&p.db, &ClientOptions::default()).await;
    let reply = exchange(&p.app, auth_of(&thief), &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    reply.assert_oauth_error(400, "invalid_grant", "confidential client with another's code");
    let public_thief = register(
        &p.db,
        &ClientOptions {
            public: true,
            ..Default::default()
        },
    )
    .await;
    let reply = exchange(
        &p.app,
        auth_of(&public_thief),
        &s.code,
        Some(s.verifier()),
        Some(REDIRECT),
    )
    .await;
    reply.assert_oauth_error(400, "invalid_grant", "public client with another's code");
}

#[tokio::test]
async fn redirect_uri_mismatch_is_invalid_grant() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    for other in [
        "http://127.0.0.1:9/other",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
    ] {
        let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(s.verifier()), Some(other)).await;
        reply.assert_oauth_error(400, "invalid_grant", &format!("redirect_uri {other}"));
    }
}
