//! The native plugin ABI (version 1): what a `cdylib` built with [`export_plugin!`] exposes,
//! and what the host calls.
//!
//! - `bexio_bi_plugin_abi_version() -> u32` is looked up and checked first: a library without
//!   it is not a plugin, one with another number is refused before anything else is touched.
//! - `bexio_bi_plugin_vtable() -> *const VTable` gives the function table. `struct_size` lets
//!   the table grow by appending fields without breaking older hosts.
//! - Batches cross through the Arrow C Data Interface without a copy (a struct array per batch,
//!   moved to the plugin); strings cross borrowed ([`Str`]); what the plugin returns
//!   ([`Buf`]: JSON of [`PluginInfo`], [`Summary`] or [`Error`]) is freed by the plugin's
//!   `free_buf`, never by the host's allocator.
//! - Every entry point catches panics: a panicking plugin returns an internal error, and its
//!   session refuses further calls; a panic never unwinds into the host.
//!
//! No Rust type crosses the boundary, so host and plugin may use different Rust and Arrow
//! versions.
//!
//! [`export_plugin!`]: crate::export_plugin
//! [`PluginInfo`]: crate::PluginInfo
//! [`Summary`]: crate::Summary
//! [`Error`]: crate::Error

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{RecordBatch, StructArray};
pub use arrow_data::ffi::FFI_ArrowArray;
use arrow_schema::Schema;
pub use arrow_schema::ffi::FFI_ArrowSchema;

use crate::{Context, Error, Exporter, Host, Level};

/// The ABI version this SDK implements.
pub const ABI_VERSION: u32 = 1;
/// The symbol of the ABI version function.
pub const ABI_VERSION_SYMBOL: &[u8] = b"bexio_bi_plugin_abi_version";
/// The symbol of the function-table function.
pub const VTABLE_SYMBOL: &[u8] = b"bexio_bi_plugin_vtable";

/// A call succeeded.
pub const OK: i32 = 0;
/// A call failed: the error buffer holds an [`Error`] as JSON.
pub const FAILED: i32 = 1;

