//! Self-service account pages: `/signup`, `/verify-email`, `/forgot-password`,
//! `/reset-password`. Each refused form comes back with its values (never the passwords)
//! and a message saying why.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::pages;
use super::rate_limit;
use super::session::TypedSession;
use crate::service::accounts::{self, FormError, INVALID_LINK, SignupForm};
use crate::service::oidc::authorize::to_query;
use crate::startup::AppState;
use crate::views::{EmailFormPage, ResetPasswordPage, SignupPage};

const CHECK_EMAIL: &str = "Check your email";
const FORM_EXPIRED: &str = "This form expired. Please try again.";

fn trouble() -> HttpResponse {
    pages::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong",
        "Please try again in a moment.",
    )
}

fn login_href(request: &str) -> String {
    if request.is_empty() {
        "/login".into()
    } else {
        format!("/login?{}", to_query(&[("request".into(), request.to_owned())]))
    }
}

#[derive(Deserialize)]
pub struct RequestQuery {
    #[serde(default)]
    request: String,
}

fn signup_page(
    state: &AppState,
    session: &TypedSession,
    request: String,
    email: String,
    name: String,
    error: Option<String>,
) -> HttpResponse {
    let Ok(csrf) = session.csrf_token() else {
        return trouble();
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let min_length = state.settings.password_policy.min_length;
    let login_href = login_href(&request);
    pages::render(
        status,
        &SignupPage {
            csrf,
            providers: super::social::buttons(state, &request),
            request,
            email,
            name,
            error,
            min_length,
            login_href,
        },
    )
}

pub async fn get_signup(
    state: web::Data<AppState>,
    query: web::Query<RequestQuery>,
    session: TypedSession,
) -> HttpResponse {
    if !accounts::signup_open(&state) {
        return pages::message(
            StatusCode::FORBIDDEN,
            "Sign-up is closed",
            "Ask an administrator for an account.",
        );
    }
    signup_page(
        &state,
        &session,
        query.into_inner().request,
        String::new(),
        String::new(),
        None,
    )
}

#[derive(Deserialize)]
pub struct SignupFields {
    csrf_token: String,
    #[serde(default)]
    request: String,
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    password_confirm: String,
}

#[tracing::instrument(skip_all)]
pub async fn post_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignupFields>,
    session: TypedSession,
) -> HttpResponse {
    if let Some(refusal) = rate_limit::over_limit(&state, &req).await {
        return refusal;
    }
    let f = form.into_inner();
    if !session.csrf_matches(&f.csrf_token) {
        return signup_page(&state, &session, f.request, f.email, f.name, Some(FORM_EXPIRED.into()));
    }
    let input = SignupForm {
        email: f.email.clone(),
        name: f.name.clone(),
        password: SecretString::from(f.password),
        confirm: SecretString::from(f.password_confirm),
        request: Some(f.request.clone()),
    };
    match accounts::sign_up(&state, input).await {
        Ok(()) => pages::message(
            StatusCode::OK,
            CHECK_EMAIL,
            "We sent a message to the address you gave. Follow the link in it to finish creating your account.",
        ),
        Err(FormError::Field(message)) => signup_page(&state, &session, f.request, f.email, f.name, Some(message)),
        Err(FormError::Other(err)) => {
            tracing::error!(error = %err, "sign-up failed");
            trouble()
        }
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// With a token: spends it. Without: the form to ask for a new link.
pub async fn get_verify_email(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    session: TypedSession,
) -> HttpResponse {
    let Some(token) = query.into_inner().token else {
        let Ok(csrf) = session.csrf_token() else {
            return trouble();
        };
        return pages::render(StatusCode::OK, &resend_form(csrf));
    };
    match accounts::verify_email(&state, &token).await {
        Ok(Some(Some(request))) => pages::see_other(&login_href(&request)),
        Ok(Some(None)) => pages::message(
            StatusCode::OK,
            "Email address verified",
            "Thank you. You can sign in now.",
        ),
        Ok(None) => match crate::service::account::confirm_email_change(&state, &token).await {
            Ok(true) => pages::message(
                StatusCode::OK,
                "Email address changed",
                "Your account now uses this address. Sign in with it from now on.",
            ),
            Ok(false) => pages::message(StatusCode::BAD_REQUEST, "Link not valid", INVALID_LINK),
            Err(err) => {
                tracing::error!(error = %err, "email change failed");
                trouble()
            }
        },
        Err(err) => {
            tracing::error!(error = %err, "verification failed");
            trouble()
        }
    }
}

fn resend_form(csrf: String) -> EmailFormPage {
    EmailFormPage {
        title: "Verify your email address",
        intro: "Enter your address and we will send you a new verification link.",
        action: "/verify-email",
        button: "Send link",
        csrf,
        email: String::new(),
    }
}

#[derive(Deserialize)]
pub struct EmailFields {
    csrf_token: String,
    email: String,
}

/// The rate limit and CSRF check of the one-field mail forms; `Some` is the refusal to send.
async fn refuse(state: &AppState, req: &HttpRequest, session: &TypedSession, csrf: &str) -> Option<HttpResponse> {
    if let Some(refusal) = rate_limit::over_limit(state, req).await {
        return Some(refusal);
    }
    (!session.csrf_matches(csrf)).then(|| pages::message(StatusCode::BAD_REQUEST, "Form expired", FORM_EXPIRED))
}

/// "Check your email", whatever the address: the mailbox alone learns whether it has an account.
fn check_email(result: Result<(), crate::error::AppError>, sent: &str) -> HttpResponse {
    match result {
        Ok(()) => pages::message(StatusCode::OK, CHECK_EMAIL, sent),
        Err(err) => {
            tracing::error!(error = %err, "mail request failed");
            trouble()
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn post_verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<EmailFields>,
    session: TypedSession,
) -> HttpResponse {
    if let Some(refusal) = refuse(&state, &req, &session, &form.csrf_token).await {
        return refusal;
    }
    let result = accounts::resend_verification(&state, &form.email).await;
    check_email(
        result,
        "If that address has an account waiting for verification, a new link is on its way.",
    )
}

pub async fn get_forgot_password(session: TypedSession) -> HttpResponse {
    let Ok(csrf) = session.csrf_token() else {
        return trouble();
    };
    let page = EmailFormPage {
        title: "Forgot your password?",
        intro: "Enter your address and we will send you a link to choose a new password.",
        action: "/forgot-password",
        button: "Send link",
        csrf,
        email: String::new(),
    };
    pages::render(StatusCode::OK, &page)
}

#[tracing::instrument(skip_all)]
pub async fn post_forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<EmailFields>,
    session: TypedSession,
) -> HttpResponse {
    if let Some(refusal) = refuse(&state, &req, &session, &form.csrf_token).await {
        return refusal;
    }
    let result = accounts::forgot_password(&state, &form.email).await;
    check_email(
        result,
        "If that address has an account, a link to choose a new password is on its way.",
    )
}

fn reset_page(state: &AppState, session: &TypedSession, token: String, error: Option<String>) -> HttpResponse {
    let Ok(csrf) = session.csrf_token() else {
        return trouble();
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    pages::render(
        status,
        &ResetPasswordPage {
            csrf,
            token,
            error,
            min_length: state.settings.password_policy.min_length,
        },
    )
}

pub async fn get_reset_password(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    session: TypedSession,
) -> HttpResponse {
    let token = query.into_inner().token.unwrap_or_default();
    match accounts::reset_link_usable(&state, &token).await {
        Ok(true) => reset_page(&state, &session, token, None),
        Ok(false) => pages::message(StatusCode::BAD_REQUEST, "Link not valid", INVALID_LINK),
        Err(err) => {
            tracing::error!(error = %err, "reset link check failed");
            trouble()
        }
    }
}

#[derive(Deserialize)]
pub struct ResetFields {
    csrf_token: String,
    token: String,
    password: String,
    password_confirm: String,
}

#[tracing::instrument(skip_all)]
pub async fn post_reset_password(
    state: web::Data<AppState>,
    form: web::Form<ResetFields>,
    session: TypedSession,
) -> HttpResponse {
    let f = form.into_inner();
    if !session.csrf_matches(&f.csrf_token) {
        return reset_page(&state, &session, f.token, Some(FORM_EXPIRED.into()));
    }
    let result = accounts::reset_password(
        &state,
        &f.token,
        SecretString::from(f.password),
        SecretString::from(f.password_confirm),
    )
    .await;
    match result {
        Ok(()) => {
            // Every session of the user was just revoked, this browser's included.
            session.sign_out();
            pages::message(
                StatusCode::OK,
                "Password changed",
                "Your new password is set. Sign in with it from now on.",
            )
        }
        Err(FormError::Field(message)) if message == INVALID_LINK => {
            pages::message(StatusCode::BAD_REQUEST, "Link not valid", INVALID_LINK)
        }
        Err(FormError::Field(message)) => reset_page(&state, &session, f.token, Some(message)),
        Err(FormError::Other(err)) => {
            tracing::error!(error = %err, "password reset failed");
            trouble()
        }
    }
}
