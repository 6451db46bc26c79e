//! How fast the synthetic company is generated: `cargo bench -p bexio-bi-sandbox --bench generate`.
//!
//! Prints one line per size: invoices, wall time, invoices per second, and row counts. Set
//! `BENCH_SIZES=10000,100000,1000000` to choose sizes. `bench/compare.sh` runs this side by side
//! with a Faker-based Python generator.

use std::time::Instant;

use bexio_bi_sandbox::company::{Company, CompanySpec};

fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    println!(
        "{:>10} {:>10} {:>14} {:>10} {:>10} {:>10} {:>10}",
        "invoices", "seconds", "invoices/s", "positions", "payments", "journal", "contacts"
    );
    for n in sizes {
        let started = Instant::now();
        let c = Company::generate(&CompanySpec::new(42, n));
        let secs = started.elapsed().as_secs_f64();
        let stats = c.stats();
        let get = |k: &str| stats.counts.get(k).copied().unwrap_or(0);
        println!(
            "{:>10} {:>10.2} {:>14.0} {:>10} {:>10} {:>10} {:>10}",
            c.invoices.len(),
            secs,
            c.invoices.len() as f64 / secs,
            get("kb_invoice_position"),
            get("kb_invoice_payment"),
            get("accounting/journal"),
            get("contact") + get("contact_archived"),
        );
    }
}
