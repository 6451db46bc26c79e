//! `bexio-bi backup`: copies of the store elsewhere, incremental, verified, with retention.

use bexio_bi_store::backup::{self, Target};
use clap::{Args as ClapArgs, Subcommand};

use super::tables::store;
use crate::config::Config;

/// Backup commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Backs every company's versions up now (only chunks the target lacks are copied).
    Create(Opts),
    /// The backups in the target.
    List(Opts),
    /// Checks that every chunk of a backup is there and intact.
    Verify(Pick),
    /// Restores a backup: an id, `latest`, or a day (`2026-11-25`: the last backup up to then).
    #[command(
        after_help = "Examples:\n  bexio-bi backup restore latest\n  bexio-bi backup restore 2026-11-01\n\nEvery chunk and manifest is checked before anything becomes current; local versions are kept."
    )]
    Restore(Pick),
    /// Removes backups the retention policy ([backup] keep_*) does not keep, and their chunks.
    Prune(Opts),
}

/// Common options.
#[derive(Debug, ClapArgs)]
pub struct Opts {
    /// The target (default: [backup] target in config.toml, else backups/ in BEXIO_BI_HOME).
    #[arg(long)]
    pub target: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// A backup to act on.
#[derive(Debug, ClapArgs)]
pub struct Pick {
    /// Backup id, `latest`, or a day.
    #[arg(default_value = "latest")]
    pub backup: String,
    #[command(flatten)]
    pub opts: Opts,
}

fn target(opts: &Opts) -> anyhow::Result<(Target, Config)> {
    let home = crate::home::data_dir()?;
    let config = Config::load_or_default(&home)?;
    let location = opts
        .target
        .clone()
        .unwrap_or_else(|| config.backup.target(&home));
    Ok((Target::open(&location)?, config))
}

/// Runs a backup command.
pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create(opts) => {
            let (t, _) = target(&opts)?;
            let r = create(&t).await?;
            if opts.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "backup {} in {}: {} chunks, {} copied ({} kB)",
                    r.id,
                    t.url(),
                    r.chunks,
                    r.copied,
                    r.copied_bytes / 1024
                );
            }
            Ok(())
        }
        Command::List(opts) => {
            let (t, _) = target(&opts)?;
            let list = adopting(&t).await?.backups(&t).await?;
            if opts.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            println!("{}: {} backups", t.url(), list.len());
            for s in list {
                let companies: Vec<&str> = s.tenants.keys().map(String::as_str).collect();
                println!(
                    "  {}  {} chunks  {:>8} kB  {}",
                    s.id,
                    s.chunks,
                    s.bytes / 1024,
                    companies.join(", ")
                );
            }
            Ok(())
        }
        Command::Verify(p) => {
            let (t, _) = target(&p.opts)?;
            let n = adopting(&t).await?.verify_backup(&t, &p.backup).await?;
            println!(
                "backup {} in {}: {n} chunks present and intact",
                p.backup,
                t.url()
            );
            Ok(())
        }
        Command::Restore(p) => {
            let (t, _) = target(&p.opts)?;
            let s = adopting(&t).await?.restore(&t, &p.backup).await?;
            super::audit::record(
                "backup.restore",
                None,
                Some(&s.id),
                serde_json::json!({"companies": s.tenants.len(), "chunks": s.chunks}),
                Ok(()),
            )?;
            println!(
                "restored backup {} ({} companies, {} chunks, all checked); each company's backed-up version is current",
                s.id,
                s.tenants.len(),
                s.chunks
            );
            Ok(())
        }
        Command::Prune(opts) => {
            let (t, config) = target(&opts)?;
            let (removed, objects) = store()?
                .prune_backups(&t, &config.backup.retention()?)
                .await?;
            super::audit::record(
                "backup.prune",
                None,
                None,
                serde_json::json!({"backups": removed.len(), "objects": objects}),
                Ok(()),
            )?;
            println!(
                "removed {} backups and {objects} objects no kept backup needs",
                removed.len()
            );
            Ok(())
        }
    }
}

/// The store, for reading a target: on a machine with no store yet (restoring after a loss),
/// the backup's key file is installed first, so that the password the backups were made under
/// opens them and what is restored.
async fn adopting(t: &Target) -> anyhow::Result<bexio_bi_store::Store> {
    let root = crate::unlock::store_dir(&crate::home::data_dir()?);
    if t.fetch_key(&root).await? {
        eprintln!(
            "Installed the backups' key file in {}: the master password they were made under opens them.",
            root.display()
        );
    }
    crate::unlock::store()
}

/// Backs up now and records it in the audit trail.
pub async fn create(t: &Target) -> anyhow::Result<backup::BackupReport> {
    let store = store()?;
    let result = store.backup(t).await;
    super::audit::record(
        "backup.create",
        None,
        result.as_ref().ok().map(|r| r.id.as_str()),
        result.as_ref().map_or(serde_json::Value::Null, |r| {
            serde_json::json!({"chunks": r.chunks, "copied": r.copied, "bytes": r.copied_bytes})
        }),
        result.as_ref().map(|_| ()).map_err(ToString::to_string),
    )?;
    Ok(result?)
}
