//! Admin console: dashboard. Counts of now and of the last 24 hours, and per-day series for
//! the last 30 days.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use crate::db::repo::stats;
use crate::error::AppError;
use crate::startup::AppState;

/// Days in the charts, today (UTC) included.
pub const DAYS: usize = 30;

/// The numbers at the top of the dashboard.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub users: i64,
    pub live_sessions: i64,
    pub sign_ins_24h: i64,
    pub failures_24h: i64,
    pub locked: i64,
}

/// One UTC day of the charts.
#[derive(Debug, Clone)]
pub struct Day {
    pub day: NaiveDate,
    pub sign_ins: i64,
    pub failures: i64,
    pub new_users: i64,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub counts: Counts,
    /// Oldest first; the last is today.
    pub days: Vec<Day>,
}

/// Reads the dashboard in one blocking task on one connection.
///
/// Days are bucketed with one COUNT per day and series over `[midnight, next midnight)`
/// ranges rather than a GROUP BY on a date expression: date functions differ between SQLite
/// and PostgreSQL and would defeat the indexes, whereas each range COUNT is an index range
/// scan on (kind, occurred_at) or users(created_at). That is 90 small queries touching only
/// the month's matching index entries, never the millions of other audit rows.
pub async fn load(state: &AppState) -> Result<Dashboard, AppError> {
    let threshold = i32::try_from(state.settings.brute_force.lockout_threshold).unwrap_or(i32::MAX);
    // Locks are written in the brute-force clock's time, so they are read in it too.
    let lock_now = state.settings.clock.now();
    let dashboard = state
        .db
        .run(move |conn| {
            let now = crate::service::now();
            let day_ago = now - Duration::days(1);
            let counts = Counts {
                users: stats::users(conn)?,
                live_sessions: stats::live_sessions(conn, now)?,
                sign_ins_24h: stats::events(conn, "login.succeeded", day_ago, now)?,
                failures_24h: stats::events(conn, "login.failed", day_ago, now)?,
                locked: stats::locked(conn, lock_now, threshold)?,
            };
            let mut days = Vec::with_capacity(DAYS);
            for day in last_days(now) {
                let (from, to) = bounds(day);
                days.push(Day {
                    day,
                    sign_ins: stats::events(conn, "login.succeeded", from, to)?,
                    failures: stats::events(conn, "login.failed", from, to)?,
                    new_users: stats::users_created(conn, from, to)?,
                });
            }
            Ok(Dashboard { counts, days })
        })
        .await?;
    Ok(dashboard)
}

/// The last [`DAYS`] UTC days up to `now`'s, oldest first.
fn last_days(now: NaiveDateTime) -> impl Iterator<Item = NaiveDate> {
    let today = now.date();
    (0..DAYS as i64).rev().map(move |back| today - Duration::days(back))
}

/// `[midnight, next midnight)` of a day.
fn bounds(day: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let from = day.and_time(chrono::NaiveTime::MIN);
    (from, from + Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_days_end_today() {
        let now = NaiveDate::from_ymd_opt(2026, 11, 26)
            .and_then(|d| d.and_hms_opt(13, 5, 0))
            .unwrap();
        let days: Vec<NaiveDate> = last_days(now).collect();
        assert_eq!(days.len(), 30);
        assert_eq!(days[29], now.date());
        assert_eq!(days[0].to_string(), "2026-10-28");
        let (from, to) = bounds(days[29]);
        assert!(from <= now && now < to);
    }
}
