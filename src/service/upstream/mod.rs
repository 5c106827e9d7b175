//! Sign-in through upstream providers: Google and generic OpenID providers through
//! `openidconnect`, GitHub through `oauth2` and its REST API. This module speaks the
//! protocols; [`crate::service::identities`] decides which account the result signs in.

mod github;
mod oidc;

use std::time::Duration;

use anyhow::Context;
use oauth2::PkceCodeChallenge;
use serde_json::json;

use crate::config::{Settings, UpstreamKind, UpstreamProvider};
use crate::db::models::UpstreamLoginRow;
use crate::db::repo;
use crate::error::AppError;
use crate::startup::AppState;

/// How long a browser may spend at the provider before the callback is refused.
const ROUND_TRIP_MINUTES: i64 = 10;

/// The configured providers, with one HTTP client (and one discovery cache each).
pub struct Upstreams {
    http: reqwest::Client,
    providers: Vec<Upstream>,
}

/// A provider that is on.
pub struct Upstream {
    pub config: UpstreamProvider,
    /// The discovery document and keys of an OpenID provider, fetched on first use.
    discovery: Option<oidc::Discovery>,
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct Profile {
    pub provider: String,
    /// The provider's stable id for the account (`sub`; GitHub's numeric id).
    pub subject: String,
    pub email: Option<String>,
    /// Only true when the provider vouches for the address.
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Why an upstream sign-in failed. The first three are shown to the person as a friendly
/// page and audited; none of them is a server error.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Unreachable, too slow, an error status or an answer that is not what the protocol says.
    #[error("the provider could not be used: {0}")]
    Unavailable(String),
    /// An answer that fails validation: a bad ID token signature, audience, issuer or nonce.
    #[error("the provider's answer is invalid: {0}")]
    Invalid(String),
    /// A GitHub account without a verified primary address.
    #[error("the account has no verified primary email address")]
    NoVerifiedEmail,
    #[error(transparent)]
    Internal(#[from] AppError),
}

/// Where to send the browser, and the `state` its cookie must hold when it comes back.
pub struct Started {
    pub url: String,
    pub state: String,
}

impl Upstreams {
    /// Builds the HTTP client: rustls, the configured timeout, and no redirects (a token
    /// endpoint that redirects is refused rather than followed, as `openidconnect` advises).
    pub fn new(settings: &Settings) -> anyhow::Result<Upstreams> {
        let http = reqwest::Client::builder()
            .timeout(settings.upstream_timeout)
            .connect_timeout(settings.upstream_timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client for upstream providers")?;
        let providers = settings
            .upstream
            .iter()
            .map(|config| Upstream {
                discovery: match &config.kind {
                    UpstreamKind::Oidc { issuer } => Some(oidc::Discovery::new(issuer)),
                    UpstreamKind::Github { .. } => None,
                },
                config: config.clone(),
            })
            .collect();
        Ok(Upstreams { http, providers })
    }

    pub fn find(&self, name: &str) -> Option<&Upstream> {
        self.providers.iter().find(|p| p.config.name == name)
    }

    /// `(name, display name)` of every provider, in configuration order.
    pub fn list(&self) -> impl Iterator<Item = (&str, &str)> {
        self.providers
            .iter()
            .map(|p| (p.config.name.as_str(), p.config.display_name.as_str()))
    }
}

/// Our callback at the provider: what to register there.
pub fn callback_url(issuer: &str, provider: &str) -> String {
    format!("{issuer}/login/{provider}/callback")
}

/// Starts a sign-in: a fresh `state`, `nonce` and PKCE verifier, kept in the database until
/// the callback. `request` is the authorization request to resume; `link_user_id` is set
/// when a signed-in user links the provider to their account.
pub async fn begin(
    state: &AppState,
    upstream: &Upstream,
    request: Option<String>,
    link_user_id: Option<String>,
) -> Result<Started, UpstreamError> {
    let (raw_state, nonce) = (crate::crypto::random_token(24), crate::crypto::random_token(24));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let redirect = callback_url(&state.settings.issuer, &upstream.config.name);
    let http = &state.upstreams.http;
    let url = match (&upstream.config.kind, &upstream.discovery) {
        (UpstreamKind::Oidc { .. }, Some(discovery)) => {
            let at = oidc::Request {
                redirect: &redirect,
                state: &raw_state,
                nonce: &nonce,
            };
            discovery.authorize_url(http, &upstream.config, at, challenge).await?
        }
        (UpstreamKind::Github { base_url, .. }, _) => {
            github::authorize_url(&upstream.config, base_url, &redirect, &raw_state, challenge)?
        }
        (UpstreamKind::Oidc { .. }, None) => return Err(UpstreamError::Unavailable("no discovery".into())),
    };
    let now = super::now();
    let row = UpstreamLoginRow {
        state_hash: crate::crypto::hash_secret(&raw_state),
        provider: upstream.config.name.clone(),
        pkce_verifier: verifier.secret().clone(),
        nonce,
        request: request.filter(|r| !r.is_empty()),
        link_user_id,
        created_at: now,
        expires_at: now + chrono::Duration::minutes(ROUND_TRIP_MINUTES),
    };
    state
        .db
        .run_write(move |conn| Ok(repo::upstream_logins::insert(conn, &row)?))
        .await
        .map_err(AppError::from)?;
    Ok(Started { url, state: raw_state })
}

/// Takes the sign-in that `state` started (once: a replayed callback finds nothing).
pub async fn take(state: &AppState, raw_state: &str) -> Result<Option<UpstreamLoginRow>, AppError> {
    let hash = crate::crypto::hash_secret(raw_state);
    Ok(state
        .db
        .run_write(move |conn| Ok(repo::upstream_logins::take(conn, &hash, super::now())?))
        .await?)
}

/// Exchanges the code the provider sent back and returns who signed in.
pub async fn finish(
    state: &AppState,
    upstream: &Upstream,
    login: UpstreamLoginRow,
    code: &str,
) -> Result<Profile, UpstreamError> {
    let redirect = callback_url(&state.settings.issuer, &upstream.config.name);
    let http = &state.upstreams.http;
    match (&upstream.config.kind, &upstream.discovery) {
        (UpstreamKind::Oidc { .. }, Some(discovery)) => {
            let at = oidc::Request {
                redirect: &redirect,
                state: "",
                nonce: &login.nonce,
            };
            discovery
                .exchange(http, &upstream.config, at, code, login.pkce_verifier)
                .await
        }
        (UpstreamKind::Github { base_url, api_url }, _) => {
            let endpoints = github::Endpoints {
                base_url,
                api_url,
                redirect: &redirect,
            };
            github::exchange(http, &upstream.config, endpoints, code, login.pkce_verifier).await
        }
        (UpstreamKind::Oidc { .. }, None) => Err(UpstreamError::Unavailable("no discovery".into())),
    }
}

/// Audits a failed upstream sign-in (`login.upstream_failed`), so an administrator can tell
/// a provider outage from an attack.
pub async fn record_failure(state: &AppState, provider: &str, reason: &str, ip: Option<String>) {
    let detail = json!({ "provider": provider, "reason": reason, "ip": ip });
    let event = super::audit::event("login.upstream_failed", "anonymous", None, detail);
    if let Err(err) = state
        .db
        .run_write(move |conn| Ok(repo::audit::insert(conn, &event)?))
        .await
    {
        tracing::error!(error = %err, "upstream failure could not be audited");
    }
}

/// A name as providers give it, trimmed and bounded.
fn clean_name(name: Option<&str>) -> Option<String> {
    let name = name?.trim();
    (!name.is_empty()).then(|| name.chars().take(200).collect())
}

/// An error with its causes, on one line (the timeout or refused connection is in a source).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
