//! `GET|POST /authorize`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::extract::pairs;
use crate::http::pages;
use crate::http::session::TypedSession;
use crate::service::oidc::authorize::{self, Decision, to_query};
use crate::service::sessions::{self, LiveSession};
use crate::startup::AppState;

#[tracing::instrument(skip_all)]
pub async fn get_authorize(state: web::Data<AppState>, req: HttpRequest, session: TypedSession) -> HttpResponse {
    run(&state, pairs(req.query_string().as_bytes()), &session).await
}

#[tracing::instrument(skip_all)]
pub async fn post_authorize(state: web::Data<AppState>, body: web::Bytes, session: TypedSession) -> HttpResponse {
    run(&state, pairs(&body), &session).await
}

async fn run(state: &AppState, params: Vec<(String, String)>, session: &TypedSession) -> HttpResponse {
    let request = match authorize::validate(state, params).await {
        Ok(r) => r,
        Err(decision) => return respond(decision),
    };
    let live = live_session(state, session).await;
    respond(authorize::decide(state, request, live).await)
}

/// The browser's live session, if its cookie names one.
pub async fn live_session(state: &AppState, session: &TypedSession) -> Option<LiveSession> {
    let id = session.session_id()?;
    match sessions::current(&state.db, &id).await {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(error = %err, "session lookup failed");
            None
        }
    }
}

pub fn respond(decision: Decision) -> HttpResponse {
    match decision {
        Decision::ErrorPage(message) => pages::message(StatusCode::BAD_REQUEST, "Sign-in request not valid", &message),
        Decision::Redirect(url) => pages::see_other(&url),
        Decision::Login(req) => pages::see_other(&format!(
            "/login?{}",
            to_query(&[("request".into(), to_query(&req.params))])
        )),
        Decision::Consent(req) => pages::see_other(&format!(
            "/consent?{}",
            to_query(&[("request".into(), to_query(&req.params))])
        )),
        Decision::VerifyEmail => pages::message(
            StatusCode::FORBIDDEN,
            "Verify your email address",
            "Your email address is not verified yet. Follow the link in the message we sent you, then try again.",
        ),
    }
}
