//! The mirror: a local copy of what bexio answered for one company, record by record.
//!
//! A sync does not turn bexio's answers into tables directly. It first brings this mirror up to
//! date — new and changed records in, records gone from bexio moved to *tombstones* — and then
//! builds every table from the mirror. That one step in between gives the sync its properties:
//!
//! - **Incremental**: a record is written only when it is new or its version (`updated_at`, or its
//!   bytes where bexio has no version) changed, and each such change is noted, so that only the
//!   invoices that changed have their positions and payments read again.
//! - **Resumable**: every page is written in a transaction together with the note that its
//!   records were seen; a stream is marked done in the same transaction that reconciles it. A
//!   sync killed at any point (kill -9 included) resumes on the next run with the first stream
//!   that was not done, and since records are keyed by id, nothing is ever counted twice.
//! - **A cache**: reference data younger than its time-to-live is not asked for again, and
//!   `--offline` builds the tables from the mirror alone.
//!
//! The mirror is a [redb](https://docs.rs/redb) database (one file per company, crash-safe,
//! copy-on-write). Keys are record ids: numbers zero-padded to 20 digits so that they sort as
//! numbers, UUIDs as they are. With a [`Sealer`] (the store's key), every record's body is
//! encrypted before it reaches the file, bound to its stream and id; ids and versions
//! (`updated_at`) stay in clear so that changes are found without decrypting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};
use serde::{Deserialize, Serialize};

/// What went wrong with the mirror.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Another process has the company's mirror open.
    #[error("{path} is in use by another sync of this company; wait for it to finish")]
    Busy {
        /// The mirror file.
        path: PathBuf,
    },
    /// The mirror could not be read or written.
    #[error(
        "the cache {path} cannot be used: {message} (it only holds copies of bexio's answers: remove it and sync again)"
    )]
    Damaged {
        /// The mirror file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Encrypts what the mirror keeps of bexio's records (with the store's key, in practice).
pub trait Sealer: Send + Sync {
    /// Seals `plain`, bound to `aad`.
    fn seal(&self, plain: &[u8], aad: &[u8]) -> Vec<u8>;
    /// Opens what `seal` sealed with the same `aad`; `None` if it was changed or is not ours.
    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>>;
}

/// A record's key: its id, numbers zero-padded so that keys sort like the ids.
pub type Key = String;

/// The key of an id as bexio sends it (a number, a numeric string or a UUID).
pub fn key_of(id: &serde_json::Value) -> Option<Key> {
    match id {
        serde_json::Value::Number(n) => n.as_u64().map(|n| format!("{n:020}")),
        serde_json::Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                None
            } else if let Ok(n) = s.parse::<u64>() {
                Some(format!("{n:020}"))
            } else {
                Some(s.to_owned())
            }
        }
        _ => None,
    }
}

/// The key of a record without a usable id: a digest of its bytes (the same record listed
/// again gets the same key, so it is neither duplicated nor taken for deleted).
pub fn key_of_bytes(body: &[u8]) -> Key {
    use sha2::Digest;
    let d = sha2::Sha256::digest(body);
    let mut s = String::from("~");
    for b in &d[..12] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The id a key stands for, as bexio writes it (`00000000000000000042` → `42`).
pub fn id_of_key(key: &str) -> &str {
    if key.len() == 20 && key.bytes().all(|b| b.is_ascii_digit()) {
        let t = key.trim_start_matches('0');
        if t.is_empty() { "0" } else { t }
    } else {
        key
    }
}

/// What happened to a record in the current run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Change {
    /// Not in the mirror before.
    Created,
    /// In the mirror with another version.
    Updated,
    /// Gone from bexio (now a tombstone).
    Deleted,
}

impl Change {
    fn code(self) -> u8 {
        match self {
            Change::Created => 1,
            Change::Updated => 2,
            Change::Deleted => 3,
        }
    }
    fn from_code(c: u8) -> Option<Change> {
        match c {
            1 => Some(Change::Created),
            2 => Some(Change::Updated),
            3 => Some(Change::Deleted),
            _ => None,
        }
    }
}

