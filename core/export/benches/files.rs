//! The file exporters against the tools a user would otherwise pick, side by side in one run on
//! the same 1,000,000-row invoice-lines table: Parquet vs `pyarrow.parquet.write_table`, Excel
//! vs openpyxl's write-only mode, Tableau `.hyper` vs `pantab.frame_to_hyper`, QVD vs Python
//! `qvdrs` and `pyqvd`, and our QVD writer as the sandboxed WebAssembly component vs the same
//! writer built natively. Every writer runs in a process of its own, from the table in memory to
//! the finished file; then the peak memory of ours on 10,000,000 rows, streamed.
//!
//! `cargo bench -p bexio-bi-export --bench files` (needs tests/python/venv.sh's venv);
//! `BENCH_ROWS` and `BENCH_BIG_ROWS` change the sizes; `BENCH_QVD_DICTIONARY_MB` the QVD
//! writer's dictionary budget; `BENCH_QVD_PAIRS` the alternating native/WebAssembly QVD runs (5);
//! `BENCH_ONLY=qvd` runs one format, `BENCH_THEIRS=0` leaves the other tools out;
//! `BENCH_COLUMNS=line_key,tenant` exports only those columns (to see what each costs, with the
//! child mode: `<bench binary> --child qvd-wasm 1000000 time OUT_DIR CACHE_DIR`).

#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::SchemaRef;
use bexio_bi_export::builtin::Builtin;
use bexio_bi_export::{Batch, Limits, Linked, OpenRequest, ROWS_METADATA, TracingHost};

const BATCH: usize = 8192;

const ARTICLES: &[&str] = &[
    "Beratung Stunde",
    "Zürcher Geschnetzeltes",
    "Käse-Fondue für 4",
    "Service d'entretien",
    "Crème brûlée",
    "Straßenreinigung",
    "Lizenz Jahresabo €",
];

/// Rows `from..from + n` of the invoice-lines table (deterministic).
/// Only the columns `BENCH_COLUMNS` names (comma-separated), when set: to see what each costs.
fn lines(from: usize, n: usize) -> RecordBatch {
    let batch = all_lines(from, n);
    match std::env::var("BENCH_COLUMNS") {
        Ok(names) => {
            let schema = batch.schema();
            let picked: Vec<usize> = names
                .split(',')
                .map(|name| {
                    schema.index_of(name.trim()).unwrap_or_else(|_| {
                        let all: Vec<&str> =
                            schema.fields().iter().map(|f| f.name().as_str()).collect();
                        panic!("BENCH_COLUMNS: no column {name:?}; the columns: {all:?}")
                    })
                })
                .collect();
            batch.project(&picked).expect("the named columns")
        }
        Err(_) => batch,
    }
}

