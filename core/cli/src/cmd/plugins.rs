//! `bexio-bi plugins`: the exporters bexio-bi can run, and running one on stored data.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use bexio_bi_export::dispatch::Dispatch;
use bexio_bi_export::manifest::{Kind, Manifest};
use bexio_bi_export::native::Native;
use bexio_bi_export::wasm::Wasm;
use bexio_bi_export::{Batch, Limits, Linked, OpenRequest, TracingHost};
use bexio_bi_store::Store;
use clap::{Args as ClapArgs, Subcommand};

use super::UsageError;

/// Plugin commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The plugins available: built in, and those whose manifests are on the search path.
    List(ListArgs),
    /// Checks a manifest (fields, interface version, the artifact's sha256) and loads its
    /// plugin, without running it.
    Check(CheckArgs),
    /// Runs one plugin on one table: a built-in name, a manifest, a `.wasm` component or a
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

/// Options of `plugins check`.
#[derive(Debug, ClapArgs)]
pub struct CheckArgs {
    /// The manifest (`.toml`).
    pub manifest: PathBuf,
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
fn cache_dir() -> anyhow::Result<PathBuf> {
    Ok(crate::home::data_dir()?.join("cache").join("wasm"))
}

/// Where manifests are looked for: `BEXIO_BI_PLUGIN_PATH` (`:`-separated), then the user's
/// plugin directory.
fn search_path() -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("BEXIO_BI_PLUGIN_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(crate::home::data_dir()?.join("plugins"));
    Ok(dirs)
}

/// Every manifest on the search path (one level of folders deep), with what is wrong with those
/// that do not read.
fn manifests() -> anyhow::Result<(Vec<Manifest>, Vec<String>)> {
    let mut found = Vec::new();
    let mut broken = Vec::new();
    for dir in search_path()? {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
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
        files.sort();
        for f in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "toml"))
        {
            match Manifest::load(&f) {
                Ok(m) => found.push(m),
                Err(e) => broken.push(e.to_string()),
            }
        }
    }
    Ok((found, broken))
}

/// Loads the plugin a manifest describes (its checksum checked first).
pub fn load_manifest(m: &Manifest) -> anyhow::Result<Arc<dyn Linked>> {
    let linked: Arc<dyn Linked> = match m.plugin.kind {
        Kind::Builtin => bexio_bi_export::builtin::find(&m.plugin.name).with_context(|| {
            format!(
                "{}: no plugin {:?} is built into this bexio-bi",
                m.path.display(),
                m.plugin.name
            )
        })?,
        Kind::Native => Arc::new(Native::load(&m.verify_artifact()?)?),
        Kind::Wasm => Arc::new(Wasm::load(&m.verify_artifact()?, Some(&cache_dir()?))?),
    };
    if linked.info().name != m.plugin.name {
        anyhow::bail!(
            "{}: the manifest names {:?} but the artifact says it is {:?}",
            m.path.display(),
            m.plugin.name,
            linked.info().name
        );
    }
    Ok(linked)
}

/// A plugin by name, manifest or artifact path.
fn resolve(what: &str) -> anyhow::Result<Arc<dyn Linked>> {
    let path = Path::new(what);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if path.exists() {
        return Ok(match ext {
            "toml" => load_manifest(&Manifest::load(path)?)?,
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
    if let Some(b) = bexio_bi_export::builtin::find(what) {
        return Ok(b);
    }
    let (found, _) = manifests()?;
    if let Some(m) = found.iter().find(|m| m.plugin.name == what) {
        return load_manifest(m);
    }
    let mut known: Vec<String> = bexio_bi_export::builtin::all()
        .iter()
        .map(|p| p.info().name.clone())
        .collect();
    known.extend(found.iter().map(|m| m.plugin.name.clone()));
    Err(UsageError(format!(
        "no plugin or file {what:?} (known: {})",
        known.join(", ")
    ))
    .into())
}

/// The stored table called `name`, or what it is short for.
fn table_name(name: &str, available: &[String]) -> Option<String> {
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
        Command::List(args) => list(args),
        Command::Check(args) => {
            let m = Manifest::load(&args.manifest)?;
            let linked = load_manifest(&m)?;
            let i = linked.info();
            println!(
                "{}: {} {} ({}), interface {}, checksum matches, loads",
                args.manifest.display(),
                i.name,
                i.version,
                m.plugin.kind.as_str(),
                m.plugin.interface
            );
            Ok(())
        }
        Command::Run(args) => run_one(args).await,
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for b in bexio_bi_export::builtin::all() {
        let i = b.info();
        rows.push(serde_json::json!({
            "name": i.name, "version": i.version, "kind": "builtin",
            "description": i.description, "manifest": null,
        }));
    }
    let (found, broken) = manifests()?;
    for m in &found {
        rows.push(serde_json::json!({
            "name": m.plugin.name, "version": m.plugin.version, "kind": m.plugin.kind.as_str(),
            "description": m.plugin.description, "manifest": m.path.display().to_string(),
        }));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"plugins": rows, "errors": broken}))?
        );
        return Ok(());
    }
    for r in &rows {
        println!(
            "{:<16} {:<9} {:<8} {}",
            r["name"].as_str().unwrap_or(""),
            r["version"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or(""),
            r["description"].as_str().unwrap_or("")
        );
    }
    for e in &broken {
        eprintln!("warning: {e}");
    }
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
        host: Arc::new(TracingHost {
            plugin: plugin.info().name.clone(),
        }),
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
