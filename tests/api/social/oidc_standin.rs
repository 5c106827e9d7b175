//! A stand-in for Google or any OpenID Connect provider, so "sign in with ..." is tested through
//! the real protocol (discovery, authorization code with PKCE, RS256 ID tokens, JWKS) without
//! the network. It can be told to misbehave one way at a time, to prove the relying party
//! checks each thing it must (OpenID Connect Core §3.1.3.7).
//!
//! ```ignore
//! let google = OidcStandIn::start("client-id", "client-secret").await;
//! let app = spawn_issuer_app(&[("GOOGLE_ISSUER", &google.issuer)]).await;
//! google.set_misbehave(Misbehave::WrongNonce);
//! ```

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use super::standin_http::{basic_credentials, pkce_matches, redirect_with, serve};
use crate::helpers::FIXTURE_KEY;

const SECOND_KEY: &str = include_str!("../../fixtures/rsa-2048-b.pem");

/// The user who signs in at the provider.
#[derive(Clone, Debug, PartialEq)]
pub struct UpstreamUser {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

impl Default for UpstreamUser {
    fn default() -> UpstreamUser {
        UpstreamUser {
            sub: "108540432163546712093".into(),
            email: Some("alice@example.com".into()),
            email_verified: true,
            name: Some("Alice Example".into()),
        }
    }
}

/// One thing the provider gets wrong; each variant changes exactly one thing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Misbehave {
    #[default]
    None,
    /// The user refuses at the provider: `error=access_denied` back to the client.
    Deny,
    /// Signed with the other fixture key, under the `kid` of the expected one.
    WrongKey,
    WrongAudience,
    WrongNonce,
    WrongIssuer,
    /// `iat` and `exp` one hour earlier than they should be.
    Expired,
    /// A 200 whose JSON body is cut short.
    InvalidJson,
    /// Waits this long before answering the token request.
    Slow(Duration),
}

/// What an authorization code stands for until it is redeemed.
struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    user: UpstreamUser,
}

#[derive(Default)]
struct State {
    issuer: String,
    client_id: String,
    client_secret: String,
    user: UpstreamUser,
    misbehave: Misbehave,
    rotated: bool,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, UpstreamUser>,
    discovery_fetches: usize,
    jwks_fetches: usize,
    authorize_requests: Vec<HashMap<String, String>>,
    token_requests: Vec<HashMap<String, String>>,
    token_auth: Vec<&'static str>,
}

type Shared = web::Data<Mutex<State>>;

/// A running provider; it stops when dropped.
pub struct OidcStandIn {
    pub issuer: String,
    state: Shared,
    server: ServerHandle,
}

impl Drop for OidcStandIn {
    fn drop(&mut self) {
        // `stop` sends the command at once; nobody needs to wait for it.
        drop(self.server.stop(false));
    }
}

impl OidcStandIn {
    /// Starts on a free port of 127.0.0.1; the issuer is `http://127.0.0.1:PORT`. The user
    /// who signs in is [`UpstreamUser::default`] until [`OidcStandIn::set_user`].
    pub async fn start(client_id: &str, client_secret: &str) -> OidcStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = web::Data::new(Mutex::new(State {
            issuer: issuer.clone(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            ..State::default()
        }));
        let data = state.clone();
        let server = serve(listener, move |cfg| {
            cfg.app_data(data.clone())
                .route("/.well-known/openid-configuration", web::get().to(get_discovery))
                .route("/jwks", web::get().to(get_jwks))
                .route("/authorize", web::get().to(get_authorize))
                .route("/token", web::post().to(post_token))
                .route("/userinfo", web::get().to(get_userinfo));
        });
        OidcStandIn { issuer, state, server }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Who signs in from the next authorization on.
    pub fn set_user(&self, user: UpstreamUser) {
        self.lock().user = user;
    }

    pub fn set_misbehave(&self, m: Misbehave) {
        self.lock().misbehave = m;
    }

    /// From now on publish BOTH keys in the JWKS and sign with the second fixture key (new
    /// kid), to test a relying party's refetch on an unknown kid.
    pub fn rotate_key(&self) {
        self.lock().rotated = true;
    }

    /// How many times /.well-known/openid-configuration was fetched.
    pub fn discovery_fetches(&self) -> usize {
        self.lock().discovery_fetches
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.lock().jwks_fetches
    }

    /// The query parameters of every authorization request, oldest first.
    pub fn authorize_requests(&self) -> Vec<HashMap<String, String>> {
        self.lock().authorize_requests.clone()
    }

    /// The form bodies of the token requests received (to assert that code_verifier was sent, etc.).
    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.lock().token_requests.clone()
    }

