//! Content-addressed chunks, written once: in a store without a key, a file named by the SHA-256
//! of its bytes; in an encrypted store, the sealed bytes named by a keyed hash of the plain ones
//! (so equal data still deduplicates, and no name is a hash anyone can check a guess against).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::crypt::Keyring;
use crate::{StoreError, io};

/// The chunk directory of a store (`objects/ab/abcdef…`).
#[derive(Debug, Clone)]
pub(crate) struct Objects {
    dir: PathBuf,
    keyring: Option<Arc<Keyring>>,
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
    pub(crate) fn new(dir: PathBuf, keyring: Option<Arc<Keyring>>) -> Objects {
        Objects { dir, keyring }
    }

    fn aad(name: &str) -> Vec<u8> {
        format!("chunk:{name}").into_bytes()
    }

    pub(crate) fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2.min(hash.len())]).join(hash)
    }

    /// Stores `plain` unless a chunk with the same content is there. Returns its name, whether
    /// it was new, and its size on disk. The file appears whole or not at all (written aside,
    /// then renamed).
    pub(crate) fn put(&self, plain: &[u8]) -> Result<(String, bool, u64), StoreError> {
        let (name, sealed) = match &self.keyring {
            None => (hash(plain), None),
            Some(k) => {
                let name = k.name(plain);
                let path = self.path(&name);
                if path.exists() {
                    let size = fs::metadata(&path).map_or(0, |m| m.len());
                    return Ok((name, false, size));
                }
                let sealed = k.seal_file(plain, &Self::aad(&name));
                (name, Some(sealed))
            }
        };
        let bytes = sealed.as_deref().unwrap_or(plain);
        let new = self.put_raw(&name, bytes)?;
        Ok((name, new, bytes.len() as u64))
    }

    /// Stores a chunk's bytes as they lie on disk (sealed, in an encrypted store) under `name`,
    /// unless it is there; callers check them first ([`Objects::check`]).
    pub(crate) fn put_raw(&self, name: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        let path = self.path(name);
        if path.exists() {
            return Ok(false);
        }
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()));
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(true)
    }

    /// Checks a chunk's bytes as they lie on disk against its name; returns the plain bytes.
    pub(crate) fn check(
        &self,
        name: &str,
        bytes: Vec<u8>,
        path: &Path,
    ) -> Result<Vec<u8>, StoreError> {
        match &self.keyring {
            None if self::hash(&bytes) == name => Ok(bytes),
            None => Err(StoreError::Damaged {
                path: path.to_owned(),
                message: "its content does not match its checksum (changed or truncated)".into(),
            }),
            Some(k) => k.open_file(&bytes, &Self::aad(name), path),
        }
    }

    /// Reads a chunk and checks it against its name (decrypting it in an encrypted store): a
    /// flipped byte is an error naming the file.
    pub(crate) fn get(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(name);
        let bytes = self.get_raw(name)?;
        self.check(name, bytes, &path)
    }

    /// A chunk's bytes as they lie on disk (for backups: they stay sealed).
    pub(crate) fn get_raw(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        if !valid(name) {
            return Err(StoreError::Damaged {
                path: self.dir.clone(),
                message: format!("{name:?} is not a chunk name"),
            });
        }
        let path = self.path(name);
        fs::read(&path).map_err(io(&path))
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
