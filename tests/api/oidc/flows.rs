//! Whole authorization flows as a relying party and a browser see them: the code flow for
//! confidential and public clients, single sign-on, `prompt`, `max_age`, consent, the access
//! token as a backend verifies it, resource indicators and `client_credentials`.

use std::collections::{BTreeSet, HashMap};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openidconnect::core::{CoreIdTokenVerifier, CoreTokenResponse};
use openidconnect::{AuthorizationCode, OAuth2TokenResponse, TokenResponse};
use serde_json::Value;

use super::{Attempt, Browser, ClientOptions, Outcome, PASSWORD, Provider, REDIRECT, Rp, attempt, provider, sign_in};

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

/// The ID token's `auth_time`, as seconds since the epoch.
fn auth_time(rp: &Rp, tokens: &CoreTokenResponse, nonce: &openidconnect::Nonce) -> i64 {
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&rp.client.id_token_verifier(), nonce)
        .unwrap();
    claims.auth_time().expect("auth_time in the ID token").timestamp()
}

fn is_login(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Page { status: 200, url, .. } if url.contains("/login"))
}

fn is_consent(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Page { status: 200, url, .. } if url.contains("/consent"))
}

/// Asserts the browser was sent straight back to the client with a code, `state` and `iss`.
fn expect_code(p: &Provider, outcome: &Outcome, a: &Attempt) -> String {
    let params = outcome.client_params();
    assert!(!params.contains_key("error"), "unexpected error: {params:?}");
    assert_eq!(params.get("state"), Some(a.state.secret()), "state is echoed");
    assert_eq!(params.get("iss"), Some(&p.app.address), "RFC 9207 iss");
    params.get("code").expect("a code").clone()
}

/// Asserts an RFC 6749 §4.1.2.1 error redirect with `state` and `iss`, and no code.
fn expect_error(p: &Provider, outcome: &Outcome, a: &Attempt, error: &str) -> HashMap<String, String> {
    let params = outcome.client_params();
    assert_eq!(params.get("error").map(String::as_str), Some(error), "{params:?}");
    assert_eq!(params.get("state"), Some(a.state.secret()), "state is echoed");
    assert_eq!(params.get("iss"), Some(&p.app.address), "RFC 9207 iss");
    assert!(!params.contains_key("code"), "no code with an error: {params:?}");
    params
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

// ---------------------------------------------------------------------------------------
// Single sign-on and prompt.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn second_authorization_in_the_same_browser_skips_the_login_page() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);

    let first = attempt(&rp, &["openid"], &[]);
    let page = browser.start(&first.url).await;
    assert!(is_login(&page), "a new browser signs in first: {page:?}");
    let outcome = browser.login(&page, &p.email, PASSWORD).await;
    let code = expect_code(&p, &outcome, &first);
    let first_tokens = exchange(&rp, code, first).await;
    assert!(first_tokens.id_token().is_some());

    // Same browser, a new authorization: straight back to the client, no page at all.
    let second = attempt(&rp, &["openid", "email"], &[]);
    let outcome = browser.start(&second.url).await;
    let code = expect_code(&p, &outcome, &second);
    let nonce = second.nonce.clone();
    let tokens = exchange(&rp, code, second).await;
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&rp.client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), p.user_id);
    assert_eq!(claims.email().unwrap().as_str(), p.email);

    // Another browser has no session and is asked to sign in.
    let other = Browser::new(&p.app);
    let third = attempt(&rp, &["openid"], &[]);
    assert!(is_login(&other.start(&third.url).await));
}

#[tokio::test]
async fn prompt_login_forces_the_login_page_despite_a_session() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let first = attempt(&rp, &["openid"], &[]);
    sign_in(&p, &browser, &first).await;

    let a = attempt(&rp, &["openid"], &[("prompt", "login")]);
    let page = browser.start(&a.url).await;
    assert!(is_login(&page), "prompt=login shows the login page: {page:?}");
    let outcome = browser.login(&page, &p.email, PASSWORD).await;
    let code = expect_code(&p, &outcome, &a);
    let tokens = exchange(&rp, code, a).await;
    assert!(tokens.id_token().is_some());
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid"], &[("prompt", "none")]);
    let outcome = browser.start(&a.url).await;
    assert!(
        matches!(outcome, Outcome::Client(_)),
        "prompt=none never shows a page: {outcome:?}"
    );
    let params = expect_error(&p, &outcome, &a, "login_required");
    assert!(outcome.url().starts_with(REDIRECT), "{params:?}");
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_is_consent_required() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    // Sign in, but leave the consent page unanswered.
    let first = attempt(&rp, &["openid", "email"], &[]);
    let page = browser.start(&first.url).await;
    let page = browser.login(&page, &p.email, PASSWORD).await;
    assert!(is_consent(&page), "the client needs consent: {page:?}");

    let a = attempt(&rp, &["openid", "email"], &[("prompt", "none")]);
    let outcome = browser.start(&a.url).await;
    assert!(matches!(outcome, Outcome::Client(_)), "{outcome:?}");
    expect_error(&p, &outcome, &a, "consent_required");
}

