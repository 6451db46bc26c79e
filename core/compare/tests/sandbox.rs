//! The comparator on sandbox data: after `/_sandbox/advance`, the diff of the two syncs lists
//! exactly the invoices that `advance` created, changed and deleted, with the right totals.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bexio::client::{Client, RetryPolicy};
use bexio_bi_sandbox::{Sandbox, SandboxConfig};
use bexio_bi_store::Store;
use rust_decimal::Decimal;

async fn admin(sb: &Sandbox, post: bool, path: &str) -> serde_json::Value {
    let c = Client::new(sb.url(), "admin", "", RetryPolicy::default()).expect("client");
    let a = if post {
        c.post(path, &serde_json::Value::Null).await
    } else {
        c.get(path).await
    }
    .expect("admin");
    serde_json::from_slice(&a.body).expect("json")
}

fn totals(stats: &serde_json::Value) -> BTreeMap<String, Decimal> {
    stats["companies"][0]["stats"]["invoices"]["by_currency"]
        .as_object()
        .expect("by currency")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["sum_total"].as_str().expect("sum").parse().expect("dec"),
            )
        })
        .collect()
}

fn ids(v: &serde_json::Value) -> BTreeSet<i64> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|x| x.as_i64().expect("numeric id"))
        .collect()
}

#[tokio::test]
async fn the_diff_after_advance_lists_exactly_what_changed() {
    let sb = Sandbox::start(
        SandboxConfig {
            invoices: 500,
            time_scale: 60.0,
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox");
    let t = sb.ready().tenants[0].clone();
    let client =
        Client::new(sb.url(), &t.company_id, &t.token, RetryPolicy::default()).expect("client");
    let dir = std::env::temp_dir().join(format!("bexio-bi-compare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).expect("store");
    let sync = || {
        bexio_bi_sync::sync(
            &t.company_id,
            &client,
            &store,
            bexio_bi_sync::Options::default(),
            Arc::new(bexio_bi_sync::Silent),
        )
    };
    sync().await.expect("first sync");
    let before = totals(&admin(&sb, false, "/_sandbox/stats").await);
    let adv = admin(&sb, true, "/_sandbox/advance?days=30").await;
    let after = totals(&admin(&sb, false, "/_sandbox/stats").await);
    sync().await.expect("second sync");
    let versions = store.versions(&t.company_id).expect("versions");
    assert_eq!(versions.len(), 2);
    let a = store.version(&t.company_id, &versions[0].id).expect("a");
    let b = store.version(&t.company_id, "latest").expect("b");
    let d = bexio_bi_compare::diff(&a, &b).expect("diff");

    let changes = &adv["companies"][0]["changes"]["kb_invoice"];
    let got = |v: &[bexio_bi_compare::InvoiceChange]| -> BTreeSet<i64> {
        v.iter().map(|i| i.id).collect()
    };
    assert_eq!(got(&d.new_invoices), ids(&changes["created"]), "new");
    assert_eq!(
        got(&d.deleted_invoices),
        ids(&changes["deleted"]),
        "deleted"
    );
    assert_eq!(
        got(&d.modified_invoices),
        ids(&changes["updated"]),
        "modified"
    );
    assert!(!d.new_invoices.is_empty() && !d.modified_invoices.is_empty());
    for m in &d.modified_invoices {
        assert!(!m.fields.is_empty(), "{} modified without a field", m.id);
        assert!(m.fields.iter().all(|f| f.old != f.new));
    }
    // The change of invoiced totals per currency equals the sandbox's ground truth.
    for (code, a) in &d.invoiced {
        let expected = after.get(code).copied().unwrap_or_default()
            - before.get(code).copied().unwrap_or_default();
        assert_eq!(a.change, expected, "{code}");
        assert_eq!(a.to, after.get(code).copied().unwrap_or_default(), "{code}");
    }
    assert!(
        d.revenue_chf.change > Decimal::ZERO,
        "a month of business adds revenue"
    );
    let payments = &adv["companies"][0]["changes"]["kb_invoice/payment"];
    assert_eq!(
        d.payments_received,
        ids(&payments["created"]).len() as u64,
        "payments received"
    );
    assert_eq!(d.tables["fact_invoice"].added, d.new_invoices.len() as u64);
    let headline = d.headline();
    assert!(
        headline.starts_with(&format!("+{} new invoices · ", d.new_invoices.len())),
        "{headline}"
    );
    assert!(headline.contains(" CHF"), "{headline}");
    // Every flagged deletion is a deleted invoice that had been issued.
    for f in d
        .flags
        .iter()
        .filter(|f| f.kind == "issued_invoice_deleted")
    {
        assert!(got(&d.deleted_invoices).contains(&f.id));
    }
    sb.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bank account whose IBAN changes is flagged (real recorded bexio data).
#[test]
fn a_changed_iban_is_flagged() {
    let rec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/bexio-recorded/BankAccounts/fetch-a-list-of-bank-accounts.json"
        ))
        .expect("recording"),
    )
    .expect("json");
    let body = rec["data"].as_str().expect("body").to_owned();
    let dir = std::env::temp_dir().join(format!("bexio-bi-iban-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).expect("store");
    let commit = |page: &str| {
        let mut n = bexio::normalize::Normalizer::new("t");
        n.decode(bexio::normalize::Resource::BankAccounts, page.as_bytes())
            .expect("decode");
        let mut w = store.begin("t").expect("begin");
        for (table, batch) in n.finish().expect("finish") {
            w.write(table, &batch).expect("write");
        }
        w.commit().expect("commit").id
    };
    let a = commit(&body);
    let b = commit(&body.replacen("CH8781223780488303006", "CH9300762011623852957", 1));
    let d = bexio_bi_compare::diff(
        &store.version("t", &a).expect("a"),
        &store.version("t", &b).expect("b"),
    )
    .expect("diff");
    let flags: Vec<_> = d
        .flags
        .iter()
        .filter(|f| f.kind == "iban_changed")
        .collect();
    assert_eq!(flags.len(), 1, "{:?}", d.flags);
    assert!(
        flags[0].message.contains("CH9300762011623852957"),
        "{}",
        flags[0].message
    );
    assert_eq!(d.tables["dim_bank_account"].modified, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
