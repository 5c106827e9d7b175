//! `/account`: the signed-in user's own profile, password, sessions and deletion.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::oidc::authorize::live_session;
use super::pages;
use super::session::TypedSession;
use crate::service::accounts::FormError;
use crate::service::sessions::LiveSession;
use crate::service::{account, identities};
use crate::startup::AppState;
use crate::views::{AccountPage, IdentityLine, SessionLine};

/// A short description of a browser from its user agent.
fn device(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|b| ua.contains(*b))
        .map(|b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        })
        .unwrap_or("A browser or app");
    let os = ["Windows", "Android", "iPhone", "Mac OS", "Linux"]
        .iter()
        .find(|o| ua.contains(*o))
        .copied();
    match os {
        Some(os) => format!("{browser} on {}", if os == "Mac OS" { "macOS" } else { os }),
        None => browser.to_owned(),
    }
}

pub(super) async fn page(
    state: &AppState,
    session: &TypedSession,
    live: &LiveSession,
    notice: Option<&str>,
    error: Option<String>,
) -> HttpResponse {
    let (Ok(csrf), Ok(rows), Ok(linked)) = (
        session.csrf_token(),
        account::sessions(state, &live.user.id).await,
        identities::list(state, &live.user.id).await,
    ) else {
        return pages::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Something went wrong",
            "Please try again.",
        );
    };
    let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let sessions = rows
        .into_iter()
        .map(|s| SessionLine {
            current: s.id == live.session.id,
            device: device(s.user_agent.as_deref()),
            ip: s.ip.unwrap_or_else(|| "unknown address".into()),
            created: fmt(s.created_at),
            last_seen: fmt(s.last_seen_at),
            id: s.id,
        })
        .collect();
    let display = |name: &str| {
        state
            .upstreams
            .find(name)
            .map_or_else(|| name.to_owned(), |u| u.config.display_name.clone())
    };
    let linkable = state
        .upstreams
        .list()
        .filter(|(name, _)| !linked.iter().any(|i| i.provider == *name))
        .map(|(name, display)| (name.to_owned(), display.to_owned()))
        .collect();
    let identities = linked
        .into_iter()
        .map(|i| IdentityLine {
            display_name: display(&i.provider),
            email: i.email.unwrap_or_default(),
            last_used: fmt(i.last_used_at),
            provider: i.provider,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let view = AccountPage {
        csrf,
        email: live.user.email.clone(),
        name: live.user.name.clone(),
        verified: live.user.email_verified,
        sessions,
        identities,
        is_admin: super::admin::is_admin(live),
        linkable,
        notice: notice.map(str::to_owned),
        error,
    };
    pages::render(status, &view)
}

/// The live session, or the answer to give when there is none or the form is forged.
pub(super) async fn signed_in(
    state: &AppState,
    session: &TypedSession,
    csrf: Option<&str>,
) -> Result<LiveSession, HttpResponse> {
    let Some(live) = live_session(state, session).await else {
        return Err(pages::see_other("/login"));
    };
    if csrf.is_some_and(|t| !session.csrf_matches(t)) {
        return Err(pages::message(
            StatusCode::BAD_REQUEST,
            "Form expired",
            "This form expired. Please try again.",
        ));
    }
    Ok(live)
}

pub(super) async fn outcome(
    state: &AppState,
    session: &TypedSession,
    result: Result<(), FormError>,
    done: &str,
) -> HttpResponse {
    // Re-read the session: a password change may have changed what the page shows.
    let Some(live) = live_session(state, session).await else {
        return pages::see_other("/login");
    };
    match result {
        Ok(()) => page(state, session, &live, Some(done), None).await,
        Err(FormError::Field(message)) => page(state, session, &live, None, Some(message)).await,
        Err(FormError::Other(err)) => {
            tracing::error!(error = %err, "account change failed");
            pages::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Something went wrong",
                "Please try again.",
            )
        }
    }
}

pub async fn get_account(state: web::Data<AppState>, session: TypedSession) -> HttpResponse {
    match signed_in(&state, &session, None).await {
        Ok(live) => page(&state, &session, &live, None, None).await,
        Err(res) => res,
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf_token: String,
    name: String,
}

pub async fn post_name(state: web::Data<AppState>, session: TypedSession, form: web::Form<NameForm>) -> HttpResponse {
    let live = match signed_in(&state, &session, Some(&form.csrf_token)).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    let result = account::rename(&state, &live.user.id, &form.name).await;
    outcome(&state, &session, result, "Your name is saved.").await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf_token: String,
    session: String,
}

pub async fn post_revoke_session(
    state: web::Data<AppState>,
    session: TypedSession,
    form: web::Form<RevokeForm>,
) -> HttpResponse {
    let live = match signed_in(&state, &session, Some(&form.csrf_token)).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    let result = if form.session == "others" {
        account::end_other_sessions(&state, &live.user.id, &live.session.id)
            .await
            .map(|_| ())
    } else {
        account::end_session(&state, &live.user.id, &form.session).await
    };
    outcome(&state, &session, result.map_err(FormError::Other), "Signed out.").await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

pub async fn post_password(
    state: web::Data<AppState>,
    session: TypedSession,
    form: web::Form<PasswordForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let live = match signed_in(&state, &session, Some(&form.csrf_token)).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    let result = account::change_password(
        &state,
        &live,
        SecretString::from(form.current_password),
        SecretString::from(form.new_password),
        SecretString::from(form.new_password_confirm),
    )
    .await;
    outcome(
        &state,
        &session,
        result,
        "Your password is changed. Your other sessions were signed out.",
    )
    .await
}

#[derive(Deserialize)]
pub struct EmailForm {
    csrf_token: String,
    email: String,
    password: String,
}

pub async fn post_email(state: web::Data<AppState>, session: TypedSession, form: web::Form<EmailForm>) -> HttpResponse {
    let form = form.into_inner();
    let live = match signed_in(&state, &session, Some(&form.csrf_token)).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    let result = account::request_email_change(&state, &live, &form.email, SecretString::from(form.password)).await;
    let done = "We sent a link to the new address. Your address changes when you follow it.";
    outcome(&state, &session, result, done).await
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf_token: String,
    password: String,
}

pub async fn post_delete(
    state: web::Data<AppState>,
    session: TypedSession,
    form: web::Form<DeleteForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let live = match signed_in(&state, &session, Some(&form.csrf_token)).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    match account::delete(&state, &live, SecretString::from(form.password)).await {
        Ok(()) => {
            session.sign_out();
            pages::message(
                StatusCode::OK,
                "Account deleted",
                "Your account and everything tied to it are gone.",
            )
        }
        Err(FormError::Field(message)) => page(&state, &session, &live, None, Some(message)).await,
        Err(FormError::Other(err)) => {
            tracing::error!(error = %err, "account deletion failed");
            pages::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Something went wrong",
                "Please try again.",
            )
        }
    }
}
