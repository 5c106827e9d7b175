//! A stand-in for GitHub: the OAuth web flow (github.com/login/oauth/...) and the two REST
//! calls a "sign in with GitHub" needs (api.github.com/user and /user/emails), with GitHub's
//! quirks, since GitHub is OAuth 2.0 without OpenID Connect:
//! - the token endpoint answers form-encoded unless asked for JSON, and its errors come with
//!   HTTP 200;
//! - the API refuses requests without a `User-Agent` (403);
//! - `/user` shows no email when the user keeps theirs private, and `/user/emails` is a 404
//!   unless the token has the `user:email` (or `user`) scope.
//!
//! ```ignore
//! let github = GithubStandIn::start("client-id", "client-secret").await;
//! let app = spawn_issuer_app(&[("GITHUB_URL", &github.base_url), ("GITHUB_API_URL", &github.api_url)]).await;
//! ```

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Mutex;

use actix_web::dev::ServerHandle;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use url::Url;

use super::standin_http::{basic_credentials, pkce_matches, redirect_with, serve};

const TOKEN_ERRORS_DOC: &str =
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";

#[derive(Clone, Debug, PartialEq)]
pub struct GithubUser {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
    pub emails: Vec<GithubEmail>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GithubEmail {
    pub email: String,
    pub primary: bool,
    pub verified: bool,
}

impl Default for GithubUser {
    fn default() -> GithubUser {
        GithubUser {
            id: 583231,
            login: "octocat".into(),
            name: Some("The Octocat".into()),
            emails: vec![GithubEmail {
                email: "octocat@example.com".into(),
                primary: true,
                verified: true,
            }],
        }
    }
}

/// What a code stands for until it is redeemed.
struct Grant {
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    user: GithubUser,
}

#[derive(Default)]
struct State {
    client_id: String,
    client_secret: String,
    user: GithubUser,
    deny: bool,
    codes: HashMap<String, Grant>,
    /// Access token -> the user and the granted scopes (comma-separated, as GitHub writes them).
    tokens: HashMap<String, (GithubUser, String)>,
    authorize_requests: Vec<HashMap<String, String>>,
    token_requests: Vec<HashMap<String, String>>,
    api_requests: Vec<(String, HashMap<String, String>)>,
}

type Shared = web::Data<Mutex<State>>;

/// A running GitHub; it stops when dropped.
pub struct GithubStandIn {
    /// Plays `https://github.com`.
    pub base_url: String,
    /// Plays `https://api.github.com`.
    pub api_url: String,
    state: Shared,
    server: ServerHandle,
}

impl Drop for GithubStandIn {
    fn drop(&mut self) {
        // `stop` sends the command at once; nobody needs to wait for it.
        drop(self.server.stop(false));
    }
}

impl GithubStandIn {
    /// Starts on a free port of 127.0.0.1. The user who signs in is [`GithubUser::default`]
    /// until [`GithubStandIn::set_user`].
    pub async fn start(client_id: &str, client_secret: &str) -> GithubStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = web::Data::new(Mutex::new(State {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            ..State::default()
        }));
        let data = state.clone();
        let server = serve(listener, move |cfg| {
            cfg.app_data(data.clone())
                .route("/login/oauth/authorize", web::get().to(get_authorize))
                .route("/login/oauth/access_token", web::post().to(post_access_token))
                .route("/api/user", web::get().to(get_user))
                .route("/api/user/emails", web::get().to(get_user_emails));
        });
        GithubStandIn {
            api_url: format!("{base_url}/api"),
            base_url,
            state,
            server,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Who signs in from the next authorization on.
    pub fn set_user(&self, user: GithubUser) {
        self.lock().user = user;
    }

    /// Whether the user refuses at GitHub's authorization page.
    pub fn set_deny(&self, deny: bool) {
        self.lock().deny = deny;
    }

    /// The query parameters of every authorization request, oldest first.
    pub fn authorize_requests(&self) -> Vec<HashMap<String, String>> {
        self.lock().authorize_requests.clone()
    }

    /// The form bodies of the token requests, oldest first.
    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.lock().token_requests.clone()
    }

