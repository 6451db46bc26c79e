//! The store against a simple model, over random sequences of commit, tag, rollback, backup,
//! restore and prune; and killed with SIGKILL at random points during commits and backups.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use bexio_bi_store::Store;
use bexio_bi_store::backup::{Retention, Target};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rows(from: i64, to: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("n", DataType::Int64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                (from..to).map(|i| format!("t:{i}")),
            )),
            Arc::new(Int64Array::from_iter_values(from..to)),
        ],
    )
    .expect("batch")
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bexio-bi-model-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// What the store should hold: per company, versions (their row counts) and the current one.
#[derive(Debug, Clone, Default, PartialEq)]
struct Company {
    versions: Vec<(String, u64)>,
    current: Option<String>,
    tags: BTreeMap<String, String>,
}

fn rows_of(store: &Store, tenant: &str, which: &str) -> u64 {
    store
        .version(tenant, which)
        .expect("version")
        .read("fact")
        .expect("read")
        .map(|b| b.expect("batch").num_rows() as u64)
        .sum()
}

fn check(store: &Store, model: &BTreeMap<String, Company>) {
    for (tenant, c) in model {
        let versions = store.versions(tenant).expect("versions");
        let ids: Vec<String> = versions.iter().map(|m| m.id.clone()).collect();
        let want: Vec<String> = c.versions.iter().map(|v| v.0.clone()).collect();
        assert_eq!(ids, want, "{tenant}: versions");
        for (id, n) in &c.versions {
            assert_eq!(rows_of(store, tenant, id), *n, "{tenant} {id}");
        }
        assert_eq!(
            store.current(tenant).expect("current"),
            c.current,
            "{tenant}: current"
        );
        assert_eq!(store.tags(tenant).expect("tags"), c.tags, "{tenant}: tags");
        store.verify(tenant).expect("verify");
    }
}

/// The password of the encrypted stores of these tests.
const PASSWORD: &str = "model password";

