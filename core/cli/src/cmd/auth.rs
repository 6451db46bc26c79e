//! `bexio-bi auth`: credentials of the companies, and the token source a sync uses.
//!
//! A company signs in either with a Personal Access Token (`auth token`) or with OAuth in the
//! browser (`auth login`: authorization code with PKCE through a callback on 127.0.0.1). An
//! OAuth sign-in is renewed by the syncs: bexio rotates refresh tokens, so every renewed one is
//! written to `secrets.toml` (under its lock) before the new access token is used.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bexio::client::oauth::{self, App, Authorization, Pkce, Refreshing, TokenVault, Tokens};
use bexio::client::{Client, FixedToken, RetryPolicy, TokenSource};
use bexio_bi_store::crypt::Keyring;
use clap::{Args as ClapArgs, Subcommand};
use serde::Serialize;

use super::UsageError;
use crate::config::{AuthKind, Config, Credential, OAuthCredential, Secrets, SecretsLock, Tenant};
use crate::login::{Callback, open_browser, parse_duration};

/// Credential commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a Personal Access Token for a company (read from stdin when --token is not given).
    #[command(
        after_help = "Examples:\n  bexio-bi auth token --tenant meier-it < token.txt\n  pbpaste | bexio-bi auth token --tenant meier-it"
    )]
    Token(TokenArgs),
    /// Sign in to a company with OAuth in the browser and store the sign-in; syncs renew it.
    #[command(after_help = LOGIN_HELP)]
    Login(LoginArgs),
}

const LOGIN_HELP: &str = "\
Examples:
  bexio-bi auth login --tenant meier-it
        Opens the browser (or prints the link): sign in to bexio and allow access
  bexio-bi auth login --tenant meier-it --no-browser
        On a server: prints the link to open on your computer. The browser comes back to
        http://127.0.0.1:<port>/callback, so forward that port first, with a fixed
        redirect_port = 53682 in config.toml:  ssh -L 53682:127.0.0.1:53682 <server>
  BEXIO_BI_TENANT_MEIER_IT_CLIENT_SECRET=… bexio-bi auth login --tenant meier-it
        An app with a client secret: kept in secrets.toml, never in config.toml

The company's entry in config.toml needs:
  auth = \"oauth\"
  client_id = \"…\"        # your app's id (developer.bexio.com); a local sandbox's is bexio-bi-cli
The sign-in asks for offline_access and the read scopes that `bexio-bi sync` needs. Syncs renew
the access token and store each renewed refresh token; when bexio ends the sign-in (a year
unused, or revoked), they say so: run `bexio-bi auth login` again.";

/// Options of `auth login`.
#[derive(Debug, ClapArgs)]
pub struct LoginArgs {
    /// The company, as named in config.toml (with auth = "oauth").
    #[arg(long)]
    pub tenant: String,
    /// Do not open a browser; only print the link (machines without a display never open one).
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the browser to come back, e.g. 90s, 5m, 1h.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Suggest the user (e-mail) or company to bexio's login page.
    #[arg(long)]
    pub login_hint: Option<String>,
    /// Print who signed in as JSON on stdout.
    #[arg(long)]
    pub json: bool,
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
        Command::Login(args) => login(args).await,
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
    Secrets::update(&home, crate::unlock::keyring()?, |secrets| {
        secrets
            .tokens
            .insert(tenant.name.clone(), Credential::Pat(token));
    })?;
    super::audit::record(
        "auth.token",
        Some(&tenant.name),
        None,
        serde_json::Value::Null,
        Ok(()),
    )?;
    println!(
        "Stored the token of {} (never in config.toml; in secrets.toml, readable by you only).",
        tenant.name
    );
    Ok(())
}

/// What `auth login --json` prints.
#[derive(Debug, Serialize)]
struct SignedIn {
    tenant: String,
    company_id: Option<String>,
    company_name: Option<String>,
    user: Option<String>,
    scope: Option<String>,
}

