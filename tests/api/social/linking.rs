//! An upstream identity whose address has an account is linked only after proof; the
//! account page links and unlinks, never removing the last way in.

use super::support::*;
use crate::oidc::{Browser, Outcome, PASSWORD};
use crate::smtp::SmtpServer;

#[tokio::test]
async fn an_existing_address_is_linked_only_after_a_password_sign_in() {
    let s = social(&[]).await;
    s.google.set_user(google_user(&s.p.email, true));
    let browser = Browser::new(app(&s));
    let (page, a) = sign_in_with(&s, &browser, "Google").await;
    assert!(page.url().ends_with("/login/link"), "{}", page.url());
    assert!(page.body().contains("An account with this email"), "{}", page.body());
    assert!(
        identities(&s.p.db, &s.p.user_id).await.is_empty(),
        "never linked silently"
    );

    let wrong = post(&s, &browser, &page, "/login/link", &[("password", "not the password")]).await;
    assert!(wrong.body().contains("Invalid email or password"));
    assert!(identities(&s.p.db, &s.p.user_id).await.is_empty());

    let done = post(&s, &browser, &wrong, "/login/link", &[("password", PASSWORD)]).await;
    assert_eq!(
        exchange_sub(&s, a, &done).await,
        s.p.user_id,
        "the app's request went on"
    );
    let linked = identities(&s.p.db, &s.p.user_id).await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].provider, "google");

    // From now on Google signs straight in to the same account.
    let (outcome, a) = sign_in_with(&s, &Browser::new(app(&s)), "Google").await;
    assert_eq!(exchange_sub(&s, a, &outcome).await, s.p.user_id);
    let kinds = audit_kinds(&s.p.db).await;
    assert!(
        kinds
            .iter()
            .any(|(k, d)| k == "identity.linked" && d.contains("password"))
    );
}

#[tokio::test]
async fn an_unverified_upstream_address_is_never_linked() {
    let s = social(&[]).await;
    s.acme.set_user(google_user(&s.p.email, false));
    let users = user_count(&s.p.db).await;
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Acme SSO").await;
    let Outcome::Page { status, body, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(*status, 409);
    assert!(body.contains("has not verified"), "{body}");
    assert!(!body.contains("action=\"/login/link\""));
    assert!(identities(&s.p.db, &s.p.user_id).await.is_empty());
    assert_eq!(user_count(&s.p.db).await, users);
}

#[tokio::test]
async fn a_mailed_link_proves_ownership_in_the_browser_that_started() {
    let smtp = SmtpServer::start().await;
    let s = social(&[("SMTP_URL", &smtp.url())]).await;
    s.github.set_user(github_user(77, &[(&s.p.email, true, true)]));
    let browser = Browser::new(app(&s));
    let (page, a) = sign_in_with(&s, &browser, "GitHub").await;
    assert!(page.url().ends_with("/login/link"));
    let sent = post(&s, &browser, &page, "/login/link/email", &[]).await;
    assert!(sent.body().contains("Check your email"), "{}", sent.body());

    let mail = smtp.wait_for(&s.p.email).await;
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/login/link/confirm"))
        .expect("a confirm link");

    // Opened elsewhere (say, by whoever reads the mailbox in another browser): refused.
    let stranger = Browser::new(app(&s));
    let elsewhere = open(&s, &stranger, &link).await;
    assert!(
        elsewhere.body().contains("browser where you started"),
        "{}",
        elsewhere.body()
    );
    assert!(identities(&s.p.db, &s.p.user_id).await.is_empty());

    // The opening page only shows a button; the POST links and signs in.
    let confirm = open(&s, &browser, &link).await;
    let token = crate::oidc::hidden(confirm.body(), "token");
    let done = post(&s, &browser, &confirm, "/login/link/confirm", &[("token", &token)]).await;
    assert_eq!(exchange_sub(&s, a, &done).await, s.p.user_id);
    assert_eq!(identities(&s.p.db, &s.p.user_id).await[0].subject, "77");

    // The link worked once.
    let again = post(&s, &browser, &confirm, "/login/link/confirm", &[("token", &token)]).await;
    assert!(matches!(again, Outcome::Page { status: 400, .. }), "{again:?}");
}

#[tokio::test]
async fn the_account_page_links_and_unlinks_but_keeps_the_last_way_in() {
    let s = social(&[]).await;
    let email = new_email();
    s.google.set_user(google_user(&email, true));
    let browser = Browser::new(app(&s));
    let (outcome, _) = sign_in_with(&s, &browser, "Google").await;
    assert!(matches!(outcome, Outcome::Client(_)));
    let user = user_by_email(&s.p.db, &email).await.unwrap();

    let account = open(&s, &browser, "/account").await;
    assert!(account.body().contains("Unlink Google"), "{}", account.body());
    // Google is the only way in (no password): refused.
    let refused = post(
        &s,
        &browser,
        &account,
        "/account/identities/unlink",
        &[("provider", "google")],
    )
    .await;
    assert!(refused.body().contains("only way to sign in"), "{}", refused.body());
    assert_eq!(identities(&s.p.db, &user.id).await.len(), 1);

    // Link GitHub (a different address is fine: this browser is signed in to the account).
    s.github
        .set_user(github_user(9001, &[("someone.else@example.com", true, true)]));
    let linked = post(
        &s,
        &browser,
        &refused,
        "/account/identities/link",
        &[("provider", "github")],
    )
    .await;
    assert!(linked.body().contains("GitHub is linked"), "{}", linked.body());
    assert_eq!(identities(&s.p.db, &user.id).await.len(), 2);

    let unlinked = post(
        &s,
        &browser,
        &linked,
        "/account/identities/unlink",
        &[("provider", "google")],
    )
    .await;
    assert!(unlinked.body().contains("Unlinked"), "{}", unlinked.body());
    let left = identities(&s.p.db, &user.id).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].provider, "github");
    let last = post(
        &s,
        &browser,
        &unlinked,
        "/account/identities/unlink",
        &[("provider", "github")],
    )
    .await;
    assert!(last.body().contains("only way to sign in"));

    let kinds = audit_kinds(&s.p.db).await;
    assert!(
        kinds
            .iter()
            .any(|(k, d)| k == "identity.unlinked" && d.contains("google"))
    );
}

