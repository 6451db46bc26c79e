//! The audit trail: every action, appended to a log where each entry is chained by hash to the
//! one before, so that an edited, removed or reordered entry is found by [`AuditLog::verify`].
//!
//! One JSON object per line in `audit.log`: sequence number, time, actor (OS user, API key,
//! scheduler), action, company, resource, counts, remote address, outcome, the previous entry's
//! hash and this entry's hash (SHA-256 over the previous hash and the entry without its hash).
//! In an encrypted store each line is that object sealed with the store's key, in base64: an
//! entry still appends as one line, and one that was edited no longer opens.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::crypt::Keyring;
use crate::{StoreError, io, objects};

const LINE_AAD: &[u8] = b"bexio-bi audit entry";

/// What is recorded of one action.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Action {
    /// Who: `user:<os user>`, `api-key:<name>`, `scheduler`.
    pub actor: String,
    /// What: `sync`, `versions.tag`, `versions.rollback`, `auth.token`, `export`…
    pub action: String,
    /// The company, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// What it acted on (a version, a tag, a table…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Counts (rows, requests, changes…).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub counts: serde_json::Value,
    /// The client's address, for actions that came over the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// `ok`, or what went wrong.
    pub outcome: String,
}

/// An entry of the log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// 1, 2, 3…
    pub seq: u64,
    /// When (RFC 3339, UTC).
    pub time: String,
    /// What happened.
    #[serde(flatten)]
    pub action: Action,
    /// The previous entry's hash (64 zeros for the first).
    pub prev: String,
    /// SHA-256 over `prev` and this entry without `hash`.
    pub hash: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn digest(seq: u64, time: &str, action: &Action, prev: &str) -> String {
    // The entry as it is written, minus its hash: stable because serde keeps field order.
    let body = serde_json::json!({"seq": seq, "time": time, "action": action, "prev": prev});
    objects::hash(format!("{prev}\n{body}").as_bytes())
}

/// The OS user running this process, as an actor.
pub fn os_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("user:{user}")
}

/// Where an audit log failed verification.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Break {
    /// Line of the file (1-based).
    pub line: u64,
    /// What is wrong there.
    pub problem: String,
}

/// The audit log of a store.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    keyring: Option<Arc<Keyring>>,
}

impl AuditLog {
    /// The log at `path`, in clear (created on the first append).
    pub fn at(path: impl AsRef<Path>) -> AuditLog {
        AuditLog::new(path, None)
    }

    /// The log at `path`, its lines sealed with `keyring` when there is one.
    pub fn new(path: impl AsRef<Path>, keyring: Option<Arc<Keyring>>) -> AuditLog {
        AuditLog {
            path: path.as_ref().to_path_buf(),
            keyring,
        }
    }

    /// One line as written: the entry's JSON, or that sealed and in base64.
    fn encode(&self, json: &[u8]) -> Vec<u8> {
        match &self.keyring {
            None => json.to_vec(),
            Some(k) => B64.encode(k.seal(json, LINE_AAD)).into_bytes(),
        }
    }

    /// The entry's JSON of a line, or why it cannot be read.
    fn decode(&self, line: &str) -> Result<String, String> {
        let line = line.trim();
        match &self.keyring {
            None if line.starts_with('{') => Ok(line.to_owned()),
            None => Err("it is encrypted; give the store's password".into()),
            Some(_) if line.starts_with('{') => {
                Err("it is in clear, but this store's entries are encrypted (inserted?)".into())
            }
            Some(k) => B64
                .decode(line)
                .ok()
                .and_then(|b| k.open(&b, LINE_AAD))
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| "it cannot be decrypted (edited or cut)".to_owned()),
        }
    }

    fn parse(&self, line: &str) -> Result<Entry, String> {
        let json = self.decode(line)?;
        serde_json::from_str(&json).map_err(|e| format!("not an entry ({e})"))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an entry, chained to the last one; writers are serialized by a file lock.
    pub fn append(&self, action: Action) -> Result<Entry, StoreError> {
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        f.lock().map_err(io(&self.path))?;
        let (seq, prev) = match last_line(&mut f).map_err(io(&self.path))? {
            None => (1, GENESIS.to_owned()),
            Some(line) => {
                let e: Entry = self.parse(&line).map_err(|e| StoreError::Damaged {
                    path: self.path.clone(),
                    message: format!(
                        "its last entry cannot be read ({e}); run `bexio-bi audit verify`"
                    ),
                })?;
                (e.seq + 1, e.hash)
            }
        };
        let time = chrono_now();
        let hash = digest(seq, &time, &action, &prev);
        let entry = Entry {
            seq,
            time,
            action,
            prev,
            hash,
        };
        let json = serde_json::to_vec(&entry).map_err(|e| StoreError::Damaged {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let mut line = self.encode(&json);
        line.push(b'\n');
        f.write_all(&line).map_err(io(&self.path))?;
        f.sync_all().map_err(io(&self.path))?;
        Ok(entry)
    }

    /// Every entry, oldest first (unverified; see [`AuditLog::verify`]).
    pub fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut out = Vec::new();
        for (n, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(io(&self.path))?;
            if line.trim().is_empty() {
                continue;
            }
            out.push(self.parse(&line).map_err(|e| StoreError::Damaged {
                path: self.path.clone(),
                message: format!("line {}: {e}", n + 1),
            })?);
        }
        Ok(out)
    }

    /// Checks the chain: every entry's hash, its link to the one before, and the sequence.
    /// Returns the entries checked, or every place where the log was edited, cut or reordered.
    pub fn verify(&self) -> Result<Result<u64, Vec<Break>>, StoreError> {
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(0)),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut breaks = Vec::new();
        let (mut prev, mut seq, mut n) = (GENESIS.to_owned(), 0u64, 0u64);
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(io(&self.path))?;
            let at = i as u64 + 1;
            let e: Entry = match self.parse(&line) {
                Ok(e) => e,
                Err(problem) => {
                    breaks.push(Break { line: at, problem });
                    continue;
                }
            };
            n += 1;
            if digest(e.seq, &e.time, &e.action, &e.prev) != e.hash {
                breaks.push(Break {
                    line: at,
                    problem: format!("entry {} was edited (its hash does not match)", e.seq),
                });
            }
            if e.prev != prev {
                breaks.push(Break {
                    line: at,
                    problem: format!(
                        "entry {} does not follow entry {seq}: one was removed, inserted or moved",
                        e.seq
                    ),
                });
            }
            if e.seq != seq + 1 {
                breaks.push(Break {
                    line: at,
                    problem: format!("entry {} comes after entry {seq}", e.seq),
                });
            }
            prev = e.hash;
            seq = e.seq;
        }
        Ok(if breaks.is_empty() {
            Ok(n)
        } else {
            Err(breaks)
        })
    }
}

