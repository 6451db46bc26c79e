//! The same trivial exporter (benches/count: reads every value, writes one line) linked three
//! ways, on the same 1,000,000 invoice rows, side by side in one run: built in, native library
//! (Arrow C Data Interface) and WebAssembly component (Arrow IPC encoding included, done once
//! per batch as in a real export). Then the load time of a component, first (compiled) and
//! cached.
//!
//! `cargo bench -p bexio-bi-export --bench linkages` (release builds of the plugin too);
//! `BENCH_BATCH` sets the rows per batch (8,192, the normalizer's, by default).

#![allow(missing_docs)]

#[path = "count/src/lib.rs"]
#[allow(unsafe_code)]
mod count;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray};
use bexio_bi_export::builtin::Builtin;
use bexio_bi_export::native::Native;
use bexio_bi_export::wasm::Wasm;
use bexio_bi_export::{Batch, Limits, Linked, OpenRequest, TracingHost};

const ROWS: usize = 1_000_000;
const BATCH: usize = 8192;
const RUNS: usize = 5;

/// Rows per batch: the normalizer's 8,192, or `BENCH_BATCH`.
fn batch_rows() -> usize {
    std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BATCH)
}

fn batches() -> Vec<RecordBatch> {
    let size = batch_rows();
    (0..ROWS)
        .step_by(size)
        .map(|from| {
            let n = size.min(ROWS - from);
            let ids = from as i64..(from + n) as i64;
            RecordBatch::try_from_iter([
                (
                    "invoice_key",
                    Arc::new(StringArray::from_iter_values(
                        ids.clone().map(|i| format!("acme:{i}")),
                    )) as _,
                ),
                (
                    "contact_id",
                    Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i % 997))) as _,
                ),
                (
                    "title",
                    Arc::new(StringArray::from_iter_values(
                        ids.clone().map(|i| format!("Rechnung {i} Müller AG")),
                    )) as _,
                ),
                (
                    "invoice_date",
                    Arc::new(Date32Array::from_iter_values(
                        ids.clone().map(|i| 19_000 + (i % 1500) as i32),
                    )) as _,
                ),
                (
                    "total",
                    Arc::new(
                        Decimal128Array::from_iter_values(
                            ids.map(|i| (i as i128 * 7919) % 1_000_000),
                        )
                        .with_precision_and_scale(18, 2)
                        .expect("decimal"),
                    ) as _,
                ),
            ])
            .expect("batch")
        })
        .collect()
}

