//! Search: every criteria operator against invoices and contacts, checked against the data
//! read from the list routes; errors; and the incremental pull by `updated_at`.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{Api, id_of, small, start};

type Pred = Box<dyn Fn(&Value) -> bool>;

fn s(v: &Value, k: &str) -> Option<String> {
    v[k].as_str().map(str::to_owned)
}

fn n(v: &Value, k: &str) -> Option<i64> {
    v[k].as_i64()
}

fn d(v: &Value, k: &str) -> Decimal {
    Decimal::from_str(
        v[k].as_str()
            .unwrap_or_else(|| panic!("{k} is not a decimal string in {v}")),
    )
    .expect("decimal")
}

/// `null` or empty, as bexio's `is_null` sees text.
fn blank(v: &Value, k: &str) -> bool {
    v[k].is_null() || v[k].as_str() == Some("")
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// Runs each search and compares the ids found with the ids the predicate selects from `rows`.
async fn check_cases(
    api: &Api,
    route: &str,
    rows: &[Value],
    cases: Vec<(Value, Pred)>,
    out: &mut Vec<String>,
) {
    for (criteria, pred) in cases {
        let expected: BTreeSet<u64> = rows.iter().filter(|r| pred(r)).map(id_of).collect();
        let r = api
            .post(&format!("{route}?limit=2000"), criteria.clone())
            .await;
        if r.status != 200 {
            out.push(format!(
                "{route} {criteria}: status {} {}",
                r.status,
                r.text()
            ));
            continue;
        }
        let found: Vec<u64> = r
            .json()
            .as_array()
            .expect("array")
            .iter()
            .map(id_of)
            .collect();
        let got: BTreeSet<u64> = found.iter().copied().collect();
        if got.len() != found.len() {
            out.push(format!("{route} {criteria}: duplicate ids in the result"));
        }
        if expected.is_empty() || expected.len() == rows.len() {
            out.push(format!(
                "TEST DATA: {route} {criteria} selects {} of {} records; pick a more telling value",
                expected.len(),
                rows.len()
            ));
        }
        if got != expected {
            let missing: Vec<_> = expected.difference(&got).take(8).collect();
            let extra: Vec<_> = got.difference(&expected).take(8).collect();
            out.push(format!(
                "{route} {criteria}: found {} records, expected {} (missing e.g. {missing:?}, unexpected e.g. {extra:?})",
                got.len(),
                expected.len()
            ));
        }
    }
}

/// The most common value of an integer field.
fn most_common(rows: &[Value], k: &str) -> i64 {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for r in rows {
        if let Some(v) = n(r, k) {
            *counts.entry(v).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, c)| *c)
        .map(|(v, _)| v)
        .unwrap_or_else(|| panic!("no {k}"))
}

#[tokio::test]
async fn every_operator_on_invoices() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let rows = api.all_v2("/2.0/kb_invoice", 500).await;
    let mut totals: Vec<Decimal> = rows.iter().map(|r| d(r, "total")).collect();
    totals.sort();
    let median = totals[totals.len() / 2];
    let median_s = median.to_string();
    let client = most_common(&rows, "contact_id");
    let user = most_common(&rows, "user_id");
    let mut stamps: Vec<String> = rows.iter().filter_map(|r| s(r, "updated_at")).collect();
    stamps.sort();
    let mid_stamp = stamps[stamps.len() / 2].clone();
    let mut days: Vec<String> = rows.iter().filter_map(|r| s(r, "is_valid_from")).collect();
    days.sort();
    let mid_day = days[days.len() / 2].clone();
    let max_id = rows.iter().map(id_of).max().expect("ids");
    let some_ids: Vec<u64> = rows.iter().map(id_of).step_by(7).take(6).collect();
    let some_ids_s: Vec<String> = some_ids.iter().map(u64::to_string).collect();
    let title_word = {
        // A word that some but not all titles contain.
        let titles: Vec<String> = rows.iter().filter_map(|r| s(r, "title")).collect();
        let first = titles.first().cloned().expect("a title");
        first.chars().take(5).collect::<String>().to_lowercase()
    };
    let prefix = format!(
        "{}%",
        &rows[rows.len() / 2]["document_nr"]
            .as_str()
            .expect("document_nr")[..7]
    );
    let prefix_plain = prefix.trim_end_matches('%').to_owned();
    let other_client = rows
        .iter()
        .filter_map(|r| n(r, "contact_id"))
        .find(|c| *c != client)
        .expect("two clients");

    let (m1, m2, m3, m4) = (median, median, median, median);
    let (st1, st2) = (mid_stamp.clone(), mid_stamp.clone());
    let (dy1, dy2) = (mid_day.clone(), mid_day.clone());
    let (w1, w2) = (title_word.clone(), title_word.clone());
    let ids_in = some_ids.clone();
    let ids_not = some_ids.clone();
    let cases: Vec<(Value, Pred)> = vec![
        (
            json!([{"field": "contact_id", "value": client.to_string(), "criteria": "="}]),
            Box::new(move |r: &Value| n(r, "contact_id") == Some(client)),
        ),
        (
            json!([{"field": "user_id", "value": user, "criteria": "equal"}]),
            Box::new(move |r: &Value| n(r, "user_id") == Some(user)),
        ),
        (
            json!([{"field": "kb_item_status_id", "value": "9", "criteria": "!="}]),
            Box::new(|r: &Value| n(r, "kb_item_status_id").is_some_and(|v| v != 9)),
        ),
        (
            json!([{"field": "user_id", "value": user.to_string(), "criteria": "not_equal"}]),
            Box::new(move |r: &Value| n(r, "user_id").is_some_and(|v| v != user)),
        ),
        (
            json!([{"field": "total", "value": median_s.clone(), "criteria": ">"}]),
            Box::new(move |r: &Value| d(r, "total") > m1),
        ),
        (
            json!([{"field": "id", "value": (max_id / 2).to_string(), "criteria": "greater_than"}]),
            Box::new(move |r: &Value| id_of(r) > max_id / 2),
        ),
        (
            json!([{"field": "is_valid_from", "value": mid_day.clone(), "criteria": ">="}]),
            Box::new(move |r: &Value| s(r, "is_valid_from").is_some_and(|v| v >= dy1)),
        ),
        (
            json!([{"field": "total_net", "value": median_s.clone(), "criteria": "greater_equal"}]),
            Box::new(move |r: &Value| d(r, "total_net") >= m2),
        ),
        (
            json!([{"field": "total", "value": median_s.clone(), "criteria": "<"}]),
            Box::new(move |r: &Value| d(r, "total") < m3),
        ),
        (
            json!([{"field": "is_valid_to", "value": mid_day.clone(), "criteria": "less_than"}]),
            Box::new(move |r: &Value| s(r, "is_valid_to").is_some_and(|v| v < dy2)),
        ),
        (
            json!([{"field": "total_gross", "value": median_s.clone(), "criteria": "<="}]),
            Box::new(move |r: &Value| d(r, "total_gross") <= m4),
        ),
        (
            json!([{"field": "updated_at", "value": mid_stamp.clone(), "criteria": "less_equal"}]),
            Box::new(move |r: &Value| s(r, "updated_at").is_some_and(|v| v <= st1)),
        ),
        (
            json!([{"field": "updated_at", "value": mid_stamp.clone(), "criteria": ">"}]),
            Box::new(move |r: &Value| s(r, "updated_at").is_some_and(|v| v > st2)),
        ),
        (
            json!([{"field": "title", "value": title_word.to_uppercase(), "criteria": "like"}]),
            Box::new(move |r: &Value| s(r, "title").is_some_and(|t| contains_ci(&t, &w1))),
        ),
        (
            json!([{"field": "document_nr", "value": prefix.clone(), "criteria": "like"}]),
            Box::new(move |r: &Value| {
                s(r, "document_nr").is_some_and(|t| t.starts_with(&prefix_plain))
            }),
        ),
        (
            json!([{"field": "title", "value": title_word.clone(), "criteria": "not_like"}]),
            Box::new(move |r: &Value| s(r, "title").is_some_and(|t| !contains_ci(&t, &w2))),
        ),
        (
            json!([{"field": "contact_sub_id", "criteria": "is_null"}]),
            Box::new(|r: &Value| r["contact_sub_id"].is_null()),
        ),
        (
            json!([{"field": "contact_sub_id", "criteria": "not_null"}]),
            Box::new(|r: &Value| !r["contact_sub_id"].is_null()),
        ),
        (
            json!([{"field": "id", "value": some_ids_s, "criteria": "in"}]),
            Box::new(move |r: &Value| ids_in.contains(&id_of(r))),
        ),
        (
            json!([{"field": "contact_id", "value": format!("{client},{other_client}"), "criteria": "in"}]),
            Box::new(move |r: &Value| {
                n(r, "contact_id").is_some_and(|c| c == client || c == other_client)
            }),
        ),
        (
            json!([{"field": "id", "value": some_ids.iter().map(u64::to_string).collect::<Vec<_>>(), "criteria": "not_in"}]),
            Box::new(move |r: &Value| !ids_not.contains(&id_of(r))),
        ),
        (
            json!([{"field": "kb_item_status_id", "value": ["9", "19"], "criteria": "not_in"}]),
            Box::new(|r: &Value| n(r, "kb_item_status_id").is_some_and(|v| v != 9 && v != 19)),
        ),
        // Criteria combine with AND.
        (
            json!([{"field": "contact_id", "value": client.to_string(), "criteria": "="}, {"field": "total", "value": median_s, "criteria": ">="}]),
            Box::new(move |r: &Value| {
                n(r, "contact_id") == Some(client) && d(r, "total") >= median
            }),
        ),
    ];
    let mut out = Vec::new();
    check_cases(&api, "/2.0/kb_invoice/search", &rows, cases, &mut out).await;
    sb.stop().await;
    assert!(
        out.is_empty(),
        "{} search mismatches:\n{}",
        out.len(),
        out.join("\n")
    );
}

