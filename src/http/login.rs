//! The hosted login page (`/login`) and the consent page (`/consent`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::extract::{origin, pairs};
use super::oidc::authorize::{live_session, respond};
use super::pages;
use super::rate_limit;
use super::session::TypedSession;
use crate::service::login::{self, LoginError};
use crate::service::oidc::authorize::{self, to_query, without_prompt};
use crate::service::{clients, sessions};
use crate::startup::AppState;
use crate::views::{ConsentPage, LoginPage, describe_scope};

/// Shown for every failed sign-in, whatever the reason.
pub const INVALID_CREDENTIALS: &str = "Invalid email or password";

/// Added while failures delay or lock an address: it is said whatever the password was, so
/// the lock never tells anyone whether a guess was right.
pub const TOO_MANY_ATTEMPTS: &str = "Too many attempts — try again later.";

#[derive(Deserialize)]
pub struct RequestQuery {
    #[serde(default)]
    request: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: String,
    email: String,
    password: String,
    #[serde(default)]
    request: String,
}

fn value<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The name of the client a resumed request is for, for display only.
async fn client_name(state: &AppState, request: &str) -> Option<String> {
    let params = pairs(request.as_bytes());
    let id = value(&params, "client_id")?;
    clients::find(&state.db, id).await.ok().flatten().map(|c| c.name)
}

pub(super) async fn login_page(
    state: &AppState,
    session: &TypedSession,
    request: String,
    email: String,
    error: Option<&str>,
) -> HttpResponse {
    let csrf = match session.csrf_token() {
        Ok(t) => t,
        Err(_) => {
            return pages::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again.",
            );
        }
    };
    let signup_href = crate::service::accounts::signup_open(state).then(|| {
        if request.is_empty() {
            "/signup".to_owned()
        } else {
            format!("/signup?{}", to_query(&[("request".into(), request.clone())]))
        }
    });
    let page = LoginPage {
        client_name: client_name(state, &request).await,
        csrf,
        email,
        error: error.map(str::to_owned),
        signup_href,
        providers: super::social::buttons(state, &request),
        request,
    };
    pages::render(StatusCode::OK, &page)
}

/// Where a browser goes once signed in (by password or upstream): back to the authorization
/// request it came with, with `prompt=login` and `max_age` satisfied, or to its account.
pub(super) fn continue_after_sign_in(request: &str) -> HttpResponse {
    if request.is_empty() {
        return pages::see_other("/account");
    }
    let params = authorize::after_login(&pairs(request.as_bytes()));
    pages::see_other(&format!("/authorize?{}", to_query(&params)))
}

#[tracing::instrument(skip_all)]
pub async fn get_login(
    state: web::Data<AppState>,
    query: web::Query<RequestQuery>,
    session: TypedSession,
) -> HttpResponse {
    let request = query.into_inner().request;
    let hint = value(&pairs(request.as_bytes()), "login_hint")
        .unwrap_or_default()
        .to_owned();
    login_page(&state, &session, request, hint, None).await
}

#[tracing::instrument(skip_all)]
pub async fn post_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
    session: TypedSession,
) -> HttpResponse {
    if let Some(refusal) = rate_limit::over_limit(&state, &req).await {
        return refusal;
    }
    let form = form.into_inner();
    if !session.csrf_matches(&form.csrf_token) {
        let msg = "Your sign-in form expired. Please try again.";
        return login_page(&state, &session, form.request, form.email, Some(msg)).await;
    }
    let result = login::password_login(
        &state.db,
        &state.hasher,
        &form.email,
        SecretString::from(form.password),
        origin(&req, &state),
        &state.settings,
    )
    .await;
    match result {
        Ok(row) => {
            if session.sign_in(&row.id).is_err() {
                return pages::message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Please try again.",
                );
            }
            continue_after_sign_in(&form.request)
        }
        Err(LoginError::InvalidCredentials) => {
            login_page(&state, &session, form.request, form.email, Some(INVALID_CREDENTIALS)).await
        }
        Err(LoginError::TooManyAttempts) => {
            let msg = format!("{INVALID_CREDENTIALS}. {TOO_MANY_ATTEMPTS}");
            login_page(&state, &session, form.request, form.email, Some(&msg)).await
        }
        Err(LoginError::Other(err)) => {
            tracing::error!(error = %err, "sign-in failed");
            let msg = "Sign-in is temporarily unavailable. Please try again.";
            login_page(&state, &session, form.request, form.email, Some(msg)).await
        }
    }
}

#[derive(Deserialize)]
pub struct ConsentForm {
    csrf_token: String,
    request: String,
    decision: String,
}

#[tracing::instrument(skip_all)]
pub async fn get_consent(
    state: web::Data<AppState>,
    query: web::Query<RequestQuery>,
    session: TypedSession,
) -> HttpResponse {
    let request = query.into_inner().request;
    let Some(live) = live_session(&state, &session).await else {
        return pages::see_other(&format!("/login?{}", to_query(&[("request".into(), request)])));
    };
    let auth = match authorize::validate(&state, pairs(request.as_bytes())).await {
        Ok(a) => a,
        Err(decision) => return respond(decision),
    };
    let Ok(csrf) = session.csrf_token() else {
        return pages::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Please try again.",
        );
    };
    let page = ConsentPage {
        client_name: auth.client.name.clone(),
        user_email: live.user.email,
        scopes: auth.scope.iter().filter_map(describe_scope).collect(),
        request,
        csrf,
    };
    pages::render(StatusCode::OK, &page)
}

#[tracing::instrument(skip_all)]
pub async fn post_consent(
    state: web::Data<AppState>,
    form: web::Form<ConsentForm>,
    session: TypedSession,
) -> HttpResponse {
    let form = form.into_inner();
    if !session.csrf_matches(&form.csrf_token) {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "Form expired",
            "This form expired. Go back to the application and try again.",
        );
    }
    let Some(live) = live_session(&state, &session).await else {
        return pages::see_other(&format!("/login?{}", to_query(&[("request".into(), form.request)])));
    };
    let auth = match authorize::validate(&state, pairs(form.request.as_bytes())).await {
        Ok(a) => a,
        Err(decision) => return respond(decision),
    };
    if form.decision != "approve" {
        return pages::see_other(&authorize::denied(&state, &auth));
    }
    if let Err(err) = authorize::grant_consent(&state, &live.user.id, &auth).await {
        tracing::error!(error = %err, "consent could not be stored");
        return pages::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Something went wrong",
            "Please try again.",
        );
    }
    let params = without_prompt(&auth.params, "consent");
    pages::see_other(&format!("/authorize?{}", to_query(&params)))
}

/// Ends the browser's session, if it has one. Shared with logout.
pub async fn end_browser_session(state: &AppState, session: &TypedSession) {
    if let Some(live) = live_session(state, session).await
        && let Err(err) = sessions::end(&state.db, &live.session.id, &live.user.id, "logout").await
    {
        tracing::error!(error = %err, "session could not be ended");
    }
    session.sign_out();
}
