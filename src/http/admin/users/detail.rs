//! Admin console: one user's page, and what can be done to the user from it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::{Admin, admin, admin_form, reauth, went_wrong};
use super::{Fields, notice, timestamp};
use crate::error::AppError;
use crate::http::pages;
use crate::http::session::TypedSession;
use crate::service::admin::users::{actions, detail};
use crate::startup::AppState;
use crate::views::admin::users::{
    ConsentLine, EventLine, IdentityLine, ProfileFields, RoleChoice, SessionLine, UserPage,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users/{id}", web::get().to(get_user))
        .route("/admin/users/{id}/profile", web::post().to(post_profile))
        .route("/admin/users/{id}/roles", web::post().to(post_roles))
        .route("/admin/users/{id}/disable", web::post().to(post_disable))
        .route("/admin/users/{id}/enable", web::post().to(post_enable))
        .route("/admin/users/{id}/unlock", web::post().to(post_unlock))
        .route("/admin/users/{id}/reset-password", web::post().to(post_reset_password))
        .route("/admin/users/{id}/sign-out", web::post().to(post_sign_out))
        .route("/admin/users/{id}/delete", web::post().to(post_delete));
}

/// The user page. `kept` is what the profile form held when it was refused.
async fn page(
    state: &AppState,
    admin: &Admin,
    id: &str,
    done: Option<&str>,
    error: Option<String>,
    kept: Option<ProfileFields>,
) -> HttpResponse {
    let loaded = detail::load(&state.db, id, state.settings.clock.now()).await;
    let d = match loaded {
        Ok(Some(d)) => d,
        Ok(None) => {
            return pages::message(
                StatusCode::NOT_FOUND,
                "No such user",
                "There is no such user (it may have been deleted).",
            );
        }
        Err(err) => {
            tracing::error!(error = ?err, "loading a user failed");
            return went_wrong();
        }
    };
    let lock = d.failures.as_ref().map(|f| match f.blocked_until {
        Some(until) if d.locked => format!("Sign-in is refused until {}.", timestamp(until)),
        _ => format!("{} failed sign-ins counted.", f.failures),
    });
    let u = d.user;
    let view = UserPage {
        chrome: admin.chrome("users"),
        form: kept.unwrap_or_else(|| ProfileFields {
            name: u.name.clone(),
            email: u.email.clone(),
            verified: u.email_verified,
        }),
        current_email: u.email,
        disabled: u.disabled,
        has_password: u.has_password,
        created: u.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        lock,
        locked: d.locked,
        roles: d
            .roles
            .into_iter()
            .map(|r| RoleChoice {
                checked: u.roles.contains(&r.name),
                name: r.name,
                description: r.description,
            })
            .collect(),
        sessions: d
            .sessions
            .into_iter()
            .map(|s| SessionLine {
                created: timestamp(s.created_at),
                last_seen: timestamp(s.last_seen_at),
                ip: s.ip.unwrap_or_default(),
                user_agent: s.user_agent.unwrap_or_default().chars().take(80).collect(),
            })
            .collect(),
        identities: d
            .identities
            .into_iter()
            .map(|i| IdentityLine {
                provider: i.provider,
                email: i.email.unwrap_or_default(),
                last_used: timestamp(i.last_used_at),
            })
            .collect(),
        consents: d
            .consents
            .into_iter()
            .map(|(c, client)| ConsentLine {
                client,
                scope: c.scope,
                granted: timestamp(c.granted_at),
            })
            .collect(),
        events: d
            .events
            .into_iter()
            .map(|e| EventLine {
                at: timestamp(e.occurred_at),
                kind: e.kind,
                actor: e.actor.unwrap_or_default(),
                detail: e.detail,
            })
            .collect(),
        id: u.id,
        notice: notice(done),
        error,
    };
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    pages::render(status, &view)
}

