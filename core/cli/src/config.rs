//! `config.toml` in `BEXIO_BI_HOME`: the companies to sync and how. Tokens are not in it: they
//! live in `secrets.toml` beside it (readable by the owner only).
//!
//! Precedence: defaults < file < environment. `BEXIO_BI_CONCURRENCY` overrides
//! `[sync] concurrency`; `BEXIO_BI_TENANT_<NAME>_BASE_URL` and `BEXIO_BI_TENANT_<NAME>_TOKEN`
//! override one company's URL and token (`<NAME>` upper-cased, `-` as `_`), for scripts and CI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
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
}

fn default_base() -> String {
    BEXIO_API.to_owned()
}

/// `[sync]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// Detail requests in flight per company.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            concurrency: default_concurrency(),
        }
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
    /// Companies.
    #[serde(default, rename = "tenant")]
    pub tenants: Vec<Tenant>,
}

/// The example `bexio-bi init` writes.
pub const EXAMPLE: &str = r#"# bexio-bi configuration. Tokens are not kept here: store them with
#   bexio-bi auth token --tenant <name>
# Environment overrides: BEXIO_BI_CONCURRENCY, BEXIO_BI_TENANT_<NAME>_BASE_URL, BEXIO_BI_TENANT_<NAME>_TOKEN.

[sync]
# Detail requests in flight per company (bexio allows about 1000 requests a minute per company).
concurrency = 4

# One [[tenant]] per bexio company. `name` is yours to choose.
[[tenant]]
name = "my-company"
# base_url = "https://api.bexio.com"   # the default; a sandbox URL works too
auth = "pat"                           # "pat" (Personal Access Token) or "oauth"
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
            if let Ok(url) = std::env::var(format!("BEXIO_BI_TENANT_{}_BASE_URL", env_key(&t.name)))
            {
                t.base_url = url;
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

/// `secrets.toml`: tokens by tenant name, readable by the owner only.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// Tokens.
    #[serde(default)]
    pub tokens: BTreeMap<String, String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens never reach logs or error messages.
        f.debug_struct("Secrets")
            .field("tenants", &self.tokens.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    fn path(home: &Path) -> PathBuf {
        home.join("secrets.toml")
    }

    /// Reads the secrets (none yet is fine).
    pub fn load(home: &Path) -> anyhow::Result<Secrets> {
        let path = Secrets::path(home);
        match std::fs::read_to_string(&path) {
            // The parser's message would quote the offending line, token included: only say where.
            Ok(text) => toml::from_str(&text).map_err(|e| {
                let at = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].lines().count())
                    .unwrap_or(0);
                anyhow::anyhow!(
                    "{} is damaged near line {at}; fix or delete it and store the tokens again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Secrets::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Changes the secrets under a lock: read, change, write. Two commands storing tokens at the
    /// same time (or a sync rotating a refresh token) cannot undo each other.
    pub fn update(home: &Path, change: impl FnOnce(&mut Secrets)) -> anyhow::Result<()> {
        std::fs::create_dir_all(home)
            .with_context(|| format!("cannot create {}", home.display()))?;
        let lock_path = home.join(".secrets.lock");
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let mut secrets = Secrets::load(home)?;
        change(&mut secrets);
        secrets.save(home)
    }

    /// Writes the secrets atomically, readable by the owner only (callers hold the lock).
    fn save(&self, home: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(home)
            .with_context(|| format!("cannot create {}", home.display()))?;
        let path = Secrets::path(home);
        let tmp = home.join(format!(".secrets.toml.{}.tmp", std::process::id()));
        let text = toml::to_string(self)?;
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
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// The token of a company: the environment first, then the file.
    pub fn token(&self, tenant: &str) -> Option<String> {
        std::env::var(format!("BEXIO_BI_TENANT_{}_TOKEN", env_key(tenant)))
            .ok()
            .filter(|t| !t.is_empty())
            .or_else(|| self.tokens.get(tenant).cloned())
    }
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
}

#[cfg(test)]
mod secrets_tests {
    use super::*;

    #[test]
    fn tokens_never_show_in_messages() {
        let home = std::env::temp_dir().join(format!("bexio-bi-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&home).expect("dir");
        std::fs::write(
            home.join("secrets.toml"),
            "[tokens]\nalpha = \"eyJsecret\" oops\n",
        )
        .expect("write");
        let e = Secrets::load(&home).expect_err("damaged").to_string();
        assert!(!e.contains("eyJsecret") && e.contains("line"), "{e}");
        let s = Secrets {
            tokens: [("alpha".to_owned(), "eyJsecret".to_owned())].into(),
        };
        assert!(!format!("{s:?}").contains("eyJsecret"));
        let _ = std::fs::remove_dir_all(home);
    }
}
