//! Writing large files fast in every linkage.
//!
//! A WebAssembly component writes through WASI, and `std::fs::File::write` there becomes a
//! stream write that the host hands to a thread of its own, 64 KB at a time: a thread switch
//! per 64 KB. [`FileWriter`] buffers a megabyte and writes it with one positioned write
//! (`pwrite`, WASI's `descriptor.write`), which the host performs on the plugin's own thread.
//! Natively it is a plain buffered writer. Use it for anything bigger than a few buffers.
//!
//! ```no_run
//! use std::io::Write;
//! # fn main() -> std::io::Result<()> {
//! let mut out = bexio_bi_plugin_sdk::files::FileWriter::create("out/data.bin")?;
//! out.write_all(b"...")?;
//! out.finish()?; // flushes; an error here is the write's error
//! # Ok(())
//! # }
//! ```

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// The default buffer: large enough that a host call per buffer costs nothing measurable.
const CAPACITY: usize = 1 << 20;

/// A file written from its start to its end, in large writes: see the [module](self).
pub struct FileWriter {
    /// Taken by [`FileWriter::finish`] only.
    file: Option<File>,
    buf: Vec<u8>,
    /// Where the buffer goes in the file.
    at: u64,
}

impl FileWriter {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: impl AsRef<Path>) -> io::Result<FileWriter> {
        Ok(FileWriter::with_capacity(CAPACITY, File::create(path)?))
    }

    /// Writes `file` from its start, buffering `capacity` bytes.
    pub fn with_capacity(capacity: usize, file: File) -> FileWriter {
        FileWriter {
            file: Some(file),
            buf: Vec::with_capacity(capacity.max(1)),
            at: 0,
        }
    }

    /// Bytes written so far (buffered ones included).
    pub fn position(&self) -> u64 {
        self.at + self.buf.len() as u64
    }

    /// Writes what is buffered and returns the file.
    pub fn finish(mut self) -> io::Result<File> {
        self.flush_buffer()?;
        self.file
            .take()
            .ok_or_else(|| io::Error::other("the file was finished already"))
    }

    fn flush_buffer(&mut self) -> io::Result<()> {
        if let (false, Some(file)) = (self.buf.is_empty(), &self.file) {
            write_all_at(file, &self.buf, self.at)?;
            self.at += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
}

impl Write for FileWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        let capacity = self.buf.capacity();
        if self.buf.len() + data.len() > capacity {
            self.flush_buffer()?;
            // Larger than the buffer: straight to the file.
            if let (true, Some(file)) = (data.len() >= capacity, &self.file) {
                write_all_at(file, data, self.at)?;
                self.at += data.len() as u64;
                data = &[];
            }
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buffer()
    }
}

impl Drop for FileWriter {
    /// Writes what is buffered, ignoring errors: call [`FileWriter::finish`] to see them.
    fn drop(&mut self) {
        let _ = self.flush_buffer();
    }
}

/// Writes all of `data` at `offset`.
#[cfg(target_os = "wasi")]
fn write_all_at(file: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    while !data.is_empty() {
        let at = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::other("file offset beyond the platform's range"))?;
        // SAFETY: `data` is a live slice of `data.len()` bytes and the descriptor is `file`'s,
        // open for as long as the borrow; `pwrite` reads no more than `data.len()` bytes.
        let n = unsafe { libc::pwrite(file.as_raw_fd(), data.as_ptr().cast(), data.len(), at) };
        match n {
            n if n > 0 => {
                data = &data[n as usize..];
                offset += n as u64;
            }
            0 => return Err(io::ErrorKind::WriteZero.into()),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// Writes all of `data` at `offset` (files are written in order, so at the cursor).
#[cfg(not(target_os = "wasi"))]
fn write_all_at(mut file: &File, data: &[u8], _offset: u64) -> io::Result<()> {
    file.write_all(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_writes_land_in_order() {
        let dir = std::env::temp_dir().join(format!("sdk-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("out.bin");
        let mut expected = Vec::new();
        {
            let mut w = FileWriter::with_capacity(64, File::create(&path).expect("create"));
            for i in 0..1_000u32 {
                // Sizes below, at and above the buffer, so every path is taken.
                let chunk: Vec<u8> = (0..(i * 7 % 150)).map(|b| (b ^ i) as u8).collect();
                w.write_all(&chunk).expect("write");
                expected.extend_from_slice(&chunk);
                assert_eq!(w.position(), expected.len() as u64);
            }
            w.finish().expect("finish");
        }
        assert_eq!(std::fs::read(&path).expect("read"), expected);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
