//! The HTTP face of the sandbox: bexio's routes, auth, rate limits and faults, plus the
//! `/_sandbox/` admin routes.
//!
//! Every API request passes one gate (the `gate` middleware below) that does what bexio's
//! gateway does, in its order: authenticate the bearer token, count it against the company's
//! rate limit, check the scope, then (when asked to) inject a fault. Route handlers only see a
//! [`Ctx`] with the company.

mod admin;
pub mod faults;
pub mod limits;
pub mod oauth;
pub mod query;
pub mod reply;
mod table;
mod v2;
mod v3;
mod v4;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use parking_lot::{Mutex, RwLock};

use self::faults::{Decision, Dice, FaultPlan};
use self::limits::{Limiter, Limits};
use self::oauth::OAuth;
use self::reply::ApiError;
use crate::clock::SimClock;
use crate::company::Company;

/// One bexio company served by the sandbox.
pub struct Tenant {
    /// Position in the sandbox's list.
    pub index: usize,
    /// Company name.
    pub name: String,
    /// bexio's company id (`"q69vysq7fkzl"`-like).
    pub company_id: String,
    /// The company's Personal Access Token.
    pub token: String,
    /// When the token expires (simulated Unix seconds).
    pub token_expires: f64,
    /// The data.
    pub company: RwLock<Company>,
    /// Rate-limit counters.
    pub limiter: Mutex<Limiter>,
}

/// Shared state of the server.
pub struct AppState {
    /// The companies.
    pub tenants: Vec<Arc<Tenant>>,
    /// The OAuth realm.
    pub oauth: Arc<OAuth>,
    /// Simulated time for rate limits and token lifetimes.
    pub clock: SimClock,
    /// Requests per minute.
    pub limits: Limits,
    /// Current fault plan.
    pub faults: RwLock<FaultPlan>,
    /// Fault dice.
    pub dice: Mutex<Dice>,
}

/// What a handler knows about the caller.
#[derive(Clone)]
pub struct Ctx {
    /// The caller's company.
    pub tenant: Arc<Tenant>,
    /// Granted scopes.
    pub scopes: Arc<BTreeSet<String>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Invalid token."))
    }
}

/// The scopes a route needs: `(read, write)`. `None` means any valid token will do.
fn scopes_for(path: &str) -> Option<(&'static str, &'static str)> {
    let p = path.trim_start_matches('/');
    let (version, rest) = p.split_once('/').unwrap_or((p, ""));
    let first = rest.split('/').next().unwrap_or("");
    Some(match (version, first) {
        ("2.0", "contact" | "contact_relation" | "contact_group" | "contact_branch") => {
            ("contact_show", "contact_edit")
        }
        ("2.0", "kb_offer") => ("kb_offer_show", "kb_offer_edit"),
        ("2.0", "kb_order") => ("kb_order_show", "kb_order_edit"),
        ("2.0", "kb_invoice") => ("kb_invoice_show", "kb_invoice_edit"),
        ("2.0", "article") => ("article_show", "article_edit"),
        ("2.0", "pr_project" | "pr_project_state" | "pr_project_type") | ("3.0", "projects") => {
            ("project_show", "project_edit")
        }
        ("2.0", "timesheet" | "timesheet_status" | "client_service") => {
            ("monitoring_show", "monitoring_edit")
        }
        ("2.0", "note") => ("note_show", "note_edit"),
        ("2.0", "accounts" | "account_groups") | ("3.0", "accounting" | "taxes" | "currencies") => {
            ("accounting", "accounting")
        }
        ("3.0", "banking") => ("bank_account_show", "bank_account_edit"),
        ("3.0", "files") => ("file", "file"),
        ("4.0", "purchase") => ("kb_bill_show", "kb_bill_edit"),
        ("4.0", "expenses") => ("kb_expense_show", "kb_expense_edit"),
        _ => return None,
    })
}

fn is_write(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => false,
        Method::POST => !path.ends_with("/search"),
        _ => true,
    }
}

/// Whether granted scopes allow a scope; a write scope implies its read scope.
fn allows(scopes: &BTreeSet<String>, needed: &str) -> bool {
    scopes.contains(needed)
        || needed
            .strip_suffix("_show")
            .is_some_and(|base| scopes.contains(&format!("{base}_edit")))
}

/// Headers of bexio's API gateway (Kong behind Google's load balancer).
const GATEWAY_HEADERS: [(&str, &str); 4] = [
    ("cache-control", "no-store"),
    ("pragma", "no-cache"),
    ("vary", "Origin"),
    ("access-control-allow-origin", "https://office.bexio.com"),
];

/// Headers every answer gets from the CDN in front of both api.bexio.com and auth.bexio.com.
fn cdn_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    for (name, value) in [
        ("via", "1.1 google"),
        ("cf-cache-status", "DYNAMIC"),
        ("server", "cloudflare"),
    ] {
        if !h.contains_key(name) {
            h.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
    }
    let ray = crate::model::wire::splitmix(RAY.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    if let Ok(v) = HeaderValue::from_str(&format!("{ray:016x}-ZRH")) {
        h.insert(HeaderName::from_static("cf-ray"), v);
    }
}

static RAY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0x5eed);

