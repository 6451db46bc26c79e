//! Rate limits: per company, per calendar minute (of simulated time), in separate buckets,
//! with bexio's (Kong's) headers.

use std::time::{Duration, Instant};

use bexio_bi_sandbox::{Limits, SandboxConfig};
use serde_json::json;

use crate::{Api, Resp, small, start};

const LIMITS: Limits = Limits {
    default: 20,
    article: 8,
    search: 5,
};

fn config(time_scale: f64, companies: usize) -> SandboxConfig {
    SandboxConfig {
        limits: LIMITS,
        time_scale,
        companies,
        ..small()
    }
}

/// Waits until the current rate-limit window has at least `need` real seconds left, so that a
/// burst of requests stays inside one window.
async fn fresh_window(api: &Api, need: f64) {
    // `/_sandbox/stats` tells the simulated time and is not rate limited.
    let stats = api.stats().await;
    let now = stats["clock"]["simulated_now"]
        .as_f64()
        .expect("simulated_now");
    let scale = stats["clock"]["time_scale"].as_f64().expect("time_scale");
    let left_real = (60.0 - now.rem_euclid(60.0)) / scale;
    if left_real < need {
        tokio::time::sleep(Duration::from_secs_f64(left_real + 0.05 / scale)).await;
    }
}

fn quota(r: &Resp) -> (i64, i64, i64, i64, i64) {
    (
        r.header_num("ratelimit-limit").unwrap_or(-1),
        r.header_num("ratelimit-remaining").unwrap_or(-1),
        r.header_num("ratelimit-reset").unwrap_or(-1),
        r.header_num("x-ratelimit-limit-minute").unwrap_or(-1),
        r.header_num("x-ratelimit-remaining-minute").unwrap_or(-1),
    )
}

/// Sends `n` requests of one kind and returns the answers.
async fn burst(api: &Api, kind: &str, n: usize) -> Vec<Resp> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(match kind {
            "default" => api.get("/2.0/contact?limit=1").await,
            "article" => api.get("/2.0/article?limit=1").await,
            "search" => {
                api.post(
                    "/2.0/contact/search?limit=1",
                    json!([{"field": "name_1", "value": "a", "criteria": "like"}]),
                )
                .await
            }
            other => panic!("unknown bucket {other}"),
        });
    }
    out
}

/// The first `limit` answers succeed with the remaining count going down to 0; the next is a
/// 429 with `ratelimit-remaining: 0` and a reset within the minute.
fn assert_bucket(kind: &str, answers: &[Resp], limit: u32) {
    let limit = limit as usize;
    assert_eq!(answers.len(), limit + 1);
    for (i, r) in answers[..limit].iter().enumerate() {
        assert_eq!(
            r.status,
            200,
            "{kind} request {} of {limit}: {} {}",
            i + 1,
            r.status,
            r.text()
        );
        let (l, rem, reset, lm, rem_m) = quota(r);
        assert_eq!(l, limit as i64, "{kind}: ratelimit-limit");
        assert_eq!(
            lm, limit as i64,
            "{kind}: x-ratelimit-limit-minute equals the limit"
        );
        assert_eq!(
            rem,
            (limit - i - 1) as i64,
            "{kind}: ratelimit-remaining after {} requests",
            i + 1
        );
        assert_eq!(rem_m, rem, "{kind}: x-ratelimit-remaining-minute");
        assert!((0..=60).contains(&reset), "{kind}: ratelimit-reset {reset}");
    }
    let over = &answers[limit];
    assert_eq!(
        over.status,
        429,
        "{kind}: request {} must be refused: {}",
        limit + 1,
        over.text()
    );
    let (l, rem, reset, lm, _) = quota(over);
    assert_eq!(rem, 0, "{kind}: ratelimit-remaining on the 429");
    assert!(
        (1..=60).contains(&reset),
        "{kind}: ratelimit-reset {reset} must be in 1..=60"
    );
    assert_eq!(l, limit as i64, "{kind}: ratelimit-limit on the 429");
    assert_eq!(
        lm, limit as i64,
        "{kind}: x-ratelimit-limit-minute on the 429"
    );
    assert!(
        over.try_json().is_some_and(|v| v["message"].is_string()),
        "{kind}: 429 body {}",
        over.text()
    );
}

#[tokio::test]
async fn the_request_past_the_limit_is_refused_until_the_minute_ends() {
    let sb = start(config(1.0, 1)).await;
    let api = Api::new(&sb, 0);
    fresh_window(&api, 8.0).await;
    let answers = burst(&api, "default", 21).await;
    assert_bucket("default", &answers, LIMITS.default);
    // Still refused right after, and counted as throttled.
    let again = api.get("/2.0/kb_invoice?limit=1").await;
    assert_eq!(
        again.status, 429,
        "another default-bucket route shares the counter"
    );
    let stats = api.stats().await;
    let req = &stats["companies"][0]["requests"];
    assert_eq!(req["by_bucket"]["default"], 20, "served requests: {req}");
    assert!(
        req["throttled"].as_u64() >= Some(2),
        "throttled requests: {req}"
    );
    sb.stop().await;
}

