//! OAuth 2 with bexio's realm (a Keycloak at `https://auth.bexio.com/realms/bexio`): the
//! authorization code flow with PKCE (RFC 7636, S256), the token endpoint, and a
//! [`TokenSource`] that renews access tokens with the refresh token.
//!
//! bexio **rotates** refresh tokens: every refresh answers a new one and retires the old, and
//! presenting a retired one revokes the whole sign-in. So [`Refreshing`] renews under one lock
//! (concurrent 401s renew once), hands every rotated token to its [`TokenVault`] *before* the new
//! access token is used, and reads the vault first in case another process renewed meanwhile.
//!
//! ```no_run
//! # async fn login() -> Result<(), Box<dyn std::error::Error>> {
//! use bexio::client::oauth::{App, Authorization, Pkce, SCOPES};
//! let app = App::new("https://auth.bexio.com/realms/bexio", "my-app-id", None);
//! let pkce = Pkce::new();
//! let state = bexio::client::oauth::random_token();
//! let redirect_uri = "http://127.0.0.1:53682/callback";
//! let url = app.authorize_url(&Authorization {
//!     redirect_uri,
//!     scopes: SCOPES,
//!     state: &state,
//!     challenge: &pkce.challenge,
//!     login_hint: None,
//! });
//! println!("open {url}");
//! // … the browser comes back to redirect_uri with ?code=…&state=…
//! # let code = "";
//! let tokens = app
//!     .exchange_code(&reqwest::Client::new(), code, redirect_uri, &pkce.verifier)
//!     .await?;
//! # let _ = tokens;
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ClientError, TokenFuture, TokenSource};

/// bexio's realm.
pub const BEXIO_ISSUER: &str = "https://auth.bexio.com/realms/bexio";

/// What bexio-bi asks for: `offline_access` (a refresh token), the read scopes of every stream it
/// syncs, and the OpenID scopes that tell who signed in to which company.
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "company_profile",
    "offline_access",
    "contact_show",
    "kb_offer_show",
    "kb_order_show",
    "kb_invoice_show",
    "article_show",
    "project_show",
    "monitoring_show",
    "accounting",
    "kb_bill_show",
    "kb_expense_show",
    "bank_account_show",
    "note_show",
    "file",
];

/// Why a call to the realm failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The realm refused the request with an OAuth error (`invalid_grant`, `invalid_client`, …).
    #[error("{url}: HTTP {status} {error}: {description}")]
    Refused {
        /// The endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// The OAuth error code.
        error: String,
        /// Its description.
        description: String,
    },
    /// The realm could not be reached, or the request was never sent.
    #[error("cannot reach {url}: {message}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// Why.
        message: String,
        /// The request surely did not arrive (the connection failed), so sending it again is safe.
        unsent: bool,
    },
    /// The realm answered something that is not an OAuth answer.
    #[error("{url}: unexpected answer (HTTP {status}): {message}")]
    Protocol {
        /// The endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// What was wrong.
        message: String,
    },
}

impl OAuthError {
    /// The grant (code or refresh token) is dead: expired, revoked, reused or never issued.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, OAuthError::Refused { error, .. } if error == "invalid_grant")
    }
}

/// The tokens of one sign-in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// The bearer token for the API.
    pub access_token: String,
    /// The token that renews it (rotated on every use).
    pub refresh_token: String,
    /// When to stop using `access_token` (Unix seconds): a little before bexio's own expiry, so
    /// that no request starts with a token about to lapse.
    pub access_expires_unix: i64,
    /// The scopes granted, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens never reach logs or error messages.
        f.debug_struct("Tokens")
            .field("access_expires_unix", &self.access_expires_unix)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Whether the access token is still good at `now` (Unix seconds).
    pub fn is_fresh(&self, now: i64) -> bool {
        now < self.access_expires_unix
    }
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// 32 random bytes from the operating system, base64url: for `state` and PKCE verifiers.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A PKCE pair (RFC 7636): the verifier stays here, the challenge goes to the browser.
#[derive(Clone)]
pub struct Pkce {
    /// Sent with the code to the token endpoint.
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`, sent with the authorization request.
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh random pair (a 43-character verifier).
    pub fn new() -> Pkce {
        Pkce::from_verifier(&random_token())
    }

    /// The pair of a given verifier (S256).
    pub fn from_verifier(verifier: &str) -> Pkce {
        Pkce {
            verifier: verifier.to_owned(),
            challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// What an authorization request asks for.
#[derive(Debug, Clone, Copy)]
pub struct Authorization<'a> {
    /// Where the browser comes back (`http://127.0.0.1:<port>/callback`).
    pub redirect_uri: &'a str,
    /// The scopes.
    pub scopes: &'a [&'a str],
    /// Echoed back unchanged: ties the answer to this request.
    pub state: &'a str,
    /// The PKCE challenge (S256).
    pub challenge: &'a str,
    /// Suggests a user (e-mail) or company to the login page.
    pub login_hint: Option<&'a str>,
}

