//! WebAssembly plugins: components of the WIT world `bexio-bi:exporter/plugin@1.0.0`, run by
//! wasmtime, deny by default.
//!
//! - **Files**: the session's output directory, preopened as `/out`, and nothing else.
//! - **Network**: none, unless the operator grants hosts (then only their addresses).
//! - **Environment, arguments, clock-free randomness aside**: nothing inherited.
//! - **Memory**: capped per session; **time**: an epoch deadline per call.
//! - A trapped instance is discarded, never called again.
//! - Compiled components are cached on disk (named by the artifact's sha256 and the engine's
//!   configuration), so a second load deserializes in about a millisecond.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bexio_bi_plugin_sdk::{Host, Level, PluginInfo, Summary};
use wasmtime::component::{Component, HasSelf, Linker, ResourceAny, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::{Batch, ExportError, Limits, Linked, OpenRequest, Session};

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../../plugin-sdk/wit",
    });
}

use bindings::bexio_bi::exporter::types;

/// How often the epoch advances: the granularity of deadlines.
const TICK: Duration = Duration::from_millis(10);

/// The engine, shared by every plugin, and its epoch ticker.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        // For plugin authors: `perf` names the plugin's functions (see plugins/README.md).
        if std::env::var_os("BEXIO_BI_WASM_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        // One instruction for 64×64→128-bit products (hashing) where a guest is built for it.
        config.wasm_wide_arithmetic(true);
        let engine = Engine::new(&config).expect("a valid wasmtime configuration");
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("bexio-bi-wasm-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    ticker.increment_epoch();
                }
            })
            .expect("a thread for the epoch ticker");
        engine
    })
}

/// What a store holds.
struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    host: Arc<dyn Host>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::bexio_bi::exporter::types::Host for State {}

impl bindings::bexio_bi::exporter::host::Host for State {
    fn log(&mut self, level: types::Level, message: String) {
        let level = match level {
            types::Level::Trace => Level::Trace,
            types::Level::Debug => Level::Debug,
            types::Level::Info => Level::Info,
            types::Level::Warn => Level::Warn,
            types::Level::Error => Level::Error,
        };
        // A plugin cannot flood the logs with one giant line.
        let message: String = message.chars().take(4096).collect();
        self.host.log(level, &message);
    }

    fn progress(&mut self, table: String, rows: u64) {
        self.host.progress(&table, rows);
    }

    fn secret(&mut self, name: String) -> Option<String> {
        self.host.secret(&name)
    }
}

/// Caps memory (and tables, instances) and remembers whether the cap was hit.
struct Limiter {
    memory: usize,
    hit: bool,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        32
    }
    fn tables(&self) -> usize {
        32
    }
    fn memories(&self) -> usize {
        8
    }
}

