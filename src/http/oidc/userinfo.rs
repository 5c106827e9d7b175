//! `GET|POST /userinfo` with a bearer token (RFC 6750 §2.1 header, §2.2 form body).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::OAuthError;
use crate::http::extract::pairs;
use crate::service::oidc::userinfo;
use crate::startup::AppState;

#[tracing::instrument(skip_all)]
pub async fn get_userinfo(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, OAuthError> {
    answer(&state, &req, None).await
}

#[tracing::instrument(skip_all)]
pub async fn post_userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = if is_form {
        pairs(&body)
            .into_iter()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v)
    } else {
        None
    };
    answer(&state, &req, from_body).await
}

async fn answer(state: &AppState, req: &HttpRequest, from_body: Option<String>) -> Result<HttpResponse, OAuthError> {
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned());
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => return Err(OAuthError::invalid_request("send the token in one place only")),
        (Some(t), None) | (None, Some(t)) => t,
        // RFC 6750 §3.1: no credentials at all gets a bare challenge, without an error code.
        (None, None) => {
            return Ok(HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", r#"Bearer realm="latchkey""#))
                .insert_header(("Cache-Control", "no-store"))
                .finish());
        }
    };
    let claims = userinfo::userinfo(state, &token).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(claims))
}
