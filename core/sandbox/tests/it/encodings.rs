//! Encodings per API generation: v2 money strings and naive local timestamps, v3 numbers and
//! ISO stamps with the Zurich offset, v4 UUIDs and `+0000` stamps; and the arithmetic of
//! invoice totals, exact to the cent.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{NaiveDateTime, Offset, TimeZone};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use crate::{Api, id_of, short, small, start};

/// `^-?\d+\.\d{dp}$`
fn is_fixed(s: &str, dp: usize) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    match s.split_once('.') {
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.len() == dp
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// `YYYY-MM-DD HH:MM:SS`
fn is_v2_stamp(s: &str) -> bool {
    s.len() == 19 && NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok()
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap_or_else(|_| panic!("not a decimal: {s:?}")),
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .unwrap_or_else(|_| panic!("not a decimal: {n}")),
        other => panic!("not a decimal: {other}"),
    }
}

fn round_to(v: Decimal, step: Decimal) -> Decimal {
    ((v / step).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)) * step
}

#[tokio::test]
async fn v2_money_is_fixed_decimal_strings_and_timestamps_are_local() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let mut bad = Vec::new();
    for route in ["/2.0/kb_invoice", "/2.0/kb_offer", "/2.0/kb_order"] {
        let docs = api.all_v2(route, 500).await;
        assert!(!docs.is_empty(), "{route} is empty");
        for d in &docs {
            let id = id_of(d);
            let mut six = vec!["total", "total_gross", "total_net"];
            if route.ends_with("invoice") {
                six.extend([
                    "total_received_payments",
                    "total_credit_vouchers",
                    "total_remaining_payments",
                ]);
            }
            for k in six {
                match d[k].as_str() {
                    Some(s) if is_fixed(s, 6) => {}
                    _ => bad.push(format!(
                        "{route}/{id}.{k} = {} (want a string with 6 decimals)",
                        d[k]
                    )),
                }
            }
            match d["total_taxes"].as_str() {
                Some(s) if is_fixed(s, 4) => {}
                _ => bad.push(format!(
                    "{route}/{id}.total_taxes = {} (want a string with 4 decimals)",
                    d["total_taxes"]
                )),
            }
            if !d["total_rounding_difference"].is_number() {
                bad.push(format!(
                    "{route}/{id}.total_rounding_difference = {} (want a number)",
                    d["total_rounding_difference"]
                ));
            }
            match d["updated_at"].as_str() {
                Some(s) if is_v2_stamp(s) => {}
                _ => bad.push(format!(
                    "{route}/{id}.updated_at = {} (want YYYY-MM-DD HH:MM:SS)",
                    d["updated_at"]
                )),
            }
            for t in d["taxs"].as_array().map(Vec::as_slice).unwrap_or_default() {
                if !t["percentage"].as_str().is_some_and(|s| is_fixed(s, 2))
                    || !t["value"].as_str().is_some_and(|s| is_fixed(s, 4))
                {
                    bad.push(format!(
                        "{route}/{id}.taxs: {} (want percentage with 2 and value with 4 decimals, as strings)",
                        short(t)
                    ));
                }
            }
        }
    }
    // Positions: amounts and prices with 6 decimals, tax_value with 2.
    let listed: Vec<u64> = api
        .get_ok("/2.0/kb_invoice?limit=120")
        .await
        .as_array()
        .expect("array")
        .iter()
        .map(id_of)
        .collect();
    for id in listed.iter().step_by(20) {
        let d = api.get_ok(&format!("/2.0/kb_invoice/{id}")).await;
        for p in d["positions"].as_array().expect("positions") {
            if matches!(
                p["type"].as_str(),
                Some("KbPositionCustom" | "KbPositionArticle")
            ) {
                for k in [
                    "amount",
                    "unit_price",
                    "discount_in_percent",
                    "position_total",
                ] {
                    if !p[k].as_str().is_some_and(|s| is_fixed(s, 6)) {
                        bad.push(format!(
                            "/2.0/kb_invoice/{id} position {}.{k} = {}",
                            p["id"], p[k]
                        ));
                    }
                }
                if !p["tax_value"].as_str().is_some_and(|s| is_fixed(s, 2)) {
                    bad.push(format!(
                        "/2.0/kb_invoice/{id} position {}.tax_value = {}",
                        p["id"], p["tax_value"]
                    ));
                }
            }
        }
        for pay in api
            .get_ok(&format!("/2.0/kb_invoice/{id}/payment"))
            .await
            .as_array()
            .expect("payments")
        {
            if !pay["value"].as_str().is_some_and(|s| is_fixed(s, 4)) {
                bad.push(format!(
                    "/2.0/kb_invoice/{id}/payment {}.value = {} (want 4 decimals)",
                    pay["id"], pay["value"]
                ));
            }
        }
    }
    for c in api.all_v2("/2.0/contact", 500).await {
        if !c["updated_at"].as_str().is_some_and(is_v2_stamp) {
            bad.push(format!(
                "/2.0/contact/{}.updated_at = {}",
                c["id"], c["updated_at"]
            ));
        }
    }
    sb.stop().await;
    assert!(
        bad.is_empty(),
        "{} encoding errors:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[tokio::test]
async fn v3_journal_uses_zurich_offsets_and_numbers() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let journal = api.get_ok("/3.0/accounting/journal?limit=2000").await;
    let rows = journal.as_array().expect("journal");
    assert!(rows.len() > 100, "journal has {} rows", rows.len());
    let (mut summer, mut winter) = (0, 0);
    let mut bad = Vec::new();
    for j in rows {
        let date = j["date"].as_str().unwrap_or_default();
        match chrono::DateTime::parse_from_rfc3339(date) {
            Ok(dt)
                if date.len() == 25 && (date.ends_with("+01:00") || date.ends_with("+02:00")) =>
            {
                // The offset must be Zurich's on that day.
                let naive = dt.naive_local();
                let expected = chrono_tz::Europe::Zurich
                    .from_local_datetime(&naive)
                    .earliest()
                    .map(|z| z.offset().fix().local_minus_utc());
                if expected != Some(dt.offset().local_minus_utc()) {
                    bad.push(format!(
                        "journal {}: {date} has the wrong offset for Zurich",
                        j["id"]
                    ));
                }
                if date.ends_with("+02:00") {
                    summer += 1;
                } else {
                    winter += 1;
                }
            }
            _ => bad.push(format!(
                "journal {}: date {date:?} is not ISO 8601 with +01:00/+02:00",
                j["id"]
            )),
        }
        for k in ["amount", "currency_factor", "base_currency_amount"] {
            if !j[k].is_number() {
                bad.push(format!(
                    "journal {}: {k} = {} (want a number)",
                    j["id"], j[k]
                ));
            }
        }
        for k in [
            "id",
            "ref_id",
            "debit_account_id",
            "credit_account_id",
            "currency_id",
            "base_currency_id",
        ] {
            if !j[k].is_u64() {
                bad.push(format!(
                    "journal {}: {k} = {} (want an integer)",
                    j["id"], j[k]
                ));
            }
        }
    }
    assert!(
        summer > 0 && winter > 0,
        "both summer (+02:00, {summer}) and winter (+01:00, {winter}) dates expected"
    );
    // Other 3.0 money: manual entry lines and taxes are numbers too.
    for e in api
        .get_ok("/3.0/accounting/manual_entries")
        .await
        .as_array()
        .expect("entries")
    {
        for line in e["entries"].as_array().expect("lines") {
            if !line["amount"].is_number() {
                bad.push(format!(
                    "manual entry {}: amount = {}",
                    e["id"], line["amount"]
                ));
            }
        }
    }
    for t in api.get_ok("/3.0/taxes").await.as_array().expect("taxes") {
        if !t["value"].is_number() {
            bad.push(format!("tax {}: value = {}", t["id"], t["value"]));
        }
    }
    sb.stop().await;
    assert!(
        bad.is_empty(),
        "{} encoding errors:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && uuid::Uuid::parse_str(s).is_ok()
}

#[tokio::test]
async fn v4_ids_are_uuids_and_stamps_are_utc() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let mut bad = Vec::new();
    for route in ["/4.0/purchase/bills", "/4.0/expenses"] {
        let page = api.get_ok(&format!("{route}?limit=500")).await;
        let rows = page["data"].as_array().expect("data");
        assert!(!rows.is_empty(), "{route} is empty");
        for r in rows {
            let id = r["id"].as_str().unwrap_or_default();
            if !is_uuid(id) {
                bad.push(format!("{route}: id {} is not a lowercase UUID", r["id"]));
            }
            let created = r["created_at"].as_str().unwrap_or_default();
            if !(created.ends_with("+0000")
                && chrono::DateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S%z").is_ok())
            {
                bad.push(format!(
                    "{route} {id}: created_at {created:?} (want YYYY-MM-DDTHH:MM:SS+0000)"
                ));
            }
            for k in ["net", "gross"] {
                if !r[k].is_number() {
                    bad.push(format!("{route} {id}: {k} = {} (want a number)", r[k]));
                }
            }
            for a in r["attachment_ids"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if !a.as_str().is_some_and(is_uuid) {
                    bad.push(format!("{route} {id}: attachment id {a} is not a UUID"));
                }
            }
        }
        let first = rows[0]["id"].as_str().expect("id");
        let detail = api.get_ok(&format!("{route}/{first}")).await;
        if detail["id"] != rows[0]["id"] {
            bad.push(format!("{route}/{first}: detail has id {}", detail["id"]));
        }
    }
    sb.stop().await;
    assert!(
        bad.is_empty(),
        "{} encoding errors:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[tokio::test]
async fn invoice_totals_add_up_and_sum_to_the_ground_truth() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let currencies: BTreeMap<u64, (String, Decimal)> = api
        .get_ok("/3.0/currencies")
        .await
        .as_array()
        .expect("currencies")
        .iter()
        .map(|c| {
            (
                id_of(c),
                (
                    c["name"].as_str().unwrap_or_default().to_owned(),
                    dec(&c["round_factor"]),
                ),
            )
        })
        .collect();
    let invoices = api.all_v2("/2.0/kb_invoice", 200).await;
    let stats = api.stats().await;
    let truth = &stats["companies"][0]["stats"]["invoices"];
    assert_eq!(
        invoices.len() as u64,
        truth["count"].as_u64().expect("count"),
        "invoice count"
    );

    let mut bad = Vec::new();
    let mut sum = Decimal::ZERO;
    let mut chf = 0;
    let mut checked = 0;
    let cent = Decimal::new(1, 2);
    for inv in &invoices {
        let id = id_of(inv);
        let total = dec(&inv["total"]);
        let net = dec(&inv["total_net"]);
        let taxes = dec(&inv["total_taxes"]);
        let rounding = dec(&inv["total_rounding_difference"]);
        sum += total;
        let (code, factor) = currencies
            .get(&inv["currency_id"].as_u64().unwrap_or(0))
            .cloned()
            .unwrap_or_else(|| panic!("invoice {id}: unknown currency {}", inv["currency_id"]));
        if code == "CHF" {
            chf += 1;
            if total % Decimal::new(5, 2) != Decimal::ZERO {
                bad.push(format!(
                    "invoice {id}: CHF total {total} is not a multiple of 0.05"
                ));
            }
        }
        if total % factor != Decimal::ZERO {
            bad.push(format!(
                "invoice {id}: {code} total {total} is not a multiple of its round factor {factor}"
            ));
        }
        if inv["mwst_is_net"] == Value::Bool(true) {
            checked += 1;
            let exact = net + taxes;
            if total != round_to(exact, factor) {
                bad.push(format!(
                    "invoice {id}: total {total} != round({net} + {taxes}, {factor}) = {}",
                    round_to(exact, factor)
                ));
            }
            if ((total - exact) - rounding).abs() >= cent {
                bad.push(format!(
                    "invoice {id}: total {total} - (net {net} + taxes {taxes}) = {} but total_rounding_difference is {rounding}",
                    total - exact
                ));
            }
            if (total - exact).abs() > factor / Decimal::TWO {
                bad.push(format!(
                    "invoice {id}: total {total} is further than half a round factor from net + taxes {exact}"
                ));
            }
        }
        let paid = dec(&inv["total_received_payments"]);
        let credit = dec(&inv["total_credit_vouchers"]);
        let remaining = dec(&inv["total_remaining_payments"]);
        if remaining != (total - paid - credit).max(Decimal::ZERO) {
            bad.push(format!(
                "invoice {id}: remaining {remaining} != total {total} - paid {paid} - credit vouchers {credit}"
            ));
        }
    }
    assert!(chf > 0, "no CHF invoices");
    assert!(
        checked * 2 > invoices.len(),
        "most invoices should be net (mwst_is_net): {checked} of {}",
        invoices.len()
    );
    let truth_sum = Decimal::from_str(
        truth["sum_total"]
            .as_str()
            .expect("sum_total is a decimal string"),
    )
    .expect("decimal");
    if sum != truth_sum {
        bad.push(format!(
            "Σ total over the API = {sum}, /_sandbox/stats sum_total = {truth_sum}"
        ));
    }
    // The same by currency and status.
    for (group, key) in [("by_currency", "sum_total"), ("by_status", "sum_total")] {
        let parts: Decimal = truth[group]
            .as_object()
            .expect(group)
            .values()
            .map(|b| Decimal::from_str(b[key].as_str().unwrap_or("0")).expect("decimal"))
            .sum();
        if parts != truth_sum {
            bad.push(format!(
                "stats {group}: Σ {key} = {parts} != sum_total {truth_sum}"
            ));
        }
    }
    sb.stop().await;
    assert!(
        bad.is_empty(),
        "{} arithmetic errors:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