/// A sync run: started, possibly interrupted, resumed, finished.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunState {
    /// When it started (seconds since the epoch).
    pub started_unix: u64,
    /// Everything is read again (`--full`).
    pub full: bool,
    /// Steps (streams, plans) that are complete.
    pub done: BTreeSet<String>,
}

/// What the mirror remembers of a stream between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StreamState {
    /// When it was last read completely (seconds since the epoch).
    pub fetched_unix: u64,
    /// The newest `updated_at` seen (bexio's clock), where the stream has one.
    pub cursor: Option<String>,
    /// Requests the last complete read took.
    pub requests: u64,
}

/// A record as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// Its key.
    pub key: &'a str,
    /// Its version where bexio has one (`updated_at`); otherwise the bytes are compared.
    pub version: Option<&'a str>,
    /// The record, as bexio sent it.
    pub body: &'a [u8],
}

/// A record gone from bexio, as it was last seen.
#[derive(Debug, Clone)]
pub struct Tombstone {
    /// Its key.
    pub key: Key,
    /// When the sync found it gone (seconds since the epoch).
    pub deleted_unix: u64,
    /// The record as last seen.
    pub body: Vec<u8>,
}

/// How long [`Mirror::open`] waits for another user to let go.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Memory the mirror's page cache may use.
const CACHE_BYTES: usize = 64 << 20;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const RUN: &str = "run";

fn records_table(stream: &str) -> String {
    format!("rec:{stream}")
}
fn seen_table(stream: &str) -> String {
    format!("seen:{stream}")
}
fn changes_table(stream: &str) -> String {
    format!("chg:{stream}")
}
fn tombs_table(stream: &str) -> String {
    format!("tomb:{stream}")
}
fn todo_table(plan: &str) -> String {
    format!("todo:{plan}")
}

/// A stored record: the version's length, the version, the body.
fn frame(version: Option<&str>, body: &[u8]) -> Vec<u8> {
    let v = version.filter(|v| v.len() < 256).unwrap_or("");
    let mut out = Vec::with_capacity(1 + v.len() + body.len());
    out.push(v.len() as u8);
    out.extend_from_slice(v.as_bytes());
    out.extend_from_slice(body);
    out
}

fn unframe(stored: &[u8]) -> (Option<&str>, &[u8]) {
    let Some((&n, rest)) = stored.split_first() else {
        return (None, stored);
    };
    let n = usize::from(n).min(rest.len());
    let (v, body) = rest.split_at(n);
    let v = std::str::from_utf8(v).ok().filter(|v| !v.is_empty());
    (v, body)
}

/// What a record's body is sealed for: its stream and id.
fn body_aad(stream: &str, key: &str) -> Vec<u8> {
    format!("mirror:{stream}/{key}").into_bytes()
}

/// One company's mirror.
pub struct Mirror {
    db: Database,
    path: PathBuf,
    sealer: Option<Arc<dyn Sealer>>,
}

/// Opens a stored body (`sealer`: the mirror's key, if it has one).
fn open_body(
    sealer: Option<&Arc<dyn Sealer>>,
    path: &Path,
    stream: &str,
    key: &str,
    body: &[u8],
) -> Result<Vec<u8>, CacheError> {
    match sealer {
        None => Ok(body.to_vec()),
        Some(s) => s
            .open(body, &body_aad(stream, key))
            .ok_or_else(|| CacheError::Damaged {
                path: path.to_owned(),
                message: format!(
                    "record {stream}/{key} cannot be decrypted (changed, or written in clear or under another key)"
                ),
            }),
    }
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror").field("path", &self.path).finish()
    }
}

type Tx = redb::WriteTransaction;

impl Mirror {
    /// Opens (or creates) the mirror at `path`; one user at a time. A mirror still held (a
    /// cancelled sync finishing its last write) is waited for up to `BUSY_WAIT`.
    pub fn open(path: impl AsRef<Path>) -> Result<Mirror, CacheError> {
        Mirror::open_sealed(path, None)
    }

