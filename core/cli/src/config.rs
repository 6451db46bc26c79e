//! `config.toml` in `BEXIO_BI_HOME`: the companies to sync and how. Tokens are not in it: they
//! live in `secrets.toml` beside it (encrypted with the store's key, readable by the owner only), each company's either a
//! Personal Access Token or an OAuth sign-in (refresh and access token, renewed by every sync).
//!
//! Precedence: defaults < file < environment. `BEXIO_BI_CONCURRENCY` overrides
//! `[sync] concurrency`; `BEXIO_BI_TENANT_<NAME>_BASE_URL`, `_CLIENT_ID`, `_ISSUER`,
//! `_REDIRECT_PORT`, `_TOKEN` and `_CLIENT_SECRET` override one company's settings and secrets
//! (`<NAME>` upper-cased, `-` as `_`), for scripts and CI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use bexio::client::oauth::{BEXIO_ISSUER, Tokens};
use bexio_bi_store::crypt::{self, Keyring};
use serde::{Deserialize, Serialize};

use crate::cmd::UsageError;

/// bexio's API.
pub const BEXIO_API: &str = "https://api.bexio.com";

/// How a company authenticates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// A Personal Access Token (`bexio-bi auth token`).
    #[default]
    Pat,
    /// OAuth 2 with PKCE.
    Oauth,
}

/// One company.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// A short name of your choice (`meier-it`): letters, digits, `-`, `_`.
    pub name: String,
    /// The API (bexio's, or a sandbox's).
    #[serde(default = "default_base")]
    pub base_url: String,
    /// How it authenticates.
    #[serde(default)]
    pub auth: AuthKind,
    /// OAuth: the client id of your bexio app (developer.bexio.com).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// OAuth: the realm; bexio's by default, a sandbox's own under its `base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// OAuth: the port of the local callback `http://127.0.0.1:<port>/callback` (default: a free
    /// one), for apps whose redirect URIs are registered exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_port: Option<u16>,
    /// Only read to refuse it with a helpful message: secrets are never kept here in clear.
    #[serde(default, skip_serializing)]
    client_secret: Option<serde::de::IgnoredAny>,
}

fn default_base() -> String {
    BEXIO_API.to_owned()
}

impl Tenant {
    /// The OAuth realm: as configured, else a local sandbox's own, else bexio's.
    pub fn issuer(&self) -> String {
        if let Some(i) = &self.issuer {
            return i.trim_end_matches('/').to_owned();
        }
        let local = reqwest::Url::parse(&self.base_url).is_ok_and(|u| {
            u.scheme() == "http"
                && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
        });
        if local {
            format!("{}/realms/bexio", self.base_url.trim_end_matches('/'))
        } else {
            BEXIO_ISSUER.to_owned()
        }
    }
}

/// `[sync]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// Detail requests in flight per company.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How far `updated_at` searches reach back before the newest change already seen.
    #[serde(default = "default_overlap")]
    pub overlap: String,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            concurrency: default_concurrency(),
            overlap: default_overlap(),
        }
    }
}

fn default_overlap() -> String {
    "15m".into()
}

/// `[backup]`: where backups go and how many are kept.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSettings {
    /// A directory, or `s3://bucket/prefix` (credentials from the usual `AWS_*` variables).
    /// Default: `backups` in BEXIO_BI_HOME.
    #[serde(default)]
    pub target: Option<String>,
    /// Back up after every sync.
    #[serde(default = "yes")]
    pub after_sync: bool,
    /// Keep every backup younger than this.
    #[serde(default = "default_keep_within")]
    pub keep_within: String,
    /// Then one a day for this many days.
    #[serde(default)]
    pub keep_daily: u32,
    /// Then one a week for this many weeks.
    #[serde(default)]
    pub keep_weekly: u32,
    /// Then one a month for this many months.
    #[serde(default)]
    pub keep_monthly: u32,
}

fn yes() -> bool {
    true
}

fn default_keep_within() -> String {
    "30d".into()
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            target: None,
            after_sync: true,
            keep_within: default_keep_within(),
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
        }
    }
}

