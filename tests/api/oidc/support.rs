//! Helpers shared by the protocol tests (`forged_tokens`, `authorize_errors`, `code_exchange`,
//! `token_endpoint`, `revoke_introspect`, `discovery`, `logout`): raw HTTP answers, client
//! authentication, the code flow driven by hand, and compact JWS tokens minted with the
//! server's key.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use josekit::jws::{JwsSigner, RS256};
use latchkey::service::clients::ClientView;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{Attempt, Browser, Provider, REDIRECT, Rp, attempt, sign_in};
use crate::helpers::{FIXTURE_KEY, TestApp};

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

/// An HTTP answer, read whole.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub async fn read(res: reqwest::Response) -> Reply {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap();
        Reply { status, headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("expected JSON ({e}), got {}: {}", self.status, self.body))
    }

    /// An RFC 6749 §5.2 error answer: JSON with `error`, not cacheable. Returns `error`.
    pub fn oauth_error(&self) -> String {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "error answers are JSON, got {content_type:?}: {}",
            self.body
        );
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "error answers carry Cache-Control: no-store"
        );
        let json = self.json();
        let error = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {json}"))
            .to_owned();
        if let Some(d) = json.get("error_description") {
            assert!(d.is_string(), "error_description is a string: {json}");
        }
        error
    }

    /// Asserts an RFC 6749 §5.2 error with this status and code.
    pub fn assert_oauth_error(&self, status: u16, code: &str, what: &str) {
        assert_eq!(self.status, status, "{what}: status, body {}", self.body);
        assert_eq!(self.oauth_error(), code, "{what}: error code");
    }
}

/// How a request authenticates its client (RFC 6749 §2.3).
#[derive(Debug, Clone, Copy)]
pub(super) enum Auth<'a> {
    /// `client_secret_basic`: id and secret form-urlencoded, then base64 (§2.3.1).
    Basic(&'a str, &'a str),
    /// `client_secret_post`: both in the form body.
    Post(&'a str, &'a str),
    /// A public client names itself with `client_id` only.
    Public(&'a str),
    /// No client authentication at all.
    None,
}

/// The way the registered test client normally authenticates.
pub(super) fn auth_of(client: &ClientView) -> Auth<'_> {
    match &client.client_secret {
        Some(secret) => Auth::Basic(&client.client_id, secret),
        None => Auth::Public(&client.client_id),
    }
}

