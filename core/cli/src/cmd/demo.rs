//! `bexio-bi demo`: the pipeline end to end on an in-process sandbox.
//!
//! It starts a local bexio with several companies, signs in to each with OAuth (authorization
//! code with PKCE), syncs every company into a store (client → normalizer → snapshot), reads the
//! stored invoices back and reconciles their totals per currency with the sandbox's ground truth,
//! then lets a week of business happen and syncs again. Later stages (exporters, the server)
//! plug in here as they land.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use bexio::client::oauth::{self, App, Authorization, Pkce, Refreshing, TokenVault, Tokens};
use bexio::client::{Client, RetryPolicy, TokenSource};
use bexio_bi_sandbox::{Sandbox, SandboxConfig};
use bexio_bi_store::Store;
use bexio_bi_sync::Options;
use clap::Args as ClapArgs;
use rust_decimal::Decimal;
use serde::Serialize;

/// The exporters the demo writes every company through.
const FORMATS: [&str; 5] = ["parquet", "csv", "xlsx", "hyper", "qvd"];

/// Options of `demo`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Companies in the sandbox (a Treuhand runs many).
    #[arg(long, default_value_t = 2)]
    pub companies: usize,
    /// Invoices per company.
    #[arg(long, default_value_t = 3000)]
    pub invoices: u64,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Simulated seconds per real second in the sandbox (rate-limit windows pass faster).
    #[arg(long, default_value_t = 60.0)]
    pub time_scale: f64,
    /// Print the summary as JSON (for scripts).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct CompanyReport {
    name: String,
    company_id: String,
    /// Rows per stored table after the first sync.
    tables: BTreeMap<String, u64>,
    invoices_read: u64,
    /// Σ invoice `total` per currency, read back from the store.
    totals_read: BTreeMap<String, Decimal>,
    /// The same from the sandbox's ground truth.
    totals_truth: BTreeMap<String, Decimal>,
    reconciled: bool,
    rejected: u64,
    requests: u64,
    throttled: u64,
    sync_seconds: f64,
    week_created: usize,
    week_updated: usize,
    week_deleted: usize,
    /// The incremental sync found exactly the ids bexio changed (invoices, quotes, orders,
    /// contacts).
    week_found_exactly: bool,
    week_requests: u64,
    invoices_after_week: u64,
    reconciled_after_week: bool,
    /// The comparator's summary of the week (`bexio-bi diff`).
    week_diff: String,
    /// Versions stored for the company.
    versions: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    sandbox_url: String,
    oauth_user: String,
    store: String,
    /// Where the store's master password came from.
    encrypted_with: String,
    companies: Vec<CompanyReport>,
    requests: u64,
    seconds: f64,
    /// Minutes that passed on the sandbox's clock (rate limits count those).
    simulated_minutes: f64,
    /// The backup taken after the syncs.
    backup: bexio_bi_store::backup::BackupReport,
    /// A second backup right after: nothing new to copy.
    backup_again_copied: u64,
    /// Chunks of the backup checked against their checksums.
    backup_verified: u64,
    /// Where.
    backup_target: String,
    /// The latest version of every company exported through the built-in plugins.
    exports: Vec<ExportReport>,
    /// The folder holding every export: `<company>/<format>/…`.
    exports_dir: String,
}

/// One company through one exporter.
#[derive(Debug, Serialize)]
struct ExportReport {
    company_id: String,
    plugin: String,
    dir: String,
    rows: u64,
    files: usize,
    seconds: f64,
    error: Option<String>,
}

/// The demo store's password when `BEXIO_BI_PASSWORD` is not set (the demo's data is synthetic).
const DEMO_PASSWORD: &str = "bexio-bi-demo";

async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<(serde_json::Value, reqwest::header::HeaderMap)> {
    let resp = http
        .get(url)
        .bearer_auth(token)
        .header("Accept", "application/json")
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body: serde_json::Value = resp
        .json()
        .await
        .with_context(|| format!("GET {url}: body is not JSON"))?;
    if !status.is_success() {
        bail!("GET {url}: {status}: {body}");
    }
    Ok((body, headers))
}

