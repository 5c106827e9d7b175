//! What an attacker tries: forged, tampered, expired and misused tokens at `/userinfo`;
//! hostile or malformed authorization requests; code exchanges that must not succeed.
//! The helpers at the top are shared with `endpoints.rs` and `logout.rs`.

use std::collections::HashMap;
use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use josekit::jwk::KeyPair;
use josekit::jws::{HS256, JwsSigner, RS256};
use latchkey::service::clients::ClientView;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{Attempt, Browser, ClientOptions, Provider, REDIRECT, Rp, attempt, provider, register, sign_in};
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

fn signing_input(header: &Value, payload: &Value) -> String {
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

/// An RSA key the server has never seen, generated once per test binary.
static FOREIGN_KEY: LazyLock<Vec<u8>> = LazyLock::new(|| RS256.generate_key_pair(2048).unwrap().to_der_private_key());

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

fn now() -> i64 {
    Utc::now().timestamp()
}

// ---------------------------------------------------------------------------------------
// /userinfo: forged and misused tokens
// ---------------------------------------------------------------------------------------

/// The baseline for every forgery below: a token built the way these tests build them,
/// signed with the server's key and well-formed, IS accepted. So each refusal below is due
/// to the one thing the forgery changes.
#[tokio::test]
async fn well_formed_token_signed_with_the_server_key_is_accepted() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let token = fixture_signed(&rs256_header("at+jwt", &kid), &access_claims(&p, now() + 600));
    let reply = userinfo(&p.app, &token).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sub"], p.user_id.as_str());
    assert_eq!(reply.json()["email"], p.email.as_str());
}

#[tokio::test]
async fn alg_none_token_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    for header in [
        json!({ "alg": "none", "typ": "at+jwt", "kid": kid }),
        json!({ "alg": "None", "typ": "at+jwt", "kid": kid }),
        json!({ "alg": "none", "typ": "at+jwt" }),
    ] {
        let unsigned = format!("{}.", signing_input(&header, &claims));
        assert_invalid_token(&userinfo(&p.app, &unsigned).await, &format!("unsigned {header}"));
        // The same with a signature part that is not empty but meaningless.
        let junk = format!("{unsigned}{}", b64(b"junk"));
        assert_invalid_token(&userinfo(&p.app, &junk).await, &format!("alg none with junk {header}"));
    }
}

#[tokio::test]
async fn hs256_token_keyed_with_the_server_public_key_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    let pair = RS256.key_pair_from_pem(FIXTURE_KEY).unwrap();
    let jwks = p.app.get_json("/.well-known/jwks.json").await;
    let n = URL_SAFE_NO_PAD.decode(field(&jwks["keys"][0], "n")).unwrap();
    // Every form of the public key a verifier that trusts `alg` might feed to HMAC.
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("SPKI PEM", pair.to_pem_public_key()),
        ("PKCS#1 PEM", pair.to_traditional_pem_public_key()),
        ("SPKI DER", pair.to_der_public_key()),
        ("PKCS#1 DER", pair.to_raw_public_key()),
        ("JWKS document", jwks.to_string().into_bytes()),
        ("JWK", jwks["keys"][0].to_string().into_bytes()),
        ("modulus", n),
    ];
    for (what, secret) in secrets {
        let signer = HS256.signer_from_bytes(&secret).unwrap();
        for header in [
            json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid }),
            json!({ "alg": "HS256", "typ": "at+jwt" }),
        ] {
            let token = sign_with(&signer, &header, &claims);
            assert_invalid_token(&userinfo(&p.app, &token).await, &format!("HS256 with the {what}"));
        }
    }
}

#[tokio::test]
async fn token_signed_by_a_foreign_rsa_key_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    let signer = RS256.signer_from_der(&*FOREIGN_KEY).unwrap();
    // Claiming to be the server's key, naming no key, and naming the foreign key's own kid.
    for header in [
        rs256_header("at+jwt", &kid),
        json!({ "alg": "RS256", "typ": "at+jwt" }),
        rs256_header("at+jwt", "attacker-key"),
    ] {
        let token = sign_with(&signer, &header, &claims);
        assert_invalid_token(
            &userinfo(&p.app, &token).await,
            &format!("foreign key, header {header}"),
        );
    }
}

