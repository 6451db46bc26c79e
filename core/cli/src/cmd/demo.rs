//! `bexio-bi demo`: the pipeline end to end on an in-process sandbox.
//!
//! Today's pipeline has one stage, the sandbox; the demo drives it the way a client will: it logs
//! in with OAuth (PKCE), pages through every invoice over HTTP, checks the totals against the
//! sandbox's ground truth, lets a week of business happen, and prints what it saw. Later stages
//! (extraction, the store, exporters) plug in here as they land.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, bail};
use base64::Engine;
use bexio_bi_sandbox::{Sandbox, SandboxConfig};
use clap::Args as ClapArgs;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

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
    /// Print the summary as JSON (for scripts).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct CompanyReport {
    name: String,
    company_id: String,
    invoices_read: u64,
    pages: u64,
    /// Σ invoice `total` per currency, as read over the API.
    totals_read: BTreeMap<String, Decimal>,
    /// The same from the sandbox's ground truth.
    totals_truth: BTreeMap<String, Decimal>,
    reconciled: bool,
    contacts: u64,
    bills: u64,
    rate_limit: String,
    week_created: usize,
    week_updated: usize,
    week_deleted: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    sandbox_url: String,
    oauth_user: String,
    companies: Vec<CompanyReport>,
    requests: u64,
    seconds: f64,
}

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

