//! `bexio-bi plugins`: the exporters bexio-bi can run, and running one on stored data.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use bexio_bi_export::dispatch::Dispatch;
use bexio_bi_export::manifest::{Kind, Manifest};
use bexio_bi_export::native::Native;
use bexio_bi_export::registry::{Entry, Origin, PluginsConfig, Registry};
use bexio_bi_export::wasm::Wasm;
use bexio_bi_export::{Batch, Limits, Linked, OpenRequest, TracingHost};
use bexio_bi_store::Store;
use clap::{Args as ClapArgs, Subcommand};

use super::UsageError;

/// Plugin commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The plugins available (built in, installed, on BEXIO_BI_PLUGIN_PATH) and whether each is
    /// enabled.
    List(ListArgs),
    /// Everything about one plugin: manifest, settings (its configuration schema), capabilities
    /// requested and granted.
    Info(InfoArgs),
    /// Checks a manifest (fields, interface version, the artifact's sha256) and loads its
    /// plugin, without running it.
    Check(CheckArgs),
    /// Enables a plugin for `bexio-bi export` and grants it what it asks for (plugins.toml).
    #[command(
        after_help = "Examples:\n  bexio-bi plugins enable parquet --config '{\"compression\": \"zstd\"}'\n  bexio-bi plugins enable odoo --allow-network erp.example.ch:443 --allow-secret odoo_key --out /srv/bi/odoo\n\nA plugin gets network access, secrets and an output directory outside --out only when granted here; the configuration is checked against the plugin's schema before it is saved."
    )]
    Enable(EnableArgs),
    /// Disables a plugin (its grants stay in plugins.toml).
    Disable(NameArgs),
    /// Installs a plugin (a `.wasm` component or a native library) into the user's plugin
    /// directory with a manifest pinning its sha256.
    Install(InstallArgs),
    /// Stores a secret for plugins (read from stdin, encrypted with the store's key); a plugin
    /// reads it only when granted with `plugins enable NAME --allow-secret SECRET`.
    Secret(SecretArgs),
    /// Runs one plugin on one table: a plugin's name, a manifest, a `.wasm` component or a
    /// native library. Reads the store, or a local sandbox company when nothing is stored.
    #[command(
        after_help = "Examples:\n  bexio-bi plugins run ./target/wasm32-wasip2/debug/hello.wasm --table invoices\n  bexio-bi plugins run csv --table fact_invoice --config '{\"excel\": true}' --out exports\n\nA WebAssembly plugin can write only into --out, has no network and no environment, and is stopped past its memory and time limits."
    )]
    Run(RunArgs),
}

