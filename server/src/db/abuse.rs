//! The `abuse_counters` table: counts per key and fixed window, shared by every server
//! instance (a merchant's declines, a client's catalogue checkouts). A sliding count over
//! two windows ([`Db::window_count`]) smooths the edge between them.

use sqlx::Row;

use super::{Db, DbError};

impl Db {
    /// Adds one to `key`'s count in the window of `now` (`window` seconds long).
    pub async fn count_event(&self, key: &str, now: i64, window: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO abuse_counters (key, window_start, count) VALUES ($1, $2, 1) \
             ON CONFLICT (key, window_start) DO UPDATE SET count = abuse_counters.count + 1",
        )
        .bind(key)
        .bind(now - now.rem_euclid(window))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `key`'s count over the last `window` seconds: the current window's, plus the share of
    /// the previous one that the sliding window still covers.
    pub async fn window_count(&self, key: &str, now: i64, window: i64) -> Result<f64, DbError> {
        let current = now - now.rem_euclid(window);
        let rows = sqlx::query(
            "SELECT window_start, count FROM abuse_counters \
             WHERE key = $1 AND window_start >= $2",
        )
        .bind(key)
        .bind(current - window)
        .fetch_all(&self.pool)
        .await?;
        let mut total = 0.0;
        for row in rows {
            let start: i64 = row.try_get("window_start")?;
            let count: i64 = row.try_get("count")?;
            total += if start == current {
                count as f64
            } else {
                let left = 1.0 - (now - current) as f64 / window as f64;
                count as f64 * left
            };
        }
        Ok(total)
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
