//! Clients registered in the console, used by a relying party: the code flow works, and the
//! allowed scopes and token lifetimes set in the console take effect at the protocol.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, OAuth2TokenResponse, RedirectUrl, TokenResponse};
use serde_json::Value;

use super::*;
use crate::oidc::{Rp, attempt, sign_in};

/// A relying party for a client registered in the console.
async fn rp_for(p: &Provider, id: &str, secret: &str) -> Rp {
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(p.app.address.clone()).unwrap(), &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.to_owned()),
        Some(ClientSecret::new(secret.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    Rp { client, http }
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_client_registered_in_the_console_completes_a_code_flow() {
    let c = console().await;
    let (page, id, secret) = register(&c, &[]).await;
    let body = page.body();
    // What an app developer needs, ready to paste.
    for expected in [
        "Client registered.",
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        r#"checks: ["pkce", "state"]"#,
        "NextAuth",
        "PyJWKClient",
        r#"algorithms=["RS256"]"#,
        "audience=AUDIENCE",
        "issuer=ISSUER",
        r##"data-copy="#client-secret""##,
        r#"<script src="/static/admin.js" defer></script>"#,
    ] {
        assert!(body.contains(expected), "the client page shows {expected}: {body}");
    }
    assert!(body.contains(&id));
    let script = c.p.app.get("/static/admin.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("navigator.clipboard"));

    // Listed; the secret is never shown again.
    let list = c.open("/admin/clients").await;
    assert!(list.body().contains(&id) && list.body().contains("Console app"));
    let again = c.open(&format!("/admin/clients/{id}")).await;
    assert_eq!(status(&again), 200);
    assert!(!again.body().contains(&secret), "the secret is shown once");

    // An application uses it.
    let rp = rp_for(&c.p, &id, &secret).await;
    let browser = Browser::new(&c.p.app);
    let a = attempt(&rp, &["email"], &[]);
    let code = sign_in(&c.p, &browser, &a).await;
    let tokens = rp
        .client
        .exchange_code(openidconnect::AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(a.verifier)
        .request_async(&rp.http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verified = id_token.claims(&rp.client.id_token_verifier(), &a.nonce).unwrap();
    assert_eq!(verified.subject().as_str(), c.p.user_id);
    assert_eq!(claims(tokens.access_token().secret())["aud"], id.as_str());

    assert_eq!(
        audit_actors(&c.p, "client.created", &id).await,
        vec![Some(c.admin_id.clone())]
    );
}

#[tokio::test]
async fn allowed_scopes_narrow_what_is_granted() {
    let c = console().await;
    let (_, id, secret) = register(&c, &[("skip_consent", "on"), ("scope", "openid"), ("scope", "email")]).await;
    let rp = rp_for(&c.p, &id, &secret).await;
    let browser = Browser::new(&c.p.app);

    // profile is not allowed: dropped from the grant, the rest issued.
    let a = attempt(&rp, &["email", "profile"], &[]);
    let code = sign_in(&c.p, &browser, &a).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", a.verifier.secret()),
    ];
    let (status, body) = token(&c.p, &id, &secret, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "email openid");
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["scope"], "email openid");
    assert!(access.get("name").is_none(), "no profile claims");
    let refresh_token = body["refresh_token"]
        .as_str()
        .expect("a first-party client gets a refresh token")
        .to_owned();

    // Nothing allowed is left: invalid_scope, back to the client (RFC 6749 §4.1.2.1).
    let form = c.open(&format!("/admin/clients/{id}/edit")).await;
    let mut fields = new_client_form("Console app", &[("skip_consent", "on"), ("scope", "email")]);
    fields.retain(|(k, _)| *k != "client_type");
    let saved = c.post(&form, &format!("/admin/clients/{id}"), &fields).await;
    assert!(saved.body().contains("Changes saved."), "{}", saved.body());

    // A scope removed since the grant is dropped at the next refresh.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
    ];
    let (status, body) = token(&c.p, &id, &secret, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "email");
    assert!(body.get("id_token").is_none(), "openid is no longer granted");
    let a = attempt(&rp, &["profile"], &[]);
    let params = browser.start(&a.url).await.client_params();
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("invalid_scope"),
        "{params:?}"
    );
}

#[tokio::test]
async fn token_lifetimes_override_the_defaults() {
    let c = console().await;
    let extra = [
        ("skip_consent", "on"),
        ("grant", "client_credentials"),
        ("access_token_ttl", "120"),
        ("refresh_token_ttl", "3600"),
    ];
    let (page, id, secret) = register(&c, &extra).await;
    assert!(page.body().contains("120 s") && page.body().contains("3600 s"));
    let rp = rp_for(&c.p, &id, &secret).await;
    let browser = Browser::new(&c.p.app);
    let a = attempt(&rp, &["email"], &[]);
    let code = sign_in(&c.p, &browser, &a).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", a.verifier.secret()),
    ];
    let (status, body) = token(&c.p, &id, &secret, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120);
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(), 120);
    let refresh = claims(
        body["refresh_token"]
            .as_str()
            .expect("a first-party client gets a refresh token"),
    );
    assert_eq!(
        refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap(),
        3600
    );

    // A refresh keeps the client's lifetimes.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", body["refresh_token"].as_str().unwrap()),
    ];
    let (status, body) = token(&c.p, &id, &secret, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120);
    let refresh = claims(body["refresh_token"].as_str().unwrap());
    assert_eq!(
        refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap(),
        3600
    );

    // And so does a token the client gets for itself.
    let (status, body) = token(&c.p, &id, &secret, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120);
}
