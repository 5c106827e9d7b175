//! Rendering pages: HTML with the security headers every page carries.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;

use crate::views::MessagePage;

/// `frame-ancestors 'none'` and `X-Frame-Options: DENY` stop clickjacking of the login and
/// consent forms; the rest allows only our own stylesheet and scripts (the admin console's
/// copy buttons; no inline script anywhere). No `form-action`: browsers apply it to the
/// redirect back to the client after a form post.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

pub fn secure(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-store"));
    builder
}

pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => secure(HttpResponse::build(status))
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "template failed to render");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub fn message(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let page = MessagePage {
        title: title.into(),
        message: message.into(),
        is_error: !status.is_success(),
    };
    render(status, &page)
}

/// 303 See Other: after a POST the browser follows with a GET (RFC 9700 §4.11).
pub fn see_other(location: &str) -> HttpResponse {
    secure(HttpResponse::SeeOther())
        .insert_header(("Location", location))
        .finish()
}
