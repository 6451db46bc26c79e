//! The sync pipeline of one company: bexio client → mirror → normalizer → store.
//!
//! A sync first brings the company's [mirror](bexio_bi_cache) up to date, stream by stream, in
//! an order that lets later records use earlier ones: lookups, dimensions, the journal (its
//! bookings carry bexio's exchange rates), sales documents, the invoices' positions (one
//! request per invoice, several in flight) and payments, purchases. Then every table is built
//! from the mirror into a new snapshot of the store, which is published only when complete.
//!
//! - **Incremental.** Contacts, contact relations, quotes, orders and invoices are searched by
//!   `updated_at` since the last run (with an overlap window), and their ids are reconciled
//!   with the full list: that is what finds deletions, which become tombstones. Positions and
//!   payments are read again only for invoices that changed. Reference data is read again when
//!   its copy is older than its time-to-live; the rest is read in full every run. `full`
//!   reads everything again.
//! - **Resumable.** A sync that fails or is killed (kill -9 included) leaves the last snapshot
//!   as it was; the next run resumes with the first stream that was not done, and with the
//!   invoices whose positions or payments were not read yet. Records are keyed by id: nothing
//!   is counted twice.
//! - **Offline.** [`rebuild`] builds the tables from the mirror alone.
//!
//! A stream that bexio refuses with 403 (a missing scope) is skipped with a warning naming it;
//! the others go on.

mod build;
mod fetch;
pub mod streams;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bexio::client::{Client, ClientError, Stats};
use bexio::normalize::DecodeError;
use bexio_bi_cache::{CacheError, Mirror};
use bexio_bi_store::{Store, StoreError};
use serde::Serialize;

/// Why a company's sync failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// bexio could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// An answer could not be read at all, even after retries.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The store could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mirror could not be read or written.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// `--offline`, but the company was never synced.
    #[error("no local copy of {0} to build from: sync it once without --offline")]
    NoMirror(String),
    /// A request task failed unexpectedly.
    #[error("a request task failed: {0}")]
    Task(String),
}

/// Told about progress (a terminal shows bars; logs or nothing elsewhere).
pub trait Progress: Send + Sync {
    /// A stream starts; `total` when known.
    fn start(&self, tenant: &str, stream: &str, total: Option<u64>);
    /// Records read.
    fn advance(&self, tenant: &str, stream: &str, records: u64);
    /// A stream is done.
    fn finish(&self, tenant: &str, stream: &str);
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: &str, _: Option<u64>) {}
    fn advance(&self, _: &str, _: &str, _: u64) {}
    fn finish(&self, _: &str, _: &str) {}
}

/// How to sync.
#[derive(Debug, Clone)]
pub struct Options {
    /// Detail requests in flight at once.
    pub concurrency: usize,
    /// Read everything again, ignoring what the mirror holds (`--full`).
    pub full: bool,
    /// How far back `updated_at` searches reach before the newest change already seen.
    pub overlap_seconds: u64,
    /// Time-to-live of a stream's copy by stream key (`country`, `taxes`…), overriding the
    /// defaults of [`streams::STREAMS`]; 0 reads it every run.
    pub ttl: BTreeMap<String, u64>,
    /// An interrupted run younger than this (seconds) is resumed; an older one starts over.
    pub resume_within: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 4,
            full: false,
            overlap_seconds: 15 * 60,
            ttl: BTreeMap::new(),
            resume_within: 7 * 24 * 3600,
        }
    }
}

/// A stream that was not read.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The stream.
    pub stream: String,
    /// Why (bexio's words).
    pub reason: String,
}

/// What changed in bexio since the last run, by bexio id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// New records.
    pub created: Vec<String>,
    /// Records with a new version.
    pub updated: Vec<String>,
    /// Records gone (now tombstones; contacts: archived).
    pub deleted: Vec<String>,
}

