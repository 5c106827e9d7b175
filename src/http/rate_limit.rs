//! The per-IP limit on the forms that guess passwords or send mail, checked first by their
//! POST handlers.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse};

use super::extract::origin;
use super::pages;
use crate::service::rate_limit::{self, Verdict};
use crate::startup::AppState;

/// The refusal page when the client's IP has used up its budget, with `Retry-After`
/// (RFC 6585 §4); `None` when the request may go ahead. A database failure lets the
/// request through (logged): the form then fails or succeeds on its own.
pub async fn over_limit(state: &AppState, req: &HttpRequest) -> Option<HttpResponse> {
    let ip = origin(req, state).ip.unwrap_or_else(|| "unknown".to_owned());
    let rate = state.settings.brute_force.login_rate;
    let now = state.settings.clock.now();
    match rate_limit::take(&state.db, &ip, rate, now).await {
        Ok(Verdict::Allowed) => None,
        Ok(Verdict::Limited { retry_after_secs }) => {
            tracing::warn!(ip = %ip, "rate limit reached");
            let mut res = pages::message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "You have sent this form too often. Please wait a minute, then try again.",
            );
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Some(res)
        }
        Err(err) => {
            tracing::error!(error = %err, "rate limit could not be checked");
            None
        }
    }
}
