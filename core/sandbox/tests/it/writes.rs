//! Writes through the API keep the company consistent: hidden state survives edits, payments and
//! status changes book in the journal, and `updated_at` only moves forward.

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;

use crate::{Api, Body, small, start};

fn dec(v: &serde_json::Value) -> Decimal {
    match v {
        serde_json::Value::String(s) => s.parse().expect("decimal string"),
        other => other.to_string().parse().expect("decimal number"),
    }
}

async fn receivables(api: &Api, currency_id: u64) -> Decimal {
    let accounts = api.get_ok("/2.0/accounts?limit=2000").await;
    let debtor = accounts
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_no"] == "1100")
        .and_then(|a| a["id"].as_u64())
        .expect("account 1100");
    let mut balance = Decimal::ZERO;
    let mut offset = 0;
    loop {
        let page = api
            .get_ok(&format!(
                "/3.0/accounting/journal?limit=2000&offset={offset}"
            ))
            .await;
        let rows = page.as_array().expect("journal page");
        for j in rows
            .iter()
            .filter(|j| j["currency_id"].as_u64() == Some(currency_id))
        {
            if j["debit_account_id"].as_u64() == Some(debtor) {
                balance += dec(&j["amount"]);
            }
            if j["credit_account_id"].as_u64() == Some(debtor) {
                balance -= dec(&j["amount"]);
            }
        }
        if rows.len() < 2000 {
            return balance;
        }
        offset += 2000;
    }
}

