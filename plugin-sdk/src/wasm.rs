//! The WebAssembly side: the bindings of `wit/exporter.wit` and the adapter that serves an
//! [`Exporter`] through them. Used by [`crate::export_plugin!`]; plugin authors never touch it.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::{Context, Error, ErrorKind, Exporter, Host, Level, ipc};

/// Generated from `wit/exporter.wit`.
#[allow(missing_docs, unsafe_op_in_unsafe_fn, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_wasm",
        default_bindings_module: "bexio_bi_plugin_sdk::wasm::bindings",
    });
}

use bindings::bexio_bi::exporter::{host, types};
use bindings::exports::bexio_bi::exporter::exporter::{Guest, GuestSession, Session};

/// Serves `T` as the component's `exporter` interface.
pub struct Adapter<T>(PhantomData<T>);

/// One session of `T`.
pub struct SessionAdapter<T> {
    exporter: RefCell<Option<T>>,
}

fn wit_error(e: Error) -> types::Error {
    types::Error {
        kind: match e.kind {
            ErrorKind::Config => types::ErrorKind::Config,
            ErrorKind::Data => types::ErrorKind::Data,
            ErrorKind::Io => types::ErrorKind::Io,
            ErrorKind::Denied => types::ErrorKind::Denied,
            ErrorKind::Internal => types::ErrorKind::Internal,
        },
        message: e.message,
    }
}

/// The host as a plugin sees it: the component's imports.
struct WasmHost;

impl Host for WasmHost {
    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Trace => types::Level::Trace,
            Level::Debug => types::Level::Debug,
            Level::Info => types::Level::Info,
            Level::Warn => types::Level::Warn,
            Level::Error => types::Level::Error,
        };
        host::log(level, message);
    }
    fn progress(&self, table: &str, rows: u64) {
        host::progress(table, rows);
    }
    fn secret(&self, name: &str) -> Option<String> {
        host::secret(name)
    }
}

impl<T: Exporter> Guest for Adapter<T> {
    type Session = SessionAdapter<T>;

    fn info() -> types::PluginInfo {
        let i = T::info();
        types::PluginInfo {
            name: i.name,
            version: i.version,
            description: i.description,
            config_schema: i.config_schema,
            capabilities: i.capabilities,
            tables: i.tables,
        }
    }
}

impl<T: Exporter> GuestSession for SessionAdapter<T> {
    fn open(
        config: String,
        tables: Vec<types::Table>,
        out_dir: String,
    ) -> Result<Session, types::Error> {
        let config: serde_json::Value = serde_json::from_str(&config)
            .map_err(|e| wit_error(Error::config(format!("the configuration is not JSON: {e}"))))?;
        let mut list = Vec::with_capacity(tables.len());
        for t in tables {
            let schema = ipc::decode_schema(&t.schema).map_err(|e| wit_error(e.into()))?;
            list.push((t.name, schema));
        }
        let ctx = Context::new(config, list, out_dir.into(), Arc::new(WasmHost));
        let exporter = T::open(ctx).map_err(wit_error)?;
        Ok(Session::new(SessionAdapter {
            exporter: RefCell::new(Some(exporter)),
        }))
    }

    fn write(&self, table: String, batch: Vec<u8>) -> Result<(), types::Error> {
        // SAFETY: the host encodes every batch from valid arrays (the contract of `write`),
        // so the guest need not check each value again; the framing still is.
        let batch = unsafe { ipc::decode_trusted_batch(batch) }.map_err(|e| wit_error(e.into()))?;
        match self.exporter.borrow_mut().as_mut() {
            Some(e) => e.write(&table, batch).map_err(wit_error),
            None => Err(wit_error(Error::internal("the session is finished"))),
        }
    }

    fn finish(&self) -> Result<types::Summary, types::Error> {
        let exporter = self
            .exporter
            .borrow_mut()
            .take()
            .ok_or_else(|| wit_error(Error::internal("the session is finished")))?;
        let s = exporter.finish().map_err(wit_error)?;
        Ok(types::Summary {
            tables: s.tables.into_iter().collect(),
            files: s.files,
            bytes: s.bytes,
            notes: s.notes,
        })
    }

    fn abort(&self) {
        if let Some(e) = self.exporter.borrow_mut().take() {
            e.abort();
        }
    }
}
