//! Versions of a large company: `cargo bench -p bexio-bi-compare --bench versions`.
//!
//! `BENCH_INVOICES` (default 1,000,000) invoices of a sandbox company, normalized into
//! `fact_invoice`, then: commit a version (time, peak memory, bytes on disk), commit the same data
//! again (bytes added: deduplication), commit with the most recent 1 % of the invoices changed
//! (bytes added), and
//! diff the first and the last version (time, peak memory); all of it on a store in clear and
//! on an encrypted one, with the ratio (encryption overhead). Prints the stores' directories for
//! `bench/compare.sh`, which writes the same table as Parquet with pyarrow for the sizes.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use arrow_array::RecordBatch;
use bexio::normalize::{Normalizer, Resource};
use bexio_bi_store::Store;

/// Records the normalizer rejected (reported with the results).
static REJECTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn status(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak-memory counter (Linux), so that each step reports its own peak.
fn reset_peak() -> f64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status("VmRSS:")
}

/// The invoices as `fact_invoice` batches; with `change_last`, the most recent share of them (in
/// parts per thousand) changed, as business changes recent invoices (paid, corrected).
fn batches(lines: &[String], change_last: Option<usize>) -> Vec<RecordBatch> {
    let from = change_last.map_or(usize::MAX, |k| lines.len() - lines.len() * k / 1000);
    let mut n = Normalizer::new("bench");
    let mut out = Vec::new();
    for (p, chunk) in lines.chunks(2000).enumerate() {
        let mut page = b"[".to_vec();
        for (i, l) in chunk.iter().enumerate() {
            if i > 0 {
                page.push(b',');
            }
            let nth = p * 2000 + i;
            match change_last {
                // A changed invoice: another title (its totals stay consistent).
                Some(_) if nth >= from => page.extend_from_slice(
                    l.replacen("\"title\":\"", "\"title\":\"Korrigiert: ", 1)
                        .as_bytes(),
                ),
                _ => page.extend_from_slice(l.as_bytes()),
            }
        }
        page.push(b']');
        let summary = n.decode(Resource::Invoices, &page).expect("decode");
        REJECTED.fetch_add(
            summary.rejected as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        out.extend(
            n.flush()
                .into_iter()
                .filter(|(t, _)| *t == "fact_invoice")
                .map(|(_, b)| b),
        );
    }
    out.extend(
        n.finish()
            .expect("finish")
            .into_iter()
            .filter(|(t, _)| *t == "fact_invoice")
            .map(|(_, b)| b),
    );
    out
}

fn main() -> std::io::Result<()> {
    let n: u64 = std::env::var("BENCH_INVOICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::path::PathBuf::from(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp/bexio-bi-bench".into()),
    );
    if !dir.join(format!("invoices-{n}.ndjson")).exists() {
        eprintln!("generating {n} invoices…");
    }
    let path = bexio_bi_sandbox::company::invoices_ndjson(42, n, &dir)?;
    let lines: Vec<String> = BufReader::new(std::fs::File::open(&path)?)
        .lines()
        .collect::<Result<_, _>>()?;
    let original = batches(&lines, None);
    let changed = batches(&lines, Some(10));
    drop(lines);
    let rows: usize = original.iter().map(RecordBatch::num_rows).sum();
    println!(
        "{rows} invoices (fact_invoice); {} records rejected by the normalizer (both passes)",
        REJECTED.load(std::sync::atomic::Ordering::Relaxed)
    );
    // The same run on a store in clear and on an encrypted one (as the product keeps them).
    let mut runs = Vec::new();
    for encrypted in [false, true] {
        let root = dir.join(if encrypted {
            "store-encrypted"
        } else {
            "store"
        });
        let _ = std::fs::remove_dir_all(&root);
        let store = if encrypted {
            Store::open_encrypted(&root, "bench password").expect("store")
        } else {
            Store::open(&root).expect("store")
        };
        println!(
            "\n— {} store —",
            if encrypted {
                "encrypted (XChaCha20-Poly1305)"
            } else {
                "clear"
            }
        );
        runs.push(run(&store, &original, &changed));
        println!("store: {}", root.display());
    }
    let (clear, sealed) = (&runs[0], &runs[1]);
    println!("\nencryption overhead (encrypted ÷ clear):");
    for (what, a, b) in [
        ("commit", clear.commit, sealed.commit),
        ("read the version", clear.read, sealed.read),
        ("diff", clear.diff, sealed.diff),
    ] {
        println!("  {what:<18} {a:>6.2} s → {b:>6.2} s  {:.2}×", b / a);
    }
    println!(
        "  bytes on disk      {:.1} MB → {:.1} MB",
        clear.bytes as f64 / 1e6,
        sealed.bytes as f64 / 1e6
    );
    Ok(())
}

/// Seconds of each step of one run.
struct Timings {
    commit: f64,
    read: f64,
    diff: f64,
    bytes: u64,
}

fn run(store: &Store, original: &[RecordBatch], changed: &[RecordBatch]) -> Timings {
    let commit = |data: &[RecordBatch], label: &str| {
        let base = reset_peak();
        let t = Instant::now();
        let mut w = store.begin("bench").expect("begin");
        for b in data {
            w.write("fact_invoice", b).expect("write");
        }
        let m = w.commit().expect("commit");
        let secs = t.elapsed().as_secs_f64();
        let peak = status("VmHWM:") - base;
        println!(
            "{label:<28} {secs:>7.2} s  {:>9.1} MB added  {:>8.1} MB on disk  peak +{peak:.0} MB",
            m.added_bytes as f64 / 1e6,
            store.size().expect("size") as f64 / 1e6
        );
        (m, secs)
    };
    let (first, commit_secs) = commit(original, "commit");
    let bytes = store.size().expect("size");
    let (again, _) = commit(original, "commit the same again");
    let (last, _) = commit(changed, "commit with 1 % changed");
    println!(
        "dedup: the same data again added {:.3} % of the first version; 1 % changed added {:.1} %",
        100.0 * again.added_bytes as f64 / first.added_bytes as f64,
        100.0 * last.added_bytes as f64 / first.added_bytes as f64
    );
    let t = Instant::now();
    let read: usize = store
        .version("bench", &first.id)
        .expect("version")
        .read("fact_invoice")
        .expect("read")
        .map(|b| b.expect("batch").num_rows())
        .sum();
    let read_secs = t.elapsed().as_secs_f64();
    println!("read the version back: {read_secs:.2} s ({read} rows)");
    let base = reset_peak();
    let t = Instant::now();
    let a = store.version("bench", &first.id).expect("a");
    let b = store.version("bench", &last.id).expect("b");
    let d = bexio_bi_compare::diff(&a, &b).expect("diff");
    let diff_secs = t.elapsed().as_secs_f64();
    println!(
        "diff first → last: {diff_secs:.2} s, {} modified invoices found, peak +{:.0} MB",
        d.modified_invoices.len(),
        status("VmHWM:") - base
    );
    println!("version: {}", first.id);
    Timings {
        commit: commit_secs,
        read: read_secs,
        diff: diff_secs,
        bytes,
    }
}
