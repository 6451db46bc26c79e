//! Native plugins: shared libraries exposing the SDK's C ABI, loaded with libloading.
//!
//! The ABI version symbol is checked before anything else; batches cross as Arrow C Data
//! Interface struct arrays (no copy). A native plugin runs inside this process with its
//! rights: only load libraries from publishers you trust, pinned by sha256 in the manifest.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, StructArray};
use bexio_bi_plugin_sdk::native::{
    self as abi, ABI_VERSION, ABI_VERSION_SYMBOL, Buf, FFI_ArrowArray, FFI_ArrowSchema, Str,
    TableSchema, VTABLE_SYMBOL, VTable,
};
use bexio_bi_plugin_sdk::{Host, PluginInfo, SchemaRef, Summary};

use crate::{Batch, ExportError, Linked, OpenRequest, Session};

/// A loaded library.
pub struct Native {
    path: PathBuf,
    vtable: &'static VTable,
    info: PluginInfo,
    // Last: dropped after everything that points into it.
    _lib: Arc<libloading::Library>,
}

fn load_error(path: &Path, message: impl Into<String>) -> ExportError {
    ExportError::Load {
        path: path.to_owned(),
        message: message.into(),
    }
}

impl Native {
    /// Loads the library at `path` and checks its ABI version.
    pub fn load(path: &Path) -> Result<Native, ExportError> {
        // SAFETY: loading a library runs its initialisers: the operator chose this file and
        // its checksum was checked against the manifest before we got here.
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|e| load_error(path, e.to_string()))?;
        // SAFETY: the symbol's type is the ABI's `extern "C" fn() -> u32`.
        let version: libloading::Symbol<'_, extern "C" fn() -> u32> =
            unsafe { lib.get(ABI_VERSION_SYMBOL) }.map_err(|_| {
                load_error(
                    path,
                    "it has no bexio_bi_plugin_abi_version symbol: not a bexio-bi plugin",
                )
            })?;
        let v = version();
        if v != ABI_VERSION {
            return Err(load_error(
                path,
                format!(
                    "it implements plugin ABI {v}, this bexio-bi implements {ABI_VERSION}: rebuild it against bexio-bi-plugin-sdk {}.x",
                    ABI_VERSION
                ),
            ));
        }
        // SAFETY: same ABI version, so the symbol has this type.
        let table: libloading::Symbol<'_, extern "C" fn() -> *const VTable> =
            unsafe { lib.get(VTABLE_SYMBOL) }
                .map_err(|_| load_error(path, "it has no bexio_bi_plugin_vtable symbol"))?;
        let ptr = table();
        if ptr.is_null() {
            return Err(load_error(path, "its function table is null"));
        }
        let lib = Arc::new(lib);
        // SAFETY: the table is a static of the library, which lives as long as `_lib` (and
        // every session holds the library too).
        let vtable: &'static VTable = unsafe { &*ptr };
        if (vtable.struct_size as usize) < std::mem::size_of::<VTable>()
            || vtable.abi_version != ABI_VERSION
        {
            return Err(load_error(path, "its function table is from another ABI"));
        }
        let buf = (vtable.info)();
        // SAFETY: a buffer the plugin just returned; freed once, by the plugin.
        let json = unsafe { buf.to_vec() };
        unsafe { (vtable.free_buf)(buf) };
        let info: PluginInfo = serde_json::from_slice(&json)
            .map_err(|e| load_error(path, format!("its info is not readable: {e}")))?;
        Ok(Native {
            path: path.to_owned(),
            vtable,
            info,
            _lib: lib,
        })
    }
}

/// Reads and frees an error buffer.
fn plugin_error(vt: &VTable, name: &str, buf: Buf) -> ExportError {
    // SAFETY: a buffer the plugin returned, freed once.
    let json = unsafe { buf.to_vec() };
    unsafe { (vt.free_buf)(buf) };
    match serde_json::from_slice(&json) {
        Ok(error) => ExportError::Plugin {
            plugin: name.to_owned(),
            error,
        },
        Err(_) => ExportError::Crashed {
            plugin: name.to_owned(),
            message: "it failed without a readable error".into(),
        },
    }
}

struct NativeSession {
    name: String,
    vtable: &'static VTable,
    handle: *mut c_void,
    _host: Box<Arc<dyn Host>>,
    _lib: Arc<libloading::Library>,
    /// The tables as announced, and exported once: a batch of the same layout is passed with
    /// its table's exported schema instead of exporting its own.
    tables: Vec<(String, SchemaRef, FFI_ArrowSchema)>,
}

