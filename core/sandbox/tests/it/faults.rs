//! Faults on demand: 5xx, 429, truncated bodies, type drift and slow answers, set at start or
//! at runtime through `/_sandbox/faults`; the admin routes are never faulted.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bexio_bi_sandbox::{FaultPlan, SandboxConfig};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Api, small, start};

fn with_faults(spec: &str) -> SandboxConfig {
    SandboxConfig {
        faults: FaultPlan::parse(spec).expect("fault spec"),
        ..small()
    }
}

const ROUTES: &[&str] = &[
    "/2.0/contact?limit=5",
    "/2.0/kb_invoice?limit=5",
    "/2.0/contact/1",
    "/2.0/article?limit=5",
    "/3.0/accounting/journal?limit=5",
    "/3.0/taxes",
    "/3.0/users/me",
    "/4.0/purchase/bills?limit=5",
    "/4.0/expenses?limit=5",
];

#[tokio::test]
async fn server_errors_look_like_bexio_and_its_cdn() {
    let sb = start(with_faults("5xx=1")).await;
    let api = Api::new(&sb, 0);
    let mut codes = BTreeSet::new();
    for round in 0..4 {
        for route in ROUTES {
            let r = api.get(route).await;
            codes.insert(r.status);
            match r.status {
                502 => {
                    let ct = r.header("content-type").unwrap_or_default();
                    assert!(
                        ct.starts_with("text/html"),
                        "502 is the CDN's HTML page, content-type {ct:?}"
                    );
                    assert!(
                        r.text().contains("502 Bad Gateway"),
                        "502 page: {}",
                        r.text()
                    );
                }
                500 | 503 => {
                    let v = r.try_json().unwrap_or_else(|| {
                        panic!("{} on {route} must be a JSON error: {}", r.status, r.text())
                    });
                    assert_eq!(
                        v["error_code"].as_u64(),
                        Some(u64::from(r.status)),
                        "{route}: {v}"
                    );
                    assert!(v["message"].is_string(), "{route}: {v}");
                }
                other => panic!(
                    "round {round}, {route}: expected 500, 502 or 503 with 5xx=1, got {other}: {}",
                    r.text()
                ),
            }
        }
    }
    assert_eq!(
        codes,
        BTreeSet::from([500, 502, 503]),
        "all three server errors occur"
    );
    // Writes fail too.
    let r = api
        .post(
            "/2.0/contact",
            json!({"contact_type_id": 1, "name_1": "X", "user_id": 1, "owner_id": 1}),
        )
        .await;
    assert!(
        matches!(r.status, 500 | 502 | 503),
        "a write with 5xx=1: {}",
        r.status
    );
    sb.stop().await;
}