impl Serialize for Changes {
    /// Counts only: id lists of a first sync run into the hundreds of thousands.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Changes", 3)?;
        st.serialize_field("created", &self.created.len())?;
        st.serialize_field("updated", &self.updated.len())?;
        st.serialize_field("deleted", &self.deleted.len())?;
        st.end()
    }
}

/// How a run went about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The first run, or `--full`: everything read.
    Full,
    /// Only what changed (and the lists, to find deletions).
    Incremental,
    /// No request at all: the tables were built from the mirror.
    Offline,
}

/// What the mirror saved.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheSummary {
    /// Streams not read because their copy was younger than its time-to-live.
    pub fresh: Vec<String>,
    /// Steps an interrupted run had already done (this run resumed it).
    pub resumed: Vec<String>,
    /// Requests a full read of the same data would take.
    pub full_read_requests: u64,
    /// Requests not sent thanks to the mirror (full read minus requests sent).
    pub requests_saved: u64,
}

/// What a company's sync did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The company.
    pub tenant: String,
    /// The snapshot written.
    pub snapshot: String,
    /// Full, incremental or offline.
    pub mode: Mode,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// Records rejected (see the `rejects` table).
    pub rejected: u64,
    /// Streams skipped.
    pub skipped: Vec<Skipped>,
    /// Invoices deleted in bexio between being listed and being read in detail.
    pub vanished: u64,
    /// What changed since the last run, by stream (bexio's route names: `kb_invoice`…).
    pub changes: BTreeMap<String, Changes>,
    /// What the mirror saved.
    pub cache: CacheSummary,
    /// HTTP requests, 429s, retries, time waited for rate limits.
    pub http: Stats,
    /// Wall time.
    pub seconds: f64,
}