    /// Every API call: its path (without `/api`) and its `authorization`, `user-agent` and
    /// `accept` headers when present.
    pub fn api_requests(&self) -> Vec<(String, HashMap<String, String>)> {
        self.lock().api_requests.clone()
    }
}

/// GitHub shows an error page (not a redirect) for an unknown client; the redirect URI is
/// required here because the stand-in has no registered callback to fall back on.
async fn get_authorize(query: web::Query<HashMap<String, String>>, state: Shared) -> HttpResponse {
    let q = query.into_inner();
    let mut s = state.lock().unwrap();
    s.authorize_requests.push(q.clone());
    let param = |name: &str| q.get(name).map(String::as_str).unwrap_or_default();
    if param("client_id") != s.client_id {
        return HttpResponse::NotFound().body("Not Found");
    }
    let Ok(redirect) = Url::parse(param("redirect_uri")) else {
        return HttpResponse::BadRequest().body("redirect_uri must be an absolute URL");
    };
    let challenge = q.get("code_challenge").cloned();
    if challenge.is_some() && param("code_challenge_method") != "S256" {
        return HttpResponse::BadRequest().body("code_challenge_method must be S256");
    }
    let state_param = q.get("state").map(String::as_str);
    if s.deny {
        let error = [
            ("error", "access_denied"),
            ("error_description", "The user has denied your application access."),
            (
                "error_uri",
                "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied",
            ),
        ];
        return redirect_with(redirect, &error, state_param);
    }
    // GitHub writes granted scopes comma-separated, whatever separator the request used.
    let scope: Vec<&str> = param("scope").split([' ', ',']).filter(|v| !v.is_empty()).collect();
    let code = uuid::Uuid::new_v4().simple().to_string()[..20].to_owned();
    let grant = Grant {
        redirect_uri: param("redirect_uri").into(),
        challenge,
        scope: scope.join(","),
        user: s.user.clone(),
    };
    s.codes.insert(code.clone(), grant);
    redirect_with(redirect, &[("code", &code)], state_param)
}

/// Every failure is an HTTP 200 with an `error` field, as GitHub does it.
async fn post_access_token(req: HttpRequest, form: web::Form<HashMap<String, String>>, state: Shared) -> HttpResponse {
    let form = form.into_inner();
    let mut s = state.lock().unwrap();
    s.token_requests.push(form.clone());
    let (client_id, secret) = basic_credentials(&req).unwrap_or_else(|| {
        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        (field("client_id"), field("client_secret"))
    });
    let as_json = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let answer = |pairs: Vec<(&str, Value)>| token_answer(as_json, pairs);
    let error = |error: &str, description: &str, anchor: &str| {
        answer(vec![
            ("error", error.into()),
            ("error_description", description.into()),
            ("error_uri", format!("{TOKEN_ERRORS_DOC}/#{anchor}").into()),
        ])
    };
    if client_id != s.client_id || secret != s.client_secret {
        let description = "The client_id and/or client_secret passed are incorrect.";
        return error(
            "incorrect_client_credentials",
            description,
            "incorrect-client-credentials",
        );
    }
    let bad_code = || {
        let description = "The code passed is incorrect or expired.";
        error("bad_verification_code", description, "bad-verification-code")
    };
    let Some(grant) = form.get("code").and_then(|c| s.codes.remove(c)) else {
        return bad_code();
    };
    // GitHub makes redirect_uri optional here, but checks it when given.
    if form.get("redirect_uri").is_some_and(|r| *r != grant.redirect_uri) {
        let description = "The redirect_uri MUST match the registered callback URL for this application.";
        return error("redirect_uri_mismatch", description, "redirect-uri-mismatch");
    }
    if let Some(challenge) = &grant.challenge
        && !pkce_matches(form.get("code_verifier"), challenge)
    {
        return bad_code();
    }
    let token = format!("gho_{}", uuid::Uuid::new_v4().simple());
    s.tokens.insert(token.clone(), (grant.user, grant.scope.clone()));
    answer(vec![
        ("access_token", token.into()),
        ("token_type", "bearer".into()),
        ("scope", grant.scope.into()),
    ])
}

/// JSON when the client asked for it, otherwise GitHub's default, a form-encoded body.
fn token_answer(as_json: bool, pairs: Vec<(&str, Value)>) -> HttpResponse {
    if as_json {
        let body: serde_json::Map<String, Value> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        return HttpResponse::Ok().json(body);
    }
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        body.append_pair(k, v.as_str().unwrap_or_default());
    }
    HttpResponse::Ok()
        .content_type("application/x-www-form-urlencoded; charset=utf-8")
        .body(body.finish())
}

