//! Coalescing of concurrent one-row statements into one statement per batch (group commit).
//!
//! Why: on SQLite, sqlx hands every statement to the connection's own thread and back, and
//! that hand-off (two thread wake-ups), not the SQL, was most of a webhook's cost; PostgreSQL
//! pays a round trip per statement. A [`Batcher`] has one worker task: callers queue a
//! request and wait for its own answer; the worker takes everything queued (up to a limit),
//! runs one statement for all of it, and answers each caller. Nothing waits for a batch to
//! fill: a request alone is sent at once, and requests arriving while a statement runs go
//! together in the next one. Each caller still gets its answer only after its row was
//! written, so "stored before answering" holds as with one statement per request.

use std::sync::Mutex;

use futures::future::BoxFuture;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::DbError;

/// The statement(s) for one batch: one answer per request, in order.
pub(crate) type BatchFn<Req, Resp> =
    fn(AnyPool, Vec<Req>) -> BoxFuture<'static, Vec<Result<Resp, DbError>>>;

type Job<Req, Resp> = (Req, oneshot::Sender<Result<Resp, DbError>>);

/// A queue in front of one kind of statement; see the module documentation.
pub(crate) struct Batcher<Req, Resp> {
    pool: AnyPool,
    run: BatchFn<Req, Resp>,
    max: usize,
    tx: mpsc::UnboundedSender<Job<Req, Resp>>,
    /// The worker's end, until the first request starts the worker (it needs a runtime).
    rx: Mutex<Option<mpsc::UnboundedReceiver<Job<Req, Resp>>>>,
}

impl<Req, Resp> std::fmt::Debug for Batcher<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("max", &self.max).finish()
    }
}

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    /// A batcher running `run` on `pool` for at most `max` requests at a time.
    pub(crate) fn new(pool: AnyPool, max: usize, run: BatchFn<Req, Resp>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Batcher {
            pool,
            run,
            max: max.max(1),
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    /// Runs `req` in the next batch and returns its answer.
    pub(crate) async fn submit(&self, req: Req) -> Result<Resp, DbError> {
        self.start();
        let (done, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((req, _))) = self.tx.send((req, done)) {
            // The worker is gone (its runtime ended): run it alone.
            return self.alone(req).await;
        }
        answer
            .await
            .unwrap_or(Err(DbError::Sqlx(sqlx::Error::WorkerCrashed)))
    }

    async fn alone(&self, req: Req) -> Result<Resp, DbError> {
        (self.run)(self.pool.clone(), vec![req])
            .await
            .pop()
            .unwrap_or(Err(DbError::Sqlx(sqlx::Error::WorkerCrashed)))
    }

    fn start(&self) {
        let Some(mut rx) = self.rx.lock().ok().and_then(|mut r| r.take()) else {
            return;
        };
        let (pool, run, max) = (self.pool.clone(), self.run, self.max);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < max {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let (reqs, waiting): (Vec<Req>, Vec<_>) = jobs.into_iter().unzip();
                let mut answers = run(pool.clone(), reqs).await.into_iter();
                for done in waiting {
                    let answer = answers
                        .next()
                        .unwrap_or(Err(DbError::Sqlx(sqlx::Error::WorkerCrashed)));
                    // A caller that went away no longer needs its answer.
                    let _ = done.send(answer);
                }
            }
        });
    }
}

/// The answers of a batch whose statement failed: the error for the first request, `what`
/// for the others (each caller gets an error; the log needs it once).
pub(crate) fn all_failed<T>(e: DbError, n: usize, what: &'static str) -> Vec<Result<T, DbError>> {
    let mut answers = vec![Err(e)];
    answers.extend((1..n).map(|_| Err(DbError::Conflict(what))));
    answers
}

/// `$first, $first+1, ...`: `count` placeholders for one row of a multi-row statement.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{all_failed, placeholders};
    use crate::db::DbError;

    #[test]
    fn placeholders_number_from_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(8, 2), "$8, $9");
        assert_eq!(placeholders(4, 0), "");
    }

    #[test]
    fn a_failed_batch_answers_every_caller() {
        let answers: Vec<Result<(), DbError>> =
            all_failed(DbError::Conflict("the statement"), 3, "the batch");
        let texts: Vec<String> = answers
            .into_iter()
            .map(|a| a.unwrap_err().to_string())
            .collect();
        assert_eq!(texts.len(), 3);
        assert!(texts[0].contains("the statement"), "{texts:?}");
        assert!(
            texts[1..].iter().all(|t| t.contains("the batch")),
            "{texts:?}"
        );
        assert_eq!(all_failed::<()>(DbError::Conflict("x"), 1, "y").len(), 1);
    }
}