/// A borrowed UTF-8 string.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Str {
    /// First byte.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl Str {
    /// Borrows `s` for the duration of a call.
    pub fn new(s: &str) -> Str {
        Str {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The string.
    ///
    /// # Safety
    /// `ptr` and `len` must describe bytes that live for `'a`.
    pub unsafe fn as_str<'a>(&self) -> Result<&'a str, Error> {
        if self.len == 0 {
            return Ok("");
        }
        // SAFETY: the caller guarantees the bytes are valid for 'a.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes).map_err(|e| Error::internal(format!("not UTF-8: {e}")))
    }
}

/// Bytes owned by the plugin (freed with its `free_buf`).
#[repr(C)]
#[derive(Debug)]
pub struct Buf {
    /// First byte (null: empty).
    pub ptr: *mut u8,
    /// Length.
    pub len: usize,
    /// Capacity of the allocation.
    pub cap: usize,
}

impl Buf {
    /// Nothing.
    pub const EMPTY: Buf = Buf {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    fn from_vec(v: Vec<u8>) -> Buf {
        let mut v = std::mem::ManuallyDrop::new(v);
        Buf {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            cap: v.capacity(),
        }
    }

    /// A copy of the bytes.
    ///
    /// # Safety
    /// The buffer must come from a plugin and not be freed yet.
    pub unsafe fn to_vec(&self) -> Vec<u8> {
        if self.ptr.is_null() {
            return Vec::new();
        }
        // SAFETY: a live buffer of `len` bytes, per the caller.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }.to_vec()
    }
}

/// The host's functions for a session.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct HostFns {
    /// Passed back to each function.
    pub user: *mut c_void,
    /// A log line: level (0 trace … 4 error), message.
    pub log: extern "C" fn(user: *mut c_void, level: u32, message: Str),
    /// Rows of a table written so far.
    pub progress: extern "C" fn(user: *mut c_void, table: Str, rows: u64),
    /// A granted secret: copies up to `cap` bytes of its UTF-8 value into `out` and returns
    /// its full length (call again with a larger buffer when it is more than `cap`), or -1
    /// when the secret is not granted.
    pub secret: extern "C" fn(user: *mut c_void, name: Str, out: *mut u8, cap: usize) -> isize,
}

/// A table to come: its name and schema (borrowed for the call).
#[repr(C)]
#[derive(Debug)]
pub struct TableSchema {
    /// The table's name.
    pub name: Str,
    /// Its schema.
    pub schema: *const FFI_ArrowSchema,
}

/// The function table of ABI version 1.
#[repr(C)]
#[derive(Debug)]
pub struct VTable {
    /// [`ABI_VERSION`].
    pub abi_version: u32,
    /// `size_of::<VTable>()` of the plugin: fields past it do not exist.
    pub struct_size: u32,
    /// The plugin's [`crate::PluginInfo`] as JSON.
    pub info: extern "C" fn() -> Buf,
    /// Opens a session: configuration (JSON), tables, output directory, host functions. On
    /// success writes the session handle.
    pub open: unsafe extern "C" fn(
        config: Str,
        tables: *const TableSchema,
        n_tables: usize,
        out_dir: Str,
        host: HostFns,
        session: *mut *mut c_void,
        error: *mut Buf,
    ) -> i32,
    /// One batch of a table, as a struct array; the array is moved to the plugin, the schema
    /// borrowed.
    pub write: unsafe extern "C" fn(
        session: *mut c_void,
        table: Str,
        array: *mut FFI_ArrowArray,
        schema: *const FFI_ArrowSchema,
        error: *mut Buf,
    ) -> i32,
    /// Finishes and frees the session; writes the [`crate::Summary`] as JSON.
    pub finish:
        unsafe extern "C" fn(session: *mut c_void, summary: *mut Buf, error: *mut Buf) -> i32,
    /// Aborts and frees the session.
    pub abort: unsafe extern "C" fn(session: *mut c_void),
    /// Frees a buffer the plugin returned.
    pub free_buf: unsafe extern "C" fn(buf: Buf),
}

/// The function table of `T` (used by [`crate::export_plugin!`]).
pub const fn vtable<T: Exporter>() -> VTable {
    VTable {
        abi_version: ABI_VERSION,
        struct_size: std::mem::size_of::<VTable>() as u32,
        info: info::<T>,
        open: open::<T>,
        write: write::<T>,
        finish: finish::<T>,
        abort: abort::<T>,
        free_buf,
    }
}

/// A session on the plugin side; `None` once it failed with a panic.
struct Session<T> {
    exporter: Option<T>,
    /// The tables announced at open: batches of the same layout reuse their schema.
    tables: Vec<Announced>,
}

/// A table announced at open.
struct Announced {
    name: String,
    schema: arrow_schema::SchemaRef,
    /// The schema as the struct type of a batch, and as the host exported it.
    struct_type: arrow_schema::DataType,
    ffi: FFI_ArrowSchema,
}

/// Whether two exported schemas lay data out the same way (formats, recursively; names and
/// metadata aside).
fn same_layout(a: &FFI_ArrowSchema, b: &FFI_ArrowSchema) -> bool {
    a.format() == b.format()
        && a.n_children == b.n_children
        && a.children()
            .zip(b.children())
            .all(|(a, b)| same_layout(a, b))
        && match (a.dictionary(), b.dictionary()) {
            (None, None) => true,
            (Some(a), Some(b)) => same_layout(a, b),
            _ => false,
        }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Runs `f`, turning a panic into an internal error.
fn guarded<R>(f: impl FnOnce() -> Result<R, Error>) -> Result<R, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(Error::internal(format!(
            "the plugin panicked: {}",
            panic_message(p.as_ref())
        )))
    })
}

/// Writes `e` into the error buffer.
///
/// # Safety
/// `error` is null or points to a writable [`Buf`].
unsafe fn fail(error: *mut Buf, e: &Error) -> i32 {
    if !error.is_null() {
        let json = serde_json::to_vec(e).unwrap_or_default();
        // SAFETY: writable per the caller.
        unsafe { error.write(Buf::from_vec(json)) };
    }
    FAILED
}

extern "C" fn info<T: Exporter>() -> Buf {
    let json =
        guarded(|| serde_json::to_vec(&T::info()).map_err(|e| Error::internal(e.to_string())));
    Buf::from_vec(json.unwrap_or_default())
}