    /// How each token request authenticated the client: `client_secret_basic`,
    /// `client_secret_post` or `none`, in the order of [`OidcStandIn::token_requests`].
    pub fn token_auth_methods(&self) -> Vec<&'static str> {
        self.lock().token_auth.clone()
    }
}

/// An issuer URL where nothing listens (bind a port, then drop the listener).
pub fn unreachable_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
}

/// A fixture key: its `kid`, its signer and its public JWK.
struct Key {
    kid: &'static str,
    encoding: EncodingKey,
    jwk: Value,
}

/// Parsed once for the whole test binary: the first key signs until `rotate_key`.
fn keys() -> &'static [Key; 2] {
    static KEYS: OnceLock<[Key; 2]> = OnceLock::new();
    KEYS.get_or_init(|| [key("k1", FIXTURE_KEY), key("k2", SECOND_KEY)])
}

fn key(kid: &'static str, pem: &str) -> Key {
    let public = josekit::jws::RS256
        .key_pair_from_pem(pem.as_bytes())
        .unwrap()
        .to_jwk_public_key();
    let jwk = json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": public.parameter("n").unwrap(), "e": public.parameter("e").unwrap(),
    });
    Key {
        kid,
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        jwk,
    }
}

async fn get_discovery(state: Shared) -> HttpResponse {
    let mut s = state.lock().unwrap();
    s.discovery_fetches += 1;
    let iss = &s.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "iat", "iss", "name", "nonce", "sub"],
    }))
}