#[tokio::test]
async fn an_upstream_account_linked_elsewhere_is_not_moved() {
    let s = social(&[]).await;
    let first = new_email();
    s.github.set_user(github_user(31337, &[(&first, true, true)]));
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "GitHub").await;
    assert!(matches!(outcome, Outcome::Client(_)));

    // The fixture user signs in with a password and tries to link the same GitHub account.
    let browser = Browser::new(app(&s));
    let login = open(&s, &browser, "/login").await;
    let account = browser.login(&login, &s.p.email, PASSWORD).await;
    let refused = post(
        &s,
        &browser,
        &account,
        "/account/identities/link",
        &[("provider", "github")],
    )
    .await;
    assert!(
        refused.body().contains("already linked to another account"),
        "{}",
        refused.body()
    );
    assert!(identities(&s.p.db, &s.p.user_id).await.is_empty());
    let owner = user_by_email(&s.p.db, &first).await.unwrap();
    assert_eq!(identities(&s.p.db, &owner.id).await.len(), 1);
}

#[tokio::test]
async fn resetting_the_password_of_an_unverified_account_removes_its_links() {
    // Someone signs in upstream with an address they do not own (the provider does not vouch
    // for it): an unverified account with their identity linked.
    let smtp = SmtpServer::start().await;
    let s = social(&[("SMTP_URL", &smtp.url())]).await;
    let email = new_email();
    s.acme.set_user(google_user(&email, false));
    let (outcome, _) = sign_in_with(&s, &Browser::new(app(&s)), "Acme SSO").await;
    assert!(matches!(outcome, Outcome::Page { .. }));
    let user = user_by_email(&s.p.db, &email).await.unwrap();
    assert_eq!(identities(&s.p.db, &user.id).await.len(), 1);

    // The mailbox's owner resets the password: the stranger's way in is gone.
    let owner = Browser::new(app(&s));
    let form = open(&s, &owner, "/forgot-password").await;
    post(&s, &owner, &form, "/forgot-password", &[("email", &email)]).await;
    let mut reset = None;
    for _ in 0..200 {
        reset = smtp
            .received()
            .into_iter()
            .filter(|m| m.rcpt_to.contains(&email))
            .flat_map(|m| m.links())
            .find(|l| l.contains("/reset-password"));
        if reset.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let reset = reset.expect("a reset mail within 10 s");
    let page = open(&s, &owner, &reset).await;
    let token = crate::oidc::hidden(page.body(), "token");
    let new_password = "violet anchor midnight quarry";
    let done = post(
        &s,
        &owner,
        &page,
        "/reset-password",
        &[
            ("token", &token),
            ("password", new_password),
            ("password_confirm", new_password),
        ],
    )
    .await;
    assert!(matches!(done, Outcome::Page { status: 200, .. }), "{done:?}");
    assert!(identities(&s.p.db, &user.id).await.is_empty());
    let kinds = audit_kinds(&s.p.db).await;
    assert!(
        kinds
            .iter()
            .any(|(k, d)| k == "identity.unlinked" && d.contains("password reset"))
    );
}
