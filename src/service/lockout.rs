//! Per-address lockout: counters in the database, so every replica sees the same count.
//!
//! Counted per email address as typed (normalised), whether or not an account has it: an
//! unknown address is delayed and locked exactly like a real one, so neither the answers nor
//! their timing tell an attacker which addresses exist. Only a real owner gets the mail.
//!
//! After `delay_after` failures within the window, the next attempt is refused unchecked
//! until a delay (1 s, 2 s, 4 s... capped) has passed; after `lockout_threshold` failures the
//! address is refused unchecked for `lockout_duration`. Refusing early (rather than sleeping
//! before answering) throttles parallel guesses too, and spends no argon2 time on them.

use chrono::NaiveDateTime;

use crate::config::BruteForce;
use crate::db::models::LoginFailureRow;
use crate::db::{Db, DbConn, DbError, repo};

/// The counter key for what someone typed in the email field. Hashed: the table does not
/// keep the addresses people tried.
pub fn subject(email: &str) -> String {
    crate::crypto::hash_secret(&format!("login:{}", email.trim().to_lowercase()))
}

/// Whether attempts for `subject` are refused unchecked at `now` (a delay or a lock).
pub async fn is_blocked(db: &Db, subject: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let subject = subject.to_owned();
    let row = db
        .run(move |conn| Ok(repo::login_failures::find(conn, &subject)?))
        .await?;
    Ok(row.and_then(|r| r.blocked_until).is_some_and(|until| until > now))
}

/// What one more failure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Failures in the current window, this one included.
    pub count: i32,
    /// Set when this failure locked the address.
    pub locked_until: Option<NaiveDateTime>,
}

/// Counts a failure, inside the caller's write transaction (this is its first statement).
pub fn record_failure(
    conn: &mut DbConn,
    subject: &str,
    now: NaiveDateTime,
    rules: &BruteForce,
) -> Result<Failure, DbError> {
    let exists = repo::login_failures::lock(conn, subject)?;
    let current = if exists {
        repo::login_failures::find(conn, subject)?
    } else {
        None
    };
    let (row, failure) = next(current, subject, now, rules);
    if exists {
        repo::login_failures::save(conn, &row)?;
    } else {
        repo::login_failures::insert(conn, &row)?;
    }
    Ok(failure)
}

/// Forgets the failures of `subject`, inside the caller's transaction.
pub fn clear(conn: &mut DbConn, subject: &str) -> Result<(), DbError> {
    repo::login_failures::clear(conn, subject)?;
    Ok(())
}

fn chrono_duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The counter after one more failure. A lock starts a fresh window, so its mail is sent
/// once per lock, and the attempts after it are counted from zero.
fn next(
    current: Option<LoginFailureRow>,
    subject: &str,
    now: NaiveDateTime,
    rules: &BruteForce,
) -> (LoginFailureRow, Failure) {
    let window = chrono_duration(rules.lockout_duration);
    let (previous, window_start) = match current {
        Some(row) if row.window_start + window > now => (row.failures, row.window_start),
        _ => (0, now),
    };
    let count = previous.saturating_add(1);
    let threshold = i32::try_from(rules.lockout_threshold).unwrap_or(i32::MAX);
    let delay_after = i32::try_from(rules.delay_after).unwrap_or(i32::MAX);
    if count >= threshold {
        let until = now + window;
        let row = LoginFailureRow {
            subject: subject.to_owned(),
            window_start: now,
            failures: 0,
            blocked_until: Some(until),
        };
        return (
            row,
            Failure {
                count,
                locked_until: Some(until),
            },
        );
    }
    let blocked_until = (count >= delay_after).then(|| {
        let doublings = u32::try_from(count - delay_after).unwrap_or(u32::MAX).min(20);
        let delay = std::time::Duration::from_secs(1u64 << doublings).min(rules.max_delay);
        now + chrono_duration(delay)
    });
    let row = LoginFailureRow {
        subject: subject.to_owned(),
        window_start,
        failures: count,
        blocked_until,
    };
    (
        row,
        Failure {
            count,
            locked_until: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn rules() -> BruteForce {
        BruteForce {
            lockout_threshold: 10,
            lockout_duration: Duration::from_secs(900),
            delay_after: 5,
            max_delay: Duration::from_secs(60),
            login_rate: 30,
        }
    }

    fn at(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn delays_double_then_the_tenth_failure_locks() {
        let mut row = None;
        let mut delays = vec![];
        for i in 1..=10 {
            let now = at(i * 61);
            let (next_row, failure) = next(row, "s", now, &rules());
            assert_eq!(failure.count, i as i32);
            if i < 10 {
                assert_eq!(failure.locked_until, None);
                delays.push(next_row.blocked_until.map(|u| (u - now).num_seconds()));
            } else {
                assert_eq!(failure.locked_until, Some(now + chrono::Duration::seconds(900)));
                assert_eq!(next_row.failures, 0);
            }
            row = Some(next_row);
        }
        let expected = [None, None, None, None, Some(1), Some(2), Some(4), Some(8), Some(16)];
        assert_eq!(delays, expected);
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let (row, _) = next(None, "s", at(0), &rules());
        let (row, failure) = next(Some(row), "s", at(100), &rules());
        assert_eq!(failure.count, 2);
        let (_, failure) = next(Some(row), "s", at(1000), &rules());
        assert_eq!(failure.count, 1);
    }

    #[test]
    fn the_subject_ignores_case_and_spaces() {
        assert_eq!(subject(" Pat@Example.com "), subject("pat@example.com"));
        assert!(!subject("pat@example.com").contains("pat"));
    }
}