#[tokio::test]
async fn token_with_a_tampered_payload_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let access = field(&tokens, "access_token");
    assert_eq!(userinfo(&p.app, &access).await.status, 200, "the genuine token works");

    let victim = latchkey::service::users::create(
        &p.db,
        "test",
        latchkey::service::users::NewUser {
            email: latchkey::domain::Email::parse(&format!("victim-{}@example.com", uuid::Uuid::new_v4().simple()))
                .unwrap(),
            name: "Victim".into(),
            password: None,
            admin: false,
            verified: true,
        },
    )
    .await
    .unwrap();
    let original = payload_of(&access);
    let mut tampered = Vec::new();
    let mut other_user = original.clone();
    other_user["sub"] = json!(victim.id);
    tampered.push(("sub changed to another user", other_user));
    let mut wider = original.clone();
    wider["scope"] = json!("email openid profile roles");
    tampered.push(("scope widened", wider));
    let mut longer = original.clone();
    longer["exp"] = json!(original["exp"].as_i64().unwrap() + 86_400);
    tampered.push(("exp extended", longer));
    for (what, payload) in tampered {
        let forged = with_payload(&access, &payload);
        assert_invalid_token(&userinfo(&p.app, &forged).await, what);
    }
    // A signature that is one bit off.
    let mut sig = URL_SAFE_NO_PAD.decode(access.rsplit('.').next().unwrap()).unwrap();
    sig[10] ^= 1;
    let (signed_part, _) = access.rsplit_once('.').unwrap();
    let flipped = format!("{signed_part}.{}", b64(&sig));
    assert_invalid_token(&userinfo(&p.app, &flipped).await, "signature with a flipped bit");
}

#[tokio::test]
async fn token_with_an_unknown_kid_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    // Signed with the server's real key: only the `kid` is wrong, or missing.
    for header in [
        rs256_header("at+jwt", "unknown-kid"),
        rs256_header("at+jwt", &format!("{kid}x")),
        rs256_header("at+jwt", ""),
        json!({ "alg": "RS256", "typ": "at+jwt" }),
    ] {
        let token = fixture_signed(&header, &claims);
        assert_invalid_token(&userinfo(&p.app, &token).await, &format!("header {header}"));
    }
}

#[tokio::test]
async fn expired_access_token_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    // Well past any clock-skew leeway.
    for exp in [now() - 3600, now() - 121] {
        let token = fixture_signed(&rs256_header("at+jwt", &kid), &access_claims(&p, exp));
        assert_invalid_token(
            &userinfo(&p.app, &token).await,
            &format!("expired {}s ago", now() - exp),
        );
    }
}

#[tokio::test]
async fn token_of_another_type_or_issuer_is_refused_as_an_access_token() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let refresh = field(&tokens, "refresh_token");
    assert_eq!(header_of(&refresh)["typ"], "refresh+jwt");
    assert_invalid_token(&userinfo(&p.app, &refresh).await, "refresh token as access token");
    let id_token = field(&tokens, "id_token");
    assert_invalid_token(&userinfo(&p.app, &id_token).await, "ID token as access token");

    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    for typ in ["JWT", "refresh+jwt", "at+jwt+x"] {
        let token = fixture_signed(&rs256_header(typ, &kid), &claims);
        assert_invalid_token(&userinfo(&p.app, &token).await, &format!("typ {typ}"));
    }
    let token = fixture_signed(&json!({ "alg": "RS256", "kid": kid }), &claims);
    assert_invalid_token(&userinfo(&p.app, &token).await, "no typ");
    let mut foreign_issuer = claims.clone();
    foreign_issuer["iss"] = json!("https://evil.example.com");
    let token = fixture_signed(&rs256_header("at+jwt", &kid), &foreign_issuer);
    assert_invalid_token(&userinfo(&p.app, &token).await, "another issuer");
    for junk in ["garbage", "a.b.c", "...", "Bearer x"] {
        assert_invalid_token(&userinfo(&p.app, junk).await, &format!("junk {junk:?}"));
    }
}