fn linker() -> Result<&'static Linker<State>, String> {
    static LINKER: OnceLock<Result<Linker<State>, String>> = OnceLock::new();
    LINKER
        .get_or_init(|| {
            let mut linker = Linker::new(engine());
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| e.to_string())?;
            bindings::Plugin::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
                .map_err(|e| e.to_string())?;
            Ok(linker)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A loaded component.
pub struct Wasm {
    path: PathBuf,
    pre: bindings::PluginPre<State>,
    info: PluginInfo,
    /// Hosts the operator granted (resolved when a session opens).
    network: Vec<String>,
    /// How the load went: compiled, or from the cache (and how long it took).
    pub loaded: LoadStats,
}

/// How a component was loaded.
#[derive(Debug, Clone, Copy)]
pub struct LoadStats {
    /// From the on-disk cache.
    pub cached: bool,
    /// Time to a ready component.
    pub elapsed: Duration,
}

fn load_error(path: &Path, message: impl Into<String>) -> ExportError {
    ExportError::Load {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// The cache file of a component: its sha256 and the engine's configuration hash.
fn cache_file(dir: &Path, sha256: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine().precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()))
}

impl Wasm {
    /// Loads the component at `path`: from `cache_dir` when compiled before, else compiled
    /// (and cached). Refuses a component of another interface version.
    pub fn load(path: &Path, cache_dir: Option<&Path>) -> Result<Wasm, ExportError> {
        let started = Instant::now();
        let bytes = std::fs::read(path).map_err(|source| ExportError::Io {
            path: path.to_owned(),
            source,
        })?;
        Wasm::from_bytes(path, &bytes, cache_dir, started)
    }

    /// Loads a component held in memory (one shipped inside bexio-bi); `path` names it in
    /// messages.
    pub fn load_bytes(
        path: &Path,
        bytes: &[u8],
        cache_dir: Option<&Path>,
    ) -> Result<Wasm, ExportError> {
        Wasm::from_bytes(path, bytes, cache_dir, Instant::now())
    }

    fn from_bytes(
        path: &Path,
        bytes: &[u8],
        cache_dir: Option<&Path>,
        started: Instant,
    ) -> Result<Wasm, ExportError> {
        let sha = crate::sha256_hex(bytes);
        let cached = cache_dir.map(|d| cache_file(d, &sha));
        let mut from_cache = false;
        let component = match cached.as_deref().filter(|c| c.exists()) {
            Some(file) => {
                // SAFETY: the file is one this process family wrote (below), named by the
                // artifact's sha256 and the engine's configuration; a damaged one fails to
                // deserialize and is compiled again.
                match unsafe { Component::deserialize_file(engine(), file) } {
                    Ok(c) => {
                        from_cache = true;
                        c
                    }
                    Err(e) => {
                        tracing::warn!("recompiling {}: cache unusable: {e}", path.display());
                        compile(path, bytes, cached.as_deref())?
                    }
                }
            }
            None => compile(path, bytes, cached.as_deref())?,
        };
        let linker = linker().map_err(|e| load_error(path, e))?;
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            load_error(
                path,
                format!(
                    "it is not a bexio-bi exporter of interface bexio-bi:exporter@1.0.0 (rebuild it against bexio-bi-plugin-sdk 1.x): {e:#}"
                ),
            )
        })?;
        let pre = bindings::PluginPre::new(pre).map_err(|_| {
            let exports: Vec<String> = component
                .component_type()
                .exports(engine())
                .map(|(name, _)| name.to_owned())
                .collect();
            let theirs = exports
                .iter()
                .find(|n| n.starts_with("bexio-bi:exporter/"))
                .and_then(|n| n.rsplit_once('@'))
                .map(|(_, v)| v.to_owned());
            let message = match theirs {
                Some(v) => format!(
                    "it is built for the plugin interface bexio-bi:exporter@{v}; this bexio-bi implements bexio-bi:exporter@1.0.0: install a version of the plugin built against bexio-bi-plugin-sdk 1.x (or a bexio-bi that implements {v})"
                ),
                None => format!(
                    "it is not a bexio-bi exporter: it exports {}, not bexio-bi:exporter/exporter@1.0.0 (build it with bexio-bi-plugin-sdk 1.x and export_plugin!)",
                    if exports.is_empty() {
                        "nothing".to_owned()
                    } else {
                        exports.join(", ")
                    }
                ),
            };
            load_error(path, message)
        })?;
        let mut wasm = Wasm {
            path: path.to_owned(),
            pre,
            info: PluginInfo::new("?", "?", ""),
            network: Vec::new(),
            loaded: LoadStats {
                cached: from_cache,
                elapsed: Duration::ZERO,
            },
        };
        wasm.info = wasm.call_info()?;
        wasm.loaded.elapsed = started.elapsed();
        Ok(wasm)
    }

    /// Grants network access to these `host:port`s.
    pub fn grant_network(&mut self, hosts: Vec<String>) {
        self.network = hosts;
    }

    fn store(
        &self,
        out_dir: Option<&Path>,
        host: Arc<dyn Host>,
        limits: Limits,
    ) -> Result<(Store<State>, MemoryOutputPipe), ExportError> {
        let stderr = MemoryOutputPipe::new(64 << 10);
        let mut b = WasiCtxBuilder::new();
        b.stderr(stderr.clone());
        // File reads and writes run on the session's thread rather than being handed to a
        // pool thread and waited for, call by call.
        b.allow_blocking_current_thread(true);
        if let Some(dir) = out_dir {
            b.preopened_dir(dir, "/out", FsPerms::ReadWrite)
                .map_err(|e| load_error(dir, format!("cannot open the output directory: {e}")))?;
        }
        if !self.network.is_empty() {
            let mut allowed = std::collections::HashSet::new();
            for h in &self.network {
                use std::net::ToSocketAddrs;
                match h.to_socket_addrs() {
                    Ok(addrs) => allowed.extend(addrs),
                    Err(e) => tracing::warn!("granted host {h} does not resolve: {e}"),
                }
            }
            let allowed = Arc::new(allowed);
            // TCP sockets exist only for a plugin granted hosts (wasmtime-wasi allows none by
            // default); each connection is then checked against the grant.
            b.allow_tcp(true);
            b.allow_ip_name_lookup(true);
            b.socket_addr_check(move |addr, used| {
                use wasmtime_wasi::sockets::SocketAddrUse;
                let ok = match used {
                    // Outgoing TCP to a granted host:port only.
                    SocketAddrUse::TcpConnect => allowed.contains(&addr),
                    // The implicit bind before a connect (the wildcard address, any port);
                    // never a listening socket on a chosen port.
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                    // No listening, no UDP.
                    _ => false,
                };
                if !ok {
                    tracing::debug!("denied {used:?} {addr}");
                }
                Box::pin(async move { ok })
            });
        }
        let state = State {
            wasi: b.build(),
            table: ResourceTable::new(),
            limiter: Limiter {
                memory: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
                hit: false,
            },
            host,
        };
        let mut store = Store::new(engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks(limits.call_timeout));
        Ok((store, stderr))
    }

    fn call_info(&self) -> Result<PluginInfo, ExportError> {
        let host = Arc::new(crate::TracingHost::new(&self.path.display().to_string()));
        let limits = Limits {
            memory_bytes: 256 << 20,
            call_timeout: Duration::from_secs(10),
        };
        let (mut store, _) = self.store(None, host, limits)?;
        let plugin = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| load_error(&self.path, format!("it cannot start: {e:#}")))?;
        let i = plugin
            .bexio_bi_exporter_exporter()
            .call_info(&mut store)
            .map_err(|e| load_error(&self.path, format!("its info() failed: {e:#}")))?;
        Ok(PluginInfo {
            name: i.name,
            version: i.version,
            description: i.description,
            config_schema: i.config_schema,
            capabilities: i.capabilities,
            tables: i.tables,
        })
    }
}

