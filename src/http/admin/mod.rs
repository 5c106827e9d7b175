//! `/admin/...`: the administrator's console. Every handler starts with [`admin`] (pages) or
//! [`admin_form`] (form posts): signed in through the normal hosted login, with the `admin`
//! role, and for posts a valid CSRF token. Destructive actions also call [`reauth`].

mod audit;
mod clients;
mod dashboard;
mod keys;
mod roles;
mod sessions;
mod users;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use secrecy::SecretString;

use super::oidc::authorize::live_session;
use super::pages;
use super::session::TypedSession;
use crate::service::sessions::LiveSession;
use crate::startup::AppState;
use crate::views::admin::Chrome;

/// A sign-in older than this must confirm the password before a destructive action.
pub const REAUTH_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// The signed-in administrator, and what every admin page's layout needs.
pub struct Admin {
    pub live: LiveSession,
    pub csrf: String,
}

impl Admin {
    /// The id audit events carry as the actor.
    pub fn id(&self) -> &str {
        &self.live.user.id
    }

    /// The layout's data, with `active` naming the current section of the navigation.
    pub fn chrome(&self, active: &'static str) -> Chrome {
        Chrome {
            active,
            admin_email: self.live.user.email.clone(),
            csrf: self.csrf.clone(),
            needs_reauth: self.needs_reauth(),
        }
    }

    /// Whether destructive actions must ask for the password again.
    pub fn needs_reauth(&self) -> bool {
        crate::service::now() - self.live.session.auth_time > REAUTH_AFTER
    }
}

pub fn is_admin(live: &LiveSession) -> bool {
    live.user.roles.split_whitespace().any(|r| r == "admin")
}

/// For pages: the administrator, or the login page (not signed in) or a 403 page (signed in
/// without the `admin` role).
pub async fn admin(state: &AppState, session: &TypedSession) -> Result<Admin, HttpResponse> {
    let Some(live) = live_session(state, session).await else {
        return Err(pages::see_other("/login"));
    };
    if !is_admin(&live) {
        return Err(pages::message(
            StatusCode::FORBIDDEN,
            "Administrators only",
            "Your account does not have access to the admin console.",
        ));
    }
    let Ok(csrf) = session.csrf_token() else {
        return Err(went_wrong());
    };
    Ok(Admin { live, csrf })
}

/// For form posts: [`admin`], then the CSRF token (a missing or wrong one is refused with
/// a 400 page, and nothing is done).
pub async fn admin_form(state: &AppState, session: &TypedSession, csrf_token: &str) -> Result<Admin, HttpResponse> {
    let admin = admin(state, session).await?;
    if !session.csrf_matches(csrf_token) {
        return Err(pages::message(
            StatusCode::BAD_REQUEST,
            "Form expired",
            "This form expired or did not come from the admin console. Go back, reload and try again.",
        ));
    }
    Ok(admin)
}

/// Shown when a destructive action needs the password and it is missing or wrong.
pub const REAUTH_MESSAGE: &str = "Confirm your password to do this: your sign-in is more than 10 minutes old.";

/// For destructive actions: when the admin's sign-in is older than [`REAUTH_AFTER`], the form's
/// `password` must be the admin's password (checked with the same argon2 bound as sign-in).
/// `Err` carries [`REAUTH_MESSAGE`] for the page to show beside the kept form.
pub async fn reauth(state: &AppState, admin: &Admin, password: Option<&str>) -> Result<(), &'static str> {
    if !admin.needs_reauth() {
        return Ok(());
    }
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(REAUTH_MESSAGE);
    };
    let hash = admin.live.user.password_hash.clone();
    match state.hasher.verify(SecretString::from(password.to_owned()), hash).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(REAUTH_MESSAGE),
        Err(err) => {
            tracing::error!(error = %err, "re-authentication failed");
            Err(REAUTH_MESSAGE)
        }
    }
}

pub fn went_wrong() -> HttpResponse {
    pages::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong",
        "Please try again.",
    )
}

/// The admin route table: each section registers its own routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    dashboard::routes(cfg);
    users::routes(cfg);
    roles::routes(cfg);
    clients::routes(cfg);
    sessions::routes(cfg);
    keys::routes(cfg);
    audit::routes(cfg);
    cfg.route("/static/admin.css", web::get().to(get_stylesheet));
}

async fn get_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(crate::views::admin::STYLESHEET)
}
