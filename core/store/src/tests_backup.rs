use super::backup::{self, Retention, Target};
use super::tests::rows;
use super::*;

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bexio-bi-backup-{tag}-{}-{}",
        std::process::id(),
        now().as_nanos()
    ));
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn commit(store: &Store, tenant: &str, n: i64) -> Manifest {
    let mut w = store.begin(tenant).expect("begin");
    w.write("fact", &rows(0, n)).expect("write");
    w.commit().expect("commit")
}

fn count(store: &Store, tenant: &str) -> usize {
    store
        .latest(tenant)
        .expect("latest")
        .expect("version")
        .read("fact")
        .expect("read")
        .map(|b| b.expect("batch").num_rows())
        .sum()
}

#[tokio::test]
async fn backups_are_incremental_verified_and_restore_after_a_loss() {
    let data = temp("data");
    let store = Store::open(&data).expect("open");
    let target = Target::open(temp("target").to_str().expect("path")).expect("target");
    commit(&store, "a", 50_000);
    commit(&store, "b", 10_000);
    store
        .audit()
        .append(audit::Action {
            actor: "user:t".into(),
            action: "sync".into(),
            outcome: "ok".into(),
            ..audit::Action::default()
        })
        .expect("audit");
    let first = store.backup(&target).await.expect("backup");
    assert_eq!(
        first.copied, first.chunks,
        "the first backup copies everything"
    );
    // More data: the next backup copies only the new chunks.
    commit(&store, "a", 60_000);
    let second = store.backup(&target).await.expect("backup");
    assert!(
        second.copied > 0 && second.copied < second.chunks / 2,
        "{second:?}"
    );
    let third = store.backup(&target).await.expect("backup");
    assert_eq!(third.copied, 0, "nothing new, nothing copied");
    assert_eq!(store.backups(&target).await.expect("list").len(), 3);
    assert_eq!(
        store
            .verify_backup(&target, "latest")
            .await
            .expect("verify"),
        second.chunks
    );

    // The data directory is lost; one command brings it back, checked.
    fs::remove_dir_all(&data).expect("loss");
    let store = Store::open(&data).expect("reopen");
    let restored = store.restore(&target, "latest").await.expect("restore");
    assert_eq!(restored.id, third.id);
    assert_eq!(count(&store, "a"), 60_000);
    assert_eq!(count(&store, "b"), 10_000);
    assert_eq!(store.versions("a").expect("versions").len(), 2);
    assert_eq!(store.verify("a").expect("verify").0, 2);

    // Restoring the first backup makes its versions current again, and keeps later ones.
    let s = store
        .restore(&target, &first.id)
        .await
        .expect("restore first");
    assert_eq!(s.id, first.id);
    assert_eq!(count(&store, "a"), 50_000);
    assert_eq!(store.versions("a").expect("versions").len(), 2);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        store.restore(&target, &today).await.expect("by day").id,
        third.id
    );
    assert!(store.restore(&target, "1999-01-01").await.is_err());
}

#[tokio::test]
async fn a_damaged_backup_is_found_and_never_restored() {
    let data = temp("data");
    let store = Store::open(&data).expect("open");
    let dir = temp("target");
    let target = Target::open(dir.to_str().expect("path")).expect("target");
    let m = commit(&store, "a", 20_000);
    store.backup(&target).await.expect("backup");
    let hash = &m.tables[0].chunks[0].hash;
    let chunk = dir.join("objects").join(&hash[..2]).join(hash);
    let mut bytes = fs::read(&chunk).expect("chunk");
    bytes[10] ^= 0xff;
    fs::write(&chunk, &bytes).expect("tamper");
    let err = store
        .verify_backup(&target, "latest")
        .await
        .expect_err("damaged");
    assert!(err.to_string().contains(hash.as_str()), "{err}");
    fs::remove_dir_all(&data).expect("loss");
    let store = Store::open(&data).expect("reopen");
    let err = store.restore(&target, "latest").await.expect_err("refused");
    assert!(err.to_string().contains("checksum"), "{err}");
    assert!(
        store.latest("a").expect("latest").is_none(),
        "nothing half-restored is current"
    );
}

#[tokio::test]
async fn retention_keeps_recent_backups_and_prunes_the_chunks_of_the_others() {
    let store = Store::open(temp("data")).expect("open");
    let target = Target::open(temp("target").to_str().expect("path")).expect("target");
    for n in [10_000, 20_000, 30_000] {
        commit(&store, "a", n);
        store.backup(&target).await.expect("backup");
    }
    // Keep everything of the last 30 days: nothing goes.
    let (removed, objects) = store
        .prune_backups(&target, &Retention::default())
        .await
        .expect("prune");
    assert!(removed.is_empty() && objects == 0);
    // Keep nothing by age: only the newest backup stays, with what it needs.
    let none = Retention {
        within_days: 0,
        ..Retention::default()
    };
    let (removed, _) = store.prune_backups(&target, &none).await.expect("prune");
    assert_eq!(removed.len(), 2);
    assert_eq!(store.backups(&target).await.expect("list").len(), 1);
    store
        .verify_backup(&target, "latest")
        .await
        .expect("the kept backup is whole");
}

#[test]
fn retention_keeps_one_per_day_week_and_month() {
    let day = 86_400;
    let now = 1_800_000_000;
    let snaps: Vec<backup::BackupSnapshot> = (0..400)
        .rev()
        .map(|d| backup::BackupSnapshot {
            id: format!("{:04}", 400 - d),
            created_unix: now - d * day,
            tenants: Default::default(),
            audit: None,
            chunks: 0,
            bytes: 0,
        })
        .collect();
    let r = Retention {
        within_days: 7,
        daily: 7,
        weekly: 4,
        monthly: 6,
    };
    let keep = r.keep(&snaps, now);
    // 7 within, 7 more days, up to 4 weeks and 6 months (overlapping ones count once).
    assert!(keep.len() >= 14 && keep.len() <= 24, "{}", keep.len());
    assert!(keep.contains("0400"), "the newest");
    assert!(!keep.contains("0001"), "the oldest is beyond every window");
}
