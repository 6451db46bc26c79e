//! Whole companies synced from the sandbox: the store's tables equal the sandbox's ground truth,
//! with or without faults; incremental runs find exactly what changed; interrupted runs resume;
//! the mirror rebuilds offline.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Int32Type, Int64Type, TimestampMicrosecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use bexio::client::{Client, RetryPolicy};
use bexio_bi_sandbox::{FaultPlan, Sandbox, SandboxConfig};
use bexio_bi_store::Store;
use bexio_bi_sync::{Mode, Options, Report, Silent, rebuild, sync};
use rust_decimal::Decimal;

fn temp_store(tag: &str) -> Store {
    let dir = std::env::temp_dir().join(format!(
        "bexio-bi-sync-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    Store::open(dir).expect("store")
}

async fn sandbox(invoices: u64, faults: &str) -> Sandbox {
    let config = SandboxConfig {
        invoices,
        faults: FaultPlan::parse(faults).expect("faults"),
        time_scale: 60.0,
        ..SandboxConfig::default()
    };
    Sandbox::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox")
}

fn client(sb: &Sandbox) -> Client {
    let t = &sb.ready().tenants[0];
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    Client::new(sb.url(), &t.company_id, &t.token, policy).expect("client")
}

fn tenant(sb: &Sandbox) -> String {
    sb.ready().tenants[0].company_id.clone()
}

async fn admin(sb: &Sandbox, method: &str, path: &str) -> serde_json::Value {
    let c = Client::new(sb.url(), "admin", "", RetryPolicy::default()).expect("client");
    let a = match method {
        "POST" => c.post(path, &serde_json::Value::Null).await,
        _ => c.get(path).await,
    }
    .expect("admin route");
    serde_json::from_slice(&a.body).expect("json")
}

async fn sync_with(sb: &Sandbox, store: &Store, options: Options) -> Report {
    sync(&tenant(sb), &client(sb), store, options, Arc::new(Silent))
        .await
        .expect("sync")
}

/// One cell as text (the column types of the star schema).
fn cell(col: &dyn Array, i: usize) -> String {
    if col.is_null(i) {
        return "∅".into();
    }
    match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().value(i).to_owned(),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Int32 => col.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Boolean => col.as_boolean().value(i).to_string(),
        DataType::Date32 => col.as_primitive::<Date32Type>().value(i).to_string(),
        DataType::Timestamp(..) => col
            .as_primitive::<TimestampMicrosecondType>()
            .value(i)
            .to_string(),
        DataType::Decimal128(_, s) => {
            Decimal::from_i128_with_scale(col.as_primitive::<Decimal128Type>().value(i), *s as u32)
                .to_string()
        }
        other => panic!("no test rendering for {other}"),
    }
}

/// Every table of the latest snapshot as sorted rows of text (order does not matter).
fn contents(store: &Store, tenant: &str) -> BTreeMap<String, Vec<String>> {
    let snap = store.latest(tenant).expect("latest").expect("snapshot");
    let mut out = BTreeMap::new();
    for t in &snap.manifest().tables {
        let mut rows = Vec::new();
        for batch in snap.read(&t.name).expect("read") {
            let b: RecordBatch = batch.expect("batch");
            for i in 0..b.num_rows() {
                let row: Vec<String> = b.columns().iter().map(|c| cell(c.as_ref(), i)).collect();
                rows.push(row.join("|"));
            }
        }
        rows.sort();
        out.insert(t.name.clone(), rows);
    }
    out
}

/// Invoice totals per currency, read back from the store.
fn invoice_sums(store: &Store, tenant: &str) -> BTreeMap<String, Decimal> {
    let snap = store.latest(tenant).expect("latest").expect("snapshot");
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
    sums
}

/// Manual entries read back from the store: how many entries, and their lines as
/// `(entry id, amount)`, sorted.
fn manual_entries(store: &Store, tenant: &str) -> (u64, Vec<(i64, Decimal)>) {
    let snap = store.latest(tenant).expect("latest").expect("snapshot");
    let t = &bexio_bi_model::catalog::FACT_MANUAL_ENTRY;
    let (entry, amount) = (
        t.index_of("manual_entry_id").expect("col"),
        t.index_of("amount").expect("col"),
    );
    let mut lines = Vec::new();
    for batch in snap.read(t.name).expect("manual entries") {
        let b = batch.expect("batch");
        let ids = b.column(entry).as_primitive::<Int64Type>();
        let amounts = b.column(amount).as_primitive::<Decimal128Type>();
        for i in 0..b.num_rows() {
            lines.push((
                ids.value(i),
                Decimal::from_i128_with_scale(amounts.value(i), 2),
            ));
        }
    }
    lines.sort();
    let entries = lines.iter().map(|l| l.0).collect::<BTreeSet<_>>().len() as u64;
    (entries, lines)
}

/// The journal's bookings of manual entries as `(entry id, amount)`, sorted.
fn journal_of_manual_entries(store: &Store, tenant: &str) -> Vec<(i64, Decimal)> {
    let snap = store.latest(tenant).expect("latest").expect("snapshot");
    let t = &bexio_bi_model::catalog::FACT_JOURNAL;
    let (class, id, amount) = (
        t.index_of("ref_class").expect("col"),
        t.index_of("ref_id").expect("col"),
        t.index_of("amount").expect("col"),
    );
    let mut out = Vec::new();
    for batch in snap.read(t.name).expect("journal") {
        let b = batch.expect("batch");
        let classes = b.column(class).as_string::<i32>();
        let ids = b.column(id).as_primitive::<Int64Type>();
        let amounts = b.column(amount).as_primitive::<Decimal128Type>();
        for i in 0..b.num_rows() {
            if classes.is_valid(i) && classes.value(i) == "ManualEntry" {
                out.push((
                    ids.value(i),
                    Decimal::from_i128_with_scale(amounts.value(i), 2),
                ));
            }
        }
    }
    out.sort();
    out
}

fn truth_sums(stats: &serde_json::Value) -> BTreeMap<String, Decimal> {
    stats["companies"][0]["stats"]["invoices"]["by_currency"]
        .as_object()
        .expect("by currency")
        .iter()
        .map(|(k, v)| {
            let sum = v["sum_total"]
                .as_str()
                .expect("sum")
                .parse()
                .expect("decimal");
            (k.clone(), sum)
        })
        .collect()
}

#[tokio::test]
async fn a_full_sync_equals_the_ground_truth() {
    let sb = sandbox(400, "").await;
    let store = temp_store("clean");
    let report = sync_with(&sb, &store, Options::default()).await;
    let stats = admin(&sb, "GET", "/_sandbox/stats").await;
    assert_eq!(report.rejected, 0);
    assert_eq!(report.mode, Mode::Full);
    let truth = &stats["companies"][0]["stats"];
    let counts = &truth["counts"];
    let c = |k: &str| counts[k].as_u64().unwrap_or_else(|| panic!("no count {k}"));
    let expect = [
        ("dim_contact", c("contact") + c("contact_archived")),
        ("dim_contact_relation", c("contact_relation")),
        ("dim_contact_address", c("additional_address")),
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
        (
            "dim_lookup",
            [
                "country",
                "language",
                "contact_group",
                "contact_branch",
                "unit",
                "salutation",
                "title",
                "payment_type",
                "pr_project_state",
                "pr_project_type",
                "client_service",
                "timesheet_status",
                "account_groups",
                "kb_item_setting",
            ]
            .into_iter()
            .map(c)
            .sum(),
        ),
        ("dim_company", c("company_profile")),
        ("dim_bank_account", c("banking/accounts")),
        ("dim_calendar_year", c("accounting/calendar_years")),
        ("dim_business_year", c("accounting/business_years")),
        ("dim_vat_period", c("accounting/vat_periods")),
        ("dim_file", c("files")),
        ("fact_note", c("note")),
    ];
    for (table, n) in expect {
        assert_eq!(report.tables.get(table).copied().unwrap_or(0), n, "{table}");
    }
    assert!(
        !report.tables.contains_key("tombstones"),
        "nothing deleted yet"
    );
    // Every document in another currency also in CHF, at bexio's rates (the journal's, or the
    // currency's own where the journal has none yet).
    let snap = store
        .latest(&tenant(&sb))
        .expect("latest")
        .expect("snapshot");
    for table in ["fact_invoice", "fact_quote", "fact_order"] {
        let t = bexio_bi_model::catalog::table(table).expect("table");
        let (cur, chf) = (
            t.index_of("currency_code").expect("currency"),
            t.index_of("total_chf").expect("total_chf"),
        );
        let (mut foreign, mut unpriced) = (0, 0);
        for batch in snap.read(table).expect("read") {
            let b = batch.expect("batch");
            let codes = b.column(cur).as_string::<i32>();
            for i in 0..b.num_rows() {
                if codes.value(i) != "CHF" {
                    foreign += 1;
                    unpriced += usize::from(b.column(chf).is_null(i));
                }
            }
        }
        assert!(foreign > 0, "{table}: the sandbox has documents in EUR");
        assert_eq!(
            unpriced, 0,
            "{table}: {unpriced} of {foreign} without a CHF amount"
        );
    }
    assert_eq!(invoice_sums(&store, &tenant(&sb)), truth_sums(&stats));
    // Manual entries: a row per line, each line one booking of the journal, to the cent.
    let (entries, lines) = manual_entries(&store, &tenant(&sb));
    assert_eq!(entries, c("accounting/manual_entries"));
    assert!(!lines.is_empty(), "the sandbox books salaries and VAT");
    assert_eq!(lines, journal_of_manual_entries(&store, &tenant(&sb)));
    assert_eq!(
        report.changes["kb_invoice"].created.len() as u64,
        c("kb_invoice"),
        "a first sync creates every invoice"
    );
    let http = report.http;
    assert_eq!(http.throttled, 0);
    // One detail request per invoice is the floor; payments only for invoices that were paid;
    // one list of additional addresses per contact.
    let invoices = c("kb_invoice");
    let contacts = c("contact") + c("contact_archived");
    assert!(
        http.requests < invoices * 2 + contacts + 80,
        "{} requests for {invoices} invoices and {contacts} contacts",
        http.requests
    );
    sb.stop().await;
}

#[tokio::test]
async fn faults_do_not_change_the_tables() {
    let clean_sb = sandbox(400, "").await;
    let clean = temp_store("clean");
    sync_with(&clean_sb, &clean, Options::default()).await;
    clean_sb.stop().await;
    let sb = sandbox(400, "429=0.02,5xx=0.1,truncate=0.05,drift=0.2").await;
    let faulty = temp_store("faults");
    let report = sync_with(&sb, &faulty, Options::default()).await;
    let t = tenant(&sb);
    sb.stop().await;
    let (a, b) = (contents(&clean, &t), contents(&faulty, &t));
    if std::env::var("SHOW_DIFF").is_ok() {
        for (table, rows) in &a {
            let other: BTreeSet<&String> =
                b.get(table).map(|r| r.iter().collect()).unwrap_or_default();
            let mine: BTreeSet<&String> = rows.iter().collect();
            let missing: Vec<_> = mine.difference(&other).take(3).collect();
            let extra: Vec<_> = other.difference(&mine).take(3).collect();
            if !missing.is_empty() || !extra.is_empty() {
                eprintln!("{table}: clean only {missing:#?}\nfaulty only {extra:#?}");
            }
        }
        if let Some(r) = b.get("rejects") {
            eprintln!("rejects {:#?}", &r[..r.len().min(5)]);
        }
    }
    assert_eq!(report.rejected, 0);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (table, rows) in &a {
        assert!(rows == &b[table], "{table} differs with faults");
    }
    assert!(
        report.http.retries > 0 && report.http.throttled > 0,
        "{:?}",
        report.http
    );
}

fn ids(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|id| match id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

#[tokio::test]
async fn an_incremental_sync_finds_exactly_what_advance_changed() {
    let sb = sandbox(600, "").await;
    let store = temp_store("incremental");
    let first = sync_with(&sb, &store, Options::default()).await;
    let adv = admin(&sb, "POST", "/_sandbox/advance?days=21").await;
    let changes = &adv["companies"][0]["changes"];
    let second = sync_with(&sb, &store, Options::default()).await;
    assert_eq!(second.mode, Mode::Incremental);
    let mut checked = 0;
    for stream in [
        "kb_invoice",
        "kb_offer",
        "kb_order",
        "contact",
        "contact_relation",
    ] {
        let want = &changes[stream];
        let got = second.changes.get(stream).cloned().unwrap_or_default();
        for (kind, got) in [
            ("created", &got.created),
            ("updated", &got.updated),
            ("deleted", &got.deleted),
        ] {
            assert_eq!(
                set(got),
                ids(&want[kind]),
                "{stream} {kind}: the sync found other ids than advance reports"
            );
            checked += got.len();
        }
    }
    assert!(
        !second.changes["kb_invoice"].created.is_empty()
            && !second.changes["kb_invoice"].updated.is_empty(),
        "three weeks of business create and change invoices: {:?}",
        second.changes["kb_invoice"]
    );
    assert!(checked > 10, "only {checked} changes");
    // Positions and payments only for changed invoices: far fewer requests than the first run.
    let touched =
        second.changes["kb_invoice"].created.len() + second.changes["kb_invoice"].updated.len();
    assert!(
        second.http.requests < first.http.requests / 3,
        "incremental {} requests vs full {} ({touched} invoices changed)",
        second.http.requests,
        first.http.requests
    );
    assert!(second.cache.requests_saved > 0);

    // The incremental result equals a fresh full sync of the same data, and matches bexio.
    let fresh = temp_store("fresh");
    sync_with(&sb, &fresh, Options::default()).await;
    let stats = admin(&sb, "GET", "/_sandbox/stats").await;
    let t = tenant(&sb);
    let (inc, full) = (contents(&store, &t), contents(&fresh, &t));
    for (table, rows) in &full {
        assert!(
            inc.get(table) == Some(rows),
            "{table}: the incremental sync differs from a full one ({} vs {} rows)",
            inc.get(table).map_or(0, Vec::len),
            rows.len()
        );
    }
    assert_eq!(invoice_sums(&store, &t), truth_sums(&stats));
    // Deleted documents are tombstones, with the record as last seen.
    let deleted: usize = ["kb_invoice", "kb_offer", "kb_order"]
        .iter()
        .map(|s| ids(&changes[*s]["deleted"]).len())
        .sum();
    let tombs = inc.get("tombstones").map_or(0, Vec::len);
    assert!(
        tombs >= deleted,
        "{tombs} tombstones for {deleted} deleted documents"
    );

    // --full reads everything again and finds no change.
    let again = sync_with(
        &sb,
        &store,
        Options {
            full: true,
            ..Options::default()
        },
    )
    .await;
    assert_eq!(again.mode, Mode::Full);
    assert!(
        again
            .changes
            .values()
            .all(|c| c.created.is_empty() && c.deleted.is_empty())
    );
    assert!(again.http.requests >= first.http.requests * 9 / 10);
    sb.stop().await;
}

#[tokio::test]
async fn an_interrupted_sync_resumes_and_ends_like_an_uninterrupted_one() {
    let sb = sandbox(500, "").await;
    let t = tenant(&sb);
    let clean = temp_store("uninterrupted");
    let full = sync_with(&sb, &clean, Options::default()).await;

    let store = temp_store("interrupted");
    // Interrupt at three points: in the lists, in the positions, in the payments.
    let n = full.http.requests;
    let mut spent = 0;
    for stop_at in [n / 50, n / 2, n * 9 / 10] {
        let c = client(&sb);
        let watcher = c.clone();
        let run = sync(&t, &c, &store, Options::default(), Arc::new(Silent));
        let stop = async {
            while spent + watcher.stats().requests < stop_at {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        tokio::select! {
            r = run => panic!("the sync ended before it was interrupted: {:?}", r.map(|r| r.http)),
            () = stop => {}
        }
        spent += c.stats().requests;
        assert!(
            store.latest(&t).expect("latest").is_none(),
            "nothing published"
        );
    }
    let resumed = sync_with(&sb, &store, Options::default()).await;
    spent += resumed.http.requests;
    assert!(!resumed.cache.resumed.is_empty(), "{:?}", resumed.cache);
    assert_eq!(resumed.mode, Mode::Full);
    assert_eq!(contents(&store, &t), contents(&clean, &t));
    // Resuming repeats little: at most a few lists and what was in flight.
    assert!(
        spent < n + n / 10,
        "{spent} requests with three interruptions vs {n} without"
    );
    sb.stop().await;
}

#[tokio::test]
async fn the_mirror_answers_offline_and_keeps_reference_data() {
    let sb = sandbox(200, "").await;
    let t = tenant(&sb);
    let store = temp_store("offline");
    let first = sync_with(&sb, &store, Options::default()).await;
    let online = contents(&store, &t);
    // Right away again: lookups are fresh, only lists and changes are read.
    let second = sync_with(&sb, &store, Options::default()).await;
    assert!(
        second.cache.fresh.iter().any(|s| s == "country"),
        "{:?}",
        second.cache
    );
    assert!(second.http.requests < first.http.requests / 4);
    assert!(
        second
            .changes
            .values()
            .all(|c| c == &bexio_bi_sync::Changes::default())
    );
    sb.stop().await;
    // bexio unreachable: the tables are built from the mirror alone.
    let report = rebuild(&t, &store, Arc::new(Silent)).expect("offline");
    assert_eq!(report.mode, Mode::Offline);
    assert_eq!(report.http.requests, 0);
    assert!(report.cache.requests_saved >= 200, "{:?}", report.cache);
    assert_eq!(contents(&store, &t), online);
    assert!(matches!(
        rebuild("never-synced", &store, Arc::new(Silent)),
        Err(bexio_bi_sync::SyncError::NoMirror(_))
    ));
}

/// Signs in through the sandbox's OAuth realm with only some scopes, as a restricted app would.
async fn token_with_scopes(sb: &Sandbox, scopes: &[&str]) -> String {
    use bexio::client::oauth::{App, Authorization, Pkce, random_token};
    let o = &sb.ready().oauth;
    let app = App::new(&o.issuer, &o.public_client_id, None);
    let (pkce, state) = (Pkce::new(), random_token());
    let redirect_uri = "http://127.0.0.1:9/callback";
    let url = app.authorize_url(&Authorization {
        redirect_uri,
        scopes,
        state: &state,
        challenge: &pkce.challenge,
        login_hint: Some(&sb.ready().tenants[0].company_id),
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let resp = http.get(&url).send().await.expect("authorize");
    let back =
        reqwest::Url::parse(resp.headers()["location"].to_str().expect("location")).expect("url");
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    app.exchange_code(&http, &code, redirect_uri, &pkce.verifier)
        .await
        .expect("tokens")
        .access_token
}

#[tokio::test]
async fn a_stream_without_its_scope_is_skipped_and_the_others_go_on() {
    let sb = sandbox(150, "").await;
    let t = tenant(&sb);
    let scopes = [
        "openid",
        "offline_access",
        "contact_show",
        "kb_offer_show",
        "kb_order_show",
        "kb_invoice_show",
        "article_show",
        "project_show",
        "accounting",
    ];
    let token = token_with_scopes(&sb, &scopes).await;
    let client = Client::new(sb.url(), &t, &token, RetryPolicy::default()).expect("client");
    let store = temp_store("scopes");
    let report = sync(&t, &client, &store, Options::default(), Arc::new(Silent))
        .await
        .expect("the sync goes on without timesheets, bills and expenses");
    let skipped: BTreeSet<&str> = report.skipped.iter().map(|s| s.stream.as_str()).collect();
    assert_eq!(
        skipped,
        BTreeSet::from([
            "activities",
            "timesheet states",
            "timesheets",
            "notes",
            "bank accounts",
            "bills",
            "expenses",
            "files"
        ]),
        "{:?}",
        report.skipped
    );
    for s in &report.skipped {
        assert!(
            s.reason.contains("needs the scope '"),
            "names the scope: {s:?}"
        );
    }
    for table in [
        "fact_timesheet",
        "fact_bill",
        "fact_expense",
        "fact_note",
        "dim_bank_account",
        "dim_file",
    ] {
        assert!(
            !report.tables.contains_key(table),
            "{table} despite the missing scope"
        );
    }
    assert_eq!(report.tables["fact_invoice"], 150);
    assert!(report.tables["fact_invoice_line"] > 150);
    sb.stop().await;
}
