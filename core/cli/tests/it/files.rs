//! Files written by the exporters, read back by readers we did not write (Python: pyarrow, csv,
//! openpyxl, tableauhyperapi; pyqvd, openqvd and qvdrs),
//! compared with the store and with the sandbox's ground truth to the cent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rust_decimal::Decimal;

use super::{Synced, json, ok};

/// The venv's python (tests/python/venv.sh creates it once).
fn python() -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/venv.sh");
    let out = Command::new("bash").arg(&script).output().expect("venv.sh");
    assert!(
        out.status.success(),
        "the readers' venv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn read_back(python: &Path, kind: &str, dir: &Path) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/read_back.py");
    let out = Command::new(python)
        .arg(script)
        .arg(kind)
        .arg(dir)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn sums(v: &serde_json::Value) -> BTreeMap<String, Decimal> {
    v.as_object()
        .expect("sums")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str()
                    .expect("text")
                    .parse::<Decimal>()
                    .expect("decimal"),
            )
        })
        .collect()
}

#[test]
fn every_file_format_is_read_back_by_independent_readers() {
    let python = python();
    let acme = Synced::new(
        "files",
        &["--invoices", "400", "--time-scale", "60", "--seed", "21"],
    );
    let run = |args: &[&str]| acme.run(args);
    let (url, company, home) = (&acme.url, &acme.company, &acme.home);
    let stored = json(run(&["tables", "--json"]));
    let rows: BTreeMap<String, u64> = stored[0]["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().expect("name").to_owned(),
                t["rows"].as_u64().expect("rows"),
            )
        })
        .collect();
    let tenant = stored[0]["tenant"].as_str().expect("tenant").to_owned();

    // The sandbox's own sums of the invoices' totals, per currency.
    let stats: serde_json::Value = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            reqwest::get(format!("{url}/_sandbox/stats?company_id={company}"))
                .await
                .expect("stats")
                .json()
                .await
                .expect("json")
        });
    let truth: BTreeMap<String, Decimal> =
        stats["companies"][0]["stats"]["invoices"]["by_currency"]
            .as_object()
            .expect("by_currency")
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v["sum_total"]
                        .as_str()
                        .expect("sum")
                        .parse()
                        .expect("decimal"),
                )
            })
            .collect();
    assert!(!truth.is_empty());

    let out = home.join("exports");
    let out_s = out.to_str().expect("utf8");
    ok(run(&[
        "export",
        "--to",
        "parquet,csv,xlsx,qvd,hyper",
        "--out",
        out_s,
    ]));
    ok(run(&[
        "plugins",
        "enable",
        "parquet",
        "--config",
        r#"{"format": "arrow"}"#,
    ]));
    let arrow_out = home.join("exports-arrow");
    ok(run(&["export", "--out", arrow_out.to_str().expect("utf8")]));
    ok(run(&[
        "plugins",
        "enable",
        "csv",
        "--config",
        r#"{"excel": true}"#,
    ]));
    ok(run(&["plugins", "disable", "parquet"]));
    let excel_out = home.join("exports-excel");
    ok(run(&["export", "--out", excel_out.to_str().expect("utf8")]));

    for (kind, dir) in [
        ("parquet", out.join(&tenant).join("parquet")),
        ("csv", out.join(&tenant).join("csv")),
        ("arrow", arrow_out.join(&tenant).join("parquet")),
        ("csv", excel_out.join(&tenant).join("csv")),
        ("xlsx", out.join(&tenant).join("xlsx")),
        ("hyper", out.join(&tenant).join("hyper")),
    ] {
        let found = read_back(&python, kind, &dir);
        let what = format!("{kind} in {}", dir.display());
        for (table, n) in &rows {
            assert_eq!(
                found["tables"][table]["rows"].as_u64(),
                Some(*n),
                "{what}: rows of {table}"
            );
        }
        assert_eq!(
            sums(&found["invoice_totals"]),
            truth,
            "{what}: invoice totals"
        );
        let letters: Vec<&str> = found["letters"]
            .as_array()
            .expect("letters")
            .iter()
            .filter_map(|l| l.as_str())
            .collect();
        assert!(
            letters.iter().any(|l| ["ä", "ö", "ü", "é"].contains(l)),
            "{what}: no non-ASCII text came back: {letters:?}"
        );
        let invoice = &found["tables"]["fact_invoice"]["columns"];
        if kind == "xlsx" {
            // Excel keeps numbers and dates as such (shown with the CHF and date formats).
            // (openpyxl gives whole amounts as int)
            let types = invoice["total"]["types"].as_array().expect("types");
            assert!(
                !types.is_empty() && types.iter().all(|t| t == "float" || t == "int"),
                "{what}: {types:?}"
            );
            assert_eq!(
                invoice["invoice_date"]["types"],
                serde_json::json!(["date"]),
                "{what}"
            );
            // Every sheet is one Excel table over exactly its rows, under a frozen header.
            for sheet in found["sheets"].as_array().expect("sheets") {
                assert_eq!(sheet["freeze"], "A2", "{what}: {sheet}");
                let tables = sheet["tables"].as_object().expect("tables");
                let data_rows = sheet["rows"].as_u64().expect("rows");
                if data_rows == 0 {
                    // Excel has no empty tables: an empty table is a header row alone.
                    assert!(tables.is_empty(), "{what}: {sheet}");
                    continue;
                }
                assert_eq!(tables.len(), 1, "{what}: {sheet}");
                let range = tables
                    .values()
                    .next()
                    .and_then(|r| r.as_str())
                    .expect("ref");
                let last_row = range
                    .strip_prefix("A1:")
                    .map(|r| r.trim_start_matches(|c: char| c.is_ascii_alphabetic()));
                assert_eq!(
                    last_row,
                    Some(format!("{}", data_rows + 1).as_str()),
                    "{what}: {sheet}"
                );
            }
        } else if kind == "hyper" {
            // Tableau's own types: exact NUMERIC, DATE, TIMESTAMPTZ; keys declared.
            assert_eq!(invoice["total"]["type"], "NUMERIC(18, 2)", "{what}");
            assert_eq!(invoice["invoice_date"]["type"], "DATE", "{what}");
            assert_eq!(invoice["invoice_key"]["not_null"], true, "{what}");
            let keys = found["keys"].as_array().expect("keys");
            let count = |k: &str| {
                keys.iter()
                    .filter(|c| c["kind"] == k)
                    .filter_map(|c| c["count"].as_u64())
                    .sum::<u64>()
            };
            assert!(count("primary") >= 10, "{what}: {keys:?}");
            assert!(count("foreign") >= 10, "{what}: {keys:?}");
        } else if kind != "csv" {
            // Exact types survive: decimals stay decimals, dates dates.
            assert!(
                invoice["total"]["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("decimal128(")),
                "{what}: {}",
                invoice["total"]
            );
            assert_eq!(invoice["invoice_date"]["type"], "date32[day]", "{what}");
        }
        // NULLs stay NULLs (an invoice without a due date, a contact without a second line…).
        let nulls: u64 = found["tables"]
            .as_object()
            .expect("tables")
            .values()
            .flat_map(|t| t["columns"].as_object().expect("columns").values())
            .filter_map(|c| c["nulls"].as_u64())
            .sum();
        assert!(nulls > 0, "{what}: no NULLs at all");
    }

    // QVD, written by the sandboxed WebAssembly component, read by all three QVD readers.
    let qvd_dir = out.join(&tenant).join("qvd");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/qvd_read.py");
    let read = Command::new(&python)
        .arg(script)
        .arg(&qvd_dir)
        .arg("--summary")
        .output()
        .expect("python");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let found: serde_json::Value = serde_json::from_slice(&read.stdout).expect("JSON");
    for (table, n) in &rows {
        for reader in ["pyqvd", "openqvd", "qvdrs"] {
            let got = &found[format!("{table}.qvd")][reader];
            let what = format!("{table}.qvd by {reader}");
            assert!(got["error"].is_null(), "{what}: {}", got["error"]);
            assert_eq!(got["rows"].as_u64(), Some(*n), "{what}: rows");
            if table == "fact_invoice" {
                assert_eq!(
                    sums(&got["invoice_totals"]),
                    truth,
                    "{what}: invoice totals"
                );
                // Dates come back as dates (pyqvd gives every value as its text).
                let date = &got["types"]["invoice_date"];
                let want = if reader == "pyqvd" { "s" } else { "d" };
                assert_eq!(date, &serde_json::json!([want]), "{what}: invoice_date");
                assert!(
                    got["letters"].as_array().is_some_and(|l| !l.is_empty()),
                    "{what}"
                );
            }
        }
    }
    let nulls: u64 = found
        .as_object()
        .expect("files")
        .values()
        .flat_map(|f| f["qvdrs"]["nulls"].as_object().expect("nulls").values())
        .filter_map(|n| n.as_u64())
        .sum();
    assert!(nulls > 0, "no NULLs came back from the QVD files");
}