/// Rows `from..from + n` of every column.
fn all_lines(from: usize, n: usize) -> RecordBatch {
    let ids = from as i64..(from + n) as i64;
    let col = |a: ArrayRef| a;
    let dec = |v: Vec<Option<i128>>, p: u8, s: i8| -> ArrayRef {
        Arc::new(
            Decimal128Array::from(v)
                .with_precision_and_scale(p, s)
                .expect("decimal"),
        )
    };
    // Every column nullable, as in every batch (NULLs depend on the rows).
    RecordBatch::try_from_iter_with_nullable([
        (
            "line_key",
            col(Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| format!("acme:{i}")),
            ))),
            true,
        ),
        (
            "tenant",
            col(Arc::new(StringArray::from_iter_values(
                ids.clone().map(|_| "acme"),
            ))),
            true,
        ),
        (
            "invoice_key",
            col(Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| format!("acme:{}", i / 5)),
            ))),
            true,
        ),
        (
            "position",
            col(Arc::new(Int64Array::from_iter_values(
                ids.clone().map(|i| i % 5 + 1),
            ))),
            true,
        ),
        (
            "article_key",
            col(Arc::new(StringArray::from_iter(ids.clone().map(|i| {
                (i % 11 != 0).then(|| format!("acme:{}", (i * 7) % 2000))
            })))),
            true,
        ),
        (
            "text",
            col(Arc::new(StringArray::from_iter_values(ids.clone().map(
                |i| format!("{} #{}", ARTICLES[(i % 7) as usize], i % 700),
            )))),
            true,
        ),
        (
            "quantity",
            dec(
                ids.clone()
                    .map(|i| Some(i128::from(i % 40 + 1) * 2500))
                    .collect(),
                18,
                4,
            ),
            true,
        ),
        (
            "unit_price",
            dec(
                ids.clone()
                    .map(|i| Some(i128::from((i * 7919) % 500_000 + 100)))
                    .collect(),
                18,
                2,
            ),
            true,
        ),
        (
            "discount_pct",
            dec(
                ids.clone()
                    .map(|i| (i % 9 == 0).then_some(50_000))
                    .collect(),
                9,
                4,
            ),
            true,
        ),
        (
            "total",
            dec(
                ids.clone()
                    .map(|i| {
                        Some(i128::from((i * 7919) % 500_000 + 100) * i128::from(i % 40 + 1) / 4)
                    })
                    .collect(),
                18,
                2,
            ),
            true,
        ),
        (
            "tax_rate",
            dec(
                ids.clone()
                    .map(|i| Some(if i % 3 == 0 { 26_000 } else { 81_000 }))
                    .collect(),
                9,
                4,
            ),
            true,
        ),
        (
            "currency_code",
            col(Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| if i % 10 == 0 { "EUR" } else { "CHF" }),
            ))),
            true,
        ),
        (
            "invoice_date",
            col(Arc::new(Date32Array::from_iter_values(
                ids.clone().map(|i| 19_000 + (i / 5 % 2000) as i32),
            ))),
            true,
        ),
        (
            "updated_at",
            col(Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    ids.map(|i| 1_640_000_000_000_000 + i * 37_000_000),
                )
                .with_timezone("UTC"),
            )),
            true,
        ),
    ])
    .expect("batch")
}

fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn plugin(format: &str, cache: &Path) -> Arc<dyn Linked> {
    match format {
        "qvd-native" => Arc::new(Builtin::<bexio_bi_plugin_qvd::Qvd>::new()),
        "qvd-wasm" => bexio_bi_export::builtin::load("qvd", Some(cache))
            .expect("qvd is shipped")
            .expect("the QVD component loads"),
        other => bexio_bi_export::builtin::load(other, Some(cache))
            .expect("a built-in plugin")
            .expect("loads"),
    }
}

/// One writer in this (child) process: `time` pre-builds the table in memory and times only the
/// export; `memory` streams generated batches and reports the peak.
fn child(format: &str, rows: usize, mode: &str, out: &Path, cache: &Path) {
    let p = plugin(format, cache);
    let schema: SchemaRef = {
        let s = lines(0, 1).schema();
        let mut m = s.metadata().clone();
        m.insert(ROWS_METADATA.to_owned(), rows.to_string());
        Arc::new(s.as_ref().clone().with_metadata(m))
    };
    // BENCH_QVD_DICTIONARY_MB: the QVD writer's dictionary budget (its default otherwise).
    let config = match std::env::var("BENCH_QVD_DICTIONARY_MB") {
        Ok(mb) if format.starts_with("qvd") => {
            serde_json::json!({ "dictionary_mb": mb.parse::<f64>().expect("a number of MB") })
        }
        _ => serde_json::json!({}),
    };
    let request = OpenRequest {
        config,
        tables: vec![("fact_invoice_line".into(), schema)],
        out_dir: out.to_owned(),
        host: Arc::new(TracingHost::new(format)),
        limits: Limits {
            call_timeout: std::time::Duration::from_secs(3600),
            ..Limits::default()
        },
    };
    let pre: Vec<RecordBatch> = if mode == "time" {
        (0..rows)
            .step_by(BATCH)
            .map(|f| lines(f, BATCH.min(rows - f)))
            .collect()
    } else {
        Vec::new()
    };
    let started = Instant::now();
    let mut s = p.open(&request).expect("open");
    if mode == "time" {
        for b in pre {
            s.write(&Batch::new("fact_invoice_line", b)).expect("write");
        }
    } else {
        for f in (0..rows).step_by(BATCH) {
            s.write(&Batch::new(
                "fact_invoice_line",
                lines(f, BATCH.min(rows - f)),
            ))
            .expect("write");
        }
    }
    // The split between taking the batches and completing the files (the QVD writer, say, packs
    // its records at the end).
    let finishing = Instant::now();
    let summary = s.finish().expect("finish");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(summary.total_rows(), rows as u64);
    println!(
        "{}",
        serde_json::json!({
            "seconds": seconds,
            "finish_seconds": finishing.elapsed().as_secs_f64(),
            "peak_kb": peak_kb(),
            "bytes": dir_bytes(out),
        })
    );
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bexio-bi-bench-files-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp");
    d
}

