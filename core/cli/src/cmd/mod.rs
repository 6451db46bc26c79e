//! The subcommands.

mod audit;
mod auth;
mod backup;
mod demo;
mod diff;
mod export;
mod init;
mod plugins;
mod sandbox;
mod store;
mod sync;
mod tables;
mod versions;

use clap::{Parser, Subcommand};

/// A wrong command line or configuration (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Turn your bexio accounting into BI-ready data: a star schema for Power BI, Tableau, Qlik,
/// Looker and Metabase, versioned, diffable and audited.
#[derive(Debug, Parser)]
#[command(name = "bexio-bi", version, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  bexio-bi demo                              Run the whole pipeline on a local sandbox bexio
  bexio-bi init                              Write an example config.toml, then add your companies
  bexio-bi auth token --tenant meier-it < token.txt
                                             Store a Personal Access Token (checked against bexio)
  bexio-bi auth login --tenant meier-it      Sign in with OAuth in the browser (PKCE, 127.0.0.1 callback)
  bexio-bi sync                              Pull what changed in every configured company, concurrently
  bexio-bi sync --full --tenant meier-it     Read everything again
  bexio-bi sync --offline                    Rebuild the tables from the local copy, without bexio
  bexio-bi tables                            What is stored, with row counts
  bexio-bi show fact_invoice --limit 5       Rows of a table (--format table|csv|json)
  bexio-bi versions                          Every sync is a version: tag one, roll back to one
  bexio-bi diff --tenant meier-it            What changed since the sync before (--json, --html FILE)
  bexio-bi backup restore 2026-11-01         Bring back the data as backed up on a day (checked first)
  bexio-bi export --to parquet,csv           Every company's tables as Parquet and CSV, one pass
  bexio-bi plugins list                      The exporters: built in, installed, enabled
  bexio-bi audit verify                      Prove that no entry of the audit trail was changed
  bexio-bi store rekey                       Change the master password that encrypts everything
  bexio-bi sandbox serve                     Serve a fake bexio on a free port; prints URL and tokens as JSON
  bexio-bi sandbox serve --companies 20 --invoices 50000 --time-scale 60
                                             A Treuhand's 20 companies, an hour of rate limits per minute
  bexio-bi sandbox serve --faults '429=0.05,5xx=0.02,truncate=0.01'
                                             A bexio that misbehaves now and then

Environment:
  BEXIO_BI_HOME       where bexio-bi keeps its data (default: the platform's data directory)
  BEXIO_BI_PASSWORD   the master password that encrypts it (else BEXIO_BI_PASSWORD_FILE,
                      the OS keyring after `bexio-bi store remember`, or a prompt)
  RUST_LOG            log filter, e.g. RUST_LOG=bexio_bi_sandbox=debug";

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the demo end to end on an in-process sandbox and print a summary.
    Demo(demo::Args),
    /// Write a commented example configuration into BEXIO_BI_HOME.
    Init(init::Args),
    /// Store credentials of a company.
    #[command(subcommand)]
    Auth(auth::Command),
    /// Pull companies from bexio into the local store: only what changed since the last sync,
    /// all companies concurrently by default; an interrupted sync resumes where it stopped.
    #[command(
        after_help = "Examples:\n  bexio-bi sync                      every company, only what changed\n  bexio-bi sync --tenant meier-it --json\n  bexio-bi sync --full               read everything again\n  bexio-bi sync --offline            rebuild the tables from the local copy\n\nExit codes: 0 all synced, 1 a company failed (the others are synced), 2 wrong command line or configuration."
    )]
    Sync(sync::Args),
    /// List the stored tables and their row counts.
    Tables(tables::TablesArgs),
    /// Print rows of a stored table.
    Show(tables::ShowArgs),
    /// Every sync is a version: list them, show one, tag one, roll back to one.
    Versions(versions::Args),
    /// What changed between two versions: invoices new, modified (field by field) and deleted,
    /// clients, payments, revenue in CHF, and changes worth a second look.
    Diff(diff::Args),
    /// The audit trail: every action, chained by hash so that tampering shows.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Backups of the store: create, list, verify, restore, prune (also after every sync).
    #[command(subcommand)]
    Backup(backup::Command),
    /// Export the stored tables through plugins (Parquet, CSV, …), several at once in one pass.
    Export(export::Args),
    /// Exporters: list, inspect, enable with grants, install, check a manifest, run one.
    #[command(subcommand)]
    Plugins(plugins::Command),
    /// The encrypted store: status, change the master password, keep it in the OS keyring.
    #[command(subcommand)]
    Store(store::Command),
    /// A faithful local bexio for trying things without an account.
    #[command(subcommand)]
    Sandbox(sandbox::Command),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo(args) => rt.block_on(demo::run(args)),
        Command::Init(args) => init::run(args),
        Command::Auth(cmd) => rt.block_on(auth::run(cmd)),
        Command::Sync(args) => rt.block_on(sync::run(args, cli.quiet)),
        Command::Tables(args) => tables::tables(args),
        Command::Show(args) => tables::show(args),
        Command::Versions(args) => versions::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Backup(cmd) => rt.block_on(backup::run(cmd)),
        Command::Export(args) => rt.block_on(export::run(args)),
        Command::Plugins(cmd) => rt.block_on(plugins::run(cmd)),
        Command::Store(cmd) => store::run(cmd),
        Command::Sandbox(cmd) => rt.block_on(sandbox::run(cmd)),
    }
}
