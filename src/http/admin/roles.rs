//! Admin console: roles (list, create, rename, delete). Granting is on the user page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{Admin, admin, admin_form, reauth, went_wrong};
use crate::error::AppError;
use crate::http::pages;
use crate::http::session::TypedSession;
use crate::service::admin::roles;
use crate::startup::AppState;
use crate::views::admin::roles::{RoleLine, RolesPage};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/roles", web::get().to(get_roles))
        .route("/admin/roles", web::post().to(post_create))
        .route("/admin/roles/{name}/rename", web::post().to(post_rename))
        .route("/admin/roles/{name}/delete", web::post().to(post_delete));
}

/// The sentence for a `?done=` code; anything else shows nothing.
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "Role created.",
        "renamed" => "Role renamed: its holders have it under the new name.",
        "deleted" => "Role deleted, and taken from every user who had it.",
        _ => return None,
    })
}

/// The roles page; `kept` is the create form as typed, when it was refused.
async fn page(
    state: &AppState,
    admin: &Admin,
    done: Option<&str>,
    error: Option<String>,
    kept: Option<&CreateForm>,
) -> HttpResponse {
    let list = match roles::list(&state.db).await {
        Ok(l) => l,
        Err(err) => {
            tracing::error!(error = ?err, "listing roles failed");
            return went_wrong();
        }
    };
    let view = RolesPage {
        chrome: admin.chrome("roles"),
        roles: list
            .into_iter()
            .map(|r| RoleLine {
                builtin: r.name == roles::ADMIN,
                created: r.created_at.format("%Y-%m-%d").to_string(),
                name: r.name,
                description: r.description,
            })
            .collect(),
        name: kept.map(|k| k.name.clone()).unwrap_or_default(),
        description: kept.map(|k| k.description.clone()).unwrap_or_default(),
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

async fn outcome(
    state: &AppState,
    admin: &Admin,
    result: Result<(), AppError>,
    done: &str,
    kept: Option<&CreateForm>,
) -> HttpResponse {
    match result {
        Ok(()) => pages::see_other(&format!("/admin/roles?done={done}")),
        Err(AppError::Invalid(m) | AppError::Conflict(m) | AppError::NotFound(m)) => {
            page(state, admin, None, Some(m), kept).await
        }
        Err(err) => {
            tracing::error!(error = ?err, "admin role action failed");
            went_wrong()
        }
    }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn get_roles(state: web::Data<AppState>, session: TypedSession, query: web::Query<DoneQuery>) -> HttpResponse {
    match admin(&state, &session).await {
        Ok(admin) => page(&state, &admin, query.done.as_deref(), None, None).await,
        Err(res) => res,
    }
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

#[tracing::instrument(skip_all)]
async fn post_create(state: web::Data<AppState>, session: TypedSession, form: web::Form<CreateForm>) -> HttpResponse {
    let admin = match admin_form(&state, &session, &form.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let result = roles::create(&state.db, admin.id(), &form.name, &form.description).await;
    outcome(&state, &admin, result, "created", Some(&form)).await
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_name: String,
    #[serde(default)]
    description: String,
}

#[tracing::instrument(skip_all)]
async fn post_rename(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
    form: web::Form<RenameForm>,
) -> HttpResponse {
    let admin = match admin_form(&state, &session, &form.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let result = roles::rename(&state.db, admin.id(), &path, &form.new_name, &form.description).await;
    outcome(&state, &admin, result, "renamed", None).await
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf_token: String,
    password: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn post_delete(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> HttpResponse {
    let admin = match admin_form(&state, &session, &form.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    // Deleting a role takes it from every holder at once: re-authenticate.
    if let Err(message) = reauth(&state, &admin, form.password.as_deref()).await {
        return page(&state, &admin, None, Some(message.to_owned()), None).await;
    }
    let result = roles::delete(&state.db, admin.id(), &path).await.map(|_| ());
    outcome(&state, &admin, result, "deleted", None).await
}