/// An `Authorization: Basic` value as RFC 6749 §2.3.1 builds it.
pub(super) fn basic_header(id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

/// A client that never follows redirects, for looking at `Location` headers.
pub(super) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// POSTs a form to a protocol endpoint with the given client authentication.
pub(super) async fn post_form(app: &TestApp, path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> Reply {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    let mut req = app.http.post(format!("{}{path}", app.address));
    match auth {
        Auth::Basic(id, secret) => req = req.header("Authorization", basic_header(id, secret)),
        Auth::Post(id, secret) => form.extend([("client_id", id), ("client_secret", secret)]),
        Auth::Public(id) => form.push(("client_id", id)),
        Auth::None => {}
    }
    Reply::read(req.form(&form).send().await.unwrap()).await
}

/// A user signed in through the hosted pages, and the code the client got back.
pub(super) struct SignedIn {
    pub attempt: Attempt,
    pub code: String,
}

impl SignedIn {
    pub fn verifier(&self) -> &str {
        self.attempt.verifier.secret()
    }
}

/// Runs the browser part of the code flow for the provider's client.
pub(super) async fn signed_in(p: &Provider, scopes: &[&str]) -> SignedIn {
    let rp = Rp::discover(p).await;
    let browser = Browser::new(&p.app);
    let attempt = attempt(&rp, scopes, &[]);
    let code = sign_in(p, &browser, &attempt).await;
    SignedIn { attempt, code }
}

/// `grant_type=authorization_code` at `/token`.
pub(super) async fn exchange(
    app: &TestApp,
    auth: Auth<'_>,
    code: &str,
    verifier: Option<&str>,
    redirect_uri: Option<&str>,
) -> Reply {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    if let Some(r) = redirect_uri {
        form.push(("redirect_uri", r));
    }
    post_form(app, "/token", auth, &form).await
}

/// A whole code flow for the provider's client; returns the browser and the token response.
pub(super) async fn tokens(p: &Provider, scopes: &[&str]) -> (SignedIn, Value) {
    let s = signed_in(p, scopes).await;
    let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    assert_eq!(reply.status, 200, "code exchange: {}", reply.body);
    let json = reply.json();
    (s, json)
}

/// A string member of a JSON answer.
pub(super) fn field(json: &Value, name: &str) -> String {
    json[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {json}"))
        .to_owned()
}

/// `GET /userinfo` with a bearer token.
pub(super) async fn userinfo(app: &TestApp, token: &str) -> Reply {
    let res = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    Reply::read(res).await
}

/// RFC 6750 §3.1: a refused bearer token is a 401 whose challenge names `invalid_token`.
pub(super) fn assert_invalid_token(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: status, body {}", reply.body);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{what}: WWW-Authenticate is {challenge:?}"
    );
}

/// `grant_type=refresh_token` at `/token`.
pub(super) async fn refresh(app: &TestApp, auth: Auth<'_>, token: &str) -> Reply {
    post_form(
        app,
        "/token",
        auth,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

/// `POST /introspect`.
pub(super) async fn introspect(app: &TestApp, auth: Auth<'_>, token: &str) -> Reply {
    post_form(app, "/introspect", auth, &[("token", token)]).await
}

/// The `kid` the server publishes for its (fixture) key.
pub(super) async fn server_kid(app: &TestApp) -> String {
    let jwks = app.get_json("/.well-known/jwks.json").await;
    field(&jwks["keys"][0], "kid")
}

pub(super) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(super) fn signing_input(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// A compact JWS with exactly this header and payload, signed by `signer`.
pub(super) fn sign_with(signer: &dyn JwsSigner, header: &Value, payload: &Value) -> String {
    let input = signing_input(header, payload);
    let signature = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&signature))
}

/// Signed with the server's own private key (the test fixture): only `exp`, `typ` or `kid`
/// can make such a token wrong.
pub(super) fn fixture_signed(header: &Value, payload: &Value) -> String {
    sign_with(&RS256.signer_from_pem(FIXTURE_KEY).unwrap(), header, payload)
}

/// The header the server puts on its tokens.
pub(super) fn rs256_header(typ: &str, kid: &str) -> Value {
    json!({ "alg": "RS256", "typ": typ, "kid": kid })
}

/// RFC 9068 access token claims for the provider's user and client, expiring at `exp`.
pub(super) fn access_claims(p: &Provider, exp: i64) -> Value {
    let iat = (exp - 900).min(Utc::now().timestamp());
    json!({
        "iss": p.app.address,
        "sub": p.user_id,
        "aud": p.client.client_id,
        "exp": exp,
        "iat": iat,
        "nbf": iat,
        "jti": uuid::Uuid::new_v4().to_string(),
        "client_id": p.client.client_id,
        "scope": "email openid",
    })
}

/// Replaces the payload of a compact JWS, keeping header and signature.
pub(super) fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    format!("{}.{}.{}", parts[0], b64(payload.to_string().as_bytes()), parts[2])
}

/// The decoded payload of a compact JWS.
pub(super) fn payload_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The decoded header of a compact JWS.
pub(super) fn header_of(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A valid PKCE challenge (RFC 7636 appendix B).
pub(super) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The registered client's id and secret (it is confidential).
pub(super) fn secret_of(p: &Provider) -> (&str, &str) {
    (
        &p.client.client_id,
        p.client.client_secret.as_deref().expect("a confidential client"),
    )
}

pub(super) fn assert_successful_token_response(reply: &Reply, what: &str) -> Value {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}: RFC 6749 §5.1");
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"),
        "{what}: JSON"
    );
    let json = reply.json();
    assert!(
        json["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "{what}: token_type Bearer in {json}"
    );
    assert!(json["access_token"].is_string(), "{what}: access_token in {json}");
    assert!(
        json["expires_in"].as_u64().is_some_and(|n| n > 0),
        "{what}: expires_in in {json}"
    );
    json
}
