//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2): when they are issued, rotation, reuse
//! detection, concurrent use, scope narrowing, and what ends them.

use latchkey::domain::Email;
use openidconnect::core::{CoreErrorResponseType, CoreTokenResponse};
use openidconnect::{OAuth2TokenResponse, RequestTokenError, Scope, TokenResponse};

use super::flows::{TokenAnswer, code_tokens, jwks, scope_set, token_request, userinfo, verify_access_token};
use super::{Browser, ClientOptions, Provider, Rp, attempt, provider, register};

/// A signed-in user's tokens for the provider's client.
async fn tokens(p: &Provider, scopes: &[&str]) -> (Rp, Browser, CoreTokenResponse) {
    let rp = Rp::discover(p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, scopes, &[]);
    let tokens = code_tokens(p, &rp, &browser, a).await;
    (rp, browser, tokens)
}

fn refresh_token_of(tokens: &CoreTokenResponse) -> String {
    tokens.refresh_token().expect("a refresh token").secret().clone()
}

/// A refresh request as the provider's (confidential) client sends it, with Basic auth.
async fn refresh(p: &Provider, token: &str, scope: Option<&str>) -> TokenAnswer {
    let id = p.client.client_id.clone();
    let secret = p.client.client_secret.clone().expect("a confidential client");
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    token_request(p, Some((&id, &secret)), &form).await
}

/// A refresh request as a public client sends it: its client_id, no credentials.
async fn public_refresh(p: &Provider, token: &str) -> TokenAnswer {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", p.client.client_id.as_str()),
    ];
    token_request(p, None, &form).await
}

fn assert_invalid_grant(answer: &TokenAnswer, what: &str) {
    assert_eq!(
        (answer.status, answer.error()),
        (400, "invalid_grant"),
        "{what}: {}",
        answer.body
    );
    assert!(answer.body.get("access_token").is_none());
}

// ---------------------------------------------------------------------------------------
// When refresh tokens are issued.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn no_refresh_token_without_offline_access_for_a_third_party_client() {
    let p = provider(ClientOptions::default()).await;
    let (_, _, tokens) = tokens(&p, &["openid", "email"]).await;
    assert!(tokens.refresh_token().is_none());
}

#[tokio::test]
async fn offline_access_with_consent_issues_a_refresh_token() {
    let p = provider(ClientOptions::default()).await;
    let (_, _, tokens) = tokens(&p, &["openid", "offline_access"]).await;
    let rt = refresh_token_of(&tokens);
    let header = jsonwebtoken::decode_header(&rt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("refresh+jwt"));
    assert_eq!(refresh(&p, &rt, None).await.status, 200);
}

#[tokio::test]
async fn a_first_party_client_gets_a_refresh_token_without_offline_access() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (_, _, tokens) = tokens(&p, &["openid"]).await;
    let rt = refresh_token_of(&tokens);
    assert_eq!(refresh(&p, &rt, None).await.status, 200);
}

#[tokio::test]
async fn no_refresh_token_for_a_client_without_the_refresh_token_grant() {
    let p = provider(ClientOptions {
        grants: vec!["authorization_code"],
        ..Default::default()
    })
    .await;
    let (_, _, tokens) = tokens(&p, &["openid", "offline_access"]).await;
    assert!(
        tokens.refresh_token().is_none(),
        "the client may not use refresh tokens"
    );
}

