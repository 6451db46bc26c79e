//! `bexio-bi sandbox`: a local bexio.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;
use bexio_bi_sandbox::{FaultPlan, Limits, Sandbox, SandboxConfig};
use clap::{Args as ClapArgs, Subcommand};

use super::UsageError;

/// Sandbox subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a fake api.bexio.com until Ctrl-C. Prints one JSON line when ready:
    /// {"url":…,"tenants":[{"name","company_id","token"}],"oauth":{…}}.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
}

const SERVE_EXAMPLES: &str = "\
Examples:
  bexio-bi sandbox serve
  bexio-bi sandbox serve --addr 127.0.0.1:8080 --seed 7 --companies 3 --invoices 20000
  bexio-bi sandbox serve --time-scale 60      # a simulated minute per second: rate limits reset fast
  curl -H \"Authorization: Bearer $TOKEN\" -H 'Accept: application/json' \"$URL/2.0/kb_invoice?limit=5\"
  curl \"$URL/_sandbox/stats\"                  # ground truth: counts and invoice totals
  curl -X POST \"$URL/_sandbox/advance?days=7\" # a week of business; lists what changed
  curl -X PUT --data '5xx=0.1' \"$URL/_sandbox/faults\"

Faults (SPEC): comma-separated kind=share[:param] items
  429=0.05        5 % of requests refused as rate-limited
  5xx=0.02        500/502/503 answers
  slow=0.1:1500ms 10 % of answers wait 1.5 s
  truncate=0.01   JSON bodies cut short
  drift=0.2       positions[].pos as a string, nulls where numbers are documented";

/// Options of `sandbox serve`.
#[derive(Debug, ClapArgs)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Seed of the generated data: the same seed gives the same companies.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of companies, each with its own token, data and rate limits.
    #[arg(long, default_value_t = 1)]
    pub companies: usize,
    /// Invoices per company over about four years of history (up to 1,000,000).
    #[arg(long, default_value_t = 2000)]
    pub invoices: u64,
    /// Faults to inject, e.g. '429=0.05,5xx=0.02,slow=0.1:1500ms,truncate=0.01,drift=0.2'.
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Simulated seconds per real second, for rate-limit windows and token lifetimes.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Requests per minute on most routes (bexio: 1000).
    #[arg(long, default_value_t = 1000)]
    pub limit_default: u32,
    /// Requests per minute on /2.0/article* (bexio: 400).
    #[arg(long, default_value_t = 400)]
    pub limit_article: u32,
    /// Requests per minute on contact/invoice/quote/article searches and PDFs (bexio: 250).
    #[arg(long, default_value_t = 250)]
    pub limit_search: u32,
    /// Lifetime of OAuth access tokens in simulated seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl: u64,
    /// Lifetime of the Personal Access Tokens in simulated days (bexio: 60).
    #[arg(long, default_value_t = 60.0)]
    pub pat_ttl_days: f64,
}

impl ServeArgs {
    /// The sandbox configuration these options describe.
    pub fn config(&self) -> anyhow::Result<SandboxConfig> {
        let faults = FaultPlan::parse(&self.faults).map_err(|e| UsageError(e.to_string()))?;
        Ok(SandboxConfig {
            seed: self.seed,
            companies: self.companies,
            invoices: self.invoices,
            faults,
            time_scale: self.time_scale,
            limits: Limits {
                default: self.limit_default,
                article: self.limit_article,
                search: self.limit_search,
            },
            access_token_ttl: self.token_ttl,
            pat_ttl: (self.pat_ttl_days * 86_400.0).max(1.0) as u64,
        })
    }
}

/// Runs a sandbox subcommand.
pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let sandbox = Sandbox::start(config, args.addr)
        .await
        .map_err(|e| match e {
            bexio_bi_sandbox::StartError::Config(m) => anyhow::Error::new(UsageError(m)),
            other => anyhow::Error::new(other),
        })?;
    let line = serde_json::to_string(sandbox.ready()).context("cannot encode the ready line")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .context("cannot write to stdout")?;
    drop(out);
    shutdown_signal().await;
    tracing::info!("shutting down");
    sandbox.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
