//! Starting and stopping a sandbox.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::faults::{Dice, FaultPlan};
use crate::api::limits::{Limiter, Limits};
use crate::api::oauth::{Identity, OAuth, OAuthClient};
use crate::api::{AppState, Tenant, router};
use crate::clock::SimClock;
use crate::company::{Company, CompanySpec};
use crate::model::wire::{splitmix, uuid_for};

/// What the sandbox serves and how it behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed of all generated data (and of fault decisions).
    pub seed: u64,
    /// Number of companies (tenants), each with its own token, data and rate limits.
    pub companies: usize,
    /// Invoices per company over its history.
    pub invoices: u64,
    /// Faults to inject.
    pub faults: FaultPlan,
    /// Simulated seconds per real second (rate-limit windows and token lifetimes).
    pub time_scale: f64,
    /// Requests per minute.
    pub limits: Limits,
    /// Lifetime of OAuth access tokens, in simulated seconds.
    pub access_token_ttl: u64,
    /// Lifetime of the companies' Personal Access Tokens, in simulated seconds (bexio: 60 days;
    /// after it, the API answers 401 as it does for an expired PAT).
    pub pat_ttl: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 42,
            companies: 1,
            invoices: 2_000,
            faults: FaultPlan::none(),
            time_scale: 1.0,
            limits: Limits::default(),
            access_token_ttl: 3600,
            pat_ttl: 60 * 86_400,
        }
    }
}

/// One company as announced on start-up.
#[derive(Debug, Clone, Serialize)]
pub struct TenantInfo {
    /// Company name.
    pub name: String,
    /// bexio company id.
    pub company_id: String,
    /// Personal Access Token for the API.
    pub token: String,
}

/// The OAuth clients registered in the sandbox.
#[derive(Debug, Clone, Serialize)]
pub struct OAuthInfo {
    /// Issuer URL.
    pub issuer: String,
    /// A confidential client.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// A public client (PKCE, no secret).
    pub public_client_id: String,
}

/// The line the sandbox prints when it is ready.
#[derive(Debug, Clone, Serialize)]
pub struct Ready {
    /// Base URL of the API (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The companies.
    pub tenants: Vec<TenantInfo>,
    /// OAuth clients.
    pub oauth: OAuthInfo,
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    ready: Ready,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// A sandbox that could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration makes no sense.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
}

fn company_id(seed: u64, index: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = splitmix(seed ^ (index as u64 + 1).wrapping_mul(0x51_7CC1_B727_220A));
    (0..12)
        .map(|_| {
            let c = ALPHABET[(x % ALPHABET.len() as u64) as usize] as char;
            x = splitmix(x);
            c
        })
        .collect()
}

