//! Plugin manifests: one TOML file per plugin, read and checked before anything is loaded.
//!
//! ```toml
//! manifest_version = 1
//!
//! [plugin]
//! name = "csv"
//! version = "1.0.0"
//! description = "CSV files, one per table"
//! kind = "wasm"            # builtin | native | wasm
//! interface = 1            # the plugin interface (WIT bexio-bi:exporter@1, native ABI 1)
//!
//! [artifact]               # native and wasm: the file, beside this manifest, and its sha256
//! path = "csv.wasm"
//! sha256 = "…64 hex digits…"
//!
//! [tables]
//! accept = ["*"]           # or a list of table names
//!
//! [capabilities]           # requested; the operator grants them in plugins.toml
//! files = true
//! network = []             # host:port
//! secrets = []             # names
//!
//! [limits]
//! memory_mb = 256
//! call_timeout_s = 300
//! ```
//!
//! Every error names the file, the line and the field.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ExportError;

/// The plugin interface this host implements.
pub const INTERFACE: u32 = bexio_bi_plugin_sdk::INTERFACE_VERSION;

/// How a plugin is linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Compiled into bexio-bi.
    Builtin,
    /// A shared library with the native ABI.
    Native,
    /// A WebAssembly component.
    Wasm,
}

impl Kind {
    /// As written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Builtin => "builtin",
            Kind::Native => "native",
            Kind::Wasm => "wasm",
        }
    }
}

/// A checked manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format of this file (1).
    pub manifest_version: u32,
    /// What the plugin is.
    pub plugin: PluginSection,
    /// The file to load (native, wasm).
    #[serde(default)]
    pub artifact: Option<Artifact>,
    /// Tables accepted.
    #[serde(default)]
    pub tables: Tables,
    /// The configuration's JSON Schema, when the manifest states it.
    #[serde(default)]
    pub config: Option<ConfigSection>,
    /// Capabilities requested.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Limits asked for.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Where this manifest was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[plugin]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSection {
    /// Unique name.
    pub name: String,
    /// Semantic version.
    pub version: String,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// Linkage.
    pub kind: Kind,
    /// Plugin interface version.
    pub interface: u32,
}

/// `[artifact]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// The file, relative to the manifest.
    pub path: PathBuf,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
}

/// `[tables]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    /// Names, or `*` for all.
    pub accept: Vec<String>,
}

impl Default for Tables {
    fn default() -> Tables {
        Tables {
            accept: vec!["*".into()],
        }
    }
}

impl Tables {
    /// Whether `table` is accepted.
    pub fn accepts(&self, table: &str) -> bool {
        self.accept.iter().any(|t| t == "*" || t == table)
    }
}

/// `[config]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSection {
    /// JSON Schema, written as TOML.
    pub schema: toml::Table,
}

/// `[capabilities]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Writes files into its output directory.
    #[serde(default = "yes")]
    pub files: bool,
    /// `host:port`s it wants to reach.
    #[serde(default)]
    pub network: Vec<String>,
    /// Secrets it wants, by name.
    #[serde(default)]
    pub secrets: Vec<String>,
}

fn yes() -> bool {
    true
}

/// `[limits]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Memory (WebAssembly), MB.
    pub memory_mb: Option<u64>,
    /// Time per call, seconds.
    pub call_timeout_s: Option<u64>,
}

