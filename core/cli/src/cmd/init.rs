//! `bexio-bi init`: a commented example configuration.

use anyhow::Context;
use clap::Args as ClapArgs;

use crate::config::{Config, EXAMPLE};

/// Options of `init`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Overwrite an existing configuration.
    #[arg(long)]
    pub force: bool,
}

/// Writes `config.toml` into `BEXIO_BI_HOME`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let home = crate::home::data_dir()?;
    let path = Config::path(&home);
    if path.exists() && !args.force {
        return Err(super::UsageError(format!(
            "{} exists already (use --force to overwrite it)",
            path.display()
        ))
        .into());
    }
    std::fs::create_dir_all(&home).with_context(|| format!("cannot create {}", home.display()))?;
    std::fs::write(&path, EXAMPLE).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "Wrote {}. Edit the [[tenant]] entries, then store a token with `bexio-bi auth token --tenant <name>`.",
        path.display()
    );
    Ok(())
}
