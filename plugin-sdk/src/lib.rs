//! Write exporters for bexio-bi.
//!
//! An exporter takes the star schema that bexio-bi keeps (invoices, contacts, the journal…) as
//! Arrow record batches and writes it somewhere: a file format, a database, an ERP. Implement
//! [`Exporter`] once; [`export_plugin!`] turns it into
//!
//! - a **WebAssembly component** when built with `cargo build --target wasm32-wasip2`: sandboxed
//!   by the host (no files but its output directory, no network, no environment, capped memory
//!   and time), one artifact for every platform — the default for third parties;
//! - a **native library** (`cdylib`) otherwise: batches cross without a copy through the Arrow C
//!   Data Interface, for trusted, heavy exporters.
//!
//! ```no_run
//! use bexio_bi_plugin_sdk::{Context, Error, Exporter, PluginInfo, RecordBatch, Summary};
//!
//! struct Count {
//!     rows: u64,
//! }
//!
//! impl Exporter for Count {
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("count", "0.1.0", "Counts rows")
//!     }
//!     fn open(_ctx: Context) -> Result<Self, Error> {
//!         Ok(Count { rows: 0 })
//!     }
//!     fn write(&mut self, _table: &str, batch: RecordBatch) -> Result<(), Error> {
//!         self.rows += batch.num_rows() as u64;
//!         Ok(())
//!     }
//!     fn finish(self) -> Result<Summary, Error> {
//!         Ok(Summary::default().note(format!("{} rows", self.rows)))
//!     }
//! }
//!
//! bexio_bi_plugin_sdk::export_plugin!(Count);
//! ```
//!
//! The SDK depends on Arrow, serde and (for WebAssembly) wit-bindgen only; never on the host.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use arrow_array::{self, RecordBatch};
pub use arrow_schema::{self, DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};
pub use serde_json;

pub mod files;
pub mod ipc;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod values;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The version of the plugin interface this SDK implements: the WIT package
/// `bexio-bi:exporter@1.0.0` and native ABI 1. Manifests state it; the host refuses others.
pub const INTERFACE_VERSION: u32 = 1;

/// The schema metadata key under which the host announces how many rows a table will have
/// (decimal text), when it knows: see [`Context::rows_hint`].
pub const ROWS_METADATA: &str = "bexio_bi.rows";

/// The field metadata key marking keys of the star schema: `primary` on a table's own key,
/// `<table>.<column>` on a column referring to another table's key. Targets that know keys
/// (Tableau's relationships, database constraints) use it.
pub const KEY_METADATA: &str = "bexio_bi.key";

/// An exporter: opened once per export with its configuration and the tables to come, fed
/// batches table by table, then finished (or aborted).
pub trait Exporter: Sized + 'static {
    /// What the plugin is: name, version, configuration schema, needs.
    fn info() -> PluginInfo;

    /// Starts an export. The configuration has been checked against the plugin's schema.
    fn open(ctx: Context) -> Result<Self, Error>;

    /// One batch of `table`. Batches arrive table by table, in the order of
    /// [`Context::tables`].
    fn write(&mut self, table: &str, batch: RecordBatch) -> Result<(), Error>;

    /// Completes the export: flush, close files, report.
    fn finish(self) -> Result<Summary, Error>;

    /// Gives up (another part of the export failed, or the operator cancelled): remove
    /// partial output where that makes sense.
    fn abort(self) {}
}

/// What an export starts with.
pub struct Context {
    /// The operator's configuration of this plugin (JSON, checked against the schema).
    pub config: serde_json::Value,
    /// The tables to come, in order, with their schemas.
    pub tables: Vec<(String, SchemaRef)>,
    /// The directory to write into: the only one a WebAssembly plugin can see.
    pub out_dir: PathBuf,
    host: Arc<dyn Host>,
}

