//! Admin console: clients. Thin handlers over `service::clients`, the same functions as
//! `latchkey client create|list|delete|rotate-secret`, so no rule is written twice.

mod form;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{Admin, admin, admin_form, reauth, went_wrong};
use crate::error::AppError;
use crate::http::pages;
use crate::http::session::TypedSession;
use crate::service::admin::clients::integration;
use crate::service::clients::{self, ClientView};
use crate::startup::AppState;
use crate::views::admin::clients::{ClientFields, ClientFormPage, ClientPage, ClientsPage, SCRIPT};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `/new` before `/{id}`: actix tries routes in the order they are registered.
    cfg.route("/admin/clients", web::get().to(get_clients))
        .route("/admin/clients", web::post().to(post_clients))
        .route("/admin/clients/new", web::get().to(get_new_client))
        .route("/admin/clients/{id}", web::get().to(get_client))
        .route("/admin/clients/{id}", web::post().to(post_client))
        .route("/admin/clients/{id}/edit", web::get().to(get_edit_client))
        .route("/admin/clients/{id}/rotate-secret", web::post().to(post_rotate_secret))
        .route("/admin/clients/{id}/delete", web::post().to(post_delete_client))
        .route("/static/admin.js", web::get().to(get_script));
}

/// What a redirect after a change tells the next page; only these words, never free text.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

impl Done {
    fn notice(&self) -> Option<String> {
        match self.done.as_deref() {
            Some("saved") => Some("Changes saved.".into()),
            Some("deleted") => Some("The client was deleted.".into()),
            _ => None,
        }
    }
}

/// Delete and rotate: the CSRF token, and the password when the sign-in is old. The token
/// defaults to empty so a missing one is refused by `admin_form` like a wrong one.
#[derive(Deserialize)]
pub struct DangerForm {
    #[serde(default)]
    csrf_token: String,
    password: Option<String>,
}

/// A refusal the administrator caused is shown with its reason; the rest is logged.
fn failed(err: AppError) -> HttpResponse {
    match err {
        AppError::NotFound(m) => pages::message(StatusCode::NOT_FOUND, "No such client", &m),
        AppError::Invalid(m) | AppError::Conflict(m) => pages::message(StatusCode::BAD_REQUEST, "Not done", &m),
        AppError::Unavailable => went_wrong(),
        AppError::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "admin client action failed");
            went_wrong()
        }
    }
}

/// The reason to show beside a refused form; other failures are pages of their own.
fn form_message(err: &AppError) -> Option<String> {
    match err {
        AppError::Invalid(m) | AppError::Conflict(m) => Some(m.clone()),
        _ => None,
    }
}

fn allow_http(state: &AppState) -> bool {
    // As the CLI: plain-http redirect URIs are for development only.
    !state.settings.is_production()
}

fn form_page(
    state: &AppState,
    admin: &Admin,
    client_id: Option<String>,
    fields: ClientFields,
    error: Option<String>,
) -> HttpResponse {
    let lifetimes = &state.settings.lifetimes;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ClientFormPage {
        chrome: admin.chrome("clients"),
        client_id,
        grants: form::grant_choices(&fields),
        scopes: form::scope_choices(&fields),
        fields,
        default_access_ttl: lifetimes.access_token.as_secs(),
        default_refresh_ttl: lifetimes.refresh_token.as_secs(),
        error,
    };
    pages::render(status, &page)
}

fn client_page(
    state: &AppState,
    admin: &Admin,
    mut client: ClientView,
    notice: Option<String>,
    error: Option<&str>,
) -> HttpResponse {
    let lifetimes = &state.settings.lifetimes;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ClientPage {
        chrome: admin.chrome("clients"),
        secret: client.client_secret.take(),
        integration: integration(&state.settings.issuer, &client),
        client,
        default_access_ttl: lifetimes.access_token.as_secs(),
        default_refresh_ttl: lifetimes.refresh_token.as_secs(),
        notice,
        error: error.map(str::to_owned),
    };
    pages::render(status, &page)
}

