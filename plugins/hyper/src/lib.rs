//! Tableau `.hyper` extracts: one file holding every table of the star schema, written by
//! Tableau's own Hyper engine (`hyperd`) through hyperdb-api's Arrow inserter, so the file is
//! exactly what Tableau writes. Types are kept: NUMERIC(p,s) for money, DATE, TIMESTAMP WITH TIME
//! ZONE, BIGINT, TEXT, BOOL; NOT NULL where the schema says so. The star schema's keys become
//! Hyper's assumed primary and foreign keys, which Tableau uses for relationships and join
//! culling.
//!
//! File format version 3 by default (hyperdb-api's, needed for 128-bit NUMERIC); Tableau Desktop
//! 2022.4.1+, Server 2023.1+ and Prep 2022.4.1+ open it. `"database_version": 2` writes files
//! that every supported Tableau version opens (NUMERIC up to 18 digits, which is what bexio-bi
//! uses).
//!
//! `hyperd` is found, in order: the `hyperd` setting, `HYPERD_PATH` (the executable or its
//! directory), the Python venv bexio-bi's setup creates (`BEXIO_BI_VENV`, by default
//! `~/.cache/bexio-bi/venv`) holding the `tableauhyperapi` (or `pantab`) wheel, which ships it.
//! Its log goes to the host's work directory for this plugin, never the working directory.
//!
//! hyperd runs on a thread of its own fed through a bounded channel, so Arrow encoding here and
//! ingestion in hyperd overlap, and memory stays bounded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use bexio_bi_plugin_sdk::arrow_array::{ArrayRef, RecordBatch as SdkBatch};
use bexio_bi_plugin_sdk::arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bexio_bi_plugin_sdk::{
    Context, Error, Exporter, Host, KEY_METADATA, Level, PluginInfo, RecordBatch, Summary,
};
use hyperdb_api::{
    ArrowInserter, Catalog, Connection, CreateMode, HyperProcess, Parameters, SqlType,
    TableDefinition,
};
use serde::Deserialize;

/// The configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The extract's file name.
    #[serde(default = "default_file")]
    file: String,
    /// The hyperd executable (or its directory).
    hyperd: Option<PathBuf>,
    /// Hyper file format version: 2 (every Tableau) or 3 (Tableau 2022.4.1+).
    #[serde(default = "default_version")]
    database_version: u8,
}

fn default_file() -> String {
    "bexio-bi.hyper".into()
}
fn default_version() -> u8 {
    3
}

const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "file": {"type": "string", "pattern": "^[^/\\\\]+\\.hyper$", "description": "File name of the extract (default: bexio-bi.hyper)"},
    "hyperd": {"type": "string", "minLength": 1, "description": "Path of Tableau's hyperd executable or its directory (default: HYPERD_PATH, then the tableauhyperapi wheel in bexio-bi's venv)"},
    "database_version": {"type": "integer", "enum": [2, 3], "description": "Hyper file format: 2 opens in every Tableau version, 3 (default) in Tableau 2022.4.1+"}
  }
}"#;

/// What the writer thread is asked to do.
enum Msg {
    /// Start a table.
    Table(TableDefinition),
    /// Rows of the current table.
    Batch(RecordBatch),
    /// Declare the keys, close the file, stop hyperd.
    Finish(Vec<String>),
}

/// The exporter.
pub struct Hyper {
    tx: Option<SyncSender<Msg>>,
    worker: Option<JoinHandle<Result<(), Error>>>,
    host: Arc<dyn Host>,
    file: String,
    dir: PathBuf,
    partial: PathBuf,
    current: Option<(String, u64, SchemaRef)>,
    tables: Vec<(String, SchemaRef, bool)>,
    summary: Summary,
}