#[tokio::test]
async fn userinfo_without_credentials_gets_a_bare_bearer_challenge() {
    let p = provider(ClientOptions::default()).await;
    for res in [
        p.app.get("/userinfo").await,
        p.app
            .http
            .post(format!("{}/userinfo", p.app.address))
            .send()
            .await
            .unwrap(),
    ] {
        let reply = Reply::read(res).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "challenge {challenge:?}");
        // RFC 6750 §3.1: no error code when the request carried no credentials.
        assert!(!challenge.contains("error="), "bare challenge, got {challenge:?}");
    }
}

#[tokio::test]
async fn userinfo_token_in_header_and_body_is_invalid_request() {
    let p = provider(ClientOptions::default()).await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let access = field(&tokens, "access_token");
    let res = p
        .app
        .http
        .post(format!("{}/userinfo", p.app.address))
        .bearer_auth(&access)
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .unwrap();
    let reply = Reply::read(res).await;
    reply.assert_oauth_error(400, "invalid_request", "token in header and body");
}

#[tokio::test]
async fn userinfo_accepts_the_token_in_a_form_body() {
    let p = provider(ClientOptions::default()).await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let access = field(&tokens, "access_token");
    let res = p
        .app
        .http
        .post(format!("{}/userinfo", p.app.address))
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .unwrap();
    let reply = Reply::read(res).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sub"], p.user_id.as_str());
    assert_eq!(reply.json()["email"], p.email.as_str());
    // A forged token in the body is refused like one in the header.
    let res = p
        .app
        .http
        .post(format!("{}/userinfo", p.app.address))
        .form(&[("access_token", with_payload(&access, &json!({ "sub": "x" })).as_str())])
        .send()
        .await
        .unwrap();
    assert_invalid_token(&Reply::read(res).await, "forged token in the body");
}

// ---------------------------------------------------------------------------------------
// /authorize: requests that must never reach, or must be refused at, the client
// ---------------------------------------------------------------------------------------

/// A valid PKCE challenge (RFC 7636 appendix B).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A complete, valid authorization request for the provider's client.
fn valid_request(p: &Provider) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", p.client.client_id.clone()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid email".into()),
        ("state", "st-123".into()),
        ("nonce", "n-456".into()),
        ("code_challenge", CHALLENGE.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// `valid_request` with `name` set to `value` (`None` removes it).
fn with_param(
    mut params: Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    params.retain(|(k, _)| *k != name);
    if let Some(v) = value {
        params.push((name, v.to_owned()));
    }
    params
}

async fn get_authorize(app: &TestApp, params: &[(&str, String)]) -> Reply {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let res = no_redirects()
        .get(format!("{}/authorize?{query}", app.address))
        .send()
        .await
        .unwrap();
    Reply::read(res).await
}

/// An error page at the provider: never a redirect.
fn assert_error_page(reply: &Reply, what: &str) {
    assert!(
        reply.header("location").is_none(),
        "{what}: must not redirect, got Location {:?}",
        reply.header("location")
    );
    assert!(
        (400..500).contains(&reply.status),
        "{what}: an error page, got {}",
        reply.status
    );
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{what}: an HTML page"
    );
}

/// The parameters of a redirect back to the registered redirect URI.
fn client_redirect(reply: &Reply, what: &str) -> HashMap<String, String> {
    assert!(
        matches!(reply.status, 302 | 303),
        "{what}: expected a redirect, got {}: {}",
        reply.status,
        reply.body
    );
    let location = reply.header("location").unwrap();
    assert_eq!(
        location.split('?').next(),
        Some(REDIRECT),
        "{what}: redirected to the registered URI, got {location}"
    );
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

/// RFC 6749 §4.1.2.1 + RFC 9207: the error goes back to the client with state and iss.
fn assert_client_error(p: &Provider, reply: &Reply, code: &str, what: &str) -> HashMap<String, String> {
    let params = client_redirect(reply, what);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(code),
        "{what}: {params:?}"
    );
    assert_eq!(params.get("iss"), Some(&p.app.address), "{what}: iss");
    assert!(!params.contains_key("code"), "{what}: no code with an error");
    params
}

