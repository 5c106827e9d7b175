//! Admin console: signing keys (`/admin/keys`): list, rotate, retire. Rotating and retiring
//! are destructive (every token's signature depends on them), so both re-authenticate.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::pages;
use super::super::session::TypedSession;
use super::dashboard::failure;
use super::{Admin, admin, admin_form, reauth};
use crate::crypto::keys::{KeyInfo, KeyState};
use crate::error::AppError;
use crate::service::admin::keys;
use crate::startup::AppState;
use crate::views::admin::keys::{KeyLine, KeysPage};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/keys", web::get().to(get_keys))
        .route("/admin/keys/rotate", web::post().to(post_rotate))
        .route("/admin/keys/retire", web::post().to(post_retire));
}

#[tracing::instrument(skip_all)]
async fn get_keys(state: web::Data<AppState>, session: TypedSession) -> HttpResponse {
    match admin(&state, &session).await {
        Ok(admin) => page(&state, &admin, Outcome::Shown).await,
        Err(res) => res,
    }
}

#[derive(Deserialize)]
struct RotateForm {
    csrf_token: String,
    password: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn post_rotate(state: web::Data<AppState>, session: TypedSession, form: web::Form<RotateForm>) -> HttpResponse {
    let admin = match admin_form(&state, &session, &form.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    if let Err(message) = reauth(&state, &admin, form.password.as_deref()).await {
        return page(
            &state,
            &admin,
            Outcome::Refused(StatusCode::BAD_REQUEST, message.into()),
        )
        .await;
    }
    let outcome = match keys::rotate(&state, admin.id()).await {
        Ok(info) => Outcome::Done(match info.state {
            KeyState::Active => format!("Key {} made; it signs new tokens now.", info.kid),
            _ => format!(
                "Key {} made and published; it signs from {}.",
                info.kid,
                info.activates_at.format("%Y-%m-%d %H:%M UTC")
            ),
        }),
        Err(err) => return failure(err),
    };
    page(&state, &admin, outcome).await
}

#[derive(Deserialize)]
struct RetireForm {
    csrf_token: String,
    kid: String,
    password: Option<String>,
}

#[tracing::instrument(skip_all, fields(kid = %form.kid))]
async fn post_retire(state: web::Data<AppState>, session: TypedSession, form: web::Form<RetireForm>) -> HttpResponse {
    let admin = match admin_form(&state, &session, &form.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    if let Err(message) = reauth(&state, &admin, form.password.as_deref()).await {
        return page(
            &state,
            &admin,
            Outcome::Refused(StatusCode::BAD_REQUEST, message.into()),
        )
        .await;
    }
    let outcome = match keys::retire(&state, admin.id(), &form.kid).await {
        Ok(info) => Outcome::Done(format!("Key {} retired: it is gone from the JWKS.", info.kid)),
        Err(AppError::Conflict(why)) => Outcome::Refused(StatusCode::CONFLICT, why),
        Err(err) => return failure(err),
    };
    page(&state, &admin, outcome).await
}

/// What the page reports above the list.
enum Outcome {
    Shown,
    Done(String),
    Refused(StatusCode, String),
}

async fn page(state: &AppState, admin: &Admin, outcome: Outcome) -> HttpResponse {
    let list = match keys::list(state).await {
        Ok(list) => list,
        Err(err) => return failure(err),
    };
    let now = chrono::Utc::now();
    let (status, notice, error) = match outcome {
        Outcome::Shown => (StatusCode::OK, None, None),
        Outcome::Done(message) => (StatusCode::OK, Some(message), None),
        Outcome::Refused(status, message) => (status, None, Some(message)),
    };
    let view = KeysPage {
        chrome: admin.chrome("keys"),
        keys: list.into_iter().map(|k| line(k, now)).collect(),
        prepublish: humantime::format_duration(state.settings.key_prepublish).to_string(),
        notice,
        error,
    };
    pages::render(status, &view)
}

fn line(k: KeyInfo, now: chrono::DateTime<chrono::Utc>) -> KeyLine {
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    KeyLine {
        state: match k.state {
            KeyState::Active => "active",
            KeyState::Published => "published",
            KeyState::Retired => "retired",
        },
        retirable: k.state == KeyState::Published,
        created: fmt(k.created_at),
        activates: fmt(k.activates_at),
        age: age(now - k.created_at),
        kid: k.kid,
    }
}

/// "5 minutes", "3 hours", "12 days": enough to judge whether a key is due for rotation.
fn age(d: chrono::Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.num_days() > 0 {
        plural(d.num_days(), "day")
    } else if d.num_hours() > 0 {
        plural(d.num_hours(), "hour")
    } else if d.num_minutes() > 0 {
        plural(d.num_minutes(), "minute")
    } else {
        "less than a minute".into()
    }
}