/// A JWT-shaped Personal Access Token (bexio's PATs are JWTs; clients must treat them as opaque)
/// with its issuer, issue and expiry times.
fn pat(seed: u64, index: usize, company_id: &str, issuer: &str, iat: i64, exp: i64) -> String {
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let header = b64(br#"{"alg":"RS256","typ":"JWT","kid":"sandbox-pat"}"#);
    let payload = b64(format!(
        r#"{{"iss":"{issuer}","sub":"pat","company_id":"{company_id}","typ":"PAT","iat":{iat},"exp":{exp}}}"#
    )
    .as_bytes());
    let sig: Vec<u8> = (0..4u64)
        .flat_map(|i| splitmix(seed ^ (index as u64) << 8 ^ i).to_le_bytes())
        .collect();
    format!("{header}.{payload}.{}", b64(&sig))
}

impl Sandbox {
    /// Generates the companies and starts serving on `addr` (use port 0 for a free port).
    pub async fn start(config: SandboxConfig, addr: SocketAddr) -> Result<Sandbox, StartError> {
        if config.companies == 0 || config.companies > 500 {
            return Err(StartError::Config(
                "companies must be between 1 and 500".into(),
            ));
        }
        if config.invoices > 1_000_000 {
            return Err(StartError::Config(
                "invoices must be at most 1,000,000 per company".into(),
            ));
        }
        if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
            return Err(StartError::Config(
                "the time scale must be a positive number".into(),
            ));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let url = format!("http://{local}");

        let seed = config.seed;
        let invoices = config.invoices;
        let n = config.companies;
        let companies = tokio::task::spawn_blocking(move || generate_all(seed, invoices, n))
            .await
            .map_err(|e| StartError::Config(format!("generation failed: {e}")))?;

        let clock = SimClock::new(config.time_scale);
        let mut tenants = Vec::with_capacity(n);
        let mut identities = Vec::with_capacity(n);
        for (index, company) in companies.into_iter().enumerate() {
            let cid = company_id(seed, index);
            let issued = clock.now();
            let expires = issued + config.pat_ttl as f64;
            let issuer = format!("{url}/realms/bexio");
            let token = pat(seed, index, &cid, &issuer, issued as i64, expires as i64);
            let owner = company.users.get(1).cloned();
            identities.push(Identity {
                tenant: index,
                company_id: cid.clone(),
                company_name: company.name.clone(),
                sub: uuid_for(seed ^ 0x5B, index as u64).to_string(),
                email: owner.as_ref().map(|u| u.email.clone()).unwrap_or_default(),
                given_name: owner
                    .as_ref()
                    .map(|u| u.firstname.clone())
                    .unwrap_or_default(),
                family_name: owner
                    .as_ref()
                    .map(|u| u.lastname.clone())
                    .unwrap_or_default(),
                gender: owner
                    .as_ref()
                    .map(|u| u.salutation_type.clone())
                    .unwrap_or_else(|| "male".into()),
                company_user_id: 1,
                shard_id: uuid_for(seed ^ 0x54A2D, index as u64).to_string(),
            });
            tenants.push(Arc::new(Tenant {
                index,
                name: company.name.clone(),
                company_id: cid,
                token,
                token_expires: expires,
                company: RwLock::new(company),
                limiter: Mutex::new(Limiter::default()),
            }));
        }

        let all: BTreeSet<String> = OAuth::default_scopes();
        let secret = format!("sandbox-secret-{:016x}", splitmix(seed ^ 0x5EC));
        let clients = vec![
            OAuthClient {
                client_id: "bexio-bi".into(),
                client_secret: Some(secret.clone()),
                redirect_uris: vec!["http://127.0.0.1/*".into(), "http://localhost/*".into()],
                allowed_scopes: all.clone(),
            },
            OAuthClient {
                client_id: "bexio-bi-cli".into(),
                client_secret: None,
                redirect_uris: vec!["http://127.0.0.1/*".into(), "http://localhost/*".into()],
                allowed_scopes: all,
            },
        ];
        let now = Arc::new(move || clock.now());
        let oauth = OAuth::new(
            &url,
            identities,
            clients,
            config.access_token_ttl,
            now,
            seed,
        );
        let state = Arc::new(AppState {
            tenants,
            oauth,
            clock,
            limits: config.limits,
            faults: RwLock::new(config.faults.clone()),
            dice: Mutex::new(Dice::new(seed)),
        });

        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        let ready = Ready {
            url: url.clone(),
            tenants: state
                .tenants
                .iter()
                .map(|t| TenantInfo {
                    name: t.name.clone(),
                    company_id: t.company_id.clone(),
                    token: t.token.clone(),
                })
                .collect(),
            oauth: OAuthInfo {
                issuer: format!("{url}/realms/bexio"),
                client_id: "bexio-bi".into(),
                client_secret: secret,
                public_client_id: "bexio-bi-cli".into(),
            },
        };
        tracing::info!(url = %url, companies = n, invoices, "sandbox ready");
        Ok(Sandbox {
            ready,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// What to print when ready: URL, tenants with their tokens, OAuth clients.
    pub fn ready(&self) -> &Ready {
        &self.ready
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.ready.url
    }

    /// The shared state (for in-process callers such as the demo).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting requests and waits for running ones to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Generates the companies, in parallel when there are several.
fn generate_all(seed: u64, invoices: u64, n: usize) -> Vec<Company> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let specs: Vec<CompanySpec> = (0..n)
        .map(|i| CompanySpec::new(splitmix(seed.wrapping_add(i as u64)), invoices))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(2, |p| p.get())
        .min(n)
        .max(1);
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Company>>> = (0..n).map(|_| Mutex::new(None)).collect();
    // A panic in a generator thread propagates out of the scope.
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = specs.get(i) else { break };
                    *slots[i].lock() = Some(Company::generate(spec));
                }
            });
        }
    });
    slots.into_iter().filter_map(Mutex::into_inner).collect()
}
