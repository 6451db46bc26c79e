//! Encryption at rest: what is on disk, wrong passwords, tampering, truncation, backups.

use arrow_array::{RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use super::backup::Target;
use super::*;

const CLIENT: &str = "Müller Treuhand GmbH";
const IBAN: &str = "CH9300762011623852957";
const PASSWORD: &str = "correct horse battery staple";

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bexio-bi-crypt-{tag}-{}-{}",
        std::process::id(),
        now().as_nanos()
    ));
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Contacts with a known name and IBAN among `n` rows.
fn contacts(n: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("contact_key", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("iban", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("contact:{i}")),
            )),
            Arc::new(StringArray::from_iter_values((0..n).map(|i| {
                if i == 7 {
                    CLIENT.to_owned()
                } else {
                    format!("Kunde {i} AG")
                }
            }))),
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (i == 7).then_some(IBAN)),
            )),
        ],
    )
    .expect("batch")
}

fn commit(store: &Store, n: usize) -> Manifest {
    let mut w = store.begin("acme").expect("begin");
    w.write("dim_contact", &contacts(n)).expect("write");
    w.commit().expect("commit")
}

fn read_all(store: &Store) -> Vec<String> {
    let snap = store.latest("acme").expect("latest").expect("a version");
    let mut out = Vec::new();
    for b in snap.read("dim_contact").expect("read") {
        let b = b.expect("batch");
        for i in 0..b.num_rows() {
            out.push(cell_text(b.column(1).as_ref(), i).unwrap_or_default());
        }
    }
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn in_clear(dir: &Path, needle: &str) -> Option<PathBuf> {
    files(dir).into_iter().find(|f| {
        fs::read(f)
            .expect("read")
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    })
}

fn chunks(root: &Path) -> Vec<PathBuf> {
    files(&root.join("objects"))
}

fn manifests(root: &Path) -> Vec<PathBuf> {
    files(&root.join("acme"))
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json") && !f.ends_with("tags.json"))
        .collect()
}

fn names(e: &StoreError, file: &Path) -> bool {
    e.to_string().contains(&*file.to_string_lossy())
}

#[test]
fn nothing_is_in_clear_and_equal_data_still_deduplicates() {
    let root = temp("clear");
    let store = Store::open_encrypted(&root, PASSWORD).expect("create");
    let first = commit(&store, 20_000);
    store
        .audit()
        .append(audit::Action {
            actor: "test".into(),
            action: "sync".into(),
            tenant: Some("acme".into()),
            resource: Some(CLIENT.into()),
            counts: serde_json::Value::Null,
            remote: None,
            outcome: "ok".into(),
        })
        .expect("audit");
    assert!(read_all(&store).iter().any(|n| n == CLIENT));
    for needle in [CLIENT, IBAN, PASSWORD, "dim_contact", "contact:7"] {
        assert_eq!(in_clear(&root, needle), None, "{needle} in clear");
    }
    // Every file but the key and the pointers begins with the magic.
    for f in chunks(&root).iter().chain(&manifests(&root)) {
        assert!(
            crypt::is_sealed(&fs::read(f).expect("read")),
            "{}",
            f.display()
        );
    }
    let size = store.size().expect("size");
    let second = commit(&store, 20_000);
    assert_ne!(first.id, second.id);
    assert_eq!(
        store.size().expect("size"),
        size,
        "equal data, no new chunk"
    );
    assert_eq!(store.audit().verify().expect("verify"), Ok(1));
    // Reopened with the password, all of it reads.
    let again = Store::open_encrypted(&root, PASSWORD).expect("unlock");
    assert_eq!(read_all(&again).len(), 20_000);
    assert_eq!(again.verify("acme").expect("verify").0, 2);
}

#[test]
fn a_wrong_or_missing_password_is_refused_naming_the_key_file() {
    let root = temp("password");
    commit(
        &Store::open_encrypted(&root, PASSWORD).expect("create"),
        100,
    );
    let key = crypt::key_path(&root);
    let e = Store::open_encrypted(&root, "Correct horse battery staple").expect_err("wrong");
    assert!(
        matches!(e, StoreError::WrongPassword(_)) && names(&e, &key),
        "{e}"
    );
    let e = Store::open(&root).expect_err("no password");
    assert!(matches!(e, StoreError::Locked(_)) && names(&e, &key), "{e}");
    assert!(
        Store::open_encrypted(temp("empty"), "").is_err(),
        "an empty password"
    );
    // A store kept in clear is not silently turned into a half-encrypted one.
    let clear = temp("was-clear");
    commit(&Store::open(&clear).expect("clear"), 10);
    let e = Store::open_encrypted(&clear, PASSWORD).expect_err("clear data");
    assert!(e.to_string().contains("in clear"), "{e}");
    // A new password opens the same data; the old one no longer does.
    Store::rekey(&root, PASSWORD, "a new one").expect("rekey");
    assert!(Store::open_encrypted(&root, PASSWORD).is_err());
    let store = Store::open_encrypted(&root, "a new one").expect("new password");
    assert_eq!(read_all(&store).len(), 100);
    assert!(matches!(
        Store::rekey(&root, "wrong", "other"),
        Err(StoreError::WrongPassword(_))
    ));
}

#[test]
fn a_flipped_byte_or_a_cut_anywhere_is_an_error_naming_the_file() {
    let root = temp("tamper");
    let store = Store::open_encrypted(&root, PASSWORD).expect("create");
    commit(&store, 5_000);
    store
        .audit()
        .append(audit::Action {
            actor: "test".into(),
            action: "sync".into(),
            tenant: None,
            resource: None,
            counts: serde_json::Value::Null,
            remote: None,
            outcome: "ok".into(),
        })
        .expect("audit");
    let chunk = chunks(&root).remove(0);
    let manifest = manifests(&root).remove(0);
    let key = crypt::key_path(&root);
    type Damage = fn(&mut Vec<u8>);
    let flip: Damage = |b| {
        let at = b.len() / 2;
        b[at] ^= 0x20;
    };
    let cut: Damage = |b| b.truncate(b.len() / 2);
    let magic: Damage = |b| b[0] ^= 0x01;
    for (file, damage, what) in [
        (&chunk, flip, "flipped chunk"),
        (&chunk, cut, "cut chunk"),
        (&chunk, magic, "chunk without magic"),
        (&manifest, flip, "flipped manifest"),
        (&manifest, cut, "cut manifest"),
        (&key, flip, "flipped key file"),
        (&key, cut, "cut key file"),
    ] {
        let original = fs::read(file).expect("read");
        let mut bytes = original.clone();
        damage(&mut bytes);
        fs::write(file, &bytes).expect("damage");
        let e = Store::open_encrypted(&root, PASSWORD)
            .and_then(|s| {
                let snap = s
                    .latest("acme")?
                    .ok_or_else(|| StoreError::Password("gone".into()))?;
                for b in snap.read("dim_contact")? {
                    b?;
                }
                s.verify("acme").map(|_| ())
            })
            .expect_err(what);
        // A flipped byte in the key file's JSON may land in the wrapped key: then it reads as
        // a wrong password, still naming the file.
        assert!(names(&e, file), "{what}: {e}");
        fs::write(file, original).expect("restore");
    }
    // The audit trail: a changed line is found and its line named.
    let log = root.join("audit.log");
    let original = fs::read(&log).expect("read");
    let mut bytes = original.clone();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    fs::write(&log, &bytes).expect("damage");
    let breaks = store
        .audit()
        .verify()
        .expect("readable")
        .expect_err("tampered");
    assert_eq!(breaks[0].line, 1, "{breaks:?}");
    fs::write(&log, original).expect("restore");
    let store = Store::open_encrypted(&root, PASSWORD).expect("whole again");
    assert_eq!(store.verify("acme").expect("verify").0, 1);
    assert_eq!(store.audit().verify().expect("verify"), Ok(1));
}

#[tokio::test]
async fn an_encrypted_backup_restores_into_an_empty_directory_with_its_password() {
    let root = temp("src");
    let store = Store::open_encrypted(&root, PASSWORD).expect("create");
    commit(&store, 30_000);
    let target_dir = temp("target");
    let target = Target::open(target_dir.to_str().expect("path")).expect("target");
    let report = store.backup(&target).await.expect("backup");
    for needle in [CLIENT, IBAN, PASSWORD] {
        assert_eq!(
            in_clear(&target_dir, needle),
            None,
            "{needle} in the backup"
        );
    }
    assert!(
        store
            .verify_backup(&target, "latest")
            .await
            .expect("verify")
            > 0
    );

    // A new machine: nothing but the backup and the password.
    let fresh = temp("fresh");
    assert!(target.fetch_key(&fresh).await.expect("key"));
    assert!(!target.fetch_key(&fresh).await.expect("key"), "once");
    assert!(matches!(
        Store::open_encrypted(&fresh, "wrong"),
        Err(StoreError::WrongPassword(_))
    ));
    let restored = Store::open_encrypted(&fresh, PASSWORD).expect("unlock");
    let s = restored.restore(&target, "latest").await.expect("restore");
    assert_eq!(s.id, report.id);
    assert_eq!(read_all(&restored), read_all(&store));

    // A store under another key cannot take the backup's chunks: refused, nothing changed.
    let other = Store::open_encrypted(temp("other"), "another password").expect("other");
    commit(&other, 10);
    let e = other
        .restore(&target, "latest")
        .await
        .expect_err("other key");
    assert!(e.to_string().contains("decrypt"), "{e}");
    assert_eq!(read_all(&other).len(), 10);
}