/// Why the API refuses a call.
enum Refusal {
    NoUserAgent,
    NoToken,
    BadToken,
}

impl Refusal {
    fn response(self) -> HttpResponse {
        match self {
            Refusal::NoUserAgent => HttpResponse::Forbidden().content_type("text/plain").body(
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header \
                 (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).",
            ),
            Refusal::NoToken => api_error(401, "Requires authentication"),
            Refusal::BadToken => api_error(401, "Bad credentials"),
        }
    }
}

/// Records the call, then checks `User-Agent` and the token the way the API does, in that
/// order. Gives the user and the granted scopes.
fn authenticate(req: &HttpRequest, s: &mut State) -> Result<(GithubUser, String), Refusal> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let selected = ["authorization", "user-agent", "accept"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), header(name)?.to_owned())))
        .collect();
    let path = req.path().strip_prefix("/api").unwrap_or(req.path()).to_owned();
    s.api_requests.push((path, selected));
    if header("user-agent").is_none_or(str::is_empty) {
        return Err(Refusal::NoUserAgent);
    }
    let token = header("authorization").and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
        known.then(|| token.trim())
    });
    let Some(token) = token else {
        return Err(Refusal::NoToken);
    };
    s.tokens.get(token).cloned().ok_or(Refusal::BadToken)
}

fn api_error(status: u16, message: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status).unwrap();
    HttpResponse::build(code).json(json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    }))
}

async fn get_user(req: HttpRequest, state: Shared) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let (user, scope) = match authenticate(&req, &mut s) {
        Ok(found) => found,
        Err(refusal) => return refusal.response(),
    };
    HttpResponse::Ok()
        .insert_header(("x-oauth-scopes", scope.replace(',', ", ")))
        .json(json!({
            "login": user.login,
            "id": user.id,
            // GitHub's legacy global node id: base64 of "04:User<id>".
            "node_id": STANDARD.encode(format!("04:User{}", user.id)),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", user.id),
            "html_url": format!("https://github.com/{}", user.login),
            "type": "User",
            "site_admin": false,
            "name": user.name,
            // The user keeps their email private, so apps must ask /user/emails.
            "email": null,
            "created_at": "2020-01-01T00:00:00Z",
        }))
}

async fn get_user_emails(req: HttpRequest, state: Shared) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let (user, scope) = match authenticate(&req, &mut s) {
        Ok(found) => found,
        Err(refusal) => return refusal.response(),
    };
    if !scope.split(',').any(|v| v == "user:email" || v == "user") {
        let mut res = api_error(404, "Not Found");
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-accepted-oauth-scopes"),
            actix_web::http::header::HeaderValue::from_static("user, user:email"),
        );
        return res;
    }
    let emails: Vec<Value> = user
        .emails
        .iter()
        .map(|e| {
            let visibility = if e.primary { Some("private") } else { None };
            json!({ "email": e.email, "primary": e.primary, "verified": e.verified, "visibility": visibility })
        })
        .collect();
    HttpResponse::Ok()
        .insert_header(("x-oauth-scopes", scope.replace(',', ", ")))
        .json(emails)
}