fn compile(path: &Path, bytes: &[u8], cache: Option<&Path>) -> Result<Component, ExportError> {
    let component = Component::new(engine(), bytes)
        .map_err(|e| load_error(path, format!("not a WebAssembly component: {e:#}")))?;
    if let Some(file) = cache {
        match component.serialize() {
            Ok(compiled) => {
                let tmp = file.with_extension(format!("tmp{}", std::process::id()));
                let written = file
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&tmp, &compiled))
                    .and_then(|()| std::fs::rename(&tmp, file));
                if let Err(e) = written {
                    tracing::warn!("cannot cache {}: {e}", file.display());
                    let _ = std::fs::remove_file(&tmp);
                }
            }
            Err(e) => tracing::warn!("cannot serialize {}: {e}", path.display()),
        }
    }
    Ok(component)
}

fn ticks(d: Duration) -> u64 {
    (d.as_millis() / TICK.as_millis()).max(1) as u64
}

struct WasmSession {
    name: String,
    store: Store<State>,
    plugin: bindings::Plugin,
    session: Option<ResourceAny>,
    stderr: MemoryOutputPipe,
    limits: Limits,
    /// Set after a trap: the instance is dead.
    dead: bool,
}

impl WasmSession {
    /// Turns a wasmtime error (a trap) into what happened, in the operator's words.
    fn trapped(&mut self, e: &wasmtime::Error) -> ExportError {
        self.dead = true;
        let name = self.name.clone();
        if self.store.data().limiter.hit {
            return ExportError::Memory {
                plugin: name,
                limit_mb: self.limits.memory_bytes >> 20,
            };
        }
        if matches!(
            e.downcast_ref::<wasmtime::Trap>(),
            Some(wasmtime::Trap::Interrupt)
        ) {
            return ExportError::Timeout {
                plugin: name,
                seconds: self.limits.call_timeout.as_secs().max(1),
            };
        }
        let said = String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_owned();
        let said = said
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" | ");
        ExportError::Crashed {
            plugin: name,
            message: if said.is_empty() {
                format!("{e:#}")
            } else {
                format!("{said} ({})", e.root_cause())
            },
        }
    }

    fn plugin_error(&self, e: types::Error) -> ExportError {
        use bexio_bi_plugin_sdk::ErrorKind;
        ExportError::Plugin {
            plugin: self.name.clone(),
            error: bexio_bi_plugin_sdk::Error {
                kind: match e.kind {
                    types::ErrorKind::Config => ErrorKind::Config,
                    types::ErrorKind::Data => ErrorKind::Data,
                    types::ErrorKind::Io => ErrorKind::Io,
                    types::ErrorKind::Denied => ErrorKind::Denied,
                    types::ErrorKind::Internal => ErrorKind::Internal,
                },
                message: e.message,
            },
        }
    }

    fn dead_error(&self) -> ExportError {
        ExportError::Crashed {
            plugin: self.name.clone(),
            message: "it crashed earlier in this export and is not called again".into(),
        }
    }
}