#[tokio::test]
async fn buckets_are_independent() {
    let sb = start(config(1.0, 1)).await;
    let api = Api::new(&sb, 0);
    fresh_window(&api, 10.0).await;
    // Exhaust the default bucket; articles and searches still work, with their own limits.
    let answers = burst(&api, "default", 21).await;
    assert_bucket("default", &answers, LIMITS.default);
    let answers = burst(&api, "article", 9).await;
    assert_bucket("article", &answers, LIMITS.article);
    let answers = burst(&api, "search", 6).await;
    assert_bucket("search", &answers, LIMITS.search);
    // Invoice searches and PDFs share the search bucket, which is now empty.
    let r = api
        .post(
            "/2.0/kb_invoice/search",
            json!([{"field": "id", "value": "1", "criteria": "="}]),
        )
        .await;
    assert_eq!(
        r.status, 429,
        "invoice search counts against the search bucket"
    );
    let r = api.get("/2.0/kb_invoice/1/pdf").await;
    assert_eq!(
        r.status, 429,
        "invoice PDF counts against the search bucket"
    );
    sb.stop().await;
}

#[tokio::test]
async fn each_company_has_its_own_counters() {
    let sb = start(config(1.0, 2)).await;
    let a = Api::new(&sb, 0);
    let b = Api::new(&sb, 1);
    fresh_window(&a, 8.0).await;
    let answers = burst(&a, "default", 21).await;
    assert_bucket("default (company A)", &answers, LIMITS.default);
    let r = b.get("/2.0/contact?limit=1").await;
    assert_eq!(
        r.status,
        200,
        "company B is not throttled by company A: {}",
        r.text()
    );
    assert_eq!(
        quota(&r).1,
        i64::from(LIMITS.default) - 1,
        "company B starts its own count"
    );
    let r = a.get("/2.0/contact?limit=1").await;
    assert_eq!(r.status, 429, "company A is still throttled");
    sb.stop().await;
}

#[tokio::test]
async fn a_faster_clock_resets_the_window_in_real_seconds() {
    let before_start = Instant::now();
    let sb = start(config(60.0, 1)).await;
    let after_start = Instant::now();
    let api = Api::new(&sb, 0);
    // A simulated minute lasts one real second; keep the burst inside one of them.
    let mut refused = None;
    for _attempt in 0..5 {
        // The window lasts one real second: start the burst at the beginning of a fresh one.
        let stats = api.stats().await;
        let now = stats["clock"]["simulated_now"].as_f64().expect("now");
        let left = (60.0 - now.rem_euclid(60.0)) / 60.0;
        tokio::time::sleep(Duration::from_secs_f64(left + 0.02)).await;
        let answers = burst(&api, "default", 21).await;
        let remaining: Vec<i64> = answers.iter().map(|r| quota(r).1).collect();
        let monotone = answers[..20].iter().all(|r| r.status == 200)
            && remaining[..20].windows(2).all(|w| w[0] == w[1] + 1);
        if monotone && answers[20].status == 429 {
            assert_bucket("default at ×60", &answers, LIMITS.default);
            refused = Some(answers[20].clone());
            break;
        }
        // The window turned over during the burst (slow machine): try again.
    }
    let refused = refused.expect(
        "could not fit 21 requests into one simulated minute (one real second) in 5 attempts",
    );
    let reset = quota(&refused).2;
    assert!((1..=60).contains(&reset), "ratelimit-reset {reset}");
    assert!(
        reset <= 1,
        "at ×60 the reset counts real seconds: at most 1, got {reset}"
    );
    tokio::time::sleep(Duration::from_secs(reset as u64)).await;
    let r = api.get("/2.0/contact?limit=1").await;
    assert_eq!(
        r.status,
        200,
        "after waiting ratelimit-reset seconds the window has reset: {}",
        r.text()
    );

    // The sandbox reports simulated time at 60× real time.
    let stats = api.stats().await;
    let real_max = before_start.elapsed().as_secs_f64();
    let real_min = after_start.elapsed().as_secs_f64();
    let simulated = stats["clock"]["simulated_seconds"]
        .as_f64()
        .expect("simulated_seconds");
    assert_eq!(stats["clock"]["time_scale"].as_f64(), Some(60.0));
    assert!(
        simulated >= real_min * 60.0 * 0.95 - 1.0 && simulated <= real_max * 60.0 * 1.05 + 1.0,
        "simulated {simulated:.1}s should be about 60 × real ({real_min:.2}..{real_max:.2}s)"
    );
    sb.stop().await;
}