/// Options of `plugins list`.
#[derive(Debug, ClapArgs)]
pub struct ListArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Options of `plugins info`.
#[derive(Debug, ClapArgs)]
pub struct InfoArgs {
    /// The plugin.
    pub name: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// A plugin's name.
#[derive(Debug, ClapArgs)]
pub struct NameArgs {
    /// The plugin.
    pub name: String,
}

/// Options of `plugins check`.
#[derive(Debug, ClapArgs)]
pub struct CheckArgs {
    /// The manifest (`.toml`).
    pub manifest: PathBuf,
}

/// Options of `plugins enable`.
#[derive(Debug, ClapArgs)]
pub struct EnableArgs {
    /// The plugin.
    pub name: String,
    /// Its configuration, as JSON (checked against its schema; replaces the one stored).
    #[arg(long)]
    pub config: Option<String>,
    /// The only directory it may write to (`{tenant}` becomes the company), instead of
    /// `<export --out>/<tenant>/<plugin>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Lets it reach this host:port (repeat for more).
    #[arg(long, value_name = "HOST:PORT")]
    pub allow_network: Vec<String>,
    /// Lets it read this secret (repeat for more; store it with `plugins secret`).
    #[arg(long, value_name = "SECRET")]
    pub allow_secret: Vec<String>,
    /// Memory limit of a WebAssembly plugin, MB.
    #[arg(long)]
    pub memory_mb: Option<u64>,
    /// Time limit of one call into the plugin, seconds.
    #[arg(long)]
    pub timeout_s: Option<u64>,
}

/// Options of `plugins install`.
#[derive(Debug, ClapArgs)]
pub struct InstallArgs {
    /// The `.wasm` component or native library (`.so`, `.dylib`, `.dll`).
    pub artifact: PathBuf,
    /// Replace an installed plugin of the same name.
    #[arg(long)]
    pub force: bool,
}

/// Options of `plugins secret`.
#[derive(Debug, ClapArgs)]
pub struct SecretArgs {
    /// The secret's name (letters, digits, `_`, `-`).
    pub name: String,
    /// Remove it instead.
    #[arg(long)]
    pub remove: bool,
}

/// Options of `plugins run`.
#[derive(Debug, ClapArgs)]
pub struct RunArgs {
    /// A built-in plugin's name, a manifest, a `.wasm` component or a native library.
    pub plugin: String,
    /// The table to export (`invoices` is short for `fact_invoice`, `contacts` for
    /// `dim_contact`…).
    #[arg(long, default_value = "fact_invoice")]
    pub table: String,
    /// Where the plugin writes.
    #[arg(long, default_value = "exports")]
    pub out: PathBuf,
    /// The plugin's configuration, as JSON.
    #[arg(long, default_value = "{}")]
    pub config: String,
    /// The company (default: the first stored).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Memory limit of a WebAssembly plugin, MB.
    #[arg(long, default_value_t = 512)]
    pub memory_mb: u64,
    /// Time limit of one call into the plugin, seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_s: u64,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Compiled components are cached here.
pub(super) fn cache_dir() -> anyhow::Result<PathBuf> {
    Ok(crate::home::data_dir()?.join("cache").join("wasm"))
}

/// The user's plugin directory (`plugins install` puts plugins there).
fn user_dir() -> anyhow::Result<PathBuf> {
    Ok(crate::home::data_dir()?.join("plugins"))
}

/// The operator's grants.
pub(super) fn plugins_toml() -> anyhow::Result<PathBuf> {
    Ok(crate::home::data_dir()?.join("plugins.toml"))
}

/// Where manifests are looked for, first match wins: `BEXIO_BI_PLUGIN_PATH` (`:`-separated),
/// the user's plugin directory, then the manifests shipped with bexio-bi.
pub(super) fn registry() -> anyhow::Result<Registry> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("BEXIO_BI_PLUGIN_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(user_dir()?);
    Ok(Registry::discover(&dirs))
}

/// The plugin of a manifest, loaded with the network hosts granted to it.
pub(super) fn load(entry: &Entry, network: &[String]) -> anyhow::Result<Arc<dyn Linked>> {
    let cache = cache_dir()?;
    if entry.manifest.plugin.kind == Kind::Wasm && !network.is_empty() {
        let path = entry.manifest.verify_artifact()?;
        let mut w = Wasm::load(&path, Some(&cache))?;
        w.grant_network(network.to_vec());
        return Ok(Arc::new(w));
    }
    Ok(entry.load(Some(&cache))?)
}

/// A plugin by name, manifest or artifact path.
fn resolve(what: &str) -> anyhow::Result<Arc<dyn Linked>> {
    let path = Path::new(what);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if path.exists() {
        return Ok(match ext {
            "toml" => {
                let m = Manifest::load(path)?;
                load(
                    &Entry {
                        manifest: m,
                        origin: bexio_bi_export::registry::Origin::Dir(PathBuf::new()),
                        shadows: Vec::new(),
                    },
                    &[],
                )?
            }
            "wasm" => Arc::new(Wasm::load(path, Some(&cache_dir()?))?),
            "so" | "dylib" | "dll" => Arc::new(Native::load(path)?),
            _ => {
                return Err(UsageError(format!(
                    "{what}: not a manifest (.toml), a component (.wasm) or a native library (.so, .dylib, .dll)"
                ))
                .into());
            }
        });
    }
    let registry = registry()?;
    match registry.get(what) {
        Ok(entry) => load(entry, &[]),
        Err(e) => Err(UsageError(format!("no plugin or file {what:?}: {e}")).into()),
    }
}

/// The stored table called `name`, or what it is short for.
pub(super) fn table_name(name: &str, available: &[String]) -> Option<String> {
    if available.iter().any(|t| t == name) {
        return Some(name.to_owned());
    }
    let singular = name.strip_suffix('s').unwrap_or(name);
    ["fact_", "dim_"]
        .iter()
        .map(|p| format!("{p}{singular}"))
        .find(|t| available.contains(t))
}

/// Runs a plugin command.
pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::List(args) => tokio::task::spawn_blocking(move || list(args)).await?,
        Command::Info(args) => tokio::task::spawn_blocking(move || info(args)).await?,
        Command::Check(args) => tokio::task::spawn_blocking(move || check(args)).await?,
        Command::Enable(args) => tokio::task::spawn_blocking(move || enable(args)).await?,
        Command::Disable(args) => edit_grant(&args.name, |t| {
            t["enabled"] = toml_edit::value(false);
            Ok(())
        })
        .map(|()| println!("{} disabled", args.name)),
        Command::Install(args) => tokio::task::spawn_blocking(move || install(args)).await?,
        Command::Secret(args) => secret(args),
        Command::Run(args) => run_one(args).await,
    }
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let m = Manifest::load(&args.manifest)?;
    let entry = Entry {
        manifest: m,
        origin: Origin::Dir(PathBuf::new()),
        shadows: Vec::new(),
    };
    let linked = load(&entry, &[])?;
    let i = linked.info();
    let m = &entry.manifest;
    println!(
        "{}: {} {} ({}), interface {}, {}loads",
        args.manifest.display(),
        i.name,
        i.version,
        m.plugin.kind.as_str(),
        m.plugin.interface,
        if m.artifact.is_some() {
            "checksum matches, "
        } else {
            ""
        }
    );
    Ok(())
}

