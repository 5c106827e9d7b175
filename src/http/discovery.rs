//! OpenID Connect Discovery 1.0 / RFC 8414 metadata and the JWKS (RFC 7517).

use actix_web::http::header::{self, CacheControl, CacheDirective, ETag, EntityTag, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::startup::AppState;

/// How long verifiers may cache the JWKS. Rotations publish a key before it signs
/// (`LATCHKEY_KEY_PREPUBLISH`), so set that at least this long for verifiers that do not
/// refetch on an unknown `kid`.
pub const JWKS_MAX_AGE: u32 = 300;

/// The discovery document: only what this server really supports.
pub fn document(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": crate::domain::SCOPES,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "email", "email_verified", "name", "roles"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}

pub async fn get_openid_configuration(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
        .content_type("application/json")
        .body(state.discovery.clone())
}

pub async fn get_jwks(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let keys = state.keys.current();
    let etag = EntityTag::new_strong(keys.etag().trim_matches('"').to_owned());
    let cache = CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(JWKS_MAX_AGE)]);
    // RFC 9110 §13.1.2: a matching If-None-Match gets 304 without the body.
    let not_modified = match req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(v) if v.trim() == "*" => true,
        Some(_) => match <IfNoneMatch as header::Header>::parse(&req) {
            Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&etag)),
            _ => false,
        },
        None => false,
    };
    if not_modified {
        return HttpResponse::NotModified()
            .insert_header(ETag(etag))
            .insert_header(cache)
            .finish();
    }
    HttpResponse::Ok()
        .insert_header(ETag(etag))
        .insert_header(cache)
        .content_type("application/json")
        .body(keys.jwks())
}
