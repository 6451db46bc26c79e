//! `bexio-bi sync`: pull companies from bexio into the local store.

use std::sync::Arc;

use bexio::client::{Client, RetryPolicy};
use bexio_bi_store::Store;
use bexio_bi_sync::{Mode, Report};
use clap::Args as ClapArgs;
use serde::Serialize;

use super::UsageError;
use crate::config::{Config, Secrets};

/// Options of `sync`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Companies to sync (by name); all when none is given.
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
    /// Sync every company of the configuration (the default when no --tenant is given).
    #[arg(long, conflicts_with = "tenants")]
    pub all: bool,
    /// Print a machine-readable summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Read everything again instead of only what changed since the last sync.
    #[arg(long, conflicts_with = "offline")]
    pub full: bool,
    /// Build the tables from the local copy of the last syncs, without asking bexio.
    #[arg(long)]
    pub offline: bool,
}

/// Companies synced at the same time.
const COMPANIES_AT_ONCE: usize = 8;

/// The outcome of one company.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum Outcome {
    Synced(Report),
    Failed { tenant: String, error: String },
}

/// Syncs the chosen companies at the same time, each within its own rate limits. One failing
/// does not stop the others; the exit code says whether any failed.
pub async fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let home = crate::home::data_dir()?;
    let config = Config::load(&home)?;
    let tenants = config.select(&args.tenants)?;
    let store = crate::unlock::store()?;
    let keys = crate::unlock::keyring()?;
    let secrets = Secrets::load(&home, &keys)?;
    let progress = crate::progress::Bars::for_terminal(quiet || args.json);
    // Each company has its own bexio rate limits, so several run side by side; a bound keeps
    // memory and sockets in check for fiduciaries with many companies.
    let slots = Arc::new(tokio::sync::Semaphore::new(COMPANIES_AT_ONCE));
    let options = config.sync_options(args.full)?;
    if args.offline {
        return offline(
            &store,
            tenants.iter().map(|t| t.name.clone()),
            progress,
            args.json,
        );
    }

    let mut set = tokio::task::JoinSet::new();
    let mut names = std::collections::HashMap::new();
    for t in tenants {
        let t_name = t.name.clone();
        // A fixed token, or an OAuth sign-in renewed (and stored) as it expires.
        let source = match super::auth::token_source(&home, &keys, &t, &secrets) {
            Ok(source) => source,
            Err(error) => {
                names.insert(
                    set.spawn(async move {
                        Outcome::Failed {
                            tenant: t.name,
                            error,
                        }
                    })
                    .id(),
                    t_name.clone(),
                );
                continue;
            }
        };
        let (store, progress, slots, options) = (
            store.clone(),
            Arc::clone(&progress),
            Arc::clone(&slots),
            options.clone(),
        );
        names.insert(
            set.spawn(async move {
                // A fiduciary's dozens of companies share the machine: a few sync at a time.
                let _slot = slots.acquire_owned().await;
                let client =
                    match Client::with_source(&t.base_url, &t.name, source, RetryPolicy::default())
                    {
                        Ok(c) => c,
                        Err(e) => {
                            return Outcome::Failed {
                                tenant: t.name,
                                error: e.to_string(),
                            };
                        }
                    };
                match bexio_bi_sync::sync(&t.name, &client, &store, options, progress).await {
                    Ok(report) => Outcome::Synced(report),
                    Err(e) => Outcome::Failed {
                        tenant: t.name,
                        error: e.to_string(),
                    },
                }
            })
            .id(),
            t_name,
        );
    }
    let mut outcomes = Vec::new();
    // A company whose task failed is reported like any other failure; the others go on.
    while let Some(done) = set.join_next_with_id().await {
        outcomes.push(match done {
            Ok((_, outcome)) => outcome,
            Err(e) => Outcome::Failed {
                tenant: names.get(&e.id()).cloned().unwrap_or_default(),
                error: format!("the sync task failed: {e}"),
            },
        });
    }
    let synced = outcomes.iter().any(|o| matches!(o, Outcome::Synced(_)));
    let result = summarize(outcomes, args.json, "sync");
    // A backup after the sync, deduplicated; its failure is reported, the sync still stands.
    if synced && config.backup.after_sync {
        let location = config.backup.target(&home);
        match bexio_bi_store::backup::Target::open(&location) {
            Ok(t) => match super::backup::create(&t).await {
                Ok(r) if !args.json => println!(
                    "backup {} in {}: {} chunks copied of {}",
                    r.id,
                    t.url(),
                    r.copied,
                    r.chunks
                ),
                Ok(_) => {}
                Err(e) => eprintln!("warning: the backup after the sync failed: {e:#}"),
            },
            Err(e) => eprintln!("warning: the backup after the sync failed: {e}"),
        }
    }
    result
}