#[tokio::test]
async fn every_operator_on_contacts() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let rows = api.all_v2("/2.0/contact", 500).await;
    assert!(rows.len() > 10, "contacts: {}", rows.len());
    let city = {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for r in &rows {
            *counts.entry(s(r, "city").unwrap_or_default()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|(_, c)| *c)
            .map(|(v, _)| v)
            .expect("a city")
    };
    let other_city = rows
        .iter()
        .filter_map(|r| s(r, "city"))
        .find(|c| *c != city)
        .expect("two cities");
    let mut stamps: Vec<String> = rows.iter().filter_map(|r| s(r, "updated_at")).collect();
    stamps.sort();
    let mid_stamp = stamps[stamps.len() / 2].clone();
    let mut postcodes: Vec<String> = rows.iter().filter_map(|r| s(r, "postcode")).collect();
    postcodes.sort();
    let mid_pc = postcodes[postcodes.len() / 2].clone();
    let max_id = rows.iter().map(id_of).max().expect("ids");
    // The end of one contact's e-mail domain, as a `%suffix` pattern.
    let mail_suffix: String = {
        let mail = rows
            .iter()
            .filter_map(|r| s(r, "mail"))
            .find(|m| m.len() > 10)
            .expect("a mail");
        mail.chars()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    };
    let ms = mail_suffix.to_lowercase();
    let (c1, c2, oc) = (city.clone(), city.clone(), other_city.clone());
    let (st, pc1, pc2) = (mid_stamp.clone(), mid_pc.clone(), mid_pc.clone());
    let cases: Vec<(Value, Pred)> = vec![
        (
            json!([{"field": "contact_type_id", "value": "2", "criteria": "="}]),
            Box::new(|r: &Value| n(r, "contact_type_id") == Some(2)),
        ),
        (
            json!([{"field": "contact_type_id", "value": 1, "criteria": "equal"}]),
            Box::new(|r: &Value| n(r, "contact_type_id") == Some(1)),
        ),
        (
            json!([{"field": "city", "value": city.clone(), "criteria": "!="}]),
            Box::new(move |r: &Value| s(r, "city").is_some_and(|c| c != c1)),
        ),
        (
            json!([{"field": "contact_type_id", "value": "1", "criteria": "not_equal"}]),
            Box::new(|r: &Value| n(r, "contact_type_id").is_some_and(|v| v != 1)),
        ),
        (
            json!([{"field": "id", "value": (max_id / 3).to_string(), "criteria": ">"}]),
            Box::new(move |r: &Value| id_of(r) > max_id / 3),
        ),
        (
            json!([{"field": "updated_at", "value": mid_stamp.clone(), "criteria": "greater_than"}]),
            Box::new(move |r: &Value| s(r, "updated_at").is_some_and(|v| v > st)),
        ),
        (
            json!([{"field": "postcode", "value": mid_pc.clone(), "criteria": ">="}]),
            Box::new(move |r: &Value| s(r, "postcode").is_some_and(|v| v >= pc1)),
        ),
        (
            json!([{"field": "id", "value": "10", "criteria": "greater_equal"}]),
            Box::new(|r: &Value| id_of(r) >= 10),
        ),
        (
            json!([{"field": "postcode", "value": mid_pc.clone(), "criteria": "<"}]),
            Box::new(move |r: &Value| s(r, "postcode").is_some_and(|v| v < pc2)),
        ),
        (
            json!([{"field": "id", "value": "10", "criteria": "less_than"}]),
            Box::new(|r: &Value| id_of(r) < 10),
        ),
        (
            json!([{"field": "id", "value": "10", "criteria": "<="}]),
            Box::new(|r: &Value| id_of(r) <= 10),
        ),
        (
            json!([{"field": "contact_type_id", "value": "1", "criteria": "less_equal"}]),
            Box::new(|r: &Value| n(r, "contact_type_id").is_some_and(|v| v <= 1)),
        ),
        (
            json!([{"field": "name_1", "value": "AG", "criteria": "like"}]),
            Box::new(|r: &Value| s(r, "name_1").is_some_and(|v| contains_ci(&v, "ag"))),
        ),
        (
            json!([{"field": "mail", "value": format!("%{mail_suffix}"), "criteria": "like"}]),
            Box::new(move |r: &Value| {
                s(r, "mail").is_some_and(|v| v.to_lowercase().ends_with(&ms))
            }),
        ),
        (
            json!([{"field": "name_1", "value": "ag", "criteria": "not_like"}]),
            Box::new(|r: &Value| s(r, "name_1").is_some_and(|v| !contains_ci(&v, "ag"))),
        ),
        (
            json!([{"field": "contact_group_ids", "criteria": "is_null"}]),
            Box::new(|r: &Value| blank(r, "contact_group_ids")),
        ),
        (
            json!([{"field": "contact_group_ids", "criteria": "not_null"}]),
            Box::new(|r: &Value| !blank(r, "contact_group_ids")),
        ),
        (
            json!([{"field": "city", "value": [city.clone(), other_city.clone()], "criteria": "in"}]),
            Box::new(move |r: &Value| s(r, "city").is_some_and(|v| v == c2 || v == oc)),
        ),
        (
            json!([{"field": "id", "value": "1,2,3", "criteria": "not_in"}]),
            Box::new(|r: &Value| !(1..=3).contains(&id_of(r))),
        ),
        (
            json!([{"field": "contact_type_id", "value": "1", "criteria": "="}, {"field": "city", "value": city.clone(), "criteria": "="}]),
            Box::new(move |r: &Value| {
                n(r, "contact_type_id") == Some(1) && s(r, "city").as_deref() == Some(city.as_str())
            }),
        ),
    ];
    let mut out = Vec::new();
    check_cases(&api, "/2.0/contact/search", &rows, cases, &mut out).await;
    sb.stop().await;
    assert!(
        out.is_empty(),
        "{} search mismatches:\n{}",
        out.len(),
        out.join("\n")
    );
}

