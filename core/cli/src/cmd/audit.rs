//! `bexio-bi audit`: who did what, when, to which company; tamper-evident.

use std::io::Write;

use bexio_bi_store::audit::{Action, Entry};
use clap::{Args as ClapArgs, Subcommand};

use super::tables::store;

/// Audit commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The recorded actions, oldest first.
    #[command(
        after_help = "Examples:\n  bexio-bi audit show\n  bexio-bi audit show --since 2026-11-01 --tenant meier-it --json"
    )]
    Show(ShowArgs),
    /// Checks that no entry was edited, removed or reordered; exit code 1 and where, if one was.
    Verify,
    /// Writes the trail as CSV for compliance reports.
    #[command(after_help = "Example:\n  bexio-bi audit export --csv > audit-2026.csv")]
    Export(ExportArgs),
}

/// Options of `audit show`.
#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    /// Only entries from this day on (`2026-11-01`) or this moment (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only this company.
    #[arg(long)]
    pub tenant: Option<String>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// Options of `audit export`.
#[derive(Debug, ClapArgs)]
pub struct ExportArgs {
    /// CSV (the only format so far; required so that scripts say what they expect).
    #[arg(long, required = true)]
    pub csv: bool,
    /// Only entries from this day on.
    #[arg(long)]
    pub since: Option<String>,
}

fn selected(since: Option<&str>, tenant: Option<&str>) -> anyhow::Result<Vec<Entry>> {
    Ok(store()?
        .audit()
        .entries()?
        .into_iter()
        // RFC 3339 times in UTC sort as text; a bare day compares with its prefix.
        .filter(|e| since.is_none_or(|s| e.time.as_str() >= s))
        .filter(|e| tenant.is_none_or(|t| e.action.tenant.as_deref() == Some(t)))
        .collect())
}

/// Runs an audit command.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Show(args) => {
            let entries = selected(args.since.as_deref(), args.tenant.as_deref())?;
            let mut out = std::io::stdout().lock();
            for e in entries {
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(&e)?)?;
                } else {
                    let a = &e.action;
                    writeln!(
                        out,
                        "{:>5} {} {:<18} {:<20} {:<14} {} {}",
                        e.seq,
                        e.time,
                        a.actor,
                        a.action,
                        a.tenant.as_deref().unwrap_or("-"),
                        a.outcome,
                        a.resource.as_deref().unwrap_or("")
                    )?;
                }
            }
            Ok(())
        }
        Command::Verify => {
            let log = store()?.audit();
            match log.verify()? {
                Ok(n) => {
                    println!("{}: {n} entries, the chain is intact", log.path().display());
                    Ok(())
                }
                Err(breaks) => {
                    for b in &breaks {
                        println!("{}:{}: {}", log.path().display(), b.line, b.problem);
                    }
                    anyhow::bail!(
                        "the audit trail was tampered with at {} place(s)",
                        breaks.len()
                    )
                }
            }
        }
        Command::Export(args) => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "seq,time,actor,action,tenant,resource,remote,outcome,counts,hash"
            )?;
            let field = |s: &str| {
                if s.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_owned()
                }
            };
            for e in selected(args.since.as_deref(), None)? {
                let a = &e.action;
                let counts = if a.counts.is_null() {
                    String::new()
                } else {
                    a.counts.to_string()
                };
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{}",
                    e.seq,
                    e.time,
                    field(&a.actor),
                    field(&a.action),
                    field(a.tenant.as_deref().unwrap_or("")),
                    field(a.resource.as_deref().unwrap_or("")),
                    field(a.remote.as_deref().unwrap_or("")),
                    field(&a.outcome),
                    field(&counts),
                    e.hash
                )?;
            }
            Ok(())
        }
    }
}

/// Records an action of this process's user; a trail that cannot be written is an error.
pub fn record(
    action: &str,
    tenant: Option<&str>,
    resource: Option<&str>,
    counts: serde_json::Value,
    outcome: Result<(), String>,
) -> anyhow::Result<()> {
    crate::unlock::store()?.audit().append(Action {
        actor: bexio_bi_store::audit::os_actor(),
        action: action.to_owned(),
        tenant: tenant.map(str::to_owned),
        resource: resource.map(str::to_owned),
        counts,
        remote: None,
        outcome: match outcome {
            Ok(()) => "ok".to_owned(),
            Err(e) => e,
        },
    })?;
    Ok(())
}