/// An app registered with a realm: its issuer, client id and (confidential apps) secret.
#[derive(Clone)]
pub struct App {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| ".."))
            .finish()
    }
}

/// A token endpoint answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// An OAuth error answer.
#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl App {
    /// The app `client_id` (with `client_secret` when it is confidential) at `issuer`.
    pub fn new(issuer: &str, client_id: &str, client_secret: Option<String>) -> App {
        App {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.filter(|s| !s.is_empty()),
        }
    }

    /// The realm.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn endpoint(&self, name: &str) -> String {
        format!("{}/protocol/openid-connect/{name}", self.issuer)
    }

    /// The URL to open in a browser.
    pub fn authorize_url(&self, req: &Authorization<'_>) -> String {
        let scope = req.scopes.join(" ");
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", req.redirect_uri),
            ("scope", scope.as_str()),
            ("state", req.state),
            ("code_challenge", req.challenge),
            ("code_challenge_method", "S256"),
        ];
        if let Some(hint) = req.login_hint {
            pairs.push(("login_hint", hint));
        }
        let mut url = reqwest::Url::parse(&self.endpoint("auth"))
            .unwrap_or_else(|_| reqwest::Url::parse("https://invalid.invalid/").expect("url"));
        url.query_pairs_mut().extend_pairs(pairs);
        url.into()
    }

    /// Trades the code the browser brought back for tokens (a refresh token is required: the
    /// request must have asked for `offline_access`).
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Tokens, OAuthError> {
        self.token_call(
            http,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ],
            None,
        )
        .await
    }

    /// Renews the tokens. The answer carries a new refresh token; `refresh_token` is retired.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<Tokens, OAuthError> {
        self.token_call(
            http,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
            Some(refresh_token),
        )
        .await
    }

    /// Who signed in, to which company (`given_name`, `family_name`, `email`, `company_id`,
    /// `company_name`, … as the scopes allow).
    pub async fn userinfo(
        &self,
        http: &reqwest::Client,
        access_token: &str,
    ) -> Result<serde_json::Value, OAuthError> {
        let url = self.endpoint("userinfo");
        let resp = http
            .get(&url)
            .bearer_auth(access_token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| unreachable(&url, &e))?;
        if !(200..300).contains(&status) {
            return Err(refused(&url, status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| OAuthError::Protocol {
            url,
            status,
            message: e.to_string(),
        })
    }

    async fn token_call(
        &self,
        http: &reqwest::Client,
        grant: &[(&str, &str)],
        previous_refresh: Option<&str>,
    ) -> Result<Tokens, OAuthError> {
        let url = self.endpoint("token");
        let mut form: Vec<(&str, &str)> = grant.to_vec();
        form.push(("client_id", &self.client_id));
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret));
        }
        let sent_at = now_unix();
        let resp = http
            .post(&url)
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| unreachable(&url, &e))?;
        if !(200..300).contains(&status) {
            return Err(refused(&url, status, &body));
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| OAuthError::Protocol {
                url: url.clone(),
                status,
                message: format!("not a token answer: {e}"),
            })?;
        let refresh_token = answer
            .refresh_token
            .or_else(|| previous_refresh.map(str::to_owned))
            .ok_or_else(|| OAuthError::Protocol {
                url: url.clone(),
                status,
                message: "no refresh_token: the app must be allowed offline_access".into(),
            })?;
        // bexio's access tokens last an hour: stop using them a minute early (a tenth of the
        // lifetime for short ones).
        let lifetime = answer.expires_in.unwrap_or(300).max(0);
        let margin = (lifetime / 10).min(60);
        Ok(Tokens {
            access_token: answer.access_token,
            refresh_token,
            access_expires_unix: sent_at + lifetime - margin,
            scope: answer.scope,
        })
    }
}

fn unreachable(url: &str, e: &reqwest::Error) -> OAuthError {
    OAuthError::Unreachable {
        url: url.to_owned(),
        message: if e.is_timeout() {
            "timed out".to_owned()
        } else {
            e.to_string()
        },
        unsent: e.is_connect(),
    }
}

fn refused(url: &str, status: u16, body: &[u8]) -> OAuthError {
    match serde_json::from_slice::<ErrorAnswer>(body) {
        Ok(e) => OAuthError::Refused {
            url: url.to_owned(),
            status,
            error: e.error,
            description: e.error_description.unwrap_or_default(),
        },
        Err(_) => OAuthError::Protocol {
            url: url.to_owned(),
            status,
            message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        },
    }
}

