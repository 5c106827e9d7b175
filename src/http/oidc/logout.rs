//! `GET|POST /logout`: RP-initiated logout.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::login::end_browser_session;
use crate::http::oidc::authorize::live_session;
use crate::http::pages;
use crate::http::session::TypedSession;
use crate::service::oidc::logout::{self, LogoutRequest};
use crate::startup::AppState;
use crate::views::LogoutPage;

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(flatten)]
    request: LogoutRequest,
    csrf_token: Option<String>,
    confirm: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn get_logout(
    state: web::Data<AppState>,
    query: web::Query<LogoutRequest>,
    session: TypedSession,
) -> HttpResponse {
    run(&state, query.into_inner(), false, &session).await
}

#[tracing::instrument(skip_all)]
pub async fn post_logout(
    state: web::Data<AppState>,
    form: web::Form<LogoutForm>,
    session: TypedSession,
) -> HttpResponse {
    let form = form.into_inner();
    let confirmed = form.confirm.as_deref() == Some("yes");
    if confirmed && !form.csrf_token.as_deref().is_some_and(|t| session.csrf_matches(t)) {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "Form expired",
            "This form expired. Please try again.",
        );
    }
    run(&state, form.request, confirmed, &session).await
}

async fn run(state: &AppState, request: LogoutRequest, confirmed: bool, session: &TypedSession) -> HttpResponse {
    let plan = logout::plan(state, &request).await;
    // Without proof of which client asked, a signed-in user confirms first, so a stray link
    // cannot sign anyone out (§2, "the OP SHOULD ask the End-User").
    if !plan.hint_valid && !confirmed && live_session(state, session).await.is_some() {
        let Ok(csrf) = session.csrf_token() else {
            return pages::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again.",
            );
        };
        let page = LogoutPage {
            csrf,
            post_logout_redirect_uri: request.post_logout_redirect_uri,
            state: request.state,
            client_id: request.client_id,
        };
        return pages::render(StatusCode::OK, &page);
    }
    end_browser_session(state, session).await;
    match plan.redirect {
        Some(url) => pages::see_other(&url),
        None => pages::message(StatusCode::OK, "Signed out", "You are signed out of Latchkey."),
    }
}