fn origin(e: &Entry) -> String {
    match &e.origin {
        Origin::Shipped => "shipped".into(),
        Origin::Dir(_) => e.manifest.path.display().to_string(),
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let registry = registry()?;
    let grants = PluginsConfig::load(&plugins_toml()?)?;
    let rows: Vec<serde_json::Value> = registry
        .entries
        .iter()
        .map(|e| {
            let m = &e.manifest.plugin;
            serde_json::json!({
                "name": m.name, "version": m.version, "kind": m.kind.as_str(),
                "enabled": grants.grant(&m.name).enabled,
                "description": m.description, "manifest": origin(e),
                "shadows": e.shadows,
            })
        })
        .collect();
    let broken: Vec<String> = registry.broken.iter().map(|e| e.to_string()).collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"plugins": rows, "errors": broken}))?
        );
        return Ok(());
    }
    println!(
        "{:<16} {:<9} {:<8} {:<8} DESCRIPTION",
        "NAME", "VERSION", "KIND", "ENABLED"
    );
    for (r, e) in rows.iter().zip(&registry.entries) {
        println!(
            "{:<16} {:<9} {:<8} {:<8} {}",
            r["name"].as_str().unwrap_or(""),
            r["version"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or(""),
            if r["enabled"] == true { "yes" } else { "no" },
            r["description"].as_str().unwrap_or("")
        );
        for s in &e.shadows {
            println!("{:<16} (hides {})", "", s.display());
        }
    }
    for e in &broken {
        eprintln!("warning: {e}");
    }
    Ok(())
}