impl Context {
    /// A context (the linkages build it; plugin authors get one in [`Exporter::open`]).
    pub fn new(
        config: serde_json::Value,
        tables: Vec<(String, SchemaRef)>,
        out_dir: PathBuf,
        host: Arc<dyn Host>,
    ) -> Context {
        Context {
            config,
            tables,
            out_dir,
            host,
        }
    }

    /// The configuration deserialized into the plugin's own type; a mismatch is a config error.
    pub fn config<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_value(self.config.clone()).map_err(|e| Error::config(e.to_string()))
    }

    /// A log line, shown among the host's logs under the plugin's name.
    pub fn log(&self, level: Level, message: &str) {
        self.host.log(level, message);
    }

    /// A secret the operator granted this plugin (`secrets = [...]` in its manifest, granted in
    /// plugins.toml), e.g. a database password; `None` when not granted. Never log it.
    pub fn secret(&self, name: &str) -> Option<String> {
        self.host.secret(name)
    }

    /// How many rows `table` will have, when the host knows it beforehand (it does when
    /// exporting from the store). Formats that state a table's size before its rows — an Excel
    /// table's range, for one — use it; a plugin must still cope with it being absent.
    pub fn rows_hint(&self, table: &str) -> Option<u64> {
        let (_, schema) = self.tables.iter().find(|(t, _)| t == table)?;
        schema.metadata().get(ROWS_METADATA)?.parse().ok()
    }

    /// Where to keep logs and scratch files that are not output (see [`Host::work_dir`]).
    pub fn work_dir(&self) -> Option<PathBuf> {
        self.host.work_dir()
    }

    /// The host's side of an export, to keep after `open` (for logging and progress).
    pub fn host(&self) -> Arc<dyn Host> {
        Arc::clone(&self.host)
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config", &self.config)
            .field(
                "tables",
                &self.tables.iter().map(|(t, _)| t).collect::<Vec<_>>(),
            )
            .field("out_dir", &self.out_dir)
            .finish()
    }
}

/// What the host offers a plugin during an export.
pub trait Host: Send + Sync {
    /// A log line.
    fn log(&self, level: Level, message: &str);
    /// Rows of `table` written so far.
    fn progress(&self, table: &str, rows: u64);
    /// A secret granted to the plugin, by name; `None` when not granted.
    fn secret(&self, _name: &str) -> Option<String> {
        None
    }
    /// A directory of the host's for the plugin's own logs and scratch files (under the host's
    /// data directory, not in the output); `None` for sandboxed plugins, which have only their
    /// output directory.
    fn work_dir(&self) -> Option<PathBuf> {
        None
    }
}

/// Log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Very detailed.
    Trace,
    /// For debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something to look at.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    /// The level as a number (native ABI).
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The level of a number (native ABI); unknown numbers are `Info`.
    pub fn from_code(code: u32) -> Level {
        match code {
            0 => Level::Trace,
            1 => Level::Debug,
            3 => Level::Warn,
            4 => Level::Error,
            _ => Level::Info,
        }
    }
}

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The configuration is wrong.
    Config,
    /// The data cannot be exported.
    Data,
    /// Reading or writing failed.
    Io,
    /// The sandbox refused something.
    Denied,
    /// A bug in the plugin (a panic is reported as one).
    Internal,
}

/// A plugin's error: plain data, so that it crosses every linkage unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    /// What kind.
    pub kind: ErrorKind,
    /// What happened and, where possible, what to do.
    pub message: String,
}

impl Error {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }
    /// A data error.
    pub fn data(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Data, message)
    }
    /// An IO error.
    pub fn io(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Io, message)
    }
    /// A bug.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            ErrorKind::Config => "configuration",
            ErrorKind::Data => "data",
            ErrorKind::Io => "io",
            ErrorKind::Denied => "denied",
            ErrorKind::Internal => "internal",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        let kind = match e.kind() {
            std::io::ErrorKind::PermissionDenied => ErrorKind::Denied,
            _ => ErrorKind::Io,
        };
        Error::new(kind, e.to_string())
    }
}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Error {
        Error::data(e.to_string())
    }
}