// ---------------------------------------------------------------------------------------
// Rotation and reuse detection.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn each_refresh_rotates_the_refresh_token_and_the_old_one_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let (rp, _, tokens) = tokens(&p, &["openid", "email", "offline_access"]).await;
    let rt1 = tokens.refresh_token().unwrap().clone();

    // Through the relying party library, as an application refreshes.
    let second = rp
        .client
        .exchange_refresh_token(&rt1)
        .unwrap()
        .request_async(&rp.http)
        .await
        .unwrap();
    let rt2 = second.refresh_token().expect("a new refresh token").clone();
    assert_ne!(rt2.secret(), rt1.secret(), "rotation: a new refresh token");
    assert_ne!(second.access_token().secret(), tokens.access_token().secret());
    let id_token = second.id_token().expect("an ID token with the openid scope");
    // OIDC Core §12.2: no nonce in a refreshed ID token, same iss/sub/aud.
    let claims = id_token
        .claims(
            &rp.client.id_token_verifier(),
            |_: Option<&openidconnect::Nonce>| Ok(()),
        )
        .unwrap();
    assert_eq!(claims.subject().as_str(), p.user_id);

    // Raw, to see the exact answer.
    let third = refresh(&p, rt2.secret(), None).await;
    assert_eq!(third.status, 200, "{}", third.body);
    assert_eq!(third.cache_control(), "no-store", "RFC 6749 §5.1");
    assert!(third.str("token_type").eq_ignore_ascii_case("bearer"));
    let rt3 = third.str("refresh_token").to_owned();
    assert!(rt3 != *rt1.secret() && rt3 != *rt2.secret());
    let keys = jwks(&p).await;
    let claims = verify_access_token(&keys, third.str("access_token"), &p.app.address, &p.client.client_id);
    assert_eq!(claims["sub"], p.user_id);
    assert_eq!(
        scope_set(claims["scope"].as_str().unwrap()),
        scope_set("openid email offline_access")
    );

    // The spent one is refused.
    let err = rp
        .client
        .exchange_refresh_token(&rt1)
        .unwrap()
        .request_async(&rp.http)
        .await
        .expect_err("a spent refresh token is refused");
    match err {
        RequestTokenError::ServerResponse(e) => assert_eq!(*e.error(), CoreErrorResponseType::InvalidGrant),
        other => panic!("expected invalid_grant, got {other:?}"),
    }
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_whole_family() {
    let p = provider(ClientOptions::default()).await;
    let (_, _, tokens) = tokens(&p, &["openid", "email", "offline_access"]).await;
    let rt1 = refresh_token_of(&tokens);

    let second = refresh(&p, &rt1, None).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let rt2 = second.str("refresh_token").to_owned();
    let at2 = second.str("access_token").to_owned();
    let (status, _, _) = userinfo(&p, &at2).await;
    assert_eq!(status, 200, "the new access token works before the reuse");

    // The spent token comes back (an attacker's copy, or a replay).
    let reuse = refresh(&p, &rt1, None).await;
    assert_invalid_grant(&reuse, "reuse of a spent refresh token");

    // The family is dead: the newest refresh token too, and its access token.
    let after = refresh(&p, &rt2, None).await;
    assert_invalid_grant(&after, "the family's newest refresh token after reuse");
    let (status, challenge, _) = userinfo(&p, &at2).await;
    assert_eq!(status, 401, "the family's access token is revoked");
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#),
        "RFC 6750 §3: {challenge}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_with_one_token_succeed_exactly_once() {
    let p = provider(ClientOptions::default()).await;
    let (_, _, tokens) = tokens(&p, &["openid", "offline_access"]).await;
    let rt = refresh_token_of(&tokens);
    let url = format!("{}/token", p.app.address);
    let id = p.client.client_id.clone();
    let secret = p.client.client_secret.clone().unwrap();

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let mut handles = Vec::new();
    for _ in 0..20 {
        let (http, url, id, secret, rt, barrier) = (
            reqwest::Client::new(),
            url.clone(),
            id.clone(),
            secret.clone(),
            rt.clone(),
            barrier.clone(),
        );
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            let res = http
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", rt.as_str())])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap();
            (status, body)
        }));
    }
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    let ok: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(ok.len(), 1, "exactly one success; statuses {statuses:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(
            (*status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "every other request is invalid_grant: {body}"
        );
    }

    // The 19 others presented a spent token: reuse, so the winner's new tokens are revoked too
    // (RFC 9700 §4.14.2: the server cannot tell which party is legitimate).
    let (_, winner) = ok[0];
    let rt2 = winner["refresh_token"].as_str().expect("a new refresh token");
    assert_invalid_grant(&refresh(&p, rt2, None).await, "the winner's refresh token after reuse");
    let (status, _, _) = userinfo(&p, winner["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401, "the winner's access token is revoked with its family");
}

#[tokio::test]
async fn a_public_client_refreshes_with_its_client_id_and_rotation() {
    let p = provider(ClientOptions {
        public: true,
        ..Default::default()
    })
    .await;
    let (_, _, tokens) = tokens(&p, &["openid", "offline_access"]).await;
    let rt1 = refresh_token_of(&tokens);
    let second = public_refresh(&p, &rt1).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.cache_control(), "no-store");
    let rt2 = second.str("refresh_token").to_owned();
    assert_ne!(rt2, rt1, "RFC 9700 §4.14.2: public clients' refresh tokens rotate");
    assert_invalid_grant(&public_refresh(&p, &rt1).await, "a public client's spent refresh token");
    assert_invalid_grant(&public_refresh(&p, &rt2).await, "the family after reuse");
}

