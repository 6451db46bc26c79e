//! The plugin host: every export target is a plugin behind one contract (the SDK's
//! `Exporter`), linked one of three ways, all behind [`Linked`] and [`Session`]:
//!
//! - **built in** ([`builtin`]): first-party crates compiled into the binary, registered once;
//! - **native** ([`native`]): a shared library with the SDK's C ABI, loaded with libloading;
//!   batches cross through the Arrow C Data Interface without a copy; trusted code only;
//! - **WebAssembly** ([`wasm`]): a component run by wasmtime in a sandbox (no files but its
//!   output directory, no network, no environment, a memory cap, a deadline per call).
//!
//! [`manifest`] reads and checks the TOML that describes each plugin before anything is loaded;
//! [`dispatch`] fans one stream of batches out to several exporters at once.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
pub use bexio_bi_plugin_sdk::{
    Error as PluginError, ErrorKind, Host, KEY_METADATA, Level, PluginInfo, ROWS_METADATA, Summary,
};

pub mod builtin;
pub mod dispatch;
pub mod manifest;
pub mod native;
pub mod registry;
pub mod schema;
pub mod wasm;

/// What can go wrong around a plugin. Each message names the plugin (or file) and, where there
/// is one, what to do.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The plugin reported an error.
    #[error("{plugin}: {error}")]
    Plugin {
        /// Which.
        plugin: String,
        /// What it said.
        error: PluginError,
    },
    /// The plugin crashed (a trap, a panic); it was stopped and its output is incomplete.
    #[error("{plugin} crashed and was stopped: {message}")]
    Crashed {
        /// Which.
        plugin: String,
        /// What happened.
        message: String,
    },
    /// A call took longer than allowed.
    #[error(
        "{plugin} was stopped after {seconds} s without finishing a call (limits.call_timeout_s in its manifest or [plugins.{plugin}] of plugins.toml allows more)"
    )]
    Timeout {
        /// Which.
        plugin: String,
        /// The limit.
        seconds: u64,
    },
    /// The plugin wanted more memory than allowed.
    #[error(
        "{plugin} was stopped: it needed more than its memory limit of {limit_mb} MB (limits.memory_mb)"
    )]
    Memory {
        /// Which.
        plugin: String,
        /// The limit.
        limit_mb: u64,
    },
    /// The configuration does not match the plugin's schema.
    #[error(
        "{plugin}: the configuration is wrong:\n  {}\n(`bexio-bi plugins info {plugin}` lists its settings)",
        problems.join("\n  ")
    )]
    Config {
        /// Which.
        plugin: String,
        /// Each mistake, with where it is.
        problems: Vec<String>,
    },
    /// A manifest is wrong.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// The line, where known.
        line: Option<usize>,
        /// What is wrong and what to do.
        message: String,
    },
    /// A plugin was refused before it ran (interface version, checksum, capabilities).
    #[error("{plugin} refused: {message}")]
    Refused {
        /// Which.
        plugin: String,
        /// Why, and what to do.
        message: String,
    },
    /// An artifact could not be loaded.
    #[error("cannot load {}: {message}", path.display())]
    Load {
        /// The artifact.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// No plugin of that name.
    #[error("no plugin named {name:?} ({known}); `bexio-bi plugins list` shows them")]
    Unknown {
        /// Asked for.
        name: String,
        /// What there is.
        known: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Resource limits of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Memory a WebAssembly plugin may grow to.
    pub memory_bytes: u64,
    /// Time one call (open, write, finish) may take.
    pub call_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 512 << 20,
            call_timeout: Duration::from_secs(300),
        }
    }
}

/// What a session starts with.
#[derive(Clone)]
pub struct OpenRequest {
    /// The plugin's configuration (checked against its schema).
    pub config: serde_json::Value,
    /// The tables to come, in order.
    pub tables: Vec<(String, SchemaRef)>,
    /// The directory the plugin writes into (created if missing).
    pub out_dir: PathBuf,
    /// Logs and progress.
    pub host: Arc<dyn Host>,
    /// Limits.
    pub limits: Limits,
}

impl OpenRequest {
    /// Creates the output directory (every linkage does this before opening a session).
    pub fn create_out_dir(&self) -> Result<(), ExportError> {
        std::fs::create_dir_all(&self.out_dir).map_err(|source| ExportError::Io {
            path: self.out_dir.clone(),
            source,
        })
    }
}

/// A batch on its way to the exporters: the Arrow data, and its IPC encoding, made once on
/// first need and shared by every WebAssembly exporter.
pub struct Batch {
    /// The table it belongs to.
    pub table: Arc<str>,
    /// The rows.
    pub data: RecordBatch,
    ipc: OnceLock<Result<Vec<u8>, String>>,
}

impl Batch {
    /// A batch of `table`.
    pub fn new(table: &str, data: RecordBatch) -> Batch {
        Batch {
            table: table.into(),
            data,
            ipc: OnceLock::new(),
        }
    }

    /// The Arrow IPC stream of this batch (encoded on the first call only).
    pub fn ipc(&self) -> Result<&[u8], String> {
        self.ipc
            .get_or_init(|| {
                bexio_bi_plugin_sdk::ipc::encode_batch(&self.data).map_err(|e| e.to_string())
            })
            .as_deref()
            .map_err(Clone::clone)
    }
}

/// An export in progress with one plugin.
pub trait Session: Send {
    /// One batch.
    fn write(&mut self, batch: &Batch) -> Result<(), ExportError>;
    /// Completes the export.
    fn finish(self: Box<Self>) -> Result<Summary, ExportError>;
    /// Gives up.
    fn abort(self: Box<Self>);
}

/// A loaded plugin, however it is linked.
pub trait Linked: Send + Sync {
    /// What it says it is.
    fn info(&self) -> &PluginInfo;
    /// How it is linked (`builtin`, `native`, `wasm`).
    fn kind(&self) -> &'static str;
    /// Starts a session.
    fn open(&self, request: &OpenRequest) -> Result<Box<dyn Session>, ExportError>;
}

/// A host that sends plugin logs to `tracing`, drops progress and answers the secrets granted.
#[derive(Clone, Default)]
pub struct TracingHost {
    /// The plugin's name, for the log lines.
    pub plugin: String,
    /// The secrets granted to it, by name.
    pub secrets: std::collections::BTreeMap<String, String>,
    /// Its directory for logs and scratch files (built-in and native plugins only).
    pub work_dir: Option<PathBuf>,
}

impl TracingHost {
    /// A host for `plugin` with no secrets.
    pub fn new(plugin: &str) -> TracingHost {
        TracingHost {
            plugin: plugin.to_owned(),
            secrets: Default::default(),
            work_dir: None,
        }
    }
}

impl std::fmt::Debug for TracingHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracingHost")
            .field("plugin", &self.plugin)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Host for TracingHost {
    fn work_dir(&self) -> Option<PathBuf> {
        self.work_dir.clone()
    }
    fn log(&self, level: Level, message: &str) {
        let plugin = self.plugin.as_str();
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
    fn progress(&self, _table: &str, _rows: u64) {}
    fn secret(&self, name: &str) -> Option<String> {
        self.secrets.get(name).cloned()
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
