//! Backups: the store's versions copied to a backup target — a directory or S3-compatible
//! storage, through the `object_store` crate — incrementally and deduplicated.
//!
//! A target holds the same content-addressed chunks as the store (`objects/ab/<sha256>`: a
//! backup copies only the chunks the target lacks) and one *backup snapshot* per backup
//! (`snapshots/<id>.json`): every company's manifests, tags and current version, and the audit
//! trail (`audit/<sha256>`). The snapshot is written last, so an interrupted backup leaves no
//! snapshot that refers to missing chunks. A restore fetches what the store lacks, checks every
//! chunk and manifest against its checksum before anything becomes current, and never removes a
//! local version. Retention keeps every backup of the last days, then one a day, a week and a
//! month for as long as configured; chunks no kept snapshot refers to are removed.
//!
//! A backup of an encrypted store stays encrypted: chunks are copied as they lie on disk (sealed),
//! each backup snapshot is sealed, and the key file (the data key wrapped by the master
//! password) goes along, so that a backup restores into an empty directory with the password.
//!
//! The company's mirror of bexio (`mirror.redb`) is not backed up: a full sync rebuilds it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use futures_util::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};

use crate::crypt::Keyring;
use crate::{Manifest, Store, StoreError, manifest_aad, objects};

/// Where backups go.
#[derive(Clone)]
pub struct Target {
    store: Arc<dyn ObjectStore>,
    url: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("url", &self.url).finish()
    }
}

fn remote(url: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backup {
        target: url.to_owned(),
        message: e.to_string(),
    }
}

impl Target {
    /// A local directory (created when missing), or a URL such as `s3://bucket/prefix` (the
    /// usual `AWS_*` environment variables give region, endpoint and credentials).
    pub fn open(location: &str) -> Result<Target, StoreError> {
        let store: Arc<dyn ObjectStore> =
            if location.contains("://") && !location.starts_with("file://") {
                let url = url_of(location)?;
                let env = std::env::vars().map(|(k, v)| (k.to_ascii_lowercase(), v));
                let (store, prefix) =
                    object_store::parse_url_opts(&url, env).map_err(|e| remote(location, e))?;
                Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
            } else {
                let dir = location.strip_prefix("file://").unwrap_or(location);
                std::fs::create_dir_all(dir).map_err(|e| remote(location, e))?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(dir)
                        .map_err(|e| remote(location, e))?,
                )
            };
        Ok(Target {
            store,
            url: location.to_owned(),
        })
    }

    /// Where it is.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.store.get(&ObjectPath::from(path)).await {
            Ok(r) => Ok(Some(
                r.bytes().await.map_err(|e| remote(&self.url, e))?.to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote(&self.url, e)),
        }
    }

    async fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.store
            .put(&ObjectPath::from(path), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| remote(&self.url, e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError> {
        self.store
            .list(Some(&ObjectPath::from(prefix)))
            .map_ok(|m| (m.location.to_string(), m.size))
            .try_collect()
            .await
            .map_err(|e| remote(&self.url, e))
    }

    async fn delete(&self, path: &str) -> Result<(), StoreError> {
        match self.store.delete(&ObjectPath::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote(&self.url, e)),
        }
    }

    /// Every backup in the target, oldest first; an encrypted store's backups open only with
    /// its key.
    async fn snapshots(
        &self,
        keyring: Option<&Keyring>,
    ) -> Result<Vec<BackupSnapshot>, StoreError> {
        let mut out = Vec::new();
        for (path, _) in self.list("snapshots").await? {
            let Some(bytes) = self.get(&path).await? else {
                continue;
            };
            let at: std::path::PathBuf = format!("{}/{path}", self.url).into();
            let id = path
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches(".json");
            let bytes = match keyring {
                Some(k) => k.open_file(&bytes, snapshot_aad(id).as_bytes(), &at)?,
                None if crate::crypt::is_sealed(&bytes) => {
                    return Err(StoreError::Damaged {
                        path: at,
                        message: "this backup is encrypted; restore it with the store's password"
                            .into(),
                    });
                }
                None => bytes,
            };
            let s: BackupSnapshot =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Damaged {
                    path: at,
                    message: e.to_string(),
                })?;
            out.push(s);
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Copies the key file of an encrypted backup into `root` when the store there has none
    /// and no data (restoring into an empty data directory); returns whether it did. The key file is
    /// useless without the master password.
    pub async fn fetch_key(&self, root: &std::path::Path) -> Result<bool, StoreError> {
        let key = crate::crypt::key_path(root);
        if key.exists() || root.exists() && !Store::with_keyring(root, None)?.tenants()?.is_empty()
        {
            return Ok(false);
        }
        match self.get(KEY_FILE).await? {
            None => Ok(false),
            Some(bytes) => {
                std::fs::create_dir_all(root).map_err(crate::io(root))?;
                crate::replace(&key, &bytes)?;
                Ok(true)
            }
        }
    }
}

/// The store's key file, kept in every backup of an encrypted store (wrapped by the password).
const KEY_FILE: &str = "key.json";

fn snapshot_aad(id: &str) -> String {
    format!("backup:{id}")
}

fn url_of(location: &str) -> Result<url::Url, StoreError> {
    url::Url::parse(location).map_err(|e| remote(location, e))
}

fn chunk_path(hash: &str) -> String {
    format!("objects/{}/{hash}", &hash[..2])
}

/// One company in a backup.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TenantState {
    /// The version that was current.
    pub current: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Every version's manifest.
    pub manifests: Vec<Manifest>,
}

