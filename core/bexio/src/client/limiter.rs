//! Staying under bexio's rate limits instead of bouncing off them.
//!
//! bexio counts requests per company and minute in separate buckets (most routes; `/2.0/article*`;
//! the contact, invoice, quote and article searches and PDFs) and says on every answer how many
//! are left (`ratelimit-remaining`) and when the window resets (`ratelimit-reset`, seconds). The
//! limiter keeps that state per bucket and makes a request wait when its bucket has no requests
//! left for the requests already in flight, so a full sync meets the limit at the end of a
//! window rather than a 429.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// A rate-limit bucket of bexio's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Most routes.
    Default,
    /// `/2.0/article*`.
    Article,
    /// Contact, invoice, quote and article searches, and document PDFs.
    Search,
}

impl Bucket {
    /// The bucket a request counts against, as observed on bexio.
    pub fn of(method: &str, path: &str) -> Bucket {
        let path = path.split('?').next().unwrap_or(path);
        let heavy_search = method.eq_ignore_ascii_case("POST")
            && matches!(
                path,
                "/2.0/contact/search"
                    | "/2.0/kb_invoice/search"
                    | "/2.0/kb_offer/search"
                    | "/2.0/article/search"
            );
        let pdf = path.ends_with("/pdf")
            && (path.starts_with("/2.0/kb_invoice/") || path.starts_with("/2.0/kb_offer/"));
        if heavy_search || pdf {
            Bucket::Search
        } else if path.starts_with("/2.0/article") {
            Bucket::Article
        } else {
            Bucket::Default
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    remaining: u32,
    resets_at: Instant,
    in_flight: u32,
}

/// Per-bucket state of one company's limits.
#[derive(Debug, Default)]
pub struct Limiter {
    windows: HashMap<Bucket, Window>,
}

impl Limiter {
    /// How long a request of `bucket` must wait before it may go out (zero: go now). When it may
    /// go, it is counted as in flight until [`Limiter::observe`] or [`Limiter::release`].
    pub fn acquire(&mut self, bucket: Bucket, now: Instant) -> Duration {
        let Some(w) = self.windows.get_mut(&bucket) else {
            // Nothing known yet: the first answer will tell.
            self.windows.insert(
                bucket,
                Window {
                    remaining: u32::MAX,
                    resets_at: now,
                    in_flight: 1,
                },
            );
            return Duration::ZERO;
        };
        if now >= w.resets_at && w.remaining != u32::MAX && w.in_flight == 0 {
            // A new window began; its budget is unknown until the next answer, assume one.
            w.remaining = u32::MAX;
        }
        if w.remaining > w.in_flight {
            w.in_flight += 1;
            Duration::ZERO
        } else if now < w.resets_at {
            w.resets_at - now
        } else {
            // The window is over but answers are still out: wait for them briefly.
            Duration::from_millis(50)
        }
    }

    /// Records what an answer said (`ratelimit-remaining`, `ratelimit-reset` in seconds).
    pub fn observe(
        &mut self,
        bucket: Bucket,
        remaining: Option<u32>,
        reset_secs: Option<u64>,
        now: Instant,
    ) {
        let w = self.windows.entry(bucket).or_insert(Window {
            remaining: u32::MAX,
            resets_at: now,
            in_flight: 1,
        });
        w.in_flight = w.in_flight.saturating_sub(1);
        // No window lasts longer than a minute; a wild header must not overflow the clock.
        let resets_at = reset_secs.map(|s| now + Duration::from_secs(s.min(3600)));
        // Answers can arrive out of order: within a window only a lower count is news. A reset
        // clearly later than the known one means a new window, whose count replaces the old.
        let new_window = w.remaining == u32::MAX
            || resets_at.is_some_and(|r| r > w.resets_at + Duration::from_secs(1));
        if let Some(r) = remaining {
            w.remaining = if new_window { r } else { w.remaining.min(r) };
        }
        if let Some(r) = resets_at
            && (new_window || r > w.resets_at)
        {
            w.resets_at = r;
        }
    }

    /// A request of `bucket` ended without rate-limit headers (error, 4.0 route without them).
    pub fn release(&mut self, bucket: Bucket) {
        if let Some(w) = self.windows.get_mut(&bucket) {
            w.in_flight = w.in_flight.saturating_sub(1);
        }
    }

    /// The window is exhausted until `reset_secs` from now (after a 429).
    pub fn exhausted(&mut self, bucket: Bucket, reset_secs: u64, now: Instant) {
        let w = self.windows.entry(bucket).or_insert(Window {
            remaining: 0,
            resets_at: now,
            in_flight: 1,
        });
        w.in_flight = w.in_flight.saturating_sub(1);
        w.remaining = 0;
        w.resets_at = now + Duration::from_secs(reset_secs.clamp(1, 3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_as_bexio_counts_them() {
        assert_eq!(
            Bucket::of("GET", "/2.0/kb_invoice?limit=5"),
            Bucket::Default
        );
        assert_eq!(
            Bucket::of("POST", "/2.0/kb_invoice/search?limit=5"),
            Bucket::Search
        );
        assert_eq!(Bucket::of("GET", "/2.0/article/3"), Bucket::Article);
        assert_eq!(Bucket::of("POST", "/2.0/article/search"), Bucket::Search);
        assert_eq!(
            Bucket::of("POST", "/2.0/contact_group/search"),
            Bucket::Default
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_reset_when_the_budget_is_spent() {
        let mut l = Limiter::default();
        let now = Instant::now();
        assert_eq!(l.acquire(Bucket::Default, now), Duration::ZERO);
        l.observe(Bucket::Default, Some(2), Some(30), now);
        // Two left: two may go out at once, the third waits for the window.
        assert_eq!(l.acquire(Bucket::Default, now), Duration::ZERO);
        assert_eq!(l.acquire(Bucket::Default, now), Duration::ZERO);
        assert_eq!(l.acquire(Bucket::Default, now), Duration::from_secs(30));
        // Another bucket is not affected.
        assert_eq!(l.acquire(Bucket::Article, now), Duration::ZERO);
        // A late answer with a higher count from the same window does not raise the budget.
        let mut l2 = Limiter::default();
        l2.acquire(Bucket::Default, now);
        l2.acquire(Bucket::Default, now);
        l2.observe(Bucket::Default, Some(1), Some(30), now);
        l2.observe(Bucket::Default, Some(2), Some(30), now);
        assert_eq!(l2.acquire(Bucket::Default, now), Duration::ZERO);
        assert_eq!(l2.acquire(Bucket::Default, now), Duration::from_secs(30));
        // After a 429, nothing goes until the reset.
        l.exhausted(Bucket::Search, 5, now);
        assert_eq!(l.acquire(Bucket::Search, now), Duration::from_secs(5));
    }
}