/// Hyper's type for an Arrow type, and the Arrow type the column is sent as (text for what
/// Hyper has no type for).
fn sql_type(t: &DataType) -> (SqlType, Option<DataType>) {
    match t {
        DataType::Int8 | DataType::Int16 => (SqlType::small_int(), None),
        DataType::Int32 | DataType::UInt8 | DataType::UInt16 => (SqlType::int(), None),
        DataType::Int64 | DataType::UInt32 => (SqlType::big_int(), None),
        DataType::Float32 | DataType::Float64 => (SqlType::double(), None),
        DataType::Decimal128(p, s) => (
            SqlType::numeric(u32::from(*p), u32::try_from(*s).unwrap_or(0)),
            None,
        ),
        DataType::Date32 => (SqlType::date(), None),
        DataType::Timestamp(_, Some(_)) => (
            SqlType::timestamp_tz(),
            Some(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into()),
            )),
        ),
        DataType::Timestamp(_, None) => (
            SqlType::timestamp(),
            Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        ),
        DataType::Boolean => (SqlType::bool(), None),
        DataType::Utf8 => (SqlType::text(), None),
        _ => (SqlType::text(), Some(DataType::Utf8)),
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn hyper_error(what: &str, e: hyperdb_api::Error) -> Error {
    Error::io(format!("{what}: {e}"))
}