/// One backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BackupSnapshot {
    /// Sortable id: the time it was taken (`20261125T205500.123Z`).
    pub id: String,
    /// When (seconds since the epoch).
    pub created_unix: i64,
    /// The companies.
    pub tenants: BTreeMap<String, TenantState>,
    /// SHA-256 of the audit trail as it was (stored under `audit/`).
    pub audit: Option<String>,
    /// Chunks it refers to.
    pub chunks: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// What a backup did.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// The backup snapshot.
    pub id: String,
    /// Chunks it refers to.
    pub chunks: u64,
    /// Chunks copied now (the others were in the target already).
    pub copied: u64,
    /// Bytes copied now.
    pub copied_bytes: u64,
}

/// How many backups to keep.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Retention {
    /// Keep every backup younger than this many days.
    pub within_days: u32,
    /// Then the newest of each of this many days.
    pub daily: u32,
    /// Then of each of this many ISO weeks.
    pub weekly: u32,
    /// Then of each of this many months.
    pub monthly: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            within_days: 30,
            daily: 0,
            weekly: 0,
            monthly: 0,
        }
    }
}

impl Retention {
    /// The ids of `snapshots` (oldest first) to keep at `now`.
    pub fn keep(&self, snapshots: &[BackupSnapshot], now: i64) -> BTreeSet<String> {
        let mut keep = BTreeSet::new();
        let mut days = BTreeSet::new();
        let mut weeks = BTreeSet::new();
        let mut months = BTreeSet::new();
        // Newest first: the newest of each period is the one kept.
        for s in snapshots.iter().rev() {
            let t = DateTime::<Utc>::from_timestamp(s.created_unix, 0).unwrap_or_default();
            if now - s.created_unix < i64::from(self.within_days) * 86_400 {
                keep.insert(s.id.clone());
                continue;
            }
            let day = t.date_naive();
            let week = (t.iso_week().year(), t.iso_week().week());
            let month = (t.year(), t.month());
            if days.len() < self.daily as usize && days.insert(day) {
                keep.insert(s.id.clone());
            }
            if weeks.len() < self.weekly as usize && weeks.insert(week) {
                keep.insert(s.id.clone());
            }
            if months.len() < self.monthly as usize && months.insert(month) {
                keep.insert(s.id.clone());
            }
        }
        // The newest backup is always kept.
        if let Some(last) = snapshots.last() {
            keep.insert(last.id.clone());
        }
        keep
    }
}

