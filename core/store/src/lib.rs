//! Where synced tables live.
//!
//! Every sync of a company writes a new *snapshot*: a directory with one Arrow IPC stream file per
//! table and a `manifest.json` (tables, row counts, when). It is written in a hidden staging
//! directory and published with one atomic rename, and only then does the company's `LATEST`
//! pointer move (also by rename). A sync that dies half-way leaves a staging directory that the
//! next [`Store::open`] removes; readers never see half-written data.
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

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use serde::{Deserialize, Serialize};

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
    /// A manifest is damaged.
    #[error("{path} is damaged: {message}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A name that cannot be a directory or file name.
    #[error("{0:?} is not a valid company or table name")]
    BadName(String),
    /// Another sync of the company is writing.
    #[error("another sync of {0} is running; wait for it to finish")]
    Busy(String),
    /// No such table in the snapshot.
    #[error("no table {table} in the data of {tenant} (try `bexio-bi tables`)")]
    NoTable {
        /// The company.
        tenant: String,
        /// The table.
        table: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadName(name.to_owned()))
    }
}

/// One table of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableEntry {
    /// Table name.
    pub name: String,
    /// Rows.
    pub rows: u64,
    /// File name inside the snapshot.
    pub file: String,
}

/// What a snapshot holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Format version of this manifest.
    pub format: u32,
    /// The company.
    pub tenant: String,
    /// Snapshot id (sortable: time of the sync).
    pub id: String,
    /// When it was written (seconds since the epoch).
    pub created_unix: u64,
    /// Tables.
    pub tables: Vec<TableEntry>,
}

/// The data directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (and creates) a store at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Store, StoreError> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(io(&root))?;
        Ok(Store { root })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tenant_dir(&self, tenant: &str) -> Result<PathBuf, StoreError> {
        check_name(tenant)?;
        Ok(self.root.join(tenant))
    }

    /// Removes what interrupted syncs of a company left; called with the company's lock held.
    fn clean_staging(dir: &Path) -> Result<(), StoreError> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Ok(());
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".staging-") {
                fs::remove_dir_all(e.path()).map_err(io(&e.path()))?;
            }
        }
        Ok(())
    }

    /// The companies with data.
    pub fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.root).map_err(io(&self.root))?.flatten() {
            if e.path().join("LATEST").exists() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Starts writing a new snapshot of `tenant`.
    pub fn begin(&self, tenant: &str) -> Result<SnapshotWriter, StoreError> {
        let dir = self.tenant_dir(tenant)?;
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        // One writer per company at a time; readers need no lock (they only follow LATEST).
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
        Store::clean_staging(&dir)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut id = format!("{:013}-{:09}", now.as_millis(), now.subsec_nanos());
        // Two syncs in the same instant still get distinct, ordered ids.
        while dir.join(&id).exists() {
            id.push('x');
        }
        let staging = dir.join(format!(".staging-{id}"));
        fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(SnapshotWriter {
            tenant_dir: dir,
            staging,
            tenant: tenant.to_owned(),
            id,
            created_unix: now.as_secs(),
            tables: Vec::new(),
            open: Vec::new(),
            _lock: lock,
        })
    }

    /// The latest complete snapshot of `tenant`, if any.
    pub fn latest(&self, tenant: &str) -> Result<Option<Snapshot>, StoreError> {
        let dir = self.tenant_dir(tenant)?;
        let pointer = dir.join("LATEST");
        let id = match fs::read_to_string(&pointer) {
            Ok(s) => s.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Io {
                    path: pointer,
                    source,
                });
            }
        };
        check_name(&id)?;
        Snapshot::open(dir.join(id)).map(Some)
    }
}

struct OpenTable {
    name: String,
    file: String,
    rows: u64,
    writer: StreamWriter<BufWriter<File>>,
}

/// A snapshot being written. Dropping it without [`SnapshotWriter::commit`] publishes nothing.
pub struct SnapshotWriter {
    tenant_dir: PathBuf,
    staging: PathBuf,
    tenant: String,
    id: String,
    created_unix: u64,
    tables: Vec<TableEntry>,
    /// Tables being written, in the order they were started (batches of several tables may
    /// arrive interleaved, as a sync produces them).
    open: Vec<OpenTable>,
    /// The company's write lock, held until the writer is gone.
    _lock: File,
}