fn json_of(out: std::process::Output, what: &str) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
}

fn ours(format: &str, rows: usize, mode: &str, cache: &Path) -> serde_json::Value {
    let out = temp(&format!("{format}-{mode}"));
    let exe = std::env::current_exe().expect("exe");
    let r = Command::new(exe)
        .args(["--child", format, &rows.to_string(), mode])
        .arg(&out)
        .arg(cache)
        .output()
        .expect("child");
    let v = json_of(r, format);
    let _ = std::fs::remove_dir_all(&out);
    v
}

fn theirs(python: &Path, kind: &str, ipc: &Path) -> serde_json::Value {
    let out = temp(&format!("py-{kind}"));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/files.py");
    let r = Command::new(python)
        .arg(script)
        .arg(kind)
        .arg(ipc)
        .arg(&out)
        .output()
        .expect("python");
    let v = json_of(r, kind);
    let _ = std::fs::remove_dir_all(&out);
    v
}

fn median_of(f: impl Fn() -> serde_json::Value, runs: usize) -> serde_json::Value {
    median((0..runs).map(|_| f()).collect())
}

/// The run of median time.
fn median(mut v: Vec<serde_json::Value>) -> serde_json::Value {
    v.sort_by(|a, b| {
        a["seconds"]
            .as_f64()
            .partial_cmp(&b["seconds"].as_f64())
            .expect("time")
    });
    v.swap_remove(v.len() / 2)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let rows = args[3].parse().expect("rows");
        child(
            &args[2],
            rows,
            &args[4],
            Path::new(&args[5]),
            Path::new(&args[6]),
        );
        return;
    }
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let big: usize = std::env::var("BENCH_BIG_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let venv = Command::new("bash")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/venv.sh"))
        .output()
        .expect("venv.sh");
    assert!(
        venv.status.success(),
        "the venv: {}",
        String::from_utf8_lossy(&venv.stderr)
    );
    let python = PathBuf::from(String::from_utf8_lossy(&venv.stdout).trim().to_owned());

    // The same table for the Python tools, as an Arrow IPC file.
    let data = temp("data");
    let ipc = data.join("lines.arrow");
    {
        let schema = lines(0, 1).schema();
        let f = std::fs::File::create(&ipc).expect("ipc");
        let mut w = arrow_ipc::writer::FileWriter::try_new(f, &schema).expect("ipc");
        for from in (0..rows).step_by(BATCH) {
            w.write(&lines(from, BATCH.min(rows - from))).expect("ipc");
        }
        w.finish().expect("ipc");
    }
    let cache = temp("cache");
    // Compile the QVD component once, so that the runs load it from the cache.
    let _ = plugin("qvd-wasm", &cache);

    eprintln!(
        "{rows} rows: ours (median of 3; QVD native and WebAssembly in alternating pairs) and theirs (one run each)…"
    );
    let pairs: &[(&str, &str, &[&str])] = &[
        ("Parquet (zstd)", "parquet", &["parquet"]),
        ("Excel .xlsx", "xlsx", &["xlsx"]),
        ("Tableau .hyper", "hyper", &["hyper"]),
        ("Qlik .qvd", "qvd-native", &["qvdrs", "pyqvd"]),
    ];
    println!(
        "\n{rows} invoice lines (14 columns), from the table in memory to the finished file; each writer in its own process\n"
    );
    println!("| format | writer | time | rows/s | peak RSS | file | ours vs theirs |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let row = |format: &str, who: &str, v: &serde_json::Value, base: Option<f64>| {
        let s = v["seconds"].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {format} | {who} | {:.2} s | {:.2} M | {} MB | {:.1} MB | {} |",
            s,
            rows as f64 / s / 1e6,
            v["peak_kb"].as_u64().unwrap_or(0) / 1024,
            v["bytes"].as_f64().unwrap_or(0.0) / 1e6,
            base.map_or("".to_owned(), |b| format!("{:.1}× faster", s / b))
        );
    };
    // BENCH_ONLY=xlsx,qvd runs only those formats.
    let only: Vec<String> = std::env::var("BENCH_ONLY")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let wanted = |f: &str| only.is_empty() || only.iter().any(|o| f.starts_with(o.as_str()));
    let seconds = |v: &serde_json::Value| v["seconds"].as_f64().unwrap_or(f64::NAN);
    for (title, ours_name, competitors) in pairs.iter().filter(|p| wanted(p.1)) {
        let base = if *ours_name == "qvd-native" {
            // The same writer natively and as the sandboxed component, run alternately (a
            // shared machine's speed drifts from minute to minute): BENCH_QVD_PAIRS pairs, 5 by
            // default; the medians, and the spread of the pairs' ratios.
            let n: usize = std::env::var("BENCH_QVD_PAIRS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(5);
            let runs: Vec<(serde_json::Value, serde_json::Value)> = (0..n.max(1))
                .map(|_| {
                    let native = ours("qvd-native", rows, "time", &cache);
                    (native, ours("qvd-wasm", rows, "time", &cache))
                })
                .collect();
            let ratios: Vec<f64> = runs.iter().map(|(a, b)| seconds(b) / seconds(a)).collect();
            let (lo, hi) = ratios
                .iter()
                .fold((f64::INFINITY, 0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
            let (natives, wasms): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
            let (mine, wasm) = (median(natives), median(wasms));
            row(title, "bexio-bi qvd-native", &mine, None);
            row(title, "bexio-bi qvd-wasm (sandboxed)", &wasm, None);
            println!(
                "| | WebAssembly vs native (medians of {n} alternating pairs) | {:.2}× | pairs {lo:.2}–{hi:.2}× | | | |",
                seconds(&wasm) / seconds(&mine)
            );
            seconds(&mine)
        } else {
            let mine = median_of(|| ours(ours_name, rows, "time", &cache), 3);
            row(title, &format!("bexio-bi {ours_name}"), &mine, None);
            seconds(&mine)
        };
        // BENCH_THEIRS=0 leaves the other tools out (their figures from an earlier run).
        let theirs_too = std::env::var("BENCH_THEIRS").map_or(true, |v| v != "0");
        for c in competitors.iter().filter(|_| theirs_too) {
            let name = match *c {
                "parquet" => "pyarrow.parquet.write_table",
                "xlsx" => "openpyxl (write-only)",
                "hyper" => "pantab.frame_to_hyper",
                "qvdrs" => "qvdrs (Python)",
                _ => "pyqvd",
            };
            let v = theirs(&python, c, &ipc);
            row(title, name, &v, Some(base));
        }
    }
    println!("\nPeak memory of ours on {big} rows, streamed (batches generated on the fly)\n");
    println!("| writer | time | peak RSS | file |");
    println!("|---|---:|---:|---:|");
    for f in ["parquet", "xlsx", "hyper", "qvd-native", "qvd-wasm"]
        .into_iter()
        .filter(|f| wanted(f))
    {
        let v = ours(f, big, "memory", &cache);
        println!(
            "| {f} | {:.1} s | {} MB | {:.0} MB |",
            v["seconds"].as_f64().unwrap_or(f64::NAN),
            v["peak_kb"].as_u64().unwrap_or(0) / 1024,
            v["bytes"].as_f64().unwrap_or(0.0) / 1e6
        );
    }
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&cache);
}