fn info(args: InfoArgs) -> anyhow::Result<()> {
    let registry = registry()?;
    let entry = registry
        .get(&args.name)
        .map_err(|e| UsageError(e.to_string()))?;
    let grant = PluginsConfig::load(&plugins_toml()?)?.grant(&args.name);
    let linked = load(entry, &[])?;
    let i = linked.info();
    let m = &entry.manifest;
    let schema: serde_json::Value =
        serde_json::from_str(&i.config_schema).unwrap_or(serde_json::Value::Null);
    let limits = m.limits();
    if args.json {
        let out = serde_json::json!({
            "name": i.name, "version": i.version, "description": i.description,
            "kind": m.plugin.kind.as_str(), "interface": m.plugin.interface,
            "manifest": origin(entry), "artifact": m.artifact_path(),
            "sha256": m.artifact.as_ref().map(|a| a.sha256.clone()),
            "tables": m.tables.accept, "config_schema": schema,
            "requested": {"files": m.capabilities.files, "network": m.capabilities.network, "secrets": m.capabilities.secrets},
            "granted": {"enabled": grant.enabled, "out": grant.out, "network": grant.network, "secrets": grant.secrets, "config": grant.config},
            "limits": {"memory_mb": limits.memory_bytes >> 20, "call_timeout_s": limits.call_timeout.as_secs()},
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("{} {} ({})", i.name, i.version, m.plugin.kind.as_str());
    println!("  {}", i.description);
    println!("manifest:    {}", origin(entry));
    if let (Some(p), Some(a)) = (m.artifact_path(), &m.artifact) {
        println!(
            "artifact:    {} (sha256 {}, checked)",
            p.display(),
            a.sha256
        );
    }
    println!("interface:   {}", m.plugin.interface);
    println!("tables:      {}", m.tables.accept.join(", "));
    println!(
        "limits:      {} MB memory, {} s per call",
        limits.memory_bytes >> 20,
        limits.call_timeout.as_secs()
    );
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    println!(
        "requests:    files: {}; network: {}; secrets: {}",
        if m.capabilities.files { "yes" } else { "no" },
        list(&m.capabilities.network),
        list(&m.capabilities.secrets)
    );
    println!(
        "granted:     {}; network: {}; secrets: {}{}",
        if grant.enabled {
            "enabled"
        } else {
            "not enabled"
        },
        list(&grant.network),
        list(&grant.secrets),
        grant
            .out
            .as_ref()
            .map(|o| format!("; writes to {}", o.display()))
            .unwrap_or_default()
    );
    if let Some(c) = &grant.config {
        println!("config:      {}", serde_json::to_string(c)?);
    }
    if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
        println!("settings:");
        for (k, v) in props {
            let ty = v
                .get("enum")
                .map(|e| {
                    e.as_array()
                        .map(|a| {
                            a.iter()
                                .map(|x| x.to_string())
                                .collect::<Vec<_>>()
                                .join("|")
                        })
                        .unwrap_or_default()
                })
                .or_else(|| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default();
            println!(
                "  {k:<16} {ty:<24} {}",
                v.get("description").and_then(|d| d.as_str()).unwrap_or("")
            );
        }
    }
    for s in &entry.shadows {
        println!("hides:       {}", s.display());
    }
    Ok(())
}

/// Changes `[plugins.NAME]` of plugins.toml, keeping the rest of the file (comments too).
fn edit_grant(
    name: &str,
    change: impl FnOnce(&mut toml_edit::Table) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let path = plugins_toml()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML; fix or delete it", path.display()))?;
    let plugins = doc
        .entry("plugins")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .with_context(|| format!("{}: `plugins` must be a table", path.display()))?;
    let t = plugins
        .entry(name)
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
        .as_table_mut()
        .with_context(|| format!("{}: `plugins.{name}` must be a table", path.display()))?;
    change(t)?;
    let out = doc.to_string();
    // What we write must read back.
    toml::from_str::<PluginsConfig>(&out).with_context(|| format!("{}", path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, out).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn string_array(v: &[String]) -> toml_edit::Item {
    let mut a = toml_edit::Array::new();
    for s in v {
        a.push(s.as_str());
    }
    toml_edit::value(a)
}

fn enable(args: EnableArgs) -> anyhow::Result<()> {
    let registry = registry()?;
    let entry = registry
        .get(&args.name)
        .map_err(|e| UsageError(e.to_string()))?;
    let linked = load(entry, &[])?;
    let mut grant = PluginsConfig::load(&plugins_toml()?)?.grant(&args.name);
    let config: Option<serde_json::Value> = match &args.config {
        Some(c) => Some(
            serde_json::from_str(c)
                .map_err(|e| UsageError(format!("--config is not JSON: {e}")))?,
        ),
        None => None,
    };
    for h in &args.allow_network {
        if !h
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        {
            return Err(UsageError(format!("--allow-network {h:?}: write host:port")).into());
        }
        if !grant.network.contains(h) {
            grant.network.push(h.clone());
        }
    }
    for s in &args.allow_secret {
        if !grant.secrets.contains(s) {
            grant.secrets.push(s.clone());
        }
    }
    let checked = bexio_bi_export::registry::check_grant(
        &entry.manifest,
        linked.info(),
        &grant,
        config.clone(),
    );
    match checked {
        Err(e @ bexio_bi_export::ExportError::Config { .. }) => {
            return Err(UsageError(e.to_string()).into());
        }
        Err(e) => eprintln!("warning: {e}"),
        Ok(_) => {}
    }
    edit_grant(&args.name, |t| {
        t["enabled"] = toml_edit::value(true);
        if let Some(c) = &config {
            let as_toml: toml::Value = serde_json::from_value(c.clone())
                .map_err(|e| UsageError(format!("--config cannot be stored as TOML: {e}")))?;
            let text = format!("config = {as_toml}");
            let doc: toml_edit::DocumentMut = text
                .parse()
                .map_err(|e| UsageError(format!("--config cannot be stored as TOML: {e}")))?;
            if let Some(v) = doc.get("config") {
                t["config"] = v.clone();
            }
        }
        if let Some(o) = &args.out {
            t["out"] = toml_edit::value(o.display().to_string());
        }
        if !grant.network.is_empty() {
            t["network"] = string_array(&grant.network);
        }
        if !grant.secrets.is_empty() {
            t["secrets"] = string_array(&grant.secrets);
        }
        if let Some(mb) = args.memory_mb {
            t["memory_mb"] = toml_edit::value(mb as i64);
        }
        if let Some(s) = args.timeout_s {
            t["call_timeout_s"] = toml_edit::value(s as i64);
        }
        Ok(())
    })?;
    println!(
        "{} enabled in {}; `bexio-bi export` runs it",
        args.name,
        plugins_toml()?.display()
    );
    Ok(())
}

fn install(args: InstallArgs) -> anyhow::Result<()> {
    let ext = args
        .artifact
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let (linked, kind): (Arc<dyn Linked>, Kind) = match ext {
        "wasm" => (
            Arc::new(Wasm::load(&args.artifact, Some(&cache_dir()?))?),
            Kind::Wasm,
        ),
        "so" | "dylib" | "dll" => (Arc::new(Native::load(&args.artifact)?), Kind::Native),
        _ => {
            return Err(UsageError(format!(
                "{}: a plugin is a component (.wasm) or a native library (.so, .dylib, .dll)",
                args.artifact.display()
            ))
            .into());
        }
    };
    let i = linked.info().clone();
    let dir = user_dir()?.join(&i.name);
    let manifest_path = dir.join(format!("{}.toml", i.name));
    if manifest_path.exists() && !args.force {
        return Err(UsageError(format!(
            "{} is installed already ({}); --force replaces it",
            i.name,
            manifest_path.display()
        ))
        .into());
    }
    let bytes = std::fs::read(&args.artifact)
        .with_context(|| format!("cannot read {}", args.artifact.display()))?;
    let file_name = format!("{}.{ext}", i.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(&file_name), &bytes)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut caps = toml::Table::new();
    caps.insert(
        "files".into(),
        toml::Value::Boolean(
            i.capabilities.iter().any(|c| c == "files") || i.capabilities.is_empty(),
        ),
    );
    let mut doc = toml::Table::new();
    doc.insert("manifest_version".into(), 1.into());
    let mut plugin = toml::Table::new();
    plugin.insert("name".into(), i.name.clone().into());
    plugin.insert("version".into(), i.version.clone().into());
    plugin.insert("description".into(), i.description.clone().into());
    plugin.insert("kind".into(), kind.as_str().into());
    plugin.insert(
        "interface".into(),
        i64::from(bexio_bi_export::manifest::INTERFACE).into(),
    );
    doc.insert("plugin".into(), plugin.into());
    let mut artifact = toml::Table::new();
    artifact.insert("path".into(), file_name.clone().into());
    artifact.insert("sha256".into(), sha.clone().into());
    doc.insert("artifact".into(), artifact.into());
    let mut tables = toml::Table::new();
    let accept: Vec<toml::Value> = if i.tables.is_empty() {
        vec!["*".into()]
    } else {
        i.tables.iter().map(|t| t.clone().into()).collect()
    };
    tables.insert("accept".into(), accept.into());
    doc.insert("tables".into(), tables.into());
    doc.insert("capabilities".into(), caps.into());
    let text = format!(
        "# Installed by `bexio-bi plugins install {}`; the sha256 pins the file installed.\n{}",
        args.artifact.display(),
        toml::to_string(&doc)?
    );
    // The manifest we write must pass the checks any manifest passes.
    Manifest::parse(&text, &manifest_path)?;
    std::fs::write(&manifest_path, text)
        .with_context(|| format!("cannot write {}", manifest_path.display()))?;
    println!(
        "installed {} {} ({}) into {} (sha256 {sha}); `bexio-bi plugins enable {}` runs it on every export",
        i.name,
        i.version,
        kind.as_str(),
        dir.display(),
        i.name
    );
    Ok(())
}

fn secret(args: SecretArgs) -> anyhow::Result<()> {
    let name_ok = !args.name.is_empty()
        && args
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !name_ok {
        return Err(UsageError(format!(
            "secret name {:?}: letters, digits, '_' and '-' only",
            args.name
        ))
        .into());
    }
    let home = crate::home::data_dir()?;
    let keys = crate::unlock::keyring()?;
    if args.remove {
        crate::config::Secrets::update(&home, keys, |s| {
            s.plugins.remove(&args.name);
        })?;
        println!("secret {} removed", args.name);
        return Ok(());
    }
    let mut value = String::new();
    std::io::stdin()
        .read_to_string(&mut value)
        .context("cannot read the secret from stdin")?;
    let value = value.trim_end_matches(['\r', '\n']).to_owned();
    if value.is_empty() {
        return Err(UsageError(
            "no secret on stdin (pipe it in: `… | bexio-bi plugins secret NAME`)".into(),
        )
        .into());
    }
    crate::config::Secrets::update(&home, keys, |s| {
        s.plugins.insert(args.name.clone(), value);
    })?;
    println!(
        "secret {} stored (encrypted); grant it with `bexio-bi plugins enable PLUGIN --allow-secret {}`",
        args.name, args.name
    );
    Ok(())
}

/// A store to read: the user's, or a fresh local sandbox company synced into a temporary one.
async fn source(tenant: Option<&String>) -> anyhow::Result<(Store, String, Option<tempdir::Dir>)> {
    let home = crate::home::data_dir()?;
    let root = crate::unlock::store_dir(&home);
    if Store::is_encrypted_at(&root) {
        let store = crate::unlock::store()?;
        let tenants = super::tables::tenants(&store, tenant)?;
        return Ok((store, tenants[0].clone(), None));
    }
    eprintln!("Nothing stored yet: syncing a local sandbox company to run the plugin on…");
    let dir = tempdir::Dir::new("plugins-run")?;
    let sandbox = bexio_bi_sandbox::Sandbox::start(
        bexio_bi_sandbox::SandboxConfig {
            companies: 1,
            invoices: 200,
            time_scale: 600.0,
            ..bexio_bi_sandbox::SandboxConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await
    .context("cannot start the sandbox")?;
    let t = sandbox.ready().tenants[0].clone();
    // Synthetic data, but stored like any other: encrypted, under a throwaway password.
    let store = Store::open_encrypted(dir.path().join("data"), &uuid::Uuid::new_v4().to_string())?;
    let client = bexio::client::Client::new(
        sandbox.url(),
        &t.company_id,
        &t.token,
        bexio::client::RetryPolicy::default(),
    )?;
    bexio_bi_sync::sync(
        &t.company_id,
        &client,
        &store,
        bexio_bi_sync::Options::default(),
        crate::progress::Bars::for_terminal(true),
    )
    .await
    .context("syncing the sandbox company failed")?;
    Ok((store, t.company_id, Some(dir)))
}

/// A temporary directory removed on drop.
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(tag: &str) -> std::io::Result<Dir> {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let p =
                std::env::temp_dir().join(format!("bexio-bi-{tag}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&p)?;
            Ok(Dir(p))
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn run_one(args: RunArgs) -> anyhow::Result<()> {
    let config: serde_json::Value = serde_json::from_str(&args.config)
        .map_err(|e| UsageError(format!("--config is not JSON: {e}")))?;
    let what = args.plugin.clone();
    let plugin = tokio::task::spawn_blocking(move || resolve(&what)).await??;
    let (store, tenant, _tmp) = source(args.tenant.as_ref()).await?;
    let snap = store
        .latest(&tenant)?
        .with_context(|| format!("no version stored for {tenant}"))?;
    let available: Vec<String> = snap
        .manifest()
        .tables
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let table = table_name(&args.table, &available).ok_or_else(|| {
        UsageError(format!(
            "no table {:?} (stored: {})",
            args.table,
            available.join(", ")
        ))
    })?;
    let mut batches = snap.read(&table)?.peekable();
    let schema = match batches.peek() {
        Some(Ok(b)) => b.schema(),
        Some(Err(_)) | None => Arc::new(arrow_schema::Schema::empty()),
    };
    let request = OpenRequest {
        config,
        tables: vec![(table.clone(), schema)],
        out_dir: args.out.clone(),
        host: Arc::new(TracingHost::new(&plugin.info().name)),
        limits: Limits {
            memory_bytes: args.memory_mb << 20,
            call_timeout: std::time::Duration::from_secs(args.timeout_s),
        },
    };
    // wasmtime's WASI runs its own blocking runtime: the export runs off the async one.
    let name = plugin.info().name.clone();
    let export_table = table.clone();
    let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let session = plugin.open(&request)?;
        let mut dispatch = Dispatch::start(vec![(plugin.info().name.clone(), session)]);
        for b in batches {
            if dispatch.send(Batch::new(&export_table, b?)) == 0 {
                break;
            }
        }
        Ok((dispatch.finish().remove(0), plugin.kind()))
    })
    .await??;
    let (outcome, kind) = outcome;
    let summary = outcome.result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!(
        "{name} ({kind}) wrote {} rows of {table} into {} in {:.2} s: {}",
        summary.total_rows(),
        args.out.display(),
        outcome.seconds,
        if summary.files.is_empty() {
            "no files".to_owned()
        } else {
            summary.files.join(", ")
        }
    );
    for n in &summary.notes {
        println!("  {n}");
    }
    Ok(())
}
