//! The time that brute-force rules (lockout windows, rate-limit buckets) are measured
//! against: real time, plus an offset that tests move forward instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound};

/// Cheap to clone; clones share the offset, so a test holding one moves the server's.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Now in UTC, to the microsecond (what PostgreSQL keeps), so a value read back from
    /// either backend compares equal to the one written.
    pub fn now(&self) -> NaiveDateTime {
        let offset = chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        (chrono::Utc::now().naive_utc() + offset).trunc_subsecs(6)
    }

    /// Moves this clock (and its clones) forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::default();
        let before = clock.now();
        clock.clone().advance(Duration::from_secs(3600));
        assert!(clock.now() - before >= chrono::Duration::seconds(3600));
    }
}