impl SnapshotWriter {
    /// Appends a batch to `table`, streaming it to disk.
    pub fn write(&mut self, table: &str, batch: &RecordBatch) -> Result<(), StoreError> {
        check_name(table)?;
        let at = match self.open.iter().position(|t| t.name == table) {
            Some(at) => at,
            None => {
                let file = format!("{table}.arrows");
                let path = self.staging.join(&file);
                let f = File::create(&path).map_err(io(&path))?;
                let writer = StreamWriter::try_new(BufWriter::new(f), &batch.schema()).map_err(
                    |source| StoreError::Arrow {
                        table: table.to_owned(),
                        path: path.clone(),
                        source,
                    },
                )?;
                self.open.push(OpenTable {
                    name: table.to_owned(),
                    file,
                    rows: 0,
                    writer,
                });
                self.open.len() - 1
            }
        };
        let t = &mut self.open[at];
        t.writer.write(batch).map_err(|source| StoreError::Arrow {
            table: table.to_owned(),
            path: self.staging.join(&t.file),
            source,
        })?;
        t.rows += batch.num_rows() as u64;
        Ok(())
    }

    fn close_tables(&mut self) -> Result<(), StoreError> {
        for mut t in std::mem::take(&mut self.open) {
            let path = self.staging.join(&t.file);
            t.writer.finish().map_err(|source| StoreError::Arrow {
                table: t.name.clone(),
                path: path.clone(),
                source,
            })?;
            let mut inner = t.writer.into_inner().map_err(|source| StoreError::Arrow {
                table: t.name.clone(),
                path: path.clone(),
                source,
            })?;
            inner.flush().map_err(io(&path))?;
            inner.get_ref().sync_all().map_err(io(&path))?;
            self.tables.push(TableEntry {
                name: t.name,
                rows: t.rows,
                file: t.file,
            });
        }
        Ok(())
    }

    /// Publishes the snapshot and makes it the latest. Nothing is visible before this returns.
    pub fn commit(mut self) -> Result<Manifest, StoreError> {
        self.close_tables()?;
        let manifest = Manifest {
            format: 1,
            tenant: self.tenant.clone(),
            id: self.id.clone(),
            created_unix: self.created_unix,
            tables: self.tables.clone(),
        };
        let mpath = self.staging.join("manifest.json");
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Damaged {
            path: mpath.clone(),
            message: e.to_string(),
        })?;
        write_synced(&mpath, &bytes)?;
        let final_dir = self.tenant_dir.join(&self.id);
        fs::rename(&self.staging, &final_dir).map_err(io(&final_dir))?;
        // Move the pointer atomically: write aside, then rename over.
        let tmp = self.tenant_dir.join(".LATEST.tmp");
        write_synced(&tmp, self.id.as_bytes())?;
        let pointer = self.tenant_dir.join("LATEST");
        fs::rename(&tmp, &pointer).map_err(io(&pointer))?;
        if let Ok(d) = File::open(&self.tenant_dir) {
            let _ = d.sync_all();
        }
        self.staging = PathBuf::new();
        Ok(manifest)
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if !self.staging.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// A published snapshot.
#[derive(Debug, Clone)]
pub struct Snapshot {
    dir: PathBuf,
    manifest: Manifest,
}

impl Snapshot {
    fn open(dir: PathBuf) -> Result<Snapshot, StoreError> {
        let mpath = dir.join("manifest.json");
        let bytes = fs::read(&mpath).map_err(io(&mpath))?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Damaged {
                path: mpath.clone(),
                message: e.to_string(),
            })?;
        Ok(Snapshot { dir, manifest })
    }