impl Store {
    /// Backs every company's versions up to `target`, copying only the chunks it lacks.
    pub async fn backup(&self, target: &Target) -> Result<BackupReport, StoreError> {
        let now = Utc::now();
        let id = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let mut tenants = BTreeMap::new();
        let mut hashes = BTreeMap::new();
        for t in self.tenants()? {
            let manifests = self.versions(&t)?;
            for m in &manifests {
                for c in m.tables.iter().flat_map(|t| &t.chunks) {
                    hashes.insert(c.hash.clone(), c.bytes);
                }
            }
            tenants.insert(
                t.clone(),
                TenantState {
                    current: self.current(&t)?,
                    tags: self.tags(&t)?,
                    manifests,
                },
            );
        }
        let present: BTreeSet<String> = target
            .list("objects")
            .await?
            .into_iter()
            .filter_map(|(p, _)| p.rsplit('/').next().map(str::to_owned))
            .collect();
        let (mut copied, mut copied_bytes) = (0u64, 0u64);
        for hash in hashes.keys() {
            if present.contains(hash) {
                continue;
            }
            // As they lie on disk (sealed in an encrypted store), checked first so that a
            // damaged chunk is not copied.
            let bytes = self.objects.get_raw(hash)?;
            self.objects
                .check(hash, bytes.clone(), &self.objects.path(hash))?;
            copied_bytes += bytes.len() as u64;
            target.put(&chunk_path(hash), bytes).await?;
            copied += 1;
        }
        let audit_path = self.root.join("audit.log");
        let audit = match std::fs::read(&audit_path) {
            Ok(bytes) => {
                let h = objects::hash(&bytes);
                target.put(&format!("audit/{h}"), bytes).await?;
                Some(h)
            }
            Err(_) => None,
        };
        let snapshot = BackupSnapshot {
            id: id.clone(),
            created_unix: now.timestamp(),
            tenants,
            audit,
            chunks: hashes.len() as u64,
            bytes: hashes.values().sum(),
        };
        if self.keyring.is_some() {
            let key = crate::crypt::key_path(&self.root);
            let bytes = std::fs::read(&key).map_err(crate::io(&key))?;
            target.put(KEY_FILE, bytes).await?;
        }
        let bytes = serde_json::to_vec_pretty(&snapshot).map_err(|e| remote(target.url(), e))?;
        let bytes = self.seal_bytes(bytes, &snapshot_aad(&id));
        // Last: a backup is visible only once everything it refers to is there.
        target.put(&format!("snapshots/{id}.json"), bytes).await?;
        Ok(BackupReport {
            id,
            chunks: hashes.len() as u64,
            copied,
            copied_bytes,
        })
    }

    /// Restores the backup `which` (an id, `latest`, or a day `2026-11-25`: the last backup
    /// taken on or before it): fetches every chunk the store lacks, checks everything against
    /// its checksum, then writes manifests and tags and makes each company's backed-up version
    /// current. Local versions are never removed. Returns the snapshot restored.
    pub async fn restore(
        &self,
        target: &Target,
        which: &str,
    ) -> Result<BackupSnapshot, StoreError> {
        let snapshots = self.backups(target).await?;
        let chosen = pick(&snapshots, which).ok_or_else(|| StoreError::Backup {
            target: target.url().to_owned(),
            message: format!(
                "no backup {which:?} (there are {}; try `bexio-bi backup list`)",
                snapshots.len()
            ),
        })?;
        // 1. Chunks, each checked against its name before it is kept.
        for m in chosen.tenants.values().flat_map(|t| &t.manifests) {
            if m.checksum != Manifest::content_checksum(&m.tables) {
                return Err(StoreError::Damaged {
                    path: format!("{}/snapshots/{}.json", target.url(), chosen.id).into(),
                    message: format!(
                        "the manifest of {} {} does not match its checksum",
                        m.tenant, m.id
                    ),
                });
            }
            for c in m.tables.iter().flat_map(|t| &t.chunks) {
                if self.objects.path(&c.hash).exists() && self.objects.get(&c.hash).is_ok() {
                    continue;
                }
                let path = chunk_path(&c.hash);
                let bytes = target
                    .get(&path)
                    .await?
                    .ok_or_else(|| StoreError::Damaged {
                        path: format!("{}/{path}", target.url()).into(),
                        message: "the backup lacks this chunk".into(),
                    })?;
                let at: std::path::PathBuf = format!("{}/{path}", target.url()).into();
                self.objects.check(&c.hash, bytes.clone(), &at)?;
                // A damaged local copy is replaced by the good one.
                self.objects.remove(&c.hash)?;
                self.objects.put_raw(&c.hash, &bytes)?;
            }
        }
        // 2. Manifests, tags, current versions.
        for (tenant, state) in &chosen.tenants {
            let dir = self.tenant_dir(tenant)?;
            std::fs::create_dir_all(dir.join("versions")).map_err(crate::io(&dir))?;
            let _lock = self.begin_lock(tenant)?;
            for m in &state.manifests {
                let path = dir.join("versions").join(format!("{}.json", m.id));
                if !path.exists() {
                    let bytes =
                        serde_json::to_vec_pretty(m).map_err(|e| remote(target.url(), e))?;
                    let bytes = self.seal_bytes(bytes, &manifest_aad(tenant, &m.id));
                    crate::replace(&path, &bytes)?;
                }
            }
            let mut tags = self.tags(tenant)?;
            tags.extend(state.tags.clone());
            let bytes = serde_json::to_vec_pretty(&tags).unwrap_or_default();
            crate::replace(&dir.join("tags.json"), &bytes)?;
            if let Some(current) = &state.current {
                crate::replace(&dir.join("CURRENT"), current.as_bytes())?;
            }
        }
        Ok(chosen.clone())
    }
}

