//! Where synced tables live: every sync of a company is a *version*, stored by content.
//!
//! A table is cut into chunks of rows at boundaries chosen by the rows' keys (so that one new
//! invoice changes the chunk it lands in, not every chunk after it). Each chunk is an Arrow IPC
//! stream (zstd) stored once under `objects/`, named by the SHA-256 of its bytes: a version that
//! repeats most of the previous one costs only its new chunks and its manifest. A version's
//! manifest (`<company>/versions/<id>.json`) lists its tables, their row counts, schema hashes and
//! chunks, a checksum over all of it, and the sync's statistics; tags name versions
//! (`v1.0-production`), and `CURRENT` says which version reads see.
//!
//! Writes are crash-safe: chunks are written aside and renamed into place, then the manifest,
//! then `CURRENT`, each by an atomic rename. A crash at any point leaves the previous version
//! current and no half version visible (at worst, chunks no version refers to, which
//! [`Store::prune`] removes). Every chunk is checked against its name when read.
//!
//! ```no_run
//! # fn main() -> Result<(), bexio_bi_store::StoreError> {
//! use bexio_bi_store::Store;
//! let store = Store::open("/tmp/bexio-bi-data")?;
//! if let Some(snap) = store.latest("q69vysq7fkzl")? {
//!     for t in &snap.manifest().tables {
//!         println!("{}: {} rows", t.name, t.rows);
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod audit;
pub mod backup;
pub mod crypt;
mod objects;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_ipc::CompressionType;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow_schema::{DataType, SchemaRef};
use serde::{Deserialize, Serialize};

use crypt::Keyring;
use objects::Objects;

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Arrow could not write or read a table.
    #[error("table {table} in {path}: {source}")]
    Arrow {
        /// The table.
        table: String,
        /// The file.
        path: PathBuf,
        /// Arrow's error.
        source: arrow_schema::ArrowError,
    },
    /// A file is damaged (changed, truncated, not what it should be).
    #[error("{path} is damaged: {message}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A name that cannot be a directory or file name.
    #[error("{0:?} is not a valid company, table or tag name")]
    BadName(String),
    /// Another sync of the company is writing.
    #[error("another sync of {0} is running; wait for it to finish")]
    Busy(String),
    /// No such table in the version.
    #[error("no table {table} in the data of {tenant} (try `bexio-bi tables`)")]
    NoTable {
        /// The company.
        tenant: String,
        /// The table.
        table: String,
    },
    /// The password does not open the store's key.
    #[error(
        "the password does not open {0} (set BEXIO_BI_PASSWORD to the store's master password)"
    )]
    WrongPassword(PathBuf),
    /// A password that cannot be used.
    #[error("{0}")]
    Password(String),
    /// The store is encrypted and was opened without its password.
    #[error(
        "the store is encrypted ({0}); give its master password in BEXIO_BI_PASSWORD, or run in a terminal to be asked"
    )]
    Locked(PathBuf),
    /// A backup target could not be used.
    #[error("backup target {target}: {message}")]
    Backup {
        /// Where.
        target: String,
        /// What went wrong.
        message: String,
    },
    /// No version with this id or tag.
    #[error("{tenant} has no version {version:?} (try `bexio-bi versions --tenant {tenant}`)")]
    NoVersion {
        /// The company.
        tenant: String,
        /// What was asked for.
        version: String,
    },
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadName(name.to_owned()))
    }
}

/// One chunk of a table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Chunk {
    /// Its name under `objects/`: the SHA-256 of its bytes, or in an encrypted store a keyed
    /// hash of them.
    pub hash: String,
    /// Rows.
    pub rows: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

/// One table of a version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableEntry {
    /// Table name.
    pub name: String,
    /// Rows.
    pub rows: u64,
    /// SHA-256 of the table's schema (column names, types, nullability).
    pub schema_hash: String,
    /// Its chunks, in order.
    pub chunks: Vec<Chunk>,
}

