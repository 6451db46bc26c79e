//! Plugins shipped inside the binary, registered here, once: first-party crates written against
//! the SDK exactly as a third party would write them, either linked in or (the QVD writer) built
//! as WebAssembly components by `build.rs`, embedded, and run sandboxed like any installed one.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bexio_bi_plugin_sdk::{Context, Exporter, PluginInfo, Summary};

use crate::wasm::Wasm;
use crate::{Batch, ExportError, Linked, OpenRequest, Session};

/// Every built-in plugin.
pub fn all() -> Vec<Arc<dyn Linked>> {
    vec![
        Arc::new(Builtin::<bexio_bi_plugin_parquet::Parquet>::new()),
        Arc::new(Builtin::<bexio_bi_plugin_csv::Csv>::new()),
        Arc::new(Builtin::<bexio_bi_plugin_xlsx::Xlsx>::new()),
        Arc::new(Builtin::<bexio_bi_plugin_hyper::Hyper>::new()),
    ]
}

/// The linked-in plugin called `name`.
pub fn find(name: &str) -> Option<Arc<dyn Linked>> {
    all().into_iter().find(|p| p.info().name == name)
}

/// The WebAssembly components shipped inside the binary, by name; empty bytes when bexio-bi was
/// built without the `wasm32-wasip2` target.
const EMBEDDED: &[(&str, &[u8])] =
    &[("qvd", include_bytes!(concat!(env!("OUT_DIR"), "/qvd.wasm")))];

/// The names of every plugin shipped inside the binary, linked in or embedded.
pub fn names() -> Vec<String> {
    all()
        .iter()
        .map(|p| p.info().name.clone())
        .chain(EMBEDDED.iter().map(|(n, _)| (*n).to_owned()))
        .collect()
}

/// Loads the plugin shipped inside the binary called `name` (an embedded component is compiled
/// once, then taken from `cache_dir`); `None` when there is none of that name.
pub fn load(name: &str, cache_dir: Option<&Path>) -> Option<Result<Arc<dyn Linked>, ExportError>> {
    if let Some(p) = find(name) {
        return Some(Ok(p));
    }
    let (_, bytes) = EMBEDDED.iter().find(|(n, _)| *n == name)?;
    if bytes.is_empty() {
        return Some(Err(ExportError::Refused {
            plugin: name.to_owned(),
            message: format!(
                "this bexio-bi was built without its {name} plugin (the Rust target wasm32-wasip2 was missing when it was built): run `rustup target add wasm32-wasip2` and build bexio-bi again"
            ),
        }));
    }
    let label = PathBuf::from(format!("<built in>/{name}.wasm"));
    Some(Wasm::load_bytes(&label, bytes, cache_dir).map(|w| Arc::new(w) as Arc<dyn Linked>))
}

/// An [`Exporter`] linked in.
pub struct Builtin<T> {
    info: PluginInfo,
    _exporter: PhantomData<fn() -> T>,
}

impl<T: Exporter> Builtin<T> {
    /// Links `T` in.
    pub fn new() -> Builtin<T> {
        Builtin {
            info: T::info(),
            _exporter: PhantomData,
        }
    }
}

impl<T: Exporter> Default for Builtin<T> {
    fn default() -> Self {
        Builtin::new()
    }
}

struct BuiltinSession<T> {
    name: String,
    exporter: T,
}

impl<T: Exporter + Send> Linked for Builtin<T> {
    fn info(&self) -> &PluginInfo {
        &self.info
    }

    fn kind(&self) -> &'static str {
        "builtin"
    }

    fn open(&self, r: &OpenRequest) -> Result<Box<dyn Session>, ExportError> {
        r.create_out_dir()?;
        let ctx = Context::new(
            r.config.clone(),
            r.tables.clone(),
            r.out_dir.clone(),
            Arc::clone(&r.host),
        );
        let name = self.info.name.clone();
        let exporter = T::open(ctx).map_err(|error| ExportError::Plugin {
            plugin: name.clone(),
            error,
        })?;
        Ok(Box::new(BuiltinSession { name, exporter }))
    }
}

impl<T: Exporter + Send> Session for BuiltinSession<T> {
    fn write(&mut self, batch: &Batch) -> Result<(), ExportError> {
        self.exporter
            .write(&batch.table, batch.data.clone())
            .map_err(|error| ExportError::Plugin {
                plugin: self.name.clone(),
                error,
            })
    }

    fn finish(self: Box<Self>) -> Result<Summary, ExportError> {
        let name = self.name;
        self.exporter.finish().map_err(|error| ExportError::Plugin {
            plugin: name,
            error,
        })
    }

    fn abort(self: Box<Self>) {
        self.exporter.abort();
    }
}
