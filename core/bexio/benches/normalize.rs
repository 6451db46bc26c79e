//! Normalizing invoices: `cargo bench -p bexio-bi-bexio --bench normalize`.
//!
//! Writes `BENCH_INVOICES` (default 1,000,000) invoices of a sandbox company as bexio sends them
//! (2.0 list rows) to `$BENCH_DIR/invoices.ndjson` (one record per line, for the Python readers)
//! and times the normalizer on the same records in pages of 2000, as the client hands them over.
//! `bench/compare.sh` runs it side by side with pandas and pyarrow.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use bexio::normalize::{Normalizer, Resource};

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
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
    let bytes = std::fs::metadata(&path)?.len();

    // The client hands over pages; build them from the same lines before the clock starts.
    let mut pages: Vec<Vec<u8>> = Vec::new();
    let mut page = b"[".to_vec();
    let mut in_page = 0;
    for line in BufReader::new(std::fs::File::open(&path)?).lines() {
        if in_page > 0 {
            page.push(b',');
        }
        page.extend_from_slice(line?.as_bytes());
        in_page += 1;
        if in_page == 2000 {
            page.push(b']');
            pages.push(std::mem::replace(&mut page, b"[".to_vec()));
            in_page = 0;
        }
    }
    if in_page > 0 {
        page.push(b']');
        pages.push(page);
    }
    let rss_before = peak_rss_mb();

    let started = Instant::now();
    let mut norm = Normalizer::new("bench");
    norm.decode(Resource::Currencies, br#"[{"id":1,"name":"CHF","round_factor":0.05},{"id":2,"name":"EUR","round_factor":0.01},{"id":3,"name":"USD","round_factor":0.01},{"id":4,"name":"GBP","round_factor":0.01}]"#)
        .map_err(std::io::Error::other)?;
    let (mut rows, mut rejected) = (0usize, 0usize);
    // The pages a sync holds at once (a few hundred thousand invoices), decoded on all cores.
    for group in pages.chunks(64) {
        let refs: Vec<&[u8]> = group.iter().map(Vec::as_slice).collect();
        let s = norm
            .decode_parallel(Resource::Invoices, &refs)
            .map_err(std::io::Error::other)?;
        rows += s.rows;
        rejected += s.rejected;
        // Batches go to the store as they fill; here they are dropped.
        drop(norm.flush());
    }
    drop(norm.finish().map_err(std::io::Error::other)?);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bexio-bi normalizer: {rows} invoices ({rejected} rejected) from {:.0} MB of JSON in {secs:.2} s = {:.0} invoices/s; peak RSS {:.0} MB (of which {:.0} MB the pages held in memory for the benchmark)",
        bytes as f64 / 1e6,
        rows as f64 / secs,
        peak_rss_mb(),
        rss_before
    );
    println!("data: {}", path.display());
    Ok(())
}