/// Logs in to one company through the sandbox's OAuth realm with PKCE, as a desktop client
/// would; returns who signed in and the access token.
async fn oauth_login(sandbox: &Sandbox, company_id: &str) -> anyhow::Result<(String, String)> {
    let ready = sandbox.ready();
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:53682/callback";
    let auth = format!("{}/protocol/openid-connect/auth", ready.oauth.issuer);
    let resp = no_redirect
        .get(&auth)
        .query(&[
            ("response_type", "code"),
            ("client_id", ready.oauth.public_client_id.as_str()),
            ("redirect_uri", redirect),
            (
                "scope",
                "openid profile email company_profile offline_access kb_invoice_show contact_show accounting",
            ),
            ("state", "demo"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", company_id),
        ])
        .send()
        .await?;
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("the authorization endpoint did not redirect")?;
    let url = reqwest::Url::parse(location)?;
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .context("no code in the redirect")?;
    let token: serde_json::Value = no_redirect
        .post(format!(
            "{}/protocol/openid-connect/token",
            ready.oauth.issuer
        ))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("client_id", ready.oauth.public_client_id.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let access = token["access_token"]
        .as_str()
        .context("no access_token")?
        .to_string();
    let (info, _) = get_json(
        &no_redirect,
        &format!("{}/protocol/openid-connect/userinfo", ready.oauth.issuer),
        &access,
    )
    .await?;
    let user = format!(
        "{} {} <{}>",
        info["given_name"].as_str().unwrap_or(""),
        info["family_name"].as_str().unwrap_or(""),
        info["email"].as_str().unwrap_or("")
    );
    Ok((user, access))
}

/// Runs the demo.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = SandboxConfig {
        seed: args.seed,
        companies: args.companies,
        invoices: args.invoices,
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
    let mut oauth_user = String::new();
    let mut companies = Vec::new();
    for tenant in sandbox.ready().tenants.clone() {
        // Each company is read with its own OAuth access token, as a Treuhand's app would.
        let (user, token) = oauth_login(&sandbox, &tenant.company_id)
            .await
            .with_context(|| format!("OAuth login to {} failed", tenant.name))?;
        if oauth_user.is_empty() {
            oauth_user = user;
        }
        // Page through all invoices the way bexio pages: until a page is shorter than the limit.
        // Currency ids to codes, from the 3.0 API.
        let (currencies, _) = get_json(&http, &format!("{base}/3.0/currencies"), &token).await?;
        let code_of: BTreeMap<u64, String> = currencies
            .as_array()
            .context("currencies are not an array")?
            .iter()
            .filter_map(|c| Some((c["id"].as_u64()?, c["name"].as_str()?.to_string())))
            .collect();
        let (mut offset, limit, mut pages, mut read) = (0u64, 2000u64, 0u64, 0u64);
        let mut totals_read: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut rate_limit;
        loop {
            let (page, headers) = get_json(
                &http,
                &format!("{base}/2.0/kb_invoice?limit={limit}&offset={offset}&order_by=id"),
                &token,
            )
            .await?;
            let rows = page.as_array().context("an invoice page is not an array")?;
            pages += 1;
            for inv in rows {
                let t: Decimal = inv["total"]
                    .as_str()
                    .context("invoice total is not a decimal string")?
                    .parse()?;
                let currency = inv["currency_id"]
                    .as_u64()
                    .and_then(|id| code_of.get(&id))
                    .context("invoice currency is unknown")?;
                *totals_read.entry(currency.clone()).or_default() += t;
            }
            read += rows.len() as u64;
            rate_limit = format!(
                "{}/{} left, reset in {}s",
                headers
                    .get("ratelimit-remaining")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?"),
                headers
                    .get("ratelimit-limit")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?"),
                headers
                    .get("ratelimit-reset")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?"),
            );
            if (rows.len() as u64) < limit {
                break;
            }
            offset += limit;
        }
        let (stats, _) = get_json(
            &http,
            &format!("{base}/_sandbox/stats?company_id={}", tenant.company_id),
            "",
        )
        .await?;
        let truth = &stats["companies"][0]["stats"];
        let mut totals_truth: BTreeMap<String, Decimal> = BTreeMap::new();
        if let Some(by) = truth["invoices"]["by_currency"].as_object() {
            for (code, sums) in by {
                totals_truth.insert(
                    code.clone(),
                    sums["sum_total"].as_str().unwrap_or("0").parse()?,
                );
            }
        }
        let (week, _) = {
            let resp = http
                .post(format!(
                    "{base}/_sandbox/advance?days=7&company_id={}",
                    tenant.company_id
                ))
                .send()
                .await?
                .error_for_status()?;
            (resp.json::<serde_json::Value>().await?, ())
        };
        let changes = &week["companies"][0]["changes"]["kb_invoice"];
        let count = |k: &str| changes[k].as_array().map_or(0, Vec::len);
        companies.push(CompanyReport {
            name: tenant.name.clone(),
            company_id: tenant.company_id.clone(),
            invoices_read: read,
            pages,
            reconciled: totals_read == totals_truth,
            totals_read,
            totals_truth,
            contacts: truth["counts"]["contact"].as_u64().unwrap_or(0),
            bills: truth["counts"]["purchase/bills"].as_u64().unwrap_or(0),
            rate_limit,
            week_created: count("created"),
            week_updated: count("updated"),
            week_deleted: count("deleted"),
        });
    }
    let (stats, _) = get_json(&http, &format!("{base}/_sandbox/stats"), "").await?;
    let requests = stats["companies"].as_array().map_or(0, |cs| {
        cs.iter()
            .map(|c| c["requests"]["served"].as_u64().unwrap_or(0))
            .sum()
    });
    let report = Report {
        sandbox_url: base,
        oauth_user,
        companies,
        requests,
        seconds: started.elapsed().as_secs_f64(),
    };
    sandbox.stop().await;

    // Keep the report where later runs (and later stages of the pipeline) find it.
    let dir = crate::home::data_dir()?.join("demo");
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
    if report.companies.iter().any(|c| !c.reconciled) {
        bail!("invoice totals read over the API do not match the sandbox's ground truth");
    }
    Ok(())
}

fn print_report(r: &Report) {
    println!("bexio-bi demo — local sandbox at {}", r.sandbox_url);
    println!(
        "Signed in to each company with OAuth (authorization code + PKCE), e.g. as {}",
        r.oauth_user
    );
    println!();
    println!(
        "{:<28} {:>8} {:>5} {:>36} {:>11} {:>8} {:>6}",
        "company",
        "invoices",
        "pages",
        "Σ invoice totals over the API",
        "reconciled",
        "contacts",
        "bills"
    );
    for c in &r.companies {
        let totals: Vec<String> = c
            .totals_read
            .iter()
            .map(|(cur, v)| format!("{cur} {}", money(*v)))
            .collect();
        println!(
            "{:<28} {:>8} {:>5} {:>36} {:>11} {:>8} {:>6}",
            truncate(&c.name, 28),
            c.invoices_read,
            c.pages,
            totals.join(" + "),
            if c.reconciled { "to the cent" } else { "NO" },
            c.contacts,
            c.bills
        );
    }
    println!();
    for c in &r.companies {
        println!(
            "{}: rate limit {}; a week later: {} invoices new, {} changed, {} deleted",
            c.company_id, c.rate_limit, c.week_created, c.week_updated, c.week_deleted
        );
    }
    println!();
    println!("{} API requests in {:.1} s", r.requests, r.seconds);
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
