//! The HTTP surface: the route table and thin handlers.

pub mod discovery;
mod health;
mod middleware;

use std::net::TcpListener;

use actix_web::{App, HttpServer, web};
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
    .route("/metrics", web::get().to(health::get_metrics));
}

/// Builds the server on an already bound listener.
pub fn server(state: AppState, listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
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
