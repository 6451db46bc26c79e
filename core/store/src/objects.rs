//! Content-addressed chunks: a file named by the SHA-256 of its bytes, written once.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{StoreError, io};

/// The chunk directory of a store (`objects/ab/abcdef…`).
#[derive(Debug, Clone)]
pub(crate) struct Objects {
    dir: PathBuf,
}

/// Lower-case hex SHA-256.
pub(crate) fn hash(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn valid(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl Objects {
    pub(crate) fn new(dir: PathBuf) -> Objects {
        Objects { dir }
    }

    pub(crate) fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2.min(hash.len())]).join(hash)
    }

    /// Stores `bytes` unless a chunk with the same content is there. Returns its hash and
    /// whether it was new. The file appears whole or not at all (written aside, then renamed).
    pub(crate) fn put(&self, bytes: &[u8]) -> Result<(String, bool), StoreError> {
        let h = hash(bytes);
        let path = self.path(&h);
        if path.exists() {
            return Ok((h, false));
        }
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let tmp = dir.join(format!(".tmp-{}-{h}", std::process::id()));
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok((h, true))
    }

    /// Reads a chunk and checks it against its name: a flipped byte is an error naming the file.
    pub(crate) fn get(&self, hash: &str) -> Result<Vec<u8>, StoreError> {
        if !valid(hash) {
            return Err(StoreError::Damaged {
                path: self.dir.clone(),
                message: format!("{hash:?} is not a chunk name"),
            });
        }
        let path = self.path(hash);
        let bytes = fs::read(&path).map_err(io(&path))?;
        if self::hash(&bytes) != hash {
            return Err(StoreError::Damaged {
                path,
                message: "its content does not match its checksum (changed or truncated)".into(),
            });
        }
        Ok(bytes)
    }

    /// Every chunk's hash and size.
    pub(crate) fn list(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut out = Vec::new();
        let Ok(dirs) = fs::read_dir(&self.dir) else {
            return Ok(out);
        };
        for d in dirs.flatten().filter(|d| d.path().is_dir()) {
            for f in fs::read_dir(d.path()).map_err(io(&d.path()))?.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if valid(&name) {
                    out.push((name, f.metadata().map_or(0, |m| m.len())));
                }
            }
        }
        Ok(out)
    }

    /// Removes a chunk (pruning).
    pub(crate) fn remove(&self, hash: &str) -> Result<(), StoreError> {
        let path = self.path(hash);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Removes what crashed writes left (files written aside, never renamed); returns how many.
    pub(crate) fn remove_leftovers(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        let Ok(dirs) = fs::read_dir(&self.dir) else {
            return Ok(0);
        };
        for d in dirs.flatten() {
            if is_leftover(&d.path()) && d.path().is_file() {
                fs::remove_file(d.path()).map_err(io(&d.path()))?;
                n += 1;
                continue;
            }
            if !d.path().is_dir() {
                continue;
            }
            for f in fs::read_dir(d.path()).map_err(io(&d.path()))?.flatten() {
                if is_leftover(&f.path()) {
                    fs::remove_file(f.path()).map_err(io(&f.path()))?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// Bytes of all chunks.
    pub(crate) fn size(&self) -> Result<u64, StoreError> {
        Ok(self.list()?.iter().map(|(_, n)| n).sum())
    }
}

/// Whether `path` is inside the objects directory's temporary files (left by a crash).
pub(crate) fn is_leftover(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
}