impl BackupSettings {
    /// Where backups go.
    pub fn target(&self, home: &Path) -> String {
        self.target
            .clone()
            .or_else(|| {
                std::env::var("BEXIO_BI_BACKUP_TARGET")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| home.join("backups").display().to_string())
    }

    /// The retention policy.
    pub fn retention(&self) -> anyhow::Result<bexio_bi_store::backup::Retention> {
        let within = parse_span(&self.keep_within)
            .map_err(|e| UsageError(format!("[backup] keep_within: {e}")))?;
        Ok(bexio_bi_store::backup::Retention {
            within_days: u32::try_from(within.div_ceil(86_400)).unwrap_or(u32::MAX),
            daily: self.keep_daily,
            weekly: self.keep_weekly,
            monthly: self.keep_monthly,
        })
    }
}

/// `[cache]`: how long the local copy of each kind of reference data is trusted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Time-to-live by stream (`country = "7d"`, `taxes = "1h"`, `article = "0"` for every run).
    #[serde(default)]
    pub ttl: BTreeMap<String, String>,
}

/// `90s`, `15m`, `1h`, `7d` or plain seconds; `0` is allowed (no caching, no overlap).
pub fn parse_span(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map_or((t, ""), |i| t.split_at(i));
    let bad = || format!("{s:?} is not a duration like 90s, 15m, 1h or 7d");
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let factor = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    Ok(n.saturating_mul(factor))
}

impl Config {
    /// The sync options this configuration asks for.
    pub fn sync_options(&self, full: bool) -> anyhow::Result<bexio_bi_sync::Options> {
        let overlap = parse_span(&self.sync.overlap)
            .map_err(|e| UsageError(format!("[sync] overlap: {e}")))?;
        let mut ttl = BTreeMap::new();
        for (stream, span) in &self.cache.ttl {
            let known = bexio_bi_sync::streams::STREAMS.iter().map(|s| s.key);
            if !known.clone().any(|k| k == stream) {
                return Err(UsageError(format!(
                    "[cache.ttl] {stream:?} is not a stream; streams are: {}",
                    known.collect::<Vec<_>>().join(", ")
                ))
                .into());
            }
            let secs =
                parse_span(span).map_err(|e| UsageError(format!("[cache.ttl] {stream}: {e}")))?;
            ttl.insert(stream.clone(), secs);
        }
        Ok(bexio_bi_sync::Options {
            concurrency: self.sync.concurrency,
            full,
            overlap_seconds: overlap,
            ttl,
            ..bexio_bi_sync::Options::default()
        })
    }
}

fn default_concurrency() -> usize {
    4
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Sync settings.
    #[serde(default)]
    pub sync: SyncSettings,
    /// How long cached reference data is trusted.
    #[serde(default)]
    pub cache: CacheSettings,
    /// Backups.
    #[serde(default)]
    pub backup: BackupSettings,
    /// Companies.
    #[serde(default, rename = "tenant")]
    pub tenants: Vec<Tenant>,
}

/// The example `bexio-bi init` writes.
pub const EXAMPLE: &str = r#"# bexio-bi configuration. Tokens are not kept here: store a Personal Access Token with
#   bexio-bi auth token --tenant <name>
# or sign in with OAuth in the browser (auth = "oauth" below) with
#   bexio-bi auth login --tenant <name>
# Environment overrides: BEXIO_BI_CONCURRENCY and, per company, BEXIO_BI_TENANT_<NAME>_BASE_URL,
# _CLIENT_ID, _ISSUER, _REDIRECT_PORT, _TOKEN and _CLIENT_SECRET.

[sync]
# Detail requests in flight per company (bexio allows about 1000 requests a minute per company).
concurrency = 4
# Changes are searched by updated_at since the newest change already seen, minus this overlap.
overlap = "15m"

# Reference data is read again only when the local copy is older than its time-to-live
# (defaults: countries and languages 7d, other lookups 1d, accounts, taxes, users 1h; documents,
# the journal, bills and expenses every run). "0" reads a stream every run.
# [cache.ttl]
# taxes = "1d"
# article = "6h"

# A backup after every sync, deduplicated: only new chunks are copied.
[backup]
# target = "/mnt/nas/bexio-bi"           # default: backups/ in BEXIO_BI_HOME; or "s3://bucket/prefix"
after_sync = true
keep_within = "30d"                       # every backup of the last 30 days, then:
# keep_daily = 7
# keep_weekly = 8
# keep_monthly = 24

