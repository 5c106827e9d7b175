//! Per-client-IP token buckets over the forms that guess passwords or send mail (sign-in,
//! sign-up, forgot-password, resend-verification). The buckets live in the database so
//! that every replica spends from the same one.

use chrono::NaiveDateTime;
use diesel::Connection;

use crate::db::models::RateLimitRow;
use crate::db::{Db, DbError, repo};

/// One request, in the bucket's unit (thousandths of a request).
const COST: i64 = 1000;

/// Whether a request may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit: the bucket holds a whole request again after this many seconds.
    Limited {
        retry_after_secs: u64,
    },
}

/// Takes one request from the bucket of `ip`, which refills at `per_minute` requests a
/// minute up to `per_minute` (so a burst of `per_minute` is allowed, then a steady rate).
pub async fn take(db: &Db, ip: &str, per_minute: u32, now: NaiveDateTime) -> Result<Verdict, DbError> {
    let key = format!("ip:{ip}");
    let attempt = |key: String| {
        db.run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                let exists = repo::rate_limits::lock(conn, &key)?;
                let current = if exists {
                    repo::rate_limits::find(conn, &key)?
                } else {
                    None
                };
                let (row, verdict) = spend(current, &key, per_minute, now);
                if exists {
                    repo::rate_limits::save(conn, &row)?;
                } else {
                    repo::rate_limits::insert(conn, &row)?;
                }
                Ok(verdict)
            })
        })
    };
    match attempt(key.clone()).await {
        // Two replicas created the same bucket at once; the row exists now.
        Err(e) if e.is_unique_violation() => attempt(key).await,
        other => other,
    }
}

/// The bucket after one request, and whether it was allowed.
fn spend(current: Option<RateLimitRow>, key: &str, per_minute: u32, now: NaiveDateTime) -> (RateLimitRow, Verdict) {
    let rate = i64::from(per_minute.max(1));
    let capacity = rate * COST;
    // Refills `rate` requests a minute: rate * COST per 60 000 ms, i.e. rate / 60 per ms.
    let tokens = match current {
        Some(row) => {
            let elapsed_ms = (now - row.updated_at).num_milliseconds().max(0);
            row.tokens
                .saturating_add(elapsed_ms.saturating_mul(rate) / 60)
                .min(capacity)
        }
        None => capacity,
    };
    let (tokens, verdict) = if tokens >= COST {
        (tokens - COST, Verdict::Allowed)
    } else {
        let wait_ms = (COST - tokens) * 60 / rate;
        let secs = u64::try_from((wait_ms + 999) / 1000).unwrap_or(60).max(1);
        (tokens, Verdict::Limited { retry_after_secs: secs })
    };
    let row = RateLimitRow {
        key: key.to_owned(),
        tokens,
        updated_at: now,
    };
    (row, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp_millis(1_800_000_000_000 + ms)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn a_burst_of_the_rate_then_one_a_refill() {
        let mut row = None;
        for _ in 0..30 {
            let (next, verdict) = spend(row, "k", 30, at(0));
            assert_eq!(verdict, Verdict::Allowed);
            row = Some(next);
        }
        let (next, verdict) = spend(row, "k", 30, at(0));
        assert_eq!(verdict, Verdict::Limited { retry_after_secs: 2 });
        // 30 a minute: one every two seconds.
        let (next, verdict) = spend(Some(next), "k", 30, at(1000));
        assert!(matches!(verdict, Verdict::Limited { .. }));
        let (_, verdict) = spend(Some(next), "k", 30, at(2000));
        assert_eq!(verdict, Verdict::Allowed);
    }
}
