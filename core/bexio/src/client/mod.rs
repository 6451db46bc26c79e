//! The HTTP client of one bexio company: rate limits obeyed, failures retried, pages walked.
//!
//! - Every request first asks the [`Limiter`] of its bucket; answers update it from bexio's
//!   `ratelimit-*` headers. A 429 makes the bucket wait for its reset, then the request is sent
//!   again (429s do not use up the retry budget).
//! - 5xx answers, timeouts, dropped connections and bodies that are not complete JSON are retried
//!   with exponential backoff and jitter, up to [`RetryPolicy::attempts`].
//! - 401 and 403 are not retried: they become [`ClientError::Unauthorized`] (the token is wrong or
//!   expired) and [`ClientError::Forbidden`] (a scope is missing), with what to do about it. A
//!   [`TokenSource`] that can renew its token (OAuth, [`oauth::Refreshing`]) gets one chance per
//!   request to do so after a 401; concurrent 401s for the same token renew it once.
//! - [`Client::pages`] walks all three paging styles of bexio's API generations.

mod limiter;
pub mod oauth;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::time::Instant;

pub use limiter::{Bucket, Limiter};

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request for 5xx, timeouts and broken bodies (at least 1).
    pub attempts: u32,
    /// First backoff; doubled each time, with jitter.
    pub base_delay: Duration,
    /// Longest backoff.
    pub max_delay: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Most 429s tolerated for one request before giving up (each waits for the reset).
    pub max_throttled: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
            max_throttled: 20,
        }
    }
}

/// Why a request failed for good.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The token was refused.
    #[error(
        "bexio refused the token for {company} ({path}: HTTP 401 {message}); the token is wrong, expired (PATs last 60 days) or revoked: create a new one and store it again"
    )]
    Unauthorized {
        /// The company.
        company: String,
        /// The route.
        path: String,
        /// bexio's message.
        message: String,
    },
    /// A scope is missing.
    #[error(
        "bexio refused {path} for {company}: HTTP 403 {message}; the token lacks the scope for it (grant it in bexio and log in again)"
    )]
    Forbidden {
        /// The company.
        company: String,
        /// The route.
        path: String,
        /// bexio's message (names the scope).
        message: String,
    },
    /// The record or route does not exist.
    #[error("{path}: not found (HTTP 404)")]
    NotFound {
        /// The route.
        path: String,
    },
    /// Another 4xx: the request itself is wrong.
    #[error("{path}: HTTP {status}: {message}")]
    Rejected {
        /// The route.
        path: String,
        /// HTTP status.
        status: u16,
        /// bexio's message.
        message: String,
    },
    /// Retries did not help.
    #[error("{path}: gave up after {attempts} attempts; last problem: {last}")]
    GaveUp {
        /// The route.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The request could not be built (a bad base URL).
    #[error("cannot request {path}: {message}")]
    Request {
        /// The route.
        path: String,
        /// Why.
        message: String,
    },
    /// The OAuth sign-in is over: bexio refused the refresh token (expired after a year unused,
    /// revoked, or used twice, which revokes the whole sign-in).
    #[error(
        "bexio no longer accepts the OAuth sign-in of {company} ({reason}); sign in again: bexio-bi auth login --tenant {company}"
    )]
    SignedOut {
        /// The company.
        company: String,
        /// bexio's words.
        reason: String,
    },
    /// Renewed OAuth tokens could not be stored, so they are not used: bexio has retired the
    /// stored refresh token, and an unstored one would be lost with this process.
    #[error(
        "cannot store the renewed OAuth tokens of {company} ({message}); fix that, then sign in again: bexio-bi auth login --tenant {company}"
    )]
    NotKept {
        /// The company.
        company: String,
        /// Why.
        message: String,
    },
}

/// Counters of a client, for summaries.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests sent (attempts included).
    pub requests: AtomicU64,
    /// 429 answers received.
    pub throttled: AtomicU64,
    /// Attempts repeated after a failure.
    pub retries: AtomicU64,
    /// Milliseconds spent waiting for rate-limit windows.
    pub waited_ms: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Requests sent.
    pub requests: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Retries.
    pub retries: u64,
    /// Milliseconds waited for rate limits.
    pub waited_ms: u64,
}

/// An answer that arrived in full.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status (2xx).
    pub status: u16,
    /// `x-total-count` of 3.0 lists.
    pub total_count: Option<u64>,
    /// The body.
    pub body: Vec<u8>,
}

/// How a route pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// 2.0: `limit`/`offset`; a page shorter than `limit` is the last.
    Offset,
    /// 3.0: `limit`/`offset` with `x-total-count`.
    OffsetTotal,
    /// 4.0: `page`/`limit` with a `{data, paging}` envelope.
    Page,
}

/// The future of a [`TokenSource`] call (boxed: clients hold their source as a trait object).
pub type TokenFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send + 'a>>;

/// Where a client gets its bearer token: a fixed one ([`FixedToken`], a Personal Access Token)
/// or one that is renewed ([`oauth::Refreshing`]).
pub trait TokenSource: Send + Sync {
    /// The token for the next request (a source may renew it first when it knows it expired).
    fn bearer(&self) -> TokenFuture<'_, String>;