# One [[tenant]] per bexio company. `name` is yours to choose.
[[tenant]]
name = "my-company"
# base_url = "https://api.bexio.com"   # the default; a sandbox URL works too
auth = "pat"                           # "pat" (Personal Access Token) or "oauth"

# A company you sign in to with OAuth (`bexio-bi auth login --tenant other-company`).
# [[tenant]]
# name = "other-company"
# auth = "oauth"
# client_id = "…"                      # your app's, from developer.bexio.com
# issuer = "https://auth.bexio.com/realms/bexio"   # the default
# redirect_port = 53682                # if your app registers http://127.0.0.1:53682/callback exactly
# The app's client secret, if it has one, never goes here: give it to `auth login` as
# BEXIO_BI_TENANT_OTHER_COMPANY_CLIENT_SECRET and it is kept in secrets.toml.
"#;

/// HTTPS, or plain HTTP only to this machine (a sandbox): tokens never travel in clear.
fn safe_url(url: &str) -> bool {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => u.host_str().is_some(),
        Ok(u) if u.scheme() == "http" => {
            matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
        }
        _ => false,
    }
}

fn env_key(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

impl Config {
    /// Where the file is.
    pub fn path(home: &Path) -> PathBuf {
        home.join("config.toml")
    }

    /// Like [`Config::load`], but no file is the default configuration (commands that work on
    /// stored data need no company configured).
    pub fn load_or_default(home: &Path) -> anyhow::Result<Config> {
        if Config::path(home).exists() {
            Config::load(home)
        } else {
            Ok(Config::default())
        }
    }

    /// Reads and checks the file, then applies environment overrides.
    pub fn load(home: &Path) -> anyhow::Result<Config> {
        let path = Config::path(home);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(UsageError(format!(
                    "no configuration at {}: run `bexio-bi init` and add your companies",
                    path.display()
                ))
                .into());
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut config: Config =
            toml::from_str(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        if let Some(c) = std::env::var("BEXIO_BI_CONCURRENCY")
            .ok()
            .filter(|s| !s.is_empty())
        {
            config.sync.concurrency = c
                .parse()
                .map_err(|_| UsageError(format!("BEXIO_BI_CONCURRENCY={c:?} is not a number")))?;
        }
        for t in &mut config.tenants {
            let var = |what: &str| {
                std::env::var(format!("BEXIO_BI_TENANT_{}_{what}", env_key(&t.name)))
                    .ok()
                    .filter(|v| !v.is_empty())
            };
            if let Some(url) = var("BASE_URL") {
                t.base_url = url;
            }
            if let Some(id) = var("CLIENT_ID") {
                t.client_id = Some(id);
            }
            if let Some(issuer) = var("ISSUER") {
                t.issuer = Some(issuer);
            }
            if let Some(port) = var("REDIRECT_PORT") {
                t.redirect_port = Some(port.parse().map_err(|_| {
                    UsageError(format!(
                        "BEXIO_BI_TENANT_{}_REDIRECT_PORT={port:?} is not a port",
                        env_key(&t.name)
                    ))
                })?);
            }
        }
        // Checked after the overrides, so that the environment cannot bypass the checks.
        config.validate().map_err(|e| {
            UsageError(format!(
                "{} (with environment overrides): {e}",
                path.display()
            ))
        })?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let mut seen = std::collections::HashSet::new();
        for t in &self.tenants {
            if t.name.is_empty()
                || !t
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                || t.name.len() > 60
            {
                bail!(
                    "tenant name {:?}: use letters, digits, '-' and '_' only",
                    t.name
                );
            }
            if !seen.insert(&t.name) {
                bail!("tenant {:?} appears twice", t.name);
            }
            if !safe_url(&t.base_url) {
                bail!(
                    "tenant {:?}: base_url must be https (or a local sandbox on http://127.0.0.1)",
                    t.name
                );
            }
            if t.client_secret.is_some() {
                bail!(
                    "tenant {:?}: client_secret does not belong in config.toml (it would lie there in clear); give it to `bexio-bi auth login` as BEXIO_BI_TENANT_{}_CLIENT_SECRET and it is kept in secrets.toml",
                    t.name,
                    env_key(&t.name)
                );
            }
            match t.auth {
                AuthKind::Oauth => {
                    if t.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
                        bail!(
                            "tenant {:?}: auth = \"oauth\" needs client_id, the id of your bexio app (developer.bexio.com; a local sandbox's is \"bexio-bi-cli\")",
                            t.name
                        );
                    }
                    if !safe_url(&t.issuer()) {
                        bail!(
                            "tenant {:?}: issuer must be https (or a local sandbox on http://127.0.0.1)",
                            t.name
                        );
                    }
                }
                AuthKind::Pat => {
                    if t.client_id.is_some() || t.issuer.is_some() || t.redirect_port.is_some() {
                        bail!(
                            "tenant {:?}: client_id, issuer and redirect_port are for auth = \"oauth\"",
                            t.name
                        );
                    }
                }
            }
        }
        if self.sync.concurrency == 0 || self.sync.concurrency > 32 {
            bail!("[sync] concurrency must be between 1 and 32");
        }
        Ok(())
    }

    /// The companies selected by name (all when `names` is empty).
    pub fn select(&self, names: &[String]) -> anyhow::Result<Vec<Tenant>> {
        if names.is_empty() {
            if self.tenants.is_empty() {
                return Err(UsageError(
                    "no [[tenant]] in the configuration: add one (see `bexio-bi init`)".into(),
                )
                .into());
            }
            return Ok(self.tenants.clone());
        }
        names
            .iter()
            .map(|n| {
                self.tenants
                    .iter()
                    .find(|t| &t.name == n)
                    .cloned()
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            self.tenants.iter().map(|t| t.name.as_str()).collect();
                        UsageError(format!(
                            "no tenant {n:?} in the configuration (known: {})",
                            known.join(", ")
                        ))
                        .into()
                    })
            })
            .collect()
    }
}