/// Opens the store at `data`, encrypted or in clear.
fn open(data: &std::path::Path, encrypted: bool) -> Store {
    if encrypted {
        Store::open_encrypted(data, PASSWORD).expect("open encrypted")
    } else {
        Store::open(data).expect("open")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_match_the_model() {
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Half the runs encrypted, as the product keeps its stores; half in clear.
        let encrypted = seed % 2 == 1;
        let data = temp("data");
        let mut store = open(&data, encrypted);
        let target = Target::open(temp("target").to_str().expect("path")).expect("target");
        let mut model: BTreeMap<String, Company> = BTreeMap::new();
        // Backups: the model as it was when each was taken.
        let mut backups: Vec<(String, BTreeMap<String, Company>)> = Vec::new();
        for step in 0..40 {
            let tenant = ["a", "b"][rng.random_range(0..2)].to_owned();
            match rng.random_range(0..10) {
                0..=3 => {
                    let n = rng.random_range(0..20_000i64);
                    let mut w = store.begin(&tenant).expect("begin");
                    w.write("fact", &rows(rng.random_range(0..100), n))
                        .expect("write");
                    let m = w.commit().expect("commit");
                    let rows: u64 = m.tables.iter().map(|t| t.rows).sum();
                    let c = model.entry(tenant).or_default();
                    c.versions.push((m.id.clone(), rows));
                    c.current = Some(m.id);
                }
                4 => {
                    let Some(c) = model.get_mut(&tenant) else {
                        continue;
                    };
                    let (id, _) = c.versions[rng.random_range(0..c.versions.len())].clone();
                    let tag = format!("t{}", rng.random_range(0..3));
                    store.tag(&tenant, &id, &tag).expect("tag");
                    c.tags.insert(tag, id);
                }
                5 => {
                    let Some(c) = model.get_mut(&tenant) else {
                        continue;
                    };
                    let (id, _) = c.versions[rng.random_range(0..c.versions.len())].clone();
                    store.rollback(&tenant, &id).expect("rollback");
                    c.current = Some(id);
                }
                6 | 7 => {
                    let r = store.backup(&target).await.expect("backup");
                    backups.push((r.id, model.clone()));
                    // Backup ids have millisecond precision.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                8 if !backups.is_empty() => {
                    // Lose the data directory, restore a random backup.
                    let (id, then) = backups[rng.random_range(0..backups.len())].clone();
                    std::fs::remove_dir_all(&data).expect("loss");
                    assert_eq!(
                        target.fetch_key(&data).await.expect("key"),
                        encrypted,
                        "an encrypted store's backups carry its key file"
                    );
                    store = open(&data, encrypted);
                    store.restore(&target, &id).await.expect("restore");
                    model = then;
                }
                9 => {
                    let (removed, _) = store
                        .prune_backups(
                            &target,
                            &Retention {
                                within_days: 0,
                                ..Retention::default()
                            },
                        )
                        .await
                        .expect("prune");
                    backups.retain(|(id, _)| !removed.contains(id));
                    for (id, _) in &backups {
                        store
                            .verify_backup(&target, id)
                            .await
                            .expect("kept backups stay whole");
                    }
                }
                _ => continue,
            }
            check(&store, &model);
            let _ = step;
        }
        store.prune().expect("prune");
        check(&store, &model);
    }
}

/// Run by [`a_store_killed_at_random_points_always_opens_and_verifies`] as a child process:
/// commits and backs up in a loop until it is killed.
#[tokio::test]
async fn crash_worker() {
    let Ok(dir) = std::env::var("BEXIO_BI_CRASH_WORKER") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let store = open(&dir.join("data"), true);
    let target = Target::open(dir.join("target").to_str().expect("path")).expect("target");
    let mut i = 0i64;
    loop {
        i += 1;
        let mut w = store.begin("a").expect("begin");
        w.write("fact", &rows(i, 30_000 + i * 97)).expect("write");
        w.write("dim", &rows(0, 5_000 + i)).expect("write");
        w.commit().expect("commit");
        if i % 2 == 0 {
            store.backup(&target).await.expect("backup");
        }
    }
}

#[tokio::test]
async fn a_store_killed_at_random_points_always_opens_and_verifies() {
    let dir = temp("crash");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let exe = std::env::current_exe().expect("test binary");
    for round in 0..8 {
        let mut child = std::process::Command::new(&exe)
            .args([
                "crash_worker",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("BEXIO_BI_CRASH_WORKER", &dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("worker");
        std::thread::sleep(Duration::from_millis(rng.random_range(80..600)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        // Whatever the moment, the store opens, every version reads whole, and the current
        // one is a complete version.
        let store = open(&dir.join("data"), true);
        let versions = store.versions("a").expect("versions");
        for m in &versions {
            for t in &m.tables {
                let n: u64 = store
                    .version("a", &m.id)
                    .expect("version")
                    .read(&t.name)
                    .expect("read")
                    .map(|b| b.expect("batch").num_rows() as u64)
                    .sum();
                assert_eq!(n, t.rows, "round {round}: {} {}", m.id, t.name);
            }
        }
        if let Some(current) = store.current("a").expect("current") {
            assert!(versions.iter().any(|m| m.id == current), "round {round}");
        }
        store.verify("a").expect("verify");
        let target = Target::open(dir.join("target").to_str().expect("path")).expect("target");
        for s in store.backups(&target).await.expect("backups") {
            store
                .verify_backup(&target, &s.id)
                .await
                .expect("every backup is whole");
        }
        store.prune().expect("prune what the kill left");
    }
    // The worker got somewhere between the kills.
    let store = open(&dir.join("data"), true);
    assert!(store.versions("a").expect("versions").len() >= 4);
    let target = Target::open(dir.join("target").to_str().expect("path")).expect("target");
    assert!(!store.backups(&target).await.expect("backups").is_empty());
}
