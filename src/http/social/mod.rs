//! Upstream sign-in: `/login/{provider}`, its callback, and the pages that link an upstream
//! identity to an existing account after the browser proves it owns that account.

pub mod link;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::extract::origin;
use super::login::{INVALID_CREDENTIALS, continue_after_sign_in, login_page};
use super::oidc::authorize::live_session;
use super::pages;
use super::session::TypedSession;
use crate::service::identities::{self, LinkError, Resolution};
use crate::service::oidc::authorize::to_query;
use crate::service::upstream::{self, Upstream, UpstreamError};
use crate::startup::AppState;
use crate::views::ProviderButton;

/// The "Continue with ..." buttons of the login and sign-up pages.
pub fn buttons(state: &AppState, request: &str) -> Vec<ProviderButton> {
    state
        .upstreams
        .list()
        .map(|(name, display)| ProviderButton {
            href: if request.is_empty() {
                format!("/login/{name}")
            } else {
                format!("/login/{name}?{}", to_query(&[("request".into(), request.to_owned())]))
            },
            label: display.to_owned(),
        })
        .collect()
}

fn went_wrong() -> HttpResponse {
    pages::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong",
        "Please try again.",
    )
}

fn unknown_provider() -> HttpResponse {
    pages::message(
        StatusCode::NOT_FOUND,
        "Unknown sign-in method",
        "This server does not offer that way to sign in.",
    )
}

/// A callback whose `state` is missing, foreign or spent: possibly a forged request (CSRF),
/// so nothing is done with its code.
fn bad_state() -> HttpResponse {
    pages::message(
        StatusCode::BAD_REQUEST,
        "Sign-in could not be completed",
        "This sign-in response does not belong to a sign-in started in this browser, or it was already used. \
         Nothing was changed. Please start again from the sign-in page.",
    )
}

/// Audits an upstream failure and shows a page that says what the person can do.
async fn failed(state: &AppState, req: &HttpRequest, upstream: &Upstream, err: UpstreamError) -> HttpResponse {
    let display = &upstream.config.display_name;
    let ip = origin(req, state).ip;
    match err {
        UpstreamError::Internal(err) => {
            tracing::error!(error = %err, "upstream sign-in failed");
            went_wrong()
        }
        UpstreamError::NoVerifiedEmail => {
            upstream::record_failure(state, &upstream.config.name, "no verified email", ip).await;
            pages::message(
                StatusCode::FORBIDDEN,
                "No verified email address",
                &format!(
                    "Your {display} account has no verified primary email address, and we need one to sign you in. \
                     Verify your primary address in {display}'s email settings, then try again."
                ),
            )
        }
        UpstreamError::Unavailable(reason) | UpstreamError::Invalid(reason) => {
            tracing::warn!(provider = %upstream.config.name, %reason, "upstream sign-in failed");
            upstream::record_failure(state, &upstream.config.name, &reason, ip).await;
            pages::message(
                StatusCode::BAD_GATEWAY,
                &format!("{display} sign-in is not working right now"),
                &format!(
                    "We could not complete sign-in with {display}. Please try again later, or sign in another way."
                ),
            )
        }
    }
}