/// The host as the plugin sees it in a native session.
struct NativeHost(HostFns);

// SAFETY: the host guarantees that `user` stays valid for the session and that its functions
// may be called from any thread (they forward to a `Host`, which is `Send + Sync`).
unsafe impl Send for NativeHost {}
// SAFETY: as above.
unsafe impl Sync for NativeHost {}

impl Host for NativeHost {
    fn log(&self, level: Level, message: &str) {
        (self.0.log)(self.0.user, level.code(), Str::new(message));
    }
    fn progress(&self, table: &str, rows: u64) {
        (self.0.progress)(self.0.user, Str::new(table), rows);
    }
    fn secret(&self, name: &str) -> Option<String> {
        let mut buf = vec![0u8; 256];
        loop {
            let n = (self.0.secret)(self.0.user, Str::new(name), buf.as_mut_ptr(), buf.len());
            let n = usize::try_from(n).ok()?;
            if n <= buf.len() {
                buf.truncate(n);
                return String::from_utf8(buf).ok();
            }
            buf.resize(n, 0);
        }
    }
}

unsafe extern "C" fn open<T: Exporter>(
    config: Str,
    tables: *const TableSchema,
    n_tables: usize,
    out_dir: Str,
    host: HostFns,
    session: *mut *mut c_void,
    error: *mut Buf,
) -> i32 {
    let result = guarded(|| {
        // SAFETY: the host passes strings and `n_tables` entries that live for this call.
        let config = unsafe { config.as_str() }?;
        let config: serde_json::Value = serde_json::from_str(config)
            .map_err(|e| Error::config(format!("the configuration is not JSON: {e}")))?;
        let mut list = Vec::with_capacity(n_tables);
        let mut announced = Vec::with_capacity(n_tables);
        for i in 0..n_tables {
            // SAFETY: `i < n_tables`, per the host.
            let t = unsafe { &*tables.add(i) };
            // SAFETY: as above.
            let name = unsafe { t.name.as_str() }?.to_owned();
            // SAFETY: the schema lives for the call.
            let schema = Arc::new(Schema::try_from(unsafe { &*t.schema })?);
            let struct_type = arrow_schema::DataType::Struct(schema.fields().clone());
            announced.push(Announced {
                name: name.clone(),
                schema: Arc::clone(&schema),
                ffi: FFI_ArrowSchema::try_from(&struct_type)?,
                struct_type,
            });
            list.push((name, schema));
        }
        // SAFETY: as above.
        let out_dir = PathBuf::from(unsafe { out_dir.as_str() }?);
        let ctx = Context::new(config, list, out_dir, Arc::new(NativeHost(host)));
        let exporter = T::open(ctx)?;
        Ok(Box::into_raw(Box::new(Session {
            exporter: Some(exporter),
            tables: announced,
        })) as *mut c_void)
    });
    match result {
        Ok(handle) => {
            // SAFETY: the host passes a writable slot.
            unsafe { session.write(handle) };
            OK
        }
        // SAFETY: the host passes a writable error slot.
        Err(e) => unsafe { fail(error, &e) },
    }
}

unsafe extern "C" fn write<T: Exporter>(
    session: *mut c_void,
    table: Str,
    array: *mut FFI_ArrowArray,
    schema: *const FFI_ArrowSchema,
    error: *mut Buf,
) -> i32 {
    // SAFETY: a handle from `open`, used by one thread at a time (the host's contract).
    let s = unsafe { &mut *(session as *mut Session<T>) };
    // SAFETY: the array is moved to us: take it before anything can fail, so that it is
    // released exactly once whatever happens.
    let array = unsafe { FFI_ArrowArray::from_raw(array) };
    let result = guarded(|| {
        let Some(exporter) = s.exporter.as_mut() else {
            return Err(Error::internal(
                "the session failed earlier (the plugin panicked)",
            ));
        };
        // SAFETY: strings and the schema live for this call.
        let table = unsafe { table.as_str() }?;
        // SAFETY: as above.
        let schema = unsafe { &*schema };
        // A batch laid out as its table was announced (every batch from bexio-bi) is imported
        // with the announced schema, parsed once at open; any other with its own.
        let batch = match s
            .tables
            .iter()
            .find(|t| t.name == table && same_layout(schema, &t.ffi))
        {
            Some(t) => {
                // SAFETY: the array has the layout of `struct_type` (checked just above).
                let data = unsafe {
                    arrow_array::ffi::from_ffi_and_data_type(array, t.struct_type.clone())
                }?;
                let (_, columns, _) = StructArray::from(data).into_parts();
                RecordBatch::try_new(Arc::clone(&t.schema), columns)?
            }
            None => {
                // SAFETY: as above; `from_ffi` reads the layout from the schema.
                let data = unsafe { arrow_array::ffi::from_ffi(array, schema) }?;
                RecordBatch::from(StructArray::from(data))
            }
        };
        exporter.write(table, batch)
    });
    match result {
        Ok(()) => OK,
        Err(e) => {
            if e.message.starts_with("the plugin panicked") {
                // Its state is unknown: never call it again (and never run its destructor).
                std::mem::forget(s.exporter.take());
            }
            // SAFETY: the host passes a writable error slot.
            unsafe { fail(error, &e) }
        }
    }
}