/// What a version holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Format version of this manifest.
    pub format: u32,
    /// The company.
    pub tenant: String,
    /// Version id (sortable: time of the sync).
    pub id: String,
    /// When it was written (seconds since the epoch).
    pub created_unix: u64,
    /// Tables.
    pub tables: Vec<TableEntry>,
    /// What the sync that wrote it did (requests, changes…), as it reported it.
    #[serde(default)]
    pub stats: serde_json::Value,
    /// SHA-256 over the tables, their schemas and chunks: two versions with the same checksum
    /// hold the same data.
    pub checksum: String,
    /// Bytes of chunks this version added to the store (the others were there already).
    #[serde(default)]
    pub added_bytes: u64,
}

impl Manifest {
    pub(crate) fn content_checksum(tables: &[TableEntry]) -> String {
        let mut text = String::new();
        for t in tables {
            text.push_str(&format!("{}\t{}\t{}\n", t.name, t.rows, t.schema_hash));
            for c in &t.chunks {
                text.push_str(&c.hash);
                text.push('\n');
            }
        }
        objects::hash(text.as_bytes())
    }

    /// Bytes of all its chunks (shared chunks counted in full).
    pub fn bytes(&self) -> u64 {
        self.tables
            .iter()
            .flat_map(|t| &t.chunks)
            .map(|c| c.bytes)
            .sum()
    }
}

/// What a manifest is sealed for: it opens only as this company's version.
pub(crate) fn manifest_aad(tenant: &str, id: &str) -> String {
    format!("manifest:{tenant}/{id}")
}

fn schema_hash(schema: &SchemaRef) -> String {
    let mut text = String::new();
    for f in schema.fields() {
        text.push_str(&format!(
            "{}:{}:{}\n",
            f.name(),
            f.data_type(),
            f.is_nullable()
        ));
    }
    objects::hash(text.as_bytes())
}

pub(crate) fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Replaces `path` with `bytes` atomically (written aside, synced, renamed).
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp"));
    write_synced(&tmp, bytes)?;
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The data directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    objects: Objects,
    keyring: Option<Arc<Keyring>>,
}

impl Store {
    /// Opens (and creates) a store at `root` that keeps its files in clear (tests, benchmarks,
    /// stores on an encrypted volume). An encrypted store is refused: open it with
    /// [`Store::open_encrypted`].
    pub fn open(root: impl AsRef<Path>) -> Result<Store, StoreError> {
        let root = root.as_ref().to_path_buf();
        if crypt::key_path(&root).exists() {
            return Err(StoreError::Locked(crypt::key_path(&root)));
        }
        Store::with_keyring(root, None)
    }

    /// Opens an encrypted store with its master password, or creates one (a new random data
    /// key, wrapped by the password) where there is none yet. Refuses a store that already
    /// holds data in clear.
    pub fn open_encrypted(root: impl AsRef<Path>, password: &str) -> Result<Store, StoreError> {
        let root = root.as_ref().to_path_buf();
        let key = crypt::key_path(&root);
        let keyring = if key.exists() {
            Keyring::unlock(&key, password)?
        } else {
            fs::create_dir_all(&root).map_err(io(&root))?;
            if let Some(t) = Store::with_keyring(root.clone(), None)?.tenants()?.first() {
                return Err(StoreError::Damaged {
                    path: root.join(t),
                    message: "this store holds data written in clear; encrypted stores start empty (move the directory away and sync again)".into(),
                });
            }
            Keyring::create(&key, password)?
        };
        Store::with_keyring(root, Some(Arc::new(keyring)))
    }

