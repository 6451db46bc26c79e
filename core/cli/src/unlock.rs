//! The master password and the unlocked store, found once per process.
//!
//! Everything bexio-bi writes about a company (tables, manifests, the local mirror of bexio,
//! the audit trail, backups, tokens) is encrypted with the store's data key, which the master
//! password unlocks. The password comes from, in this order:
//!
//! 1. `BEXIO_BI_PASSWORD` (or a file named by `BEXIO_BI_PASSWORD_FILE`, e.g. a container secret);
//! 2. the operating system's keyring, after `bexio-bi store remember` (macOS Keychain, Windows
//!    Credential Manager, the Linux kernel keyring);
//! 3. a prompt, when a terminal is attached (asked twice when the store is new).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use bexio_bi_store::crypt::Keyring;
use bexio_bi_store::{Store, StoreError};

/// Where a password came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `BEXIO_BI_PASSWORD`.
    Env,
    /// The file named by `BEXIO_BI_PASSWORD_FILE`.
    File,
    /// The operating system's keyring.
    OsKeyring,
    /// Typed at the prompt.
    Prompt,
}

impl Source {
    /// How users name it.
    pub fn label(self) -> &'static str {
        match self {
            Source::Env => "BEXIO_BI_PASSWORD",
            Source::File => "BEXIO_BI_PASSWORD_FILE",
            Source::OsKeyring => "the OS keyring",
            Source::Prompt => "the prompt",
        }
    }
}

/// The store's directory in a data directory.
pub fn store_dir(home: &Path) -> PathBuf {
    home.join("data")
}

static STORE: OnceLock<Store> = OnceLock::new();

/// The store of `BEXIO_BI_HOME`, unlocked (created on first use, with a new password).
pub fn store() -> anyhow::Result<Store> {
    if let Some(s) = STORE.get() {
        return Ok(s.clone());
    }
    let home = crate::home::data_dir()?;
    let store = open(&store_dir(&home))?;
    if let Some(keys) = store.keyring() {
        crate::config::Secrets::seal_if_clear(&home, Arc::clone(keys))?;
    }
    Ok(STORE.get_or_init(|| store).clone())
}

/// The store of `BEXIO_BI_HOME` for commands that read: when there is none yet, a usage error
/// says what to run (nothing is created).
pub fn existing() -> anyhow::Result<Store> {
    let root = store_dir(&crate::home::data_dir()?);
    if STORE.get().is_none() && !Store::is_encrypted_at(&root) {
        return Err(crate::cmd::UsageError(format!(
            "nothing is stored in {} yet: run `bexio-bi sync` first (or `bexio-bi backup restore` to bring a backup back)",
            root.display()
        ))
        .into());
    }
    store()
}

/// The data key of the store of `BEXIO_BI_HOME` (it also seals `secrets.toml`).
pub fn keyring() -> anyhow::Result<Arc<Keyring>> {
    store()?
        .keyring()
        .cloned()
        .context("the store is not encrypted")
}

/// Opens the encrypted store at `root` with the password from the first source that has one.
pub fn open(root: &Path) -> anyhow::Result<Store> {
    let new = !Store::is_encrypted_at(root);
    let (password, source) = password(root, new)?;
    match Store::open_encrypted(root, &password) {
        Ok(store) => {
            if new {
                tracing::info!(store = %root.display(), "created an encrypted store");
            }
            Ok(store)
        }
        Err(StoreError::WrongPassword(path)) => Err(anyhow::anyhow!(
            "the password from {} does not open {}: give the store's master password (a lost password cannot be recovered; restore a backup made under a password you know)",
            source.label(),
            path.display()
        )),
        Err(e) => Err(e.into()),
    }
}

/// The password for the store at `root`; `new`: the store is being created.
pub fn password(root: &Path, new: bool) -> anyhow::Result<(String, Source)> {
    if let Some(p) = std::env::var("BEXIO_BI_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return Ok((p, Source::Env));
    }
    if let Some(file) = std::env::var_os("BEXIO_BI_PASSWORD_FILE").filter(|f| !f.is_empty()) {
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "cannot read BEXIO_BI_PASSWORD_FILE ({})",
                Path::new(&file).display()
            )
        })?;
        let p = text.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(
            !p.is_empty(),
            "BEXIO_BI_PASSWORD_FILE ({}) is empty",
            Path::new(&file).display()
        );
        return Ok((p, Source::File));
    }
    if !new && let Some(p) = remembered(root) {
        return Ok((p, Source::OsKeyring));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        return prompt(root, new).map(|p| (p, Source::Prompt));
    }
    if new {
        anyhow::bail!(
            "a new store at {} needs a master password to encrypt it: set BEXIO_BI_PASSWORD (or BEXIO_BI_PASSWORD_FILE), or run in a terminal to be asked",
            root.display()
        )
    }
    anyhow::bail!(
        "the store at {} is encrypted and no password was given: set BEXIO_BI_PASSWORD (or BEXIO_BI_PASSWORD_FILE), run `bexio-bi store remember` once in a terminal, or run in a terminal to be asked",
        root.display()
    )
}

/// Asks on the terminal; twice for a new password.
pub fn prompt(root: &Path, new: bool) -> anyhow::Result<String> {
    if !new {
        let p = rpassword::prompt_password(format!("Password for {}: ", root.display()))
            .context("cannot read the password from the terminal")?;
        anyhow::ensure!(!p.is_empty(), "no password given");
        return Ok(p);
    }
    eprintln!(
        "Choose a master password for {}. It encrypts your data; without it the data cannot be read.",
        root.display()
    );
    for _ in 0..3 {
        let p = rpassword::prompt_password("New password: ")
            .context("cannot read the password from the terminal")?;
        if p.chars().count() < 8 {
            eprintln!("Use at least 8 characters.");
            continue;
        }
        let again = rpassword::prompt_password("Repeat it: ")
            .context("cannot read the password from the terminal")?;
        if p == again {
            return Ok(p);
        }
        eprintln!("The two did not match.");
    }
    anyhow::bail!("no password chosen")
}

/// The OS keyring entry of the store at `root` (one per data directory).
fn entry(root: &Path) -> keyring::Result<keyring::Entry> {
    let id = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    keyring::Entry::new("bexio-bi", &id.to_string_lossy())
}

/// The password kept in the OS keyring for the store at `root`, if any.
pub fn remembered(root: &Path) -> Option<String> {
    match entry(root).and_then(|e| e.get_password()) {
        Ok(p) if !p.is_empty() => Some(p),
        Ok(_) | Err(keyring::Error::NoEntry) => None,
        Err(e) => {
            tracing::debug!("no OS keyring: {e}");
            None
        }
    }
}

/// Keeps the password of the store at `root` in the OS keyring.
pub fn remember(root: &Path, password: &str) -> anyhow::Result<()> {
    entry(root)
        .and_then(|e| e.set_password(password))
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot keep the password in the OS keyring ({e}); use BEXIO_BI_PASSWORD or BEXIO_BI_PASSWORD_FILE instead"
            )
        })
}

/// Removes the password of the store at `root` from the OS keyring; whether there was one.
pub fn forget(root: &Path) -> anyhow::Result<bool> {
    match entry(root).and_then(|e| e.delete_credential()) {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(anyhow::anyhow!(
            "cannot remove the password from the OS keyring: {e}"
        )),
    }
}