#[tokio::test]
async fn prompt_none_with_a_session_and_consent_returns_a_code() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    sign_in(&p, &browser, &attempt(&rp, &["openid", "email"], &[])).await;

    let a = attempt(&rp, &["openid", "email"], &[("prompt", "none")]);
    let outcome = browser.start(&a.url).await;
    let code = expect_code(&p, &outcome, &a);
    let tokens = exchange(&rp, code, a).await;
    assert!(tokens.id_token().is_some());
}

#[tokio::test]
async fn prompt_consent_asks_again_after_consent_was_remembered() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    sign_in(&p, &browser, &attempt(&rp, &["openid", "email"], &[])).await;

    let a = attempt(&rp, &["openid", "email"], &[("prompt", "consent")]);
    let page = browser.start(&a.url).await;
    assert!(is_consent(&page), "prompt=consent shows the consent page: {page:?}");
    let outcome = browser.consent(&page, true).await;
    let code = expect_code(&p, &outcome, &a);
    exchange(&rp, code, a).await;

    // Without prompt=consent the remembered consent applies again.
    let b = attempt(&rp, &["openid", "email"], &[]);
    expect_code(&p, &browser.start(&b.url).await, &b);
}

// ---------------------------------------------------------------------------------------
// Consent.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn consent_is_remembered_for_the_same_scopes() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);

    let first = attempt(&rp, &["openid", "email"], &[]);
    let page = browser.start(&first.url).await;
    let page = browser.login(&page, &p.email, PASSWORD).await;
    assert!(is_consent(&page), "first time: the consent page: {page:?}");
    assert!(page.body().contains("Test app"), "the consent page names the client");
    let outcome = browser.consent(&page, true).await;
    let code = expect_code(&p, &outcome, &first);
    exchange(&rp, code, first).await;

    // The same scopes: no login page, no consent page.
    let same = attempt(&rp, &["openid", "email"], &[]);
    let outcome = browser.start(&same.url).await;
    let code = expect_code(&p, &outcome, &same);
    exchange(&rp, code, same).await;

    // Fewer scopes are covered too.
    let fewer = attempt(&rp, &["openid"], &[]);
    expect_code(&p, &browser.start(&fewer.url).await, &fewer);

    // A scope never approved asks again (but does not ask to sign in again).
    let more = attempt(&rp, &["openid", "email", "profile"], &[]);
    let page = browser.start(&more.url).await;
    assert!(is_consent(&page), "a new scope needs consent: {page:?}");
}

#[tokio::test]
async fn consent_denied_returns_access_denied_to_the_client() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid", "email"], &[]);
    let page = browser.start(&a.url).await;
    let page = browser.login(&page, &p.email, PASSWORD).await;
    assert!(is_consent(&page), "{page:?}");
    let outcome = browser.consent(&page, false).await;
    assert!(outcome.url().starts_with(REDIRECT), "{outcome:?}");
    expect_error(&p, &outcome, &a, "access_denied");

    // Nothing was remembered: the next authorization asks again.
    let b = attempt(&rp, &["openid", "email"], &[]);
    assert!(is_consent(&browser.start(&b.url).await));
}

// ---------------------------------------------------------------------------------------
// max_age.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn max_age_forces_a_new_login_when_the_session_is_older() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let first = attempt(&rp, &["openid"], &[]);
    let first_nonce = first.nonce.clone();
    let first_tokens = code_tokens(&p, &rp, &browser, first).await;
    let first_auth = auth_time(&rp, &first_tokens, &first_nonce);

    // A generous max_age is satisfied by the session.
    let fresh = attempt(&rp, &["openid"], &[("max_age", "3600")]);
    let outcome = browser.start(&fresh.url).await;
    let code = expect_code(&p, &outcome, &fresh);
    let nonce = fresh.nonce.clone();
    let tokens = exchange(&rp, code, fresh).await;
    assert_eq!(
        auth_time(&rp, &tokens, &nonce),
        first_auth,
        "OIDC Core §2: auth_time is the session's sign-in time"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let a = attempt(&rp, &["openid"], &[("max_age", "0")]);
    let page = browser.start(&a.url).await;
    assert!(
        is_login(&page),
        "max_age=0 on an older session shows the login page: {page:?}"
    );
    let outcome = browser.login(&page, &p.email, PASSWORD).await;
    let code = expect_code(&p, &outcome, &a);
    let nonce = a.nonce.clone();
    let tokens = exchange(&rp, code, a).await;
    assert!(
        auth_time(&rp, &tokens, &nonce) > first_auth,
        "the new sign-in is the new auth_time"
    );
}

