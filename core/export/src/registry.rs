//! Finding plugins: the manifests shipped with bexio-bi, the user's plugin directory and
//! `BEXIO_BI_PLUGIN_PATH`, searched like `PATH` (the first plugin of a name wins, later ones
//! are listed as shadowed), and the operator's grants (`plugins.toml`) applied to them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::manifest::{Kind, Manifest};
use crate::native::Native;
use crate::wasm::Wasm;
use crate::{ExportError, Limits, Linked};

/// The manifests of the built-in plugins, shipped in `manifests/` and compiled in, so that a
/// bexio-bi binary always knows its own plugins.
const SHIPPED: &[(&str, &str)] = &[
    (
        "manifests/parquet.toml",
        include_str!("../../../manifests/parquet.toml"),
    ),
    (
        "manifests/csv.toml",
        include_str!("../../../manifests/csv.toml"),
    ),
    (
        "manifests/xlsx.toml",
        include_str!("../../../manifests/xlsx.toml"),
    ),
    (
        "manifests/qvd.toml",
        include_str!("../../../manifests/qvd.toml"),
    ),
    (
        "manifests/hyper.toml",
        include_str!("../../../manifests/hyper.toml"),
    ),
];

/// Where a plugin was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Shipped with bexio-bi.
    Shipped,
    /// A manifest in a directory of the search path.
    Dir(PathBuf),
}

/// One plugin on the search path.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its manifest.
    pub manifest: Manifest,
    /// Where it was found.
    pub origin: Origin,
    /// Manifests of the same name further down the search path (not used).
    pub shadows: Vec<PathBuf>,
}

impl Entry {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.manifest.plugin.name
    }

    /// Loads the plugin (checking the artifact's sha256 first) and checks that it is what the
    /// manifest says.
    pub fn load(&self, cache_dir: Option<&Path>) -> Result<Arc<dyn Linked>, ExportError> {
        let m = &self.manifest;
        let linked: Arc<dyn Linked> = match m.plugin.kind {
            Kind::Builtin => crate::builtin::load(&m.plugin.name, cache_dir).ok_or_else(|| {
                ExportError::Refused {
                    plugin: m.plugin.name.clone(),
                    message: format!(
                        "{} says it is built in, but this bexio-bi has no built-in plugin of that name (built in: {})",
                        m.path.display(),
                        crate::builtin::names().join(", ")
                    ),
                }
            })??,
            Kind::Native => Arc::new(Native::load(&m.verify_artifact()?)?),
            Kind::Wasm => Arc::new(Wasm::load(&m.verify_artifact()?, cache_dir)?),
        };
        let info = linked.info();
        if info.name != m.plugin.name {
            return Err(ExportError::Refused {
                plugin: m.plugin.name.clone(),
                message: format!(
                    "{} names the plugin {:?} but its artifact says it is {:?}",
                    m.path.display(),
                    m.plugin.name,
                    info.name
                ),
            });
        }
        Ok(linked)
    }
}

/// Every plugin on a search path.
#[derive(Debug, Default)]
pub struct Registry {
    /// The plugins, first of each name, in search order.
    pub entries: Vec<Entry>,
    /// Manifests that do not read, each with its reason.
    pub broken: Vec<ExportError>,
}

impl Registry {
    /// Reads the manifests in `dirs` (each directory and its sub-directories one level deep),
    /// in order, then the shipped ones.
    pub fn discover(dirs: &[PathBuf]) -> Registry {
        let mut r = Registry::default();
        for dir in dirs {
            for file in manifest_files(dir) {
                match Manifest::load(&file) {
                    Ok(m) => r.add(m, Origin::Dir(dir.clone())),
                    Err(e) => r.broken.push(e),
                }
            }
        }
        for (path, text) in SHIPPED {
            match Manifest::parse(text, Path::new(path)) {
                Ok(m) => r.add(m, Origin::Shipped),
                Err(e) => r.broken.push(e),
            }
        }
        r
    }

