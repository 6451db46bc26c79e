//! Keys for encryption at rest: a random data key, wrapped by a key derived with Argon2id from the
//! master password, and sealing with XChaCha20-Poly1305.
//!
//! The key file (`key.json`) holds the Argon2id parameters, the salt and the wrapped data key;
//! never the password or the data key in clear. Changing the password re-wraps the data key
//! (nothing else is re-encrypted). Sealed bytes are `nonce (24) ‖ ciphertext ‖ tag (16)`, bound to
//! what they are (`aad`: a chunk's name, a manifest's id…) so that a file moved elsewhere fails to
//! open. Content-addressed names come from a keyed hash (HMAC-SHA256 under a key derived from the
//! data key), so equal data still deduplicates and no name reveals a hash of client data.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{StoreError, io};

/// Argon2id costs: memory in KiB, passes, lanes (OWASP's recommendation for Argon2id).
const M_KIB: u32 = 19_456;
const T: u32 = 2;
const P: u32 = 1;
const WRAP_AAD: &[u8] = b"bexio-bi data key v1";
/// How every encrypted file of a store begins.
pub const MAGIC: &[u8; 8] = b"bxbi\x00enc";

/// Whether `bytes` are an encrypted file of a store.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFile {
    format: u32,
    kdf: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
    wrapped_key: String,
}

/// The unlocked data key.
pub struct Keyring {
    cipher: XChaCha20Poly1305,
    names: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b
}

fn derive(password: &str, salt: &[u8], kf: (u32, u32, u32)) -> Result<[u8; 32], String> {
    let params = argon2::Params::new(kf.0, kf.1, kf.2, Some(32)).map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn damaged(path: &Path, message: impl Into<String>) -> StoreError {
    StoreError::Damaged {
        path: path.to_owned(),
        message: message.into(),
    }
}

impl Keyring {
    fn from_key(key: &[u8; 32]) -> Keyring {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        mac.update(b"bexio-bi chunk names");
        let names: [u8; 32] = mac.finalize().into_bytes().into();
        Keyring {
            cipher: XChaCha20Poly1305::new(key.into()),
            names,
        }
    }

    /// Creates the key file at `path` with a new random data key, wrapped by `password`.
    pub fn create(path: &Path, password: &str) -> Result<Keyring, StoreError> {
        if password.is_empty() {
            return Err(StoreError::Password("the password is empty".into()));
        }
        let key: [u8; 32] = random();
        write_key_file(path, &key, password)?;
        Ok(Keyring::from_key(&key))
    }

    /// Unlocks the key file at `path` with `password`.
    pub fn unlock(path: &Path, password: &str) -> Result<Keyring, StoreError> {
        Ok(Keyring::from_key(&unwrap(path, password)?))
    }

    /// Re-wraps the data key under a new password (the data stays as it is).
    pub fn rekey(path: &Path, old: &str, new: &str) -> Result<(), StoreError> {
        if new.is_empty() {
            return Err(StoreError::Password("the new password is empty".into()));
        }
        let key = unwrap(path, old)?;
        write_key_file(path, &key, new)
    }

    /// Seals `plain`, bound to `aad`.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce: [u8; 24] = random();
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("XChaCha20-Poly1305 encrypts any length");
        let mut out = Vec::with_capacity(24 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what [`Keyring::seal`] sealed with the same `aad`; `None` if it was changed,
    /// truncated, sealed under another key or for something else.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 24 + 16 {
            return None;
        }
        let (nonce, ct) = sealed.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .ok()
    }

    /// Seals `plain` as a file: a magic prefix (so that an encrypted file is recognised as
    /// such), then [`Keyring::seal`].
    pub fn seal_file(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.seal(plain, aad));
        out
    }

    /// Opens what [`Keyring::seal_file`] sealed; an error naming `path` says why it cannot be.
    pub fn open_file(&self, bytes: &[u8], aad: &[u8], path: &Path) -> Result<Vec<u8>, StoreError> {
        let Some(sealed) = bytes.strip_prefix(MAGIC) else {
            return Err(damaged(
                path,
                "it is not encrypted, but this store encrypts everything (written by someone else?)",
            ));
        };
        self.open(sealed, aad).ok_or_else(|| {
            damaged(
                path,
                "it cannot be decrypted: changed, truncated, or not from this store",
            )
        })
    }

    /// The content-addressed name of `plain`: a keyed hash, lower-case hex.
    pub fn name(&self, plain: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.names).expect("any key length");
        mac.update(plain);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn write_key_file(path: &Path, key: &[u8; 32], password: &str) -> Result<(), StoreError> {
    let salt: [u8; 16] = random();
    let kek = derive(password, &salt, (M_KIB, T, P)).map_err(StoreError::Password)?;
    let wrapper = XChaCha20Poly1305::new((&kek).into());
    let nonce: [u8; 24] = random();
    let wrapped = wrapper
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key,
                aad: WRAP_AAD,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any length");
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&wrapped);
    let kf = KeyFile {
        format: 1,
        kdf: "argon2id".into(),
        m_kib: M_KIB,
        t: T,
        p: P,
        salt: B64.encode(salt),
        wrapped_key: B64.encode(blob),
    };
    let bytes = serde_json::to_vec_pretty(&kf).map_err(|e| damaged(path, e.to_string()))?;
    crate::replace(path, &bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    Ok(())
}

