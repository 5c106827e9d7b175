//! A Latchkey with Google, GitHub and a generic provider ("Acme") pointed at stand-ins, an
//! application registered at it, and a browser that follows redirects across all of them.

use std::time::Duration;

use latchkey::db::{Db, repo};

use super::github_standin::{GithubEmail, GithubStandIn, GithubUser};
use super::oidc_standin::{OidcStandIn, UpstreamUser};
use crate::helpers::{TestApp, spawn_issuer_app_on};
use crate::oidc::{Browser, ClientOptions, Outcome, Provider, REDIRECT, Rp, attempt, provider_on};

pub const CLIENT_ID: &str = "latchkey-at-upstream";
pub const CLIENT_SECRET: &str = "upstream-secret-for-tests";

/// The upstream answers tests wait for are bounded by this, not by the 10 s default.
pub const TIMEOUT: Duration = Duration::from_secs(1);

pub struct Social {
    pub p: Provider,
    pub google: OidcStandIn,
    pub github: GithubStandIn,
    pub acme: OidcStandIn,
}

/// Starts the stand-ins, then Latchkey configured for them; `extra` adds or overrides variables.
pub async fn social(extra: &[(&str, &str)]) -> Social {
    let google = OidcStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    let github = GithubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    let acme = OidcStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    let mut vars: Vec<(&str, &str)> = vec![
        ("GOOGLE_CLIENT_ID", CLIENT_ID),
        ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET),
        ("GOOGLE_ISSUER_URL", &google.issuer),
        ("GITHUB_CLIENT_ID", CLIENT_ID),
        ("GITHUB_CLIENT_SECRET", CLIENT_SECRET),
        ("GITHUB_BASE_URL", &github.base_url),
        ("GITHUB_API_URL", &github.api_url),
        ("LATCHKEY_OIDC_PROVIDERS", "acme"),
        ("OIDC_ACME_ISSUER", &acme.issuer),
        ("OIDC_ACME_CLIENT_ID", CLIENT_ID),
        ("OIDC_ACME_CLIENT_SECRET", CLIENT_SECRET),
        ("OIDC_ACME_DISPLAY_NAME", "Acme SSO"),
    ];
    vars.extend_from_slice(extra);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let app = spawn_issuer_app_on(listener, &vars, |s| s.upstream_timeout = TIMEOUT).await;
    let options = ClientOptions {
        skip_consent: true,
        ..Default::default()
    };
    Social {
        p: provider_on(app, options).await,
        google,
        github,
        acme,
    }
}

pub fn google_user(email: &str, verified: bool) -> UpstreamUser {
    UpstreamUser {
        sub: format!("g-{}", uuid::Uuid::new_v4().simple()),
        email: Some(email.to_owned()),
        email_verified: verified,
        name: Some("Grace Hopper".into()),
    }
}

pub fn github_user(id: u64, emails: &[(&str, bool, bool)]) -> GithubUser {
    GithubUser {
        id,
        login: format!("octo{id}"),
        name: None,
        emails: emails
            .iter()
            .map(|(email, primary, verified)| GithubEmail {
                email: (*email).to_owned(),
                primary: *primary,
                verified: *verified,
            })
            .collect(),
    }
}

