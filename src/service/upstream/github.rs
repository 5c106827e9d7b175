//! GitHub: plain OAuth 2 (no ID token), so who signed in comes from its REST API. The stable
//! id is the numeric user id (logins can be renamed and reused), and only the primary,
//! verified address is used.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{Profile, UpstreamError, chain, clean_name};
use crate::config::UpstreamProvider;

/// Where GitHub lives (configurable, so tests use a stand-in) and our callback.
pub struct Endpoints<'a> {
    pub base_url: &'a str,
    pub api_url: &'a str,
    pub redirect: &'a str,
}

/// `GET /user`: the fields we use.
#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    name: Option<String>,
}

/// One entry of `GET /user/emails`.
#[derive(Deserialize)]
struct Email {
    email: String,
    primary: bool,
    verified: bool,
}

fn invalid_url(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Unavailable(format!("bad GitHub URL: {e}"))
}

fn client(
    config: &UpstreamProvider,
    base_url: &str,
    redirect: &str,
) -> Result<
    BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    UpstreamError,
> {
    let mut client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_auth_uri(AuthUrl::new(format!("{base_url}/login/oauth/authorize")).map_err(invalid_url)?)
        .set_token_uri(TokenUrl::new(format!("{base_url}/login/oauth/access_token")).map_err(invalid_url)?)
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(invalid_url)?)
        // GitHub documents the client credentials as form fields.
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = &config.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
    }
    Ok(client)
}

pub fn authorize_url(
    config: &UpstreamProvider,
    base_url: &str,
    redirect: &str,
    state: &str,
    challenge: PkceCodeChallenge,
) -> Result<String, UpstreamError> {
    let state = state.to_owned();
    let (url, _) = client(config, base_url, redirect)?
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(config.scopes.iter().map(|s| Scope::new(s.clone())))
        .set_pkce_challenge(challenge)
        .url();
    Ok(url.to_string())
}

/// Exchanges the code (oauth2 asks for JSON with `Accept: application/json`), then reads the
/// user and their addresses.
pub async fn exchange(
    http: &reqwest::Client,
    config: &UpstreamProvider,
    at: Endpoints<'_>,
    code: &str,
    verifier: String,
) -> Result<Profile, UpstreamError> {
    let token = client(config, at.base_url, at.redirect)?
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(err) => {
                UpstreamError::Invalid(format!("GitHub refused the code: {}", err.error()))
            }
            // GitHub answers a bad code with 200 and `{"error": ...}`, which lands here.
            other => UpstreamError::Unavailable(format!("token request failed: {}", chain(&other))),
        })?;
    let bearer = token.access_token().secret();
    let user: User = get_json(http, &format!("{}/user", at.api_url), bearer).await?;
    let emails: Vec<Email> = get_json(http, &format!("{}/user/emails", at.api_url), bearer).await?;
    let email = emails
        .into_iter()
        .find(|e| e.primary && e.verified)
        .ok_or(UpstreamError::NoVerifiedEmail)?;
    Ok(Profile {
        provider: config.name.clone(),
        subject: user.id.to_string(),
        email: Some(email.email),
        email_verified: true,
        name: clean_name(user.name.as_deref()).or_else(|| clean_name(Some(&user.login))),
    })
}

async fn get_json<T: DeserializeOwned>(http: &reqwest::Client, url: &str, bearer: &str) -> Result<T, UpstreamError> {
    let response = http
        .get(url)
        .bearer_auth(bearer)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("GET {url}: {}", chain(&e))))?;
    let status = response.status();
    if !status.is_success() {
        return Err(UpstreamError::Unavailable(format!("GET {url}: HTTP {status}")));
    }
    response
        .json()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("GET {url}: {}", chain(&e))))
}
