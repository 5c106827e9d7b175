//! Admin console: audit log (`/admin/audit`) and its CSV export (`/admin/audit.csv`, the
//! same query parameters).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::super::pages;
use super::super::session::TypedSession;
use super::dashboard::failure;
use super::{Admin, admin};
use crate::error::AppError;
use crate::service::admin::audit::{self, AuditQuery, EXPORT_LIMIT};
use crate::startup::AppState;
use crate::views::admin::audit::{AuditLine, AuditPage, CSV_HEADER, Party, csv_record};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(get_audit))
        .route("/admin/audit.csv", web::get().to(get_audit_csv));
}

#[tracing::instrument(skip_all)]
async fn get_audit(state: web::Data<AppState>, session: TypedSession, query: web::Query<AuditQuery>) -> HttpResponse {
    let admin = match admin(&state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match audit::page(&state, &query).await {
        Ok(found) => page(&admin, &query, found, None),
        Err(AppError::Invalid(message)) => page(&admin, &query, audit::AuditPage::default(), Some(message)),
        Err(err) => failure(err),
    }
}

#[tracing::instrument(skip_all)]
async fn get_audit_csv(
    state: web::Data<AppState>,
    session: TypedSession,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let admin = match admin(&state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let (rows, truncated) = match audit::export(&state, &query).await {
        Ok(found) => found,
        // A malformed filter: the page, with the message, rather than a broken download.
        Err(AppError::Invalid(message)) => {
            return page(&admin, &query, audit::AuditPage::default(), Some(message));
        }
        Err(err) => return failure(err),
    };
    let mut body = String::new();
    csv_record(&mut body, &CSV_HEADER);
    for r in &rows {
        let at = r
            .occurred_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let fields = [
            at.as_str(),
            r.id.as_str(),
            r.kind.as_str(),
            r.actor.as_deref().unwrap_or_default(),
            r.subject.as_deref().unwrap_or_default(),
            r.ip.as_deref().unwrap_or_default(),
            r.detail.as_str(),
        ];
        csv_record(&mut body, &fields);
    }
    let filename = format!("latchkey-audit-{}.csv", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    pages::secure(HttpResponse::Ok())
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        // Tells a script that the file holds only the newest EXPORT_LIMIT matching rows.
        .insert_header(("X-Latchkey-Truncated", if truncated { "true" } else { "false" }))
        .body(body)
}

fn page(admin: &Admin, query: &AuditQuery, found: audit::AuditPage, error: Option<String>) -> HttpResponse {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    // A user id is shown as the user's email (the id stays in the hover text).
    let party = |v: Option<String>| {
        let raw = v.unwrap_or_default();
        let shown = found.emails.get(&raw).cloned().unwrap_or_else(|| raw.clone());
        Party { shown, raw }
    };
    let events = found
        .rows
        .into_iter()
        .map(|r| AuditLine {
            occurred: r.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            kind: r.kind,
            actor: party(r.actor),
            subject: party(r.subject),
            ip: r.ip.unwrap_or_default(),
            detail: r.detail,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let view = AuditPage {
        chrome: admin.chrome("audit"),
        kind: value(&query.kind),
        actor: value(&query.actor),
        subject: value(&query.subject),
        from: value(&query.from),
        to: value(&query.to),
        events,
        next_href: found.next.map(|c| href("/admin/audit", query, Some(&c))),
        paged: query.after.as_deref().is_some_and(|a| !a.is_empty()),
        first_href: href("/admin/audit", query, None),
        csv_href: href("/admin/audit.csv", query, None),
        export_limit: EXPORT_LIMIT,
        error,
    };
    pages::render(status, &view)
}

/// `path` with the filter (blank fields left out) and, for a later page, its cursor.
fn href(path: &str, query: &AuditQuery, after: Option<&str>) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    let fields = [
        ("kind", &query.kind),
        ("actor", &query.actor),
        ("subject", &query.subject),
        ("from", &query.from),
        ("to", &query.to),
    ];
    for (name, value) in fields {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            out.append_pair(name, v);
        }
    }
    if let Some(after) = after {
        out.append_pair("after", after);
    }
    let qs = out.finish();
    if qs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{qs}")
    }
}