/// After an action: back to the page with a notice, or the page again with the refusal.
async fn outcome(
    state: &AppState,
    admin: &Admin,
    id: &str,
    result: Result<(), AppError>,
    done: &str,
    kept: Option<ProfileFields>,
) -> HttpResponse {
    match result {
        Ok(()) => pages::see_other(&format!("/admin/users/{id}?done={done}")),
        Err(AppError::NotFound(m)) => pages::message(StatusCode::NOT_FOUND, "No such user", &m),
        Err(AppError::Invalid(m) | AppError::Conflict(m)) => page(state, admin, id, None, Some(m), kept).await,
        Err(err) => {
            tracing::error!(error = ?err, "admin user action failed");
            went_wrong()
        }
    }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn get_user(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> HttpResponse {
    match admin(&state, &session).await {
        Ok(admin) => page(&state, &admin, &path, query.done.as_deref(), None, None).await,
        Err(res) => res,
    }
}

/// The fields of the one-button forms: the CSRF token, and the password for re-authentication.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    password: Option<String>,
}

/// The administrator for a post, or the answer: a refused guard, or (`destructive`) the page
/// again with the re-authentication message, nothing done.
async fn guard(
    state: &AppState,
    session: &TypedSession,
    id: &str,
    csrf: &str,
    password: Option<&str>,
    destructive: bool,
    kept: Option<ProfileFields>,
) -> Result<Admin, HttpResponse> {
    let admin = admin_form(state, session, csrf).await?;
    if destructive && let Err(message) = reauth(state, &admin, password).await {
        return Err(page(state, &admin, id, None, Some(message.to_owned()), kept).await);
    }
    Ok(admin)
}

#[tracing::instrument(skip_all)]
async fn post_profile(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let f = Fields(form.into_inner());
    let kept = || ProfileFields {
        name: f.get("name").to_owned(),
        email: f.get("email").to_owned(),
        verified: f.checked("verified"),
    };
    // A new address is a way into the account (a reset link goes there): re-authenticate.
    let password = Some(f.get("password")).filter(|p| !p.is_empty());
    let admin = match guard(
        &state,
        &session,
        &path,
        f.get("csrf_token"),
        password,
        true,
        Some(kept()),
    )
    .await
    {
        Ok(a) => a,
        Err(res) => return res,
    };
    let profile = actions::Profile {
        name: f.get("name").to_owned(),
        email: f.get("email").to_owned(),
        verified: f.checked("verified"),
    };
    let result = actions::update_profile(&state, admin.id(), &path, profile).await;
    outcome(&state, &admin, &path, result, "profile", Some(kept())).await
}

#[tracing::instrument(skip_all)]
async fn post_roles(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let f = Fields(form.into_inner());
    // Granting `admin` hands over the console: re-authenticate.
    let password = Some(f.get("password")).filter(|p| !p.is_empty());
    let admin = match guard(&state, &session, &path, f.get("csrf_token"), password, true, None).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let result = actions::set_roles(&state, admin.id(), &path, f.all("role")).await;
    outcome(&state, &admin, &path, result, "roles", None).await
}

/// What a one-button action does, and whether it needs re-authentication.
#[derive(Clone, Copy)]
enum Action {
    Disable,
    Enable,
    Unlock,
    ResetPassword,
    SignOut,
}

async fn act(state: &AppState, session: &TypedSession, id: &str, form: ActionForm, action: Action) -> HttpResponse {
    let destructive = matches!(action, Action::Disable);
    let admin = match guard(
        state,
        session,
        id,
        &form.csrf_token,
        form.password.as_deref(),
        destructive,
        None,
    )
    .await
    {
        Ok(a) => a,
        Err(res) => return res,
    };
    let actor = admin.id();
    let (result, done) = match action {
        Action::Disable => (actions::set_disabled(state, actor, id, true).await, "disabled"),
        Action::Enable => (actions::set_disabled(state, actor, id, false).await, "enabled"),
        Action::Unlock => (actions::unlock(state, actor, id).await, "unlocked"),
        Action::ResetPassword => (actions::send_password_reset(state, actor, id).await, "reset"),
        Action::SignOut => (actions::sign_out_everywhere(state, actor, id).await, "signed-out"),
    };
    outcome(state, &admin, id, result, done, None).await
}

type Post = (
    web::Data<AppState>,
    TypedSession,
    web::Path<String>,
    web::Form<ActionForm>,
);

async fn post_disable((state, session, path, form): Post) -> HttpResponse {
    act(&state, &session, &path, form.into_inner(), Action::Disable).await
}

async fn post_enable((state, session, path, form): Post) -> HttpResponse {
    act(&state, &session, &path, form.into_inner(), Action::Enable).await
}

async fn post_unlock((state, session, path, form): Post) -> HttpResponse {
    act(&state, &session, &path, form.into_inner(), Action::Unlock).await
}

async fn post_reset_password((state, session, path, form): Post) -> HttpResponse {
    act(&state, &session, &path, form.into_inner(), Action::ResetPassword).await
}

async fn post_sign_out((state, session, path, form): Post) -> HttpResponse {
    act(&state, &session, &path, form.into_inner(), Action::SignOut).await
}

#[tracing::instrument(skip_all)]
async fn post_delete((state, session, path, form): Post) -> HttpResponse {
    let form = form.into_inner();
    let admin = match guard(
        &state,
        &session,
        &path,
        &form.csrf_token,
        form.password.as_deref(),
        true,
        None,
    )
    .await
    {
        Ok(a) => a,
        Err(res) => return res,
    };
    match actions::delete(&state, admin.id(), &path).await {
        Ok(_) => pages::see_other("/admin/users?done=deleted"),
        Err(err) => outcome(&state, &admin, &path, Err(err), "deleted", None).await,
    }
}