unsafe extern "C" fn finish<T: Exporter>(
    session: *mut c_void,
    summary: *mut Buf,
    error: *mut Buf,
) -> i32 {
    // SAFETY: a handle from `open`, given back once.
    let mut s = unsafe { Box::from_raw(session as *mut Session<T>) };
    let result = guarded(|| {
        let exporter = s
            .exporter
            .take()
            .ok_or_else(|| Error::internal("the session failed earlier (the plugin panicked)"))?;
        let out = exporter.finish()?;
        serde_json::to_vec(&out).map_err(|e| Error::internal(e.to_string()))
    });
    match result {
        Ok(json) => {
            // SAFETY: the host passes a writable slot.
            unsafe { summary.write(Buf::from_vec(json)) };
            OK
        }
        // SAFETY: the host passes a writable error slot.
        Err(e) => unsafe { fail(error, &e) },
    }
}

unsafe extern "C" fn abort<T: Exporter>(session: *mut c_void) {
    // SAFETY: a handle from `open`, given back once.
    let mut s = unsafe { Box::from_raw(session as *mut Session<T>) };
    let _ = guarded(|| {
        if let Some(e) = s.exporter.take() {
            e.abort();
        }
        Ok(())
    });
}

unsafe extern "C" fn free_buf(buf: Buf) {
    if !buf.ptr.is_null() {
        // SAFETY: a buffer made by `Buf::from_vec` in this library.
        drop(unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.cap) });
    }
}

/// The host's side: [`HostFns`] that forward to a [`Host`]. Keep the returned box alive for
/// as long as the session.
pub fn host_fns(host: Arc<dyn Host>) -> (HostFns, Box<Arc<dyn Host>>) {
    let mut boxed = Box::new(host);
    let fns = HostFns {
        user: (&mut *boxed as *mut Arc<dyn Host>).cast(),
        log: host_log,
        progress: host_progress,
        secret: host_secret,
    };
    (fns, boxed)
}

extern "C" fn host_log(user: *mut c_void, level: u32, message: Str) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user` is the box of `host_fns`, alive for the session; the message lives
        // for the call.
        let host = unsafe { &*(user as *const Arc<dyn Host>) };
        if let Ok(m) = unsafe { message.as_str() } {
            host.log(Level::from_code(level), m);
        }
    }));
}

extern "C" fn host_progress(user: *mut c_void, table: Str, rows: u64) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in `host_log`.
        let host = unsafe { &*(user as *const Arc<dyn Host>) };
        if let Ok(t) = unsafe { table.as_str() } {
            host.progress(t, rows);
        }
    }));
}

extern "C" fn host_secret(user: *mut c_void, name: Str, out: *mut u8, cap: usize) -> isize {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in `host_log`.
        let host = unsafe { &*(user as *const Arc<dyn Host>) };
        let Ok(name) = (unsafe { name.as_str() }) else {
            return -1;
        };
        let Some(value) = host.secret(name) else {
            return -1;
        };
        let bytes = value.as_bytes();
        if bytes.len() <= cap && !out.is_null() {
            // SAFETY: the plugin passes a buffer of `cap` writable bytes.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len()) };
        }
        isize::try_from(bytes.len()).unwrap_or(-1)
    }))
    .unwrap_or(-1)
}