/// What a plugin is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Unique name (lower case, digits, `-`).
    pub name: String,
    /// Semantic version.
    pub version: String,
    /// One line for `bexio-bi plugins list`.
    pub description: String,
    /// JSON Schema of the configuration (`{}` accepts anything).
    pub config_schema: String,
    /// Capabilities needed: `files`, `network`, `secrets`.
    pub capabilities: Vec<String>,
    /// Tables accepted (empty: all).
    pub tables: Vec<String>,
}

impl PluginInfo {
    /// A plugin that writes files, takes every table and a configuration without settings.
    pub fn new(name: &str, version: &str, description: &str) -> PluginInfo {
        PluginInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            description: description.to_owned(),
            config_schema: r#"{"type":"object","additionalProperties":false}"#.to_owned(),
            capabilities: vec!["files".to_owned()],
            tables: Vec::new(),
        }
    }

    /// With this JSON Schema for the configuration.
    pub fn config_schema(mut self, schema: &str) -> PluginInfo {
        schema.clone_into(&mut self.config_schema);
        self
    }

    /// Accepting only these tables.
    pub fn tables(mut self, tables: &[&str]) -> PluginInfo {
        self.tables = tables.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// Needing these capabilities.
    pub fn capabilities(mut self, caps: &[&str]) -> PluginInfo {
        self.capabilities = caps.iter().map(|c| (*c).to_owned()).collect();
        self
    }
}

/// What an export produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Rows written per table.
    pub tables: BTreeMap<String, u64>,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
    /// Bytes written.
    pub bytes: u64,
    /// Anything the operator should know.
    pub notes: Vec<String>,
}

impl Summary {
    /// Adds `rows` to `table`.
    pub fn rows(mut self, table: &str, rows: u64) -> Summary {
        *self.tables.entry(table.to_owned()).or_default() += rows;
        self
    }
    /// Adds a file and its size.
    pub fn file(mut self, name: impl Into<String>, bytes: u64) -> Summary {
        self.files.push(name.into());
        self.bytes += bytes;
        self
    }
    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Summary {
        self.notes.push(note.into());
        self
    }
    /// All rows.
    pub fn total_rows(&self) -> u64 {
        self.tables.values().sum()
    }
}

/// Turns an [`Exporter`] into a plugin: a WebAssembly component on `wasm32`, the native C ABI
/// elsewhere. Use it once per crate (`crate-type = ["cdylib"]`).
///
/// A crate linked into bexio-bi as a built-in plugin is compiled with its feature `builtin`,
/// which leaves the native entry points out (two plugins linked into one binary would export
/// the same symbols). A plugin that is never built in does not need to declare that feature.
#[macro_export]
macro_rules! export_plugin {
    ($exporter:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type BexioBiPlugin = $crate::wasm::Adapter<$exporter>;
    $crate::wasm::bindings::__export_wasm!(BexioBiPlugin with_types_in $crate::wasm::bindings);
        };

        #[allow(unexpected_cfgs)]
        const _: () = {
            /// The native plugin ABI version (checked by the host before anything else).
            #[cfg(all(not(target_arch = "wasm32"), not(feature = "builtin")))]
            #[unsafe(no_mangle)]
            pub extern "C" fn bexio_bi_plugin_abi_version() -> u32 {
                $crate::native::ABI_VERSION
            }

            /// The native plugin's function table.
            #[cfg(all(not(target_arch = "wasm32"), not(feature = "builtin")))]
            #[unsafe(no_mangle)]
            pub extern "C" fn bexio_bi_plugin_vtable() -> *const $crate::native::VTable {
                static VTABLE: $crate::native::VTable = $crate::native::vtable::<$exporter>();
                &VTABLE
            }
        };
    };
}