    /// Opens a store with an unlocked key (`None`: in clear).
    pub fn with_keyring(
        root: impl AsRef<Path>,
        keyring: Option<Arc<Keyring>>,
    ) -> Result<Store, StoreError> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(io(&root))?;
        Ok(Store {
            objects: Objects::new(root.join("objects"), keyring.clone()),
            root,
            keyring,
        })
    }

    /// Whether the store at `root` is encrypted (it has a key file).
    pub fn is_encrypted_at(root: impl AsRef<Path>) -> bool {
        crypt::key_path(root.as_ref()).exists()
    }

    /// The unlocked key of an encrypted store (for the mirror and other files kept beside it).
    pub fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.keyring.as_ref()
    }

    /// Changes the master password of the encrypted store at `root`; the data stays as it is.
    pub fn rekey(root: impl AsRef<Path>, old: &str, new: &str) -> Result<(), StoreError> {
        Keyring::rekey(&crypt::key_path(root.as_ref()), old, new)
    }

    /// Writes a small file (a manifest, a backup's index), sealed in an encrypted store.
    pub(crate) fn seal_bytes(&self, plain: Vec<u8>, aad: &str) -> Vec<u8> {
        match &self.keyring {
            None => plain,
            Some(k) => k.seal_file(&plain, aad.as_bytes()),
        }
    }

    /// Reads what [`Store::seal_bytes`] wrote.
    pub(crate) fn open_bytes(
        &self,
        bytes: Vec<u8>,
        aad: &str,
        path: &Path,
    ) -> Result<Vec<u8>, StoreError> {
        match &self.keyring {
            None if crypt::is_sealed(&bytes) => {
                Err(StoreError::Locked(crypt::key_path(&self.root)))
            }
            None => Ok(bytes),
            Some(k) => k.open_file(&bytes, aad.as_bytes(), path),
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tenant_dir(&self, tenant: &str) -> Result<PathBuf, StoreError> {
        check_name(tenant)?;
        if tenant == "objects" {
            return Err(StoreError::BadName(tenant.to_owned()));
        }
        Ok(self.root.join(tenant))
    }

    /// The companies with data.
    pub fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.root).map_err(io(&self.root))?.flatten() {
            if e.path().join("CURRENT").exists() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Starts writing a new version of `tenant`; one writer per company at a time.
    pub fn begin(&self, tenant: &str) -> Result<SnapshotWriter, StoreError> {
        let dir = self.tenant_dir(tenant)?;
        fs::create_dir_all(dir.join("versions")).map_err(io(&dir))?;
        // Readers need no lock: they only follow CURRENT to a complete manifest.
        let lock_path = dir.join(".lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Busy(tenant.to_owned())),
            Err(fs::TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    path: lock_path,
                    source,
                });
            }
        }
        let t = now();
        let mut id = format!("{:013}-{:09}", t.as_millis(), t.subsec_nanos());
        // Two syncs in the same instant still get distinct, ordered ids.
        while dir.join("versions").join(format!("{id}.json")).exists() {
            id.push('x');
        }
        Ok(SnapshotWriter {
            store: self.clone(),
            tenant_dir: dir,
            objects: self.objects.clone(),
            tenant: tenant.to_owned(),
            id,
            created_unix: t.as_secs(),
            tables: Vec::new(),
            open: Vec::new(),
            stats: serde_json::Value::Null,
            new_bytes: 0,
            _lock: lock,
        })
    }

    fn read_manifest(&self, tenant: &str, id: &str) -> Result<Manifest, StoreError> {
        check_name(id)?;
        let path = self
            .tenant_dir(tenant)?
            .join("versions")
            .join(format!("{id}.json"));
        let bytes = fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::NoVersion {
                    tenant: tenant.to_owned(),
                    version: id.to_owned(),
                }
            } else {
                StoreError::Io {
                    path: path.clone(),
                    source: e,
                }
            }
        })?;
        let bytes = self.open_bytes(bytes, &manifest_aad(tenant, id), &path)?;
        let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| StoreError::Damaged {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if m.checksum != Manifest::content_checksum(&m.tables) || m.id != id || m.tenant != tenant {
            return Err(StoreError::Damaged {
                path,
                message: "its content does not match its checksum".into(),
            });
        }
        Ok(m)
    }

    /// Every version of `tenant`, oldest first.
    pub fn versions(&self, tenant: &str) -> Result<Vec<Manifest>, StoreError> {
        let dir = self.tenant_dir(tenant)?.join("versions");
        let mut ids: Vec<String> = match fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.strip_suffix(".json")
                        .filter(|id| !id.starts_with('.'))
                        .map(str::to_owned)
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(StoreError::Io { path: dir, source }),
        };
        ids.sort();
        ids.iter()
            .map(|id| self.read_manifest(tenant, id))
            .collect()
    }

    /// The current version's id, if any.
    pub fn current(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        let pointer = self.tenant_dir(tenant)?.join("CURRENT");
        match fs::read_to_string(&pointer) {
            Ok(s) => Ok(Some(s.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                path: pointer,
                source,
            }),
        }
    }

    /// The current version of `tenant`, if any.
    pub fn latest(&self, tenant: &str) -> Result<Option<Snapshot>, StoreError> {
        match self.current(tenant)? {
            None => Ok(None),
            Some(id) => self.snapshot(tenant, &id).map(Some),
        }
    }

    fn snapshot(&self, tenant: &str, id: &str) -> Result<Snapshot, StoreError> {
        Ok(Snapshot {
            manifest: self.read_manifest(tenant, id)?,
            objects: self.objects.clone(),
        })
    }

    /// A version by id, tag, or `latest`.
    pub fn version(&self, tenant: &str, which: &str) -> Result<Snapshot, StoreError> {
        let no = || StoreError::NoVersion {
            tenant: tenant.to_owned(),
            version: which.to_owned(),
        };
        if which == "latest" || which == "current" {
            return self.latest(tenant)?.ok_or_else(no);
        }
        if let Some(id) = self.tags(tenant)?.get(which) {
            return self.snapshot(tenant, id);
        }
        match self.snapshot(tenant, which) {
            Err(StoreError::BadName(_)) => Err(no()),
            other => other,
        }
    }

    /// Tags of `tenant`: name → version id.
    pub fn tags(&self, tenant: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let path = self.tenant_dir(tenant)?.join("tags.json");
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| StoreError::Damaged {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Names version `which` (id, tag or `latest`) `name`; a tag moves if it existed.
    pub fn tag(&self, tenant: &str, which: &str, name: &str) -> Result<String, StoreError> {
        check_name(name)?;
        if name == "latest" || name == "current" {
            return Err(StoreError::BadName(name.to_owned()));
        }
        let id = self.version(tenant, which)?.manifest.id;
        let _lock = self.begin_lock(tenant)?;
        let mut tags = self.tags(tenant)?;
        tags.insert(name.to_owned(), id.clone());
        let bytes = serde_json::to_vec_pretty(&tags).unwrap_or_default();
        replace(&self.tenant_dir(tenant)?.join("tags.json"), &bytes)?;
        Ok(id)
    }

    /// Makes version `which` current again; later versions stay and can be made current too.
    pub fn rollback(&self, tenant: &str, which: &str) -> Result<String, StoreError> {
        let id = self.version(tenant, which)?.manifest.id;
        let _lock = self.begin_lock(tenant)?;
        replace(&self.tenant_dir(tenant)?.join("CURRENT"), id.as_bytes())?;
        Ok(id)
    }

    fn begin_lock(&self, tenant: &str) -> Result<File, StoreError> {
        let path = self.tenant_dir(tenant)?.join(".lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match lock.try_lock() {
            Ok(()) => Ok(lock),
            Err(fs::TryLockError::WouldBlock) => Err(StoreError::Busy(tenant.to_owned())),
            Err(fs::TryLockError::Error(source)) => Err(StoreError::Io { path, source }),
        }
    }

    /// The store's audit trail (`audit.log` in its directory).
    pub fn audit(&self) -> audit::AuditLog {
        audit::AuditLog::new(self.root.join("audit.log"), self.keyring.clone())
    }

    /// Bytes of all chunks in the store.
    pub fn size(&self) -> Result<u64, StoreError> {
        self.objects.size()
    }

    /// Checks every chunk of every version of `tenant` against its checksum; returns the
    /// versions and chunks checked.
    pub fn verify(&self, tenant: &str) -> Result<(usize, usize), StoreError> {
        let versions = self.versions(tenant)?;
        let mut seen = std::collections::BTreeSet::new();
        for m in &versions {
            for c in m.tables.iter().flat_map(|t| &t.chunks) {
                if seen.insert(c.hash.clone()) {
                    self.objects.get(&c.hash)?;
                }
            }
        }
        Ok((versions.len(), seen.len()))
    }

    /// Removes chunks that no version of any company refers to (left by a crash, or by
    /// versions removed); returns how many and their bytes.
    pub fn prune(&self) -> Result<(usize, u64), StoreError> {
        let mut used = std::collections::BTreeSet::new();
        for t in self.tenants()? {
            for m in self.versions(&t)? {
                used.extend(m.tables.into_iter().flat_map(|t| t.chunks).map(|c| c.hash));
            }
        }
        let (mut n, mut bytes) = (self.objects.remove_leftovers()?, 0);
        for (h, size) in self.objects.list()? {
            if !used.contains(&h) {
                self.objects.remove(&h)?;
                n += 1;
                bytes += size;
            }
        }
        Ok((n, bytes))
    }
}

/// Rows per chunk: a cut where a row's key hashes to zero in these bits (about 4,096 rows),
/// never fewer than `MIN_ROWS` nor more than `MAX_ROWS`.
const CUT_MASK: u64 = 4095;
const MIN_ROWS: usize = 512;
const MAX_ROWS: usize = 32_768;

/// FNV-1a: cheap, stable across runs and platforms.
fn key_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

struct OpenTable {
    name: String,
    schema: SchemaRef,
    rows: u64,
    chunks: Vec<Chunk>,
    /// Rows waiting for the next cut.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

/// A version being written. Dropping it without [`SnapshotWriter::commit`] publishes nothing.
pub struct SnapshotWriter {
    store: Store,
    tenant_dir: PathBuf,
    objects: Objects,
    tenant: String,
    id: String,
    created_unix: u64,
    tables: Vec<TableEntry>,
    /// Tables being written, in the order they were started (batches of several tables may
    /// arrive interleaved, as a sync produces them).
    open: Vec<OpenTable>,
    stats: serde_json::Value,
    new_bytes: u64,
    /// The company's write lock, held until the writer is gone.
    _lock: File,
}

impl SnapshotWriter {
    /// The id the version will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the sync did, kept in the manifest.
    pub fn set_stats(&mut self, stats: serde_json::Value) {
        self.stats = stats;
    }

    /// Appends a batch to `table`; full chunks go to disk as they form.
    pub fn write(&mut self, table: &str, batch: &RecordBatch) -> Result<(), StoreError> {
        check_name(table)?;
        let at = match self.open.iter().position(|t| t.name == table) {
            Some(at) => at,
            None => {
                self.open.push(OpenTable {
                    name: table.to_owned(),
                    schema: batch.schema(),
                    rows: 0,
                    chunks: Vec::new(),
                    pending: Vec::new(),
                    pending_rows: 0,
                });
                self.open.len() - 1
            }
        };
        // Cut points: where a row's key (the first column, when it is text) hashes to zero.
        let keys = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .cloned();
        let mut start = 0;
        for i in 0..batch.num_rows() {
            let t = &self.open[at];
            let in_chunk = t.pending_rows + (i + 1 - start);
            let by_key = keys
                .as_ref()
                .is_some_and(|k| k.is_valid(i) && key_hash(k.value(i)) & CUT_MASK == 0);
            if (by_key && in_chunk >= MIN_ROWS) || in_chunk >= MAX_ROWS {
                let part = batch.slice(start, i + 1 - start);
                self.open[at].pending_rows += part.num_rows();
                self.open[at].pending.push(part);
                self.flush(at)?;
                start = i + 1;
            }
        }
        if start < batch.num_rows() {
            let part = batch.slice(start, batch.num_rows() - start);
            self.open[at].pending_rows += part.num_rows();
            self.open[at].pending.push(part);
        }
        Ok(())
    }

    /// Writes the pending rows of a table as one chunk.
    fn flush(&mut self, at: usize) -> Result<(), StoreError> {
        let t = &mut self.open[at];
        if t.pending_rows == 0 {
            return Ok(());
        }
        let arrow_err = |source| StoreError::Arrow {
            table: t.name.clone(),
            path: self.tenant_dir.clone(),
            source,
        };
        let batch =
            arrow_select::concat::concat_batches(&t.schema, &t.pending).map_err(arrow_err)?;
        let mut bytes = Vec::new();
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(CompressionType::ZSTD))
            .map_err(arrow_err)?;
        let mut w = StreamWriter::try_new_with_options(&mut bytes, &t.schema, options)
            .map_err(arrow_err)?;
        w.write(&batch).map_err(arrow_err)?;
        w.finish().map_err(arrow_err)?;
        drop(w);
        let (hash, new, size) = self.objects.put(&bytes)?;
        if new {
            self.new_bytes += size;
        }
        t.chunks.push(Chunk {
            hash,
            rows: batch.num_rows() as u64,
            bytes: size,
        });
        t.rows += batch.num_rows() as u64;
        t.pending.clear();
        t.pending_rows = 0;
        Ok(())
    }

    /// Publishes the version and makes it current. Nothing is visible before this returns.
    pub fn commit(mut self) -> Result<Manifest, StoreError> {
        for at in 0..self.open.len() {
            self.flush(at)?;
        }
        for t in std::mem::take(&mut self.open) {
            self.tables.push(TableEntry {
                schema_hash: schema_hash(&t.schema),
                name: t.name,
                rows: t.rows,
                chunks: t.chunks,
            });
        }
        let manifest = Manifest {
            format: 2,
            tenant: self.tenant.clone(),
            id: self.id.clone(),
            created_unix: self.created_unix,
            checksum: Manifest::content_checksum(&self.tables),
            tables: std::mem::take(&mut self.tables),
            stats: std::mem::take(&mut self.stats),
            added_bytes: self.new_bytes,
        };
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Damaged {
            path: self.tenant_dir.clone(),
            message: e.to_string(),
        })?;
        let bytes = self
            .store
            .seal_bytes(bytes, &manifest_aad(&self.tenant, &self.id));
        replace(
            &self
                .tenant_dir
                .join("versions")
                .join(format!("{}.json", self.id)),
            &bytes,
        )?;
        replace(&self.tenant_dir.join("CURRENT"), self.id.as_bytes())?;
        Ok(manifest)
    }
}