/// Where hyperd is: the setting, `HYPERD_PATH`, or the venv's wheels.
fn find_hyperd(configured: Option<&Path>) -> Result<PathBuf, Error> {
    let exe = |p: PathBuf| if p.is_dir() { p.join("hyperd") } else { p };
    if let Some(p) = configured {
        let p = exe(p.to_owned());
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::config(format!(
                "hyperd is not at {} (the \"hyperd\" setting)",
                p.display()
            )))
        };
    }
    if let Some(p) = std::env::var_os("HYPERD_PATH").filter(|p| !p.is_empty()) {
        let p = exe(PathBuf::from(p));
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::config(format!(
                "HYPERD_PATH points at {}, which is not hyperd",
                p.display()
            )))
        };
    }
    let venv = std::env::var_os("BEXIO_BI_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/bexio-bi/venv"))
        });
    if let Some(libs) = venv
        .as_ref()
        .and_then(|v| std::fs::read_dir(v.join("lib")).ok())
    {
        for lib in libs.flatten() {
            let site = lib.path().join("site-packages");
            for candidate in ["tableauhyperapi/bin/hyper/hyperd", "pantab/hyper/hyperd"] {
                let p = site.join(candidate);
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
    }
    Err(Error::config(format!(
        "Tableau's Hyper engine (hyperd) was not found: install the tableauhyperapi wheel into {} (tests/python/venv.sh does), set HYPERD_PATH, or `bexio-bi plugins enable hyper --config '{{\"hyperd\": \"/path/to/hyperd\"}}'`",
        venv.map_or_else(|| "bexio-bi's venv".to_owned(), |v| v.display().to_string())
    )))
}

/// Completes the insert of a table.
fn finish_table(i: Option<(String, ArrowInserter<'_>)>) -> Result<(), Error> {
    if let Some((name, ins)) = i {
        ins.execute()
            .map_err(|e| hyper_error(&format!("inserting into {name}"), e))?;
    }
    Ok(())
}

/// The writer thread: starts hyperd, creates the file, inserts what arrives.
fn run(
    hyperd: PathBuf,
    log_dir: PathBuf,
    version: u8,
    path: PathBuf,
    rx: Receiver<Msg>,
    host: Arc<dyn Host>,
) -> Result<(), Error> {
    std::fs::create_dir_all(&log_dir)
        .map_err(|e| Error::io(format!("cannot create {}: {e}", log_dir.display())))?;
    let mut params = Parameters::new();
    params.set("log_dir", log_dir.display().to_string());
    params.set("default_database_version", version.to_string());
    let process = HyperProcess::new(Some(&hyperd), Some(&params))
        .map_err(|e| hyper_error(&format!("cannot start {}", hyperd.display()), e))?;
    host.log(
        Level::Debug,
        &format!(
            "hyperd started ({}), log in {}",
            hyperd.display(),
            log_dir.display()
        ),
    );
    let conn = Connection::new(&process, &path, CreateMode::CreateAndReplace)
        .map_err(|e| hyper_error(&format!("cannot create {}", path.display()), e))?;
    let Some(statements) = feed(&conn, &rx)? else {
        // The exporter went away without finishing (abort): drop everything, hyperd stops.
        return Err(Error::internal("aborted"));
    };
    for sql in statements {
        conn.execute_command(&sql)
            .map_err(|e| hyper_error(&format!("declaring keys ({sql})"), e))?;
    }
    conn.close()
        .map_err(|e| hyper_error(&format!("closing {}", path.display()), e))?;
    process
        .shutdown_graceful()
        .map_err(|e| hyper_error("stopping hyperd", e))?;
    Ok(())
}

/// Creates the tables and inserts the rows that arrive; returns the key statements sent with
/// `Finish`, or `None` when the exporter went away first.
fn feed(conn: &Connection, rx: &Receiver<Msg>) -> Result<Option<Vec<String>>, Error> {
    let mut inserter: Option<(String, ArrowInserter<'_>)> = None;
    for msg in rx {
        match msg {
            Msg::Table(def) => {
                finish_table(inserter.take())?;
                let name = def.table_name();
                Catalog::new(conn)
                    .create_table(&def)
                    .map_err(|e| hyper_error(&format!("creating table {name}"), e))?;
                let ins = ArrowInserter::new(conn, &def)
                    .map_err(|e| hyper_error(&format!("inserting into {name}"), e))?;
                inserter = Some((name, ins));
            }
            Msg::Batch(b) => {
                let Some((name, ins)) = inserter.as_mut() else {
                    return Err(Error::internal("rows before their table"));
                };
                ins.insert_batch(&b)
                    .map_err(|e| hyper_error(&format!("inserting into {name}"), e))?;
            }
            Msg::Finish(statements) => {
                finish_table(inserter.take())?;
                return Ok(Some(statements));
            }
        }
    }
    Ok(None)
}

impl Hyper {
    fn send(&mut self, msg: Msg) -> Result<(), Error> {
        let sent = self.tx.as_ref().map(|tx| tx.send(msg));
        match sent {
            Some(Ok(())) => Ok(()),
            // The writer stopped: its error says why.
            _ => Err(self
                .join()
                .err()
                .unwrap_or_else(|| Error::internal("the Hyper writer stopped without saying why"))),
        }
    }

    fn join(&mut self) -> Result<(), Error> {
        self.tx = None;
        match self.worker.take() {
            Some(w) => w
                .join()
                .unwrap_or_else(|_| Err(Error::internal("the Hyper writer panicked"))),
            None => Ok(()),
        }
    }

    fn start(&mut self, table: &str, schema: &SchemaRef) -> Result<(), Error> {
        self.end_table();
        if let Some(t) = self.tables.iter_mut().find(|t| t.0 == table) {
            t.2 = true;
        }
        let mut def = TableDefinition::new(table);
        let mut sent = Vec::new();
        for f in schema.fields() {
            let (sql, cast) = sql_type(f.data_type());
            def = if f.is_nullable() {
                def.add_nullable_column(f.name(), sql)
            } else {
                def.add_required_column(f.name(), sql)
            };
            sent.push(Field::new(
                f.name(),
                cast.unwrap_or_else(|| f.data_type().clone()),
                f.is_nullable(),
            ));
        }
        self.current = Some((table.to_owned(), 0, Arc::new(Schema::new(sent))));
        self.send(Msg::Table(def))
    }

    fn end_table(&mut self) {
        if let Some((table, rows, _)) = self.current.take() {
            let s = std::mem::take(&mut self.summary);
            self.summary = s.rows(&table, rows);
        }
    }

    /// `ALTER TABLE … ADD ASSUMED PRIMARY/FOREIGN KEY` for the keys of the tables written.
    fn key_statements(&self) -> Vec<String> {
        let mut primary = Vec::new();
        let mut foreign = Vec::new();
        let written: Vec<&str> = self.tables.iter().map(|t| t.0.as_str()).collect();
        for (table, schema, _) in &self.tables {
            for f in schema.fields() {
                match f.metadata().get(KEY_METADATA).map(String::as_str) {
                    Some("primary") => primary.push(format!(
                        "ALTER TABLE {} ADD ASSUMED PRIMARY KEY ({})",
                        quote(table),
                        quote(f.name())
                    )),
                    Some(r) => {
                        if let Some((t, c)) = r
                            .split_once('.')
                            .filter(|(t, _)| written.contains(t) && t != table)
                        {
                            foreign.push(format!(
                                "ALTER TABLE {} ADD ASSUMED FOREIGN KEY ({}) REFERENCES {} ({})",
                                quote(table),
                                quote(f.name()),
                                quote(t),
                                quote(c)
                            ));
                        }
                    }
                    None => {}
                }
            }
        }
        primary.extend(foreign);
        primary
    }
}

impl Exporter for Hyper {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "hyper",
            env!("CARGO_PKG_VERSION"),
            "A Tableau .hyper extract of every table, written by Tableau's Hyper engine",
        )
        .config_schema(SCHEMA)
    }

    fn open(ctx: Context) -> Result<Hyper, Error> {
        let config: Config = ctx.config()?;
        if config.file.contains(['/', '\\']) || !config.file.ends_with(".hyper") {
            return Err(Error::config(format!(
                "file must be a file name ending in .hyper, not {:?}",
                config.file
            )));
        }
        if !matches!(config.database_version, 2 | 3) {
            return Err(Error::config("database_version must be 2 or 3"));
        }
        let hyperd = find_hyperd(config.hyperd.as_deref())?;
        std::fs::create_dir_all(&ctx.out_dir)?;
        let stem = config.file.trim_end_matches(".hyper");
        let partial = ctx.out_dir.join(format!("{stem}.partial.hyper"));
        let _ = std::fs::remove_file(&partial);
        let log_dir = ctx
            .work_dir()
            .unwrap_or_else(|| std::env::temp_dir().join("bexio-bi-hyper"))
            .join("logs");
        // A few batches in flight: encoding here overlaps ingestion in hyperd.
        let (tx, rx) = sync_channel(4);
        let host = ctx.host();
        let worker = {
            let (path, host) = (partial.clone(), Arc::clone(&host));
            let version = config.database_version;
            std::thread::Builder::new()
                .name("bexio-bi-hyper".into())
                .spawn(move || run(hyperd, log_dir, version, path, rx, host))
                .map_err(|e| Error::io(format!("cannot start the Hyper writer: {e}")))?
        };
        Ok(Hyper {
            tx: Some(tx),
            worker: Some(worker),
            host,
            file: config.file,
            dir: ctx.out_dir.clone(),
            partial,
            current: None,
            tables: ctx
                .tables
                .iter()
                .map(|(t, s)| (t.clone(), Arc::clone(s), false))
                .collect(),
            summary: Summary::default(),
        })
    }

    fn write(&mut self, table: &str, batch: SdkBatch) -> Result<(), Error> {
        if self.current.as_ref().is_none_or(|c| c.0 != table) {
            let schema = self
                .tables
                .iter()
                .find(|t| t.0 == table)
                .map_or_else(|| batch.schema(), |t| Arc::clone(&t.1));
            self.start(table, &schema)?;
        }
        let Some((_, rows, schema)) = self.current.as_mut() else {
            return Err(Error::internal("no table open"));
        };
        // Columns Hyper has no type for travel as text; the rest as they are.
        let columns = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(Arc::clone(c))
                } else {
                    arrow_cast::cast(c, f.data_type()).map_err(Error::from)
                }
            })
            .collect::<Result<Vec<ArrayRef>, Error>>()?;
        let batch = RecordBatch::try_new(Arc::clone(schema), columns)?;
        *rows += batch.num_rows() as u64;
        let (table, rows) = (table.to_owned(), *rows);
        self.send(Msg::Batch(batch))?;
        self.host.progress(&table, rows);
        Ok(())
    }

    fn finish(mut self) -> Result<Summary, Error> {
        // Tables without rows are still created.
        let empty: Vec<(String, SchemaRef)> = self
            .tables
            .iter()
            .filter(|t| !t.2)
            .map(|t| (t.0.clone(), Arc::clone(&t.1)))
            .collect();
        for (t, s) in empty {
            self.start(&t, &s)?;
        }
        self.end_table();
        let keys = self.key_statements();
        self.send(Msg::Finish(keys))?;
        self.join()?;
        let path = self.dir.join(&self.file);
        std::fs::rename(&self.partial, &path)
            .map_err(|e| Error::io(format!("cannot rename to {}: {e}", path.display())))?;
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        Ok(std::mem::take(&mut self.summary).file(self.file.clone(), bytes))
    }

    fn abort(mut self) {
        let _ = self.join();
        let _ = std::fs::remove_file(&self.partial);
    }
}

bexio_bi_plugin_sdk::export_plugin!(Hyper);