#[tokio::test]
async fn injected_429_carries_rate_limit_headers() {
    let sb = start(with_faults("429=1")).await;
    let api = Api::new(&sb, 0);
    for route in ROUTES {
        let r = api.get(route).await;
        assert_eq!(r.status, 429, "{route}");
        assert_eq!(
            r.header_num("ratelimit-remaining"),
            Some(0),
            "{route}: ratelimit-remaining"
        );
        assert_eq!(
            r.header_num("x-ratelimit-remaining-minute"),
            Some(0),
            "{route}: x-ratelimit-remaining-minute"
        );
        assert!(
            r.header_num("ratelimit-reset")
                .is_some_and(|s| (1..=60).contains(&s)),
            "{route}: ratelimit-reset {:?}",
            r.header("ratelimit-reset")
        );
        assert_eq!(
            r.header_num("ratelimit-limit"),
            r.header_num("x-ratelimit-limit-minute"),
            "{route}"
        );
        assert!(
            r.header_num("ratelimit-limit").is_some_and(|l| l > 0),
            "{route}: ratelimit-limit"
        );
        assert!(
            r.try_json().is_some_and(|v| v["message"].is_string()),
            "{route}: body {}",
            r.text()
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn truncated_bodies_break_json_but_keep_a_consistent_length() {
    let sb = start(with_faults("truncate=1")).await;
    let api = Api::new(&sb, 0);
    for route in ROUTES {
        let r = api.get(route).await;
        assert_eq!(r.status, 200, "{route}");
        let len = r.header_num("content-length");
        assert_eq!(
            len,
            Some(r.body.len() as i64),
            "{route}: Content-Length must match the (cut) body"
        );
        assert!(!r.body.is_empty(), "{route}: body is cut, not empty");
        assert!(
            serde_json::from_slice::<Value>(&r.body).is_err(),
            "{route}: a truncated body must not parse: {}",
            r.text()
        );
    }
    // With the fault removed, the same answers parse again.
    let r = api.admin(Method::PUT, "/_sandbox/faults", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    for route in ROUTES {
        assert!(
            api.get(route).await.try_json().is_some(),
            "{route} parses without faults"
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn drift_turns_position_numbers_into_strings() {
    let sb = start(with_faults("drift=1")).await;
    let api = Api::new(&sb, 0);
    let mut drifted = 0;
    // Drift never touches `id`, so the list tells which invoices exist.
    let list = api.get("/2.0/kb_invoice?limit=20").await.json();
    let ids: Vec<u64> = list
        .as_array()
        .expect("array")
        .iter()
        .map(crate::id_of)
        .collect();
    assert_eq!(ids.len(), 20);
    for id in ids {
        let r = api.get(&format!("/2.0/kb_invoice/{id}")).await;
        assert_eq!(r.status, 200, "invoice {id}");
        let v = r.json();
        for p in v["positions"].as_array().expect("positions") {
            match p.get("pos") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => {
                    assert!(
                        s.parse::<u32>().is_ok(),
                        "invoice {id}: pos {s:?} is a number as a string"
                    );
                    drifted += 1;
                }
                Some(other) => panic!(
                    "invoice {id}: with drift=1 every positions[].pos is a string, got {other} in {p}"
                ),
            }
        }
    }
    assert!(drifted > 0, "no position with a pos at all");
    sb.stop().await;
}

#[tokio::test]
async fn slow_answers_wait() {
    let sb = start(with_faults("slow=1:300ms")).await;
    let api = Api::new(&sb, 0);
    for route in ["/2.0/contact?limit=1", "/3.0/users/me"] {
        let t = Instant::now();
        let r = api.get(route).await;
        let took = t.elapsed();
        assert_eq!(r.status, 200, "{route}");
        assert!(
            took >= Duration::from_millis(300),
            "{route} took {took:?}, expected at least 300 ms"
        );
    }
    // Admin routes are not slowed down.
    let t = Instant::now();
    api.stats().await;
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "stats took {:?}",
        t.elapsed()
    );
    sb.stop().await;
}

#[tokio::test]
async fn the_plan_changes_at_runtime_and_bad_specs_are_refused() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    assert_eq!(
        api.get("/2.0/contact?limit=1").await.status,
        200,
        "no faults at start"
    );

    let r = api.admin(Method::PUT, "/_sandbox/faults", "5xx=1").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let plan = api.admin(Method::GET, "/_sandbox/faults", "").await.json();
    assert_eq!(
        plan["server_error"].as_f64(),
        Some(1.0),
        "GET /_sandbox/faults shows the plan: {plan}"
    );
    for _ in 0..5 {
        let s = api.get("/2.0/contact?limit=1").await.status;
        assert!(matches!(s, 500 | 502 | 503), "5xx=1 at runtime: {s}");
    }

    let r = api.admin(Method::PUT, "/_sandbox/faults", "429=1").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(api.get("/2.0/contact?limit=1").await.status, 429);

    for (spec, must_name) in [
        ("explode=0.5", "explode"),
        ("429=2", "429=2"),
        ("slow=0.5:soon", "slow"),
        ("5xx", "5xx"),
    ] {
        let r = api.admin(Method::PUT, "/_sandbox/faults", spec).await;
        assert_eq!(r.status, 422, "bad spec {spec:?}: {}", r.text());
        let v = r.json();
        let msg = v["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(must_name),
            "the error for {spec:?} names the problem: {msg:?}"
        );
        assert_eq!(v["error_code"], 422, "{v}");
    }
    // A refused spec leaves the plan as it was.
    assert_eq!(
        api.get("/2.0/contact?limit=1").await.status,
        429,
        "the plan is unchanged after a bad spec"
    );

    let r = api.admin(Method::PUT, "/_sandbox/faults", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        api.get("/2.0/contact?limit=1").await.status,
        200,
        "faults off again"
    );
    sb.stop().await;
}

#[tokio::test]
async fn admin_routes_are_never_faulted() {
    let sb = start(with_faults("5xx=1")).await;
    let api = Api::new(&sb, 0);
    for spec in [
        "5xx=1",
        "429=1",
        "truncate=1,drift=1",
        "slow=1:400ms,truncate=1",
    ] {
        let r = api.admin(Method::PUT, "/_sandbox/faults", spec).await;
        assert_eq!(r.status, 200, "set {spec}: {}", r.text());
        assert!(
            r.try_json().is_some(),
            "the answer to PUT {spec} is intact JSON: {}",
            r.text()
        );
        for _ in 0..3 {
            let t = Instant::now();
            let stats = api.admin(Method::GET, "/_sandbox/stats", "").await;
            assert_eq!(stats.status, 200, "stats under {spec}");
            assert!(
                stats.try_json().is_some(),
                "stats under {spec} is intact JSON"
            );
            assert!(
                t.elapsed() < Duration::from_millis(400),
                "stats under {spec} is not slowed"
            );
            let faults = api.admin(Method::GET, "/_sandbox/faults", "").await;
            assert_eq!(faults.status, 200, "faults under {spec}");
            assert!(
                faults.try_json().is_some(),
                "faults under {spec} is intact JSON"
            );
        }
        let adv = api
            .admin(Method::POST, "/_sandbox/advance?days=1", "")
            .await;
        assert_eq!(adv.status, 200, "advance under {spec}: {}", adv.text());
        assert!(
            adv.try_json().is_some(),
            "advance under {spec} is intact JSON"
        );
    }
    sb.stop().await;
}
