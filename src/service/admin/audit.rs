//! Admin console: the audit log, filtered and paged newest first, and its CSV export.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::db::models::AuditRow;
use crate::db::repo::{self, audit::AuditFilter};
use crate::domain::Email;
use crate::error::AppError;
use crate::startup::AppState;

/// Events per page.
pub const PAGE_SIZE: i64 = 50;

/// The most rows one CSV export holds (the newest that match). Past that, narrow the filter:
/// the export is built in memory, and 10 000 rows are a few megabytes at most.
pub const EXPORT_LIMIT: i64 = 10_000;

/// The filter as the form sends it: every field optional, blank means any.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    pub kind: Option<String>,
    /// A user id, an email (matched to that user's id too), or `anonymous`.
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// `YYYY-MM-DD` (from that day's start) or `YYYY-MM-DDTHH:MM[:SS]`, UTC.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (to that day's end) or `YYYY-MM-DDTHH:MM[:SS]`, UTC; exclusive.
    pub to: Option<String>,
    /// The cursor of the next page.
    pub after: Option<String>,
}

/// One page of events and the cursor of the next, if there is more.
#[derive(Default)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next: Option<String>,
    /// The email of each user id the page's actors and subjects name.
    pub emails: HashMap<String, String>,
}

/// A page of the log. A malformed filter or cursor is [`AppError::Invalid`], with a
/// message for the page.
pub async fn page(state: &AppState, query: &AuditQuery) -> Result<AuditPage, AppError> {
    let before = match blank(&query.after) {
        Some(raw) => Some(parse_cursor(raw).ok_or_else(|| AppError::Invalid("That page link is not valid.".into()))?),
        None => None,
    };
    let filter = filter(state, query).await?;
    let (mut rows, emails) = state
        .db
        .run(move |conn| {
            let rows = repo::audit::page(conn, &filter, before, PAGE_SIZE + 1)?;
            let mut ids: Vec<String> = rows
                .iter()
                .flat_map(|r| [r.actor.clone(), r.subject.clone()])
                .flatten()
                .collect();
            ids.sort();
            ids.dedup();
            Ok((rows, repo::audit::user_emails(conn, &ids)?))
        })
        .await?;
    let next = if rows.len() > PAGE_SIZE as usize {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| cursor(r.occurred_at, &r.id))
    } else {
        None
    };
    Ok(AuditPage {
        rows,
        next,
        emails: emails.into_iter().collect(),
    })
}

/// The newest [`EXPORT_LIMIT`] events matching the filter (the cursor is ignored: an export
/// is of the whole filtered set), and whether more matched.
pub async fn export(state: &AppState, query: &AuditQuery) -> Result<(Vec<AuditRow>, bool), AppError> {
    let filter = filter(state, query).await?;
    let mut rows = state
        .db
        .run(move |conn| Ok(repo::audit::page(conn, &filter, None, EXPORT_LIMIT + 1)?))
        .await?;
    let truncated = rows.len() > EXPORT_LIMIT as usize;
    rows.truncate(EXPORT_LIMIT as usize);
    Ok((rows, truncated))
}

async fn filter(state: &AppState, query: &AuditQuery) -> Result<AuditFilter, AppError> {
    let from = blank(&query.from).map(|v| parse_time(v, false)).transpose()?;
    let to = blank(&query.to).map(|v| parse_time(v, true)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(AppError::Invalid(
            "The start of the time range must be before its end.".into(),
        ));
    }
    let actor = blank(&query.actor).map(str::to_owned);
    let subject = blank(&query.subject).map(str::to_owned);
    let (actors, subjects) = if actor.is_none() && subject.is_none() {
        (None, None)
    } else {
        resolve_users(state, actor, subject).await?
    };
    Ok(AuditFilter {
        kind: blank(&query.kind).map(str::to_owned),
        actors,
        subjects,
        from,
        to,
    })
}

/// The values an actor and a subject filter match.
async fn resolve_users(
    state: &AppState,
    actor: Option<String>,
    subject: Option<String>,
) -> Result<(Option<Vec<String>>, Option<Vec<String>>), AppError> {
    Ok(state
        .db
        .run(move |conn| {
            let mut resolve = |v: Option<String>| -> Result<Option<Vec<String>>, crate::db::DbError> {
                let Some(v) = v else { return Ok(None) };
                // Events name users by id; an admin thinks in emails, so an email matches both.
                let user = match Email::parse(&v) {
                    Ok(email) => repo::users::find_by_email(conn, email.as_str())?,
                    Err(_) => None,
                };
                Ok(Some(match user {
                    Some(u) => vec![v, u.id],
                    None => vec![v],
                }))
            };
            Ok((resolve(actor)?, resolve(subject)?))
        })
        .await?)
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A date or a `datetime-local` value, in UTC. A bare date as the end of a range means the
/// end of that day, so `from=to=2026-11-26` is that whole day.
fn parse_time(raw: &str, end: bool) -> Result<NaiveDateTime, AppError> {
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end { day.succ_opt().unwrap_or(day) } else { day };
        return Ok(day.and_time(chrono::NaiveTime::MIN));
    }
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
    .ok_or_else(|| {
        AppError::Invalid(format!(
            "“{raw}” is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)."
        ))
    })
}

/// A keyset cursor: the (time, id) of the last row shown, as `<seconds>.<nanoseconds>.<id>`
/// (the full precision SQLite keeps, so no row in the same microsecond is skipped). Ids
/// (UUIDs, base64url tokens) hold no dot.
pub fn cursor(at: NaiveDateTime, id: &str) -> String {
    let at = at.and_utc();
    format!("{}.{}.{id}", at.timestamp(), at.timestamp_subsec_nanos())
}

pub fn parse_cursor(raw: &str) -> Option<(NaiveDateTime, String)> {
    let mut parts = raw.splitn(3, '.');
    let (secs, nanos, id) = (parts.next()?, parts.next()?, parts.next()?);
    let at = chrono::DateTime::from_timestamp(secs.parse().ok()?, nanos.parse().ok()?)?.naive_utc();
    (!id.is_empty()).then(|| (at, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = NaiveDate::from_ymd_opt(2026, 11, 26)
            .and_then(|d| d.and_hms_nano_opt(10, 1, 2, 345_678_901))
            .unwrap();
        let c = cursor(at, "ab-_c");
        assert_eq!(parse_cursor(&c), Some((at, "ab-_c".to_owned())));
        assert_eq!(parse_cursor("nonsense"), None);
        assert_eq!(parse_cursor("12.5."), None);
        assert_eq!(parse_cursor("12.x.id"), None);
    }

    #[test]
    fn dates_and_times_parse_and_a_bare_end_date_covers_its_day() {
        let start = parse_time("2026-11-26", false).unwrap();
        let end = parse_time("2026-11-26", true).unwrap();
        assert_eq!(end - start, chrono::Duration::days(1));
        assert_eq!(
            parse_time("2026-11-26T08:30", false).unwrap().to_string(),
            "2026-11-26 08:30:00"
        );
        assert!(parse_time("26/11/2026", false).is_err());
    }
}
