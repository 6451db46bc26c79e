//! `bexio-bi auth`: credentials of the companies.

use std::io::Read;

use anyhow::Context;
use bexio::client::{Client, RetryPolicy};
use clap::{Args as ClapArgs, Subcommand};

use super::UsageError;
use crate::config::{Config, Secrets};

/// Credential commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a Personal Access Token for a company (read from stdin when --token is not given).
    #[command(
        after_help = "Examples:\n  bexio-bi auth token --tenant meier-it < token.txt\n  pbpaste | bexio-bi auth token --tenant meier-it"
    )]
    Token(TokenArgs),
}

/// Options of `auth token`.
#[derive(Debug, ClapArgs)]
pub struct TokenArgs {
    /// The company, as named in config.toml.
    #[arg(long)]
    pub tenant: String,
    /// The token (prefer stdin: command lines end up in shell history).
    #[arg(long)]
    pub token: Option<String>,
    /// Store it without checking it against bexio.
    #[arg(long)]
    pub no_verify: bool,
}

/// Runs an auth command.
pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Token(args) => token(args).await,
    }
}

async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let home = crate::home::data_dir()?;
    let config = Config::load(&home)?;
    let tenant = config.select(std::slice::from_ref(&args.tenant))?.remove(0);
    let token = match args.token {
        Some(t) => t,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the token from stdin")?;
            s
        }
    };
    let token = token.trim().to_owned();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(UsageError("the token is empty or contains spaces".into()).into());
    }
    if !args.no_verify {
        let client = Client::new(
            &tenant.base_url,
            &tenant.name,
            &token,
            RetryPolicy {
                attempts: 2,
                ..RetryPolicy::default()
            },
        )?;
        client.get("/3.0/users/me").await.with_context(|| {
            format!(
                "the token was not stored: bexio did not accept it for {}",
                tenant.name
            )
        })?;
    }
    Secrets::update(&home, |secrets| {
        secrets.tokens.insert(tenant.name.clone(), token);
    })?;
    println!(
        "Stored the token of {} (never in config.toml; in secrets.toml, readable by you only).",
        tenant.name
    );
    Ok(())
}
