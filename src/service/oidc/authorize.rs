//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2, OAuth 2.1): validates the
//! request, then decides between the login page, the consent page and a code.

use std::collections::HashMap;

use chrono::Utc;
use diesel::Connection;
use serde_json::json;

use crate::db::models::CodeRow;
use crate::db::{DbError, repo};
use crate::domain::Scope;
use crate::error::AppError;
use crate::service::clients::{self, Client};
use crate::service::sessions::LiveSession;
use crate::startup::AppState;

pub use super::params::{after_login, to_query, with_query, without_prompt};

/// Longest accepted `state`, `nonce`, `login_hint` (bytes): larger values are refused, not cut.
const MAX_PARAM: usize = 2048;
/// Authorization codes live this long (RFC 6749 §4.1.2 recommends at most 10 minutes).
const CODE_TTL_SECS: i64 = 60;

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub resource: Option<String>,
    /// The request's parameters, to come back to `/authorize` after login or consent.
    pub params: Vec<(String, String)>,
}

/// What the endpoint does next.
#[derive(Debug)]
pub enum Decision {
    /// Shown at Latchkey, never redirected: unknown client or redirect URI, or a request
    /// too broken to know where to send the answer.
    ErrorPage(String),
    /// Send the browser to the client (a code, or an RFC 6749 §4.1.2.1 error).
    Redirect(String),
    /// The user must sign in; `params` is the request to resume.
    Login(Box<AuthRequest>),
    /// The user must approve the scopes.
    Consent(Box<AuthRequest>),
    /// The user's email is not verified and the server requires it.
    VerifyEmail,
}

/// The one answer for an unknown client and an unregistered redirect URI (so neither can be
/// probed), shown at the provider.
pub const BAD_CLIENT: &str =
    "This sign-in link is not valid: the application or its return address is not registered with Latchkey.";

