use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use super::*;

/// Rows `from..to` of a keyed table (`k{i}` keys, as the star schema's tables have).
pub(crate) fn rows(from: i64, to: i64) -> RecordBatch {
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

fn temp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bexio-bi-store-{}-{}",
        std::process::id(),
        now().as_nanos()
    ));
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn count(snap: &Snapshot, table: &str) -> usize {
    snap.read(table)
        .expect("read")
        .map(|b| b.expect("batch").num_rows())
        .sum()
}

#[test]
fn a_version_is_visible_only_once_committed() {
    let root = temp();
    let store = Store::open(&root).expect("open");
    assert!(store.latest("t1").expect("latest").is_none());
    let mut w = store.begin("t1").expect("begin");
    w.write("fact_invoice", &rows(0, 3)).expect("write");
    w.write("dim_contact", &rows(0, 4)).expect("write");
    w.write("fact_invoice", &rows(3, 5))
        .expect("interleaved tables stream side by side");
    assert!(
        store.latest("t1").expect("latest").is_none(),
        "nothing visible before commit"
    );
    let m = w.commit().expect("commit");
    assert_eq!(
        m.tables
            .iter()
            .map(|t| (t.name.as_str(), t.rows))
            .collect::<Vec<_>>(),
        vec![("fact_invoice", 5), ("dim_contact", 4)]
    );
    let snap = store.latest("t1").expect("latest").expect("a version");
    assert_eq!(count(&snap, "fact_invoice"), 5);
    assert!(matches!(snap.read("nope"), Err(StoreError::NoTable { .. })));
    assert_eq!(store.tenants().expect("tenants"), vec!["t1".to_owned()]);
    assert_eq!(store.verify("t1").expect("verify").0, 1);
}

#[test]
fn identical_data_is_stored_once_and_a_change_costs_its_chunks() {
    let store = Store::open(temp()).expect("open");
    let write = |from: i64, to: i64| {
        let mut w = store.begin("t").expect("begin");
        for start in (from..to).step_by(8192) {
            w.write("fact", &rows(start, (start + 8192).min(to)))
                .expect("write");
        }
        let m = w.commit().expect("commit");
        let added = m.added_bytes;
        (m, added)
    };
    let (first, new_first) = write(0, 200_000);
    let size = store.size().expect("size");
    assert!(first.tables[0].chunks.len() > 10, "cut into chunks");
    let (second, new_second) = write(0, 200_000);
    assert_eq!(new_second, 0, "the same rows again add no chunk");
    assert_eq!(second.checksum, first.checksum);
    assert_eq!(store.size().expect("size"), size);
    assert_eq!(new_first, size);
    // One row more in the middle: the chunks around it change, the others are shared.
    let mut w = store.begin("t").expect("begin");
    w.write("fact", &rows(0, 100_000)).expect("write");
    w.write("fact", &rows(150_000_000, 150_000_001))
        .expect("write");
    w.write("fact", &rows(100_000, 200_000)).expect("write");
    let third = w.commit().expect("commit");
    let added = third.added_bytes;
    assert_ne!(third.checksum, first.checksum);
    assert!(
        added * 10 < size,
        "one new row rewrote {added} of {size} bytes"
    );
    assert_eq!(store.versions("t").expect("versions").len(), 3);
}

#[test]
fn tags_and_rollback_keep_every_version() {
    let store = Store::open(temp()).expect("open");
    let mut ids = Vec::new();
    for n in [10, 20, 30] {
        let mut w = store.begin("t").expect("begin");
        w.write("fact", &rows(0, n)).expect("write");
        ids.push(w.commit().expect("commit").id);
    }
    assert_eq!(
        store.tag("t", &ids[0], "v1.0-production").expect("tag"),
        ids[0]
    );
    assert_eq!(
        count(&store.version("t", "v1.0-production").expect("tag"), "fact"),
        10
    );
    assert_eq!(
        store.rollback("t", "v1.0-production").expect("rollback"),
        ids[0]
    );
    assert_eq!(
        count(&store.latest("t").expect("latest").expect("v"), "fact"),
        10
    );
    assert_eq!(
        store.versions("t").expect("versions").len(),
        3,
        "later versions stay"
    );
    store.rollback("t", &ids[2]).expect("forward again");
    assert_eq!(
        count(&store.latest("t").expect("latest").expect("v"), "fact"),
        30
    );
    assert!(matches!(
        store.version("t", "v9"),
        Err(StoreError::NoVersion { .. })
    ));
    assert!(matches!(
        store.tag("t", "latest", "../x"),
        Err(StoreError::BadName(_))
    ));
    assert!(matches!(
        store.tag("t", "latest", "latest"),
        Err(StoreError::BadName(_))
    ));
}

