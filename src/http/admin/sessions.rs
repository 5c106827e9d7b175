//! Admin console: sessions (`/admin/sessions`): every user's live sessions, and ending one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::pages;
use super::super::session::TypedSession;
use super::dashboard::{failure, when};
use super::{Admin, admin, admin_form};
use crate::error::AppError;
use crate::service::admin::sessions;
use crate::startup::AppState;
use crate::views::admin::sessions::{SessionLine, SessionsPage};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/sessions", web::get().to(get_sessions))
        .route("/admin/sessions/revoke", web::post().to(post_revoke));
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn get_sessions(state: web::Data<AppState>, session: TypedSession, query: web::Query<PageQuery>) -> HttpResponse {
    match admin(&state, &session).await {
        Ok(admin) => page(&state, &admin, query.after.as_deref(), None).await,
        Err(res) => res,
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf_token: String,
    session: String,
}

/// Not a re-authenticated action: ending a session takes access away, it gives none.
#[tracing::instrument(skip_all)]
async fn post_revoke(state: web::Data<AppState>, session: TypedSession, form: web::Form<RevokeForm>) -> HttpResponse {
    let admin = match admin_form(&state, &session, &form.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    if let Err(err) = sessions::revoke(&state, admin.id(), &form.session).await {
        return failure(err);
    }
    if form.session == admin.live.session.id {
        // The administrator ended their own session: this browser is signed out.
        return pages::see_other("/login");
    }
    page(
        &state,
        &admin,
        None,
        Some("Session ended; its refresh tokens are revoked."),
    )
    .await
}

async fn page(state: &AppState, admin: &Admin, after: Option<&str>, notice: Option<&str>) -> HttpResponse {
    let (listed, error) = match sessions::list(state, after).await {
        Ok(listed) => (listed, None),
        // A tampered page link: show the first page and say so.
        Err(AppError::Invalid(message)) => match sessions::list(state, None).await {
            Ok(listed) => (listed, Some(message)),
            Err(err) => return failure(err),
        },
        Err(err) => return failure(err),
    };
    let lines = listed
        .rows
        .into_iter()
        .map(|e| SessionLine {
            current: e.session.id == admin.live.session.id,
            email: e.email,
            user_agent: e.session.user_agent.unwrap_or_else(|| "unknown".into()),
            ip: e.session.ip.unwrap_or_else(|| "unknown".into()),
            created: when(e.session.created_at),
            last_seen: when(e.session.last_seen_at),
            id: e.session.id,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let view = SessionsPage {
        chrome: admin.chrome("sessions"),
        sessions: lines,
        next_href: listed.next.map(|c| format!("/admin/sessions?after={c}")),
        paged: after.is_some_and(|a| !a.is_empty()) && error.is_none(),
        notice: notice.map(str::to_owned),
        error,
    };
    pages::render(status, &view)
}
