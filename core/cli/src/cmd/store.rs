//! `bexio-bi store`: the encrypted store's password (status, rekey, remember, forget).

use clap::{Args as ClapArgs, Subcommand};
use serde::Serialize;

use crate::unlock::{self, Source};

/// Store commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Where the store is, how it is encrypted, and where its password would come from.
    Status(StatusArgs),
    /// Changes the master password. Only the key file changes (the data key it wraps stays),
    /// so no data is re-encrypted, however much there is.
    #[command(
        after_help = "The current password comes from BEXIO_BI_PASSWORD, the OS keyring or a prompt; the new one from BEXIO_BI_NEW_PASSWORD or a prompt (asked twice).\n\nExamples:\n  bexio-bi store rekey\n  BEXIO_BI_PASSWORD=old BEXIO_BI_NEW_PASSWORD=new bexio-bi store rekey\n\nThe next backup carries the new key file; backups made before keep opening with the old password until then."
    )]
    Rekey,
    /// Keeps the master password in the OS keyring (macOS Keychain, Windows Credential
    /// Manager, the Linux kernel keyring), so that commands stop asking for it.
    Remember,
    /// Removes the master password from the OS keyring.
    Forget,
    /// Reads and checks everything stored: every chunk of every version against its checksum,
    /// every manifest, each company's local mirror, the audit trail's chain and the secrets.
    /// The first file that is damaged, changed or cut short is named.
    Verify(VerifyArgs),
}

/// Options of `store verify`.
#[derive(Debug, ClapArgs)]
pub struct VerifyArgs {
    /// Only this company (default: all).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Default, Serialize)]
struct Verified {
    companies: Vec<CompanyVerified>,
    audit_entries: u64,
    secrets: usize,
}

#[derive(Debug, Serialize)]
struct CompanyVerified {
    tenant: String,
    versions: usize,
    chunks: usize,
    mirror_records: u64,
}

/// Options of `store status`.
#[derive(Debug, ClapArgs)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Status {
    store: String,
    encrypted: bool,
    cipher: Option<&'static str>,
    kdf: Option<serde_json::Value>,
    password_env: bool,
    password_remembered: bool,
    bytes: u64,
}

/// Runs a store command.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    let root = unlock::store_dir(&crate::home::data_dir()?);
    match cmd {
        Command::Status(args) => {
            let encrypted = bexio_bi_store::Store::is_encrypted_at(&root);
            let kdf = std::fs::read(bexio_bi_store::crypt::key_path(&root))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .map(|k| {
                    serde_json::json!({
                        "algorithm": k["kdf"], "memory_kib": k["m_kib"],
                        "passes": k["t"], "lanes": k["p"],
                    })
                });
            let status = Status {
                store: root.display().to_string(),
                encrypted,
                cipher: encrypted.then_some("XChaCha20-Poly1305"),
                kdf,
                password_env: std::env::var_os("BEXIO_BI_PASSWORD").is_some_and(|p| !p.is_empty())
                    || std::env::var_os("BEXIO_BI_PASSWORD_FILE").is_some_and(|p| !p.is_empty()),
                password_remembered: encrypted && unlock::remembered(&root).is_some(),
                bytes: dir_size(&root),
            };
            if args.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
                return Ok(());
            }
            println!("store      {}", status.store);
            if !status.encrypted {
                println!(
                    "encrypted  not yet: the first command that writes creates the key (asks for a password)"
                );
            } else if let Some(k) = &status.kdf {
                println!(
                    "encrypted  XChaCha20-Poly1305, key wrapped with {} ({} KiB, {} passes, {} lanes)",
                    k["algorithm"].as_str().unwrap_or("?"),
                    k["memory_kib"],
                    k["passes"],
                    k["lanes"]
                );
            }
            println!(
                "password   {}",
                match (status.password_env, status.password_remembered) {
                    (true, _) => "from BEXIO_BI_PASSWORD / BEXIO_BI_PASSWORD_FILE",
                    (false, true) => "remembered in the OS keyring",
                    (false, false) =>
                        "asked for at the terminal (none in the environment or the OS keyring)",
                }
            );
            println!("size       {} kB", status.bytes / 1024);
            Ok(())
        }
        Command::Rekey => {
            anyhow::ensure!(
                bexio_bi_store::Store::is_encrypted_at(&root),
                "the store at {} has no key yet: there is no password to change",
                root.display()
            );
            // Unlock with the current password first: the audit entry is written with the data
            // key, which the new password keeps.
            let store = unlock::store()?;
            let (old, _) = unlock::password(&root, false)?;
            let new = match std::env::var("BEXIO_BI_NEW_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => unlock::prompt(&root, true)?,
            };
            let result = bexio_bi_store::Store::rekey(&root, &old, &new);
            super::audit::record(
                "store.rekey",
                None,
                None,
                serde_json::Value::Null,
                result.as_ref().map(|_| ()).map_err(ToString::to_string),
            )?;
            result?;
            drop(store);
            let remembered = unlock::remembered(&root).is_some();
            if remembered {
                unlock::remember(&root, &new)?;
            }
            println!(
                "Changed the master password of {}{}.",
                root.display(),
                if remembered {
                    " (and the one in the OS keyring)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Remember => {
            anyhow::ensure!(
                bexio_bi_store::Store::is_encrypted_at(&root),
                "there is no store at {} yet: sync (or restore a backup) first, then remember its password",
                root.display()
            );
            let (password, source) = unlock::password(&root, false)?;
            // Only a password that opens the store is kept.
            bexio_bi_store::Store::open_encrypted(&root, &password)?;
            if source == Source::OsKeyring {
                println!(
                    "The OS keyring already holds the password of {}.",
                    root.display()
                );
                return Ok(());
            }
            unlock::remember(&root, &password)?;
            println!(
                "Kept the password of {} in the OS keyring; `bexio-bi store forget` removes it.",
                root.display()
            );
            Ok(())
        }
        Command::Verify(args) => {
            let home = crate::home::data_dir()?;
            let store = unlock::existing()?;
            let mut out = Verified::default();
            for tenant in super::tables::tenants(&store, args.tenant.as_ref())? {
                let (versions, chunks) = store.verify(&tenant)?;
                let mirror_records = if bexio_bi_sync::mirror_path(&store, &tenant).exists() {
                    bexio_bi_sync::open_mirror(&store, &tenant)?.verify()?
                } else {
                    0
                };
                out.companies.push(CompanyVerified {
                    tenant,
                    versions,
                    chunks,
                    mirror_records,
                });
            }
            let log = store.audit();
            out.audit_entries = match log.verify()? {
                Ok(n) => n,
                Err(breaks) => anyhow::bail!(
                    "{}:{}: {} ({} place(s) in all; `bexio-bi audit verify` lists them)",
                    log.path().display(),
                    breaks[0].line,
                    breaks[0].problem,
                    breaks.len()
                ),
            };
            let keys = unlock::keyring()?;
            out.secrets = crate::config::Secrets::load(&home, &keys)?.tokens.len();
            if args.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
            }
            for c in &out.companies {
                println!(
                    "{}: {} versions, {} chunks, {} mirrored records: all intact",
                    c.tenant, c.versions, c.chunks, c.mirror_records
                );
            }
            println!(
                "audit trail: {} entries, the chain is intact; secrets: {} credentials readable",
                out.audit_entries, out.secrets
            );
            Ok(())
        }
        Command::Forget => {
            if unlock::forget(&root)? {
                println!(
                    "Removed the password of {} from the OS keyring.",
                    root.display()
                );
            } else {
                println!("The OS keyring held no password of {}.", root.display());
            }
            Ok(())
        }
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
