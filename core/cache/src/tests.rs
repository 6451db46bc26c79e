use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

fn temp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bexio-bi-cache-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("t.redb")
}

fn rec<'a>(key: &'a str, version: &'a str, body: &'a str) -> Incoming<'a> {
    Incoming {
        key,
        version: (!version.is_empty()).then_some(version),
        body: body.as_bytes(),
    }
}

fn changes(m: &Mirror, stream: &str) -> BTreeMap<Change, Vec<Key>> {
    m.changes()
        .expect("changes")
        .remove(stream)
        .unwrap_or_default()
}

#[test]
fn keys_sort_like_ids_and_read_back() {
    let k = |v: serde_json::Value| key_of(&v).expect("key");
    assert_eq!(k(serde_json::json!(42)), "00000000000000000042");
    assert_eq!(
        k(serde_json::json!(" 42 ")),
        k(serde_json::json!(42)),
        "type drift: same key"
    );
    assert!(k(serde_json::json!(9)) < k(serde_json::json!(10)));
    let u = "5b1d4e63-33d7-4d6a-a5a3-5b1d4e6333d7";
    assert_eq!(k(serde_json::json!(u)), u);
    assert_eq!(id_of_key(&k(serde_json::json!(42))), "42");
    assert_eq!(id_of_key(&k(serde_json::json!(0))), "0");
    assert_eq!(id_of_key(u), u);
    assert!(key_of(&serde_json::json!(null)).is_none());
    assert!(key_of(&serde_json::json!(-1)).is_none());
    assert_eq!(key_of_bytes(b"{}"), key_of_bytes(b"{}"));
    assert_ne!(key_of_bytes(b"{}"), key_of_bytes(b"[]"));
}

#[test]
fn a_listing_notes_new_changed_and_deleted_records() {
    let m = Mirror::open(temp()).expect("open");
    let (run, resumed) = m.begin_run(false, 100, 3600).expect("run");
    assert!(!resumed && run.done.is_empty());
    m.start_listing("kb_invoice").expect("start");
    let page = [
        rec("1", "t1", "{a}"),
        rec("2", "t1", "{b}"),
        rec("3", "", "{c}"),
    ];
    let c = m.put_page("kb_invoice", &page, true, false).expect("page");
    assert_eq!(c.len(), 3);
    m.put_page("detail", &[rec("2", "", "{lines}")], false, false)
        .expect("detail");
    m.finish_listing(
        "kb_invoice",
        true,
        &["detail"],
        &StreamState::default(),
        100,
    )
    .expect("finish");
    m.finish_run().expect("finish run");

    // The next run: 1 unchanged (same version, other bytes: versions win), 2 gone, 3 changed
    // bytes (no version), 4 new.
    m.begin_run(false, 200, 3600).expect("run");
    assert!(
        changes(&m, "kb_invoice").is_empty(),
        "a new run starts clean"
    );
    m.start_listing("kb_invoice").expect("start");
    let page = [
        rec("1", "t1", "{a drifted}"),
        rec("3", "", "{c2}"),
        rec("4", "t2", "{d}"),
    ];
    m.put_page("kb_invoice", &page, true, false).expect("page");
    let deleted = m
        .finish_listing(
            "kb_invoice",
            true,
            &["detail"],
            &StreamState::default(),
            200,
        )
        .expect("finish");
    assert_eq!(deleted, vec!["2".to_owned()]);
    let c = changes(&m, "kb_invoice");
    assert_eq!(c[&Change::Created], vec!["4".to_owned()]);
    assert_eq!(c[&Change::Updated], vec!["3".to_owned()]);
    assert_eq!(c[&Change::Deleted], vec!["2".to_owned()]);
    assert_eq!(
        m.get("kb_invoice", "1").expect("get").as_deref(),
        Some(&b"{a}"[..])
    );
    assert_eq!(m.get("detail", "2").expect("get"), None, "cascaded");
    let t = m.tombstones("kb_invoice").expect("tombs");
    assert_eq!(
        (t[0].key.as_str(), t[0].deleted_unix, &t[0].body[..]),
        ("2", 200, &b"{b}"[..])
    );
    let keys: Vec<Key> = m
        .records("kb_invoice")
        .expect("records")
        .map(|r| r.expect("record").0)
        .collect();
    assert_eq!(keys, ["1", "3", "4"]);

    // 2 comes back: alive again, no longer a tombstone.
    m.begin_run(false, 300, 0).expect("run");
    m.put_page("kb_invoice", &[rec("2", "t3", "{b2}")], false, true)
        .expect("page");
    assert!(m.tombstones("kb_invoice").expect("tombs").is_empty());
    assert_eq!(m.len("kb_invoice").expect("len"), 4);
}

