//! Paging per API generation: 2.0 `limit`/`offset`/`order_by`, 3.0 with `x-total-count`
//! headers, 4.0 `page`/`limit` with the `{data, paging}` envelope.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{Api, id_of, small, start};

fn assert_error_body(r: &crate::Resp, what: &str) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected a 4xx, got {} {}",
        r.status,
        r.text()
    );
    let v = r.json();
    assert!(
        v["error_code"].is_u64(),
        "{what}: error body without numeric error_code: {v}"
    );
    assert_eq!(
        v["error_code"].as_u64(),
        Some(u64::from(r.status)),
        "{what}: error_code must be the status: {v}"
    );
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: error body without message: {v}"
    );
}

#[tokio::test]
async fn v2_limits_offsets_and_order() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let stats = api.stats().await;
    let counts = &stats["companies"][0]["stats"]["counts"];
    let n_invoices = counts["kb_invoice"].as_u64().expect("count") as usize;
    let n_timesheets = counts["timesheet"].as_u64().expect("count") as usize;
    assert!(
        n_timesheets > 500,
        "the test needs more than 500 timesheets, the company has {n_timesheets}"
    );

    // Default page size 500; at most 2000.
    let page = api.get_ok("/2.0/timesheet").await;
    assert_eq!(
        page.as_array().map(Vec::len),
        Some(500),
        "default limit is 500"
    );
    let page = api.get_ok("/2.0/timesheet?limit=2000").await;
    assert_eq!(
        page.as_array().map(Vec::len),
        Some(n_timesheets.min(2000)),
        "limit=2000 is allowed"
    );
    let r = api.get("/2.0/timesheet?limit=2001").await;
    assert_error_body(&r, "limit=2001");
    let r = api.get("/2.0/kb_invoice?limit=2001").await;
    assert_error_body(&r, "kb_invoice limit=2001");

    // Offset paging reads every invoice exactly once; a short page ends it.
    let size = 70;
    let mut seen = BTreeSet::new();
    let mut offset = 0;
    let mut pages = 0;
    loop {
        let rows = api
            .get_ok(&format!("/2.0/kb_invoice?limit={size}&offset={offset}"))
            .await;
        let rows = rows.as_array().expect("array").clone();
        pages += 1;
        for r in &rows {
            assert!(
                seen.insert(id_of(r)),
                "invoice {} read twice (offset {offset})",
                r["id"]
            );
        }
        offset += rows.len();
        if rows.len() < size {
            break;
        }
        assert!(pages < 100, "paging does not end");
    }
    assert_eq!(seen.len(), n_invoices, "every invoice once");
    assert_eq!(pages, n_invoices / size + 1, "a short page ends the list");
    let past = api
        .get_ok(&format!("/2.0/kb_invoice?offset={}", n_invoices + 10))
        .await;
    assert_eq!(
        past,
        Value::Array(vec![]),
        "an offset past the end is an empty page"
    );
    // Default order is by id ascending.
    let ids: Vec<u64> = api
        .get_ok("/2.0/kb_invoice?limit=100")
        .await
        .as_array()
        .expect("array")
        .iter()
        .map(id_of)
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "default order is id ascending: {ids:?}"
    );

    // order_by.
    let rows = api
        .all_v2("/2.0/kb_invoice?order_by=updated_at_desc", 90)
        .await;
    assert_eq!(rows.len(), n_invoices);
    let stamps: Vec<&str> = rows
        .iter()
        .map(|r| r["updated_at"].as_str().expect("updated_at"))
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] >= w[1]),
        "updated_at_desc sorts newest first"
    );
    assert!(stamps.first() > stamps.last(), "not all stamps are equal");
    assert_eq!(
        rows.iter().map(id_of).collect::<BTreeSet<_>>().len(),
        n_invoices,
        "sorted paging still reads each invoice once"
    );
    let rows = api
        .get_ok("/2.0/kb_invoice?order_by=id_desc&limit=50")
        .await;
    let ids: Vec<u64> = rows.as_array().expect("array").iter().map(id_of).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "id_desc: {ids:?}");
    assert_eq!(
        ids.first().copied(),
        seen.iter().next_back().copied(),
        "id_desc starts with the largest id"
    );
    let rows = api
        .get_ok("/2.0/kb_invoice?order_by=updated_at&limit=2000")
        .await;
    let stamps: Vec<&str> = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["updated_at"].as_str().expect("updated_at"))
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "order_by=updated_at is ascending"
    );

    for bad in ["no_such_field", "no_such_field_desc", "password_asc"] {
        let r = api.get(&format!("/2.0/kb_invoice?order_by={bad}")).await;
        assert_error_body(&r, &format!("order_by={bad}"));
    }
    let r = api.get("/2.0/kb_invoice?limit=ten").await;
    assert_error_body(&r, "limit=ten");
    sb.stop().await;
}