// SAFETY: the plugin's contract is that a session may move between threads as long as one
// thread uses it at a time; `Session` methods take `&mut self` or `self`.
unsafe impl Send for NativeSession {}

impl Linked for Native {
    fn info(&self) -> &PluginInfo {
        &self.info
    }

    fn kind(&self) -> &'static str {
        "native"
    }

    fn open(&self, r: &OpenRequest) -> Result<Box<dyn Session>, ExportError> {
        r.create_out_dir()?;
        let config = r.config.to_string();
        let out_dir = r.out_dir.to_string_lossy().into_owned();
        let schemas = r
            .tables
            .iter()
            .map(|(_, s)| FFI_ArrowSchema::try_from(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| load_error(&self.path, e.to_string()))?;
        let tables: Vec<TableSchema> = r
            .tables
            .iter()
            .zip(&schemas)
            .map(|((name, _), schema)| TableSchema {
                name: Str::new(name),
                schema,
            })
            .collect();
        let (fns, host) = abi::host_fns(Arc::clone(&r.host));
        let mut handle = std::ptr::null_mut();
        let mut err = Buf::EMPTY;
        // SAFETY: every pointer is valid for the call; `host` outlives the session.
        let status = unsafe {
            (self.vtable.open)(
                Str::new(&config),
                tables.as_ptr(),
                tables.len(),
                Str::new(&out_dir),
                fns,
                &mut handle,
                &mut err,
            )
        };
        if status != abi::OK || handle.is_null() {
            return Err(plugin_error(self.vtable, &self.info.name, err));
        }
        Ok(Box::new(NativeSession {
            name: self.info.name.clone(),
            vtable: self.vtable,
            handle,
            _host: host,
            _lib: Arc::clone(&self._lib),
            tables: r
                .tables
                .iter()
                .zip(schemas)
                .map(|((name, schema), ffi)| (name.clone(), Arc::clone(schema), ffi))
                .collect(),
        }))
    }
}

impl Session for NativeSession {
    fn write(&mut self, batch: &Batch) -> Result<(), ExportError> {
        let data = StructArray::from(batch.data.clone()).into_data();
        let mut array = FFI_ArrowArray::new(&data);
        let theirs = batch.data.schema();
        let announced = self.tables.iter().find(|(name, schema, _)| {
            **name == *batch.table
                && (Arc::ptr_eq(schema, &theirs)
                    || (schema.fields().len() == theirs.fields().len()
                        && schema
                            .fields()
                            .iter()
                            .zip(theirs.fields())
                            .all(|(a, b)| a.data_type() == b.data_type())))
        });
        let own;
        let schema = match announced {
            Some((_, _, ffi)) => ffi,
            None => {
                own = FFI_ArrowSchema::try_from(data.data_type()).map_err(|e| {
                    ExportError::Crashed {
                        plugin: self.name.clone(),
                        message: e.to_string(),
                    }
                })?;
                &own
            }
        };
        let mut err = Buf::EMPTY;
        // SAFETY: the array is moved to the plugin (it leaves an empty one behind, which drops
        // as a no-op); the schema is borrowed for the call.
        let status = unsafe {
            (self.vtable.write)(
                self.handle,
                Str::new(&batch.table),
                &mut array,
                schema,
                &mut err,
            )
        };
        if status == abi::OK {
            Ok(())
        } else {
            Err(plugin_error(self.vtable, &self.name, err))
        }
    }

    fn finish(self: Box<Self>) -> Result<Summary, ExportError> {
        let mut out = Buf::EMPTY;
        let mut err = Buf::EMPTY;
        // SAFETY: the handle is given back once; the plugin frees the session.
        let status = unsafe { (self.vtable.finish)(self.handle, &mut out, &mut err) };
        if status != abi::OK {
            return Err(plugin_error(self.vtable, &self.name, err));
        }
        // SAFETY: a buffer the plugin returned, freed once.
        let json = unsafe { out.to_vec() };
        unsafe { (self.vtable.free_buf)(out) };
        serde_json::from_slice(&json).map_err(|e| ExportError::Crashed {
            plugin: self.name.clone(),
            message: format!("its summary is not readable: {e}"),
        })
    }

    fn abort(self: Box<Self>) {
        // SAFETY: the handle is given back once; the plugin frees the session.
        unsafe { (self.vtable.abort)(self.handle) };
    }
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Native").field("path", &self.path).finish()
    }
}