fn decorate(resp: &mut Response, quota: Option<&limits::Quota>) {
    let h = resp.headers_mut();
    if let Some(q) = quota {
        for (name, value) in q.headers() {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        }
    }
    for (name, value) in GATEWAY_HEADERS {
        if !h.contains_key(name) {
            h.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
    }
    cdn_headers(resp);
}

/// The CDN in front of the OAuth realm.
async fn cdn(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    cdn_headers(&mut resp);
    resp
}

/// bexio's gateway, in its order: auth → rate limit → scope → faults → route.
async fn gate(State(app): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();

    // 1. Who is calling?
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let grant = token.as_deref().and_then(|t| {
        if let Some(tenant) = app.tenants.iter().find(|tn| tn.token == t) {
            // An expired PAT is refused like an unknown one, as bexio does.
            return (app.clock.now() < tenant.token_expires)
                .then(|| (tenant.clone(), Arc::new(OAuth::default_scopes())));
        }
        app.oauth.resolve(t).ok().and_then(|g| {
            app.tenants
                .get(g.tenant)
                .map(|tn| (tn.clone(), Arc::new(g.scopes)))
        })
    });
    let Some((tenant, scopes)) = grant else {
        let mut r = ApiError::new(StatusCode::UNAUTHORIZED, "Invalid token.").into_response();
        decorate(&mut r, None);
        return r;
    };

    // 2. Rate limit, per company and bucket; then faults that look like one.
    let bucket = limits::bucket(&method, &path);
    let decision: Decision = {
        let plan = app.faults.read();
        // Without faults, requests do not contend for the dice.
        if plan.is_active() {
            app.dice.lock().roll(&plan)
        } else {
            Decision::default()
        }
    };
    let mut quota = tenant.limiter.lock().check(bucket, &app.limits, &app.clock);
    if decision.rate_limited && !quota.exceeded {
        quota = limits::Quota {
            remaining: 0,
            exceeded: true,
            reset: quota.reset.max(1),
            ..quota
        };
    }
    if quota.exceeded {
        let body = serde_json::json!({"message": "API rate limit exceeded"});
        let mut r = reply::Reply::json(&body);
        r.status = StatusCode::TOO_MANY_REQUESTS;
        let mut r = r
            .with_header("retry-after", quota.reset.to_string())
            .into_response();
        decorate(&mut r, Some(&quota));
        return r;
    }

    // 3. Scope.
    if let Some((read, write)) = scopes_for(&path) {
        let needed = if is_write(&method, &path) {
            write
        } else {
            read
        };
        if !allows(&scopes, needed) {
            let mut r = ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Missing scope: this call needs the scope '{needed}'"),
            )
            .into_response();
            decorate(&mut r, Some(&quota));
            return r;
        }
    }

    // 4. Faults.
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(code) = decision.server_error {
        let mut r = match code {
            502 => {
                let mut r = Response::new(Body::from(
                    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>",
                ));
                *r.status_mut() = StatusCode::BAD_GATEWAY;
                r.headers_mut()
                    .insert("content-type", HeaderValue::from_static("text/html"));
                r
            }
            503 => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: maintenance in progress",
            )
            .into_response(),
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                .into_response(),
        };
        decorate(&mut r, Some(&quota));
        return r;
    }

    req.extensions_mut().insert(Ctx { tenant, scopes });
    let mut resp = next.run(req).await;

    if decision.truncate.is_some() || decision.drift.is_some() {
        resp = mangle(resp, &decision).await;
    }
    if !path.starts_with("/4.0/banking") {
        decorate(&mut resp, Some(&quota));
    }
    resp
}

/// Truncates or drifts a JSON body.
async fn mangle(resp: Response, decision: &Decision) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let is_json = parts
        .headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut out = bytes.to_vec();
    if let Some(seed) = decision.drift.filter(|_| is_json)
        && let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes)
    {
        faults::drift(&mut v, seed);
        out = serde_json::to_vec(&v).unwrap_or(out);
    }
    if let Some(share) = decision.truncate {
        let keep =
            ((out.len() as f64 * share) as usize).clamp(1, out.len().saturating_sub(1).max(1));
        out.truncate(keep);
    }
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
    Response::from_parts(parts, Body::from(out))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Page not found")
}

/// The whole application: API routes behind the gate, the OAuth realm and the admin routes.
pub fn router(app: Arc<AppState>) -> Router {
    let api = Router::new()
        .merge(v2::routes())
        .merge(v3::routes())
        .merge(v4::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), gate))
        .with_state(app.clone());
    Router::new()
        .nest("/_sandbox", admin::routes(app.clone()))
        .merge(app.oauth.router().layer(middleware::from_fn(cdn)))
        .merge(api)
}