#[tokio::test]
async fn unknown_client_and_unregistered_redirect_uri_get_the_same_error_page() {
    let p = provider(ClientOptions::default()).await;
    // The valid request reaches the login page: the baseline.
    let ok = get_authorize(&p.app, &valid_request(&p)).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.header("location").unwrap().starts_with("/login"));

    let unknown_client = get_authorize(
        &p.app,
        &with_param(valid_request(&p), "client_id", Some("no-such-client")),
    )
    .await;
    assert_error_page(&unknown_client, "unknown client_id");
    for bad_uri in [
        "http://127.0.0.1:9/evil",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?next=/evil",
        "http://127.0.0.1:9/callback/../evil",
        "http://127.0.0.1:9/callback#frag",
        "HTTP://127.0.0.1:9/callback",
        "http://127.0.0.1:90/callback",
        "http://evil.example.com/callback",
        "https://127.0.0.1:9/callback",
    ] {
        let reply = get_authorize(&p.app, &with_param(valid_request(&p), "redirect_uri", Some(bad_uri))).await;
        assert_error_page(&reply, bad_uri);
        assert_eq!(
            reply.status, unknown_client.status,
            "{bad_uri}: same status as an unknown client"
        );
        assert_eq!(
            reply.body, unknown_client.body,
            "{bad_uri}: same page as an unknown client"
        );
    }
    // Checked before anything else: other errors with a bad redirect URI are not redirected.
    let bad_both = with_param(valid_request(&p), "redirect_uri", Some("http://evil.example.com/cb"));
    let reply = get_authorize(&p.app, &with_param(bad_both, "response_type", Some("token"))).await;
    assert_error_page(&reply, "bad redirect_uri and response_type=token");
    assert_eq!(reply.body, unknown_client.body);
    // Missing client_id or redirect_uri: still an error page at the provider.
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "client_id", None)).await;
    assert_error_page(&reply, "no client_id");
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "redirect_uri", None)).await;
    assert_error_page(&reply, "no redirect_uri");
}

#[tokio::test]
async fn repeated_client_id_or_redirect_uri_gets_the_error_page() {
    let p = provider(ClientOptions::default()).await;
    let other = register(&p.db, &ClientOptions::default()).await;
    let mut twice = valid_request(&p);
    twice.push(("client_id", other.client_id.clone()));
    assert_error_page(&get_authorize(&p.app, &twice).await, "client_id twice (two clients)");
    let mut same_twice = valid_request(&p);
    same_twice.push(("client_id", p.client.client_id.clone()));
    assert_error_page(
        &get_authorize(&p.app, &same_twice).await,
        "client_id twice (same value)",
    );
    let mut uri_twice = valid_request(&p);
    uri_twice.push(("redirect_uri", "http://evil.example.com/cb".into()));
    assert_error_page(&get_authorize(&p.app, &uri_twice).await, "redirect_uri twice");
}

/// The check for a repeated `client_id` / `redirect_uri` must not depend on what else is
/// repeated: with two values the client is unknown, so nothing may be redirected.
#[tokio::test]
async fn repeated_client_id_or_redirect_uri_is_an_error_page_whatever_else_repeats() {
    let p = provider(ClientOptions::default()).await;
    let other = register(&p.db, &ClientOptions::default()).await;
    let mut client_twice = vec![("client_id", other.client_id.clone())];
    client_twice.extend(valid_request(&p));
    client_twice.push(("scope", "openid".into()));
    let mut uri_twice = vec![("redirect_uri", "http://evil.example.com/cb".to_owned())];
    uri_twice.extend(valid_request(&p));
    uri_twice.push(("nonce", "again".into()));
    let mut redirected = Vec::new();
    for (what, params) in [
        ("client_id twice, then scope twice", client_twice),
        ("redirect_uri twice, then nonce twice", uri_twice),
    ] {
        let reply = get_authorize(&p.app, &params).await;
        if let Some(location) = reply.header("location") {
            redirected.push(format!("{what}: {} to {location}", reply.status));
        } else {
            assert_error_page(&reply, what);
        }
    }
    assert!(redirected.is_empty(), "must not redirect:\n{}", redirected.join("\n"));
}

