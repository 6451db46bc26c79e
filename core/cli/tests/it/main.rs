//! The `bexio-bi` binary as users and scripts meet it.

mod auth;
mod backup;
mod encryption;
mod files;
mod plugins;
mod resume;
mod versions;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The output of a command that must succeed (both streams shown when it does not).
fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON a command that must succeed printed.
fn json(out: std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&ok(out).stdout).expect("JSON")
}

/// A fresh BEXIO_BI_HOME whose config.toml has `extra` (TOML tables) and one company, `acme`,
/// at `url`.
fn acme_home(tag: &str, url: &str, extra: &str) -> std::path::PathBuf {
    let home = std::env::temp_dir().join(format!("bexio-bi-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(
        home.join("config.toml"),
        format!("{extra}[[tenant]]\nname = \"acme\"\nbase_url = \"{url}\"\n"),
    )
    .expect("config");
    home
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bexio-bi"));
    c.env(
        "BEXIO_BI_HOME",
        std::env::temp_dir().join("bexio-bi-cli-tests"),
    );
    c.env_remove("RUST_LOG");
    c.env("BEXIO_BI_PASSWORD", TEST_PASSWORD);
    c.env_remove("BEXIO_BI_PASSWORD_FILE");
    c.env_remove("BEXIO_BI_NEW_PASSWORD");
    c
}

/// The master password of the tests' stores.
const TEST_PASSWORD: &str = "correct horse battery staple";

#[test]
fn help_teaches_with_examples() {
    let out = bin().arg("--help").output().expect("run bexio-bi --help");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Examples:"), "{text}");
    assert!(text.contains("bexio-bi demo"), "{text}");
    assert!(text.contains("BEXIO_BI_HOME"), "{text}");
    let out = bin()
        .args(["sandbox", "serve", "--help"])
        .output()
        .expect("run sandbox serve --help");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--faults",
        "--time-scale",
        "--companies",
        "--invoices",
        "--seed",
        "_sandbox/stats",
    ] {
        assert!(
            text.contains(needle),
            "sandbox serve --help lacks {needle}: {text}"
        );
    }
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    let out = bin()
        .args(["sandbox", "serve", "--faults", "explode=0.5"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown fault kind"), "{err}");
    let out = bin()
        .args(["sandbox", "serve", "--companies", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = bin().args(["no-such-command"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sandbox_serve_prints_one_json_line_serves_and_stops_on_sigterm() {
    let mut child = bin()
        .args([
            "sandbox",
            "serve",
            "--invoices",
            "300",
            "--companies",
            "2",
            "--seed",
            "5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sandbox");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the ready line");
    let ready: serde_json::Value = serde_json::from_str(&line).expect("the ready line is JSON");
    let url = ready["url"].as_str().expect("url").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let tenants = ready["tenants"].as_array().expect("tenants");
    assert_eq!(tenants.len(), 2);
    for t in tenants {
        for k in ["name", "company_id", "token"] {
            assert!(
                t[k].as_str().is_some_and(|s| !s.is_empty()),
                "tenant lacks {k}: {t}"
            );
        }
    }
    let token = tenants[0]["token"].as_str().expect("token").to_string();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{url}/2.0/kb_invoice?limit=3"))
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("GET invoices");
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body.as_array().map(Vec::len), Some(3));
    });

    // SIGTERM ends it cleanly.
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status after SIGTERM: {status:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the sandbox did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn demo_runs_end_to_end_and_reconciles() {
    let out = bin()
        .args(["demo", "--companies", "2", "--invoices", "400", "--json"])
        .output()
        .expect("run demo");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("demo --json prints JSON");
    let companies = report["companies"].as_array().expect("companies");
    assert_eq!(companies.len(), 2);
    // Every company through every file exporter.
    let exports = report["exports"].as_array().expect("exports");
    assert_eq!(exports.len(), 2 * 5, "{report}");
    for e in exports {
        assert!(e["error"].is_null(), "{e}");
        assert!(e["rows"].as_u64().unwrap_or(0) > 400, "{e}");
        let dir = std::path::Path::new(e["dir"].as_str().expect("dir"));
        let file = match e["plugin"].as_str() {
            Some("xlsx") => "bexio-bi.xlsx".to_owned(),
            Some("hyper") => "bexio-bi.hyper".to_owned(),
            Some(ext) => format!("fact_invoice.{ext}"),
            None => panic!("{e}"),
        };
        assert!(dir.join(&file).exists(), "{e}: no {file}");
    }
    for c in companies {
        assert_eq!(c["reconciled"], true, "{c}");
        assert_eq!(c["invoices_read"].as_u64(), Some(400), "{c}");
        assert!(c["week_created"].as_u64().unwrap_or(0) > 0, "{c}");
    }
    assert!(
        report["oauth_user"]
            .as_str()
            .is_some_and(|u| u.contains('@'))
    );
}

#[test]
fn demo_keeps_its_report_under_bexio_bi_home() {
    let home = std::env::temp_dir().join(format!("bexio-bi-home-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let out = bin()
        .env("BEXIO_BI_HOME", &home)
        .args(["demo", "--companies", "1", "--invoices", "200"])
        .output()
        .expect("run demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: serde_json::Value = serde_json::from_slice(
        &std::fs::read(home.join("demo/report.json")).expect("report.json under BEXIO_BI_HOME"),
    )
    .expect("JSON");
    assert_eq!(saved["companies"][0]["reconciled"], true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("reconciled") && text.contains("Report saved to"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&home);
}

/// A sandbox serving one company, configured as `acme` in a fresh BEXIO_BI_HOME and synced
/// once; the sandbox stops when this is dropped.
struct Synced {
    sandbox: std::process::Child,
    url: String,
    token: String,
    company: String,
    home: std::path::PathBuf,
}

impl Synced {
    /// `sandbox serve ARGS`, then `sync`.
    fn new(tag: &str, args: &[&str]) -> Synced {
        let (sandbox, ready) = serve(args);
        let url = ready["url"].as_str().expect("url").to_owned();
        let t = &ready["tenants"][0];
        let s = Synced {
            sandbox,
            token: t["token"].as_str().expect("token").to_owned(),
            company: t["company_id"].as_str().expect("company").to_owned(),
            home: acme_home(tag, &url, ""),
            url,
        };
        ok(s.run(&["sync"]));
        s
    }

    /// `bexio-bi ARGS` on this home, signed in as acme.
    fn run(&self, args: &[&str]) -> std::process::Output {
        bin()
            .env("BEXIO_BI_HOME", &self.home)
            .env("BEXIO_BI_TENANT_ACME_TOKEN", &self.token)
            .env_remove("BEXIO_BI_PLUGIN_PATH")
            .args(args)
            .output()
            .expect("run bexio-bi")
    }
}

impl Drop for Synced {
    fn drop(&mut self) {
        let _ = self.sandbox.kill();
        let _ = self.sandbox.wait();
    }
}

/// Starts `bexio-bi sandbox serve` and returns the child and its ready line.
fn serve(args: &[&str]) -> (std::process::Child, serde_json::Value) {
    let mut child = bin()
        .args(["sandbox", "serve"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    (child, serde_json::from_str(&line).expect("ready JSON"))
}

#[test]
fn init_auth_sync_tables_show_on_a_sandbox() {
    let home = std::env::temp_dir().join(format!("bexio-bi-sync-home-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let run = |args: &[&str]| {
        bin()
            .env("BEXIO_BI_HOME", &home)
            .args(args)
            .output()
            .expect("run")
    };
    let (mut sandbox, ready) = serve(&[
        "--companies",
        "2",
        "--invoices",
        "300",
        "--time-scale",
        "60",
    ]);
    let url = ready["url"].as_str().expect("url");

    // Nothing configured yet: a clear usage error.
    let out = run(&["sync"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("bexio-bi init"));

    assert!(run(&["init"]).status.success());
    assert_eq!(
        run(&["init"]).status.code(),
        Some(2),
        "init does not overwrite"
    );
    let config = format!(
        "[[tenant]]\nname = \"alpha\"\nbase_url = \"{url}\"\n\n[[tenant]]\nname = \"beta\"\nbase_url = \"{url}\"\n"
    );
    std::fs::write(home.join("config.toml"), config).expect("config");

    // A wrong token is refused and not stored; the right ones are stored outside config.toml.
    let out = run(&["auth", "token", "--tenant", "alpha", "--token", "wrong"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expired"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (i, name) in ["alpha", "beta"].iter().enumerate() {
        let token = ready["tenants"][i]["token"].as_str().expect("token");
        let out = run(&["auth", "token", "--tenant", name, "--token", token]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        !std::fs::read_to_string(home.join("config.toml"))
            .expect("config")
            .contains("eyJ")
    );

    let out = run(&["sync", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sync --json");
    let outcomes = summary.as_array().expect("outcomes");
    assert_eq!(outcomes.len(), 2);
    for o in outcomes {
        assert_eq!(o["outcome"], "synced", "{o}");
        assert_eq!(o["tables"]["fact_invoice"], 300, "{o}");
        assert_eq!(o["rejected"], 0);
    }

    let out = run(&["tables", "--json"]);
    let tables: serde_json::Value = serde_json::from_slice(&out.stdout).expect("tables --json");
    assert_eq!(tables.as_array().map(Vec::len), Some(2));
    let out = run(&[
        "show",
        "fact_invoice",
        "--tenant",
        "alpha",
        "--limit",
        "3",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0]["total"].is_string(),
        "money stays an exact string: {}",
        lines[0]
    );
    assert!(lines[0]["invoice_id"].is_number());
    let out = run(&["show", "fact_invoice", "--limit", "1"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "two companies stored: --tenant is needed"
    );
    let out = run(&["show", "no_such_table", "--tenant", "alpha"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bexio-bi tables"));

    // One company failing does not stop the other; the exit code says so.
    std::fs::write(home.join("config.toml"), format!("[[tenant]]\nname = \"alpha\"\nbase_url = \"{url}\"\n\n[[tenant]]\nname = \"gamma\"\nbase_url = \"{url}\"\n")).expect("config");
    let out = bin()
        .env("BEXIO_BI_HOME", &home)
        .env("BEXIO_BI_TENANT_GAMMA_TOKEN", "revoked")
        .args(["sync"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("alpha:") && text.contains("gamma: FAILED"),
        "{text}"
    );

    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
}