/// Builds a plugin crate (release) natively or for `target`; returns the artifact.
fn build(crate_dir: &str, lib: &str, target: Option<&str>) -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(crate_dir)
        .join("Cargo.toml");
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("bench-guests");
    let mut c = Command::new(env!("CARGO"));
    c.args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &dir)
        .env_remove("RUSTFLAGS");
    if let Some(t) = target {
        c.args(["--target", t]);
    }
    let out = c.output().expect("cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match target {
        Some(t) => dir.join(t).join(format!("release/{lib}.wasm")),
        None => dir.join("release").join(format!(
            "{}{lib}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )),
    }
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bexio-bi-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp");
    d
}

/// One export of every batch; returns the time and the note (rows, total) for the check.
fn export(plugin: &dyn Linked, data: &[RecordBatch], out: &Path) -> (Duration, String) {
    let schema = data[0].schema();
    let request = OpenRequest {
        config: serde_json::json!({}),
        tables: vec![("fact_invoice".into(), schema)],
        out_dir: out.to_owned(),
        host: Arc::new(TracingHost::new("count")),
        limits: Limits::default(),
    };
    let started = Instant::now();
    let mut session = plugin.open(&request).expect("open");
    for b in data {
        // A fresh Batch each time: its IPC encoding (for WebAssembly) is part of the cost.
        session
            .write(&Batch::new("fact_invoice", b.clone()))
            .expect("write");
    }
    let summary = session.finish().expect("finish");
    (started.elapsed(), summary.notes.join(""))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The three linkages of one plugin, median times.
fn compare(
    linked: &[(&str, Arc<dyn Linked>)],
    data: &[RecordBatch],
    out: &Path,
    same_output: impl Fn(&str) -> String,
) -> Vec<(String, Duration)> {
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for (name, plugin) in linked {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let (d, note) = export(plugin.as_ref(), data, out);
            times.push(d);
            notes.push(same_output(&note));
        }
        results.push(((*name).to_owned(), median(times)));
    }
    notes.dedup();
    assert_eq!(notes.len(), 1, "the linkages disagree: {notes:?}");
    results
}

/// What the WebAssembly path cannot avoid, measured apart on the same batches: encoding each
/// batch as Arrow IPC (once per batch, shared by every component), and one copy of those bytes
/// (what moving them into a sandbox's memory costs at the least). Medians of `RUNS`.
fn floors(data: &[RecordBatch]) -> (Duration, Duration, usize) {
    let mut encode = Vec::new();
    let mut copy = Vec::new();
    let mut bytes = 0;
    for _ in 0..RUNS {
        // One batch at a time, each stream dropped before the next (as an export does, so
        // the allocator reuses its memory): keeping them all would time page faults too.
        let t = Instant::now();
        for b in data {
            let e = bexio_bi_plugin_sdk::ipc::encode_batch(b).expect("encode");
            std::hint::black_box(&e);
        }
        encode.push(t.elapsed());
        let encoded: Vec<Vec<u8>> = data
            .iter()
            .map(|b| bexio_bi_plugin_sdk::ipc::encode_batch(b).expect("encode"))
            .collect();
        bytes = encoded.iter().map(Vec::len).sum();
        // Into a buffer already in memory (as a guest's, reused batch after batch): the
        // copy alone.
        let mut target = vec![1u8; encoded.iter().map(Vec::len).max().unwrap_or(0)];
        let t = Instant::now();
        for e in &encoded {
            target[..e.len()].copy_from_slice(e);
            std::hint::black_box(&mut target);
        }
        copy.push(t.elapsed());
    }
    (median(encode), median(copy), bytes)
}

fn table(title: &str, results: &[(String, Duration)]) {
    let base = results[0].1.as_secs_f64();
    println!("\n{title}\n");
    println!("| linkage | time | rows/s | vs built in |");
    println!("|---|---:|---:|---:|");
    for (name, d) in results {
        let s = d.as_secs_f64();
        println!(
            "| {name} | {:.1} ms | {:.1} M | {:.2}× |",
            s * 1e3,
            ROWS as f64 / s / 1e6,
            s / base
        );
    }
}

fn main() {
    eprintln!("building the count and csv plugins (release) natively and for wasm32-wasip2…");
    let count_so = build("benches/count", "count", None);
    let count_wasm = build("benches/count", "count", Some("wasm32-wasip2"));
    let csv_so = build("../../plugins/csv", "bexio_bi_plugin_csv", None);
    let csv_wasm = build(
        "../../plugins/csv",
        "bexio_bi_plugin_csv",
        Some("wasm32-wasip2"),
    );
    let data = batches();
    let out = temp("out");

    // Component load: first (compiled, then cached on disk) and cached.
    let cache = temp("cache");
    let t = Instant::now();
    let wasm = Wasm::load(&count_wasm, Some(&cache)).expect("load");
    let first = t.elapsed();
    assert!(!wasm.loaded.cached);
    let mut cached = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let w = Wasm::load(&count_wasm, Some(&cache)).expect("load");
        cached.push(t.elapsed());
        assert!(w.loaded.cached);
    }
    let cached = median(cached);

    let count: Vec<(&str, Arc<dyn Linked>)> = vec![
        ("built in", Arc::new(Builtin::<count::Count>::new())),
        (
            "native (libloading, C Data Interface)",
            Arc::new(Native::load(&count_so).expect("native")),
        ),
        (
            "WebAssembly (wasmtime 48, IPC encoding included)",
            Arc::new(wasm),
        ),
    ];
    let count_results = compare(&count, &data, &out, |n| n.to_owned());
    let csv: Vec<(&str, Arc<dyn Linked>)> = vec![
        (
            "built in",
            Arc::new(Builtin::<bexio_bi_plugin_csv::Csv>::new()),
        ),
        (
            "native (libloading, C Data Interface)",
            Arc::new(Native::load(&csv_so).expect("native")),
        ),
        (
            "WebAssembly (wasmtime 48, IPC encoding included)",
            Arc::new(Wasm::load(&csv_wasm, Some(&cache)).expect("csv wasm")),
        ),
    ];
    let csv_results = compare(&csv, &data, &out, |_| {
        let bytes = std::fs::read(out.join("fact_invoice.csv")).expect("csv");
        format!(
            "{} bytes, {} lines",
            bytes.len(),
            bytes.iter().filter(|b| **b == b'\n').count()
        )
    });
    println!(
        "\n{ROWS} rows (5 columns: key, id, text, date, decimal) in {} batches of {}, median of {RUNS} runs",
        data.len(),
        batch_rows()
    );
    table(
        "The trivial exporter (benches/count: reads every value, writes one line)",
        &count_results,
    );
    table(
        "The CSV exporter (plugins/csv: formats every value, writes 1M lines)",
        &csv_results,
    );
    let (encode, copy, bytes) = floors(&data);
    let base = count_results[0].1.as_secs_f64();
    println!(
        "\nWhat crossing into a sandbox costs at the least, on the same batches ({:.1} MB of Arrow IPC):\n",
        bytes as f64 / 1e6
    );
    println!("| step | time | vs the built-in trivial exporter |");
    println!("|---|---:|---:|");
    for (step, d) in [
        ("encoding every batch as Arrow IPC", encode),
        ("one copy of the encoded bytes", copy),
    ] {
        println!(
            "| {step} | {:.1} ms | {:.2}× |",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / base
        );
    }
    println!("\n| component load (count.wasm) | time |");
    println!("|---|---:|");
    println!(
        "| first (compile with Cranelift, write the cache) | {:.1} ms |",
        first.as_secs_f64() * 1e3
    );
    println!(
        "| cached (read the compiled artifact) | {:.1} ms |",
        cached.as_secs_f64() * 1e3
    );
    println!(
        "\ncomponents: count {} KiB, csv {} KiB",
        std::fs::metadata(&count_wasm).map_or(0, |m| m.len() / 1024),
        std::fs::metadata(&csv_wasm).map_or(0, |m| m.len() / 1024)
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&cache);
}