#[tokio::test]
async fn repeated_parameter_is_invalid_request_at_the_client() {
    let p = provider(ClientOptions::default()).await;
    for (name, value) in [
        ("scope", "openid"),
        ("response_type", "code"),
        ("code_challenge", CHALLENGE),
        ("nonce", "again"),
        ("prompt", "login"),
        ("max_age", "60"),
    ] {
        let mut params = valid_request(&p);
        if !params.iter().any(|(k, _)| *k == name) {
            params.push((name, value.to_owned()));
        }
        params.push((name, value.to_owned()));
        let reply = get_authorize(&p.app, &params).await;
        let got = assert_client_error(&p, &reply, "invalid_request", &format!("{name} twice"));
        assert_eq!(
            got.get("state").map(String::as_str),
            Some("st-123"),
            "{name} twice: state echoed"
        );
    }
}

#[tokio::test]
async fn response_type_other_than_code_is_unsupported_response_type() {
    let p = provider(ClientOptions::default()).await;
    for rt in ["token", "id_token", "code id_token", "code token"] {
        let reply = get_authorize(&p.app, &with_param(valid_request(&p), "response_type", Some(rt))).await;
        let got = assert_client_error(&p, &reply, "unsupported_response_type", rt);
        assert_eq!(got.get("state").map(String::as_str), Some("st-123"));
        // No fragment: nothing may travel in an implicit-style response.
        assert!(!reply.header("location").unwrap().contains('#'), "{rt}: no fragment");
    }
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "response_type", None)).await;
    assert_client_error(&p, &reply, "invalid_request", "no response_type");
}

#[tokio::test]
async fn public_client_without_code_challenge_is_invalid_request() {
    let p = provider(ClientOptions {
        public: true,
        ..Default::default()
    })
    .await;
    let params = with_param(valid_request(&p), "code_challenge", None);
    let params = with_param(params, "code_challenge_method", None);
    let reply = get_authorize(&p.app, &params).await;
    let got = assert_client_error(&p, &reply, "invalid_request", "public client without PKCE");
    assert_eq!(got.get("state").map(String::as_str), Some("st-123"));
    // With the challenge it proceeds to the login page.
    let reply = get_authorize(&p.app, &valid_request(&p)).await;
    assert!(reply.header("location").unwrap().starts_with("/login"), "{reply:?}");
}

#[tokio::test]
async fn plain_or_unknown_code_challenge_method_is_refused() {
    for public in [true, false] {
        let p = provider(ClientOptions {
            public,
            ..Default::default()
        })
        .await;
        for method in [Some("plain"), Some("S512"), Some("s256"), None] {
            let reply = get_authorize(&p.app, &with_param(valid_request(&p), "code_challenge_method", method)).await;
            assert_client_error(
                &p,
                &reply,
                "invalid_request",
                &format!("public={public}, code_challenge_method={method:?}"),
            );
        }
    }
}

#[tokio::test]
async fn oversized_state_or_nonce_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let long = "s".repeat(2049);
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "state", Some(&long))).await;
    assert_client_error(&p, &reply, "invalid_request", "state > 2 KB");
    let long_nonce = "n".repeat(2049);
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "nonce", Some(&long_nonce))).await;
    assert_client_error(&p, &reply, "invalid_request", "nonce > 2 KB");
    // Exactly 2 KB is still fine.
    let ok = "s".repeat(2048);
    let reply = get_authorize(&p.app, &with_param(valid_request(&p), "state", Some(&ok))).await;
    assert!(
        reply.header("location").unwrap().starts_with("/login"),
        "2048-byte state"
    );
}

// ---------------------------------------------------------------------------------------
// Code exchange
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_code_verifier_is_invalid_grant() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let reply = exchange(&p.app, auth_of(&p.client), &s.code, None, Some(REDIRECT)).await;
    reply.assert_oauth_error(400, "invalid_grant", "no code_verifier");
}

#[tokio::test]
async fn wrong_code_verifier_is_invalid_grant() {
    for public in [false, true] {
        let p = provider(ClientOptions {
            public,
            ..Default::default()
        })
        .await;
        let s = signed_in(&p, &["openid"]).await;
        let wrong = "x".repeat(43);
        let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(&wrong), Some(REDIRECT)).await;
        reply.assert_oauth_error(400, "invalid_grant", &format!("public={public}: wrong code_verifier"));
        // The challenge itself is not the verifier.
        let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(CHALLENGE), Some(REDIRECT)).await;
        reply.assert_oauth_error(400, "invalid_grant", &format!("public={public}: challenge as verifier"));
    }
}