/// Where a [`Refreshing`] source keeps rotated tokens, so that the next run starts from the live
/// refresh token. Both methods may block: they run on a blocking thread.
pub trait TokenVault: Send + Sync + 'static {
    /// Held from before a refresh until its tokens are kept (a file lock, say), so that two
    /// processes do not renew the same refresh token.
    type Lock: Send + 'static;

    /// Takes the lock and reads the tokens stored now (another process may have renewed them).
    fn lock(&self) -> Result<(Self::Lock, Option<Tokens>), String>;

    /// Stores renewed tokens for good; they are used only once this returned `Ok`.
    fn keep(&self, lock: &mut Self::Lock, tokens: &Tokens) -> Result<(), String>;
}

/// Why a [`Refreshing`] source stopped handing out tokens.
#[derive(Debug, Clone)]
enum Broken {
    SignedOut(String),
    NotKept(String),
}

struct Held {
    tokens: Tokens,
    broken: Option<Broken>,
}

/// A [`TokenSource`] for an OAuth sign-in: the access token while it is fresh, renewed with the
/// refresh token when it is about to expire or drew a 401; rotated tokens go to the vault first.
pub struct Refreshing<V: TokenVault>(Arc<Inner<V>>);

struct Inner<V: TokenVault> {
    app: App,
    company: String,
    http: reqwest::Client,
    vault: Arc<V>,
    /// The single flight: whoever renews holds this; the others wait and take the result.
    held: Arc<tokio::sync::Mutex<Held>>,
    refreshes: AtomicU64,
}

impl<V: TokenVault> std::fmt::Debug for Refreshing<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refreshing")
            .field("app", &self.0.app)
            .field("company", &self.0.company)
            .field("refreshes", &self.refreshes())
            .finish_non_exhaustive()
    }
}

/// Attempts at the token endpoint when the connection itself fails (a request that may have
/// arrived is never repeated: it may have rotated the refresh token already).
const TOKEN_ATTEMPTS: u32 = 3;

impl<V: TokenVault> Refreshing<V> {
    /// The sign-in `tokens` of `company` (named in errors) with `app`, keeping renewals in `vault`.
    pub fn new(
        app: App,
        company: &str,
        tokens: Tokens,
        vault: V,
    ) -> Result<Refreshing<V>, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("bexio-bi/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ClientError::Request {
                path: app.endpoint("token"),
                message: e.to_string(),
            })?;
        Ok(Refreshing(Arc::new(Inner {
            app,
            company: company.to_owned(),
            http,
            vault: Arc::new(vault),
            held: Arc::new(tokio::sync::Mutex::new(Held {
                tokens,
                broken: None,
            })),
            refreshes: AtomicU64::new(0),
        })))
    }

    /// Refreshes done at the token endpoint so far.
    pub fn refreshes(&self) -> u64 {
        self.0.refreshes.load(Ordering::Relaxed)
    }

    /// Renews in a task of its own: a request dropped halfway (a sync that gives up) must not
    /// drop a rotated refresh token between the realm's answer and the vault.
    async fn renew(
        &self,
        held: tokio::sync::OwnedMutexGuard<Held>,
        rejected: Option<&str>,
    ) -> Result<String, ClientError> {
        let inner = Arc::clone(&self.0);
        tokio::spawn(inner.renew(held, rejected.map(str::to_owned)))
            .await
            .unwrap_or_else(|e| {
                Err(ClientError::GaveUp {
                    path: self.0.app.endpoint("token"),
                    attempts: 1,
                    last: format!("the renewal failed: {e}"),
                })
            })
    }
}

impl<V: TokenVault> Inner<V> {
    fn broken(&self, held: &Held) -> Result<(), ClientError> {
        held.broken.as_ref().map_or(Ok(()), |b| Err(self.error(b)))
    }

    fn error(&self, broken: &Broken) -> ClientError {
        match broken {
            Broken::SignedOut(reason) => ClientError::SignedOut {
                company: self.company.clone(),
                reason: reason.clone(),
            },
            Broken::NotKept(message) => ClientError::NotKept {
                company: self.company.clone(),
                message: message.clone(),
            },
        }
    }