/// Signs in to one company through the sandbox's OAuth realm with PKCE, as `bexio-bi auth
/// login` does (with a `login_hint` the realm sends the browser straight back); returns who
/// signed in and a token source that renews the sign-in when its access token expires.
async fn oauth_login(
    sandbox: &Sandbox,
    company_id: &str,
) -> anyhow::Result<(String, Arc<dyn TokenSource>)> {
    let ready = sandbox.ready();
    let app = App::new(&ready.oauth.issuer, &ready.oauth.public_client_id, None);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (pkce, state) = (Pkce::new(), oauth::random_token());
    let redirect = "http://127.0.0.1:53682/callback";
    let url = app.authorize_url(&Authorization {
        redirect_uri: redirect,
        scopes: oauth::SCOPES,
        state: &state,
        challenge: &pkce.challenge,
        login_hint: Some(company_id),
    });
    let resp = no_redirect.get(&url).send().await?;
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("the authorization endpoint did not redirect")?;
    let url = reqwest::Url::parse(location)?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
    };
    if param("state").as_deref() != Some(state.as_str()) {
        bail!("the redirect carries another state");
    }
    let code = param("code").context("no code in the redirect")?;
    let tokens = app
        .exchange_code(&no_redirect, &code, redirect, &pkce.verifier)
        .await?;
    let info = app.userinfo(&no_redirect, &tokens.access_token).await?;
    let user = format!(
        "{} {} <{}>",
        info["given_name"].as_str().unwrap_or(""),
        info["family_name"].as_str().unwrap_or(""),
        info["email"].as_str().unwrap_or("")
    );
    let source = Refreshing::new(app, company_id, tokens, InMemory)?;
    Ok((user, Arc::new(source)))
}

/// The demo's sign-ins live as long as the demo: renewed tokens need no keeping.
struct InMemory;

impl TokenVault for InMemory {
    type Lock = ();

    fn lock(&self) -> Result<((), Option<Tokens>), String> {
        Ok(((), None))
    }

    fn keep(&self, _: &mut (), _: &Tokens) -> Result<(), String> {
        Ok(())
    }
}

/// Σ `total` of the stored invoices per currency.
fn stored_totals(store: &Store, tenant: &str) -> anyhow::Result<(u64, BTreeMap<String, Decimal>)> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Decimal128Type;
    let snap = store
        .latest(tenant)?
        .context("no snapshot after the sync")?;
    let inv = &bexio_bi_model::catalog::FACT_INVOICE;
    let (cur, total) = (
        inv.index_of("currency_code").context("column")?,
        inv.index_of("total").context("column")?,
    );
    let (mut n, mut sums) = (0u64, BTreeMap::new());
    for batch in snap.read(inv.name)? {
        let b = batch?;
        let codes = b.column(cur).as_string::<i32>();
        let totals = b.column(total).as_primitive::<Decimal128Type>();
        for i in 0..b.num_rows() {
            *sums
                .entry(codes.value(i).to_owned())
                .or_insert(Decimal::ZERO) += Decimal::from_i128_with_scale(totals.value(i), 2);
        }
        n += b.num_rows() as u64;
    }
    Ok((n, sums))
}

