//! Integration tests of the bexio sandbox, over HTTP only: fidelity against recorded bexio
//! answers, encodings, paging, search, rate limits, auth, faults and the admin routes.
//!
//! Every test starts its own sandbox on a free port, so tests are independent and run in
//! parallel.

mod admin;
mod auth;
mod encodings;
mod faults;
mod fidelity;
mod limits;
mod paging;
mod search;
mod writes;

use std::time::Duration;

use base64::Engine as _;
use bexio_bi_sandbox::{Sandbox, SandboxConfig};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A small company: fast to generate, enough data for every route.
pub fn small() -> SandboxConfig {
    SandboxConfig {
        invoices: 300,
        ..Default::default()
    }
}

/// Starts a sandbox on a free local port.
pub async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("sandbox starts")
}

/// An HTTP client that does not follow redirects (the OAuth flow reads `Location`).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// An answer, read completely.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON, panicking with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}), status {}: {}",
                self.status,
                self.text()
            )
        })
    }
    /// The body as JSON, if it is JSON.
    pub fn try_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// A header value as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
    /// A header parsed as a number.
    pub fn header_num(&self, name: &str) -> Option<i64> {
        self.header(name).and_then(|v| v.trim().parse().ok())
    }
}

/// A request body.
pub enum Body {
    /// No body.
    None,
    /// A JSON body.
    Json(Value),
    /// Raw bytes with a content type.
    Raw(String, Vec<u8>),
}

/// Reads a response completely.
pub async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

/// A client of one company of a sandbox.
#[derive(Clone)]
pub struct Api {
    /// Base URL.
    pub base: String,
    /// Bearer token (PAT or OAuth access token).
    pub token: String,
    http: reqwest::Client,
}

impl Api {
    /// A client for the tenant at `index`, with its Personal Access Token.
    pub fn new(sb: &Sandbox, index: usize) -> Api {
        Api {
            base: sb.url().to_owned(),
            token: sb.ready().tenants[index].token.clone(),
            http: http(),
        }
    }

    /// The same sandbox with another bearer token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            base: self.base.clone(),
            token: token.to_owned(),
            http: self.http.clone(),
        }
    }

    /// Sends a request with the bearer token (none when the token is empty).
    pub async fn send(&self, method: Method, path: &str, body: Body) -> Resp {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&v).expect("json")),
            Body::Raw(ct, bytes) => req.header("content-type", ct).body(bytes),
        };
        read(
            req.send()
                .await
                .unwrap_or_else(|e| panic!("request to {path} failed: {e}")),
        )
        .await
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, Body::None).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Body::Json(body)).await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Body::Json(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, Body::None).await
    }

    /// `GET` that must answer 200 with JSON.
    pub async fn get_ok(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }

    /// `POST` that must answer 2xx with JSON.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let r = self.post(path, body.clone()).await;
        assert!(
            (200..300).contains(&r.status),
            "POST {path} {body}: {} {}",
            r.status,
            r.text()
        );
        r.json()
    }

    /// An admin request (no token).
    pub async fn admin(&self, method: Method, path: &str, body: &str) -> Resp {
        let req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .body(body.to_owned());
        read(req.send().await.expect("admin request")).await
    }

    /// `/_sandbox/stats` as JSON.
    pub async fn stats(&self) -> Value {
        let r = self.admin(Method::GET, "/_sandbox/stats", "").await;
        assert_eq!(r.status, 200, "stats: {}", r.text());
        r.json()
    }

    /// Every record of a 2.0 list route, read with offset paging.
    pub async fn all_v2(&self, path: &str, page: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        loop {
            let v = self
                .get_ok(&format!("{path}{sep}limit={page}&offset={}", out.len()))
                .await;
            let rows = v
                .as_array()
                .unwrap_or_else(|| panic!("{path} is not an array"))
                .clone();
            let n = rows.len();
            out.extend(rows);
            if n < page {
                return out;
            }
        }
    }
}

/// The `id` of a record as a number.
pub fn id_of(v: &Value) -> u64 {
    v["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no numeric id in {v}"))
}

/// Percent-encodes a form or query value.
pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded value (`+` as space).
pub fn pct_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An `application/x-www-form-urlencoded` body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce(seed: &str) -> (String, String) {
    let seed: String = seed
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let verifier = format!("verifier-{seed}-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The redirect URI of the public client in these tests (a loopback URI, as RFC 8252 wants).
pub const REDIRECT: &str = "http://127.0.0.1:49152/callback";

/// Runs the authorization-code flow with PKCE (S256) for the public client and returns the
/// token response. `login_hint` picks the company (`None`: the only one).
pub async fn oauth_login(sb: &Sandbox, scope: &str, login_hint: Option<&str>) -> Value {
    let issuer = &sb.ready().oauth.issuer;
    let client_id = &sb.ready().oauth.public_client_id;
    let (verifier, challenge) = pkce(scope);
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st4te"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if let Some(h) = login_hint {
        query.push(("login_hint", h));
    }
    let url = format!("{issuer}/protocol/openid-connect/auth?{}", form(&query));
    let r = read(http().get(&url).send().await.expect("authorize")).await;
    assert_eq!(r.status, 302, "authorize must redirect: {}", r.text());
    let location = r.header("location").expect("Location");
    assert!(
        location.starts_with(REDIRECT),
        "redirect to the client: {location}"
    );
    let params: Vec<(String, String)> = location
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), pct_decode(v)))
        })
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(
        get("state").as_deref(),
        Some("st4te"),
        "state comes back: {location}"
    );
    let code = get("code").unwrap_or_else(|| panic!("no code in {location}"));
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id),
        ("code_verifier", &verifier),
    ]);
    let r = token_request(sb, &body).await;
    assert_eq!(r.status, 200, "token exchange: {}", r.text());
    r.json()
}

/// `POST …/token` with a form body.
pub async fn token_request(sb: &Sandbox, body: &str) -> Resp {
    let url = format!("{}/protocol/openid-connect/token", sb.ready().oauth.issuer);
    read(
        http()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("token request"),
    )
    .await
}

/// A readable one-line rendering of a JSON value, shortened.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 160 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(160).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}
