//! OAuth against the sandbox's realm, which rotates refresh tokens and revokes a sign-in whose
//! retired refresh token comes back: concurrent 401s renew once, an expired access token is
//! renewed before use, renewed tokens are kept before they are used, and a dead sign-in is an
//! actionable error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bexio::client::oauth::{
    App, Authorization, Pkce, Refreshing, SCOPES, TokenVault, Tokens, random_token,
};
use bexio::client::{Client, ClientError, RetryPolicy};
use bexio_bi_sandbox::{Sandbox, SandboxConfig};
use parking_lot::Mutex;

/// Stands in for `secrets.toml`: what was kept, and how often.
#[derive(Clone, Default)]
struct Vault(Arc<VaultState>);

#[derive(Default)]
struct VaultState {
    stored: Mutex<Option<Tokens>>,
    kept: AtomicUsize,
    fail: AtomicBool,
}

impl Vault {
    fn kept(&self) -> usize {
        self.0.kept.load(Ordering::SeqCst)
    }
    fn stored(&self) -> Option<Tokens> {
        self.0.stored.lock().clone()
    }
}

impl TokenVault for Vault {
    type Lock = ();

    fn lock(&self) -> Result<((), Option<Tokens>), String> {
        Ok(((), self.0.stored.lock().clone()))
    }

