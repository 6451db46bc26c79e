//! `bexio-bi sync` killed with SIGKILL at two points resumes and ends with the same tables as an
//! uninterrupted sync; `--offline` rebuilds them without bexio.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{bin, ok, serve};

fn home(tag: &str) -> PathBuf {
    let home = std::env::temp_dir().join(format!("bexio-bi-resume-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).expect("home");
    home
}

fn cmd(home: &Path, url: &str, token: &str) -> Command {
    std::fs::write(
        home.join("config.toml"),
        format!("[[tenant]]\nname = \"acme\"\nbase_url = \"{url}\"\n"),
    )
    .expect("config");
    let mut c = bin();
    c.env("BEXIO_BI_HOME", home)
        .env("BEXIO_BI_TENANT_ACME_TOKEN", token);
    c
}

fn served(url: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let stats: serde_json::Value = reqwest::get(format!("{url}/_sandbox/stats"))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json");
        stats["companies"][0]["requests"]["served"]
            .as_u64()
            .expect("served")
    })
}

/// Every table of the company as sorted CSV lines.
fn tables(c: impl Fn() -> Command) -> Vec<(String, Vec<String>)> {
    let out = ok(c().args(["tables", "--json"]).output().expect("tables"));
    let manifests: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut all = Vec::new();
    for t in manifests[0]["tables"].as_array().expect("tables") {
        let name = t["name"].as_str().expect("name").to_owned();
        let out = ok(c()
            .args(["show", &name, "--format", "csv", "--limit", "100000000"])
            .output()
            .expect("show"));
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        all.push((name, lines));
    }
    all
}

#[test]
fn a_sync_killed_twice_resumes_without_duplicates() {
    let (mut sandbox, ready) = serve(&["--invoices", "1500", "--time-scale", "60", "--seed", "11"]);
    let url = ready["url"].as_str().expect("url").to_owned();
    let token = ready["tenants"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let clean = home("clean");
    let before = served(&url);
    let out = ok(cmd(&clean, &url, &token)
        .args(["sync", "--json"])
        .output()
        .expect("sync"));
    let full: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    let n = served(&url) - before;
    assert_eq!(full[0]["mode"], "full", "{full}");

    let killed = home("killed");
    let mut spent = 0;
    for share in [4, 2] {
        let start = served(&url);
        let mut child = cmd(&killed, &url, &token)
            .arg("sync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let target = n / share;
        let deadline = Instant::now() + Duration::from_secs(120);
        while served(&url) - start < target {
            assert!(
                child.try_wait().expect("wait").is_none(),
                "the sync ended before it was killed"
            );
            assert!(Instant::now() < deadline, "the sync does not progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        spent += served(&url) - start;
        // Nothing half-written is visible.
        let out = cmd(&killed, &url, &token)
            .args(["tables", "--json"])
            .output()
            .expect("tables");
        assert_eq!(out.status.code(), Some(2), "no data published yet");
    }
    let start = served(&url);
    let out = ok(cmd(&killed, &url, &token)
        .args(["sync", "--json"])
        .output()
        .expect("sync"));
    spent += served(&url) - start;
    let resumed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert!(
        !resumed[0]["cache"]["resumed"]
            .as_array()
            .expect("resumed")
            .is_empty(),
        "{resumed}"
    );
    assert_eq!(resumed[0]["tables"], full[0]["tables"]);
    assert!(
        spent < n + n / 5,
        "{spent} requests with two kills vs {n} without"
    );
    assert_eq!(
        tables(|| cmd(&killed, &url, &token)),
        tables(|| cmd(&clean, &url, &token)),
        "the resumed sync's tables differ from an uninterrupted one's"
    );

    // Offline: no request, the same tables.
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    let out = ok(cmd(&clean, &url, &token)
        .args(["sync", "--offline", "--json"])
        .output()
        .expect("offline"));
    let offline: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(offline[0]["mode"], "offline");
    assert_eq!(offline[0]["http"]["requests"], 0);
    assert_eq!(offline[0]["tables"], full[0]["tables"]);
    let never = home("never");
    let out = cmd(&never, &url, &token)
        .args(["sync", "--offline"])
        .output()
        .expect("offline");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("without --offline"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for h in [clean, killed, never] {
        let _ = std::fs::remove_dir_all(h);
    }
}
