//! OpenID Connect providers (Google, Keycloak, Entra, GitLab, Auth0, another Latchkey):
//! discovery, the authorization code flow with PKCE and nonce, and full ID token validation
//! (signature from the provider's JWKS, `iss`, `aud`, `exp`, `nonce`), all by `openidconnect`.

use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata};
use openidconnect::{
    AccessToken, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, SubjectIdentifier, TokenResponse,
};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use super::{Profile, UpstreamError, chain, clean_name};
use crate::config::UpstreamProvider;

/// A cached discovery document is trusted this long; keys are refetched sooner when an ID
/// token names a key the cache does not hold.
const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Refetches on an unknown `kid` happen at most this often, so forged tokens naming random
/// keys cannot turn us into a load generator against the provider.
const REFETCH_FLOOR: Duration = Duration::from_secs(1);

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The provider's discovery document and JWKS, fetched once and shared by every request.
pub struct Discovery {
    issuer: String,
    /// A mutex rather than a lock-free cell: a fetch holds it so that concurrent sign-ins
    /// wait for one fetch instead of each starting their own.
    cached: Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

/// Per-sign-in values the authorization request and the callback share.
pub struct Request<'a> {
    pub redirect: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
}

impl Discovery {
    pub fn new(issuer: &str) -> Discovery {
        Discovery {
            issuer: issuer.to_owned(),
            cached: Mutex::new(None),
        }
    }

    /// The cached metadata; fetched when missing or stale, or when `refetch` asks for new
    /// keys and the cache is older than the floor.
    async fn metadata(&self, http: &reqwest::Client, refetch: bool) -> Result<CoreProviderMetadata, UpstreamError> {
        let mut cached = self.cached.lock().await;
        if let Some((metadata, at)) = cached.as_ref() {
            let age = at.elapsed();
            if (!refetch && age < MAX_AGE) || (refetch && age < REFETCH_FLOOR) {
                return Ok(metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("discovery failed: {}", chain(&e))))?;
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    fn client(
        config: &UpstreamProvider,
        metadata: CoreProviderMetadata,
        redirect: &str,
    ) -> Result<Client, UpstreamError> {
        let redirect = RedirectUrl::new(redirect.to_owned()).map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
        let secret = config
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        Ok(
            CoreClient::from_provider_metadata(metadata, ClientId::new(config.client_id.clone()), secret)
                .set_redirect_uri(redirect),
        )
    }

    pub async fn authorize_url(
        &self,
        http: &reqwest::Client,
        config: &UpstreamProvider,
        at: Request<'_>,
        challenge: PkceCodeChallenge,
    ) -> Result<String, UpstreamError> {
        let client = Self::client(config, self.metadata(http, false).await?, at.redirect)?;
        let (state, nonce) = (at.state.to_owned(), at.nonce.to_owned());
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            // `openid` is always sent by openidconnect itself.
            .add_scopes(
                config
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .map(|s| Scope::new(s.clone())),
            )
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    /// Exchanges the code (with the PKCE verifier) and validates the ID token; the claims it
    /// lacks (some providers keep the email for userinfo) are read from userinfo.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        config: &UpstreamProvider,
        at: Request<'_>,
        code: &str,
        verifier: String,
    ) -> Result<Profile, UpstreamError> {
        let client = Self::client(config, self.metadata(http, false).await?, at.redirect)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| UpstreamError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(err) => {
                    UpstreamError::Invalid(format!("the token endpoint refused the code: {}", err.error()))
                }
                other => UpstreamError::Unavailable(format!("token request failed: {}", chain(&other))),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| UpstreamError::Invalid("the token response has no ID token".into()))?;
        let nonce = Nonce::new(at.nonce.to_owned());
        let first = id_token.claims(&client.id_token_verifier(), &nonce).cloned();
        let (client, claims) = match first {
            Ok(claims) => (client, claims),
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                // The provider may have rotated its keys since we cached them.
                let client = Self::client(config, self.metadata(http, true).await?, at.redirect)?;
                let claims = id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|e| UpstreamError::Invalid(chain(&e)))?
                    .clone();
                (client, claims)
            }
            Err(e) => return Err(UpstreamError::Invalid(chain(&e))),
        };
        let mut profile = profile(&config.name, &claims);
        if profile.email.is_none() {
            fill_from_userinfo(http, &client, response.access_token(), claims.subject(), &mut profile).await;
        }
        Ok(profile)
    }
}

fn profile(provider: &str, claims: &CoreIdTokenClaims) -> Profile {
    Profile {
        provider: provider.to_owned(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: clean_name(claims.name().and_then(|n| n.get(None)).map(|n| n.as_str())),
    }
}

/// Reads email and name from userinfo when the ID token left them out. Best effort: the
/// sign-in itself is already proven, and a missing email is handled by the caller.
async fn fill_from_userinfo(
    http: &reqwest::Client,
    client: &Client,
    access_token: &AccessToken,
    subject: &SubjectIdentifier,
    profile: &mut Profile,
) {
    let Ok(request) = client.user_info(access_token.clone(), Some(subject.clone())) else {
        return;
    };
    let claims: openidconnect::core::CoreUserInfoClaims = match request.request_async(http).await {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(provider = %profile.provider, error = %chain(&e), "userinfo request failed");
            return;
        }
    };
    profile.email = claims.email().map(|e| e.to_string());
    profile.email_verified = claims.email_verified().unwrap_or(false);
    if profile.name.is_none() {
        profile.name = clean_name(claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()));
    }
}