    fn keep(&self, _: &mut (), tokens: &Tokens) -> Result<(), String> {
        if self.0.fail.load(Ordering::SeqCst) {
            return Err("the disk is full".into());
        }
        *self.0.stored.lock() = Some(tokens.clone());
        self.0.kept.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn start(access_token_ttl: u64) -> Sandbox {
    Sandbox::start(
        SandboxConfig {
            invoices: 50,
            access_token_ttl,
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox")
}

fn app(sb: &Sandbox) -> App {
    let o = &sb.ready().oauth;
    App::new(&o.issuer, &o.public_client_id, None)
}

/// Signs in as the browser would: the realm redirects straight back with a code.
async fn sign_in(sb: &Sandbox) -> Tokens {
    let app = app(sb);
    let (pkce, state) = (Pkce::new(), random_token());
    let redirect_uri = "http://127.0.0.1:9/callback";
    let url = app.authorize_url(&Authorization {
        redirect_uri,
        scopes: SCOPES,
        state: &state,
        challenge: &pkce.challenge,
        login_hint: Some(&sb.ready().tenants[0].company_id),
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let resp = http.get(&url).send().await.expect("authorize");
    assert_eq!(resp.status(), 302, "{url}");
    let back = reqwest::Url::parse(
        resp.headers()["location"]
            .to_str()
            .expect("location is text"),
    )
    .expect("location");
    let param = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some(state.as_str()));
    let code = param("code").expect("code");
    app.exchange_code(&http, &code, redirect_uri, &pkce.verifier)
        .await
        .expect("tokens")
}

fn client_of(sb: &Sandbox, source: Arc<Refreshing<Vault>>) -> Client {
    Client::with_source(
        sb.url(),
        "acme",
        source,
        RetryPolicy {
            base_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
    )
    .expect("client")
}

async fn revoke(sb: &Sandbox, token: &str) {
    let o = &sb.ready().oauth;
    let resp = reqwest::Client::new()
        .post(format!("{}/protocol/openid-connect/revoke", o.issuer))
        .form(&[("token", token), ("client_id", o.public_client_id.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn concurrent_401s_renew_the_token_once() {
    let sb = start(3600).await;
    let tokens = sign_in(&sb).await;
    let vault = Vault::default();
    let source =
        Arc::new(Refreshing::new(app(&sb), "acme", tokens.clone(), vault.clone()).expect("source"));
    let client = client_of(&sb, Arc::clone(&source));
    client.get("/2.0/contact?limit=1").await.expect("first");
    assert_eq!(source.refreshes(), 0, "a fresh token is used as it is");

    // The access token dies while the client still thinks it fresh: every request in flight
    // draws a 401 at once. A second refresh would present the retired refresh token, and the
    // realm would revoke the whole sign-in.
    revoke(&sb, &tokens.access_token).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8 {
        let c = client.clone();
        set.spawn(async move { c.get(&format!("/2.0/contact?limit=1&offset={i}")).await });
    }
    while let Some(done) = set.join_next().await {
        done.expect("task")
            .expect("the request was retried with the renewed token");
    }
    assert_eq!(source.refreshes(), 1, "one refresh for eight 401s");
    assert_eq!(vault.kept(), 1);
    let kept = vault.stored().expect("kept");
    assert_ne!(kept.refresh_token, tokens.refresh_token, "rotated");
    assert_ne!(kept.access_token, tokens.access_token);
    assert_eq!(client.stats().retries, 0, "401s are renewed, not retried");
    sb.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_renewed_and_kept_before_use() {
    // Access tokens live two seconds on the sandbox's clock, which runs at real speed here.
    let sb = start(2).await;
    let tokens = sign_in(&sb).await;
    let vault = Vault::default();
    let source =
        Arc::new(Refreshing::new(app(&sb), "acme", tokens.clone(), vault.clone()).expect("source"));
    let client = client_of(&sb, Arc::clone(&source));
    client.get("/2.0/contact?limit=1").await.expect("first");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    client.get("/2.0/contact?limit=1").await.expect("second");
    assert_eq!(source.refreshes(), 1);
    assert_eq!(vault.kept(), 1);
    assert_eq!(
        client.stats().requests,
        2,
        "renewed before the request, not after a 401"
    );

    // Kept first: when the vault cannot keep the renewed tokens, they are not used.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    vault.0.fail.store(true, Ordering::SeqCst);
    let err = client
        .get("/2.0/contact?limit=1")
        .await
        .expect_err("not kept");
    assert!(matches!(err, ClientError::NotKept { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("acme") && text.contains("the disk is full"),
        "{text}"
    );
    let again = client.get("/2.0/contact?limit=1").await.expect_err("still");
    assert!(matches!(again, ClientError::NotKept { .. }), "{again:?}");
    assert_eq!(source.refreshes(), 2, "no second try with a retired token");
    assert_eq!(
        client.stats().requests,
        2,
        "the unkept token was never sent"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_renewal_by_another_process_is_adopted() {
    let sb = start(2).await;
    let tokens = sign_in(&sb).await;
    // Another process renewed the sign-in and stored the result; ours is retired now.
    let renewed = app(&sb)
        .refresh(&reqwest::Client::new(), &tokens.refresh_token)
        .await
        .expect("renewed elsewhere");
    let vault = Vault::default();
    *vault.0.stored.lock() = Some(renewed.clone());
    let stale = Tokens {
        access_expires_unix: 0,
        ..tokens
    };
    let source = Arc::new(Refreshing::new(app(&sb), "acme", stale, vault.clone()).expect("source"));
    let client = client_of(&sb, Arc::clone(&source));
    client
        .get("/2.0/contact?limit=1")
        .await
        .expect("uses the stored tokens");
    assert_eq!(
        source.refreshes(),
        0,
        "the retired refresh token was not sent"
    );
    assert_eq!(vault.stored(), Some(renewed));
    sb.stop().await;
}

#[tokio::test]
async fn a_dead_sign_in_says_to_log_in_again() {
    let sb = start(3600).await;
    let tokens = sign_in(&sb).await;
    // The sign-in was renewed elsewhere without our vault knowing; presenting the retired
    // refresh token then ends the sign-in (bexio's reuse detection).
    app(&sb)
        .refresh(&reqwest::Client::new(), &tokens.refresh_token)
        .await
        .expect("renewed elsewhere");
    let stale = Tokens {
        access_expires_unix: 0,
        ..tokens
    };
    let source =
        Arc::new(Refreshing::new(app(&sb), "acme", stale, Vault::default()).expect("source"));
    let client = client_of(&sb, Arc::clone(&source));
    let err = client.get("/2.0/contact").await.expect_err("signed out");
    assert!(matches!(err, ClientError::SignedOut { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("bexio-bi auth login --tenant acme") && text.contains("reuse"),
        "{text}"
    );
    // Later requests fail at once instead of hammering the realm.
    let again = client.get("/2.0/contact").await.expect_err("still");
    assert!(matches!(again, ClientError::SignedOut { .. }), "{again:?}");
    assert_eq!(client.stats().requests, 0);

    // Garbage is refused the same way.
    let garbage = Tokens {
        access_token: "a.b.c".into(),
        refresh_token: "not-a-refresh-token".into(),
        access_expires_unix: i64::MAX,
        scope: None,
    };
    let source =
        Arc::new(Refreshing::new(app(&sb), "acme", garbage, Vault::default()).expect("source"));
    let err = client_of(&sb, source)
        .get("/2.0/contact")
        .await
        .expect_err("refused");
    assert!(matches!(err, ClientError::SignedOut { .. }), "{err:?}");
    sb.stop().await;
}
