//! Upstream failures end on a friendly page, audited, with nothing created: denial, a
//! forged or replayed callback, an unreachable or slow provider, invalid answers.

use std::time::Duration;

use super::oidc_standin::{Misbehave, unreachable_url};
use super::support::*;
use crate::oidc::{Browser, Outcome};

fn page(outcome: &Outcome) -> (u16, &str) {
    match outcome {
        Outcome::Page { status, body, .. } => (*status, body),
        Outcome::Client(url) => panic!("expected a page, went to the client: {url}"),
    }
}

#[tokio::test]
async fn cancelling_upstream_returns_to_the_login_page_with_the_request_kept() {
    let s = social(&[]).await;
    s.google.set_user(google_user(&new_email(), true));
    s.google.set_misbehave(Misbehave::Deny);
    let browser = Browser::new(app(&s));
    let (outcome, a) = sign_in_with(&s, &browser, "Google").await;
    let (status, body) = page(&outcome);
    assert_eq!(status, 200);
    assert!(body.contains("was cancelled"), "{body}");
    // Still the login form, still carrying the application's request.
    let request = crate::oidc::hidden(body, "request");
    assert!(request.contains(&s.p.client.client_id));

    // GitHub's denial is the same.
    s.github.set_deny(true);
    let (outcome, _) = sign_in_with(&s, &browser, "GitHub").await;
    assert!(page(&outcome).1.contains("was cancelled"));
    drop(a);
}

#[tokio::test]
async fn a_callback_with_a_bad_missing_or_replayed_state_does_nothing() {
    let s = social(&[]).await;
    let email = new_email();
    s.google.set_user(google_user(&email, true));
    let browser = Browser::new(app(&s));
    let users = user_count(&s.p.db).await;

    // Start a sign-in but stop at the provider's redirect back to us.
    let callback = callback_from_google(&s, &browser).await;
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let base = format!("{}/login/google/callback", app(&s).address);

    for forged in [
        format!("{base}?code={code}"),
        format!("{base}?code={code}&state=forged"),
    ] {
        let outcome = open(&s, &browser, &forged).await;
        let (status, body) = page(&outcome);
        assert_eq!(status, 400);
        assert!(
            body.contains("does not belong to a sign-in started in this browser"),
            "{body}"
        );
    }
    // The real callback, in another browser (a login CSRF attempt): refused.
    let other = Browser::new(app(&s));
    assert_eq!(page(&open(&s, &other, &callback).await).0, 400);
    assert_eq!(user_count(&s.p.db).await, users, "nothing created");

    // The forged attempts consumed this browser's state: it has to start again.
    assert_eq!(page(&open(&s, &browser, &callback).await).0, 400);
    let kinds = audit_kinds(&s.p.db).await;
    assert!(
        kinds
            .iter()
            .any(|(k, d)| k == "login.upstream_failed" && d.contains("state"))
    );
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let s = social(&[]).await;
    s.google.set_user(google_user(&new_email(), true));
    let browser = Browser::new(app(&s));
    let callback = callback_from_google(&s, &browser).await;
    let first = open(&s, &browser, &callback).await;
    assert!(first.url().ends_with("/account"), "{}", first.url());
    assert_eq!(page(&open(&s, &browser, &callback).await).0, 400);
}

#[tokio::test]
async fn an_unreachable_provider_gets_a_friendly_page_and_an_audit_event() {
    let down = unreachable_url();
    let s = social(&[("GOOGLE_ISSUER_URL", &down)]).await;
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    let (status, body) = page(&outcome);
    assert_eq!(status, 502);
    assert!(body.contains("We could not complete sign-in with Google"), "{body}");
    let kinds = audit_kinds(&s.p.db).await;
    assert!(
        kinds
            .iter()
            .any(|(k, d)| k == "login.upstream_failed" && d.contains("google"))
    );
}

#[tokio::test]
async fn invalid_or_slow_answers_are_refused_and_create_nothing() {
    let s = social(&[]).await;
    let cases = [
        Misbehave::WrongKey,
        Misbehave::WrongAudience,
        Misbehave::WrongNonce,
        Misbehave::WrongIssuer,
        Misbehave::Expired,
        Misbehave::InvalidJson,
        Misbehave::Slow(TIMEOUT + Duration::from_millis(500)),
    ];
    for case in cases {
        let email = new_email();
        s.google.set_user(google_user(&email, true));
        s.google.set_misbehave(case);
        let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
        let (status, body) = page(&outcome);
        assert_eq!(status, 502, "{case:?}: {body}");
        assert!(
            user_by_email(&s.p.db, &email).await.is_none(),
            "{case:?} created a user"
        );
    }
    let failures = audit_kinds(&s.p.db)
        .await
        .into_iter()
        .filter(|(k, _)| k == "login.upstream_failed")
        .count();
    assert_eq!(failures, cases.len());

    // Behaving again, the same provider works.
    let email = new_email();
    s.google.set_user(google_user(&email, true));
    s.google.set_misbehave(Misbehave::None);
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    assert!(matches!(outcome, Outcome::Client(_)), "{outcome:?}");
}

#[tokio::test]
async fn a_rotated_upstream_key_is_fetched_once_when_first_seen() {
    let s = social(&[]).await;
    s.google.set_user(google_user(&new_email(), true));
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    assert!(matches!(outcome, Outcome::Client(_)));
    assert_eq!(s.google.jwks_fetches(), 1);

    s.google.rotate_key();
    // Refetches are at most one a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.google.set_user(google_user(&new_email(), true));
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    assert!(matches!(outcome, Outcome::Client(_)), "{outcome:?}");
    assert_eq!(s.google.jwks_fetches(), 2);
}