pub fn new_email() -> String {
    format!("person-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Follows redirects wherever they go (Latchkey, the stand-ins), stopping at the
/// application's redirect URI or at a page.
pub async fn follow(browser: &Browser, mut res: reqwest::Response) -> Outcome {
    for _ in 0..20 {
        if !res.status().is_redirection() {
            let status = res.status().as_u16();
            let url = res.url().to_string();
            return Outcome::Page {
                status,
                url,
                body: res.text().await.unwrap(),
            };
        }
        let location = res.headers()["location"].to_str().unwrap();
        let next = res.url().join(location).unwrap();
        if next.as_str().starts_with(REDIRECT) {
            return Outcome::Client(next);
        }
        res = browser.http.get(next).send().await.unwrap();
    }
    panic!("too many redirects");
}

/// Opens `path` (relative to Latchkey) and follows where it leads.
pub async fn open(s: &Social, browser: &Browser, path: &str) -> Outcome {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", s.p.app.address)
    };
    follow(browser, browser.http.get(url).send().await.unwrap()).await
}

/// The "Continue with <label>" link on a page, HTML entities undone.
pub fn button(page: &Outcome, label: &str) -> String {
    let re = regex_lite::Regex::new(&format!(r#"href="([^"]*)">Continue with {label}<"#)).unwrap();
    let raw = re
        .captures(page.body())
        .unwrap_or_else(|| panic!("no {label} button in {}", page.body()))[1]
        .to_owned();
    raw.replace("&#38;", "&").replace("&amp;", "&").replace("&#61;", "=")
}

/// An application's authorization request, through the login page's `label` button, to
/// wherever it ends (the application, with a code, or a page).
pub async fn sign_in_with(s: &Social, browser: &Browser, label: &str) -> (Outcome, crate::oidc::Attempt) {
    let rp = Rp::discover(&s.p).await;
    let a = attempt(&rp, &["email", "profile"], &[]);
    let login = follow(browser, browser.http.get(a.url.as_str()).send().await.unwrap()).await;
    assert!(
        login.url().contains("/login"),
        "expected the login page: {}",
        login.url()
    );
    let href = button(&login, label);
    (open(s, browser, &href).await, a)
}

/// Posts a form on Latchkey with the page's CSRF token and follows where it leads.
pub async fn post(s: &Social, browser: &Browser, page: &Outcome, path: &str, fields: &[(&str, &str)]) -> Outcome {
    let csrf = crate::oidc::hidden(page.body(), "csrf_token");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = browser
        .http
        .post(format!("{}{path}", s.p.app.address))
        .form(&form)
        .send()
        .await
        .unwrap();
    follow(browser, res).await
}

pub async fn user_by_email(db: &Db, email: &str) -> Option<latchkey::db::models::UserRow> {
    let email = email.to_owned();
    db.run(move |conn| Ok(repo::users::find_by_email(conn, &email)?))
        .await
        .unwrap()
}

pub async fn identities(db: &Db, user_id: &str) -> Vec<latchkey::db::models::IdentityRow> {
    let id = user_id.to_owned();
    db.run(move |conn| Ok(repo::identities::list_for_user(conn, &id)?))
        .await
        .unwrap()
}

pub async fn user_count(db: &Db) -> usize {
    db.run(|conn| Ok(repo::users::list(conn)?)).await.unwrap().len()
}

pub async fn audit_kinds(db: &Db) -> Vec<(String, String)> {
    db.run(|conn| Ok(repo::audit::latest(conn, 500)?))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.detail))
        .collect()
}

/// The ID token's `sub` after exchanging the code the application received.
pub async fn exchange_sub(s: &Social, a: crate::oidc::Attempt, outcome: &Outcome) -> String {
    id_token_claims(&s.p, a, outcome).await.subject().to_string()
}

/// The application's side: exchanges the code it received and validates the ID token.
pub async fn id_token_claims(
    p: &Provider,
    a: crate::oidc::Attempt,
    outcome: &Outcome,
) -> openidconnect::core::CoreIdTokenClaims {
    use openidconnect::TokenResponse;
    let code = outcome.client_params()["code"].clone();
    let rp = Rp::discover(p).await;
    let tokens = rp
        .client
        .exchange_code(openidconnect::AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(a.verifier)
        .request_async(&rp.http)
        .await
        .unwrap();
    tokens
        .id_token()
        .unwrap()
        .claims(&rp.client.id_token_verifier(), &a.nonce)
        .unwrap()
        .clone()
}

/// Starts a Google sign-in in `browser` and stops at the provider's redirect back to us:
/// the callback URL, with its code and state.
pub async fn callback_from_google(s: &Social, browser: &Browser) -> String {
    let start = browser
        .http
        .get(format!("{}/login/google", s.p.app.address))
        .send()
        .await
        .unwrap();
    let upstream = start.headers()["location"].to_str().unwrap().to_owned();
    let back = browser.http.get(&upstream).send().await.unwrap();
    back.headers()["location"].to_str().unwrap().to_owned()
}

pub fn app(s: &Social) -> &TestApp {
    &s.p.app
}
