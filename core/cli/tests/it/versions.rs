//! Every sync is a version: `versions` lists, shows, tags and rolls back; `--version` reads one.

use super::{acme_home, bin, json, ok, serve};

#[test]
fn versions_are_listed_tagged_read_and_rolled_back() {
    let (mut sandbox, ready) = serve(&["--invoices", "200", "--time-scale", "60", "--seed", "4"]);
    let url = ready["url"].as_str().expect("url").to_owned();
    let token = ready["tenants"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let home = acme_home("versions", &url, "");
    let run = |args: &[&str]| {
        bin()
            .env("BEXIO_BI_HOME", &home)
            .env("BEXIO_BI_TENANT_ACME_TOKEN", &token)
            .args(args)
            .output()
            .expect("run")
    };
    ok(run(&["sync"]));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/_sandbox/advance?days=30"))
            .send()
            .await
            .expect("advance");
    });
    ok(run(&["sync"]));
    ok(run(&["sync"]));

    let versions = json(run(&["versions", "--json"]));
    let list = versions.as_array().expect("list");
    assert_eq!(list.len(), 3, "{versions}");
    assert!(list[2]["current"].as_bool().expect("current"));
    assert!(
        list[2]["added_bytes"].as_u64().expect("added") * 100
            < list[0]["added_bytes"].as_u64().expect("added"),
        "a sync that changed nothing adds (almost) nothing: {versions}"
    );
    let first = list[0]["id"].as_str().expect("id").to_owned();
    let invoices = |args: &[&str]| -> u64 {
        let t = json(run(&[&["tables", "--json"], args].concat()));
        t[0]["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .find(|t| t["name"] == "fact_invoice")
            .and_then(|t| t["rows"].as_u64())
            .expect("fact_invoice")
    };
    assert_eq!(invoices(&[]), invoices(&["--version", "latest"]));
    assert_eq!(invoices(&["--version", &first]), 200);
    assert!(invoices(&[]) > 200, "a month of business adds invoices");

    ok(run(&["versions", "tag", &first, "v1.0-production"]));
    let shown = json(run(&["versions", "show", "v1.0-production", "--json"]));
    assert_eq!(shown["id"], first.as_str());
    assert!(shown["stats"]["requests"].as_u64().expect("stats") > 200);
    let out = ok(run(&[
        "show",
        "fact_invoice",
        "--version",
        "v1.0-production",
        "--limit",
        "1000",
        "--format",
        "csv",
    ]));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 201);

    // The comparator: the last sync changed nothing; a month of business did.
    let d = json(run(&["diff", "--json"]));
    assert_eq!(d["new_invoices"].as_array().map(Vec::len), Some(0), "{d}");
    let d = json(run(&["diff", "v1.0-production", "latest", "--json"]));
    let new = d["new_invoices"].as_array().expect("new").len();
    assert!(new > 0, "{d}");
    assert_eq!(
        d["tables"]["fact_invoice"]["rows_to"].as_u64(),
        Some(200 + new as u64 - d["deleted_invoices"].as_array().expect("deleted").len() as u64)
    );
    let page = home.join("diff.html");
    let out = ok(run(&[
        "diff",
        "v1.0-production",
        "latest",
        "--html",
        page.to_str().expect("path"),
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("+{new} new invoices · ")), "{text}");
    assert!(text.contains("CHF"), "{text}");
    let html = std::fs::read_to_string(&page).expect("html");
    assert!(html.starts_with("<!doctype html>") && html.contains("new invoices"));

    ok(run(&["versions", "rollback", "v1.0-production"]));
    assert_eq!(invoices(&[]), 200, "the tagged version is current again");
    assert_eq!(
        json(run(&["versions", "--json"])).as_array().map(Vec::len),
        Some(3)
    );

    let out = run(&["versions", "show", "v9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bexio-bi versions"));
    let out = run(&["versions", "tag", "latest", "../../etc"]);
    assert_eq!(out.status.code(), Some(1));
    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn the_audit_trail_records_actions_and_finds_tampering() {
    let (mut sandbox, ready) = serve(&["--invoices", "50", "--time-scale", "60", "--seed", "8"]);
    let url = ready["url"].as_str().expect("url").to_owned();
    let token = ready["tenants"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let home = acme_home("audit", &url, "");
    let run = |args: &[&str]| {
        bin()
            .env("BEXIO_BI_HOME", &home)
            .env("BEXIO_BI_TENANT_ACME_TOKEN", &token)
            .env("USER", "treuhand")
            .args(args)
            .output()
            .expect("run")
    };
    ok(run(&["sync"]));
    ok(run(&["sync"]));
    ok(run(&["versions", "tag", "latest", "closing-2026"]));
    ok(run(&["diff"]));
    let _ = sandbox.kill();
    let failed = run(&["sync"]);
    assert_eq!(failed.status.code(), Some(1));

    let out = ok(run(&["audit", "show", "--json"]));
    let entries: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    // Each successful sync is followed by its backup.
    assert_eq!(
        actions,
        [
            "sync",
            "backup.create",
            "sync",
            "backup.create",
            "versions.tag",
            "diff",
            "sync"
        ]
    );
    assert!(entries.iter().all(|e| e["actor"] == "user:treuhand"));
    assert!(
        entries
            .iter()
            .filter(|e| e["action"] != "backup.create")
            .all(|e| e["tenant"] == "acme")
    );
    assert_eq!(entries[0]["outcome"], "ok");
    assert!(entries[0]["counts"]["requests"].as_u64().expect("requests") > 50);
    assert_ne!(
        entries[6]["outcome"], "ok",
        "the failed sync is recorded as failed"
    );
    let out = ok(run(&["audit", "export", "--csv"]));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 8);
    assert!(csv.starts_with("seq,time,actor,action,tenant"));
    ok(run(&["audit", "verify"]));

    // The entries are encrypted: nothing of them reads in the file.
    let path = home.join("data").join("audit.log");
    let text = std::fs::read_to_string(&path).expect("log");
    assert!(
        !text.contains("closing-2026") && !text.contains("treuhand"),
        "{text}"
    );
    // Edit one entry: verify names the line and fails.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mid = lines[4].len() / 2;
    let flipped = if &lines[4][mid..=mid] == "A" {
        "B"
    } else {
        "A"
    };
    lines[4].replace_range(mid..=mid, flipped);
    std::fs::write(&path, lines.join("\n") + "\n").expect("tamper");
    let out = run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("audit.log:5: "), "{said}");
    // Two entries swapped: found where the order breaks.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(2, 3);
    std::fs::write(&path, lines.join("\n") + "\n").expect("reorder");
    let out = run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("audit.log:3: "), "{said}");
    let _ = std::fs::remove_dir_all(&home);
}