#[tokio::test]
async fn payments_and_status_changes_book_in_the_journal() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let open = api
        .post_ok("/2.0/kb_invoice/search?limit=50", json!([{"field": "kb_item_status_id", "value": "8", "criteria": "="}, {"field": "currency_id", "value": "1", "criteria": "="}]))
        .await;
    let inv = open
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .expect("an open CHF invoice");
    let id = inv["id"].as_u64().expect("id");
    let remaining = dec(&inv["total_remaining_payments"]);
    let before = receivables(&api, 1).await;

    // A partial payment: status 16, receivables down by exactly the amount, a fresh payment id.
    let part = (remaining / Decimal::TWO).round_dp(2);
    let paid = api
        .post_ok(
            &format!("/2.0/kb_invoice/{id}/payment"),
            json!({"date": "2025-11-28", "value": part.to_string()}),
        )
        .await;
    let pid = paid["id"].as_u64().expect("payment id");
    let detail = api.get_ok(&format!("/2.0/kb_invoice/{id}")).await;
    assert_eq!(detail["kb_item_status_id"], 16);
    assert_eq!(receivables(&api, 1).await, before - part);
    let mut seen = std::collections::HashSet::new();
    let all = api.get_ok("/2.0/kb_invoice?limit=2000").await;
    for i in all.as_array().expect("invoices") {
        let pays = api
            .get_ok(&format!("/2.0/kb_invoice/{}/payment", i["id"]))
            .await;
        for p in pays.as_array().expect("payments") {
            assert!(
                seen.insert(p["id"].as_u64().expect("id")),
                "payment id {} is used twice",
                p["id"]
            );
        }
    }
    assert!(seen.contains(&pid));

    // Overpaying is refused; deleting the payment restores the balance and the status.
    let r = api
        .post(
            &format!("/2.0/kb_invoice/{id}/payment"),
            json!({"date": "2025-11-28", "value": (remaining * Decimal::TWO).to_string()}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(
        api.delete(&format!("/2.0/kb_invoice/{id}/payment/{pid}"))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get_ok(&format!("/2.0/kb_invoice/{id}")).await["kb_item_status_id"],
        8
    );
    assert_eq!(receivables(&api, 1).await, before);

    // Cancelling reverses the booking: the invoice no longer counts as receivable.
    assert_eq!(
        api.post(&format!("/2.0/kb_invoice/{id}/cancel"), json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get_ok(&format!("/2.0/kb_invoice/{id}")).await["kb_item_status_id"],
        19
    );
    assert_eq!(receivables(&api, 1).await, before - remaining);
    // …and a second cancel is refused the way bexio refuses it.
    let r = api
        .post(&format!("/2.0/kb_invoice/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.json()["error_code"] == 422);
    assert_eq!(
        api.post("/2.0/kb_invoice/99999999/issue", json!({}))
            .await
            .status,
        404
    );
    sb.stop().await;
}

#[tokio::test]
async fn edits_keep_what_the_api_does_not_show_and_move_updated_at_forward() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let newest = api
        .get_ok("/2.0/contact?order_by=updated_at_desc&limit=1")
        .await[0]["updated_at"]
        .as_str()
        .expect("stamp")
        .to_owned();

    // An archived contact stays archived when edited.
    let created = api
        .post_ok(
            "/2.0/contact",
            json!({"contact_type_id": 1, "name_1": "Archiv AG", "user_id": 1, "owner_id": 1}),
        )
        .await;
    let cid = created["id"].as_u64().expect("id");
    assert!(
        created["updated_at"].as_str().expect("stamp") > newest.as_str(),
        "a write is newer than every generated change"
    );
    assert_eq!(api.delete(&format!("/2.0/contact/{cid}")).await.status, 200);
    api.post_ok(
        &format!("/2.0/contact/{cid}"),
        json!({"name_1": "Archiv AG (alt)"}),
    )
    .await;
    let listed = api.get_ok("/2.0/contact?limit=2000").await;
    assert!(
        !listed
            .as_array()
            .expect("contacts")
            .iter()
            .any(|c| c["id"].as_u64() == Some(cid)),
        "the edit un-archived the contact"
    );
    let archived = api
        .get_ok("/2.0/contact?show_archived=true&limit=2000")
        .await;
    assert!(
        archived
            .as_array()
            .expect("contacts")
            .iter()
            .any(|c| c["id"].as_u64() == Some(cid))
    );

    // An additional address stays reachable under its contact after an edit.
    let addr = api
        .post_ok(
            &format!("/2.0/contact/{cid}/additional_address"),
            json!({"name": "Lager", "postcode": "8004", "city": "Zürich"}),
        )
        .await;
    let aid = addr["id"].as_u64().expect("id");
    api.post_ok(
        &format!("/2.0/contact/{cid}/additional_address/{aid}"),
        json!({"city": "Winterthur", "postcode": "8400"}),
    )
    .await;
    let got = api
        .get_ok(&format!("/2.0/contact/{cid}/additional_address/{aid}"))
        .await;
    assert_eq!(got["city"], "Winterthur");

    // Answers to writes keep bexio's key order (id first), like reads.
    let r = api
        .post(&format!("/2.0/contact/{cid}"), json!({"remarks": "x"}))
        .await;
    assert!(
        r.text().starts_with("{\"id\":"),
        "{}",
        &r.text()[..60.min(r.text().len())]
    );
    sb.stop().await;
}

#[tokio::test]
async fn odd_requests_get_bexio_errors_not_panics() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    // A method the route does not have: 405 with bexio's error body.
    let r = api.send(Method::PUT, "/2.0/kb_invoice/1", Body::None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error_code"], 405);
    // limit=0 would never end a "short page" loop: refused.
    let r = api.get("/2.0/kb_invoice?limit=0").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error_code"], 400);
    // Huge numbers are refused, not overflowed.
    let r = api
        .get("/4.0/purchase/bills?page=18446744073709551615&limit=500")
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = api.get("/2.0/kb_invoice?offset=18446744073709551615").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([]));
    let r = api.get("/2.0/kb_invoice?limit=-5").await;
    assert_eq!(r.status, 400);
    // The server is still there.
    assert_eq!(api.get("/2.0/kb_invoice?limit=1").await.status, 200);
    sb.stop().await;
}

#[tokio::test]
async fn taxes_active_on_a_date() {
    let sb = start(small()).await;
    let api = Api::new(&sb, 0);
    let rates = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .expect("taxes")
            .iter()
            .map(|t| t["value"].to_string())
            .collect()
    };
    let y2023 = rates(
        api.get_ok("/3.0/taxes?scope=active&types=sales_tax&date=2023-05-01")
            .await,
    );
    let y2024 = rates(
        api.get_ok("/3.0/taxes?scope=active&types=sales_tax&date=2024-05-01")
            .await,
    );
    assert!(
        y2023.contains(&"7.7".to_string()) && !y2023.contains(&"8.1".to_string()),
        "{y2023:?}"
    );
    assert!(
        y2024.contains(&"8.1".to_string()) && !y2024.contains(&"7.7".to_string()),
        "{y2024:?}"
    );
    sb.stop().await;
}