#[tracing::instrument(skip_all)]
pub async fn get_clients(state: web::Data<AppState>, session: TypedSession, done: web::Query<Done>) -> HttpResponse {
    let admin = match admin(&state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match clients::list(&state.db).await {
        Ok(list) => pages::render(
            StatusCode::OK,
            &ClientsPage {
                chrome: admin.chrome("clients"),
                clients: list,
                notice: done.notice(),
            },
        ),
        Err(err) => failed(err),
    }
}

#[tracing::instrument(skip_all)]
pub async fn get_new_client(state: web::Data<AppState>, session: TypedSession) -> HttpResponse {
    match admin(&state, &session).await {
        Ok(admin) => form_page(&state, &admin, None, form::blank(), None),
        Err(res) => res,
    }
}

#[tracing::instrument(skip_all)]
pub async fn post_clients(
    state: web::Data<AppState>,
    session: TypedSession,
    posted: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let posted = form::Posted::read(posted.into_inner());
    let admin = match admin_form(&state, &session, &posted.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let f = posted.fields;
    let created = match form::settings(&f) {
        Ok(settings) => {
            clients::create_with(
                &state.db,
                admin.id(),
                form::new_client(&f),
                settings,
                allow_http(&state),
            )
            .await
        }
        Err(err) => Err(err),
    };
    match created {
        Ok(client) => client_page(&state, &admin, client, Some("Client registered.".into()), None),
        Err(err) => match form_message(&err) {
            Some(message) => form_page(&state, &admin, None, f, Some(message)),
            None => failed(err),
        },
    }
}

#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn get_client(
    state: web::Data<AppState>,
    session: TypedSession,
    id: web::Path<String>,
    done: web::Query<Done>,
) -> HttpResponse {
    let admin = match admin(&state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match clients::get(&state.db, &id).await {
        Ok(client) => client_page(&state, &admin, client, done.notice(), None),
        Err(err) => failed(err),
    }
}

#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn get_edit_client(state: web::Data<AppState>, session: TypedSession, id: web::Path<String>) -> HttpResponse {
    let admin = match admin(&state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match clients::get(&state.db, &id).await {
        Ok(client) => form_page(
            &state,
            &admin,
            Some(client.client_id.clone()),
            form::fields_of(&client),
            None,
        ),
        Err(err) => failed(err),
    }
}

#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn post_client(
    state: web::Data<AppState>,
    session: TypedSession,
    id: web::Path<String>,
    posted: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let posted = form::Posted::read(posted.into_inner());
    let admin = match admin_form(&state, &session, &posted.csrf_token).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let mut f = posted.fields;
    let updated = match form::settings(&f) {
        Ok(settings) => clients::update(&state.db, admin.id(), &id, form::edit(&f), settings, allow_http(&state)).await,
        Err(err) => Err(err),
    };
    match updated {
        Ok(client) => pages::see_other(&format!("/admin/clients/{}?done=saved", client.client_id)),
        Err(err) => {
            let Some(message) = form_message(&err) else {
                return failed(err);
            };
            // The type is not part of the edit form; show the stored one.
            match clients::get(&state.db, &id).await {
                Ok(client) => {
                    f.public = client.public;
                    form_page(&state, &admin, Some(client.client_id), f, Some(message))
                }
                Err(err) => failed(err),
            }
        }
    }
}

/// The administrator, for a destructive action on client `id`: CSRF checked and, for an old
/// sign-in, the password; otherwise the answer to give (the client page with the message).
async fn confirmed(
    state: &AppState,
    session: &TypedSession,
    id: &str,
    form: &DangerForm,
) -> Result<crate::http::admin::Admin, HttpResponse> {
    let admin = admin_form(state, session, &form.csrf_token).await?;
    if let Err(message) = reauth(state, &admin, form.password.as_deref()).await {
        return Err(match clients::get(&state.db, id).await {
            Ok(client) => client_page(state, &admin, client, None, Some(message)),
            Err(err) => failed(err),
        });
    }
    Ok(admin)
}

#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn post_rotate_secret(
    state: web::Data<AppState>,
    session: TypedSession,
    id: web::Path<String>,
    form: web::Form<DangerForm>,
) -> HttpResponse {
    let admin = match confirmed(&state, &session, &id, &form).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match clients::rotate_secret(&state.db, admin.id(), &id).await {
        Ok(client) => client_page(
            &state,
            &admin,
            client,
            Some("A new secret was issued; the previous one no longer works.".into()),
            None,
        ),
        Err(err) => failed(err),
    }
}

#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn post_delete_client(
    state: web::Data<AppState>,
    session: TypedSession,
    id: web::Path<String>,
    form: web::Form<DangerForm>,
) -> HttpResponse {
    let admin = match confirmed(&state, &session, &id, &form).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match clients::delete(&state.db, admin.id(), &id).await {
        Ok(()) => pages::see_other("/admin/clients?done=deleted"),
        Err(err) => failed(err),
    }
}

async fn get_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(SCRIPT)
}