#[tokio::test]
async fn code_used_twice_fails_and_revokes_what_it_issued() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let s = signed_in(&p, &["openid", "email"]).await;
    let auth = auth_of(&p.client);
    let first = exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let access = field(&first, "access_token");
    let refresh_token = field(&first, "refresh_token");
    assert_eq!(
        userinfo(&p.app, &access).await.status,
        200,
        "the first exchange's token works"
    );

    let second = exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    second.assert_oauth_error(400, "invalid_grant", "second use of the code");
    assert_invalid_token(&userinfo(&p.app, &access).await, "access token of a replayed code");
    refresh(&p.app, auth, &refresh_token).await.assert_oauth_error(
        400,
        "invalid_grant",
        "refresh token of a replayed code",
    );
    let answer = introspect(&p.app, auth, &access).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({ "active": false }));
    // A third use fails the same way.
    exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT))
        .await
        .assert_oauth_error(400, "invalid_grant", "third use of the code");
}

/// "Every token issued from it": also those obtained by refreshing since, here with a
/// refresh token granted through `offline_access` and consent rather than first-party status.
#[tokio::test]
async fn code_replay_after_a_refresh_revokes_the_rotated_tokens_too() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid", "offline_access"]).await;
    let auth = auth_of(&p.client);
    let first = exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let rotated = refresh(&p.app, auth, &field(&first, "refresh_token")).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let rotated = rotated.json();
    let (access, refresh_token) = (field(&rotated, "access_token"), field(&rotated, "refresh_token"));
    assert_eq!(userinfo(&p.app, &access).await.status, 200);

    exchange(&p.app, auth, &s.code, Some(s.verifier()), Some(REDIRECT))
        .await
        .assert_oauth_error(400, "invalid_grant", "second use of the code");
    assert_invalid_token(
        &userinfo(&p.app, &access).await,
        "access token from a refresh of a replayed code",
    );
    assert_invalid_token(
        &userinfo(&p.app, &field(&first, "access_token")).await,
        "access token of a replayed code",
    );
    refresh(&p.app, auth, &refresh_token).await.assert_oauth_error(
        400,
        "invalid_grant",
        "rotated refresh token of a replayed code",
    );
}

/// Other tokens are not refresh tokens: an access or ID token at the refresh grant fails.
#[tokio::test]
async fn access_or_id_token_presented_as_a_refresh_token_is_invalid_grant() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (_, t) = tokens(&p, &["openid"]).await;
    for name in ["access_token", "id_token"] {
        refresh(&p.app, auth_of(&p.client), &field(&t, name))
            .await
            .assert_oauth_error(400, "invalid_grant", &format!("{name} as a refresh token"));
    }
    let reply = refresh(&p.app, auth_of(&p.client), &field(&t, "refresh_token")).await;
    assert_eq!(reply.status, 200, "the real refresh token still works: {}", reply.body);
}

#[tokio::test]
async fn code_presented_by_another_client_is_invalid_grant() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    let thief = register(&p.db, &ClientOptions::default()).await;
    let reply = exchange(&p.app, auth_of(&thief), &s.code, Some(s.verifier()), Some(REDIRECT)).await;
    reply.assert_oauth_error(400, "invalid_grant", "confidential client with another's code");
    let public_thief = register(
        &p.db,
        &ClientOptions {
            public: true,
            ..Default::default()
        },
    )
    .await;
    let reply = exchange(
        &p.app,
        auth_of(&public_thief),
        &s.code,
        Some(s.verifier()),
        Some(REDIRECT),
    )
    .await;
    reply.assert_oauth_error(400, "invalid_grant", "public client with another's code");
}

#[tokio::test]
async fn redirect_uri_mismatch_is_invalid_grant() {
    let p = provider(ClientOptions::default()).await;
    let s = signed_in(&p, &["openid"]).await;
    for other in [
        "http://127.0.0.1:9/other",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
    ] {
        let reply = exchange(&p.app, auth_of(&p.client), &s.code, Some(s.verifier()), Some(other)).await;
        reply.assert_oauth_error(400, "invalid_grant", &format!("redirect_uri {other}"));
    }
}