/// An error for the client, redirected with `state` and `iss` (RFC 9207).
fn error_redirect(issuer: &str, redirect_uri: &str, state: Option<&str>, code: &str, description: &str) -> Decision {
    let mut params = vec![("error", code), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    Decision::Redirect(with_query(redirect_uri, &params))
}

/// Validates an authorization request given as name/value pairs.
pub async fn validate(state: &AppState, params: Vec<(String, String)>) -> Result<AuthRequest, Decision> {
    let issuer = state.settings.issuer.as_str();
    let mut map: HashMap<&str, &str> = HashMap::new();
    let mut repeated: Vec<&str> = Vec::new();
    for (k, v) in &params {
        if map.insert(k.as_str(), v.as_str()).is_some() {
            repeated.push(k.as_str());
        }
    }
    // RFC 6749 §3.1: a repeated parameter is an error. client_id and redirect_uri first,
    // since until they are known good nothing may be redirected.
    if repeated.iter().any(|k| matches!(*k, "client_id" | "redirect_uri")) {
        return Err(Decision::ErrorPage(BAD_CLIENT.into()));
    }
    let Some(client_id) = map.get("client_id") else {
        return Err(Decision::ErrorPage(
            "This sign-in link is not valid: it names no application.".into(),
        ));
    };
    let client = clients::find(&state.db, client_id)
        .await
        .map_err(|e| Decision::ErrorPage(page_error(e)))?;
    let Some(client) = client else {
        return Err(Decision::ErrorPage(BAD_CLIENT.into()));
    };
    let Some(redirect_uri) = map.get("redirect_uri").map(|s| s.to_string()) else {
        return Err(Decision::ErrorPage(BAD_CLIENT.into()));
    };
    if !client.has_redirect_uri(&redirect_uri) {
        return Err(Decision::ErrorPage(BAD_CLIENT.into()));
    }

    // From here on, errors go back to the client.
    let state_param = map.get("state").map(|s| s.to_string());
    let echo = state_param.as_deref().filter(|s| s.len() <= MAX_PARAM);
    let fail = |code: &str, description: &str| Err(error_redirect(issuer, &redirect_uri, echo, code, description));
    if let Some(name) = repeated.first() {
        return fail("invalid_request", &format!("parameter {name} is repeated"));
    }
    for name in ["state", "nonce", "login_hint", "code_challenge", "scope"] {
        if map.get(name).is_some_and(|v| v.len() > MAX_PARAM) {
            return fail("invalid_request", &format!("parameter {name} is too long"));
        }
    }
    if map.contains_key("request") {
        return fail("request_not_supported", "request objects are not supported");
    }
    if map.contains_key("request_uri") {
        return fail("request_uri_not_supported", "request_uri is not supported");
    }
    match map.get("response_type") {
        Some(&"code") => {}
        None => return fail("invalid_request", "response_type is required"),
        Some(_) => return fail("unsupported_response_type", "only response_type=code is supported"),
    }
    if map.get("response_mode").is_some_and(|m| *m != "query") {
        return fail("invalid_request", "only response_mode=query is supported");
    }
    if !client.allows_grant("authorization_code") {
        return fail(
            "unauthorized_client",
            "this client may not use the authorization code grant",
        );
    }
    let scope = match Scope::parse(map.get("scope").copied().unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return fail("invalid_scope", &e.0),
    };
    // The client's allowed scopes (admin console): others are dropped, so consent, the code
    // and the tokens only ever carry allowed ones; see `Client::permitted_scope`.
    let Some(scope) = client.permitted_scope(scope) else {
        return fail(
            "invalid_scope",
            "none of the requested scopes is allowed for this client",
        );
    };
    // PKCE (RFC 7636): S256 only; required of public clients, enforced for any client that sends it.
    let code_challenge = map.get("code_challenge").map(|s| s.to_string());
    match (&code_challenge, map.get("code_challenge_method")) {
        (None, Some(_)) => return fail("invalid_request", "code_challenge_method without code_challenge"),
        (None, None) if client.public => return fail("invalid_request", "PKCE (code_challenge, S256) is required"),
        (Some(_), Some(&"S256")) => {}
        (Some(_), _) => return fail("invalid_request", "code_challenge_method must be S256"),
        (None, None) => {}
    }
    if let Some(c) = &code_challenge
        && !is_pkce_value(c)
    {
        return fail("invalid_request", "code_challenge is malformed");
    }
    let prompt: Vec<String> = map
        .get("prompt")
        .map(|p| p.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if prompt
        .iter()
        .any(|p| !matches!(p.as_str(), "none" | "login" | "consent" | "select_account"))
    {
        return fail("invalid_request", "prompt must be none, login or consent");
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return fail("invalid_request", "prompt=none cannot be combined with other values");
    }
    let max_age = match map.get("max_age").map(|m| m.parse::<i64>()) {
        None => None,
        Some(Ok(n)) if n >= 0 => Some(n),
        Some(_) => return fail("invalid_request", "max_age must be a non-negative integer"),
    };
    let resource = map.get("resource").map(|s| s.to_string());
    if let Some(r) = &resource
        && !client.resources.contains(r)
    {
        return fail("invalid_target", "resource is not registered for this client");
    }
    Ok(AuthRequest {
        redirect_uri: redirect_uri.clone(),
        scope,
        state: state_param,
        nonce: map.get("nonce").map(|s| s.to_string()),
        code_challenge,
        prompt,
        max_age,
        login_hint: map.get("login_hint").map(|s| s.to_string()),
        resource,
        params: params.clone(),
        client,
    })
}

/// RFC 7636 §4.1-4.2: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn page_error(e: AppError) -> String {
    if let AppError::Internal(cause) = &e {
        tracing::error!(error = format!("{cause:#}"), "authorization failed");
    }
    "Sign-in is temporarily unavailable. Please try again.".into()
}

/// Decides what happens to a validated request for the browser's session (if any).
pub async fn decide(state: &AppState, req: AuthRequest, session: Option<LiveSession>) -> Decision {
    let issuer = state.settings.issuer.as_str();
    let none = req.prompt.iter().any(|p| p == "none");
    let fail = |code: &str, d: &str| error_redirect(issuer, &req.redirect_uri, req.state.as_deref(), code, d);
    let now = Utc::now().naive_utc();
    let fresh_enough = |s: &LiveSession| {
        req.max_age
            .is_none_or(|age| (now - s.session.auth_time).num_seconds() <= age)
    };
    let session = match session {
        Some(s) if !req.prompt.iter().any(|p| p == "login") && fresh_enough(&s) => s,
        _ if none => return fail("login_required", "the user is not signed in"),
        _ => return Decision::Login(Box::new(req)),
    };
    if state.settings.require_verified_email && !session.user.email_verified {
        return if none {
            fail("login_required", "the user's email address is not verified")
        } else {
            Decision::VerifyEmail
        };
    }
    let consented = match consent_covers(state, &session.user.id, &req).await {
        Ok(c) => c,
        Err(e) => return Decision::ErrorPage(page_error(e)),
    };
    if !consented {
        return if none {
            fail("consent_required", "the user has not approved this application")
        } else {
            Decision::Consent(Box::new(req))
        };
    }
    match issue_code(state, &req, &session).await {
        Ok(code) => {
            let mut params = vec![("code", code.as_str())];
            if let Some(s) = req.state.as_deref() {
                params.push(("state", s));
            }
            params.push(("iss", issuer));
            Decision::Redirect(with_query(&req.redirect_uri, &params))
        }
        Err(e) => {
            let _ = page_error(e);
            fail("server_error", "the authorization could not be completed")
        }
    }
}

/// First-party clients need no consent; others need a remembered grant covering the scopes,
/// unless `prompt=consent` asks again.
async fn consent_covers(state: &AppState, user_id: &str, req: &AuthRequest) -> Result<bool, AppError> {
    if req.client.skip_consent {
        return Ok(true);
    }
    if req.prompt.iter().any(|p| p == "consent") {
        return Ok(false);
    }
    let (user, client) = (user_id.to_owned(), req.client.id.clone());
    let row = state
        .db
        .run(move |conn| Ok(repo::consents::find(conn, &user, &client)?))
        .await?;
    Ok(row.is_some_and(|r| req.scope.is_subset(&Scope::from_stored(&r.scope))))
}

/// Stores a single-use code (hashed) bound to client, redirect URI, PKCE challenge and session.
async fn issue_code(state: &AppState, req: &AuthRequest, session: &LiveSession) -> Result<String, AppError> {
    let code = crate::crypto::random_token(32);
    let now = Utc::now().naive_utc();
    let row = CodeRow {
        code_hash: crate::crypto::hash_secret(&code),
        client_id: req.client.id.clone(),
        user_id: session.user.id.clone(),
        session_id: session.session.id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        scope: req.scope.to_string(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        resource: req.resource.clone(),
        auth_time: session.session.auth_time,
        created_at: now,
        expires_at: now + chrono::Duration::seconds(CODE_TTL_SECS),
        used_at: None,
        family_id: None,
        access_jti: None,
        access_expires_at: None,
    };
    let event = crate::service::audit::event(
        "code.issued",
        &row.user_id,
        Some(&row.user_id),
        json!({ "client_id": row.client_id, "scope": row.scope }),
    );
    state
        .db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                repo::codes::insert(conn, &row)?;
                repo::audit::insert(conn, &event)?;
                Ok(())
            })
        })
        .await?;
    Ok(code)
}

