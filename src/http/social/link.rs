//! The pages that finish a pending link (an upstream identity whose address has an account)
//! by password or by a mailed link, and "Link" / "Unlink" on the account page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::{link_refusal, start, unknown_provider, went_wrong};
use crate::http::extract::origin;
use crate::http::login::{INVALID_CREDENTIALS, TOO_MANY_ATTEMPTS, continue_after_sign_in};
use crate::http::session::TypedSession;
use crate::http::{pages, rate_limit};
use crate::service::identities::{self, LinkError};
use crate::service::login::LoginError;
use crate::startup::AppState;
use crate::views::{LinkAccountPage, LinkConfirmPage};

/// The pending link of this browser, or the page to show instead.
async fn pending(state: &AppState, session: &TypedSession) -> Result<(identities::Pending, String), HttpResponse> {
    let expired = || {
        pages::message(
            StatusCode::BAD_REQUEST,
            "Nothing to link",
            "This request expired or was not started in this browser. Start again from the sign-in page.",
        )
    };
    let Some(id) = session.pending_link() else {
        return Err(expired());
    };
    match identities::pending(state, &id).await {
        Ok(Some(p)) => {
            let display = state
                .upstreams
                .find(&p.link.provider)
                .map(|u| u.config.display_name.clone())
                .unwrap_or_else(|| p.link.provider.clone());
            Ok((p, display))
        }
        Ok(None) => Err(expired()),
        Err(err) => {
            tracing::error!(error = %err, "pending link could not be read");
            Err(went_wrong())
        }
    }
}

async fn link_page(state: &AppState, session: &TypedSession, error: Option<&str>) -> HttpResponse {
    let (p, display) = match pending(state, session).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let Ok(csrf) = session.csrf_token() else {
        return went_wrong();
    };
    let page = LinkAccountPage {
        csrf,
        provider: display,
        email: p.user.email,
        can_mail: p.user.email_verified,
        error: error.map(str::to_owned),
    };
    pages::render(StatusCode::OK, &page)
}

pub async fn get_link(state: web::Data<AppState>, session: TypedSession) -> HttpResponse {
    link_page(&state, &session, None).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    csrf_token: String,
    #[serde(default)]
    password: String,
}

pub async fn post_link(
    state: web::Data<AppState>,
    session: TypedSession,
    req: HttpRequest,
    form: web::Form<LinkForm>,
) -> HttpResponse {
    if let Some(refusal) = rate_limit::over_limit(&state, &req).await {
        return refusal;
    }
    let form = form.into_inner();
    if !session.csrf_matches(&form.csrf_token) {
        return link_page(&state, &session, Some("This form expired. Please try again.")).await;
    }
    let Some(id) = session.pending_link() else {
        return link_page(&state, &session, None).await;
    };
    let password = SecretString::from(form.password);
    match identities::link_with_password(&state, &id, password, origin(&req, &state)).await {
        Ok((row, request)) => match session.sign_in(&row.id) {
            Ok(()) => continue_after_sign_in(request.as_deref().unwrap_or_default()),
            Err(_) => went_wrong(),
        },
        Err(LinkError::Login(LoginError::TooManyAttempts)) => {
            let message = format!("{INVALID_CREDENTIALS}. {TOO_MANY_ATTEMPTS}");
            link_page(&state, &session, Some(&message)).await
        }
        Err(LinkError::Login(LoginError::InvalidCredentials)) => {
            link_page(&state, &session, Some(INVALID_CREDENTIALS)).await
        }
        Err(err) => pages::message(StatusCode::CONFLICT, "Could not link", &link_refusal(err, "upstream")),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

pub async fn post_link_email(
    state: web::Data<AppState>,
    session: TypedSession,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    if let Some(refusal) = rate_limit::over_limit(&state, &req).await {
        return refusal;
    }
    if !session.csrf_matches(&form.csrf_token) {
        return link_page(&state, &session, Some("This form expired. Please try again.")).await;
    }
    let (p, display) = match pending(&state, &session).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let Some(id) = session.pending_link() else {
        return link_page(&state, &session, None).await;
    };
    match identities::mail_link(&state, &id, &display).await {
        Ok(true) => pages::message(
            StatusCode::OK,
            "Check your email",
            &format!(
                "We sent a link to {}. Open it in this browser within 15 minutes to link {display} to your account.",
                p.user.email
            ),
        ),
        Ok(false) => link_page(&state, &session, None).await,
        Err(err) => {
            tracing::error!(error = %err, "link mail could not be queued");
            went_wrong()
        }
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn get_link_confirm(
    state: web::Data<AppState>,
    session: TypedSession,
    query: web::Query<TokenQuery>,
) -> HttpResponse {
    let (_, display) = match pending(&state, &session).await {
        Ok(found) => found,
        Err(_) => {
            return pages::message(
                StatusCode::BAD_REQUEST,
                "Open this link where you started",
                "This link works only in the browser where you started signing in, within 15 minutes. \
                 Start again from the sign-in page there.",
            );
        }
    };
    let Ok(csrf) = session.csrf_token() else {
        return went_wrong();
    };
    let page = LinkConfirmPage {
        csrf,
        token: query.into_inner().token,
        provider: display,
    };
    pages::render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf_token: String,
    token: String,
}

pub async fn post_link_confirm(
    state: web::Data<AppState>,
    session: TypedSession,
    req: HttpRequest,
    form: web::Form<ConfirmForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let id = session
        .pending_link()
        .filter(|_| session.csrf_matches(&form.csrf_token));
    let Some(id) = id else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "Form expired",
            "This form expired or was opened in another browser. Start again from the sign-in page.",
        );
    };
    match identities::link_with_token(&state, &id, &form.token, origin(&req, &state)).await {
        Ok((row, request)) => match session.sign_in(&row.id) {
            Ok(()) => continue_after_sign_in(request.as_deref().unwrap_or_default()),
            Err(_) => went_wrong(),
        },
        Err(err) => pages::message(
            StatusCode::BAD_REQUEST,
            "Could not link",
            &link_refusal(err, "upstream"),
        ),
    }
}

#[derive(Deserialize)]
pub struct ProviderForm {
    csrf_token: String,
    provider: String,
}

/// "Link <provider>" on the account page: an upstream sign-in that ends in a link.
pub async fn post_account_link(
    state: web::Data<AppState>,
    session: TypedSession,
    req: HttpRequest,
    form: web::Form<ProviderForm>,
) -> HttpResponse {
    let live = match crate::http::account::signed_in(&state, &session, Some(&form.csrf_token)).await {
        Ok(live) => live,
        Err(res) => return res,
    };
    let Some(upstream) = state.upstreams.find(&form.provider) else {
        return unknown_provider();
    };
    start(&state, &session, &req, upstream, None, Some(live.user.id)).await
}

pub async fn post_account_unlink(
    state: web::Data<AppState>,
    session: TypedSession,
    form: web::Form<ProviderForm>,
) -> HttpResponse {
    let live = match crate::http::account::signed_in(&state, &session, Some(&form.csrf_token)).await {
        Ok(live) => live,
        Err(res) => return res,
    };
    let result = identities::unlink(&state, &live.user.id, &form.provider).await;
    crate::http::account::outcome(&state, &session, result, "Unlinked.").await
}