    /// `rejected` drew a 401. Renew it and answer `true` to have the request sent once more, or
    /// `false` when there is nothing to renew (the default). Called by every request that was
    /// refused, possibly at once: a source renews only when `rejected` is still its current token.
    fn refresh<'a>(&'a self, rejected: &'a str) -> TokenFuture<'a, bool> {
        let _ = rejected;
        Box::pin(async { Ok(false) })
    }
}

/// A token that never changes, such as a Personal Access Token.
#[derive(Clone)]
pub struct FixedToken(pub String);

impl std::fmt::Debug for FixedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedToken(..)")
    }
}

impl TokenSource for FixedToken {
    fn bearer(&self) -> TokenFuture<'_, String> {
        Box::pin(async { Ok(self.0.clone()) })
    }
}

/// A client of one company's bexio.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    company: String,
    source: Arc<RwLock<Arc<dyn TokenSource>>>,
    limiter: Arc<Mutex<Limiter>>,
    policy: RetryPolicy,
    counters: Arc<Counters>,
}

fn header_num(h: &reqwest::header::HeaderMap, name: &str) -> Option<u64> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok())
}

fn message_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

impl Client {
    /// A client of the company `company` at `base` (`https://api.bexio.com` or a sandbox URL)
    /// with a fixed token (a Personal Access Token).
    pub fn new(
        base: &str,
        company: &str,
        token: &str,
        policy: RetryPolicy,
    ) -> Result<Client, ClientError> {
        Client::with_source(
            base,
            company,
            Arc::new(FixedToken(token.to_owned())),
            policy,
        )
    }