#[test]
fn without_reconcile_or_when_created_and_deleted_in_one_run_nothing_is_deleted() {
    let m = Mirror::open(temp()).expect("open");
    m.begin_run(false, 1, 10).expect("run");
    m.put_page("s", &[rec("1", "", "x")], true, true)
        .expect("page");
    m.start_listing("s").expect("restart: seen is forgotten");
    let deleted = m
        .finish_listing("s", false, &[], &StreamState::default(), 1)
        .expect("finish");
    assert!(deleted.is_empty());
    assert_eq!(m.len("s").expect("len"), 1);
    m.start_listing("s").expect("start");
    let deleted = m
        .finish_listing("s", true, &[], &StreamState::default(), 1)
        .expect("finish");
    assert_eq!(deleted, ["1"]);
    assert!(
        changes(&m, "s").is_empty(),
        "created and deleted in one run"
    );
}

#[test]
fn an_interrupted_run_resumes_with_what_it_had_done() {
    let path = temp();
    {
        let m = Mirror::open(&path).expect("open");
        m.begin_run(false, 1000, 3600).expect("run");
        m.start_listing("a").expect("start");
        m.put_page("a", &[rec("1", "v", "x")], true, false)
            .expect("page");
        let state = StreamState {
            fetched_unix: 1000,
            cursor: Some("2026-01-01 00:00:00".into()),
            requests: 1,
        };
        m.finish_listing("a", true, &[], &state, 1000)
            .expect("finish");
        m.plan("details", &["1".into(), "2".into()], &[])
            .expect("plan");
        m.put_results(
            "detail",
            "details",
            &[("1".into(), Some(b"d1".to_vec()))],
            true,
        )
        .expect("results");
        // Dropped without finish_run: as if killed.
    }
    let m = Mirror::open(&path).expect("reopen");
    let (run, resumed) = m.begin_run(true, 2000, 3600).expect("run");
    assert!(resumed);
    assert!(run.full, "a resumed run is full if either is");
    assert!(run.done.contains("a") && run.done.contains("plan:details"));
    assert_eq!(m.todo("details").expect("todo"), ["2"]);
    assert_eq!(changes(&m, "a")[&Change::Created], ["1"], "changes survive");
    assert_eq!(
        m.stream_state("a")
            .expect("state")
            .and_then(|s| s.cursor)
            .as_deref(),
        Some("2026-01-01 00:00:00")
    );
    m.finish_run().expect("finish");
    let (run, resumed) = m.begin_run(false, 3000, 3600).expect("run");
    assert!(!resumed && run.done.is_empty() && !run.full);
    assert!(m.todo("details").expect("todo").is_empty());
    assert!(m.changes().expect("changes").is_empty());
    // A stale interrupted run is not resumed, but its changes are carried over (what it did
    // not get to must still be done).
    m.put_page("a", &[rec("9", "v", "y")], true, true)
        .expect("page");
    let (run, resumed) = m.begin_run(false, 3000 + 7200, 3600).expect("run");
    assert!(!resumed && run.done.is_empty());
    assert_eq!(changes(&m, "a")[&Change::Created], ["9"]);
    m.finish_run().expect("finish");
    m.begin_run(false, 20_000, 3600).expect("run");
    assert!(
        m.changes().expect("changes").is_empty(),
        "a finished run's changes are gone"
    );
}

#[test]
fn one_process_at_a_time() {
    let path = temp();
    let _m = Mirror::open(&path).expect("open");
    assert!(matches!(Mirror::open(&path), Err(CacheError::Busy { .. })));
}

#[test]
fn a_damaged_file_is_a_clear_error() {
    let path = temp();
    std::fs::write(&path, b"this is not a database at all, just some bytes").expect("write");
    match Mirror::open(&path) {
        Err(CacheError::Damaged { message, .. }) => assert!(!message.is_empty()),
        other => panic!("expected Damaged, got {other:?}"),
    }
}
