//! The HTTP surface: the route table and thin handlers.

mod account;
mod accounts;
mod admin;
pub mod discovery;
mod extract;
mod health;
mod login;
mod middleware;
mod oidc;
mod pages;
mod rate_limit;
mod session;
mod social;

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::{App, HttpResponse, HttpServer, web};
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;

use crate::startup::AppState;

/// The route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/openid-configuration",
        web::get().to(discovery::get_openid_configuration),
    )
    .route("/.well-known/jwks.json", web::get().to(discovery::get_jwks))
    .route("/healthz", web::get().to(health::get_healthz))
    .route("/readyz", web::get().to(health::get_readyz))
    .route("/metrics", web::get().to(health::get_metrics))
    .route("/authorize", web::get().to(oidc::authorize::get_authorize))
    .route("/authorize", web::post().to(oidc::authorize::post_authorize))
    .route("/token", web::post().to(oidc::token::post_token))
    .route("/revoke", web::post().to(oidc::token::post_revoke))
    .route("/introspect", web::post().to(oidc::token::post_introspect))
    .route("/userinfo", web::get().to(oidc::userinfo::get_userinfo))
    .route("/userinfo", web::post().to(oidc::userinfo::post_userinfo))
    .route("/logout", web::get().to(oidc::logout::get_logout))
    .route("/logout", web::post().to(oidc::logout::post_logout))
    .route("/login", web::get().to(login::get_login))
    .route("/login", web::post().to(login::post_login))
    .route("/login/link", web::get().to(social::link::get_link))
    .route("/login/link", web::post().to(social::link::post_link))
    .route("/login/link/email", web::post().to(social::link::post_link_email))
    .route("/login/link/confirm", web::get().to(social::link::get_link_confirm))
    .route("/login/link/confirm", web::post().to(social::link::post_link_confirm))
    .route("/login/{provider}", web::get().to(social::get_start))
    .route("/login/{provider}/callback", web::get().to(social::get_callback))
    .route("/consent", web::get().to(login::get_consent))
    .route("/consent", web::post().to(login::post_consent))
    .route("/account", web::get().to(account::get_account))
    .route("/account/name", web::post().to(account::post_name))
    .route("/account/password", web::post().to(account::post_password))
    .route("/account/email", web::post().to(account::post_email))
    .route("/account/sessions/revoke", web::post().to(account::post_revoke_session))
    .route("/account/delete", web::post().to(account::post_delete))
    .route(
        "/account/identities/link",
        web::post().to(social::link::post_account_link),
    )
    .route(
        "/account/identities/unlink",
        web::post().to(social::link::post_account_unlink),
    )
    .route("/signup", web::get().to(accounts::get_signup))
    .route("/signup", web::post().to(accounts::post_signup))
    .route("/verify-email", web::get().to(accounts::get_verify_email))
    .route("/verify-email", web::post().to(accounts::post_verify_email))
    .route("/forgot-password", web::get().to(accounts::get_forgot_password))
    .route("/forgot-password", web::post().to(accounts::post_forgot_password))
    .route("/reset-password", web::get().to(accounts::get_reset_password))
    .route("/reset-password", web::post().to(accounts::post_reset_password))
    .route("/static/latchkey.css", web::get().to(get_stylesheet))
    .configure(admin::routes);
}

async fn get_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(crate::views::STYLESHEET)
}

/// The browser session cookie: only an encrypted, signed session id and CSRF token
/// (actix-session's private cookie); HttpOnly, SameSite=Lax, Secure in production.
fn session_middleware(state: &AppState) -> SessionMiddleware<CookieSessionStore> {
    let key = Key::derive_from(state.settings.secret.expose_secret().as_bytes());
    let ttl = actix_web::cookie::time::Duration::seconds(
        i64::try_from(state.settings.lifetimes.session.as_secs()).unwrap_or(i64::MAX),
    );
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("latchkey_session".into())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(state.settings.is_production())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(ttl))
        .build()
}

/// Builds the server on an already bound listener.
pub fn server(state: AppState, listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(session_middleware(&data))
            .wrap(actix_web::middleware::from_fn(middleware::record_metrics))
            .wrap(actix_web::middleware::from_fn(middleware::request_id_header))
            .wrap(TracingLogger::default())
            .configure(routes)
    })
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}
