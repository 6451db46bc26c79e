//! The client against the sandbox: limits obeyed without 429s, faults retried away, every page
//! of every paging style read once, and clear errors for bad tokens.

use std::time::Instant;

use bexio::client::{Client, ClientError, Paging, RetryPolicy};
use bexio_bi_sandbox::{FaultPlan, Limits, Sandbox, SandboxConfig};

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

async fn sandbox(config: SandboxConfig) -> (Sandbox, Client) {
    let sb = Sandbox::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox");
    let t = sb.ready().tenants[0].clone();
    let client = Client::new(sb.url(), &t.company_id, &t.token, fast_retries()).expect("client");
    (sb, client)
}

async fn invoice_ids(client: &Client) -> Vec<i64> {
    let mut ids = Vec::new();
    client
        .pages(Paging::Offset, "/2.0/kb_invoice", 500, |a| {
            let v: Vec<serde_json::Value> = serde_json::from_slice(&a.body).expect("page");
            ids.extend(v.iter().filter_map(|i| i["id"].as_i64()));
            true
        })
        .await
        .expect("pages");
    ids
}

#[tokio::test]
async fn a_detail_per_invoice_stays_under_the_limit() {
    // 40 requests a minute, a simulated minute every half second: 300 detail requests need
    // eight windows, and the limiter must wait for them instead of drawing 429s.
    let limits = Limits {
        default: 40,
        article: 20,
        search: 10,
    };
    let (sb, client) = sandbox(SandboxConfig {
        invoices: 300,
        limits,
        time_scale: 120.0,
        ..SandboxConfig::default()
    })
    .await;
    let started = Instant::now();
    let ids = invoice_ids(&client).await;
    assert_eq!(ids.len(), 300);
    for id in &ids {
        client
            .get(&format!("/2.0/kb_invoice/{id}"))
            .await
            .expect("detail");
    }
    let stats = client.stats();
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert!(
        stats.waited_ms > 0,
        "the limiter waited for new windows: {stats:?}"
    );
    assert_eq!(stats.requests, 301);
    assert!(started.elapsed().as_secs() < 30);
    sb.stop().await;
}

#[tokio::test]
async fn faults_are_retried_away() {
    let (clean_sb, clean) = sandbox(SandboxConfig {
        invoices: 200,
        ..SandboxConfig::default()
    })
    .await;
    let expected = invoice_ids(&clean).await;
    let mut details = Vec::new();
    for id in expected.iter().take(60) {
        details.push(
            clean
                .get(&format!("/2.0/kb_invoice/{id}"))
                .await
                .expect("detail")
                .body,
        );
    }
    clean_sb.stop().await;

    let faults = FaultPlan::parse("429=0.1,5xx=0.15,truncate=0.1").expect("faults");
    // A minute per second, so that waiting for the reset after an injected 429 stays short.
    let (sb, client) = sandbox(SandboxConfig {
        invoices: 200,
        faults,
        time_scale: 60.0,
        ..SandboxConfig::default()
    })
    .await;
    assert_eq!(invoice_ids(&client).await, expected);
    for (id, body) in expected.iter().take(60).zip(&details) {
        let got = client
            .get(&format!("/2.0/kb_invoice/{id}"))
            .await
            .expect("detail despite faults");
        assert_eq!(&got.body, body, "invoice {id} arrives whole");
    }
    let stats = client.stats();
    assert!(stats.retries > 0 && stats.throttled > 0, "{stats:?}");
    sb.stop().await;
}

#[tokio::test]
async fn every_paging_style_reads_each_record_once() {
    let (sb, client) = sandbox(SandboxConfig {
        invoices: 300,
        ..SandboxConfig::default()
    })
    .await;
    let stats: serde_json::Value =
        serde_json::from_slice(&client.get("/_sandbox/stats").await.expect("stats").body)
            .expect("json");
    let counts = &stats["companies"][0]["stats"]["counts"];
    let mut journal = std::collections::HashSet::new();
    let pages = client
        .pages(Paging::OffsetTotal, "/3.0/accounting/journal", 700, |a| {
            let v: Vec<serde_json::Value> = serde_json::from_slice(&a.body).expect("page");
            for j in v {
                assert!(
                    journal.insert(j["id"].as_i64().expect("id")),
                    "journal row read twice"
                );
            }
            true
        })
        .await
        .expect("journal");
    assert_eq!(
        journal.len() as u64,
        counts["accounting/journal"].as_u64().expect("count")
    );
    assert!(pages > 1);
    let mut bills = std::collections::HashSet::new();
    client
        .pages(Paging::Page, "/4.0/purchase/bills", 100, |a| {
            let v: serde_json::Value = serde_json::from_slice(&a.body).expect("page");
            for b in v["data"].as_array().expect("data") {
                assert!(
                    bills.insert(b["id"].as_str().expect("id").to_owned()),
                    "bill read twice"
                );
            }
            true
        })
        .await
        .expect("bills");
    assert_eq!(
        bills.len() as u64,
        counts["purchase/bills"].as_u64().expect("count")
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_bad_token_is_an_actionable_error() {
    let (sb, client) = sandbox(SandboxConfig {
        invoices: 100,
        ..SandboxConfig::default()
    })
    .await;
    client.set_token("not-a-token");
    let err = client.get("/2.0/contact").await.expect_err("refused");
    assert!(matches!(err, ClientError::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&sb.ready().tenants[0].company_id) && text.contains("expired"),
        "{text}"
    );
    assert_eq!(client.stats().retries, 0, "a 401 is not retried");
    sb.stop().await;
}
