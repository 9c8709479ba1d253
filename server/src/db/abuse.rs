//! The `abuse_counters` table: counts per key and fixed window, shared by every server
//! instance (a merchant's declines, a client's catalogue checkouts). A sliding count over
//! two windows ([`Db::window_count`]) smooths the edge between them.

use sqlx::Row;

use super::{Db, DbError};

/// The window of `now`, `window` seconds long: when it started.
pub(super) fn window_start(now: i64, window: i64) -> i64 {
    now - now.rem_euclid(window)
}

/// A counter's counts in the window of a moment and in the one before, as read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowCounts {
    /// In the window of the moment.
    pub current: i64,
    /// In the window before it.
    pub previous: i64,
}

impl WindowCounts {
    /// The count over the last `window` seconds at `now` (the moment they were read for): the
    /// current window's, plus the share of the previous one that the sliding window still
    /// covers.
    pub fn sliding(self, now: i64, window: i64) -> f64 {
        let left = 1.0 - (now - window_start(now, window)) as f64 / window as f64;
        self.current as f64 + self.previous as f64 * left
    }
}

impl Db {
    /// Adds one to `key`'s count in the window of `now` (`window` seconds long).
    pub async fn count_event(&self, key: &str, now: i64, window: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO abuse_counters (key, window_start, count) VALUES ($1, $2, 1) \
             ON CONFLICT (key, window_start) DO UPDATE SET count = abuse_counters.count + 1",
        )
        .bind(key)
        .bind(window_start(now, window))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `key`'s count over the last `window` seconds (see [`WindowCounts::sliding`]).
    pub async fn window_count(&self, key: &str, now: i64, window: i64) -> Result<f64, DbError> {
        let current = window_start(now, window);
        let rows = sqlx::query(
            "SELECT window_start, count FROM abuse_counters \
             WHERE key = $1 AND window_start >= $2",
        )
        .bind(key)
        .bind(current - window)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = WindowCounts::default();
        for row in rows {
            let start: i64 = row.try_get("window_start")?;
            let count: i64 = row.try_get("count")?;
            if start == current {
                counts.current += count;
            } else {
                counts.previous += count;
            }
        }
        Ok(counts.sliding(now, window))
    }

    /// Forgets the counts of windows that started before `before`.
    pub async fn forget_counts(&self, before: i64) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM abuse_counters WHERE window_start < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sliding_count_takes_the_previous_window_s_uncovered_share() {
        let counts = WindowCounts {
            current: 3,
            previous: 10,
        };
        // Windows of 600 s: 1,200 starts one.
        assert_eq!(window_start(1_200, 600), 1_200);
        assert_eq!(window_start(1_799, 600), 1_200);
        assert_eq!(counts.sliding(1_200, 600), 13.0);
        assert_eq!(counts.sliding(1_350, 600), 3.0 + 10.0 * 0.75);
        assert_eq!(counts.sliding(1_500, 600), 8.0);
        assert_eq!(WindowCounts::default().sliding(1_500, 600), 0.0);
    }
}