async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let home = crate::home::data_dir()?;
    let config = Config::load(&home)?;
    let tenant = config.select(std::slice::from_ref(&args.tenant))?.remove(0);
    let Some(client_id) = tenant
        .client_id
        .as_deref()
        .filter(|_| tenant.auth == AuthKind::Oauth)
    else {
        return Err(UsageError(format!(
            "{0} uses a Personal Access Token (auth = \"pat\" in config.toml): to sign in with the browser, set auth = \"oauth\" and client_id for it; or store a token with `bexio-bi auth token --tenant {0}`",
            tenant.name
        ))
        .into());
    };
    let client_secret =
        Secrets::load(&home, &*crate::unlock::keyring()?)?.client_secret(&tenant.name);
    let app = App::new(&tenant.issuer(), client_id, client_secret.clone());

    let callback = Callback::bind(tenant.redirect_port).await?;
    let redirect_uri = callback.redirect_uri().to_owned();
    let pkce = Pkce::new();
    let state = oauth::random_token();
    let url = app.authorize_url(&Authorization {
        redirect_uri: &redirect_uri,
        scopes: oauth::SCOPES,
        state: &state,
        challenge: &pkce.challenge,
        login_hint: args.login_hint.as_deref(),
    });
    eprintln!(
        "To sign in to bexio for {}, open this link in a browser:\n\n  {url}\n",
        tenant.name
    );
    if !args.no_browser && open_browser(&url) {
        eprintln!("A browser window should have opened.");
    }
    eprintln!(
        "Waiting up to {} for bexio to send the browser back to {redirect_uri} (Ctrl-C gives up)…",
        human(args.timeout)
    );
    let code = tokio::time::timeout(args.timeout, callback.code(&state))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "no sign-in arrived within {}: run `bexio-bi auth login --tenant {}` again and allow access in the browser (--timeout waits longer)",
                human(args.timeout),
                tenant.name
            )
        })?
        .with_context(|| format!("the sign-in of {} failed", tenant.name))?;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let tokens = app
        .exchange_code(&http, &code, &redirect_uri, &pkce.verifier)
        .await
        .with_context(|| {
            format!(
                "bexio did not complete the sign-in of {0}: run `bexio-bi auth login --tenant {0}` again",
                tenant.name
            )
        })?;
    Secrets::update(&home, crate::unlock::keyring()?, |secrets| {
        secrets.tokens.insert(
            tenant.name.clone(),
            Credential::OAuth(OAuthCredential {
                refresh_token: tokens.refresh_token.clone(),
                access_token: tokens.access_token.clone(),
                access_expires_unix: tokens.access_expires_unix,
                scope: tokens.scope.clone(),
                client_secret,
            }),
        );
    })?;
    super::audit::record(
        "auth.login",
        Some(&tenant.name),
        tokens.scope.as_deref(),
        serde_json::Value::Null,
        Ok(()),
    )?;

    // Who signed in, to which company: only to tell the user.
    let info = match app.userinfo(&http, &tokens.access_token).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read who signed in");
            serde_json::Value::Null
        }
    };
    let text = |k: &str| info[k].as_str().map(str::to_owned);
    let user = match (text("given_name"), text("family_name"), text("email")) {
        (Some(g), Some(f), Some(e)) => Some(format!("{g} {f} <{e}>")),
        (_, _, e) => e,
    };
    let signed_in = SignedIn {
        tenant: tenant.name.clone(),
        company_id: text("company_id"),
        company_name: text("company_name"),
        user,
        scope: tokens.scope.clone(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&signed_in)?);
    } else {
        let company = signed_in
            .company_name
            .as_deref()
            .or(signed_in.company_id.as_deref())
            .unwrap_or("bexio");
        let by = signed_in
            .user
            .as_deref()
            .map(|u| format!(" as {u}"))
            .unwrap_or_default();
        println!(
            "Signed in to {company}{by}. Stored the sign-in of {} (never in config.toml; in secrets.toml, readable by you only); syncs renew it.",
            tenant.name
        );
    }
    Ok(())
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// The token source of a company for its client: a fixed token, or its OAuth sign-in renewed
/// into `secrets.toml`. The error says what to run.
pub fn token_source(
    home: &Path,
    keys: &Arc<Keyring>,
    tenant: &Tenant,
    secrets: &Secrets,
) -> Result<Arc<dyn TokenSource>, String> {
    let name = &tenant.name;
    match secrets.credential(name) {
        None => Err(match tenant.auth {
            AuthKind::Pat => {
                format!("no token stored for {name}: run `bexio-bi auth token --tenant {name}`")
            }
            AuthKind::Oauth => format!(
                "no token stored for {name}: sign in with `bexio-bi auth login --tenant {name}`"
            ),
        }),
        Some(Credential::Pat(token)) => Ok(Arc::new(FixedToken(token))),
        Some(Credential::OAuth(credential)) => {
            let Some(client_id) = tenant.client_id.as_deref() else {
                return Err(format!(
                    "{name} has an OAuth sign-in stored, but config.toml gives it no client_id: set auth = \"oauth\" and client_id for it"
                ));
            };
            let app = App::new(&tenant.issuer(), client_id, secrets.client_secret(name));
            let vault = SecretsVault {
                home: home.to_owned(),
                keys: Arc::clone(keys),
                tenant: name.clone(),
            };
            let source = Refreshing::new(app, name, credential.tokens(), vault)
                .map_err(|e| e.to_string())?;
            Ok(Arc::new(source))
        }
    }
}

/// `secrets.toml` as the vault of one company's renewed tokens, under the file's lock.
struct SecretsVault {
    home: PathBuf,
    keys: Arc<Keyring>,
    tenant: String,
}

impl TokenVault for SecretsVault {
    type Lock = SecretsLock;

    fn lock(&self) -> Result<(SecretsLock, Option<Tokens>), String> {
        let lock =
            Secrets::lock(&self.home, Arc::clone(&self.keys)).map_err(|e| format!("{e:#}"))?;
        let stored = match lock
            .load()
            .map_err(|e| format!("{e:#}"))?
            .tokens
            .get(&self.tenant)
        {
            Some(Credential::OAuth(c)) => Some(c.tokens()),
            _ => None,
        };
        Ok((lock, stored))
    }

    fn keep(&self, lock: &mut SecretsLock, tokens: &Tokens) -> Result<(), String> {
        lock.update(|secrets| match secrets.tokens.get_mut(&self.tenant) {
            Some(Credential::OAuth(c)) => *c = c.renewed(tokens),
            // Replaced by a PAT meanwhile: the user's choice stands.
            Some(Credential::Pat(_)) => {}
            None => {
                secrets.tokens.insert(
                    self.tenant.clone(),
                    Credential::OAuth(OAuthCredential {
                        refresh_token: tokens.refresh_token.clone(),
                        access_token: tokens.access_token.clone(),
                        access_expires_unix: tokens.access_expires_unix,
                        scope: tokens.scope.clone(),
                        client_secret: None,
                    }),
                );
            }
        })
        .map_err(|e| format!("{e:#}"))
    }
}
