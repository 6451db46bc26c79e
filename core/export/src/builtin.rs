//! Plugins compiled into the binary: first-party crates written against the SDK exactly as a
//! third party would write them, registered here, once.

use std::marker::PhantomData;
use std::sync::Arc;

use bexio_bi_plugin_sdk::{Context, Exporter, PluginInfo, Summary};

use crate::{Batch, ExportError, Linked, OpenRequest, Session};

/// Every built-in plugin.
pub fn all() -> Vec<Arc<dyn Linked>> {
    vec![
        Arc::new(Builtin::<bexio_bi_plugin_parquet::Parquet>::new()),
        Arc::new(Builtin::<bexio_bi_plugin_csv::Csv>::new()),
        Arc::new(Builtin::<bexio_bi_plugin_xlsx::Xlsx>::new()),
    ]
}

/// The built-in plugin called `name`.
pub fn find(name: &str) -> Option<Arc<dyn Linked>> {
    all().into_iter().find(|p| p.info().name == name)
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
