//! The OpenID Connect provider, driven as applications drive it: the `openidconnect` crate
//! as the relying party, and a cookie-keeping HTTP client as the user's browser.

mod access_tokens;
mod authorize_errors;
mod code_exchange;
mod discovery;
mod flows;
mod forged_tokens;
mod logout;
mod refresh;
mod revoke_introspect;
mod sso_prompt_consent;
mod support;
mod token_endpoint;

use latchkey::db::Db;
use latchkey::domain::Email;
use latchkey::service::{clients, users};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope,
};
use secrecy::SecretString;
use url::Url;

use crate::helpers::{TestApp, spawn_issuer_app};

pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A provider with one user and one client.
pub struct Provider {
    pub app: TestApp,
    /// A pool of its own on the provider's database, for setting up and checking rows.
    pub db: Db,
    pub user_id: String,
    pub email: String,
    pub client: clients::ClientView,
}

/// How the test client is registered.
#[derive(Default)]
pub struct ClientOptions {
    pub public: bool,
    pub skip_consent: bool,
    pub grants: Vec<&'static str>,
    pub resources: Vec<&'static str>,
    pub post_logout: Vec<&'static str>,
}

pub async fn provider(options: ClientOptions) -> Provider {
    provider_on(spawn_issuer_app(&[]).await, options).await
}

/// A provider with one user and one client, on a server the caller started.
pub async fn provider_on(app: TestApp, options: ClientOptions) -> Provider {
    let db = Db::connect(&app.db.url).unwrap();
    let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    let user = users::create(
        &db,
        "test",
        users::NewUser {
            email: Email::parse(&email).unwrap(),
            name: "Test User".into(),
            password: Some(SecretString::from(PASSWORD)),
            admin: false,
            verified: true,
        },
    )
    .await
    .unwrap();
    let client = register(&db, &options).await;
    Provider {
        app,
        db,
        user_id: user.id,
        email,
        client,
    }
}

pub async fn register(db: &Db, options: &ClientOptions) -> clients::ClientView {
    let new = clients::NewClient {
        name: "Test app".into(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: options.post_logout.iter().map(|s| s.to_string()).collect(),
        public: options.public,
        skip_consent: options.skip_consent,
        grant_types: options.grants.iter().map(|s| s.to_string()).collect(),
        resources: options.resources.iter().map(|s| s.to_string()).collect(),
    };
    clients::create(db, "test", new, true).await.unwrap()
}

/// A relying party built from the provider's discovery document.
pub struct Rp {
    pub client: openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    pub http: openidconnect::reqwest::Client,
}

impl Rp {
    pub async fn discover(p: &Provider) -> Rp {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(p.app.address.clone()).unwrap(), &http)
            .await
            .unwrap();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.client.client_id.clone()),
            p.client.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
        Rp { client, http }
    }
}

/// One authorization request made by the relying party.
pub struct Attempt {
    pub url: Url,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

pub fn attempt(rp: &Rp, scopes: &[&str], extra: &[(&str, &str)]) -> Attempt {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for s in scopes {
        request = request.add_scope(Scope::new(s.to_string()));
    }
    for (k, v) in extra {
        request = request.add_extra_param(*k, *v);
    }
    let (url, state, nonce) = request.url();
    Attempt {
        url,
        state,
        nonce,
        verifier,
    }
}

/// The user's browser: keeps cookies, does not follow redirects by itself.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            base: app.address.clone(),
        }
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_owned()
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(self.absolute(url)).send().await.unwrap()
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.absolute(url)).form(form).send().await.unwrap()
    }

    /// Follows provider redirects until the browser is sent to the client, or to a page.
    pub async fn follow(&self, mut res: reqwest::Response) -> Outcome {
        loop {
            if !res.status().is_redirection() {
                let status = res.status().as_u16();
                let url = res.url().to_string();
                return Outcome::Page {
                    status,
                    url,
                    body: res.text().await.unwrap(),
                };
            }
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            if !location.starts_with('/') && !location.starts_with(&self.base) {
                return Outcome::Client(Url::parse(&location).unwrap());
            }
            res = self.get(&location).await;
        }
    }

    /// Starts an authorization and returns where it ends.
    pub async fn start(&self, url: &Url) -> Outcome {
        let res = self.get(url.as_str()).await;
        self.follow(res).await
    }

    /// Fills the login page that `page` shows.
    pub async fn login(&self, page: &Outcome, email: &str, password: &str) -> Outcome {
        let body = page.body();
        assert!(
            page.url().contains("/login"),
            "expected the login page, got {}",
            page.url()
        );
        let res = self
            .post_form(
                "/login",
                &[
                    ("csrf_token", &hidden(body, "csrf_token")),
                    ("request", &hidden(body, "request")),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        self.follow(res).await
    }

    /// Answers the consent page that `page` shows.
    pub async fn consent(&self, page: &Outcome, approve: bool) -> Outcome {
        let body = page.body();
        assert!(
            page.url().contains("/consent"),
            "expected the consent page, got {}",
            page.url()
        );
        let decision = if approve { "approve" } else { "deny" };
        let res = self
            .post_form(
                "/consent",
                &[
                    ("csrf_token", &hidden(body, "csrf_token")),
                    ("request", &hidden(body, "request")),
                    ("decision", decision),
                ],
            )
            .await;
        self.follow(res).await
    }
}

/// Where the browser ended.
#[derive(Debug)]
pub enum Outcome {
    Client(Url),
    Page { status: u16, url: String, body: String },
}

impl Outcome {
    pub fn body(&self) -> &str {
        match self {
            Outcome::Page { body, .. } => body,
            Outcome::Client(url) => panic!("expected a page, the browser went to the client: {url}"),
        }
    }

    pub fn url(&self) -> String {
        match self {
            Outcome::Page { url, .. } => url.clone(),
            Outcome::Client(url) => url.to_string(),
        }
    }

    /// The redirect to the client, with its query parameters.
    pub fn client_params(&self) -> std::collections::HashMap<String, String> {
        match self {
            Outcome::Client(url) => url.query_pairs().into_owned().collect(),
            Outcome::Page { url, status, body } => {
                panic!("expected a redirect to the client, got {status} {url}: {body}")
            }
        }
    }
}

/// The value of a hidden form field.
pub fn hidden(body: &str, name: &str) -> String {
    let re = regex_lite::Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).unwrap();
    let raw = re.captures(body).unwrap_or_else(|| panic!("no field {name} in {body}"))[1].to_owned();
    // askama escapes HTML; undo the entities it uses.
    raw.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#43;", "+")
        .replace("&#61;", "=")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
}

/// Signs the user in through the whole flow (login, consent if asked) and returns the code.
pub async fn sign_in(p: &Provider, browser: &Browser, a: &Attempt) -> String {
    let mut outcome = browser.start(&a.url).await;
    if outcome.url().contains("/login") {
        outcome = browser.login(&outcome, &p.email, PASSWORD).await;
    }
    if outcome.url().contains("/consent") {
        outcome = browser.consent(&outcome, true).await;
    }
    let params = outcome.client_params();
    assert_eq!(params.get("state"), Some(a.state.secret()), "state is echoed");
    assert_eq!(params.get("iss"), Some(&p.app.address), "RFC 9207 iss");
    params["code"].clone()
}