impl Report {
    /// A report of a new snapshot, with nothing fetched yet.
    fn new(
        tenant: &str,
        manifest: &bexio_bi_store::Manifest,
        mode: Mode,
        rejected: u64,
        mirror: &Mirror,
    ) -> Result<Report, SyncError> {
        Ok(Report {
            tenant: tenant.to_owned(),
            snapshot: manifest.id.clone(),
            mode,
            tables: manifest
                .tables
                .iter()
                .map(|t| (t.name.clone(), t.rows))
                .collect(),
            rejected,
            skipped: Vec::new(),
            vanished: 0,
            changes: BTreeMap::new(),
            cache: CacheSummary {
                full_read_requests: fetch::full_read_requests(mirror)?,
                ..CacheSummary::default()
            },
            http: Stats::default(),
            seconds: 0.0,
        })
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Where the mirror of a company lives: beside its snapshots.
pub fn mirror_path(store: &Store, tenant: &str) -> std::path::PathBuf {
    store.root().join(tenant).join("mirror.redb")
}

/// The store's key, sealing the mirror's records.
struct StoreKey(Arc<bexio_bi_store::crypt::Keyring>);

impl bexio_bi_cache::Sealer for StoreKey {
    fn seal(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        self.0.seal(plain, aad)
    }
    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        self.0.open(sealed, aad)
    }
}

/// A company's mirror, encrypted with the store's key when the store is encrypted.
pub fn open_mirror(store: &Store, tenant: &str) -> Result<Mirror, SyncError> {
    let sealer = store
        .keyring()
        .map(|k| Arc::new(StoreKey(Arc::clone(k))) as Arc<dyn bexio_bi_cache::Sealer>);
    Ok(Mirror::open_sealed(mirror_path(store, tenant), sealer)?)
}

/// Syncs one company: brings its mirror up to date with bexio (resuming an interrupted run)
/// and publishes a new snapshot built from it.
pub async fn sync(
    tenant: &str,
    client: &Client,
    store: &Store,
    options: Options,
    progress: Arc<dyn Progress>,
) -> Result<Report, SyncError> {
    let started = Instant::now();
    let before = client.stats();
    // The store's lock first: one sync per company.
    let mut writer = store.begin(tenant)?;
    let mirror = Arc::new(open_mirror(store, tenant)?);
    let now = now_unix();
    // The first run of a company is a full one (and stays full when it is resumed).
    let first = mirror.stream_state(streams::INVOICES)?.is_none();
    let (run, resumed) = mirror.begin_run(options.full || first, now, options.resume_within)?;
    let mode = if run.full {
        Mode::Full
    } else {
        Mode::Incremental
    };
    if resumed {
        tracing::info!(
            tenant,
            done = run.done.len(),
            "resuming an interrupted sync"
        );
    }
    let mut f = fetch::Fetcher {
        tenant,
        client,
        mirror: &mirror,
        progress: progress.as_ref(),
        options: &options,
        run,
        now,
        skipped: Vec::new(),
        vanished: 0,
        cached: Vec::new(),
        resumed: Vec::new(),
    };
    f.all().await?;
    let skip: BTreeSet<String> = f
        .run
        .done
        .iter()
        .filter_map(|d| d.strip_prefix("skipped:").map(str::to_owned))
        .collect();
    let fetch::Fetcher {
        skipped,
        vanished,
        cached,
        resumed: resumed_steps,
        ..
    } = f;
    let changes = fetch::change_lists(&mirror)?;
    tracing::info!(
        tenant,
        seconds = started.elapsed().as_secs_f64(),
        "mirror up to date; building the tables"
    );
    // Building is CPU work: off the async workers, which other companies' syncs share.
    let (rejected, mut writer) = {
        let (tenant, mirror, progress) = (
            tenant.to_owned(),
            Arc::clone(&mirror),
            Arc::clone(&progress),
        );
        tokio::task::spawn_blocking(move || {
            build::tables(&tenant, &mirror, &mut writer, &skip, progress.as_ref())
                .map(|n| (n, writer))
        })
        .await
        .map_err(|e| SyncError::Task(e.to_string()))??
    };
    let http_now = client.stats();
    writer.set_stats(serde_json::json!({
        "mode": mode,
        "requests": http_now.requests - before.requests,
        "throttled": http_now.throttled - before.throttled,
        "retries": http_now.retries - before.retries,
        "rejected": rejected,
        "changes": &changes,
        "skipped": &skipped,
    }));
    let manifest = writer.commit()?;
    tracing::info!(tenant, seconds = started.elapsed().as_secs_f64(), snapshot = %manifest.id, "published");
    // Only now is the run over: killed before this line, the next run resumes and rebuilds.
    mirror.finish_run()?;
    let after = client.stats();
    let http = Stats {
        requests: after.requests - before.requests,
        throttled: after.throttled - before.throttled,
        retries: after.retries - before.retries,
        waited_ms: after.waited_ms - before.waited_ms,
    };
    let mut report = Report::new(tenant, &manifest, mode, rejected, &mirror)?;
    report.skipped = skipped;
    report.vanished = vanished;
    report.changes = changes;
    report.cache.fresh = cached;
    report.cache.resumed = resumed_steps;
    report.cache.requests_saved = report
        .cache
        .full_read_requests
        .saturating_sub(http.requests);
    report.http = http;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Builds a new snapshot of a company from its mirror alone, without a request (`--offline`).
pub fn rebuild(
    tenant: &str,
    store: &Store,
    progress: Arc<dyn Progress>,
) -> Result<Report, SyncError> {
    let started = Instant::now();
    let mut writer = store.begin(tenant)?;
    let path = mirror_path(store, tenant);
    if !path.exists() {
        return Err(SyncError::NoMirror(tenant.to_owned()));
    }
    let mirror = open_mirror(store, tenant)?;
    let rejected = build::tables(
        tenant,
        &mirror,
        &mut writer,
        &BTreeSet::new(),
        progress.as_ref(),
    )?;
    let manifest = writer.commit()?;
    let mut report = Report::new(tenant, &manifest, Mode::Offline, rejected, &mirror)?;
    report.cache.requests_saved = report.cache.full_read_requests;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
