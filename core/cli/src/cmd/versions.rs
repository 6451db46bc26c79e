//! `bexio-bi versions`: every sync of a company is a version; list, show, tag, roll back.

use bexio_bi_store::Manifest;
use clap::{Args as ClapArgs, Subcommand};
use serde::Serialize;

use super::UsageError;
use super::tables::{store, tenants};

/// Options of `versions`.
#[derive(Debug, ClapArgs)]
#[command(
    args_conflicts_with_subcommands = false,
    after_help = "Examples:\n  bexio-bi versions --tenant meier-it\n  bexio-bi versions show latest --tenant meier-it\n  bexio-bi versions tag 1795637645792-792877921 v1.0-production --tenant meier-it\n  bexio-bi versions rollback v1.0-production --tenant meier-it\n  bexio-bi show fact_invoice --version v1.0-production --tenant meier-it"
)]
pub struct Args {
    /// The company (needed when several are stored).
    #[arg(long, global = true)]
    pub tenant: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A version's tables, row counts, checksum and the statistics of the sync that wrote it.
    Show {
        /// Version id, tag, or `latest`.
        version: String,
    },
    /// Names a version (a tag that exists moves).
    Tag {
        /// Version id, tag, or `latest`.
        version: String,
        /// The name, e.g. `v1.0-production`.
        name: String,
    },
    /// Makes a version current again; later versions are kept.
    Rollback {
        /// Version id or tag.
        version: String,
    },
}

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    created_unix: u64,
    current: bool,
    tags: Vec<&'a str>,
    rows: u64,
    bytes: u64,
    added_bytes: u64,
    checksum: &'a str,
}

/// Runs `versions`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let store = store()?;
    let all = tenants(&store, args.tenant.as_ref())?;
    if all.len() > 1 && args.tenant.is_none() {
        return Err(UsageError(format!(
            "several companies are stored ({}): choose one with --tenant",
            all.join(", ")
        ))
        .into());
    }
    let tenant = &all[0];
    match args.command {
        None => {
            let versions = store.versions(tenant)?;
            let tags = store.tags(tenant)?;
            let current = store.current(tenant)?;
            let rows: Vec<Row<'_>> = versions
                .iter()
                .map(|m| Row {
                    id: &m.id,
                    created_unix: m.created_unix,
                    current: current.as_deref() == Some(m.id.as_str()),
                    tags: tags
                        .iter()
                        .filter(|(_, id)| **id == m.id)
                        .map(|(t, _)| t.as_str())
                        .collect(),
                    rows: m.tables.iter().map(|t| t.rows).sum(),
                    bytes: m.bytes(),
                    added_bytes: m.added_bytes,
                    checksum: &m.checksum,
                })
                .collect();
            if args.json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            println!("{tenant}: {} versions", rows.len());
            for r in rows {
                let when = chrono::DateTime::from_timestamp(r.created_unix as i64, 0)
                    .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
                println!(
                    "{} {}  {when}  {:>9} rows  {:>8} kB new  {}",
                    if r.current { "*" } else { " " },
                    r.id,
                    r.rows,
                    r.added_bytes / 1024,
                    r.tags.join(", ")
                );
            }
            Ok(())
        }
        Some(Command::Show { version }) => {
            let snap = store.version(tenant, &version)?;
            let m: &Manifest = snap.manifest();
            if args.json {
                println!("{}", serde_json::to_string_pretty(m)?);
                return Ok(());
            }
            println!(
                "{} version {} (checksum {})",
                m.tenant,
                m.id,
                &m.checksum[..16]
            );
            for t in &m.tables {
                println!(
                    "  {:<22} {:>10} rows  {:>4} chunks  schema {}",
                    t.name,
                    t.rows,
                    t.chunks.len(),
                    &t.schema_hash[..12]
                );
            }
            if !m.stats.is_null() {
                println!("  sync: {}", m.stats);
            }
            Ok(())
        }
        Some(Command::Tag { version, name }) => {
            let id = store.tag(tenant, &version, &name)?;
            super::audit::record(
                "versions.tag",
                Some(tenant),
                Some(&format!("{name} → {id}")),
                serde_json::Value::Null,
                Ok(()),
            )?;
            println!("{tenant}: {name} → {id}");
            Ok(())
        }
        Some(Command::Rollback { version }) => {
            let id = store.rollback(tenant, &version)?;
            super::audit::record(
                "versions.rollback",
                Some(tenant),
                Some(&id),
                serde_json::Value::Null,
                Ok(()),
            )?;
            println!("{tenant}: version {id} is current again (later versions are kept)");
            Ok(())
        }
    }
}