/// A published version.
#[derive(Debug, Clone)]
pub struct Snapshot {
    manifest: Manifest,
    objects: Objects,
}

impl Snapshot {
    /// What it holds.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Reads a table chunk by chunk (memory holds one chunk), each checked against its name.
    pub fn read(
        &self,
        table: &str,
    ) -> Result<impl Iterator<Item = Result<RecordBatch, StoreError>> + use<>, StoreError> {
        let entry = self
            .manifest
            .tables
            .iter()
            .find(|t| t.name == table)
            .ok_or_else(|| StoreError::NoTable {
                tenant: self.manifest.tenant.clone(),
                table: table.to_owned(),
            })?;
        let objects = self.objects.clone();
        let name = Arc::new(table.to_owned());
        Ok(entry.chunks.clone().into_iter().flat_map(move |c| {
            let path = objects.path(&c.hash);
            let name = Arc::clone(&name);
            let batches: Vec<Result<RecordBatch, StoreError>> = match objects.get(&c.hash) {
                Err(e) => vec![Err(e)],
                Ok(bytes) => match StreamReader::try_new(std::io::Cursor::new(bytes), None) {
                    Err(source) => vec![Err(StoreError::Arrow {
                        table: name.to_string(),
                        path,
                        source,
                    })],
                    Ok(reader) => reader
                        .map(|b| {
                            b.map_err(|source| StoreError::Arrow {
                                table: name.to_string(),
                                path: path.clone(),
                                source,
                            })
                        })
                        .collect(),
                },
            };
            batches
        }))
    }
}

/// One cell as text, as `show` prints it: decimals exact, dates ISO, timestamps UTC with `Z`;
/// `None` for NULL.
pub fn cell_text(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_owned(),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Boolean => a.as_boolean().value(i).to_string(),
        DataType::Date32 => a
            .as_primitive::<Date32Type>()
            .value_as_date(i)
            .map_or_else(String::new, |d| d.to_string()),
        DataType::Timestamp(_, _) => a
            .as_primitive::<TimestampMicrosecondType>()
            .value_as_datetime(i)
            .map_or_else(String::new, |t| {
                format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))
            }),
        DataType::Decimal128(_, s) => {
            let v = a.as_primitive::<Decimal128Type>().value(i);
            rust_decimal::Decimal::try_from_i128_with_scale(v, *s as u32)
                .map_or_else(|_| v.to_string(), |d| d.to_string())
        }
        other => format!("<{other}>"),
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_backup;
#[cfg(test)]
mod tests_crypt;