    /// What it holds.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Reads a table batch by batch (memory stays at one batch).
    pub fn read(
        &self,
        table: &str,
    ) -> Result<impl Iterator<Item = Result<RecordBatch, StoreError>>, StoreError> {
        let entry = self
            .manifest
            .tables
            .iter()
            .find(|t| t.name == table)
            .ok_or_else(|| StoreError::NoTable {
                tenant: self.manifest.tenant.clone(),
                table: table.to_owned(),
            })?;
        let path = self.dir.join(&entry.file);
        let f = File::open(&path).map_err(io(&path))?;
        let reader =
            StreamReader::try_new(BufReader::new(f), None).map_err(|source| StoreError::Arrow {
                table: table.to_owned(),
                path: path.clone(),
                source,
            })?;
        let name = table.to_owned();
        Ok(reader.map(move |b| {
            b.map_err(|source| StoreError::Arrow {
                table: name.clone(),
                path: path.clone(),
                source,
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn batch(n: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..n)),
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("r{i}")),
                )),
            ],
        )
        .expect("batch")
    }

    fn temp() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "bexio-bi-store-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ));
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_snapshot_is_visible_only_once_committed() {
        let root = temp();
        let store = Store::open(&root).expect("open");
        assert!(store.latest("t1").expect("latest").is_none());
        let mut w = store.begin("t1").expect("begin");
        w.write("fact_invoice", &batch(3)).expect("write");
        w.write("dim_contact", &batch(4)).expect("write");
        w.write("fact_invoice", &batch(2))
            .expect("interleaved tables stream side by side");
        assert!(
            store.latest("t1").expect("latest").is_none(),
            "nothing visible before commit"
        );
        let m = w.commit().expect("commit");
        assert_eq!(
            m.tables
                .iter()
                .map(|t| (t.name.as_str(), t.rows))
                .collect::<Vec<_>>(),
            vec![("fact_invoice", 5), ("dim_contact", 4)]
        );
        let snap = store.latest("t1").expect("latest").expect("a snapshot");
        let rows: usize = snap
            .read("fact_invoice")
            .expect("read")
            .map(|b| b.expect("batch").num_rows())
            .sum();
        assert_eq!(rows, 5);
        assert!(matches!(snap.read("nope"), Err(StoreError::NoTable { .. })));
        assert_eq!(store.tenants().expect("tenants"), vec!["t1".to_owned()]);
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn an_abandoned_sync_leaves_the_last_good_snapshot() {
        let root = temp();
        let store = Store::open(&root).expect("open");
        let mut w = store.begin("t1").expect("begin");
        w.write("fact_invoice", &batch(3)).expect("write");
        let first = w.commit().expect("commit");
        // A second sync dies half-way (killed: the OS releases its lock, its staging stays).
        let dead = root.join("t1").join(".staging-0000000000000-000000000");
        fs::create_dir_all(&dead).expect("staging");
        fs::write(dead.join("fact_invoice.arrows"), b"half").expect("half a table");
        let store = Store::open(&root).expect("reopen");
        drop(
            store
                .begin("t1")
                .expect("the next sync cleans what the dead one left"),
        );
        let snap = store.latest("t1").expect("latest").expect("snapshot");
        assert_eq!(snap.manifest().id, first.id);
        let leftovers = fs::read_dir(root.join("t1"))
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".staging"))
            .count();
        assert_eq!(leftovers, 0);
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn one_writer_per_company_and_readers_are_never_disturbed() {
        let root = temp();
        let store = Store::open(&root).expect("open");
        let mut w = store.begin("t1").expect("begin");
        w.write("fact_invoice", &batch(3)).expect("write");
        assert!(matches!(store.begin("t1"), Err(StoreError::Busy(_))));
        assert!(store.begin("t2").is_ok(), "other companies are not blocked");
        // A reader opening the store meanwhile does not touch the sync in progress.
        let reader = Store::open(&root).expect("open");
        assert!(reader.latest("t1").expect("latest").is_none());
        w.write("fact_invoice", &batch(2)).expect("still writing");
        w.commit().expect("commit");
        assert!(store.begin("t1").is_ok(), "the lock is released");
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn names_cannot_escape_the_store() {
        let store = Store::open(temp()).expect("open");
        assert!(matches!(store.begin("../etc"), Err(StoreError::BadName(_))));
        let mut w = store.begin("t").expect("begin");
        assert!(matches!(
            w.write("../x", &batch(1)),
            Err(StoreError::BadName(_))
        ));
    }
}
