//! Admin console: dashboard (`/admin`), and what the console's pages share for showing
//! times and failures.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::super::pages;
use super::super::session::TypedSession;
use super::{admin, went_wrong};
use crate::error::AppError;
use crate::service::admin::dashboard;
use crate::startup::AppState;
use crate::views::admin::dashboard::{Card, Chart, DashboardPage, Series};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(get_dashboard));
}

#[tracing::instrument(skip_all)]
async fn get_dashboard(state: web::Data<AppState>, session: TypedSession) -> HttpResponse {
    let admin = match admin(&state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let board = match dashboard::load(&state).await {
        Ok(b) => b,
        Err(err) => return failure(err),
    };
    let c = &board.counts;
    let cards = vec![
        card("Users", c.users, Some("/admin/users")),
        card("Active sessions", c.live_sessions, Some("/admin/sessions")),
        card(
            "Sign-ins, last 24 h",
            c.sign_ins_24h,
            Some("/admin/audit?kind=login.succeeded"),
        ),
        card(
            "Failed sign-ins, last 24 h",
            c.failures_24h,
            Some("/admin/audit?kind=login.failed"),
        ),
        card("Locked addresses", c.locked, None),
    ];
    let series = |class, label, value: fn(&dashboard::Day) -> i64| Series {
        class,
        label,
        points: board.days.iter().map(|d| (d.day.to_string(), value(d))).collect(),
    };
    let charts = vec![
        Chart::bars(
            "Sign-ins and failed sign-ins per day, last 30 days",
            vec![
                series("series-a", "sign-ins", |d| d.sign_ins),
                series("series-b", "failures", |d| d.failures),
            ],
        ),
        Chart::bars(
            "New users per day, last 30 days",
            vec![series("series-a", "new users", |d| d.new_users)],
        ),
    ];
    let page = DashboardPage {
        chrome: admin.chrome("dashboard"),
        cards,
        charts,
    };
    pages::render(StatusCode::OK, &page)
}

fn card(label: &'static str, value: i64, href: Option<&'static str>) -> Card {
    Card { label, value, href }
}

/// A time as the console shows it.
pub(super) fn when(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A failure no form can fix: logged with its cause, answered with a fixed page.
pub(super) fn failure(err: AppError) -> HttpResponse {
    match err {
        AppError::Internal(cause) => tracing::error!(error = format!("{cause:#}"), "admin page failed"),
        other => tracing::warn!(error = %other, "admin page failed"),
    }
    went_wrong()
}
