//! `POST /token`, `POST /revoke`, `POST /introspect`.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::OAuthError;
use crate::http::extract::{client_credentials, form_pairs};
use crate::service::oidc::{introspect, revoke, token};
use crate::startup::AppState;

/// RFC 6749 §5.1: token responses must not be cached.
fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"));
    res
}

fn take(params: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let pos = params.iter().position(|(k, _)| k == name)?;
    Some(params.remove(pos).1)
}

#[tracing::instrument(skip_all)]
pub async fn post_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let mut params = form_pairs(&req, &body)?;
    let presented = client_credentials(&req, &mut params);
    let response = token::exchange(&state, params, presented).await?;
    Ok(no_store(HttpResponse::Ok()).json(response))
}

#[tracing::instrument(skip_all)]
pub async fn post_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let mut params = form_pairs(&req, &body)?;
    let presented = client_credentials(&req, &mut params);
    revoke::revoke(&state, take(&mut params, "token"), presented).await?;
    Ok(no_store(HttpResponse::Ok()).finish())
}

#[tracing::instrument(skip_all)]
pub async fn post_introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let mut params = form_pairs(&req, &body)?;
    let presented = client_credentials(&req, &mut params);
    let answer = introspect::introspect(&state, take(&mut params, "token"), presented).await?;
    Ok(no_store(HttpResponse::Ok()).json(answer))
}
