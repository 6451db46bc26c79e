//! `bexio-bi`: turns bexio accounting data into BI-ready data.
//!
//! This file only parses the command line, runs the command, and turns errors into one printed
//! chain and an exit code. Each subcommand lives in `cmd/`.

mod cmd;
mod config;
mod home;
mod login;
mod progress;
mod unlock;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes that mean something to scripts.
pub mod exit {
    /// Everything worked.
    pub const OK: u8 = 0;
    /// The command failed.
    pub const FAILURE: u8 = 1;
    /// The command line or configuration is wrong.
    pub const USAGE: u8 = 2;
}

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    home::init_tracing(cli.verbose, cli.quiet);
    match cmd::run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            let code = if err.downcast_ref::<cmd::UsageError>().is_some() {
                exit::USAGE
            } else {
                exit::FAILURE
            };
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(code)
        }
    }
}