impl Linked for Wasm {
    fn info(&self) -> &PluginInfo {
        &self.info
    }

    fn kind(&self) -> &'static str {
        "wasm"
    }

    fn open(&self, r: &OpenRequest) -> Result<Box<dyn Session>, ExportError> {
        r.create_out_dir()?;
        let (mut store, stderr) = self.store(Some(&r.out_dir), Arc::clone(&r.host), r.limits)?;
        let plugin = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| load_error(&self.path, format!("it cannot start: {e:#}")))?;
        let mut s = WasmSession {
            name: self.info.name.clone(),
            store,
            plugin,
            session: None,
            stderr,
            limits: r.limits,
            dead: false,
        };
        let mut tables = Vec::with_capacity(r.tables.len());
        for (name, schema) in &r.tables {
            let schema = bexio_bi_plugin_sdk::ipc::encode_schema(schema).map_err(|e| {
                ExportError::Crashed {
                    plugin: s.name.clone(),
                    message: e.to_string(),
                }
            })?;
            tables.push(types::Table {
                name: name.clone(),
                schema,
            });
        }
        let config = r.config.to_string();
        s.store.set_epoch_deadline(ticks(r.limits.call_timeout));
        let opened = s.plugin.bexio_bi_exporter_exporter().session().call_open(
            &mut s.store,
            &config,
            &tables,
            "/out",
        );
        match opened {
            Ok(Ok(handle)) => {
                s.session = Some(handle);
                Ok(Box::new(s))
            }
            Ok(Err(e)) => Err(s.plugin_error(e)),
            Err(e) => Err(s.trapped(&e)),
        }
    }
}

impl Session for WasmSession {
    fn write(&mut self, batch: &Batch) -> Result<(), ExportError> {
        if self.dead {
            return Err(self.dead_error());
        }
        let Some(handle) = self.session else {
            return Err(self.dead_error());
        };
        let ipc = batch.ipc().map_err(|message| ExportError::Crashed {
            plugin: self.name.clone(),
            message,
        })?;
        self.store
            .set_epoch_deadline(ticks(self.limits.call_timeout));
        let done = self
            .plugin
            .bexio_bi_exporter_exporter()
            .session()
            .call_write(&mut self.store, handle, &batch.table, ipc);
        match done {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.plugin_error(e)),
            Err(e) => Err(self.trapped(&e)),
        }
    }

    fn finish(mut self: Box<Self>) -> Result<Summary, ExportError> {
        if self.dead {
            return Err(self.dead_error());
        }
        let Some(handle) = self.session.take() else {
            return Err(self.dead_error());
        };
        self.store
            .set_epoch_deadline(ticks(self.limits.call_timeout));
        let done = self
            .plugin
            .bexio_bi_exporter_exporter()
            .session()
            .call_finish(&mut self.store, handle);
        let out = match done {
            Ok(Ok(s)) => Ok(Summary {
                tables: s.tables.into_iter().collect(),
                files: s.files,
                bytes: s.bytes,
                notes: s.notes,
            }),
            Ok(Err(e)) => Err(self.plugin_error(e)),
            Err(e) => return Err(self.trapped(&e)),
        };
        let _ = handle.resource_drop(&mut self.store);
        out
    }

    fn abort(mut self: Box<Self>) {
        if self.dead {
            return;
        }
        if let Some(handle) = self.session.take() {
            self.store
                .set_epoch_deadline(ticks(self.limits.call_timeout));
            let _ = self
                .plugin
                .bexio_bi_exporter_exporter()
                .session()
                .call_abort(&mut self.store, handle);
            let _ = handle.resource_drop(&mut self.store);
        }
    }
}

impl std::fmt::Debug for Wasm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wasm").field("path", &self.path).finish()
    }
}