    /// Renews the tokens (holding `held`). `rejected` is the access token that drew a 401, if
    /// any: a stored token equal to it is no good.
    async fn renew(
        self: Arc<Self>,
        mut held: tokio::sync::OwnedMutexGuard<Held>,
        rejected: Option<String>,
    ) -> Result<String, ClientError> {
        let vault = Arc::clone(&self.vault);
        // Nothing is renewed yet if this fails: the stored tokens stay good.
        let (mut lock, stored) =
            blocking(move || vault.lock())
                .await
                .map_err(|message| ClientError::NotKept {
                    company: self.company.clone(),
                    message,
                })?;
        if let Some(stored) = stored
            && stored.refresh_token != held.tokens.refresh_token
        {
            // Another process renewed since we read the vault: its tokens are the live ones,
            // and ours is retired (presenting it would revoke the sign-in).
            held.tokens = stored;
            if held.tokens.is_fresh(now_unix())
                && rejected.as_deref() != Some(held.tokens.access_token.as_str())
            {
                return Ok(held.tokens.access_token.clone());
            }
        }
        let mut attempt = 0;
        let fresh = loop {
            attempt += 1;
            match self
                .app
                .refresh(&self.http, &held.tokens.refresh_token)
                .await
            {
                Ok(t) => break t,
                Err(e) if e.is_invalid_grant() => {
                    let reason = match &e {
                        OAuthError::Refused { description, .. } if !description.is_empty() => {
                            description.clone()
                        }
                        _ => "invalid_grant".to_owned(),
                    };
                    // Every later request would be refused the same way: fail them at once.
                    let broken = Broken::SignedOut(reason);
                    let error = self.error(&broken);
                    held.broken = Some(broken);
                    return Err(error);
                }
                Err(OAuthError::Unreachable { unsent: true, .. }) if attempt < TOKEN_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                }
                Err(e) => {
                    return Err(ClientError::GaveUp {
                        path: self.app.endpoint("token"),
                        attempts: attempt,
                        last: e.to_string(),
                    });
                }
            }
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        // From here on the old refresh token is retired: never present it again.
        held.tokens = fresh.clone();
        let vault = Arc::clone(&self.vault);
        let kept = blocking(move || {
            let kept = vault.keep(&mut lock, &fresh);
            drop(lock);
            kept
        })
        .await;
        if let Err(message) = kept {
            // Unkept tokens are not used: the next run could not continue the sign-in anyway.
            let broken = Broken::NotKept(message);
            let error = self.error(&broken);
            held.broken = Some(broken);
            return Err(error);
        }
        tracing::info!(company = %self.company, "renewed the OAuth access token");
        Ok(held.tokens.access_token.clone())
    }
}

/// Runs blocking vault code off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(format!("the token vault failed: {e}")))
}

impl<V: TokenVault> TokenSource for Refreshing<V> {
    fn bearer(&self) -> TokenFuture<'_, String> {
        Box::pin(async move {
            let held = Arc::clone(&self.0.held).lock_owned().await;
            self.0.broken(&held)?;
            if held.tokens.is_fresh(now_unix()) {
                return Ok(held.tokens.access_token.clone());
            }
            self.renew(held, None).await
        })
    }

    fn refresh<'a>(&'a self, rejected: &'a str) -> TokenFuture<'a, bool> {
        Box::pin(async move {
            let held = Arc::clone(&self.0.held).lock_owned().await;
            self.0.broken(&held)?;
            if held.tokens.access_token != rejected {
                // Another request renewed it while this one waited for the lock.
                return Ok(true);
            }
            self.renew(held, Some(rejected)).await?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let (a, b) = (Pkce::new(), Pkce::new());
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.verifier.len(), 43);
        assert!(!format!("{a:?}").contains(&a.verifier));
    }

    #[test]
    fn the_authorize_url_carries_the_request() {
        let app = App::new(BEXIO_ISSUER, "app id", Some("secret".into()));
        let url = app.authorize_url(&Authorization {
            redirect_uri: "http://127.0.0.1:5000/callback",
            scopes: &["openid", "offline_access"],
            state: "s&t",
            challenge: "c",
            login_hint: Some("a@b.ch"),
        });
        let url = reqwest::Url::parse(&url).expect("url");
        assert_eq!(
            url.as_str().split('?').next(),
            Some("https://auth.bexio.com/realms/bexio/protocol/openid-connect/auth")
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().collect();
        assert_eq!(q["client_id"], "app id");
        assert_eq!(q["scope"], "openid offline_access");
        assert_eq!(q["state"], "s&t");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["login_hint"], "a@b.ch");
        assert!(!url.as_str().contains("secret"), "the secret stays out");
        assert!(!format!("{app:?}").contains("secret\""));
    }

    #[test]
    fn tokens_are_redacted() {
        let t = Tokens {
            access_token: "eyJaccess".into(),
            refresh_token: "eyJrefresh".into(),
            access_expires_unix: 5,
            scope: None,
        };
        let d = format!("{t:?}");
        assert!(!d.contains("eyJ"), "{d}");
        assert!(t.is_fresh(4) && !t.is_fresh(5));
    }
}