/// `secrets.toml`: credentials by tenant name, readable by the owner only.
///
/// ```toml
/// [tokens]
/// meier-it = "eyJ…"               # a Personal Access Token
///
/// [tokens.gerber-it]              # an OAuth sign-in, renewed by every sync
/// refresh_token = "eyJ…"
/// access_token = "eyJ…"
/// access_expires_unix = 1767225600
/// ```
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// Credentials.
    #[serde(default)]
    pub tokens: BTreeMap<String, Credential>,
    /// Secrets for plugins, by name (`bexio-bi plugins secret NAME`); a plugin reads only those
    /// granted to it in plugins.toml.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plugins: BTreeMap<String, String>,
}

/// How one company signs in.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Credential {
    /// A Personal Access Token (`bexio-bi auth token`).
    Pat(String),
    /// An OAuth sign-in (`bexio-bi auth login`).
    OAuth(OAuthCredential),
}

/// The tokens of an OAuth sign-in (see [`Tokens`]), and the app's secret if it has one.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthCredential {
    /// Renews the access token; rotated by bexio on every use.
    pub refresh_token: String,
    /// The bearer token for the API.
    pub access_token: String,
    /// When to stop using `access_token` (Unix seconds).
    pub access_expires_unix: i64,
    /// The scopes granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client secret of a confidential app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens never reach logs or error messages.
        match self {
            Credential::Pat(_) => f.write_str("Pat(..)"),
            Credential::OAuth(c) => c.fmt(f),
        }
    }
}

impl std::fmt::Debug for OAuthCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthCredential")
            .field("access_expires_unix", &self.access_expires_unix)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl OAuthCredential {
    /// The tokens, for the client.
    pub fn tokens(&self) -> Tokens {
        Tokens {
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            access_expires_unix: self.access_expires_unix,
            scope: self.scope.clone(),
        }
    }

    /// Renewed tokens, keeping the client secret.
    pub fn renewed(&self, tokens: &Tokens) -> OAuthCredential {
        OAuthCredential {
            refresh_token: tokens.refresh_token.clone(),
            access_token: tokens.access_token.clone(),
            access_expires_unix: tokens.access_expires_unix,
            scope: tokens.scope.clone(),
            client_secret: self.client_secret.clone(),
        }
    }
}

