//! Where bexio-bi keeps its data, and logging.

use std::path::PathBuf;

use anyhow::Context;

/// The data directory: `$BEXIO_BI_HOME`, else the platform's data directory
/// (`~/.local/share/bexio-bi` on Linux).
pub fn data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("BEXIO_BI_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("ch", "bexio-bi", "bexio-bi")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a data directory for this user; set BEXIO_BI_HOME")
}

/// Logs go to stderr; `RUST_LOG` overrides the level chosen with `-v`/`-q`.
pub fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