    fn add(&mut self, manifest: Manifest, origin: Origin) {
        if let Some(first) = self
            .entries
            .iter_mut()
            .find(|e| e.name() == manifest.plugin.name)
        {
            first.shadows.push(manifest.path);
            return;
        }
        self.entries.push(Entry {
            manifest,
            origin,
            shadows: Vec::new(),
        });
    }

    /// The plugin called `name`.
    pub fn get(&self, name: &str) -> Result<&Entry, ExportError> {
        self.entries
            .iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| ExportError::Unknown {
                name: name.to_owned(),
                known: format!(
                    "known: {}",
                    self.entries
                        .iter()
                        .map(|e| e.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

/// The `.toml` files in `dir` and in its sub-directories, sorted.
fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Ok(inner) = std::fs::read_dir(&p) {
                files.extend(inner.flatten().map(|e| e.path()));
            }
        } else {
            files.push(p);
        }
    }
    files.retain(|f| f.extension().is_some_and(|e| e == "toml"));
    files.sort();
    files
}

/// The operator's `plugins.toml`: which plugins run by default, with what configuration, and
/// what each may do beyond writing its files.
///
/// ```toml
/// [plugins.parquet]
/// enabled = true
/// config = { compression = "zstd" }
///
/// [plugins.odoo]
/// enabled = true
/// out = "/srv/bi/odoo"              # the only directory it may write to
/// network = ["erp.example.ch:443"]  # hosts it may reach (what its manifest requests)
/// secrets = ["odoo_api_key"]        # secrets it may read (stored with `bexio-bi plugins secret`)
/// memory_mb = 256
/// call_timeout_s = 600
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// Per plugin.
    #[serde(default)]
    pub plugins: BTreeMap<String, Grant>,
}

/// `[plugins.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Runs on `bexio-bi export` without `--to`.
    #[serde(default)]
    pub enabled: bool,
    /// The plugin's configuration.
    #[serde(default)]
    pub config: Option<toml::Table>,
    /// The directory it writes to (instead of `<--out>/<tenant>/<plugin>`); `{tenant}` is
    /// replaced by the company.
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// `host:port`s it may reach.
    #[serde(default)]
    pub network: Vec<String>,
    /// Secrets it may read.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Memory limit, MB (overrides the manifest's).
    #[serde(default)]
    pub memory_mb: Option<u64>,
    /// Time per call, seconds (overrides the manifest's).
    #[serde(default)]
    pub call_timeout_s: Option<u64>,
}

