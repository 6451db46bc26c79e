//! The admin routes: ground truth in `/_sandbox/stats` (counts, sums, planted anomalies),
//! exact change lists from `/_sandbox/advance`, determinism, and several companies.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use bexio_bi_sandbox::SandboxConfig;
use chrono::NaiveDate;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::{Api, id_of, short, small, start};

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap_or_else(|_| panic!("not a decimal: {s}")),
        Value::Number(n) => {
            Decimal::from_str(&n.to_string()).unwrap_or_else(|_| panic!("not a decimal: {n}"))
        }
        other => panic!("not a decimal: {other}"),
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {}", short(v)))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn status_name(id: u64) -> &'static str {
    match id {
        7 => "draft",
        8 => "pending",
        9 => "paid",
        16 => "partial",
        19 => "cancelled",
        _ => "other",
    }
}

#[tokio::test]
async fn stats_has_the_documented_shape_and_matches_the_api() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let stats = api.stats().await;
    for k in ["clock", "limits", "faults", "companies"] {
        assert!(
            stats.get(k).is_some(),
            "stats.{k} missing: {}",
            short(&stats)
        );
    }
    assert_eq!(
        keys(&stats["clock"]),
        set(&["time_scale", "simulated_seconds", "simulated_now"])
    );
    assert_eq!(stats["limits"]["default"], 1000);
    assert_eq!(stats["limits"]["article"], 400);
    assert_eq!(stats["limits"]["search"], 250);
    let companies = stats["companies"].as_array().expect("companies");
    assert_eq!(companies.len(), 1);
    let c = &companies[0];
    assert_eq!(c["company_id"], sb.ready().tenants[0].company_id.as_str());
    assert_eq!(c["name"], sb.ready().tenants[0].name.as_str());
    let st = &c["stats"];
    assert!(
        keys(st).is_superset(&set(&["name", "today", "counts", "invoices", "anomalies"])),
        "stats keys {:?}",
        keys(st)
    );
    assert!(
        NaiveDate::parse_from_str(st["today"].as_str().unwrap_or_default(), "%Y-%m-%d").is_ok(),
        "today {}",
        st["today"]
    );
    assert!(keys(&st["invoices"]).is_superset(&set(&[
        "count",
        "sum_total",
        "by_currency",
        "by_status"
    ])));
    assert!(st["anomalies"].is_array());
    assert!(keys(&c["requests"]).is_superset(&set(&["served", "by_bucket", "throttled"])));

    // Counts per resource equal what the API serves.
    let counts = &st["counts"];
    let count = |k: &str| {
        counts[k]
            .as_u64()
            .unwrap_or_else(|| panic!("counts.{k} missing: {counts}")) as usize
    };
    let mut bad = Vec::new();
    let mut check = |what: &str, api_n: usize, truth: usize| {
        if api_n != truth {
            bad.push(format!(
                "{what}: the API serves {api_n}, stats count {truth}"
            ));
        }
    };
    let invoices = api.all_v2("/2.0/kb_invoice", 500).await;
    check("kb_invoice", invoices.len(), count("kb_invoice"));
    for (route, key) in [
        ("/2.0/contact", "contact"),
        ("/2.0/kb_offer", "kb_offer"),
        ("/2.0/kb_order", "kb_order"),
        ("/2.0/article", "article"),
        ("/2.0/pr_project", "pr_project"),
        ("/2.0/timesheet", "timesheet"),
        ("/2.0/note", "note"),
        ("/2.0/accounts", "accounts"),
        ("/2.0/account_groups", "account_groups"),
        ("/2.0/contact_relation", "contact_relation"),
        ("/2.0/contact_group", "contact_group"),
        ("/2.0/contact_branch", "contact_branch"),
    ] {
        check(key, api.all_v2(route, 2000).await.len(), count(key));
    }
    check(
        "contact_archived",
        api.all_v2("/2.0/contact?show_archived=true", 2000)
            .await
            .len(),
        count("contact_archived"),
    );
    for (route, key) in [
        ("/3.0/accounting/journal", "accounting/journal"),
        (
            "/3.0/accounting/manual_entries",
            "accounting/manual_entries",
        ),
        (
            "/3.0/accounting/calendar_years",
            "accounting/calendar_years",
        ),
        (
            "/3.0/accounting/business_years",
            "accounting/business_years",
        ),
        ("/3.0/accounting/vat_periods", "accounting/vat_periods"),
        ("/3.0/banking/accounts", "banking/accounts"),
        ("/3.0/users", "users"),
        ("/3.0/files", "files"),
        ("/3.0/taxes", "taxes"),
        ("/3.0/currencies", "currencies"),
    ] {
        let r = api.get(&format!("{route}?limit=1")).await;
        check(
            key,
            r.header_num("x-total-count").unwrap_or(-1) as usize,
            count(key),
        );
    }
    for (route, key) in [
        ("/4.0/purchase/bills", "purchase/bills"),
        ("/4.0/expenses", "expenses"),
    ] {
        let page = api.get_ok(&format!("{route}?limit=1")).await;
        check(
            key,
            page["paging"]["item_count"].as_u64().unwrap_or(0) as usize,
            count(key),
        );
    }
    let (mut positions, mut payments) = (0, 0);
    for inv in &invoices {
        let id = id_of(inv);
        positions += api.get_ok(&format!("/2.0/kb_invoice/{id}")).await["positions"]
            .as_array()
            .map_or(0, Vec::len);
        payments += api
            .get_ok(&format!("/2.0/kb_invoice/{id}/payment"))
            .await
            .as_array()
            .map_or(0, Vec::len);
    }
    check(
        "kb_invoice_position",
        positions,
        count("kb_invoice_position"),
    );
    check("kb_invoice_payment", payments, count("kb_invoice_payment"));

    // Invoice sums by status, from the API.
    let truth = &st["invoices"];
    let mut by_status: BTreeMap<&str, (u64, Decimal, Decimal, Decimal, Decimal)> = BTreeMap::new();
    for inv in &invoices {
        let e = by_status
            .entry(status_name(inv["kb_item_status_id"].as_u64().unwrap_or(0)))
            .or_default();
        e.0 += 1;
        e.1 += dec(&inv["total"]);
        e.2 += dec(&inv["total_net"]);
        e.3 += dec(&inv["total_taxes"]);
        e.4 += dec(&inv["total_received_payments"]);
    }
    let truth_status = truth["by_status"].as_object().expect("by_status");
    if truth_status
        .keys()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        != by_status.keys().copied().collect()
    {
        bad.push(format!(
            "by_status has {:?}, the API's invoices have statuses {:?}",
            truth_status.keys().collect::<Vec<_>>(),
            by_status.keys().collect::<Vec<_>>()
        ));
    }
    for (name, (n, total, net, taxes, paid)) in &by_status {
        let t = &truth_status.get(*name).cloned().unwrap_or(Value::Null);
        for (what, api_v, truth_v) in [
            ("sum_total", *total, &t["sum_total"]),
            ("sum_net", *net, &t["sum_net"]),
            ("sum_taxes", *taxes, &t["sum_taxes"]),
            ("sum_paid", *paid, &t["sum_paid"]),
        ] {
            if truth_v.is_null() || dec(truth_v) != api_v {
                bad.push(format!(
                    "by_status.{name}.{what}: API {api_v}, stats {truth_v}"
                ));
            }
        }
        if t["count"].as_u64() != Some(*n) {
            bad.push(format!(
                "by_status.{name}.count: API {n}, stats {}",
                t["count"]
            ));
        }
    }
    if truth["count"].as_u64() != Some(invoices.len() as u64) {
        bad.push(format!(
            "invoices.count {} != {}",
            truth["count"],
            invoices.len()
        ));
    }

    // Requests served are counted, per bucket.
    let served_before = api.stats().await["companies"][0]["requests"]["served"]
        .as_u64()
        .expect("served");
    for _ in 0..7 {
        api.get("/2.0/contact?limit=1").await;
    }
    api.get("/2.0/article?limit=1").await;
    let after = api.stats().await;
    let req = &after["companies"][0]["requests"];
    if req["served"].as_u64() != Some(served_before + 8) {
        bad.push(format!(
            "requests.served went from {served_before} to {} after 8 requests",
            req["served"]
        ));
    }

    // One company by id; an unknown id is a 404.
    let one = api
        .admin(
            Method::GET,
            &format!(
                "/_sandbox/stats?company_id={}",
                sb.ready().tenants[0].company_id
            ),
            "",
        )
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["companies"].as_array().map(Vec::len), Some(1));
    let none = api
        .admin(Method::GET, "/_sandbox/stats?company_id=nosuchcompany", "")
        .await;
    assert_eq!(none.status, 404, "{}", none.text());
    sb.stop().await;
    assert!(
        bad.is_empty(),
        "{} differences between stats and the API:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[tokio::test]
async fn planted_anomalies_are_in_the_data() {
    // Every company must carry each kind of anomaly, and each must be visible in the data.
    // Several seeds, because planting can depend on the generated calendar.
    let mut bad = Vec::new();
    for seed in [42, 1, 2, 3, 4, 5] {
        let sb = start(SandboxConfig { seed, ..small() }).await;
        let mut problems = anomaly_problems(&Api::new(&sb, 0)).await;
        bad.extend(problems.drain(..).map(|p| format!("seed {seed}: {p}")));
        sb.stop().await;
    }
    assert!(
        bad.is_empty(),
        "{} anomaly problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

async fn anomaly_problems(api: &Api) -> Vec<String> {
    let stats = api.stats().await;
    let anomalies = stats["companies"][0]["stats"]["anomalies"]
        .as_array()
        .expect("anomalies")
        .clone();
    let invoices = api.all_v2("/2.0/kb_invoice", 500).await;
    let kinds: BTreeSet<&str> = anomalies
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    let mut bad = Vec::new();
    for kind in ["invoice_spike", "client_churn", "activity_burst"] {
        if !kinds.contains(kind) {
            bad.push(format!(
                "no {kind} among the planted anomalies of a company with {} invoices: {}",
                invoices.len(),
                short(&Value::Array(anomalies.clone()))
            ));
        }
    }
    for a in &anomalies {
        match a["kind"].as_str() {
            Some("invoice_spike") => {
                let id = a["invoice_id"].as_u64().expect("invoice_id");
                let contact = a["contact_id"].as_u64().expect("contact_id");
                let r = api.get(&format!("/2.0/kb_invoice/{id}")).await;
                if r.status != 200 {
                    bad.push(format!(
                        "invoice_spike: invoice {id} is not readable ({})",
                        r.status
                    ));
                    continue;
                }
                let spike = r.json();
                if spike["contact_id"].as_u64() != Some(contact) {
                    bad.push(format!(
                        "invoice_spike: invoice {id} belongs to contact {}, not {contact}",
                        spike["contact_id"]
                    ));
                }
                let mut others: Vec<Decimal> = invoices
                    .iter()
                    .filter(|i| i["contact_id"].as_u64() == Some(contact) && id_of(i) != id)
                    .map(|i| dec(&i["total"]))
                    .collect();
                others.sort();
                if others.is_empty() {
                    bad.push(format!(
                        "invoice_spike: contact {contact} has no other invoices to compare with"
                    ));
                    continue;
                }
                let median = others[others.len() / 2];
                let total = dec(&spike["total"]);
                if total < median * Decimal::TEN {
                    bad.push(format!(
                        "invoice_spike: invoice {id} total {total} is not ≥ 10 × the median {median} of contact {contact}'s other invoices"
                    ));
                }
            }
            Some("client_churn") => {
                let contact = a["contact_id"].as_u64().expect("contact_id");
                let last = a["last_invoice"].as_str().expect("last_invoice").to_owned();
                let theirs: Vec<&Value> = invoices
                    .iter()
                    .filter(|i| i["contact_id"].as_u64() == Some(contact))
                    .collect();
                if theirs.len() < 2 {
                    bad.push(format!(
                        "client_churn: contact {contact} had only {} invoices, not a regular client",
                        theirs.len()
                    ));
                }
                let later: Vec<String> = theirs
                    .iter()
                    .filter_map(|i| i["is_valid_from"].as_str())
                    .filter(|d| *d > last.as_str())
                    .map(str::to_owned)
                    .collect();
                if !later.is_empty() {
                    bad.push(format!("client_churn: contact {contact} still has invoices after last_invoice {last}: {later:?}"));
                }
                if !theirs
                    .iter()
                    .any(|i| i["is_valid_from"].as_str() == Some(last.as_str()))
                {
                    bad.push(format!(
                        "client_churn: no invoice of contact {contact} is dated last_invoice {last}"
                    ));
                }
            }
            Some("activity_burst") => {
                let from = NaiveDate::parse_from_str(a["from"].as_str().expect("from"), "%Y-%m-%d")
                    .expect("date");
                let to = NaiveDate::parse_from_str(a["to"].as_str().expect("to"), "%Y-%m-%d")
                    .expect("date");
                if from > to {
                    bad.push(format!("activity_burst: from {from} after to {to}"));
                    continue;
                }
                // New documents per day inside the burst vs. over the whole history.
                let mut days = Vec::new();
                for route in ["/2.0/kb_invoice", "/2.0/kb_offer", "/2.0/kb_order"] {
                    for d in api.all_v2(route, 2000).await {
                        days.push(
                            NaiveDate::parse_from_str(
                                d["is_valid_from"].as_str().unwrap_or_default(),
                                "%Y-%m-%d",
                            )
                            .expect("is_valid_from"),
                        );
                    }
                }
                let first = *days.iter().min().expect("documents");
                let last = *days.iter().max().expect("documents");
                let inside = days.iter().filter(|d| **d >= from && **d <= to).count() as f64;
                let window = (to - from).num_days() as f64 + 1.0;
                let overall = days.len() as f64 / ((last - first).num_days() as f64 + 1.0);
                if inside / window < 2.0 * overall {
                    bad.push(format!(
                        "activity_burst {from}..{to}: {inside} documents in {window} days, not ≥ 2 × the usual {overall:.2}/day"
                    ));
                }
            }
            other => bad.push(format!("unknown anomaly kind {other:?}: {a}")),
        }
    }
    bad
}

async fn docs_by_id(api: &Api, route: &str) -> BTreeMap<u64, String> {
    api.all_v2(route, 2000)
        .await
        .iter()
        .map(|d| {
            (
                id_of(d),
                d["updated_at"].as_str().expect("updated_at").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn advance_reports_exactly_what_changed() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let today_before = api.stats().await["companies"][0]["stats"]["today"]
        .as_str()
        .expect("today")
        .to_owned();
    let routes = ["kb_invoice", "kb_offer", "kb_order"];
    let mut before = BTreeMap::new();
    for r in routes {
        before.insert(r, docs_by_id(&api, &format!("/2.0/{r}")).await);
    }
    let contacts_before: BTreeSet<u64> = api
        .all_v2("/2.0/contact", 2000)
        .await
        .iter()
        .map(id_of)
        .collect();

    for bad in ["days=0", "days=abc", "days=5000"] {
        let r = api
            .admin(Method::POST, &format!("/_sandbox/advance?{bad}"), "")
            .await;
        assert!(
            (400..500).contains(&r.status),
            "advance?{bad}: {} {}",
            r.status,
            r.text()
        );
    }
    let r = api
        .admin(Method::POST, "/_sandbox/advance?days=14", "")
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let adv = r.json();
    assert_eq!(adv["days"], 14);
    let company = &adv["companies"][0];
    let today = NaiveDate::parse_from_str(company["today"].as_str().expect("today"), "%Y-%m-%d")
        .expect("date");
    let expected_today = NaiveDate::parse_from_str(&today_before, "%Y-%m-%d").expect("date")
        + chrono::Duration::days(14);
    assert_eq!(today, expected_today, "today moves by 14 days");
    assert_eq!(
        api.stats().await["companies"][0]["stats"]["today"],
        company["today"],
        "stats agree on today"
    );
    let changes = &company["changes"];

    let mut bad = Vec::new();
    let ids = |route: &str, k: &str| -> BTreeSet<u64> {
        changes[route][k]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|v| {
                v.as_u64()
                    .unwrap_or_else(|| panic!("{route}.{k}: {v} is not a numeric id"))
            })
            .collect()
    };
    let mut total_changes = 0;
    for route in routes {
        let after = docs_by_id(&api, &format!("/2.0/{route}")).await;
        let old = &before[route];
        let (created, updated, deleted) = (
            ids(route, "created"),
            ids(route, "updated"),
            ids(route, "deleted"),
        );
        total_changes += created.len() + updated.len() + deleted.len();
        let new_ids: BTreeSet<u64> = after
            .keys()
            .filter(|id| !old.contains_key(id))
            .copied()
            .collect();
        let gone: BTreeSet<u64> = old
            .keys()
            .filter(|id| !after.contains_key(id))
            .copied()
            .collect();
        if created != new_ids {
            bad.push(format!(
                "{route}: advance reports created {created:?}, the list has new ids {new_ids:?}"
            ));
        }
        if deleted != gone {
            bad.push(format!(
                "{route}: advance reports deleted {deleted:?}, the list lost ids {gone:?}"
            ));
        }
        let changed: BTreeSet<u64> = old
            .iter()
            .filter(|(id, stamp)| after.get(id).is_some_and(|s| s != *stamp))
            .map(|(id, _)| *id)
            .collect();
        if updated != changed {
            let not_reported: Vec<_> = changed.difference(&updated).collect();
            let unchanged: Vec<_> = updated.difference(&changed).collect();
            bad.push(format!("{route}: updated_at moved for {} records, advance reports {} updated (moved but not reported {not_reported:?}; reported but unchanged {unchanged:?})", changed.len(), updated.len()));
        }
        for id in &updated {
            if let (Some(a), Some(b)) = (old.get(id), after.get(id))
                && b <= a
            {
                bad.push(format!(
                    "{route}/{id}: updated, but updated_at went from {a} to {b}"
                ));
            }
        }
        for id in &created {
            let r = api.get(&format!("/2.0/{route}/{id}")).await;
            if r.status != 200 {
                bad.push(format!(
                    "{route}/{id}: created but GET answers {}",
                    r.status
                ));
            }
        }
        for id in &deleted {
            let r = api.get(&format!("/2.0/{route}/{id}")).await;
            if r.status != 404 {
                bad.push(format!(
                    "{route}/{id}: deleted but GET answers {}",
                    r.status
                ));
            }
        }
    }
    assert!(
        total_changes > 0,
        "14 days of business change documents: {}",
        short(changes)
    );
    assert!(
        !ids("kb_invoice", "created").is_empty(),
        "14 days of business create invoices"
    );

    // Contacts: created ones are listed, deleted (archived) ones only with show_archived.
    let contacts_after: BTreeSet<u64> = api
        .all_v2("/2.0/contact", 2000)
        .await
        .iter()
        .map(id_of)
        .collect();
    let archived: BTreeSet<u64> = api
        .all_v2("/2.0/contact?show_archived=true", 2000)
        .await
        .iter()
        .map(id_of)
        .collect();
    for id in ids("contact", "created") {
        if !contacts_after.contains(&id) {
            bad.push(format!("contact {id}: created but not listed"));
        }
    }
    for id in ids("contact", "deleted") {
        if contacts_after.contains(&id) || !archived.contains(&id) {
            bad.push(format!(
                "contact {id}: deleted but still listed, or not among the archived"
            ));
        }
        if !contacts_before.contains(&id) {
            bad.push(format!("contact {id}: deleted but did not exist before"));
        }
    }
    // Every resource in the change list uses ids of its kind.
    for (resource, c) in changes.as_object().expect("changes") {
        for k in ["created", "updated", "deleted"] {
            for id in c[k].as_array().map(Vec::as_slice).unwrap_or_default() {
                let ok = id.is_u64()
                    || id
                        .as_str()
                        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok());
                if !ok {
                    bad.push(format!(
                        "{resource}.{k}: {id} is neither a number nor a UUID"
                    ));
                }
            }
        }
    }
    sb.stop().await;
    assert!(
        bad.is_empty(),
        "{} problems with advance:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

async fn pages(api: &Api) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let seventh = id_of(&api.get_ok("/2.0/kb_invoice?limit=7").await[6]);
    for path in [
        "/2.0/kb_invoice?limit=100".to_owned(),
        "/2.0/kb_invoice?limit=100&offset=100".to_owned(),
        "/2.0/kb_invoice?limit=100&offset=200".to_owned(),
        format!("/2.0/kb_invoice/{seventh}"),
        "/2.0/contact".to_owned(),
        "/3.0/accounting/journal?limit=300".to_owned(),
        "/4.0/purchase/bills?limit=100".to_owned(),
    ] {
        let path = path.as_str();
        let r = api.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        out.push(r.body);
    }
    out
}

#[tokio::test]
async fn generation_is_deterministic_per_seed() {
    let cfg = |seed| SandboxConfig { seed, ..small() };
    let a = start(cfg(7)).await;
    let b = start(cfg(7)).await;
    let c = start(cfg(8)).await;
    let (pa, pb, pc) = (
        pages(&Api::new(&a, 0)).await,
        pages(&Api::new(&b, 0)).await,
        pages(&Api::new(&c, 0)).await,
    );
    for (i, (x, y)) in pa.iter().zip(&pb).enumerate() {
        assert!(x == y, "page {i} differs between two sandboxes with seed 7");
    }
    assert_ne!(pa[0], pc[0], "seeds 7 and 8 give different invoices");
    assert_ne!(pa[4], pc[4], "seeds 7 and 8 give different contacts");
    assert_eq!(
        a.ready().tenants[0].company_id,
        b.ready().tenants[0].company_id,
        "same seed, same company id"
    );
    // Tokens carry their issue time (like bexio's JWTs), so only their signature part is
    // the seed's.
    let signature = |t: &str| t.rsplit('.').next().unwrap_or_default().to_owned();
    assert_eq!(
        signature(&a.ready().tenants[0].token),
        signature(&b.ready().tenants[0].token),
        "same seed, same token signature"
    );
    assert_ne!(
        a.ready().tenants[0].token,
        c.ready().tenants[0].token,
        "another seed, another token"
    );
    // Advancing is deterministic too.
    let adv = |sb: &bexio_bi_sandbox::Sandbox| {
        let api = Api::new(sb, 0);
        async move {
            api.admin(Method::POST, "/_sandbox/advance?days=10", "")
                .await
                .body
        }
    };
    assert!(
        adv(&a).await == adv(&b).await,
        "advance answers differ between two sandboxes with seed 7"
    );
    let (pa, pb) = (pages(&Api::new(&a, 0)).await, pages(&Api::new(&b, 0)).await);
    assert!(pa == pb, "pages differ after the same advance");
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

#[tokio::test]
async fn several_companies_have_their_own_data_and_tokens() {
    let sb = start(SandboxConfig {
        companies: 3,
        ..small()
    })
    .await;
    let tenants = sb.ready().tenants.clone();
    assert_eq!(tenants.len(), 3);
    let distinct = |f: &dyn Fn(&bexio_bi_sandbox::TenantInfo) -> String| {
        tenants.iter().map(f).collect::<BTreeSet<_>>().len()
    };
    assert_eq!(distinct(&|t| t.name.clone()), 3, "names");
    assert_eq!(distinct(&|t| t.company_id.clone()), 3, "company ids");
    assert_eq!(distinct(&|t| t.token.clone()), 3, "tokens");

    let mut invoice_pages = Vec::new();
    for (i, t) in tenants.iter().enumerate() {
        let api = Api::new(&sb, i);
        assert_eq!(
            api.get_ok("/2.0/company_profile").await[0]["name"],
            t.name.as_str(),
            "company {i} profile"
        );
        invoice_pages.push(api.get("/2.0/kb_invoice?limit=100").await.body);
    }
    for i in 0..3 {
        for j in (i + 1)..3 {
            assert_ne!(
                invoice_pages[i], invoice_pages[j],
                "companies {i} and {j} have the same invoices"
            );
        }
    }
    let api = Api::new(&sb, 0);
    let stats = api.stats().await;
    let ids: Vec<&str> = stats["companies"]
        .as_array()
        .expect("companies")
        .iter()
        .filter_map(|c| c["company_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        tenants
            .iter()
            .map(|t| t.company_id.as_str())
            .collect::<Vec<_>>(),
        "stats lists the companies in order"
    );

    // Advancing one company leaves the others alone.
    let todays = |s: &Value| {
        s["companies"]
            .as_array()
            .expect("companies")
            .iter()
            .map(|c| c["stats"]["today"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let before = todays(&stats);
    let r = api
        .admin(
            Method::POST,
            &format!(
                "/_sandbox/advance?days=3&company_id={}",
                tenants[1].company_id
            ),
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["companies"].as_array().map(Vec::len),
        Some(1),
        "only the named company advances"
    );
    let after = todays(&api.stats().await);
    assert_eq!(after[0], before[0], "company 0 did not move");
    assert_eq!(after[2], before[2], "company 2 did not move");
    assert_ne!(after[1], before[1], "company 1 moved");
    assert_eq!(
        Api::new(&sb, 0).get("/2.0/kb_invoice?limit=100").await.body,
        invoice_pages[0],
        "company 0's invoices unchanged"
    );
    sb.stop().await;
}