fn pick<'a>(snapshots: &'a [BackupSnapshot], which: &str) -> Option<&'a BackupSnapshot> {
    if which == "latest" {
        return snapshots.last();
    }
    if let Some(s) = snapshots.iter().find(|s| s.id == which) {
        return Some(s);
    }
    // A day or a moment: the last backup taken up to its end.
    let end = chrono::NaiveDate::parse_from_str(which, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc().timestamp())
        .or_else(|| {
            DateTime::parse_from_rfc3339(which)
                .ok()
                .map(|t| t.timestamp())
        })?;
    snapshots.iter().rev().find(|s| s.created_unix <= end)
}

impl Store {
    /// Every backup in `target`, oldest first.
    pub async fn backups(&self, target: &Target) -> Result<Vec<BackupSnapshot>, StoreError> {
        target.snapshots(self.keyring.as_deref()).await
    }

    /// Checks a backup: every chunk it refers to is there and matches its name (in an
    /// encrypted store: decrypts). Returns the chunks checked.
    pub async fn verify_backup(&self, target: &Target, which: &str) -> Result<u64, StoreError> {
        let snapshots = self.backups(target).await?;
        let s = pick(&snapshots, which).ok_or_else(|| StoreError::Backup {
            target: target.url().to_owned(),
            message: format!("no backup {which:?}"),
        })?;
        let mut seen = BTreeSet::new();
        for m in s.tenants.values().flat_map(|t| &t.manifests) {
            for c in m.tables.iter().flat_map(|t| &t.chunks) {
                if !seen.insert(c.hash.clone()) {
                    continue;
                }
                let path = chunk_path(&c.hash);
                let at: std::path::PathBuf = format!("{}/{path}", target.url()).into();
                let damaged = |message: String| StoreError::Damaged {
                    path: at.clone(),
                    message,
                };
                let bytes = target
                    .get(&path)
                    .await?
                    .ok_or_else(|| damaged(format!("missing (backup {})", s.id)))?;
                self.objects
                    .check(&c.hash, bytes, &at)
                    .map_err(|e| damaged(format!("damaged (backup {}): {e}", s.id)))?;
            }
        }
        Ok(seen.len() as u64)
    }

    /// Applies `retention`: removes the backups it does not keep, then the chunks and audit
    /// copies no kept backup refers to. Returns the backups removed and the objects removed.
    pub async fn prune_backups(
        &self,
        target: &Target,
        retention: &Retention,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let snapshots = self.backups(target).await?;
        let keep = retention.keep(&snapshots, Utc::now().timestamp());
        let mut removed = Vec::new();
        for s in &snapshots {
            if !keep.contains(&s.id) {
                target.delete(&format!("snapshots/{}.json", s.id)).await?;
                removed.push(s.id.clone());
            }
        }
        let kept: Vec<&BackupSnapshot> =
            snapshots.iter().filter(|s| keep.contains(&s.id)).collect();
        let used: BTreeSet<String> = kept
            .iter()
            .flat_map(|s| s.tenants.values().flat_map(|t| &t.manifests))
            .flat_map(|m| m.tables.iter().flat_map(|t| &t.chunks))
            .map(|c| c.hash.clone())
            .chain(kept.iter().filter_map(|s| s.audit.clone()))
            .collect();
        let mut n = 0;
        for prefix in ["objects", "audit"] {
            for (path, _) in target.list(prefix).await? {
                let name = path.rsplit('/').next().unwrap_or_default();
                if !used.contains(name) {
                    target.delete(&path).await?;
                    n += 1;
                }
            }
        }
        Ok((removed, n))
    }
}