/// The lock on `secrets.toml` (released on drop): whoever holds it may read and write it.
pub struct SecretsLock {
    home: PathBuf,
    keys: Arc<Keyring>,
    _file: std::fs::File,
}

impl SecretsLock {
    /// The secrets as they are now.
    pub fn load(&self) -> anyhow::Result<Secrets> {
        Secrets::load(&self.home, &self.keys)
    }

    /// Read, change, write.
    pub fn update(&self, change: impl FnOnce(&mut Secrets)) -> anyhow::Result<()> {
        let mut secrets = self.load()?;
        change(&mut secrets);
        secrets.save(&self.home, &self.keys)
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens never reach logs or error messages.
        f.debug_struct("Secrets")
            .field("tenants", &self.tokens.keys().collect::<Vec<_>>())
            .field("plugins", &self.plugins.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What the sealed `secrets.toml` is bound to.
const SECRETS_AAD: &[u8] = b"secrets.toml";

impl Secrets {
    fn path(home: &Path) -> PathBuf {
        home.join("secrets.toml")
    }

    /// Reads the secrets (none yet is fine), decrypting them with the store's key. A file
    /// written in clear by an earlier version still reads; it is sealed when next written.
    pub fn load(home: &Path, keys: &Keyring) -> anyhow::Result<Secrets> {
        let path = Secrets::path(home);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Secrets::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let bytes = if crypt::is_sealed(&bytes) {
            keys.open_file(&bytes, SECRETS_AAD, &path)?
        } else {
            bytes
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "{} is damaged (not text); delete it and store the tokens again",
                path.display()
            )
        })?;
        // The parser's message would quote the offending line, token included: only say where.
        toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count())
                .unwrap_or(0);
            anyhow::anyhow!(
                "{} is damaged near line {at}; fix or delete it and store the tokens again",
                path.display()
            )
        })
    }

    /// Changes the secrets under a lock: read, change, write. Two commands storing tokens at the
    /// same time (or a sync rotating a refresh token) cannot undo each other.
    pub fn update(
        home: &Path,
        keys: Arc<Keyring>,
        change: impl FnOnce(&mut Secrets),
    ) -> anyhow::Result<()> {
        Secrets::lock(home, keys)?.update(change)
    }

    /// Seals a `secrets.toml` that an earlier version wrote in clear.
    pub fn seal_if_clear(home: &Path, keys: Arc<Keyring>) -> anyhow::Result<()> {
        match std::fs::read(Secrets::path(home)) {
            Ok(bytes) if !crypt::is_sealed(&bytes) => Secrets::update(home, keys, |_| ()),
            _ => Ok(()),
        }
    }

    /// Takes the lock (waiting for other processes), e.g. across an OAuth refresh.
    pub fn lock(home: &Path, keys: Arc<Keyring>) -> anyhow::Result<SecretsLock> {
        std::fs::create_dir_all(home)
            .with_context(|| format!("cannot create {}", home.display()))?;
        let lock_path = home.join(".secrets.lock");
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        Ok(SecretsLock {
            home: home.to_owned(),
            keys,
            _file: file,
        })
    }

    /// Writes the secrets sealed and atomically, readable by the owner only (callers hold the
    /// lock).
    fn save(&self, home: &Path, keys: &Keyring) -> anyhow::Result<()> {
        std::fs::create_dir_all(home)
            .with_context(|| format!("cannot create {}", home.display()))?;
        let path = Secrets::path(home);
        let tmp = home.join(format!(".secrets.toml.{}.tmp", std::process::id()));
        let sealed = keys.seal_file(toml::to_string(self)?.as_bytes(), SECRETS_AAD);
        {
            use std::io::Write;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts
                .open(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            f.write_all(&sealed)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// The credential of a company: a token in the environment first (used as it is), then the
    /// file.
    pub fn credential(&self, tenant: &str) -> Option<Credential> {
        std::env::var(format!("BEXIO_BI_TENANT_{}_TOKEN", env_key(tenant)))
            .ok()
            .filter(|t| !t.is_empty())
            .map(Credential::Pat)
            .or_else(|| self.tokens.get(tenant).cloned())
    }

    /// The client secret of a company's OAuth app: the environment first, then the file.
    pub fn client_secret(&self, tenant: &str) -> Option<String> {
        client_secret_env(tenant).or_else(|| match self.tokens.get(tenant) {
            Some(Credential::OAuth(c)) => c.client_secret.clone(),
            _ => None,
        })
    }
}

/// `BEXIO_BI_TENANT_<NAME>_CLIENT_SECRET`.
pub fn client_secret_env(tenant: &str) -> Option<String> {
    std::env::var(format!("BEXIO_BI_TENANT_{}_CLIENT_SECRET", env_key(tenant)))
        .ok()
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_a_valid_configuration() {
        let c: Config = toml::from_str(EXAMPLE).expect("example parses");
        c.validate().expect("example is valid");
        assert_eq!(c.tenants[0].base_url, BEXIO_API);
    }

    #[test]
    fn cache_lifetimes_and_overlap_become_sync_options() {
        let c: Config = toml::from_str(
            "[sync]\noverlap = \"2m\"\n[cache.ttl]\ncountry = \"7d\"\narticle = \"0\"\n",
        )
        .expect("parses");
        let o = c.sync_options(true).expect("options");
        assert!(o.full);
        assert_eq!(o.overlap_seconds, 120);
        assert_eq!(o.ttl["country"], 7 * 86_400);
        assert_eq!(o.ttl["article"], 0);
        for (toml, needle) in [
            ("[cache.ttl]\ncountries = \"1d\"\n", "is not a stream"),
            ("[cache.ttl]\ncountry = \"soon\"\n", "not a duration"),
            ("[sync]\noverlap = \"-5m\"\n", "overlap"),
        ] {
            let c: Config = toml::from_str(toml).expect("parses");
            let e = c.sync_options(false).expect_err(toml).to_string();
            assert!(e.contains(needle), "{toml}: {e}");
        }
        assert_eq!(parse_span("90"), Ok(90));
        assert_eq!(parse_span("1h"), Ok(3600));
    }

    #[test]
    fn mistakes_are_named() {
        let e = toml::from_str::<Config>("[[tenant]]\nname = \"a\"\ntoken = \"x\"\n")
            .expect_err("tokens do not belong here");
        assert!(e.to_string().contains("token"), "{e}");
        let c: Config = toml::from_str("[[tenant]]\nname = \"a b\"\n").expect("parses");
        assert!(c.validate().is_err());
        for url in [
            "http://evil.example",
            "http://localhost.evil.com",
            "http://127.0.0.1.evil.com/",
            "ftp://x",
            "not a url",
        ] {
            let c: Config =
                toml::from_str(&format!("[[tenant]]\nname = \"a\"\nbase_url = \"{url}\"\n"))
                    .expect("parses");
            assert!(c.validate().is_err(), "{url} must be refused");
        }
        let c: Config =
            toml::from_str("[[tenant]]\nname = \"a\"\nbase_url = \"http://127.0.0.1:8080\"\n")
                .expect("parses");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn oauth_tenants_need_an_app_and_keep_its_secret_out() {
        let check = |text: &str| {
            toml::from_str::<Config>(text)
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate().map(|()| c).map_err(|e| e.to_string()))
        };
        let e = check("[[tenant]]\nname = \"a\"\nauth = \"oauth\"\n").expect_err("no client_id");
        assert!(e.contains("client_id"), "{e}");
        let e = check(
            "[[tenant]]\nname = \"a-b\"\nauth = \"oauth\"\nclient_id = \"x\"\nclient_secret = \"s3cret\"\n",
        )
        .expect_err("secret in clear");
        assert!(
            e.contains("BEXIO_BI_TENANT_A_B_CLIENT_SECRET") && !e.contains("s3cret"),
            "{e}"
        );
        let e =
            check("[[tenant]]\nname = \"a\"\nclient_id = \"x\"\n").expect_err("pat + client_id");
        assert!(e.contains("oauth"), "{e}");
        let e = check(
            "[[tenant]]\nname = \"a\"\nauth = \"oauth\"\nclient_id = \"x\"\nissuer = \"http://evil.example/realms/bexio\"\n",
        )
        .expect_err("issuer in clear");
        assert!(e.contains("issuer"), "{e}");
        let c = check("[[tenant]]\nname = \"a\"\nauth = \"oauth\"\nclient_id = \"x\"\nredirect_port = 53682\n")
            .expect("bexio");
        assert_eq!(c.tenants[0].issuer(), BEXIO_ISSUER);
        let c = check(
            "[[tenant]]\nname = \"a\"\nauth = \"oauth\"\nclient_id = \"bexio-bi-cli\"\nbase_url = \"http://127.0.0.1:4000/\"\n",
        )
        .expect("sandbox");
        assert_eq!(c.tenants[0].issuer(), "http://127.0.0.1:4000/realms/bexio");
    }
}

#[cfg(test)]
mod secrets_tests {
    use super::*;

    fn keys(home: &Path) -> Arc<Keyring> {
        Arc::new(Keyring::create(&home.join("key.json"), "test password").expect("key"))
    }

    #[test]
    fn tokens_never_show_in_messages() {
        let home = std::env::temp_dir().join(format!("bexio-bi-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&home).expect("dir");
        std::fs::write(
            home.join("secrets.toml"),
            "[tokens]\nalpha = \"eyJsecret\" oops\n",
        )
        .expect("write");
        let keys = keys(&home);
        let e = Secrets::load(&home, &keys)
            .expect_err("damaged")
            .to_string();
        assert!(!e.contains("eyJsecret") && e.contains("line"), "{e}");
        let oauth = OAuthCredential {
            refresh_token: "eyJrefresh".into(),
            access_token: "eyJaccess".into(),
            access_expires_unix: 1,
            scope: None,
            client_secret: Some("app-secret".into()),
        };
        let s = Secrets {
            tokens: [
                ("alpha".to_owned(), Credential::Pat("eyJsecret".to_owned())),
                ("beta".to_owned(), Credential::OAuth(oauth.clone())),
            ]
            .into(),
            plugins: [("sftp".to_owned(), "hunter2".to_owned())].into(),
        };
        for shown in [format!("{s:?}"), format!("{:?}", s.tokens["beta"])] {
            assert!(
                !shown.contains("eyJ")
                    && !shown.contains("app-secret")
                    && !shown.contains("hunter2"),
                "{shown}"
            );
        }
        let _ = std::fs::remove_dir_all(home);
    }

    #[test]
    fn pats_and_oauth_sign_ins_share_the_file_and_old_files_still_read() {
        let home =
            std::env::temp_dir().join(format!("bexio-bi-secrets-mixed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).expect("dir");
        // A file from before OAuth: a plain map of PATs.
        std::fs::write(home.join("secrets.toml"), "[tokens]\nalpha = \"eyJpat\"\n").expect("write");
        let keys = keys(&home);
        let s = Secrets::load(&home, &keys).expect("old file");
        assert_eq!(
            s.credential("alpha"),
            Some(Credential::Pat("eyJpat".into()))
        );
        let oauth = OAuthCredential {
            refresh_token: "eyJrefresh".into(),
            access_token: "eyJaccess".into(),
            access_expires_unix: 1_767_225_600,
            scope: Some("openid offline_access".into()),
            client_secret: None,
        };
        Secrets::update(&home, Arc::clone(&keys), |s| {
            s.tokens
                .insert("beta".into(), Credential::OAuth(oauth.clone()));
        })
        .expect("update");
        // Written sealed: no token in clear, and it opens only with the store's key.
        let bytes = std::fs::read(home.join("secrets.toml")).expect("read");
        assert!(crypt::is_sealed(&bytes));
        let clear = String::from_utf8_lossy(&bytes);
        assert!(
            !clear.contains("eyJ") && !clear.contains("tokens"),
            "{clear}"
        );
        let other = Keyring::create(&home.join("other.json"), "another").expect("key");
        let e = Secrets::load(&home, &other)
            .expect_err("another key")
            .to_string();
        assert!(
            e.contains("secrets.toml") && e.contains("cannot be decrypted"),
            "{e}"
        );
        let s = Secrets::load(&home, &keys).expect("mixed file");
        assert_eq!(
            s.credential("alpha"),
            Some(Credential::Pat("eyJpat".into()))
        );
        assert_eq!(s.credential("beta"), Some(Credential::OAuth(oauth.clone())));
        assert_eq!(oauth.renewed(&oauth.tokens()), oauth);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.join("secrets.toml"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(home);
    }
}