/// The line of `key` in `[section]` (1-based), for messages.
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(s) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = s.trim().to_owned();
            continue;
        }
        let k = t.split('=').next().unwrap_or("").trim();
        if current == section && k == key {
            return Some(i + 1);
        }
    }
    None
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ExportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExportError::Io {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(&text, path)
    }

    /// Checks the manifest `text` (read from `path`).
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ExportError> {
        let err = |line: Option<usize>, message: String| ExportError::Manifest {
            path: path.to_owned(),
            line,
            message,
        };
        let mut m: Manifest = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            err(line, e.message().trim().to_owned())
        })?;
        m.path = path.to_owned();
        if m.manifest_version != 1 {
            return Err(err(
                line_of(text, "", "manifest_version"),
                format!(
                    "manifest_version {} is not known to this bexio-bi (it reads 1)",
                    m.manifest_version
                ),
            ));
        }
        let p = &m.plugin;
        let name_ok = !p.name.is_empty()
            && p.name.len() <= 64
            && p.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.name.starts_with('-');
        if !name_ok {
            return Err(err(
                line_of(text, "plugin", "name"),
                format!(
                    "plugin.name {:?} must be lower-case letters, digits and '-' (at most 64)",
                    p.name
                ),
            ));
        }
        let parts: Vec<&str> = p.version.split(['.', '-', '+']).collect();
        if parts.len() < 3 || parts[..3].iter().any(|n| n.parse::<u64>().is_err()) {
            return Err(err(
                line_of(text, "plugin", "version"),
                format!(
                    "plugin.version {:?} is not a semantic version like 1.2.3",
                    p.version
                ),
            ));
        }
        if p.interface != INTERFACE {
            return Err(ExportError::Refused {
                plugin: p.name.clone(),
                message: format!(
                    "{}:{}: it is built for plugin interface {}, this bexio-bi implements {INTERFACE}: install a version of {} built against bexio-bi-plugin-sdk {INTERFACE}.x",
                    path.display(),
                    line_of(text, "plugin", "interface").unwrap_or(0),
                    p.interface,
                    p.name
                ),
            });
        }
        match (p.kind, &m.artifact) {
            (Kind::Builtin, Some(_)) => {
                return Err(err(
                    line_of(text, "artifact", "path"),
                    "a builtin plugin has no [artifact]".into(),
                ));
            }
            (Kind::Native | Kind::Wasm, None) => {
                return Err(err(
                    None,
                    format!(
                        "a {} plugin needs [artifact] with path and sha256",
                        p.kind.as_str()
                    ),
                ));
            }
            (_, Some(a)) => {
                if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err(
                        line_of(text, "artifact", "sha256"),
                        "artifact.sha256 must be 64 hex digits (`sha256sum` of the artifact)"
                            .into(),
                    ));
                }
                if a.path.is_absolute() || a.path.components().any(|c| c.as_os_str() == "..") {
                    return Err(err(
                        line_of(text, "artifact", "path"),
                        "artifact.path must be a file beside the manifest (relative, no '..')"
                            .into(),
                    ));
                }
            }
            (Kind::Builtin, None) => {}
        }
        if m.tables.accept.is_empty() {
            return Err(err(
                line_of(text, "tables", "accept"),
                "tables.accept is empty: list tables, or [\"*\"] for all".into(),
            ));
        }
        for h in &m.capabilities.network {
            let ok = h
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !ok {
                return Err(err(
                    line_of(text, "capabilities", "network"),
                    format!("capabilities.network {h:?} must be host:port"),
                ));
            }
        }
        Ok(m)
    }

    /// The artifact's full path.
    pub fn artifact_path(&self) -> Option<PathBuf> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        self.artifact.as_ref().map(|a| dir.join(&a.path))
    }

    /// Checks the artifact against its sha256; returns its path.
    pub fn verify_artifact(&self) -> Result<PathBuf, ExportError> {
        let (Some(path), Some(a)) = (self.artifact_path(), &self.artifact) else {
            return Err(ExportError::Refused {
                plugin: self.plugin.name.clone(),
                message: "it has no artifact".into(),
            });
        };
        let bytes = std::fs::read(&path).map_err(|source| ExportError::Io {
            path: path.clone(),
            source,
        })?;
        let found = crate::sha256_hex(&bytes);
        if !found.eq_ignore_ascii_case(&a.sha256) {
            return Err(ExportError::Refused {
                plugin: self.plugin.name.clone(),
                message: format!(
                    "{} does not match the sha256 in {} (expected {}, found {found}): the file was changed or replaced; reinstall the plugin from its publisher",
                    path.display(),
                    self.path.display(),
                    a.sha256
                ),
            });
        }
        Ok(path)
    }

    /// The limits asked for, within the host's defaults.
    pub fn limits(&self) -> crate::Limits {
        let mut l = crate::Limits::default();
        if let Some(mb) = self.limits.memory_mb {
            l.memory_bytes = mb.clamp(16, 4096) << 20;
        }
        if let Some(s) = self.limits.call_timeout_s {
            l.call_timeout = std::time::Duration::from_secs(s.clamp(1, 24 * 3600));
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"manifest_version = 1

[plugin]
name = "csv"
version = "1.0.0"
kind = "wasm"
interface = 1

[artifact]
path = "csv.wasm"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
"#;

    fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse(text, Path::new("/p/csv.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_manifest_reads() {
        let m = parse(GOOD).expect("good");
        assert_eq!(m.plugin.kind, Kind::Wasm);
        assert!(m.tables.accepts("fact_invoice"));
        assert_eq!(m.artifact_path(), Some(PathBuf::from("/p/csv.wasm")));
        assert_eq!(m.limits(), crate::Limits::default());
    }

    #[test]
    fn mistakes_name_the_file_line_and_field() {
        for (change, needle) in [
            (
                ("version = \"1.0.0\"", "version = \"one\""),
                "/p/csv.toml:5: plugin.version",
            ),
            (
                ("name = \"csv\"", "name = \"CSV!\""),
                "/p/csv.toml:4: plugin.name",
            ),
            (
                ("kind = \"wasm\"", "kind = \"python\""),
                "/p/csv.toml:6: unknown variant `python`",
            ),
            (
                ("sha256 = \"0000", "sha256 = \"zz00"),
                "/p/csv.toml:11: artifact.sha256",
            ),
            (
                ("path = \"csv.wasm\"", "path = \"../../etc/x.wasm\""),
                ":10: artifact.path",
            ),
            (
                ("interface = 1", "interface = 1\ncolour = \"blue\""),
                "unknown field `colour`",
            ),
            (
                ("interface = 1", "interface = 2"),
                "csv refused: /p/csv.toml:7: it is built for plugin interface 2",
            ),
            (("[artifact]", "[artifact"), "/p/csv.toml:9"),
        ] {
            let text = GOOD.replacen(change.0, change.1, 1);
            let e = parse(&text).expect_err(change.1);
            assert!(e.contains(needle), "{}: {e}", change.1);
        }
        let e =
            parse(&GOOD[..GOOD.find("[artifact]").expect("artifact")]).expect_err("no artifact");
        assert!(e.contains("needs [artifact]"), "{e}");
    }
}