    /// A client whose token comes from `source` (OAuth: [`oauth::Refreshing`]).
    pub fn with_source(
        base: &str,
        company: &str,
        source: Arc<dyn TokenSource>,
        policy: RetryPolicy,
    ) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("bexio-bi/", env!("CARGO_PKG_VERSION")))
            .timeout(policy.timeout)
            .connect_timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ClientError::Request {
                path: base.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_owned(),
            company: company.to_owned(),
            source: Arc::new(RwLock::new(source)),
            limiter: Arc::new(Mutex::new(Limiter::default())),
            policy: RetryPolicy {
                attempts: policy.attempts.max(1),
                ..policy
            },
            counters: Arc::new(Counters::default()),
        })
    }

    /// Replaces the token source by a fixed token (for this client and its clones).
    pub fn set_token(&self, token: &str) {
        *self.source.write() = Arc::new(FixedToken(token.to_owned()));
    }

    /// What this client did so far.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            waited_ms: c.waited_ms.load(Ordering::Relaxed),
        }
    }

    /// `GET` a route (path and query); the body is complete JSON.
    pub async fn get(&self, path: &str) -> Result<Answer, ClientError> {
        self.send("GET", path, None).await
    }

    /// `POST` a JSON body (searches); the answer is complete JSON.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Result<Answer, ClientError> {
        self.send("POST", path, Some(body)).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, ClientError> {
        let bucket = Bucket::of(method, path);
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0u32;
        let mut throttled = 0u32;
        let mut renewed = false;
        loop {
            // Before the budget is taken: renewing the token may take a while.
            let source = Arc::clone(&*self.source.read());
            let token = source.bearer().await?;
            self.wait_for_budget(bucket).await;
            // Released on every path, also when this future is dropped mid-request.
            let mut permit = Permit {
                limiter: &self.limiter,
                bucket,
                settled: false,
            };
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let mut req = match method {
                "POST" => self.http.post(&url),
                _ => self.http.get(&url),
            }
            .bearer_auth(&token)
            .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let problem = match req.send().await {
                Err(e) => {
                    permit.settle(|l| l.release(bucket));
                    if e.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        e.to_string()
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let remaining = header_num(&headers, "ratelimit-remaining")
                        .map(|v| v.min(u64::from(u32::MAX)) as u32);
                    let reset = header_num(&headers, "ratelimit-reset");
                    let now = Instant::now();
                    if status == 429 {
                        self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                        let wait = header_num(&headers, "retry-after").or(reset).unwrap_or(1);
                        permit.settle(|l| l.exhausted(bucket, wait, now));
                        throttled += 1;
                        if throttled > self.policy.max_throttled {
                            return Err(ClientError::GaveUp {
                                path: path.to_owned(),
                                attempts: attempt + throttled,
                                last: "HTTP 429 over and over".into(),
                            });
                        }
                        continue;
                    }
                    if remaining.is_some() || reset.is_some() {
                        permit.settle(|l| l.observe(bucket, remaining, reset, now));
                    } else {
                        permit.settle(|l| l.release(bucket));
                    }
                    match resp.bytes().await {
                        Err(e) => format!("the body broke off: {e}"),
                        Ok(bytes) => {
                            let bytes = bytes.to_vec();
                            match status {
                                200..=299 => {
                                    // A cut-off body is not JSON: fetch it again.
                                    if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
                                        .is_ok()
                                    {
                                        return Ok(Answer {
                                            status,
                                            total_count: header_num(&headers, "x-total-count"),
                                            body: bytes,
                                        });
                                    }
                                    "the body is not complete JSON".to_owned()
                                }
                                401 => {
                                    // An access token that expired mid-sync: renew it once.
                                    if !renewed && source.refresh(&token).await? {
                                        renewed = true;
                                        continue;
                                    }
                                    return Err(ClientError::Unauthorized {
                                        company: self.company.clone(),
                                        path: path.to_owned(),
                                        message: message_of(&bytes),
                                    });
                                }
                                403 => {
                                    return Err(ClientError::Forbidden {
                                        company: self.company.clone(),
                                        path: path.to_owned(),
                                        message: message_of(&bytes),
                                    });
                                }
                                404 => {
                                    return Err(ClientError::NotFound {
                                        path: path.to_owned(),
                                    });
                                }
                                400..=499 => {
                                    return Err(ClientError::Rejected {
                                        path: path.to_owned(),
                                        status,
                                        message: message_of(&bytes),
                                    });
                                }
                                _ => format!("HTTP {status}: {}", message_of(&bytes)),
                            }
                        }
                    }
                }
            };
            attempt += 1;
            if attempt >= self.policy.attempts {
                return Err(ClientError::GaveUp {
                    path: path.to_owned(),
                    attempts: attempt,
                    last: problem,
                });
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(path, attempt, %problem, "retrying");
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    async fn wait_for_budget(&self, bucket: Bucket) {
        loop {
            let wait = self.limiter.lock().acquire(bucket, Instant::now());
            if wait.is_zero() {
                return;
            }
            self.counters
                .waited_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            tracing::debug!(
                ?bucket,
                wait_ms = wait.as_millis() as u64,
                "waiting for the rate-limit window"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Exponential backoff with full jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .policy
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.policy.max_delay);
        // Jitter from the clock's nanoseconds: good enough to spread retries of parallel streams.
        let nanos = u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos()),
        );
        let share = (nanos % 1000) as f64 / 1000.0;
        exp.mul_f64(0.5 + share / 2.0)
    }

    /// Walks every page of a list route, calling `on_page` with each body in order; stops early
    /// when `on_page` returns `false`. Returns the number of pages.
    pub async fn pages(
        &self,
        paging: Paging,
        path: &str,
        limit: u32,
        mut on_page: impl FnMut(&Answer) -> bool,
    ) -> Result<usize, ClientError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut pages = 0;
        match paging {
            Paging::Offset | Paging::OffsetTotal => {
                let mut offset: u64 = 0;
                loop {
                    let answer = self
                        .get(&format!("{path}{sep}limit={limit}&offset={offset}"))
                        .await?;
                    pages += 1;
                    let n = count_records(&answer.body)
                        .ok_or_else(|| shape_error(path, "a list of records"))?;
                    if !on_page(&answer) {
                        return Ok(pages);
                    }
                    offset += n as u64;
                    let done = match (paging, answer.total_count) {
                        (Paging::OffsetTotal, Some(total)) => offset >= total || n == 0,
                        _ => (n as u32) < limit,
                    };
                    if done {
                        return Ok(pages);
                    }
                }
            }
            Paging::Page => {
                let mut page: u64 = 1;
                loop {
                    let answer = self
                        .get(&format!("{path}{sep}limit={limit}&page={page}"))
                        .await?;
                    pages += 1;
                    let page_count = serde_json::from_slice::<serde_json::Value>(&answer.body)
                        .ok()
                        .and_then(|v| v["paging"]["page_count"].as_u64())
                        .ok_or_else(|| shape_error(path, "a 4.0 page with paging.page_count"))?;
                    if !on_page(&answer) || page >= page_count {
                        return Ok(pages);
                    }
                    page += 1;
                }
            }
        }
    }
}

/// A request counted as in flight by the limiter until it is settled (answered, refused, failed)
/// or dropped.
struct Permit<'a> {
    limiter: &'a Mutex<Limiter>,
    bucket: Bucket,
    settled: bool,
}

impl Permit<'_> {
    fn settle(&mut self, f: impl FnOnce(&mut Limiter)) {
        f(&mut self.limiter.lock());
        self.settled = true;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.limiter.lock().release(self.bucket);
        }
    }
}

fn shape_error(path: &str, expected: &str) -> ClientError {
    ClientError::Rejected {
        path: path.to_owned(),
        status: 200,
        message: format!("the answer is not {expected}"),
    }
}

/// Records in a list body (an array, or a 4.0 envelope's `data`).
fn count_records(body: &[u8]) -> Option<usize> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Page {
        List(Vec<serde::de::IgnoredAny>),
        Envelope { data: Vec<serde::de::IgnoredAny> },
    }
    match serde_json::from_slice::<Page>(body) {
        Ok(Page::List(v)) | Ok(Page::Envelope { data: v }) => Some(v.len()),
        Err(_) => None,
    }
}