/// Records the user's approval of the request's scopes for its client.
pub async fn grant_consent(state: &AppState, user_id: &str, req: &AuthRequest) -> Result<(), AppError> {
    let row = crate::db::models::ConsentRow {
        user_id: user_id.to_owned(),
        client_id: req.client.id.clone(),
        scope: req.scope.to_string(),
        granted_at: Utc::now().naive_utc(),
    };
    let event = crate::service::audit::event(
        "consent.granted",
        user_id,
        Some(user_id),
        json!({ "client_id": row.client_id, "scope": row.scope }),
    );
    state
        .db
        .run(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                repo::consents::upsert(conn, &row)?;
                repo::audit::insert(conn, &event)?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// The denial sent back to the client when the user refuses consent.
pub fn denied(state: &AppState, req: &AuthRequest) -> String {
    match error_redirect(
        &state.settings.issuer,
        &req.redirect_uri,
        req.state.as_deref(),
        "access_denied",
        "the user denied the request",
    ) {
        Decision::Redirect(url) => url,
        _ => req.redirect_uri.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_values_follow_rfc_7636() {
        assert!(is_pkce_value(&"a".repeat(43)));
        assert!(!is_pkce_value(&"a".repeat(42)));
        assert!(!is_pkce_value(&"a".repeat(129)));
        assert!(!is_pkce_value(&format!("{}+", "a".repeat(43))));
    }
}