#[tokio::test]
async fn bad_searches_are_refused() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    for (route, body) in [
        (
            "/2.0/kb_invoice/search",
            json!([{"field": "no_such_field", "value": "1", "criteria": "="}]),
        ),
        (
            "/2.0/contact/search",
            json!([{"field": "password", "value": "x"}]),
        ),
        (
            "/2.0/kb_invoice/search",
            json!([{"field": "id", "value": "1", "criteria": "between"}]),
        ),
    ] {
        let r = api.post(route, body.clone()).await;
        assert_eq!(r.status, 422, "{route} {body}: {}", r.text());
        let v = r.json();
        assert_eq!(v["error_code"], 422, "{route} {body}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{route} {body}: {v}"
        );
    }
    let r = api
        .send(
            Method::POST,
            "/2.0/kb_invoice/search",
            crate::Body::Raw("application/json".into(), b"{not json".to_vec()),
        )
        .await;
    assert!(
        (400..500).contains(&r.status),
        "a body that is not JSON: {} {}",
        r.status,
        r.text()
    );
    assert!(r.json()["error_code"].is_u64(), "{}", r.text());
    sb.stop().await;
}

#[tokio::test]
async fn incremental_pull_by_updated_at_returns_exactly_the_changes() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let before = api.all_v2("/2.0/kb_invoice", 500).await;
    let stamp_of = |r: &Value| s(r, "updated_at").expect("updated_at");
    let stamp = before.iter().map(stamp_of).max().expect("invoices");
    let at_stamp: BTreeSet<u64> = before
        .iter()
        .filter(|r| stamp_of(r) == stamp)
        .map(id_of)
        .collect();

    let adv = api
        .admin(Method::POST, "/_sandbox/advance?days=14", "")
        .await;
    assert_eq!(adv.status, 200, "advance: {}", adv.text());
    let adv = adv.json();
    let changes = &adv["companies"][0]["changes"]["kb_invoice"];
    let ids = |k: &str| -> BTreeSet<u64> {
        changes[k]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|v| v.as_u64().expect("numeric id"))
            .collect()
    };
    let (created, updated, deleted) = (ids("created"), ids("updated"), ids("deleted"));
    assert!(
        !created.is_empty(),
        "14 days of business create invoices: {adv}"
    );
    assert!(
        !updated.is_empty(),
        "14 days of business change invoices (issued, paid…): {adv}"
    );

    let r = api
        .post(
            "/2.0/kb_invoice/search?order_by=updated_at_asc&limit=2000",
            json!([{"field": "updated_at", "value": stamp, "criteria": ">="}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rows = r.json().as_array().expect("array").clone();
    let stamps: Vec<String> = rows.iter().map(stamp_of).collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "order_by=updated_at_asc"
    );
    assert!(
        stamps.iter().all(|s| *s >= stamp),
        "every result is at or after {stamp}"
    );
    let got: BTreeSet<u64> = rows.iter().map(id_of).collect();
    assert_eq!(got.len(), rows.len(), "each invoice once");

    // Exactly the created and updated invoices, plus the unchanged ones stamped exactly at the
    // boundary (`>=`); nothing deleted.
    let expected: BTreeSet<u64> = created
        .iter()
        .chain(&updated)
        .copied()
        .chain(at_stamp.iter().copied().filter(|id| !deleted.contains(id)))
        .collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "pull since {stamp}: {} found, {} expected (created {}, updated {}, at the boundary {}); missing {missing:?}, unexpected {extra:?}",
        got.len(),
        expected.len(),
        created.len(),
        updated.len(),
        at_stamp.len()
    );
    assert!(
        deleted.iter().all(|id| !got.contains(id)),
        "deleted invoices are not found"
    );
    sb.stop().await;
}