/// Builds each company's tables from its mirror (`--offline`).
fn offline(
    store: &Store,
    tenants: impl Iterator<Item = String>,
    progress: Arc<dyn bexio_bi_sync::Progress>,
    json: bool,
) -> anyhow::Result<()> {
    let outcomes = tenants
        .map(
            |t| match bexio_bi_sync::rebuild(&t, store, Arc::clone(&progress)) {
                Ok(report) => Outcome::Synced(report),
                Err(e) => Outcome::Failed {
                    tenant: t,
                    error: e.to_string(),
                },
            },
        )
        .collect();
    summarize(outcomes, json, "sync.offline")
}

/// Prints what happened and turns failures into the exit code.
fn summarize(mut outcomes: Vec<Outcome>, json: bool, action: &str) -> anyhow::Result<()> {
    outcomes.sort_by(|a, b| name(a).cmp(name(b)));
    for o in &outcomes {
        match o {
            Outcome::Synced(r) => super::audit::record(
                action,
                Some(&r.tenant),
                Some(&r.snapshot),
                serde_json::json!({
                    "mode": r.mode,
                    "requests": r.http.requests,
                    "rows": r.tables.values().sum::<u64>(),
                    "rejected": r.rejected,
                    "changes": r.changes,
                }),
                Ok(()),
            )?,
            Outcome::Failed { tenant, error } => super::audit::record(
                action,
                Some(tenant),
                None,
                serde_json::Value::Null,
                Err(error.clone()),
            )?,
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        for o in &outcomes {
            match o {
                Outcome::Synced(r) => {
                    let rows: u64 = r.tables.values().sum();
                    let mode = match r.mode {
                        Mode::Full => "full",
                        Mode::Incremental => "incremental",
                        Mode::Offline => "offline",
                    };
                    println!(
                        "{}: {mode}, {rows} rows in {} tables, {} rejected, {} requests ({} retried, {} throttled, {} saved by the local copy), {:.1} s",
                        r.tenant,
                        r.tables.len(),
                        r.rejected,
                        r.http.requests,
                        r.http.retries,
                        r.http.throttled,
                        r.cache.requests_saved,
                        r.seconds
                    );
                    if r.mode == Mode::Incremental {
                        let changed: Vec<String> = r
                            .changes
                            .iter()
                            .filter(|(_, c)| {
                                !(c.created.is_empty()
                                    && c.updated.is_empty()
                                    && c.deleted.is_empty())
                            })
                            .map(|(stream, c)| {
                                format!(
                                    "{stream} +{} ~{} -{}",
                                    c.created.len(),
                                    c.updated.len(),
                                    c.deleted.len()
                                )
                            })
                            .collect();
                        if changed.is_empty() {
                            println!("  nothing changed in bexio");
                        } else {
                            println!("  changed: {}", changed.join(", "));
                        }
                    }
                    if !r.cache.resumed.is_empty() {
                        println!(
                            "  resumed an interrupted sync ({} steps were already done)",
                            r.cache.resumed.len()
                        );
                    }
                    for s in &r.skipped {
                        println!("  skipped {}: {}", s.stream, s.reason);
                    }
                }
                Outcome::Failed { tenant, error } => println!("{tenant}: FAILED: {error}"),
            }
        }
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| {
            if let Outcome::Failed { tenant, .. } = o {
                Some(tenant.as_str())
            } else {
                None
            }
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else if failed.len() == outcomes.len()
        && outcomes.iter().all(
            |o| matches!(o, Outcome::Failed { error, .. } if error.contains("no token stored")),
        )
    {
        Err(UsageError(format!("no company could be synced: {}", failed.join(", "))).into())
    } else {
        anyhow::bail!(
            "{} of {} companies failed: {}",
            failed.len(),
            outcomes.len(),
            failed.join(", ")
        )
    }
}

fn name(o: &Outcome) -> &str {
    match o {
        Outcome::Synced(r) => &r.tenant,
        Outcome::Failed { tenant, .. } => tenant,
    }
}