    /// Opens (or creates) the mirror at `path`, its records encrypted with `sealer` when
    /// there is one.
    pub fn open_sealed(
        path: impl AsRef<Path>,
        sealer: Option<Arc<dyn Sealer>>,
    ) -> Result<Mirror, CacheError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| CacheError::Damaged {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
        let started = std::time::Instant::now();
        loop {
            // redb caches up to 1 GiB by default; a sync streams through the mirror, so a small
            // cache keeps its memory flat whatever the size of the company.
            match Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(&path)
            {
                Ok(db) => return Ok(Mirror { db, path, sealer }),
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if started.elapsed() < BUSY_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                    return Err(CacheError::Busy { path });
                }
                Err(e) => {
                    return Err(CacheError::Damaged {
                        path,
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn seal_body(&self, stream: &str, key: &str, body: &[u8]) -> Vec<u8> {
        match &self.sealer {
            None => body.to_vec(),
            Some(s) => s.seal(body, &body_aad(stream, key)),
        }
    }

    /// Whether a stored record is the same as an incoming one: same version where bexio has
    /// one, else the same bytes.
    fn same(&self, stream: &str, stored: &[u8], new: &Incoming<'_>) -> bool {
        let (v, body) = unframe(stored);
        match (v, new.version) {
            (Some(a), Some(b)) => a == b,
            _ => open_body(self.sealer.as_ref(), &self.path, stream, new.key, body)
                .is_ok_and(|b| b == new.body),
        }
    }

    fn err(&self) -> impl Fn(redb::Error) -> CacheError + '_ {
        move |e| CacheError::Damaged {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn write(
        &self,
        durable: bool,
        f: impl FnOnce(&Tx) -> Result<(), redb::Error>,
    ) -> Result<(), CacheError> {
        let run = || -> Result<(), redb::Error> {
            let mut tx = self.db.begin_write()?;
            if !durable {
                tx.set_durability(Durability::None)
                    .map_err(|e| redb::Error::Corrupted(e.to_string()))?;
            }
            f(&tx)?;
            tx.commit()?;
            Ok(())
        };
        run().map_err(self.err())
    }

    fn meta<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>, CacheError> {
        let run = || -> Result<Option<Vec<u8>>, redb::Error> {
            let tx = self.db.begin_read()?;
            let t = match tx.open_table(META) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            Ok(t.get(name)?.map(|v| v.value().to_vec()))
        };
        match run().map_err(self.err())? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| CacheError::Damaged {
                        path: self.path.clone(),
                        message: format!("{name}: {e}"),
                    })
            }
        }
    }

    fn put_meta(tx: &Tx, name: &str, value: &impl Serialize) -> Result<(), redb::Error> {
        let bytes = serde_json::to_vec(value).map_err(|e| redb::Error::Corrupted(e.to_string()))?;
        tx.open_table(META)?.insert(name, bytes.as_slice())?;
        Ok(())
    }

    fn read_meta<T: for<'de> Deserialize<'de>>(
        tx: &Tx,
        name: &str,
    ) -> Result<Option<T>, redb::Error> {
        let t = tx.open_table(META)?;
        let Some(v) = t.get(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| redb::Error::Corrupted(format!("{name}: {e}")))
    }

    fn tables_with_prefix(tx: &Tx, prefix: &str) -> Result<Vec<String>, redb::Error> {
        Ok(tx
            .list_tables()?
            .map(|h| h.name().to_owned())
            .filter(|n| n.starts_with(prefix))
            .collect())
    }

    /// The unfinished run, if a sync was interrupted.
    pub fn run(&self) -> Result<Option<RunState>, CacheError> {
        self.meta(RUN)
    }

    /// Starts a run, or resumes the interrupted one when it started less than `resume_within`
    /// seconds ago (a resumed run keeps what it had done, and is full if either run is).
    /// Returns the run and whether it was resumed.
    pub fn begin_run(
        &self,
        full: bool,
        now_unix: u64,
        resume_within: u64,
    ) -> Result<(RunState, bool), CacheError> {
        let mut out = None;
        self.write(true, |tx| {
            let old: Option<RunState> = Self::read_meta(tx, RUN)?;
            let unfinished = old.is_some();
            if let Some(mut old) = old
                && now_unix.saturating_sub(old.started_unix) <= resume_within
            {
                old.full |= full;
                Self::put_meta(tx, RUN, &old)?;
                out = Some((old, true));
                return Ok(());
            }
            // A new run: forget what the last one noted. Unless the last one never finished:
            // its changes are carried over, so that what it did not get to (the positions of a
            // changed invoice…) is done by this one.
            let prefixes: &[&str] = if unfinished {
                &["seen:", "todo:"]
            } else {
                &["chg:", "seen:", "todo:"]
            };
            for prefix in prefixes {
                for name in Self::tables_with_prefix(tx, prefix)? {
                    // Deleting goes by name; the value type does not matter.
                    tx.delete_table(TableDefinition::<&str, ()>::new(&name))?;
                }
            }
            let run = RunState {
                started_unix: now_unix,
                full,
                done: BTreeSet::new(),
            };
            Self::put_meta(tx, RUN, &run)?;
            out = Some((run, false));
            Ok(())
        })?;
        out.ok_or_else(|| CacheError::Damaged {
            path: self.path.clone(),
            message: "the run could not be started".into(),
        })
    }

    /// Marks a step of the run done.
    pub fn mark_done(&self, step: &str) -> Result<(), CacheError> {
        self.write(true, |tx| Self::done_in(tx, step))
    }

    fn done_in(tx: &Tx, step: &str) -> Result<(), redb::Error> {
        let mut run: RunState = Self::read_meta(tx, RUN)?
            .ok_or_else(|| redb::Error::Corrupted("no run in progress".into()))?;
        run.done.insert(step.to_owned());
        Self::put_meta(tx, RUN, &run)
    }

    /// Ends the run: the next one starts afresh.
    pub fn finish_run(&self) -> Result<(), CacheError> {
        self.write(true, |tx| {
            tx.open_table(META)?.remove(RUN)?;
            Ok(())
        })
    }

    /// What is remembered of a stream.
    pub fn stream_state(&self, stream: &str) -> Result<Option<StreamState>, CacheError> {
        self.meta(&format!("stream:{stream}"))
    }

    /// Starts (or restarts) a complete listing of a stream: forgets which records were seen.
    pub fn start_listing(&self, stream: &str) -> Result<(), CacheError> {
        self.write(true, |tx| {
            tx.delete_table(TableDefinition::<&str, ()>::new(&seen_table(stream)))?;
            Ok(())
        })
    }

    /// Stores a page of a stream: new and changed records are written and noted; every record
    /// is marked seen (for [`Mirror::finish_listing`]). `durable` forces it to disk now (others
    /// reach the disk with the next durable write; a crash loses at most those pages, which the
    /// resumed run reads again).
    pub fn put_page(
        &self,
        stream: &str,
        records: &[Incoming<'_>],
        listing: bool,
        durable: bool,
    ) -> Result<Vec<(Key, Change)>, CacheError> {
        let mut changed = Vec::new();
        self.write(durable, |tx| {
            let rn = records_table(stream);
            let sn = seen_table(stream);
            let cn = changes_table(stream);
            let tn = tombs_table(stream);
            let mut rec = tx.open_table(TableDefinition::<&str, &[u8]>::new(&rn))?;
            let mut seen = tx.open_table(TableDefinition::<&str, ()>::new(&sn))?;
            let mut chg = tx.open_table(TableDefinition::<&str, u8>::new(&cn))?;
            let mut tomb = tx.open_table(TableDefinition::<&str, &[u8]>::new(&tn))?;
            for r in records {
                if listing {
                    seen.insert(r.key, ())?;
                }
                let before = rec.get(r.key)?.map(|v| self.same(stream, v.value(), r));
                let change = match before {
                    Some(true) => continue,
                    Some(false) => Change::Updated,
                    None => Change::Created,
                };
                let body = self.seal_body(stream, r.key, r.body);
                rec.insert(r.key, frame(r.version, &body).as_slice())?;
                let noted = chg.get(r.key)?.and_then(|v| Change::from_code(v.value()));
                let change = match (noted, change) {
                    // Created earlier in this run and changed again: still new.
                    (Some(Change::Created), _) => Change::Created,
                    // Deleted earlier in this run and back: it changed.
                    (Some(Change::Deleted), _) => Change::Updated,
                    (_, c) => c,
                };
                // A record that comes back after a tombstone is alive again.
                tomb.remove(r.key)?;
                chg.insert(r.key, change.code())?;
                changed.push((r.key.to_owned(), change));
            }
            Ok(())
        })?;
        Ok(changed)
    }

    /// Ends a complete listing of a stream. With `reconcile`, every stored record that the
    /// listing did not see is gone from bexio: it becomes a tombstone, and its dependent
    /// records (`cascade`: other streams keyed by the same id, such as an invoice's positions)
    /// are removed. The stream's state is saved and the stream marked done, all in one durable
    /// transaction. Returns the keys found deleted.
    pub fn finish_listing(
        &self,
        stream: &str,
        reconcile: bool,
        cascade: &[&str],
        state: &StreamState,
        now_unix: u64,
    ) -> Result<Vec<Key>, CacheError> {
        let mut deleted = Vec::new();
        self.write(true, |tx| {
            let rn = records_table(stream);
            let sn = seen_table(stream);
            if reconcile {
                let mut rec = tx.open_table(TableDefinition::<&str, &[u8]>::new(&rn))?;
                let seen = tx.open_table(TableDefinition::<&str, ()>::new(&sn))?;
                let mut gone = Vec::new();
                for item in rec.iter()? {
                    let (k, v) = item?;
                    if seen.get(k.value())?.is_none() {
                        gone.push((k.value().to_owned(), v.value().to_vec()));
                    }
                }
                let cn = changes_table(stream);
                let tn = tombs_table(stream);
                let mut chg = tx.open_table(TableDefinition::<&str, u8>::new(&cn))?;
                let mut tomb = tx.open_table(TableDefinition::<&str, &[u8]>::new(&tn))?;
                for (k, stored) in gone {
                    rec.remove(k.as_str())?;
                    let (_, body) = unframe(&stored);
                    let mut t = now_unix.to_le_bytes().to_vec();
                    t.extend_from_slice(body);
                    tomb.insert(k.as_str(), t.as_slice())?;
                    let noted = chg
                        .get(k.as_str())?
                        .and_then(|v| Change::from_code(v.value()));
                    if noted == Some(Change::Created) {
                        // Created and deleted within the run: no change at all.
                        chg.remove(k.as_str())?;
                    } else {
                        chg.insert(k.as_str(), Change::Deleted.code())?;
                    }
                    for other in cascade {
                        let on = records_table(other);
                        tx.open_table(TableDefinition::<&str, &[u8]>::new(&on))?
                            .remove(k.as_str())?;
                    }
                    deleted.push(k);
                }
            }
            tx.delete_table(TableDefinition::<&str, ()>::new(&sn))?;
            Self::put_meta(tx, &format!("stream:{stream}"), state)?;
            Self::done_in(tx, stream)
        })?;
        Ok(deleted)
    }

    /// Plans per-id requests: `keys` to fetch (stored as the plan's to-do list) and records
    /// of other streams to drop, in one durable transaction that also marks the plan done.
    pub fn plan(
        &self,
        plan: &str,
        keys: &[Key],
        drop: &[(&str, Vec<Key>)],
    ) -> Result<(), CacheError> {
        self.write(true, |tx| {
            let name = todo_table(plan);
            tx.delete_table(TableDefinition::<&str, ()>::new(&name))?;
            let mut todo = tx.open_table(TableDefinition::<&str, ()>::new(&name))?;
            for k in keys {
                todo.insert(k.as_str(), ())?;
            }
            for (stream, keys) in drop {
                let rn = records_table(stream);
                let mut rec = tx.open_table(TableDefinition::<&str, &[u8]>::new(&rn))?;
                for k in keys {
                    rec.remove(k.as_str())?;
                }
            }
            Self::done_in(tx, &format!("plan:{plan}"))
        })
    }

    /// What a plan still has to fetch.
    pub fn todo(&self, plan: &str) -> Result<Vec<Key>, CacheError> {
        self.keys(&todo_table(plan), |name, tx| {
            let t = tx.open_table(TableDefinition::<&str, ()>::new(name))?;
            t.iter()?
                .map(|r| r.map(|(k, _)| k.value().to_owned()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Into::into)
        })
    }

    fn keys(
        &self,
        name: &str,
        f: impl FnOnce(&str, &redb::ReadTransaction) -> Result<Vec<Key>, redb::Error>,
    ) -> Result<Vec<Key>, CacheError> {
        let run = || -> Result<Vec<Key>, redb::Error> {
            let tx = self.db.begin_read()?;
            match f(name, &tx) {
                Err(redb::Error::TableDoesNotExist(_)) => Ok(Vec::new()),
                other => other,
            }
        };
        run().map_err(self.err())
    }

    /// Stores answers of a plan (`None`: the record is gone, remove it) and ticks them off.
    pub fn put_results(
        &self,
        stream: &str,
        plan: &str,
        results: &[(Key, Option<Vec<u8>>)],
        durable: bool,
    ) -> Result<(), CacheError> {
        self.write(durable, |tx| {
            let rn = records_table(stream);
            let tn = todo_table(plan);
            let mut rec = tx.open_table(TableDefinition::<&str, &[u8]>::new(&rn))?;
            let mut todo = tx.open_table(TableDefinition::<&str, ()>::new(&tn))?;
            for (k, body) in results {
                match body {
                    Some(b) => {
                        let body = self.seal_body(stream, k, b);
                        rec.insert(k.as_str(), frame(None, &body).as_slice())?;
                    }
                    None => {
                        rec.remove(k.as_str())?;
                    }
                }
                todo.remove(k.as_str())?;
            }
            Ok(())
        })
    }

    /// The keys of a stream's records.
    pub fn stored_keys(&self, stream: &str) -> Result<Vec<Key>, CacheError> {
        self.keys(&records_table(stream), |name, tx| {
            let t = tx.open_table(TableDefinition::<&str, &[u8]>::new(name))?;
            t.iter()?
                .map(|r| r.map(|(k, _)| k.value().to_owned()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Into::into)
        })
    }

    /// How many records a stream holds.
    pub fn len(&self, stream: &str) -> Result<u64, CacheError> {
        let run = || -> Result<u64, redb::Error> {
            let tx = self.db.begin_read()?;
            let name = records_table(stream);
            match tx.open_table(TableDefinition::<&str, &[u8]>::new(&name)) {
                Ok(t) => Ok(t.len()?),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
                Err(e) => Err(e.into()),
            }
        };
        run().map_err(self.err())
    }

    /// Whether a stream holds no record.
    pub fn is_empty(&self, stream: &str) -> Result<bool, CacheError> {
        Ok(self.len(stream)? == 0)
    }

    /// A stream's records in key order, streamed (memory holds one record at a time).
    pub fn records(
        &self,
        stream: &str,
    ) -> Result<impl Iterator<Item = Result<(Key, Vec<u8>), CacheError>> + use<>, CacheError> {
        let path = self.path.clone();
        let file = self.path.clone();
        let err = move |e: redb::Error| CacheError::Damaged {
            path: path.clone(),
            message: e.to_string(),
        };
        let sealer = self.sealer.clone();
        let stream = stream.to_owned();
        let tx = self.db.begin_read().map_err(|e| err(e.into()))?;
        let name = records_table(&stream);
        let range = match tx.open_table(TableDefinition::<&str, &[u8]>::new(&name)) {
            Ok(t) => Some(t.range::<&str>(..).map_err(|e| err(e.into()))?),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(err(e.into())),
        };
        Ok(range.into_iter().flatten().map(move |item| {
            let (k, v) = item.map_err(|e| err(e.into()))?;
            let key = k.value().to_owned();
            let body = open_body(sealer.as_ref(), &file, &stream, &key, unframe(v.value()).1)?;
            Ok((key, body))
        }))
    }

    /// One record.
    pub fn get(&self, stream: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let run = || -> Result<Option<Vec<u8>>, redb::Error> {
            let tx = self.db.begin_read()?;
            let name = records_table(stream);
            match tx.open_table(TableDefinition::<&str, &[u8]>::new(&name)) {
                Ok(t) => Ok(t.get(key)?.map(|v| unframe(v.value()).1.to_vec())),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        run()
            .map_err(self.err())?
            .map(|b| open_body(self.sealer.as_ref(), &self.path, stream, key, &b))
            .transpose()
    }

    /// The changes the current (or last) run noted, per stream.
    pub fn changes(&self) -> Result<BTreeMap<String, BTreeMap<Change, Vec<Key>>>, CacheError> {
        let run = || -> Result<BTreeMap<String, BTreeMap<Change, Vec<Key>>>, redb::Error> {
            let tx = self.db.begin_read()?;
            let mut out = BTreeMap::new();
            let names: Vec<String> = tx
                .list_tables()?
                .map(|h| h.name().to_owned())
                .filter(|n| n.starts_with("chg:"))
                .collect();
            for name in names {
                let t = tx.open_table(TableDefinition::<&str, u8>::new(&name))?;
                let mut per: BTreeMap<Change, Vec<Key>> = BTreeMap::new();
                for item in t.iter()? {
                    let (k, v) = item?;
                    if let Some(c) = Change::from_code(v.value()) {
                        per.entry(c).or_default().push(k.value().to_owned());
                    }
                }
                if !per.is_empty() {
                    out.insert(name["chg:".len()..].to_owned(), per);
                }
            }
            Ok(out)
        };
        run().map_err(self.err())
    }

    /// The streams that hold records.
    pub fn streams(&self) -> Result<Vec<String>, CacheError> {
        let run = || -> Result<Vec<String>, redb::Error> {
            let tx = self.db.begin_read()?;
            Ok(tx
                .list_tables()?
                .filter_map(|h| h.name().strip_prefix("rec:").map(str::to_owned))
                .collect())
        };
        run().map_err(self.err())
    }

    /// Reads (and, in an encrypted mirror, decrypts) every record and tombstone; returns how
    /// many. The first one that cannot be read is the error.
    pub fn verify(&self) -> Result<u64, CacheError> {
        let mut n = 0;
        for stream in self.streams()? {
            for r in self.records(&stream)? {
                r?;
                n += 1;
            }
            n += self.tombstones(&stream)?.len() as u64;
        }
        Ok(n)
    }

    /// The tombstones of a stream, in key order.
    pub fn tombstones(&self, stream: &str) -> Result<Vec<Tombstone>, CacheError> {
        let run = || -> Result<Vec<Tombstone>, redb::Error> {
            let tx = self.db.begin_read()?;
            let name = tombs_table(stream);
            let t = match tx.open_table(TableDefinition::<&str, &[u8]>::new(&name)) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let mut out = Vec::new();
            for item in t.iter()? {
                let (k, v) = item?;
                let v = v.value();
                if v.len() < 8 {
                    continue;
                }
                let (at, body) = v.split_at(8);
                out.push(Tombstone {
                    key: k.value().to_owned(),
                    deleted_unix: u64::from_le_bytes(at.try_into().unwrap_or_default()),
                    body: body.to_vec(),
                });
            }
            Ok(out)
        };
        let mut out = run().map_err(self.err())?;
        for t in &mut out {
            t.body = open_body(self.sealer.as_ref(), &self.path, stream, &t.key, &t.body)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
