//! A whole company synced from the sandbox: the store's tables equal the sandbox's ground truth,
//! with or without faults.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use bexio::client::{Client, RetryPolicy};
use bexio_bi_sandbox::{FaultPlan, Sandbox, SandboxConfig};
use bexio_bi_store::Store;
use bexio_bi_sync::{Options, Silent, sync};
use rust_decimal::Decimal;

fn temp_store(tag: &str) -> Store {
    let dir = std::env::temp_dir().join(format!(
        "bexio-bi-sync-{tag}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    Store::open(dir).expect("store")
}

async fn run(
    faults: &str,
) -> (
    BTreeMap<String, u64>,
    BTreeMap<String, Decimal>,
    serde_json::Value,
    u64,
    bexio::client::Stats,
) {
    let config = SandboxConfig {
        invoices: 400,
        faults: FaultPlan::parse(faults).expect("faults"),
        time_scale: 60.0,
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox");
    let t = sb.ready().tenants[0].clone();
    let policy = RetryPolicy {
        base_delay: std::time::Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let client = Client::new(sb.url(), &t.company_id, &t.token, policy).expect("client");
    let store = temp_store(if faults.is_empty() { "clean" } else { "faults" });
    let report = sync(
        &t.company_id,
        &client,
        &store,
        Options::default(),
        Arc::new(Silent),
    )
    .await
    .expect("sync");
    let stats: serde_json::Value = reqwest_stats(sb.url()).await;
    sb.stop().await;
    // Invoice totals per currency, read back from the store.
    let snap = store
        .latest(&t.company_id)
        .expect("latest")
        .expect("snapshot");
    let inv = &bexio_bi_model::catalog::FACT_INVOICE;
    let (cur, total) = (
        inv.index_of("currency_code").expect("col"),
        inv.index_of("total").expect("col"),
    );
    let mut sums = BTreeMap::new();
    for batch in snap.read("fact_invoice").expect("invoices") {
        let b = batch.expect("batch");
        let codes = b.column(cur).as_string::<i32>();
        let totals = b.column(total).as_primitive::<Decimal128Type>();
        for i in 0..b.num_rows() {
            *sums
                .entry(codes.value(i).to_owned())
                .or_insert(Decimal::ZERO) += Decimal::from_i128_with_scale(totals.value(i), 2);
        }
    }
    (report.tables, sums, stats, report.rejected, report.http)
}

async fn reqwest_stats(url: &str) -> serde_json::Value {
    let c = Client::new(url, "admin", "", RetryPolicy::default()).expect("client");
    serde_json::from_slice(&c.get("/_sandbox/stats").await.expect("stats").body).expect("json")
}

#[tokio::test]
async fn a_full_sync_equals_the_ground_truth() {
    let (tables, sums, stats, rejected, http) = run("").await;
    assert_eq!(rejected, 0);
    let truth = &stats["companies"][0]["stats"];
    let counts = &truth["counts"];
    let c = |k: &str| counts[k].as_u64().unwrap_or_else(|| panic!("no count {k}"));
    let expect = [
        ("dim_contact", c("contact") + c("contact_archived")),
        ("fact_invoice", c("kb_invoice")),
        ("fact_invoice_line", c("kb_invoice_position")),
        ("fact_payment", c("kb_invoice_payment")),
        ("fact_quote", c("kb_offer")),
        ("fact_order", c("kb_order")),
        ("fact_journal", c("accounting/journal")),
        ("fact_timesheet", c("timesheet")),
        ("fact_bill", c("purchase/bills")),
        ("fact_expense", c("expenses")),
        ("dim_article", c("article")),
        ("dim_account", c("accounts")),
    ];
    for (table, n) in expect {
        assert_eq!(tables.get(table).copied().unwrap_or(0), n, "{table}");
    }
    let expected: BTreeMap<String, Decimal> = truth["invoices"]["by_currency"]
        .as_object()
        .expect("by currency")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["sum_total"]
                    .as_str()
                    .expect("sum")
                    .parse()
                    .expect("decimal"),
            )
        })
        .collect();
    assert_eq!(sums, expected);
    assert_eq!(http.throttled, 0);
    // One detail request per invoice is the floor; payments only for invoices that were paid.
    let invoices = c("kb_invoice");
    assert!(
        http.requests < invoices * 2 + 60,
        "{} requests for {invoices} invoices",
        http.requests
    );
}

#[tokio::test]
async fn faults_do_not_change_the_tables() {
    let (clean, clean_sums, _, _, _) = run("").await;
    let (faulty, faulty_sums, _, rejected, http) = run("429=0.01,5xx=0.1,truncate=0.05").await;
    assert_eq!(rejected, 0);
    assert_eq!(faulty, clean);
    assert_eq!(faulty_sums, clean_sums);
    assert!(http.retries > 0 && http.throttled > 0, "{http:?}");
}