#[tokio::test]
async fn v3_total_count_headers_and_journal_dates() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let stats = api.stats().await;
    let counts = &stats["companies"][0]["stats"]["counts"];
    let n_journal = counts["accounting/journal"]
        .as_u64()
        .expect("journal count") as usize;
    let n_users = counts["users"].as_u64().expect("users count") as usize;

    for (route, total) in [
        ("/3.0/accounting/journal", n_journal),
        ("/3.0/users", n_users),
    ] {
        let r = api.get(route).await;
        assert_eq!(r.status, 200, "{route}");
        assert_eq!(
            r.header_num("x-total-count"),
            Some(total as i64),
            "{route} x-total-count"
        );
        assert_eq!(
            r.header_num("x-limit"),
            Some(500),
            "{route} default x-limit"
        );
        assert_eq!(r.header_num("x-offset"), Some(0), "{route} x-offset");
        assert_eq!(
            r.json().as_array().map(Vec::len),
            Some(total.min(500)),
            "{route} first page"
        );

        let r = api.get(&format!("{route}?limit=2&offset=1")).await;
        assert_eq!(
            r.header_num("x-total-count"),
            Some(total as i64),
            "{route} x-total-count with paging"
        );
        assert_eq!(r.header_num("x-limit"), Some(2), "{route} x-limit");
        assert_eq!(r.header_num("x-offset"), Some(1), "{route} x-offset");
        assert_eq!(
            r.json().as_array().map(Vec::len),
            Some(total.saturating_sub(1).min(2)),
            "{route} page of two"
        );
    }

    // Journal paging covers every booking once.
    let mut ids = BTreeSet::new();
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let r = api
            .get(&format!(
                "/3.0/accounting/journal?limit=700&offset={offset}"
            ))
            .await;
        assert_eq!(r.header_num("x-total-count"), Some(n_journal as i64));
        let rows = r.json().as_array().expect("array").clone();
        for j in &rows {
            assert!(ids.insert(id_of(j)), "journal entry {} twice", j["id"]);
        }
        offset += rows.len();
        let short = rows.len() < 700;
        all.extend(rows);
        if short {
            break;
        }
    }
    assert_eq!(ids.len(), n_journal, "every journal entry once");

    // from/to filter by booking date, inclusive on both ends.
    let day = |j: &Value| j["date"].as_str().expect("date")[..10].to_owned();
    let mut days: Vec<String> = all.iter().map(day).collect();
    days.sort();
    let from = days[days.len() / 3].clone();
    let to = days[days.len() / 2].clone();
    let expected: BTreeSet<u64> = all
        .iter()
        .filter(|j| day(j) >= from && day(j) <= to)
        .map(id_of)
        .collect();
    assert!(!expected.is_empty());
    let r = api
        .get(&format!(
            "/3.0/accounting/journal?from={from}&to={to}&limit=2000"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header_num("x-total-count"),
        Some(expected.len() as i64),
        "x-total-count counts the filtered bookings"
    );
    let got: BTreeSet<u64> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(got, expected, "journal from={from} to={to}");
    let r = api
        .get(&format!("/3.0/accounting/journal?from={from}&limit=2000"))
        .await;
    let got = r.json().as_array().expect("array").len();
    assert_eq!(
        got,
        all.iter().filter(|j| day(j) >= from).count(),
        "journal from={from}"
    );
    let r = api.get("/3.0/accounting/journal?from=28.11.2025").await;
    assert_error_body(&r, "journal from with a bad date");
    sb.stop().await;
}

#[tokio::test]
async fn v4_pages_and_envelope() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let stats = api.stats().await;
    let n_bills = stats["companies"][0]["stats"]["counts"]["purchase/bills"]
        .as_u64()
        .expect("bills") as usize;
    assert!(
        n_bills > 100,
        "the test needs more than 100 bills, the company has {n_bills}"
    );

    let page = api.get_ok("/4.0/purchase/bills?page=2&limit=50").await;
    let keys: BTreeSet<&str> = page
        .as_object()
        .expect("envelope")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["data", "paging"]), "envelope keys");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(50));
    let paging = &page["paging"];
    assert_eq!(paging["page"], 2);
    assert_eq!(paging["page_size"], 50);
    assert_eq!(
        paging["item_count"].as_u64(),
        Some(n_bills as u64),
        "item_count is the total"
    );
    assert_eq!(
        paging["page_count"].as_u64(),
        Some(n_bills.div_ceil(50) as u64),
        "page_count = ceil(total / limit)"
    );

    // Default page size 100; limit at most 500.
    let first = api.get_ok("/4.0/purchase/bills").await;
    assert_eq!(first["paging"]["page"], 1);
    assert_eq!(first["paging"]["page_size"], 100);
    for bad in ["limit=501", "limit=0"] {
        let r = api.get(&format!("/4.0/purchase/bills?{bad}")).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
    }
    let r = api.get("/4.0/expenses?limit=501").await;
    assert_eq!(r.status, 422, "expenses limit=501: {}", r.text());
    let r = api.get_ok("/4.0/purchase/bills?limit=500").await;
    assert_eq!(r["data"].as_array().map(Vec::len), Some(n_bills.min(500)));

    // Every bill once across the pages; the last page is short.
    let mut seen = BTreeSet::new();
    let pages = n_bills.div_ceil(50);
    for p in 1..=pages {
        let page = api
            .get_ok(&format!("/4.0/purchase/bills?page={p}&limit=50"))
            .await;
        let rows = page["data"].as_array().expect("data");
        let expected = if p < pages {
            50
        } else {
            n_bills - 50 * (pages - 1)
        };
        assert_eq!(rows.len(), expected, "page {p}");
        for b in rows {
            assert!(
                seen.insert(b["id"].as_str().expect("id").to_owned()),
                "bill {} twice",
                b["id"]
            );
        }
    }
    assert_eq!(seen.len(), n_bills);
    let beyond = api
        .get_ok(&format!("/4.0/purchase/bills?page={}&limit=50", pages + 1))
        .await;
    assert_eq!(
        beyond["data"],
        Value::Array(vec![]),
        "a page past the end is empty"
    );

    // Sorting.
    let sorted = api
        .get_ok("/4.0/purchase/bills?limit=500&sort=bill_date&order=desc")
        .await;
    let dates: Vec<&str> = sorted["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|b| b["bill_date"].as_str().expect("date"))
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "sort=bill_date&order=desc"
    );
    let r = api.get("/4.0/purchase/bills?sort=nonsense").await;
    assert_eq!(r.status, 422, "unknown sort: {}", r.text());
    sb.stop().await;
}
