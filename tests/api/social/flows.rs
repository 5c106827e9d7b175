//! Upstream sign-in as a person and an application see it: just-in-time accounts, the
//! second sign-in, GitHub's rules, and the full chain back to the application.

use super::oidc_standin::UpstreamUser;
use super::support::*;
use crate::oidc::{Browser, Outcome};

#[tokio::test]
async fn google_sign_in_creates_the_user_once_and_completes_the_apps_authorization() {
    let s = social(&[]).await;
    let email = new_email();
    s.google.set_user(google_user(&email, true));

    let browser = Browser::new(app(&s));
    let (outcome, a) = sign_in_with(&s, &browser, "Google").await;
    assert!(matches!(outcome, Outcome::Client(_)), "{outcome:?}");
    let sub = exchange_sub(&s, a, &outcome).await;

    let user = user_by_email(&s.p.db, &email).await.expect("created just in time");
    assert_eq!(sub, user.id, "the app sees a Latchkey subject, not Google's");
    assert!(user.email_verified, "Google vouched for the address");
    assert_eq!(user.name, "Grace Hopper");
    assert!(user.password_hash.is_none());
    let linked = identities(&s.p.db, &user.id).await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].provider, "google");

    // The upstream round trip used PKCE and our registered callback.
    let authorize = &s.google.authorize_requests()[0];
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(
        authorize["redirect_uri"],
        format!("{}/login/google/callback", app(&s).address)
    );
    assert!(authorize["scope"].contains("email"));
    assert!(s.google.token_requests()[0].contains_key("code_verifier"));

    // A second sign-in, in another browser, is the same user.
    let users = user_count(&s.p.db).await;
    let other = Browser::new(app(&s));
    let (outcome, a) = sign_in_with(&s, &other, "Google").await;
    assert_eq!(exchange_sub(&s, a, &outcome).await, user.id);
    assert_eq!(user_count(&s.p.db).await, users);
    // One discovery fetch served both sign-ins.
    assert_eq!(s.google.discovery_fetches(), 1);

    let kinds: Vec<_> = audit_kinds(&s.p.db).await.into_iter().map(|(k, _)| k).collect();
    for kind in ["user.signed_up", "identity.linked", "login.succeeded"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
}

#[tokio::test]
async fn an_unverified_upstream_address_makes_an_unverified_account() {
    let s = social(&[]).await;
    let email = new_email();
    s.acme.set_user(google_user(&email, false));
    let browser = Browser::new(app(&s));
    let (outcome, _) = sign_in_with(&s, &browser, "Acme SSO").await;
    // Signed in, but the app's authorization waits for the address to be verified.
    assert!(outcome.body().contains("erif"), "{}", outcome.body());
    let user = user_by_email(&s.p.db, &email).await.unwrap();
    assert!(!user.email_verified);
    assert_eq!(identities(&s.p.db, &user.id).await[0].provider, "acme");
}

#[tokio::test]
async fn github_uses_the_numeric_id_and_only_a_verified_primary_address() {
    let s = social(&[]).await;
    let email = new_email();
    // The primary address is unverified: refused, with a page saying what to do.
    s.github.set_user(github_user(
        4242,
        &[(&email, true, false), ("other@example.com", false, true)],
    ));
    let browser = Browser::new(app(&s));
    let (outcome, _) = sign_in_with(&s, &browser, "GitHub").await;
    let Outcome::Page { status, body, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(*status, 403);
    assert!(body.contains("verified primary email"), "{body}");
    assert!(user_by_email(&s.p.db, "other@example.com").await.is_none());

    s.github.set_user(github_user(4242, &[(&email, true, true)]));
    let (outcome, a) = sign_in_with(&s, &browser, "GitHub").await;
    let sub = exchange_sub(&s, a, &outcome).await;
    let user = user_by_email(&s.p.db, &email).await.unwrap();
    assert_eq!(sub, user.id);
    assert!(user.email_verified);
    assert_eq!(user.name, "octo4242", "the login stands in for a missing name");
    let linked = identities(&s.p.db, &user.id).await;
    assert_eq!(linked[0].subject, "4242");

    // A renamed login is the same account: the id is what counts.
    let mut renamed = github_user(4242, &[(&email, true, true)]);
    renamed.login = "new-login".into();
    s.github.set_user(renamed);
    let (outcome, a) = sign_in_with(&s, &Browser::new(app(&s)), "GitHub").await;
    assert_eq!(exchange_sub(&s, a, &outcome).await, user.id);

    let calls = s.github.api_requests();
    assert!(calls.iter().any(|(path, _)| path.ends_with("/user/emails")));
    for (_, headers) in &calls {
        assert!(headers["authorization"].starts_with("Bearer "));
        assert!(headers.contains_key("user-agent"));
    }
    // GitHub was asked for JSON and the right scopes.
    assert_eq!(s.github.authorize_requests()[0]["scope"], "read:user user:email");
}

#[tokio::test]
async fn closed_sign_up_refuses_new_upstream_accounts_with_a_page() {
    let s = social(&[("LATCHKEY_SIGNUP", "closed")]).await;
    let email = new_email();
    s.google.set_user(google_user(&email, true));
    let users = user_count(&s.p.db).await;
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    let Outcome::Page { status, body, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(*status, 403);
    assert!(body.contains("Sign-up is closed"), "{body}");
    assert_eq!(user_count(&s.p.db).await, users);
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_upstream() {
    let s = social(&[]).await;
    let email = new_email();
    s.google.set_user(google_user(&email, true));
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    assert!(matches!(outcome, Outcome::Client(_)));
    let parsed = latchkey::domain::Email::parse(&email).unwrap();
    latchkey::service::users::set_disabled(&s.p.db, "test", &parsed, true)
        .await
        .unwrap();
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    let Outcome::Page { status, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(*status, 403);
}

#[tokio::test]
async fn the_login_and_sign_up_pages_offer_every_provider() {
    let s = social(&[]).await;
    let browser = Browser::new(app(&s));
    for path in ["/login", "/signup"] {
        let page = open(&s, &browser, path).await;
        for label in ["Google", "GitHub", "Acme SSO"] {
            button(&page, label);
        }
    }
    // No providers configured: no buttons.
    let plain = crate::helpers::spawn_app().await;
    let body = plain.get("/login").await.text().await.unwrap();
    assert!(!body.contains("Continue with"));
}

#[tokio::test]
async fn an_unknown_provider_is_a_404_page_and_no_email_is_explained() {
    let s = social(&[]).await;
    let page = open(&s, &Browser::new(app(&s)), "/login/myspace").await;
    let Outcome::Page { status, .. } = page else { panic!() };
    assert_eq!(status, 404);

    s.acme.set_user(UpstreamUser {
        sub: "no-mail".into(),
        email: None,
        email_verified: false,
        name: None,
    });
    let users = user_count(&s.p.db).await;
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Acme SSO").await;
    let Outcome::Page { status, body, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(*status, 403);
    assert!(body.contains("did not share an email"), "{body}");
    assert_eq!(user_count(&s.p.db).await, users);
}
