//! A single time budget per command. The crate retries some failures with backoff, and its
//! producer can retry a send indefinitely (lookup, recreate, retry again), so without an outer
//! bound a broken peer would hang the test harness instead of failing it.

use crate::error::{PeerError, PeerResult};
use std::future::Future;
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    budget_ms: u64,
}

impl Deadline {
    pub fn after_ms(budget_ms: u64) -> Self {
        Deadline {
            at: Instant::now() + Duration::from_millis(budget_ms),
            budget_ms,
        }
    }

    /// Runs `step` unless the budget runs out first; `doing` describes the step for the error.
    pub async fn run<F: Future>(
        &self,
        step: F,
        doing: impl FnOnce() -> String,
    ) -> PeerResult<F::Output> {
        timeout_at(self.at, step).await.map_err(|_| {
            PeerError::new(format!(
                "timed out after {} ms while {}",
                self.budget_ms,
                doing()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_step_that_finishes_in_time_returns_its_value() {
        let deadline = Deadline::after_ms(1_000);
        let value = deadline.run(async { 42 }, || "answering".into()).await;
        assert_eq!(value.unwrap(), 42);
    }

    // The step can never complete, so the outcome does not depend on timing; only the test's
    // duration (the 20 ms budget) does.
    #[tokio::test]
    async fn a_step_that_never_finishes_fails_with_the_budget_and_the_step() {
        let deadline = Deadline::after_ms(20);
        let err = deadline
            .run(std::future::pending::<()>(), || {
                "waiting for message 3 of 5".into()
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "timed out after 20 ms while waiting for message 3 of 5"
        );
    }
}