async fn get_jwks(state: Shared) -> HttpResponse {
    let mut s = state.lock().unwrap();
    s.jwks_fetches += 1;
    let published = if s.rotated { 2 } else { 1 };
    let keys: Vec<&Value> = keys()[..published].iter().map(|k| &k.jwk).collect();
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

/// Every problem is a 400 page, never a redirect: the redirect URI is not yet trusted.
async fn get_authorize(query: web::Query<HashMap<String, String>>, state: Shared) -> HttpResponse {
    let q = query.into_inner();
    let mut s = state.lock().unwrap();
    s.authorize_requests.push(q.clone());
    let param = |name: &str| q.get(name).map(String::as_str).unwrap_or_default();
    let problem = if param("client_id") != s.client_id {
        Some("unknown client_id")
    } else if param("response_type") != "code" {
        Some("response_type must be code")
    } else if !param("scope").split(' ').any(|v| v == "openid") {
        Some("scope must contain openid")
    } else if param("code_challenge").is_empty() || param("code_challenge_method") != "S256" {
        Some("PKCE with S256 is required")
    } else {
        None
    };
    let redirect = Url::parse(param("redirect_uri"));
    let (Ok(redirect), None) = (redirect, problem) else {
        return HttpResponse::BadRequest().body(problem.unwrap_or("redirect_uri must be an absolute URL"));
    };
    let state_param = q.get("state").map(String::as_str);
    if s.misbehave == Misbehave::Deny {
        let error = [
            ("error", "access_denied"),
            ("error_description", "The user denied access."),
        ];
        return redirect_with(redirect, &error, state_param);
    }
    let code = format!("4/{}", uuid::Uuid::new_v4().simple());
    let grant = Grant {
        redirect_uri: param("redirect_uri").into(),
        challenge: param("code_challenge").into(),
        nonce: q.get("nonce").cloned(),
        user: s.user.clone(),
    };
    s.codes.insert(code.clone(), grant);
    redirect_with(redirect, &[("code", &code)], state_param)
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.6; errors as §5.2.
async fn post_token(req: HttpRequest, form: web::Form<HashMap<String, String>>, state: Shared) -> HttpResponse {
    let form = form.into_inner();
    let misbehave = {
        let mut s = state.lock().unwrap();
        s.token_requests.push(form.clone());
        s.misbehave
    };
    if let Misbehave::Slow(d) = misbehave {
        tokio::time::sleep(d).await;
    }
    if misbehave == Misbehave::InvalidJson {
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"access_token": "#);
    }
    let mut s = state.lock().unwrap();
    let (client_id, secret, method) = match basic_credentials(&req) {
        Some(_) if form.contains_key("client_secret") => {
            s.token_auth.push("none");
            return oauth_error(400, "invalid_request", "more than one client authentication method");
        }
        Some((id, secret)) => (id, Some(secret), "client_secret_basic"),
        None => match form.get("client_secret") {
            Some(secret) => (
                form.get("client_id").cloned().unwrap_or_default(),
                Some(secret.clone()),
                "client_secret_post",
            ),
            None => (form.get("client_id").cloned().unwrap_or_default(), None, "none"),
        },
    };
    s.token_auth.push(method);
    let form_id_differs = form.get("client_id").is_some_and(|id| *id != client_id);
    if client_id != s.client_id || secret.as_deref() != Some(s.client_secret.as_str()) || form_id_differs {
        let mut res = oauth_error(401, "invalid_client", "client authentication failed");
        // RFC 6749 §5.2: a client that used Basic is told the scheme to use.
        if method == "client_secret_basic" {
            let challenge = HeaderValue::from_static(r#"Basic realm="token""#);
            res.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        return res;
    }
    let param = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if param("grant_type") != "authorization_code" {
        return oauth_error(400, "unsupported_grant_type", "only authorization_code is supported");
    }
    let Some(grant) = s.codes.remove(param("code")) else {
        return oauth_error(400, "invalid_grant", "the code is unknown or was already used");
    };
    if grant.redirect_uri != param("redirect_uri") {
        return oauth_error(
            400,
            "invalid_grant",
            "redirect_uri differs from the authorization request",
        );
    }
    if !pkce_matches(form.get("code_verifier"), &grant.challenge) {
        return oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge");
    }
    let access_token = format!("ya29.{}", uuid::Uuid::new_v4().simple());
    let id_token = id_token(&s, &grant, &access_token);
    s.access_tokens.insert(access_token.clone(), grant.user);
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": id_token,
            "scope": "openid email profile",
        }))
}

fn id_token(s: &State, grant: &Grant, access_token: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let iat = now - if s.misbehave == Misbehave::Expired { 3600 } else { 0 };
    let mut claims = json!({
        "iss": if s.misbehave == Misbehave::WrongIssuer { "https://evil.example" } else { s.issuer.as_str() },
        "sub": grant.user.sub,
        "aud": if s.misbehave == Misbehave::WrongAudience { "someone-else" } else { s.client_id.as_str() },
        "iat": iat,
        "exp": iat + 300,
        // OpenID Connect Core §3.1.3.6, as Google sends it.
        "at_hash": URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]),
        "email_verified": grant.user.email_verified,
    });
    let nonce = match s.misbehave {
        Misbehave::WrongNonce => Some("not-the-nonce"),
        _ => grant.nonce.as_deref(),
    };
    let optional = [
        ("nonce", nonce),
        ("email", grant.user.email.as_deref()),
        ("name", grant.user.name.as_deref()),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            claims[name] = value.into();
        }
    }
    if grant.user.email.is_none() {
        claims.as_object_mut().unwrap().remove("email_verified");
    }
    let signing = usize::from(s.rotated);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(keys()[signing].kid.into());
    // WrongKey: the other key signs, under the header's kid.
    let signer = signing ^ usize::from(s.misbehave == Misbehave::WrongKey);
    jsonwebtoken::encode(&header, &claims, &keys()[signer].encoding).unwrap()
}

async fn get_userinfo(req: HttpRequest, state: Shared) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let s = state.lock().unwrap();
    let Some(user) = token.and_then(|t| s.access_tokens.get(t)) else {
        return HttpResponse::Unauthorized()
            .insert_header(("www-authenticate", r#"Bearer error="invalid_token""#))
            .finish();
    };
    HttpResponse::Ok().json(json!({
        "sub": user.sub, "email": user.email, "email_verified": user.email_verified, "name": user.name,
    }))
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status).unwrap();
    HttpResponse::build(status)
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "error": error, "error_description": description }))
}
