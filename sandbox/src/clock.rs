//! The sandbox clock: real time plus an offset that the control API advances, so tests can make
//! seven days pass (uncaptured PaymentIntents expire) without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Real time shifted by an adjustable number of seconds.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// A clock at real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Unix seconds on the sandbox clock.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real + self.offset.load(Ordering::SeqCst)
    }

    /// Moves the clock forward by `secs` (negative values are refused by the control API).
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
    }

    /// Seconds the clock is ahead of real time.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset.store(0, Ordering::SeqCst);
    }
}

/// The calendar year and month (1-12) of a Unix time, for test cards' default expiry.
pub fn year_month(unix: i64) -> (i64, u32) {
    // Days to civil date (Howard Hinnant's algorithm).
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now() {
        let c = Clock::new();
        let before = c.now();
        c.advance(7 * 86_400);
        assert!(c.now() >= before + 7 * 86_400);
        c.reset();
        assert_eq!(c.offset(), 0);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(1_700_000_000), (2023, 11));
        assert_eq!(year_month(951_782_400), (2000, 2)); // 2000-02-29
    }
}