#[test]
fn a_flipped_byte_or_a_truncated_chunk_is_named() {
    let root = temp();
    let store = Store::open(&root).expect("open");
    let mut w = store.begin("t").expect("begin");
    w.write("fact", &rows(0, 5000)).expect("write");
    let m = w.commit().expect("commit");
    let chunk = store.objects.path(&m.tables[0].chunks[0].hash);
    let mut bytes = fs::read(&chunk).expect("chunk");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    fs::write(&chunk, &bytes).expect("tamper");
    let snap = store.latest("t").expect("latest").expect("v");
    let err = snap
        .read("fact")
        .expect("read")
        .find_map(Result::err)
        .expect("an error");
    assert!(err.to_string().contains(&*chunk.to_string_lossy()), "{err}");
    assert!(matches!(store.verify("t"), Err(StoreError::Damaged { .. })));
    fs::write(&chunk, &bytes[..mid]).expect("truncate");
    assert!(matches!(store.verify("t"), Err(StoreError::Damaged { .. })));
    // A manifest edited by hand is refused too.
    let mpath = root
        .join("t")
        .join("versions")
        .join(format!("{}.json", m.id));
    let text = fs::read_to_string(&mpath).expect("manifest");
    fs::write(&mpath, text.replacen("\"rows\": 5000", "\"rows\": 4999", 1)).expect("edit");
    assert!(matches!(store.latest("t"), Err(StoreError::Damaged { .. })));
}

#[test]
fn one_writer_per_company_and_readers_are_never_disturbed() {
    let root = temp();
    let store = Store::open(&root).expect("open");
    let mut w = store.begin("t1").expect("begin");
    w.write("fact_invoice", &rows(0, 3)).expect("write");
    assert!(matches!(store.begin("t1"), Err(StoreError::Busy(_))));
    assert!(store.begin("t2").is_ok(), "other companies are not blocked");
    let reader = Store::open(&root).expect("open");
    assert!(reader.latest("t1").expect("latest").is_none());
    w.write("fact_invoice", &rows(3, 5)).expect("still writing");
    w.commit().expect("commit");
    assert!(store.begin("t1").is_ok(), "the lock is released");
}

#[test]
fn an_abandoned_write_leaves_the_last_version_and_prune_cleans_up() {
    let root = temp();
    let store = Store::open(&root).expect("open");
    let mut w = store.begin("t1").expect("begin");
    w.write("fact", &rows(0, 3)).expect("write");
    let first = w.commit().expect("commit");
    // A sync dies half-way: chunks written, no manifest.
    let mut w = store.begin("t1").expect("begin");
    w.write("fact", &rows(1000, 60_000)).expect("write");
    drop(w);
    fs::write(root.join("objects").join(".tmp-x"), b"").ok();
    let snap = store.latest("t1").expect("latest").expect("version");
    assert_eq!(snap.manifest().id, first.id);
    let (n, bytes) = store.prune().expect("prune");
    assert!(n > 0 && bytes > 0, "orphan chunks removed");
    store.verify("t1").expect("what is left is whole");
    assert_eq!(
        count(&store.latest("t1").expect("l").expect("v"), "fact"),
        3
    );
}

#[test]
fn names_cannot_escape_the_store() {
    let store = Store::open(temp()).expect("open");
    assert!(matches!(store.begin("../etc"), Err(StoreError::BadName(_))));
    assert!(matches!(
        store.begin("objects"),
        Err(StoreError::BadName(_))
    ));
    let mut w = store.begin("t").expect("begin");
    assert!(matches!(
        w.write("../x", &rows(0, 1)),
        Err(StoreError::BadName(_))
    ));
}
