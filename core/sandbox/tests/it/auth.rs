//! Authentication and authorization end to end: Personal Access Tokens, the OAuth realm's
//! authorization code flow with PKCE, scopes, refresh-token rotation, company isolation and
//! token expiry.

use std::time::Duration;

use bexio_bi_sandbox::SandboxConfig;
use serde_json::{Value, json};

use crate::{Api, Resp, form, oauth_login, small, start, token_request};

fn assert_api_error(r: &Resp, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    let v = r.json();
    assert_eq!(
        v["error_code"].as_u64(),
        Some(u64::from(status)),
        "{what}: error body {v}"
    );
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: error body {v}"
    );
}

#[tokio::test]
async fn missing_or_unknown_tokens_are_401() {
    let sb = start(small()).await;
    let pat = Api::new(&sb, 0);
    let routes = [
        "/2.0/contact",
        "/2.0/kb_invoice/1",
        "/3.0/accounting/journal",
        "/3.0/users/me",
        "/4.0/purchase/bills",
    ];
    let forged_jwt = {
        // The PAT with one character of its signature changed.
        let mut t = pat.token.clone();
        let last = t.pop().expect("token");
        t.push(if last == 'A' { 'B' } else { 'A' });
        t
    };
    for token in ["", "garbage", "Bearer", forged_jwt.as_str()] {
        let api = pat.with_token(token);
        for route in routes {
            let r = api.get(route).await;
            assert_api_error(&r, 401, &format!("GET {route} with token {token:?}"));
        }
    }
    // Basic authentication is not a bearer token.
    let r = crate::read(
        crate::http()
            .get(format!("{}/2.0/contact", pat.base))
            .header("authorization", format!("Basic {}", pat.token))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_api_error(&r, 401, "Basic authorization");
    // The PAT itself works.
    assert_eq!(pat.get("/2.0/contact").await.status, 200);
    sb.stop().await;
}

#[tokio::test]
async fn oauth_token_works_on_the_api_within_its_scopes() {
    let sb = start(small()).await;
    let pat = Api::new(&sb, 0);
    let tokens = oauth_login(&sb, "openid offline_access contact_show", None).await;
    assert_eq!(tokens["token_type"], "Bearer", "{tokens}");
    assert!(
        tokens["expires_in"].as_u64().is_some_and(|s| s > 0),
        "{tokens}"
    );
    let scope = tokens["scope"].as_str().unwrap_or_default();
    assert!(
        scope.split(' ').any(|s| s == "contact_show"),
        "granted scope {scope:?}"
    );
    assert!(
        !scope.split(' ').any(|s| s == "kb_invoice_show"),
        "granted scope {scope:?}"
    );
    let api = pat.with_token(tokens["access_token"].as_str().expect("access_token"));

    // Granted: reading contacts, including their search.
    let r = api.get("/2.0/contact?limit=5").await;
    assert_eq!(
        r.status,
        200,
        "contact_show allows /2.0/contact: {}",
        r.text()
    );
    assert_eq!(
        r.json(),
        pat.get_ok("/2.0/contact?limit=5").await,
        "the OAuth token reads the same company as the PAT"
    );
    let r = api
        .post(
            "/2.0/contact/search",
            json!([{"field": "name_1", "value": "a", "criteria": "like"}]),
        )
        .await;
    assert_eq!(r.status, 200, "a search is a read: {}", r.text());
    // Not granted: invoices, and writing contacts.
    assert_api_error(
        &api.get("/2.0/kb_invoice").await,
        403,
        "kb_invoice without kb_invoice_show",
    );
    assert_api_error(
        &api.get("/2.0/kb_invoice/1").await,
        403,
        "kb_invoice/1 without kb_invoice_show",
    );
    assert_api_error(
        &api.get("/3.0/accounting/journal").await,
        403,
        "journal without accounting",
    );
    assert_api_error(
        &api.get("/4.0/purchase/bills").await,
        403,
        "bills without kb_bill_show",
    );
    let r = api
        .post(
            "/2.0/contact",
            json!({"contact_type_id": 1, "name_1": "X", "user_id": 1, "owner_id": 1}),
        )
        .await;
    assert_api_error(&r, 403, "creating a contact with contact_show only");

    // A token that asked for invoices gets them.
    let tokens = oauth_login(&sb, "openid kb_invoice_show accounting", None).await;
    let api = pat.with_token(tokens["access_token"].as_str().expect("access_token"));
    assert_eq!(api.get("/2.0/kb_invoice?limit=1").await.status, 200);
    assert_eq!(api.get("/3.0/accounting/journal?limit=1").await.status, 200);
    assert_api_error(
        &api.get("/2.0/contact").await,
        403,
        "contacts without contact_show",
    );
    sb.stop().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_used_one_is_refused() {
    let sb = start(small()).await;
    let pat = Api::new(&sb, 0);
    let client_id = sb.ready().oauth.public_client_id.clone();
    let first = oauth_login(&sb, "openid offline_access contact_show", None).await;
    let refresh1 = first["refresh_token"]
        .as_str()
        .expect("a refresh token with offline_access")
        .to_owned();

    let r = token_request(
        &sb,
        &form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
            ("client_id", &client_id),
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "refresh: {}", r.text());
    let second: Value = r.json();
    let refresh2 = second["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_owned();
    let access2 = second["access_token"]
        .as_str()
        .expect("a new access token")
        .to_owned();
    assert_ne!(refresh2, refresh1, "the refresh token rotates");
    assert_ne!(
        access2,
        first["access_token"].as_str().unwrap_or_default(),
        "a new access token"
    );
    let r = pat.with_token(&access2).get("/2.0/contact?limit=1").await;
    assert_eq!(
        r.status,
        200,
        "the refreshed access token works on the API: {}",
        r.text()
    );

    // The old refresh token is refused now.
    let r = token_request(
        &sb,
        &form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
            ("client_id", &client_id),
        ]),
    )
    .await;
    assert_eq!(
        r.status,
        400,
        "a used refresh token is refused: {}",
        r.text()
    );
    assert_eq!(r.json()["error"], "invalid_grant", "{}", r.text());
    sb.stop().await;
}

#[tokio::test]
async fn a_token_only_ever_sees_its_own_company() {
    let sb = start(SandboxConfig {
        companies: 2,
        ..small()
    })
    .await;
    let tenants = sb.ready().tenants.clone();
    assert_ne!(
        tenants[0].name, tenants[1].name,
        "two companies with different names"
    );
    let pat0 = Api::new(&sb, 0);
    let pat1 = Api::new(&sb, 1);

    let profile_name = |v: Value| v[0]["name"].as_str().expect("company name").to_owned();
    assert_eq!(
        profile_name(pat0.get_ok("/2.0/company_profile").await),
        tenants[0].name
    );
    assert_eq!(
        profile_name(pat1.get_ok("/2.0/company_profile").await),
        tenants[1].name
    );

    for (index, tenant) in tenants.iter().enumerate() {
        let tokens = oauth_login(
            &sb,
            "openid company_profile contact_show kb_invoice_show",
            Some(&tenant.company_id),
        )
        .await;
        let api = pat0.with_token(tokens["access_token"].as_str().expect("access_token"));
        assert_eq!(
            profile_name(api.get_ok("/2.0/company_profile").await),
            tenant.name,
            "login_hint {} picks company {index}",
            tenant.company_id
        );
        let own = if index == 0 { &pat0 } else { &pat1 };
        let other = if index == 0 { &pat1 } else { &pat0 };
        let contacts = api.get_ok("/2.0/contact").await;
        assert_eq!(
            contacts,
            own.get_ok("/2.0/contact").await,
            "company {index}: the same contacts as its PAT"
        );
        assert_ne!(
            contacts,
            other.get_ok("/2.0/contact").await,
            "company {index}: not the other company's contacts"
        );
        let invoices = api.get_ok("/2.0/kb_invoice?limit=50").await;
        assert_ne!(
            invoices,
            other.get_ok("/2.0/kb_invoice?limit=50").await,
            "company {index}: not the other company's invoices"
        );
        let info = api
            .get_ok("/realms/bexio/protocol/openid-connect/userinfo")
            .await;
        assert_eq!(
            info["company_id"],
            tenant.company_id.as_str(),
            "userinfo names the company: {info}"
        );
    }
    // A write through one company's token does not show in the other.
    let created = pat0
        .post_ok(
            "/2.0/contact",
            json!({"contact_type_id": 1, "name_1": "Only in company 0", "user_id": 1, "owner_id": 1}),
        )
        .await;
    let id = created["id"].as_u64().expect("id");
    let r = pat1.get(&format!("/2.0/contact/{id}")).await;
    assert!(
        r.status == 404 || r.json()["name_1"] != "Only in company 0",
        "company 1 sees company 0's new contact: {}",
        r.text()
    );
    sb.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_401() {
    let sb = start(SandboxConfig {
        access_token_ttl: 1,
        ..small()
    })
    .await;
    let pat = Api::new(&sb, 0);
    let tokens = oauth_login(&sb, "openid contact_show", None).await;
    assert_eq!(tokens["expires_in"], 1, "{tokens}");
    let api = pat.with_token(tokens["access_token"].as_str().expect("access_token"));
    assert_eq!(
        api.get("/2.0/contact?limit=1").await.status,
        200,
        "fresh token works"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_api_error(
        &api.get("/2.0/contact?limit=1").await,
        401,
        "expired access token",
    );
    // The PAT does not expire.
    assert_eq!(pat.get("/2.0/contact?limit=1").await.status, 200);
    sb.stop().await;
}

#[tokio::test]
async fn an_expired_personal_access_token_is_401() {
    let sb = crate::start(bexio_bi_sandbox::SandboxConfig {
        pat_ttl: 1,
        ..crate::small()
    })
    .await;
    let api = crate::Api::new(&sb, 0);
    // The PAT states its expiry, like bexio's JWTs do.
    let payload = sb.ready().tenants[0]
        .token
        .split('.')
        .nth(1)
        .expect("JWT payload")
        .to_owned();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims");
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        1
    );
    assert_eq!(api.get("/2.0/contact?limit=1").await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let r = api.get("/2.0/contact?limit=1").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error_code"], 401);
    sb.stop().await;
}