// ---------------------------------------------------------------------------------------
// Access tokens as backends see them.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn access_token_is_an_rs256_jwt_verifiable_with_the_jwks_alone() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid", "email"], &[]);
    let tokens = code_tokens(&p, &rp, &browser, a).await;

    let keys = jwks(&p).await;
    let claims = verify_access_token(
        &keys,
        tokens.access_token().secret(),
        &p.app.address,
        &p.client.client_id,
    );
    assert_eq!(claims["iss"], p.app.address);
    assert_eq!(claims["sub"], p.user_id, "sub is the user's id, never the email");
    assert_eq!(claims["aud"], p.client.client_id);
    assert_eq!(claims["client_id"], p.client.client_id);
    assert_eq!(scope_set(claims["scope"].as_str().unwrap()), scope_set("openid email"));
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().expect("exp");
    let iat = claims["iat"].as_i64().expect("iat");
    assert!(
        exp > now && exp <= now + 15 * 60 + 5,
        "exp within the 15 min lifetime: {exp} vs {now}"
    );
    assert!((iat - now).abs() <= 60, "iat is now");
    assert!(!claims["jti"].as_str().expect("jti").is_empty());
    // Verification needs the token's audience: a backend for another audience refuses it.
    let header = jsonwebtoken::decode_header(tokens.access_token().secret()).unwrap();
    let key = DecodingKey::from_jwk(keys.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://someone-else.example"]);
    assert!(jsonwebtoken::decode::<Value>(tokens.access_token().secret(), &key, &validation).is_err());
}

#[tokio::test]
async fn access_token_audience_is_the_registered_resource_requested() {
    const API: &str = "https://api.example.com";
    let p = provider(ClientOptions {
        resources: vec![API],
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid"], &[("resource", API)]);
    let tokens = code_tokens(&p, &rp, &browser, a).await;

    let keys = jwks(&p).await;
    let claims = verify_access_token(&keys, tokens.access_token().secret(), &p.app.address, API);
    assert_eq!(claims["aud"], API, "RFC 8707: the audience is the resource");
    assert_eq!(claims["client_id"], p.client.client_id);
    assert_eq!(claims["sub"], p.user_id);
}

// ---------------------------------------------------------------------------------------
// client_credentials.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn client_credentials_issues_an_access_token_for_the_client_itself() {
    let p = provider(ClientOptions {
        grants: vec!["authorization_code", "client_credentials"],
        ..Default::default()
    })
    .await;
    let id = p.client.client_id.clone();
    let secret = p.client.client_secret.clone().expect("a confidential client");
    let answer = token_request(&p, Some((&id, &secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.cache_control(), "no-store");
    assert!(answer.str("token_type").eq_ignore_ascii_case("bearer"));
    assert!(answer.body["expires_in"].as_u64().is_some_and(|s| s > 0));
    assert!(
        answer.body.get("refresh_token").is_none(),
        "RFC 6749 §4.4.3: no refresh token"
    );
    assert!(answer.body.get("id_token").is_none(), "no user, no ID token");

    let keys = jwks(&p).await;
    let claims = verify_access_token(&keys, answer.str("access_token"), &p.app.address, &id);
    assert_eq!(claims["sub"], id, "sub is the client id");
    assert_eq!(claims["client_id"], id);
    assert!(claims.get("email").is_none());

    // client_secret_post works as well.
    let answer = token_request(
        &p,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // And a wrong secret is invalid_client with a challenge.
    let answer = token_request(&p, Some((&id, "wrong")), &[("grant_type", "client_credentials")]).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.error(), "invalid_client");
    assert!(answer.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let p = provider(ClientOptions {
        public: true,
        ..Default::default()
    })
    .await;
    let answer = token_request(
        &p,
        None,
        &[("grant_type", "client_credentials"), ("client_id", &p.client.client_id)],
    )
    .await;
    assert!(
        matches!(
            (answer.status, answer.error()),
            (400, "unauthorized_client") | (401, "invalid_client")
        ),
        "RFC 6749 §4.4: confidential clients only; got {} {}",
        answer.status,
        answer.body
    );
    assert!(answer.body.get("access_token").is_none());
}
