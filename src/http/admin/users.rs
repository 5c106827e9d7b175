//! Admin console: the user list (search, filters, keyset pages) and user creation. One user's
//! page and its actions are in [`detail`].

mod detail;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::{admin, admin_form, went_wrong};
use crate::error::AppError;
use crate::http::pages;
use crate::http::session::TypedSession;
use crate::service::admin::roles as admin_roles;
use crate::service::admin::users::{self as admin_users, Cursor, Search, SearchBy};
use crate::startup::AppState;
use crate::views::admin::users::{NewUserPage, RoleChoice, UserLine, UsersPage};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(get_users))
        .route("/admin/users/new", web::get().to(get_new_user))
        .route("/admin/users/new", web::post().to(post_new_user));
    detail::routes(cfg);
}

/// The sentence for a `?done=` code; anything else shows nothing (never the raw text).
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "User created.",
        "invited" => "User created, and the invitation is on its way.",
        "deleted" => "User deleted.",
        "profile" => "Profile saved.",
        "roles" => "Roles saved. They appear in the next token the user gets.",
        "disabled" => "User disabled: every session and refresh token ended.",
        "enabled" => "User enabled.",
        "unlocked" => "Failed sign-ins forgotten: the user can sign in again.",
        "reset" => "A password reset link is on its way.",
        "signed-out" => "Every session and refresh token of this user ended.",
        _ => return None,
    })
}

fn timestamp(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A posted form as its pairs, because checkboxes repeat a name (`role=a&role=b`).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

/// What `/admin/users` reads from its query string.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    by: String,
    admin: Option<String>,
    disabled: Option<String>,
    unverified: Option<String>,
    locked: Option<String>,
    after: Option<String>,
    after_id: Option<String>,
    done: Option<String>,
}

/// The list's address for `search`, starting after `after`.
fn list_href(search: &Search, after: Option<&Cursor>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !search.text.is_empty() {
        query.append_pair("q", &search.text);
    }
    if search.by == SearchBy::Name {
        query.append_pair("by", "name");
    }
    for (on, name) in [
        (search.admin, "admin"),
        (search.disabled, "disabled"),
        (search.unverified, "unverified"),
        (search.locked, "locked"),
    ] {
        if on {
            query.append_pair(name, "1");
        }
    }
    if let Some(c) = after {
        query.append_pair("after", &c.key);
        query.append_pair("after_id", &c.id);
    }
    format!("/admin/users?{}", query.finish())
}

#[tracing::instrument(skip_all)]
async fn get_users(state: web::Data<AppState>, session: TypedSession, query: web::Query<ListQuery>) -> HttpResponse {
    let admin = match admin(&state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let q = query.into_inner();
    let search = Search {
        by: if q.by == "name" {
            SearchBy::Name
        } else {
            SearchBy::Email
        },
        text: q.q.trim().to_owned(),
        admin: q.admin.is_some(),
        disabled: q.disabled.is_some(),
        unverified: q.unverified.is_some(),
        locked: q.locked.is_some(),
        after: q.after.map(|key| Cursor {
            key,
            id: q.after_id.unwrap_or_default(),
        }),
    };
    let settings = &state.settings;
    let found = admin_users::search(
        &state.db,
        settings.brute_force.lockout_duration,
        settings.clock.now(),
        search.clone(),
    )
    .await;
    let page = match found {
        Ok(p) => p,
        Err(err) => {
            tracing::error!(error = ?err, "user search failed");
            return went_wrong();
        }
    };
    let view = UsersPage {
        chrome: admin.chrome("users"),
        next_href: page.next.as_ref().map(|c| list_href(&search, Some(c))),
        first_href: search.after.is_some().then(|| list_href(&search, None)),
        text: search.text,
        by_name: search.by == SearchBy::Name,
        admin: search.admin,
        disabled: search.disabled,
        unverified: search.unverified,
        locked: search.locked,
        users: page
            .users
            .into_iter()
            .map(|l| UserLine {
                roles: l.user.roles.join(" "),
                created: l.user.created_at.format("%Y-%m-%d").to_string(),
                id: l.user.id,
                email: l.user.email,
                name: l.user.name,
                verified: l.user.email_verified,
                disabled: l.user.disabled,
                locked: l.locked,
            })
            .collect(),
        notice: notice(q.done.as_deref()),
    };
    pages::render(StatusCode::OK, &view)
}

/// The new-user form, with what was typed and `error` when it was refused.
async fn new_user_page(
    state: &AppState,
    admin: &super::Admin,
    fields: Option<&Fields>,
    error: Option<String>,
) -> HttpResponse {
    let roles = match admin_roles::list(&state.db).await {
        Ok(r) => r,
        Err(err) => {
            tracing::error!(error = ?err, "listing roles failed");
            return went_wrong();
        }
    };
    let chosen = fields.map(|f| f.all("role")).unwrap_or_default();
    let view = NewUserPage {
        chrome: admin.chrome("users"),
        email: fields.map(|f| f.get("email").to_owned()).unwrap_or_default(),
        name: fields.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        verified: fields.is_some_and(|f| f.checked("verified")),
        invite: fields.is_none_or(|f| f.checked("invite")),
        roles: roles
            .into_iter()
            .map(|r| RoleChoice {
                checked: chosen.contains(&r.name),
                name: r.name,
                description: r.description,
            })
            .collect(),
        error,
    };
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    pages::render(status, &view)
}

async fn get_new_user(state: web::Data<AppState>, session: TypedSession) -> HttpResponse {
    match admin(&state, &session).await {
        Ok(admin) => new_user_page(&state, &admin, None, None).await,
        Err(res) => res,
    }
}

#[tracing::instrument(skip_all)]
async fn post_new_user(
    state: web::Data<AppState>,
    session: TypedSession,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let fields = Fields(form.into_inner());
    let admin = match admin_form(&state, &session, fields.get("csrf_token")).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let invite = fields.checked("invite");
    let new = admin_users::actions::NewUser {
        email: fields.get("email").to_owned(),
        name: fields.get("name").to_owned(),
        password: Some(SecretString::from(fields.get("new_password").to_owned())),
        invite,
        verified: fields.checked("verified"),
        roles: fields.all("role"),
    };
    match admin_users::actions::create(&state, admin.id(), new).await {
        Ok(id) => {
            let done = if invite { "invited" } else { "created" };
            pages::see_other(&format!("/admin/users/{id}?done={done}"))
        }
        Err(AppError::Invalid(m) | AppError::Conflict(m) | AppError::NotFound(m)) => {
            new_user_page(&state, &admin, Some(&fields), Some(m)).await
        }
        Err(err) => {
            tracing::error!(error = ?err, "creating a user failed");
            went_wrong()
        }
    }
}