/// Runs the demo.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    // bexio's real limits, but a simulated minute every second: a full sync needs one request per
    // invoice for its positions, which at 1000 requests a minute takes minutes of real time.
    let config = SandboxConfig {
        seed: args.seed,
        companies: args.companies,
        invoices: args.invoices,
        time_scale: args.time_scale,
        ..SandboxConfig::default()
    };
    if !args.json {
        eprintln!(
            "Generating {} companies with {} invoices each…",
            args.companies, args.invoices
        );
    }
    let sandbox = Sandbox::start(config, "127.0.0.1:0".parse()?)
        .await
        .context("cannot start the sandbox")?;
    let http = reqwest::Client::new();
    let base = sandbox.url().to_string();
    // A fresh store for the demo under BEXIO_BI_HOME, apart from real data.
    let dir = crate::home::data_dir()?.join("demo");
    let data = dir.join("data");
    for old in [&data, &dir.join("backups")] {
        if old.exists() {
            std::fs::remove_dir_all(old)
                .with_context(|| format!("cannot clear {}", old.display()))?;
        }
    }
    // Encrypted like every store: with BEXIO_BI_PASSWORD when set, else the demo's own password.
    let (password, password_from) = match std::env::var("BEXIO_BI_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, "BEXIO_BI_PASSWORD".to_owned()),
        _ => (
            DEMO_PASSWORD.to_owned(),
            format!("the demo password \"{DEMO_PASSWORD}\""),
        ),
    };
    let store = Store::open_encrypted(&data, &password)?;
    let progress = crate::progress::Bars::for_terminal(args.json);

    let mut oauth_user = String::new();
    let mut companies = Vec::new();
    for tenant in sandbox.ready().tenants.clone() {
        // Each company is read with its own OAuth access token, as a Treuhand's app would.
        let (user, source) = oauth_login(&sandbox, &tenant.company_id)
            .await
            .with_context(|| format!("OAuth login to {} failed", tenant.name))?;
        if oauth_user.is_empty() {
            oauth_user = user;
        }
        let client =
            Client::with_source(&base, &tenant.company_id, source, RetryPolicy::default())?;
        let report = bexio_bi_sync::sync(
            &tenant.company_id,
            &client,
            &store,
            Options::default(),
            progress.clone(),
        )
        .await
        .with_context(|| format!("syncing {} failed", tenant.name))?;
        let (invoices_read, totals_read) = stored_totals(&store, &tenant.company_id)?;
        let totals_truth = truth_totals(&http, &base, &tenant.company_id).await?;
        // A week of business, then the next sync.
        let resp = http
            .post(format!(
                "{base}/_sandbox/advance?days=7&company_id={}",
                tenant.company_id
            ))
            .send()
            .await?
            .error_for_status()?;
        let week: serde_json::Value = resp.json().await?;
        let changes = &week["companies"][0]["changes"];
        let second = bexio_bi_sync::sync(
            &tenant.company_id,
            &client,
            &store,
            Options::default(),
            progress.clone(),
        )
        .await
        .context("second sync failed")?;
        // The incremental sync must have found exactly what bexio changed.
        let ids = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
            v.as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|id| id.to_string().trim_matches('"').to_owned())
                .collect()
        };
        let week_found_exactly = ["kb_invoice", "kb_offer", "kb_order", "contact"]
            .iter()
            .all(|stream| {
                let found = second.changes.get(*stream).cloned().unwrap_or_default();
                let set =
                    |v: &[String]| v.iter().cloned().collect::<std::collections::BTreeSet<_>>();
                set(&found.created) == ids(&changes[*stream]["created"])
                    && set(&found.updated) == ids(&changes[*stream]["updated"])
                    && set(&found.deleted) == ids(&changes[*stream]["deleted"])
            });
        let found = second
            .changes
            .get("kb_invoice")
            .cloned()
            .unwrap_or_default();
        let (invoices_after_week, totals_after) = stored_totals(&store, &tenant.company_id)?;
        let truth_after = truth_totals(&http, &base, &tenant.company_id).await?;
        // What the comparator makes of the week: the two versions the syncs wrote.
        let versions = store.versions(&tenant.company_id)?;
        let week_diff = match versions.as_slice() {
            [.., a, b] => bexio_bi_compare::diff(
                &store.version(&tenant.company_id, &a.id)?,
                &store.version(&tenant.company_id, &b.id)?,
            )?
            .headline(),
            _ => String::new(),
        };
        companies.push(CompanyReport {
            name: tenant.name.clone(),
            company_id: tenant.company_id.clone(),
            tables: report.tables.clone(),
            invoices_read,
            reconciled: totals_read == totals_truth && report.rejected == 0,
            totals_read,
            totals_truth,
            rejected: report.rejected,
            requests: report.http.requests,
            throttled: report.http.throttled,
            sync_seconds: report.seconds,
            week_created: found.created.len(),
            week_updated: found.updated.len(),
            week_deleted: found.deleted.len(),
            week_found_exactly,
            week_requests: second.http.requests,
            invoices_after_week,
            reconciled_after_week: totals_after == truth_after && second.rejected == 0,
            week_diff,
            versions: versions.len(),
        });
    }
    // A backup of both companies' versions, then a second one: it copies nothing new.
    let target = bexio_bi_store::backup::Target::open(&dir.join("backups").display().to_string())?;
    let backup = store.backup(&target).await?;
    let again = store.backup(&target).await?;
    let backup_verified = store.verify_backup(&target, &again.id).await?;
    // Every company's latest version through the file exporters (Parquet, CSV, Excel and the
    // sandboxed QVD component), in one pass each.
    let export_dir = dir.join("exports");
    let exports = tokio::task::block_in_place(|| -> anyhow::Result<Vec<ExportReport>> {
        let names = FORMATS.map(str::to_owned);
        let plugins = super::export::prepare(&names, &Default::default())?;
        let mut out = Vec::new();
        for c in &companies {
            let Some(snap) = store.latest(&c.company_id)? else {
                continue;
            };
            let tables: Vec<String> = snap
                .manifest()
                .tables
                .iter()
                .map(|t| t.name.clone())
                .collect();
            let silent = bexio_bi_sync::Silent;
            for d in super::export::export_version(
                &snap,
                &tables,
                &plugins,
                &export_dir,
                &Default::default(),
                &silent,
            )? {
                let (rows, files) = d
                    .outcome
                    .result
                    .as_ref()
                    .map_or((0, 0), |s| (s.total_rows(), s.files.len()));
                out.push(ExportReport {
                    company_id: c.company_id.clone(),
                    plugin: d.plugin,
                    dir: d.dir.display().to_string(),
                    rows,
                    files,
                    seconds: d.outcome.seconds,
                    error: d.outcome.result.err().map(|e| e.to_string()),
                });
            }
        }
        Ok(out)
    })?;
    let requests = companies.iter().map(|c| c.requests + c.week_requests).sum();
    let (stats, _) = get_json(&http, &format!("{base}/_sandbox/stats"), "").await?;
    let simulated_minutes = stats["clock"]["simulated_seconds"].as_f64().unwrap_or(0.0) / 60.0;
    let report = Report {
        sandbox_url: base,
        oauth_user,
        store: data.display().to_string(),
        encrypted_with: password_from,
        companies,
        requests,
        seconds: started.elapsed().as_secs_f64(),
        simulated_minutes,
        backup,
        backup_again_copied: again.copied,
        backup_verified,
        backup_target: target.url().to_owned(),
        exports,
        exports_dir: export_dir.display().to_string(),
    };
    sandbox.stop().await;

    // Keep the report where later runs (and later stages of the pipeline) find it.
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("report.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("cannot write {}", path.display()))?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
        println!("Report saved to {}", path.display());
    }
    if report
        .companies
        .iter()
        .any(|c| !c.reconciled || !c.reconciled_after_week)
    {
        bail!("invoice totals in the store do not match the sandbox's ground truth");
    }
    if report.companies.iter().any(|c| !c.week_found_exactly) {
        bail!("the incremental sync did not find exactly what changed in bexio");
    }
    if let Some(e) = report.exports.iter().find(|e| e.error.is_some()) {
        bail!(
            "exporting {} through {} failed: {}",
            e.company_id,
            e.plugin,
            e.error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// The sandbox's ground truth: invoice totals per currency of one company.
async fn truth_totals(
    http: &reqwest::Client,
    base: &str,
    company_id: &str,
) -> anyhow::Result<BTreeMap<String, Decimal>> {
    let (stats, _) = get_json(
        http,
        &format!("{base}/_sandbox/stats?company_id={company_id}"),
        "",
    )
    .await?;
    let mut totals = BTreeMap::new();
    if let Some(by) = stats["companies"][0]["stats"]["invoices"]["by_currency"].as_object() {
        for (code, sums) in by {
            totals.insert(
                code.clone(),
                sums["sum_total"].as_str().unwrap_or("0").parse()?,
            );
        }
    }
    Ok(totals)
}

fn print_report(r: &Report) {
    println!("bexio-bi demo — local sandbox at {}", r.sandbox_url);
    println!(
        "Signed in to each company with OAuth (authorization code + PKCE), e.g. as {}",
        r.oauth_user
    );
    println!(
        "Synced into {} (encrypted: XChaCha20-Poly1305, key from Argon2id over {})",
        r.store, r.encrypted_with
    );
    println!();
    println!(
        "{:<26} {:>8} {:>7} {:>7} {:>36} {:>11} {:>9}",
        "company",
        "invoices",
        "lines",
        "journal",
        "Σ invoice totals in the store",
        "reconciled",
        "requests"
    );
    for c in &r.companies {
        let totals: Vec<String> = c
            .totals_read
            .iter()
            .map(|(cur, v)| format!("{cur} {}", money(*v)))
            .collect();
        let rows = |t: &str| c.tables.get(t).copied().unwrap_or(0);
        println!(
            "{:<26} {:>8} {:>7} {:>7} {:>36} {:>11} {:>9}",
            truncate(&c.name, 26),
            c.invoices_read,
            rows("fact_invoice_line"),
            rows("fact_journal"),
            totals.join(" + "),
            if c.reconciled { "to the cent" } else { "NO" },
            c.requests
        );
    }
    println!();
    for c in &r.companies {
        let tables = c.tables.len();
        let rows: u64 = c.tables.values().sum();
        println!(
            "{}: {rows} rows in {tables} tables, {} rejected, {} throttled, {:.1} s",
            c.company_id, c.rejected, c.throttled, c.sync_seconds,
        );
        println!(
            "  a week later, an incremental sync: {} new, {} changed, {} deleted invoices ({}) in {} requests instead of {} → {} invoices, {}",
            c.week_created,
            c.week_updated,
            c.week_deleted,
            if c.week_found_exactly {
                "exactly what bexio changed"
            } else {
                "NOT what bexio changed"
            },
            c.week_requests,
            c.requests,
            c.invoices_after_week,
            if c.reconciled_after_week {
                "reconciled to the cent"
            } else {
                "NOT reconciled"
            }
        );
        println!(
            "  bexio-bi diff ({} versions stored): {}",
            c.versions, c.week_diff
        );
    }
    println!();
    println!(
        "Backed up to {}: {} chunks ({} kB) copied; a second backup copied {} (deduplicated); {} chunks verified",
        r.backup_target,
        r.backup.copied,
        r.backup.copied_bytes / 1024,
        r.backup_again_copied,
        r.backup_verified
    );
    println!();
    for e in &r.exports {
        match &e.error {
            None => println!(
                "Exported {} → {}: {} rows in {} {}, {}",
                e.company_id,
                e.plugin,
                e.rows,
                e.files,
                if e.files == 1 { "file" } else { "files" },
                e.dir
            ),
            Some(err) => println!("Export {} → {} FAILED: {err}", e.company_id, e.plugin),
        }
    }
    println!(
        "Every format ({}) is in {}",
        FORMATS.join(", "),
        r.exports_dir
    );
    println!(
        "{} API requests in {:.1} s ({:.1} minutes of bexio time at its real rate limits)",
        r.requests, r.seconds, r.simulated_minutes
    );
}

/// `1234567.8` → `1'234'567.80`, the Swiss way.
fn money(v: Decimal) -> String {
    let s = format!("{:.2}", v.round_dp(2));
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\'');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{frac}")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
