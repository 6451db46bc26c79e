//! Test a plugin in a few lines: feed it tables, then look at its summary and files.
//!
//! ```
//! use std::sync::Arc;
//! use bexio_bi_plugin_sdk::arrow_array::{Int64Array, RecordBatch};
//! use bexio_bi_plugin_sdk::testing::Harness;
//! use bexio_bi_plugin_sdk::{Context, Error, Exporter, PluginInfo, Summary};
//!
//! struct Count(u64);
//! impl Exporter for Count {
//!     fn info() -> PluginInfo { PluginInfo::new("count", "0.1.0", "Counts rows") }
//!     fn open(_: Context) -> Result<Self, Error> { Ok(Count(0)) }
//!     fn write(&mut self, _: &str, b: RecordBatch) -> Result<(), Error> {
//!         self.0 += b.num_rows() as u64;
//!         Ok(())
//!     }
//!     fn finish(self) -> Result<Summary, Error> { Ok(Summary::default().rows("invoices", self.0)) }
//! }
//!
//! let batch = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![1, 2, 3])) as _)])
//!     .unwrap();
//! let out = Harness::<Count>::new().table("invoices", vec![batch]).run().unwrap();
//! assert_eq!(out.summary.total_rows(), 3);
//! ```

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;

use crate::{Context, Error, Exporter, Host, Level, Summary};

/// Runs an exporter in-process on given tables, into a fresh directory.
pub struct Harness<T> {
    config: serde_json::Value,
    tables: Vec<(String, Vec<RecordBatch>)>,
    out_dir: PathBuf,
    _exporter: PhantomData<T>,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// The exporter's summary.
    pub summary: Summary,
    /// Where it wrote.
    pub out_dir: PathBuf,
    /// What it logged.
    pub logs: Vec<(Level, String)>,
    /// The last progress reported per table.
    pub progress: Vec<(String, u64)>,
}

impl Outcome {
    /// The bytes of a file it wrote (relative to the output directory).
    pub fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.out_dir.join(name)).unwrap_or_else(|e| {
            panic!("{} was not written: {e}", self.out_dir.join(name).display())
        })
    }

    /// A file it wrote, as text.
    pub fn text(&self, name: &str) -> String {
        String::from_utf8(self.file(name)).unwrap_or_else(|_| panic!("{name} is not UTF-8"))
    }
}

#[derive(Default)]
struct Recorder {
    logs: Mutex<Vec<(Level, String)>>,
    progress: Mutex<Vec<(String, u64)>>,
}

impl Host for Recorder {
    fn log(&self, level: Level, message: &str) {
        if let Ok(mut l) = self.logs.lock() {
            l.push((level, message.to_owned()));
        }
    }
    fn progress(&self, table: &str, rows: u64) {
        if let Ok(mut p) = self.progress.lock() {
            match p.iter_mut().find(|(t, _)| t == table) {
                Some(e) => e.1 = rows,
                None => p.push((table.to_owned(), rows)),
            }
        }
    }
}

impl<T: Exporter> Default for Harness<T> {
    fn default() -> Self {
        Harness::new()
    }
}

impl<T: Exporter> Harness<T> {
    /// An empty configuration (`{}`), no tables, a new directory under the system's temp.
    pub fn new() -> Harness<T> {
        static RUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let out_dir = std::env::temp_dir().join(format!(
            "bexio-bi-plugin-test-{}-{}-{n}-{nanos}",
            T::info().name,
            std::process::id()
        ));
        Harness {
            config: serde_json::json!({}),
            tables: Vec::new(),
            out_dir,
            _exporter: PhantomData,
        }
    }

    /// The plugin's configuration.
    pub fn config(mut self, config: serde_json::Value) -> Harness<T> {
        self.config = config;
        self
    }

    /// Writes into `dir` instead.
    pub fn out_dir(mut self, dir: &Path) -> Harness<T> {
        self.out_dir = dir.to_owned();
        self
    }

    /// A table and its batches (the schema is the first batch's; give at least one).
    pub fn table(mut self, name: &str, batches: Vec<RecordBatch>) -> Harness<T> {
        self.tables.push((name.to_owned(), batches));
        self
    }

    /// Opens the exporter, writes every batch, finishes it.
    pub fn run(self) -> Result<Outcome, Error> {
        std::fs::create_dir_all(&self.out_dir)?;
        let recorder = Arc::new(Recorder::default());
        let tables = self
            .tables
            .iter()
            .map(|(name, batches)| {
                let schema = batches
                    .first()
                    .map(RecordBatch::schema)
                    .ok_or_else(|| Error::data(format!("table {name} has no batch")))?;
                // Announce the row count as the host does when exporting from the store.
                let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                let mut metadata = schema.metadata().clone();
                metadata.insert(crate::ROWS_METADATA.to_owned(), rows.to_string());
                let schema = Arc::new(schema.as_ref().clone().with_metadata(metadata));
                Ok((name.clone(), schema))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let ctx = Context::new(
            self.config,
            tables,
            self.out_dir.clone(),
            Arc::clone(&recorder) as Arc<dyn Host>,
        );
        let mut exporter = T::open(ctx)?;
        for (name, batches) in self.tables {
            for b in batches {
                if let Err(e) = exporter.write(&name, b) {
                    exporter.abort();
                    return Err(e);
                }
            }
        }
        let summary = exporter.finish()?;
        Ok(Outcome {
            summary,
            out_dir: self.out_dir,
            logs: drain(&recorder.logs),
            progress: drain(&recorder.progress),
        })
    }
}

fn drain<V>(m: &Mutex<Vec<V>>) -> Vec<V> {
    m.lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}
