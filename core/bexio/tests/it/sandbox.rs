//! The normalizer on a whole sandbox company, read over HTTP as a client would: every invoice,
//! line and payment becomes a row, and the totals reconcile to the cent with the ground truth,
//! also when the answers drift in type.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use bexio::normalize::{Normalizer, Resource};
use bexio_bi_sandbox::{FaultPlan, Sandbox, SandboxConfig};
use rust_decimal::Decimal;

use crate::rows;

async fn get(http: &reqwest::Client, url: &str, token: &str) -> Vec<u8> {
    let r = http
        .get(url)
        .bearer_auth(token)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("GET");
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.bytes().await.expect("body").to_vec()
}

async fn pages(http: &reqwest::Client, base: &str, path: &str, token: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let body = get(
            http,
            &format!("{base}{path}{sep}limit=2000&offset={offset}"),
            token,
        )
        .await;
        let n = serde_json::from_slice::<Vec<serde_json::Value>>(&body)
            .map(|v| v.len())
            .unwrap_or(0);
        out.push(body);
        if n < 2000 {
            return out;
        }
        offset += 2000;
    }
}

async fn normalize_company(
    faults: &str,
) -> (
    Vec<(&'static str, arrow_array::RecordBatch)>,
    serde_json::Value,
    usize,
) {
    let config = SandboxConfig {
        invoices: 300,
        faults: FaultPlan::parse(faults).expect("faults"),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox");
    let (base, t) = (sb.url().to_owned(), sb.ready().tenants[0].clone());
    let http = reqwest::Client::new();
    let mut n = Normalizer::new(&t.company_id).batch_rows(100);
    n.decode(
        Resource::Currencies,
        &get(&http, &format!("{base}/3.0/currencies"), &t.token).await,
    )
    .expect("currencies");
    let mut invoice_ids = Vec::new();
    for page in pages(&http, &base, "/2.0/kb_invoice", &t.token).await {
        let v: Vec<serde_json::Value> = serde_json::from_slice(&page).expect("page");
        invoice_ids.extend(v.iter().filter_map(|i| i["id"].as_i64()));
    }
    let mut rejected = 0;
    for id in &invoice_ids {
        let detail = get(&http, &format!("{base}/2.0/kb_invoice/{id}"), &t.token).await;
        rejected += n
            .decode(Resource::InvoiceDetail, &detail)
            .expect("detail")
            .rejected;
        let payments = get(
            &http,
            &format!("{base}/2.0/kb_invoice/{id}/payment"),
            &t.token,
        )
        .await;
        rejected += n
            .decode(Resource::InvoicePayments(*id), &payments)
            .expect("payments")
            .rejected;
    }
    let mut batches = n.flush();
    batches.extend(n.finish().expect("finish"));
    let stats: serde_json::Value =
        serde_json::from_slice(&get(&http, &format!("{base}/_sandbox/stats"), "").await)
            .expect("stats");
    sb.stop().await;
    (batches, stats["companies"][0]["stats"].clone(), rejected)
}

fn sums(batches: &[(&'static str, arrow_array::RecordBatch)]) -> BTreeMap<String, Decimal> {
    let inv = &bexio_bi_model::catalog::FACT_INVOICE;
    let (cur, total) = (
        inv.index_of("currency_code").expect("col"),
        inv.index_of("total").expect("col"),
    );
    let mut out = BTreeMap::new();
    for (_, b) in batches.iter().filter(|(t, _)| *t == "fact_invoice") {
        let codes = b.column(cur).as_string::<i32>();
        let totals = b.column(total).as_primitive::<Decimal128Type>();
        for i in 0..b.num_rows() {
            let v = Decimal::from_i128_with_scale(totals.value(i), 2);
            *out.entry(codes.value(i).to_owned())
                .or_insert(Decimal::ZERO) += v;
        }
    }
    out
}

#[tokio::test]
async fn a_sandbox_company_normalizes_and_reconciles() {
    let (batches, truth, rejected) = normalize_company("").await;
    assert_eq!(rejected, 0, "rejects: {:?}", reasons(&batches));
    assert_eq!(
        rows(&batches, "fact_invoice") as u64,
        truth["counts"]["kb_invoice"].as_u64().expect("count")
    );
    assert_eq!(
        rows(&batches, "fact_payment") as u64,
        truth["counts"]["kb_invoice_payment"]
            .as_u64()
            .expect("count")
    );
    assert_eq!(
        rows(&batches, "fact_invoice_line") as u64,
        truth["counts"]["kb_invoice_position"]
            .as_u64()
            .expect("count")
    );
    assert!(
        batches.iter().all(|(_, b)| b.num_rows() <= 100),
        "batches stay bounded"
    );
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
    assert_eq!(
        sums(&batches),
        expected,
        "invoice totals reconcile to the cent per currency"
    );
}

#[tokio::test]
async fn type_drift_loses_nothing_silently() {
    let (clean, _, _) = normalize_company("").await;
    let (drifted, _, rejected) = normalize_company("drift=1").await;
    // Every answer drifts: positions' `pos` and about one number in eight come as strings. The
    // values are all there, so every table is as without drift, and nothing is rejected.
    assert_eq!(rejected, 0, "{:?}", reasons(&drifted));
    let mut tables: Vec<&str> = clean.iter().map(|(t, _)| *t).collect();
    tables.sort_unstable();
    tables.dedup();
    for t in tables {
        assert_eq!(rows(&drifted, t), rows(&clean, t), "{t}");
    }
    let sum = |batches: &[(&'static str, arrow_array::RecordBatch)]| -> i128 {
        let col = bexio_bi_model::catalog::FACT_INVOICE_LINE
            .index_of("line_total")
            .expect("line_total");
        batches
            .iter()
            .filter(|(t, _)| *t == "fact_invoice_line")
            .flat_map(|(_, b)| {
                let a = b
                    .column(col)
                    .as_primitive::<arrow_array::types::Decimal128Type>()
                    .clone();
                (0..b.num_rows()).map(move |i| a.value(i))
            })
            .sum()
    };
    assert_eq!(sum(&drifted), sum(&clean), "position totals survive drift");
}

fn reasons(batches: &[(&'static str, arrow_array::RecordBatch)]) -> Vec<String> {
    batches
        .iter()
        .filter(|(t, _)| *t == "rejects")
        .flat_map(|(_, b)| {
            let r = b.column(4).as_string::<i32>().clone();
            (0..b.num_rows()).map(move |i| r.value(i).to_owned())
        })
        .take(50)
        .collect()
}

async fn v4_pages(http: &reqwest::Client, base: &str, path: &str, token: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let body = get(http, &format!("{base}{path}?limit=500&page={page}"), token).await;
        let v: serde_json::Value = serde_json::from_slice(&body).expect("4.0 page");
        let count = v["paging"]["page_count"].as_u64().unwrap_or(0);
        out.push(body);
        if page >= count {
            return out;
        }
        page += 1;
    }
}

#[tokio::test]
async fn every_table_of_a_company_matches_the_ground_truth() {
    let sb = Sandbox::start(
        SandboxConfig {
            invoices: 400,
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox");
    let (base, t) = (sb.url().to_owned(), sb.ready().tenants[0].clone());
    let http = reqwest::Client::new();
    let mut n = Normalizer::new(&t.company_id);
    let lookups = [
        ("/2.0/country", Resource::Countries),
        ("/2.0/language", Resource::Languages),
        ("/2.0/company_profile", Resource::CompanyProfile),
        ("/2.0/contact_group", Resource::ContactGroups),
        ("/2.0/contact_branch", Resource::ContactBranches),
        ("/2.0/unit", Resource::Units),
        ("/2.0/salutation", Resource::Salutations),
        ("/2.0/title", Resource::Titles),
        ("/2.0/payment_type", Resource::PaymentTypes),
        ("/2.0/kb_item_setting", Resource::DocumentSettings),
        ("/3.0/currencies", Resource::Currencies),
        ("/2.0/account_groups", Resource::AccountGroups),
        ("/2.0/pr_project_state", Resource::ProjectStates),
        ("/2.0/pr_project_type", Resource::ProjectTypes),
        ("/2.0/client_service", Resource::ClientServices),
        ("/2.0/timesheet_status", Resource::TimesheetStatuses),
        ("/3.0/accounting/business_years", Resource::BusinessYears),
        ("/3.0/accounting/calendar_years", Resource::CalendarYears),
        ("/3.0/accounting/vat_periods", Resource::VatPeriods),
        ("/2.0/accounts", Resource::Accounts),
        ("/3.0/taxes", Resource::Taxes),
        ("/3.0/banking/accounts", Resource::BankAccounts),
        ("/3.0/users", Resource::Users),
        ("/2.0/article", Resource::Articles),
        ("/2.0/contact", Resource::Contacts),
        (
            "/2.0/contact?show_archived=true",
            Resource::ArchivedContacts,
        ),
        ("/2.0/pr_project", Resource::Projects),
        ("/2.0/timesheet", Resource::Timesheets),
        ("/3.0/accounting/journal", Resource::Journal),
        ("/2.0/kb_offer", Resource::Quotes),
        ("/2.0/kb_order", Resource::Orders),
        ("/2.0/kb_invoice", Resource::Invoices),
        ("/2.0/note", Resource::Notes),
        ("/3.0/accounting/manual_entries", Resource::ManualEntries),
        ("/3.0/files", Resource::Files),
    ];
    let mut rejected = 0;
    // What the answers themselves say: the contacts (their addresses are read one by one) and
    // the lines of manual entries.
    let (mut contacts, mut entry_lines) = (Vec::new(), 0);
    for (path, resource) in lookups {
        for page in pages(&http, &base, path, &t.token).await {
            rejected += n.decode(resource.clone(), &page).expect(path).rejected;
            let records: Vec<serde_json::Value> = serde_json::from_slice(&page).expect(path);
            match resource {
                Resource::Contacts | Resource::ArchivedContacts => {
                    contacts.extend(records.iter().filter_map(|r| r["id"].as_i64()));
                }
                Resource::ManualEntries => {
                    entry_lines += records
                        .iter()
                        .map(|r| r["entries"].as_array().map_or(0, Vec::len))
                        .sum::<usize>();
                }
                _ => {}
            }
        }
    }
    for id in contacts {
        let path = format!("/2.0/contact/{id}/additional_address");
        for page in pages(&http, &base, &path, &t.token).await {
            rejected += n
                .decode(Resource::AdditionalAddresses(id), &page)
                .expect("addresses")
                .rejected;
        }
    }
    for (path, resource) in [
        ("/4.0/purchase/bills", Resource::Bills),
        ("/4.0/expenses", Resource::Expenses),
    ] {
        for page in v4_pages(&http, &base, path, &t.token).await {
            rejected += n.decode(resource.clone(), &page).expect(path).rejected;
        }
    }
    let stats: serde_json::Value =
        serde_json::from_slice(&get(&http, &format!("{base}/_sandbox/stats"), "").await)
            .expect("stats");
    sb.stop().await;
    let truth = &stats["companies"][0]["stats"]["counts"];
    let batches = n.finish().expect("finish");
    assert_eq!(rejected, 0, "rejects: {:?}", reasons(&batches));
    let count = |k: &str| {
        truth[k]
            .as_u64()
            .unwrap_or_else(|| panic!("stats has no {k}")) as usize
    };
    for (table, expected) in [
        ("dim_contact", count("contact") + count("contact_archived")),
        ("dim_article", count("article")),
        ("dim_project", count("pr_project")),
        ("dim_account", count("accounts")),
        ("dim_tax", count("taxes")),
        ("dim_currency", count("currencies")),
        ("dim_user", count("users")),
        ("fact_invoice", count("kb_invoice")),
        ("fact_quote", count("kb_offer")),
        ("fact_order", count("kb_order")),
        ("fact_timesheet", count("timesheet")),
        ("fact_journal", count("accounting/journal")),
        ("fact_bill", count("purchase/bills")),
        ("fact_expense", count("expenses")),
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
            .map(count)
            .sum(),
        ),
        ("dim_company", count("company_profile")),
        ("dim_contact_address", count("additional_address")),
        ("dim_bank_account", count("banking/accounts")),
        ("dim_calendar_year", count("accounting/calendar_years")),
        ("dim_business_year", count("accounting/business_years")),
        ("dim_vat_period", count("accounting/vat_periods")),
        ("dim_file", count("files")),
        ("fact_note", count("note")),
        ("fact_manual_entry", entry_lines),
    ] {
        assert_eq!(rows(&batches, table), expected, "{table}");
    }
    assert!(entry_lines > 0, "the sandbox books salaries and VAT");
    // The calendar covers every fact's day, whole years, one row per day.
    let days = rows(&batches, "dim_date");
    assert!(days >= 4 * 365, "{days} days");
}

#[tokio::test]
async fn parallel_decoding_gives_the_same_tables() {
    let sb = Sandbox::start(
        SandboxConfig {
            invoices: 2500,
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox");
    let (base, t) = (sb.url().to_owned(), sb.ready().tenants[0].clone());
    let http = reqwest::Client::new();
    let currencies = get(&http, &format!("{base}/3.0/currencies"), &t.token).await;
    let mut pages_list = Vec::new();
    let mut offset = 0;
    loop {
        let body = get(
            &http,
            &format!("{base}/2.0/kb_invoice?limit=200&offset={offset}"),
            &t.token,
        )
        .await;
        let n = serde_json::from_slice::<Vec<serde_json::Value>>(&body)
            .expect("page")
            .len();
        pages_list.push(body);
        if n < 200 {
            break;
        }
        offset += 200;
    }
    sb.stop().await;
    let mut seq = Normalizer::new(&t.company_id).batch_rows(300);
    seq.decode(Resource::Currencies, &currencies)
        .expect("currencies");
    for p in &pages_list {
        seq.decode(Resource::Invoices, p).expect("page");
    }
    let mut par = Normalizer::new(&t.company_id).batch_rows(300);
    par.decode(Resource::Currencies, &currencies)
        .expect("currencies");
    let refs: Vec<&[u8]> = pages_list.iter().map(Vec::as_slice).collect();
    let summary = par
        .decode_parallel(Resource::Invoices, &refs)
        .expect("parallel");
    assert_eq!(summary.records, 2500);
    assert_eq!(par.context().days, seq.context().days);
    let (mut a, mut b) = (seq.flush(), par.flush());
    a.extend(seq.finish().expect("finish"));
    b.extend(par.finish().expect("finish"));
    assert_eq!(rows(&a, "fact_invoice"), rows(&b, "fact_invoice"));
    assert_eq!(sums(&a), sums(&b));
    assert!(b.iter().all(|(_, batch)| batch.num_rows() <= 300));
}