// ---------------------------------------------------------------------------------------
// Scope.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_never_widen_it() {
    let p = provider(ClientOptions::default()).await;
    let (_, _, tokens) = tokens(&p, &["openid", "email", "offline_access"]).await;
    let rt1 = refresh_token_of(&tokens);
    let keys = jwks(&p).await;

    // Narrowed to openid: the access token carries only that, userinfo shows no email.
    let narrow = refresh(&p, &rt1, Some("openid")).await;
    assert_eq!(narrow.status, 200, "{}", narrow.body);
    assert_eq!(scope_set(narrow.str("scope")), scope_set("openid"));
    let claims = verify_access_token(&keys, narrow.str("access_token"), &p.app.address, &p.client.client_id);
    assert_eq!(scope_set(claims["scope"].as_str().unwrap()), scope_set("openid"));
    assert!(claims.get("email").is_none(), "no email claim without the email scope");
    let (status, _, info) = userinfo(&p, narrow.str("access_token")).await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], p.user_id);
    assert!(info.get("email").is_none(), "{info}");
    let rt2 = narrow.str("refresh_token").to_owned();

    // Without scope, RFC 6749 §6: the scope originally granted.
    let again = refresh(&p, &rt2, None).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(scope_set(again.str("scope")), scope_set("openid email offline_access"));
    let rt3 = again.str("refresh_token").to_owned();

    // Widening beyond the grant is refused.
    let wide = refresh(&p, &rt3, Some("openid profile")).await;
    assert_eq!((wide.status, wide.error()), (400, "invalid_scope"), "{}", wide.body);
    assert!(wide.body.get("access_token").is_none());
}

#[tokio::test]
async fn narrowing_through_the_relying_party_library() {
    let p = provider(ClientOptions::default()).await;
    let (rp, _, tokens) = tokens(&p, &["openid", "email", "offline_access"]).await;
    let rt = tokens.refresh_token().unwrap().clone();
    let narrowed = rp
        .client
        .exchange_refresh_token(&rt)
        .unwrap()
        .add_scope(Scope::new("openid".into()))
        .request_async(&rp.http)
        .await
        .unwrap();
    let scopes: Vec<String> = narrowed
        .scopes()
        .map(|s| s.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default();
    assert!(scopes.is_empty() || scopes == ["openid"], "{scopes:?}");
    let rt = narrowed.refresh_token().unwrap().clone();
    let err = rp
        .client
        .exchange_refresh_token(&rt)
        .unwrap()
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("profile".into()))
        .request_async(&rp.http)
        .await
        .expect_err("widening is refused");
    match err {
        RequestTokenError::ServerResponse(e) => assert_eq!(*e.error(), CoreErrorResponseType::InvalidScope),
        other => panic!("expected invalid_scope, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Binding, and what ends refresh tokens.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_refresh_token_presented_by_another_client_is_invalid_grant() {
    let p = provider(ClientOptions::default()).await;
    let (_, _, tokens) = tokens(&p, &["openid", "offline_access"]).await;
    let rt = refresh_token_of(&tokens);
    let other = register(&p.db, &ClientOptions::default()).await;
    let secret = other.client_secret.clone().unwrap();
    let answer = token_request(
        &p,
        Some((&other.client_id, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_invalid_grant(&answer, "another client's refresh token");

    // A public client naming itself fares no better.
    let public = register(
        &p.db,
        &ClientOptions {
            public: true,
            ..Default::default()
        },
    )
    .await;
    let answer = token_request(
        &p,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", &public.client_id),
        ],
    )
    .await;
    assert_invalid_grant(&answer, "another (public) client's refresh token");
}

#[tokio::test]
async fn refresh_fails_after_the_user_is_disabled() {
    let p = provider(ClientOptions::default()).await;
    let (_, _, tokens) = tokens(&p, &["openid", "offline_access"]).await;
    let rt = refresh_token_of(&tokens);
    latchkey::service::users::set_disabled(&p.db, "test", &Email::parse(&p.email).unwrap(), true)
        .await
        .unwrap();
    let answer = refresh(&p, &rt, None).await;
    assert_invalid_grant(&answer, "refresh for a disabled user");
    let (status, _, _) = userinfo(&p, tokens.access_token().secret()).await;
    assert_eq!(status, 401, "a disabled user's access token is refused at userinfo");

    // The token died with the disabling: enabling the user again does not revive it.
    latchkey::service::users::set_disabled(&p.db, "test", &Email::parse(&p.email).unwrap(), false)
        .await
        .unwrap();
    let answer = refresh(&p, &rt, None).await;
    assert_invalid_grant(&answer, "refresh token from before the disabling, after re-enabling");
}

#[tokio::test]
async fn refresh_fails_after_logout() {
    let p = provider(ClientOptions::default()).await;
    let (rp, browser, tokens) = tokens(&p, &["openid", "offline_access"]).await;
    let rt = refresh_token_of(&tokens);
    let id_token = tokens.id_token().unwrap().to_string();

    let res = browser
        .get(&format!(
            "/logout?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("id_token_hint", &id_token)
                .finish()
        ))
        .await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "logout answered {}",
        res.status()
    );
    let answer = refresh(&p, &rt, None).await;
    assert_invalid_grant(&answer, "refresh after logout");

    // The browser's session is over too: the next authorization asks to sign in.
    let a = attempt(&rp, &["openid"], &[]);
    let page = browser.start(&a.url).await;
    assert!(page.url().contains("/login"), "{page:?}");
}
