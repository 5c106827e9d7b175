//! A generic OpenID provider that is not a stand-in: a second Latchkey. An application signs
//! in at Latchkey A, which sends the person to Latchkey B's hosted login and back.

use latchkey::db::Db;
use latchkey::service::clients;

use super::support::{button, follow};
use crate::helpers::spawn_issuer_app_on;
use crate::oidc::{Browser, ClientOptions, Outcome, PASSWORD, Provider, Rp, attempt, hidden, provider_on};

#[tokio::test]
async fn another_latchkey_works_as_a_generic_provider() {
    // A (downstream) listens first, so B can register A's callback.
    let a_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a_port = a_listener.local_addr().unwrap().port();
    let callback = format!("http://127.0.0.1:{a_port}/login/corp/callback");

    // B is reached as "localhost" so the two servers' cookies do not share a host.
    let b_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b_issuer = format!("http://localhost:{}", b_listener.local_addr().unwrap().port());
    let b_app = spawn_issuer_app_on(b_listener, &[("LATCHKEY_ISSUER", &b_issuer)], |_| {}).await;
    let b: Provider = provider_on(b_app, ClientOptions::default()).await;
    let b_db = Db::connect(&b.app.db.url).unwrap();
    let at_b = clients::create(
        &b_db,
        "test",
        clients::NewClient {
            name: "Latchkey A".into(),
            redirect_uris: vec![callback.clone()],
            post_logout_redirect_uris: vec![],
            public: false,
            skip_consent: true,
            grant_types: vec![],
            resources: vec![],
        },
        true,
    )
    .await
    .unwrap();

    let secret = at_b.client_secret.clone().unwrap();
    let vars = [
        ("LATCHKEY_OIDC_PROVIDERS", "corp"),
        ("OIDC_CORP_ISSUER", b_issuer.as_str()),
        ("OIDC_CORP_CLIENT_ID", at_b.client_id.as_str()),
        ("OIDC_CORP_CLIENT_SECRET", secret.as_str()),
        ("OIDC_CORP_DISPLAY_NAME", "Corp"),
    ];
    let a_app = spawn_issuer_app_on(a_listener, &vars, |_| {}).await;
    let a = provider_on(
        a_app,
        ClientOptions {
            skip_consent: true,
            ..Default::default()
        },
    )
    .await;

    let browser = Browser::new(&a.app);
    let rp = Rp::discover(&a).await;
    let at = attempt(&rp, &["email", "profile"], &[]);
    let login = follow(&browser, browser.http.get(at.url.as_str()).send().await.unwrap()).await;
    let href = button(&login, "Corp");
    let b_login = follow(
        &browser,
        browser
            .http
            .get(format!("{}{href}", a.app.address))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        b_login.url().starts_with(&format!("{b_issuer}/login")),
        "{}",
        b_login.url()
    );

    // The person signs in at B with B's password.
    let body = b_login.body();
    let res = browser
        .http
        .post(format!("{b_issuer}/login"))
        .form(&[
            ("csrf_token", hidden(body, "csrf_token").as_str()),
            ("request", hidden(body, "request").as_str()),
            ("email", b.email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let outcome = follow(&browser, res).await;
    assert!(matches!(outcome, Outcome::Client(_)), "{outcome:?}");

    // A issued its own tokens, for an account made from B's verified address.
    let claims = super::support::id_token_claims(&a, at, &outcome).await;
    assert_eq!(claims.email().map(|e| e.to_string()), Some(b.email.clone()));
    assert_eq!(claims.email_verified(), Some(true));
    assert_ne!(claims.subject().as_str(), b.user_id, "A's subject is A's own user id");
    let linked = super::support::identities(&a.db, claims.subject().as_str()).await;
    assert_eq!(linked[0].provider, "corp");
    assert_eq!(linked[0].subject, b.user_id, "B's subject is the stable upstream id");
}