fn unwrap(path: &Path, password: &str) -> Result<[u8; 32], StoreError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let kf: KeyFile = serde_json::from_slice(&bytes)
        .map_err(|e| damaged(path, format!("not a key file: {e}")))?;
    if kf.format != 1 || kf.kdf != "argon2id" {
        return Err(damaged(
            path,
            format!("unknown key file format {} ({})", kf.format, kf.kdf),
        ));
    }
    let salt = B64
        .decode(&kf.salt)
        .map_err(|e| damaged(path, format!("salt: {e}")))?;
    let blob = B64
        .decode(&kf.wrapped_key)
        .map_err(|e| damaged(path, format!("wrapped key: {e}")))?;
    if blob.len() < 24 + 32 + 16 {
        return Err(damaged(path, "the wrapped key is cut short"));
    }
    let kek = derive(password, &salt, (kf.m_kib, kf.t, kf.p)).map_err(StoreError::Password)?;
    let (nonce, ct) = blob.split_at(24);
    let key = XChaCha20Poly1305::new((&kek).into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: WRAP_AAD,
            },
        )
        .map_err(|_| StoreError::WrongPassword(path.to_owned()))?;
    key.try_into()
        .map_err(|_| damaged(path, "the data key has the wrong length"))
}

/// Where the key file of a store lives.
pub fn key_path(root: &Path) -> PathBuf {
    root.join("key.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "bexio-bi-crypt-{}-{}",
            std::process::id(),
            crate::now().as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        dir.join("key.json")
    }

    #[test]
    fn a_key_file_opens_only_with_its_password_and_survives_a_rekey() {
        let path = temp();
        let k = Keyring::create(&path, "correct horse").expect("create");
        let sealed = k.seal(
            b"Meier Informatik AG, CH93 0076 2011 6238 5295 7",
            b"chunk:1",
        );
        let text = std::fs::read_to_string(&path).expect("key file");
        assert!(
            text.contains("argon2id") && text.contains("19456"),
            "{text}"
        );
        assert!(matches!(
            Keyring::unlock(&path, "wrong"),
            Err(StoreError::WrongPassword(_))
        ));
        let again = Keyring::unlock(&path, "correct horse").expect("unlock");
        assert_eq!(
            again.open(&sealed, b"chunk:1").as_deref(),
            Some(&b"Meier Informatik AG, CH93 0076 2011 6238 5295 7"[..])
        );
        assert_eq!(again.name(b"x"), k.name(b"x"), "names are stable");
        Keyring::rekey(&path, "correct horse", "battery staple").expect("rekey");
        assert!(Keyring::unlock(&path, "correct horse").is_err());
        let after = Keyring::unlock(&path, "battery staple").expect("unlock");
        assert!(
            after.open(&sealed, b"chunk:1").is_some(),
            "the data key is the same"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn sealed_bytes_fail_to_open_when_changed_moved_or_cut() {
        let k = Keyring::create(&temp(), "pw").expect("create");
        let sealed = k.seal(b"client data", b"a");
        assert!(
            !sealed.windows(6).any(|w| w == b"client"),
            "nothing in clear"
        );
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(k.open(&flipped, b"a").is_none());
        assert!(k.open(&sealed, b"b").is_none(), "bound to what it is");
        assert!(k.open(&sealed[..sealed.len() - 1], b"a").is_none());
        assert!(k.open(&sealed[..10], b"a").is_none());
        let other = Keyring::create(&temp(), "pw").expect("create");
        assert!(other.open(&sealed, b"a").is_none());
        assert_ne!(other.name(b"x"), k.name(b"x"), "names depend on the key");
    }

    #[test]
    fn a_damaged_key_file_is_named() {
        let path = temp();
        Keyring::create(&path, "pw").expect("create");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, &text[..text.len() / 2]).expect("cut");
        match Keyring::unlock(&path, "pw") {
            Err(StoreError::Damaged { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected Damaged, got {other:?}"),
        }
    }
}
