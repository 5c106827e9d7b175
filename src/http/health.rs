//! Liveness, readiness and metrics for operators and load balancers.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::startup::AppState;

/// The process is up and serving.
pub async fn get_healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Ready only while the database answers: a load balancer stops sending traffic otherwise.
pub async fn get_readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.db.ping().await {
        HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "database unavailable" }))
    }
}

pub async fn get_metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let body = state.metrics.render(state.db.pool_state())?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body))
}
