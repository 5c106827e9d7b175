//! Whole code flows as a relying party and a browser see them, for confidential and public
//! clients. The helpers at the top are shared with `sso_prompt_consent.rs`, `access_tokens.rs`
//! and `refresh.rs`.

use std::collections::BTreeSet;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openidconnect::core::{CoreIdTokenVerifier, CoreTokenResponse};
use openidconnect::{AuthorizationCode, OAuth2TokenResponse, TokenResponse};
use serde_json::Value;

use super::{Attempt, Browser, ClientOptions, Provider, REDIRECT, Rp, attempt, provider, sign_in};

// ---------------------------------------------------------------------------------------
// Helpers shared with the other test files of this folder.
// ---------------------------------------------------------------------------------------

/// An answer of the token endpoint, as raw as a client sees it.
pub(super) struct TokenAnswer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TokenAnswer {
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    pub fn str(&self, name: &str) -> &str {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {}", self.body))
    }

    pub fn cache_control(&self) -> &str {
        self.headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

/// POSTs a form to the token endpoint, with HTTP Basic client credentials when given.
pub(super) async fn token_request(p: &Provider, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> TokenAnswer {
    let mut request = p.app.http.post(format!("{}/token", p.app.address)).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let res = request.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("token endpoint answered {status} with {text}"));
    TokenAnswer { status, headers, body }
}

/// The provider's published keys, as a backend fetches them.
pub(super) async fn jwks(p: &Provider) -> JwkSet {
    let res = p.app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Verifies an access token the way a backend does, with the JWKS alone (RFC 9068 §4):
/// RS256 with the key named by `kid`, `typ: at+jwt`, `iss`, `aud`, `exp`. Returns the claims.
pub(super) fn verify_access_token(jwks: &JwkSet, token: &str, issuer: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1 typ");
    let kid = header.kid.expect("the access token names its key (kid)");
    let jwk = jwks
        .find(&kid)
        .expect("the access token's kid is published in the JWKS");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("access token not verifiable with the JWKS: {e}"))
        .claims
}

/// Space-separated scope values as a set, so their order does not matter.
pub(super) fn scope_set(scope: &str) -> BTreeSet<String> {
    scope.split_whitespace().map(str::to_owned).collect()
}

/// Signs the user in (login, consent if asked) and exchanges the code with the RP.
pub(super) async fn code_tokens(p: &Provider, rp: &Rp, browser: &Browser, a: Attempt) -> CoreTokenResponse {
    let code = sign_in(p, browser, &a).await;
    exchange(rp, code, a).await
}

/// Exchanges a code with the RP and checks the ID token (signature, iss, aud, nonce).
pub(super) async fn exchange(rp: &Rp, code: String, a: Attempt) -> CoreTokenResponse {
    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(a.verifier)
        .request_async(&rp.http)
        .await
        .unwrap();
    if let Some(id_token) = tokens.id_token() {
        id_token.claims(&rp.client.id_token_verifier(), &a.nonce).unwrap();
    }
    tokens
}

/// GET /userinfo with a bearer token: status and `WWW-Authenticate`.
pub(super) async fn userinfo(p: &Provider, access_token: &str) -> (u16, String, Value) {
    let res = p
        .app
        .http
        .get(format!("{}/userinfo", p.app.address))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

// ---------------------------------------------------------------------------------------
// The code flow.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn confidential_client_full_code_flow_with_pkce() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid", "email", "profile"], &[]);
    let code = sign_in(&p, &browser, &a).await;
    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(a.verifier)
        .request_async(&rp.http)
        .await
        .unwrap();
    let verifier: CoreIdTokenVerifier = rp.client.id_token_verifier();
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&verifier, &a.nonce).unwrap();
    assert_eq!(claims.subject().as_str(), p.user_id);
    assert_eq!(claims.email().unwrap().as_str(), p.email);
    let at_hash = claims.access_token_hash().expect("at_hash");
    let expected = openidconnect::AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(at_hash, &expected);
    assert!(
        tokens.refresh_token().is_none(),
        "no offline_access, not first-party: no refresh token"
    );
}

#[tokio::test]
async fn public_client_full_code_flow_with_pkce_and_no_secret() {
    let p = provider(ClientOptions {
        public: true,
        ..Default::default()
    })
    .await;
    assert!(p.client.client_secret.is_none(), "a public client has no secret");
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid", "email"], &[]);
    let code = sign_in(&p, &browser, &a).await;

    // The token request a public client sends: client_id and code_verifier, no credentials.
    let answer = token_request(
        &p,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &p.client.client_id),
            ("code_verifier", a.verifier.secret()),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.cache_control(), "no-store");
    assert!(answer.str("token_type").eq_ignore_ascii_case("bearer"));
    assert!(answer.body["expires_in"].as_u64().is_some_and(|s| s > 0));

    // The relying party accepts the response and its ID token.
    let tokens: CoreTokenResponse = serde_json::from_value(answer.body.clone()).unwrap();
    let verifier = rp.client.id_token_verifier();
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&verifier, &a.nonce).unwrap();
    assert_eq!(claims.subject().as_str(), p.user_id);
    assert_eq!(claims.audiences().len(), 1);
    assert_eq!(claims.audiences()[0].as_str(), p.client.client_id);
    assert_eq!(claims.email().unwrap().as_str(), p.email);
    let expected = openidconnect::AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert!(tokens.refresh_token().is_none(), "no offline_access: no refresh token");

    // The access token works at userinfo.
    let (status, _, info) = userinfo(&p, tokens.access_token().secret()).await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], p.user_id);
    assert_eq!(info["email"], p.email);
}