/// The last non-empty line of a file, read from its end.
fn last_line(f: &mut File) -> std::io::Result<Option<String>> {
    let len = f.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    let mut back = 4096u64.min(len);
    loop {
        f.seek(SeekFrom::Start(len - back))?;
        let mut buf = Vec::with_capacity(back as usize);
        Read::by_ref(f).take(back).read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let trimmed = text.trim_end();
        if let Some(i) = trimmed.rfind('\n') {
            return Ok(Some(trimmed[i + 1..].to_owned()));
        }
        if back == len {
            return Ok(Some(trimmed.to_owned()).filter(|s| !s.is_empty()));
        }
        back = (back * 2).min(len);
    }
}

fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> AuditLog {
        let dir = std::env::temp_dir().join(format!(
            "bexio-bi-audit-{}-{}",
            std::process::id(),
            crate::now().as_nanos()
        ));
        AuditLog::at(dir.join("audit.log"))
    }

    fn act(n: u64) -> Action {
        Action {
            actor: "user:test".into(),
            action: "sync".into(),
            tenant: Some("acme".into()),
            counts: serde_json::json!({"rows": n}),
            outcome: "ok".into(),
            ..Action::default()
        }
    }

    #[test]
    fn entries_chain_and_verify() {
        let l = log();
        assert_eq!(l.verify().expect("verify"), Ok(0));
        for n in 1..=5 {
            let e = l.append(act(n)).expect("append");
            assert_eq!(e.seq, n);
        }
        assert_eq!(l.verify().expect("verify"), Ok(5));
        let entries = l.entries().expect("entries");
        assert_eq!(entries[1].prev, entries[0].hash);
        assert!(entries[0].time.ends_with('Z') && entries[0].time.starts_with("20"));
    }

    #[test]
    fn an_edited_removed_or_reordered_entry_is_found_and_placed() {
        let l = log();
        for n in 1..=5 {
            l.append(act(n)).expect("append");
        }
        let text = fs::read_to_string(l.path()).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        let write = |ls: &[String]| fs::write(l.path(), ls.join("\n") + "\n").expect("write");
        let owned = |ls: &[&str]| ls.iter().map(|s| s.to_string()).collect::<Vec<_>>();

        let mut edited = owned(&lines);
        edited[2] = edited[2].replace("\"rows\":3", "\"rows\":30");
        write(&edited);
        let b = l.verify().expect("verify").expect_err("edited");
        assert_eq!(b[0].line, 3);
        assert!(b[0].problem.contains("edited"), "{b:?}");

        let mut removed = owned(&lines);
        removed.remove(1);
        write(&removed);
        let b = l.verify().expect("verify").expect_err("removed");
        assert_eq!(b[0].line, 2);
        assert!(b[0].problem.contains("removed"), "{b:?}");

        let mut swapped = owned(&lines);
        swapped.swap(3, 4);
        write(&swapped);
        let b = l.verify().expect("verify").expect_err("reordered");
        assert_eq!(b[0].line, 4);

        write(&owned(&lines));
        assert_eq!(l.verify().expect("verify"), Ok(5));
        l.append(act(6)).expect("appends continue the chain");
        assert_eq!(l.verify().expect("verify"), Ok(6));
    }
}