impl PluginsConfig {
    /// Reads `plugins.toml`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<PluginsConfig, ExportError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ExportError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|e| ExportError::Manifest {
            path: path.to_owned(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1)),
            message: e.message().trim().to_owned(),
        })
    }

    /// The grant of `name` (empty when it has none).
    pub fn grant(&self, name: &str) -> Grant {
        self.plugins.get(name).cloned().unwrap_or_default()
    }

    /// The plugins enabled, in name order.
    pub fn enabled(&self) -> Vec<String> {
        self.plugins
            .iter()
            .filter(|(_, g)| g.enabled)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// What a plugin may do in a run: what its manifest requests, as far as the operator granted.
#[derive(Debug, Clone)]
pub struct Granted {
    /// Its configuration (JSON), checked against its schema.
    pub config: serde_json::Value,
    /// Hosts it may reach.
    pub network: Vec<String>,
    /// Secret names it may read.
    pub secrets: Vec<String>,
    /// Its limits.
    pub limits: Limits,
    /// Its output directory, when the operator fixed one.
    pub out: Option<PathBuf>,
}

/// Checks what `manifest` requests against `grant`: every host and secret requested must be
/// granted (a plugin is refused, not run half-able), the configuration must match the schema.
/// `config` (from the command line) replaces the grant's configuration when given.
pub fn check_grant(
    manifest: &Manifest,
    info: &crate::PluginInfo,
    grant: &Grant,
    config: Option<serde_json::Value>,
) -> Result<Granted, ExportError> {
    let name = &manifest.plugin.name;
    let refuse = |message: String| ExportError::Refused {
        plugin: name.clone(),
        message,
    };
    let missing: Vec<&String> = manifest
        .capabilities
        .network
        .iter()
        .filter(|h| !grant.network.contains(h))
        .collect();
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Err(refuse(format!(
            "it asks to reach {} and plugins.toml does not grant it; if you trust it: bexio-bi plugins enable {name} {}",
            list.join(", "),
            list.iter()
                .map(|h| format!("--allow-network {h}"))
                .collect::<Vec<_>>()
                .join(" ")
        )));
    }
    let missing: Vec<&String> = manifest
        .capabilities
        .secrets
        .iter()
        .filter(|s| !grant.secrets.contains(s))
        .collect();
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Err(refuse(format!(
            "it asks for the secret{} {} and plugins.toml does not grant {}; if you trust it: bexio-bi plugins enable {name} {}",
            if list.len() > 1 { "s" } else { "" },
            list.join(", "),
            if list.len() > 1 { "them" } else { "it" },
            list.iter()
                .map(|s| format!("--allow-secret {s}"))
                .collect::<Vec<_>>()
                .join(" ")
        )));
    }
    let config = match config {
        Some(c) => c,
        None => match &grant.config {
            Some(t) => serde_json::to_value(t).map_err(|e| refuse(e.to_string()))?,
            None => serde_json::json!({}),
        },
    };
    crate::schema::validate(name, &info.config_schema, &config)?;
    let mut limits = manifest.limits();
    if let Some(mb) = grant.memory_mb {
        limits.memory_bytes = mb.clamp(16, 65_536) << 20;
    }
    if let Some(s) = grant.call_timeout_s {
        limits.call_timeout = std::time::Duration::from_secs(s.clamp(1, 7 * 24 * 3600));
    }
    Ok(Granted {
        config,
        // Only what was both asked for and granted.
        network: manifest.capabilities.network.clone(),
        secrets: manifest.capabilities.secrets.clone(),
        limits,
        out: grant.out.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_manifests_match_the_built_in_plugins() {
        let r = Registry::discover(&[]);
        assert!(r.broken.is_empty(), "{:?}", r.broken);
        let names: Vec<&str> = r.entries.iter().map(|e| e.name()).collect();
        for name in crate::builtin::names() {
            let e = r.get(&name).expect("a manifest per built-in plugin");
            assert_eq!(e.manifest.plugin.kind, Kind::Builtin);
            let p = e.load(None).expect("loads");
            let i = p.info();
            assert_eq!(e.manifest.plugin.version, i.version, "{}", i.name);
            assert_eq!(e.manifest.plugin.description, i.description, "{}", i.name);
        }
        assert_eq!(names.len(), crate::builtin::names().len());
    }

    fn manifest(extra: &str) -> Manifest {
        let text = format!(
            "manifest_version = 1\n[plugin]\nname = \"odoo\"\nversion = \"1.0.0\"\nkind = \"builtin\"\ninterface = 1\n{extra}"
        );
        Manifest::parse(&text, Path::new("odoo.toml")).expect("manifest")
    }

    #[test]
    fn capabilities_must_be_granted() {
        let m =
            manifest("[capabilities]\nnetwork = [\"erp.example.ch:443\"]\nsecrets = [\"key\"]\n");
        let info = crate::PluginInfo::new("odoo", "1.0.0", "");
        let e = check_grant(&m, &info, &Grant::default(), None).expect_err("nothing granted");
        assert!(
            e.to_string()
                .contains("bexio-bi plugins enable odoo --allow-network erp.example.ch:443"),
            "{e}"
        );
        let g = Grant {
            network: vec!["erp.example.ch:443".into()],
            ..Grant::default()
        };
        let e = check_grant(&m, &info, &g, None).expect_err("no secret");
        assert!(e.to_string().contains("--allow-secret key"), "{e}");
        let g = Grant {
            network: vec!["erp.example.ch:443".into(), "other:1".into()],
            secrets: vec!["key".into()],
            memory_mb: Some(64),
            ..Grant::default()
        };
        let ok = check_grant(&m, &info, &g, None).expect("granted");
        assert_eq!(ok.network, vec!["erp.example.ch:443"]);
        assert_eq!(ok.limits.memory_bytes, 64 << 20);
    }
}
