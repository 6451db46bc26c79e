//! Per-company, per-minute rate limits with bexio's (Kong's) headers.
//!
//! bexio counts requests per company and calendar minute, in separate buckets: most routes share
//! 1000/min, `/2.0/article*` has 400/min, and the contact, invoice, quote and article searches (and
//! document PDFs) have 250/min. Past the limit the answer is 429 until the minute ends.

use std::collections::HashMap;

use crate::clock::SimClock;

/// Which counter a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Most routes.
    Default,
    /// `/2.0/article*`.
    Article,
    /// Contact, invoice, quote and article searches; document PDFs.
    Search,
}

/// Requests per minute of each bucket.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Limits {
    /// Most routes (bexio: 1000).
    pub default: u32,
    /// `/2.0/article*` (bexio: 400).
    pub article: u32,
    /// Heavy searches and PDFs (bexio: 250).
    pub search: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default: 1000,
            article: 400,
            search: 250,
        }
    }
}

impl Limits {
    /// The limit of a bucket.
    pub fn of(&self, b: Bucket) -> u32 {
        match b {
            Bucket::Default => self.default,
            Bucket::Article => self.article,
            Bucket::Search => self.search,
        }
    }
}

/// The bucket of a request.
pub fn bucket(method: &axum::http::Method, path: &str) -> Bucket {
    let is_post = method == axum::http::Method::POST;
    let search = is_post
        && matches!(
            path,
            "/2.0/contact/search"
                | "/2.0/kb_invoice/search"
                | "/2.0/kb_offer/search"
                | "/2.0/article/search"
        );
    let pdf = path.ends_with("/pdf")
        && (path.starts_with("/2.0/kb_invoice/") || path.starts_with("/2.0/kb_offer/"));
    if search || pdf {
        Bucket::Search
    } else if path.starts_with("/2.0/article") {
        Bucket::Article
    } else {
        Bucket::Default
    }
}

/// The rate-limit state of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The bucket's limit per minute.
    pub limit: u32,
    /// Requests left in this minute.
    pub remaining: u32,
    /// Real seconds until the minute ends (at least 1 when throttled).
    pub reset: u64,
    /// Whether this request was refused.
    pub exceeded: bool,
}

impl Quota {
    /// The five headers bexio sends on every 2.0/3.0 answer, in its order.
    pub fn headers(&self) -> [(&'static str, String); 5] {
        [
            ("x-ratelimit-remaining-minute", self.remaining.to_string()),
            ("ratelimit-limit", self.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            ("ratelimit-reset", self.reset.to_string()),
            ("x-ratelimit-limit-minute", self.limit.to_string()),
        ]
    }
}

/// Counters of one company.
#[derive(Debug, Default)]
pub struct Limiter {
    windows: HashMap<Bucket, (i64, u32)>,
    /// Requests answered, per bucket.
    pub served: HashMap<Bucket, u64>,
    /// Requests refused with 429.
    pub throttled: u64,
}

impl Limiter {
    /// Counts a request; `exceeded` tells whether it must be refused.
    pub fn check(&mut self, bucket: Bucket, limits: &Limits, clock: &SimClock) -> Quota {
        let now = clock.now();
        let minute = (now / 60.0).floor() as i64;
        let limit = limits.of(bucket);
        let left_in_minute = 60.0 - (now - minute as f64 * 60.0);
        let reset_real = clock.to_real(left_in_minute).ceil().max(0.0) as u64;
        let w = self.windows.entry(bucket).or_insert((minute, 0));
        if w.0 != minute {
            *w = (minute, 0);
        }
        if w.1 >= limit {
            self.throttled += 1;
            return Quota {
                limit,
                remaining: 0,
                reset: reset_real.max(1),
                exceeded: true,
            };
        }
        w.1 += 1;
        *self.served.entry(bucket).or_default() += 1;
        Quota {
            limit,
            remaining: limit - w.1,
            reset: reset_real,
            exceeded: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn buckets_follow_observed_limits() {
        assert_eq!(bucket(&Method::GET, "/2.0/contact"), Bucket::Default);
        assert_eq!(bucket(&Method::POST, "/2.0/contact/search"), Bucket::Search);
        assert_eq!(
            bucket(&Method::POST, "/2.0/contact_group/search"),
            Bucket::Default
        );
        assert_eq!(bucket(&Method::GET, "/2.0/article/3"), Bucket::Article);
        assert_eq!(bucket(&Method::POST, "/2.0/article/search"), Bucket::Search);
        assert_eq!(
            bucket(&Method::GET, "/2.0/kb_invoice/4/pdf"),
            Bucket::Search
        );
    }

    #[test]
    fn refuses_past_the_limit_until_the_minute_ends() {
        let limits = Limits {
            default: 3,
            article: 2,
            search: 1,
        };
        let clock = SimClock::new(1.0);
        let mut l = Limiter::default();
        let q: Vec<Quota> = (0..4)
            .map(|_| l.check(Bucket::Default, &limits, &clock))
            .collect();
        // Unless the minute turned over in between, the fourth is refused.
        if q[3].exceeded {
            assert_eq!(
                q.iter().map(|x| x.remaining).collect::<Vec<_>>(),
                vec![2, 1, 0, 0]
            );
            assert!(q[3].reset >= 1 && q[3].reset <= 60);
        }
        // Buckets are independent.
        assert!(!l.check(Bucket::Article, &limits, &clock).exceeded);
    }
}