/// Sends the browser to the provider, remembering the `state` in its cookie.
async fn start(
    state: &AppState,
    session: &TypedSession,
    req: &HttpRequest,
    upstream: &Upstream,
    request: Option<String>,
    link_user_id: Option<String>,
) -> HttpResponse {
    match upstream::begin(state, upstream, request, link_user_id).await {
        Ok(started) => match session.set_upstream_state(&started.state) {
            Ok(()) => pages::see_other(&started.url),
            Err(_) => went_wrong(),
        },
        Err(err) => failed(state, req, upstream, err).await,
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    request: String,
}

#[tracing::instrument(skip_all, fields(provider = %path))]
pub async fn get_start(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
    session: TypedSession,
    req: HttpRequest,
) -> HttpResponse {
    let Some(upstream) = state.upstreams.find(&path) else {
        return unknown_provider();
    };
    // Each start writes a row: the per-IP budget of the sign-in forms applies.
    if let Some(refusal) = super::rate_limit::over_limit(&state, &req).await {
        return refusal;
    }
    start(&state, &session, &req, upstream, Some(query.into_inner().request), None).await
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[tracing::instrument(skip_all, fields(provider = %path))]
pub async fn get_callback(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
    session: TypedSession,
    req: HttpRequest,
) -> HttpResponse {
    let Some(upstream) = state.upstreams.find(&path) else {
        return unknown_provider();
    };
    let query = query.into_inner();
    let presented = query.state.unwrap_or_default();
    if !session.take_upstream_state(&presented) {
        upstream::record_failure(&state, &upstream.config.name, "state mismatch", origin(&req, &state).ip).await;
        return bad_state();
    }
    let login = match upstream::take(&state, &presented).await {
        Ok(Some(login)) if login.provider == upstream.config.name => login,
        Ok(_) => return bad_state(),
        Err(err) => return failed(&state, &req, upstream, err.into()).await,
    };
    let request = login.request.clone().unwrap_or_default();
    let display = upstream.config.display_name.clone();
    match (query.error.as_deref(), query.code) {
        (Some("access_denied"), _) => {
            let message =
                format!("Signing in with {display} was cancelled. Choose another way to sign in, or try again.");
            login_page(&state, &session, request, String::new(), Some(&message)).await
        }
        (Some(code), _) => {
            let reason = format!("the provider answered {code}");
            failed(&state, &req, upstream, UpstreamError::Unavailable(reason)).await
        }
        (None, None) => bad_state(),
        (None, Some(code)) => {
            let link_user_id = login.link_user_id.clone();
            let profile = match upstream::finish(&state, upstream, login, &code).await {
                Ok(profile) => profile,
                Err(err) => return failed(&state, &req, upstream, err).await,
            };
            match link_user_id {
                Some(user_id) => link_to_account(&state, &session, &user_id, &display, profile).await,
                None => sign_in(&state, &session, &req, &display, profile, request).await,
            }
        }
    }
}

async fn sign_in(
    state: &AppState,
    session: &TypedSession,
    req: &HttpRequest,
    display: &str,
    profile: upstream::Profile,
    request: String,
) -> HttpResponse {
    let resumed = (!request.is_empty()).then(|| request.clone());
    match identities::sign_in(state, profile, resumed, origin(req, state)).await {
        Ok(Resolution::SignedIn { session: row, .. }) => match session.sign_in(&row.id) {
            Ok(()) => continue_after_sign_in(&request),
            Err(_) => went_wrong(),
        },
        Ok(Resolution::ProofNeeded { pending_id }) => match session.set_pending_link(&pending_id) {
            Ok(()) => pages::see_other("/login/link"),
            Err(_) => went_wrong(),
        },
        Ok(Resolution::UnverifiedCollision) => pages::message(
            StatusCode::CONFLICT,
            "An account with this email exists",
            &format!(
                "{display} has not verified this email address, so it cannot be linked to the existing account. \
                 Sign in with your password, then link {display} from your account page."
            ),
        ),
        Ok(Resolution::SignupRefused(reason)) => pages::message(
            StatusCode::FORBIDDEN,
            "No account for this address",
            &format!("There is no account for your {display} address, and a new one cannot be made: {reason}"),
        ),
        Ok(Resolution::NoEmail) => pages::message(
            StatusCode::FORBIDDEN,
            "No email address",
            &format!("{display} did not share an email address with us, and we need one to sign you in."),
        ),
        Ok(Resolution::Disabled) => pages::message(
            StatusCode::FORBIDDEN,
            "Sign-in is not possible",
            "This account cannot sign in. Contact the administrator if you think this is a mistake.",
        ),
        Err(err) => {
            tracing::error!(error = %err, "upstream sign-in could not be recorded");
            went_wrong()
        }
    }
}

/// The end of "Link <provider>" on the account page: same user, still signed in.
async fn link_to_account(
    state: &AppState,
    session: &TypedSession,
    user_id: &str,
    display: &str,
    profile: upstream::Profile,
) -> HttpResponse {
    let Some(live) = live_session(state, session).await.filter(|l| l.user.id == user_id) else {
        return bad_state();
    };
    let result = identities::link_to_account(state, user_id, profile).await;
    let (notice, error) = match result {
        Ok(()) => (Some(format!("{display} is linked to your account.")), None),
        Err(e) => (None, Some(link_refusal(e, display))),
    };
    super::account::page(state, session, &live, notice.as_deref(), error).await
}

fn link_refusal(err: LinkError, display: &str) -> String {
    match err {
        LinkError::LinkedElsewhere => format!("This {display} account is already linked to another account."),
        LinkError::ProviderTaken => {
            format!("Your account already has a {display} account linked. Unlink it first.")
        }
        LinkError::Expired => "This request expired. Please start again.".into(),
        LinkError::Login(_) => INVALID_CREDENTIALS.into(),
        LinkError::Other(err) => {
            tracing::error!(error = %err, "linking failed");
            "Something went wrong. Please try again.".into()
        }
    }
}
