//! Encryption at rest, as users meet it: nothing readable in the data directory, a wrong or
//! missing password and every damaged file named, the password changed without touching data.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::{TEST_PASSWORD, acme_home, bin, json, ok, serve};

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A GET on the sandbox, as JSON.
fn get(url: &str, token: &str) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    })
}

/// Flips one byte in the middle of `path`; returns the original bytes.
fn flip(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).expect("read");
    let mut changed = bytes.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    std::fs::write(path, changed).expect("tamper");
    bytes
}

/// Cuts `path` to half its length; returns the original bytes.
fn truncate(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).expect("read");
    std::fs::write(path, &bytes[..bytes.len() / 2]).expect("truncate");
    bytes
}

/// The command fails with exit code 1 and an error that names `file`.
fn fails_naming(out: Output, file: &Path, why: &str) {
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{why}: {err}");
    let name = file.file_name().expect("name").to_string_lossy();
    assert!(
        err.contains(&*name),
        "{why}: the error does not name {}: {err}",
        file.display()
    );
    assert!(!err.contains("panicked"), "{why}: {err}");
}

#[test]
fn nothing_is_readable_in_clear_and_every_damage_is_named() {
    let (mut sandbox, ready) = serve(&["--invoices", "200", "--time-scale", "60", "--seed", "12"]);
    let url = ready["url"].as_str().expect("url").to_owned();
    let token = ready["tenants"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let home = acme_home("encryption", &url, "");
    let run = |args: &[&str]| {
        bin()
            .env("BEXIO_BI_HOME", &home)
            .args(args)
            .output()
            .expect("run")
    };

    // A token stored (checked against the sandbox), a sync, its backup.
    let mut auth = bin()
        .env("BEXIO_BI_HOME", &home)
        .args(["auth", "token", "--tenant", "acme"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("auth token");
    {
        use std::io::Write;
        let mut stdin = auth.stdin.take().expect("stdin");
        stdin.write_all(token.as_bytes()).expect("token");
    }
    ok(auth.wait_with_output().expect("auth"));
    ok(run(&["sync"]));

    // A client's name and the company's IBAN are in the store (readable with the password)…
    let contacts = get(&format!("{url}/2.0/contact?limit=5"), &token);
    let client = contacts[0]["name_1"].as_str().expect("a client").to_owned();
    let banks = get(&format!("{url}/3.0/banking/accounts"), &token);
    let iban = banks[0]["iban_nr"].as_str().expect("an IBAN").to_owned();
    let shown = ok(run(&[
        "show",
        "dim_contact",
        "--format",
        "csv",
        "--limit",
        "100000",
    ]));
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains(&client),
        "{client} stored"
    );
    let shown = ok(run(&["show", "dim_bank_account", "--format", "csv"]));
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains(&iban),
        "{iban} stored"
    );

    // …but in no file of the data directory in clear: not the store, mirror, backups, audit
    // trail or secrets; nor the token or the password.
    let all = files(&home);
    assert!(all.len() > 10, "{all:?}");
    for needle in [
        client.as_str(),
        iban.as_str(),
        token.as_str(),
        TEST_PASSWORD,
    ] {
        for f in &all {
            let bytes = std::fs::read(f).expect("read");
            assert!(
                !contains(&bytes, needle),
                "{needle:?} is readable in {}",
                f.display()
            );
        }
    }
    for name in ["secrets.toml", "mirror.redb", "audit.log", "key.json"] {
        assert!(
            all.iter().any(|f| f.file_name().is_some_and(|n| n == name)),
            "{name} was written"
        );
    }
    let verified = json(run(&["store", "verify", "--json"]));
    assert!(
        verified["companies"][0]["chunks"].as_u64().unwrap_or(0) > 5,
        "{verified}"
    );
    assert!(
        verified["companies"][0]["mirror_records"]
            .as_u64()
            .unwrap_or(0)
            > 200
    );
    assert_eq!(verified["secrets"], 1);

    // A wrong password, or none, is refused with the file named.
    let key = home.join("data").join("key.json");
    let out = bin()
        .env("BEXIO_BI_HOME", &home)
        .env("BEXIO_BI_PASSWORD", "not the password")
        .arg("tables")
        .output()
        .expect("run");
    fails_naming(out, &key, "wrong password");
    let out = bin()
        .env("BEXIO_BI_HOME", &home)
        .env_remove("BEXIO_BI_PASSWORD")
        .arg("tables")
        .output()
        .expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("BEXIO_BI_PASSWORD") && err.contains("encrypted"),
        "{err}"
    );

    // A flipped byte or a cut in any kind of file: named, never garbage, and the store is whole
    // again once the file is back.
    let in_dir = |f: &PathBuf, part: &str| f.components().any(|c| c.as_os_str() == part);
    let chunk = all
        .iter()
        .find(|f| in_dir(f, "objects") && f.starts_with(home.join("data")))
        .expect("a chunk")
        .clone();
    let manifest = all
        .iter()
        .find(|f| {
            f.starts_with(home.join("data").join("acme"))
                && f.extension().is_some_and(|e| e == "json")
                && f.file_name().is_some_and(|n| n != "tags.json")
        })
        .expect("a manifest")
        .clone();
    let secrets = home.join("secrets.toml");
    let audit = home.join("data").join("audit.log");
    for (file, damage, command) in [
        (&chunk, "flip", &["store", "verify"][..]),
        (&chunk, "cut", &["store", "verify"][..]),
        (&manifest, "flip", &["versions"][..]),
        (&manifest, "cut", &["tables"][..]),
        (&secrets, "flip", &["sync"][..]),
        (&secrets, "cut", &["store", "verify"][..]),
        (&audit, "flip", &["store", "verify"][..]),
        (&key, "cut", &["tables"][..]),
    ] {
        let original = if damage == "flip" {
            flip(file)
        } else {
            truncate(file)
        };
        fails_naming(run(command), file, &format!("{damage} {}", file.display()));
        std::fs::write(file, original).expect("put back");
    }
    ok(run(&["store", "verify"]));

    // A new password: the old one stops working, the data stays as it was.
    let before = json(run(&["tables", "--json"]));
    let out = bin()
        .env("BEXIO_BI_HOME", &home)
        .env("BEXIO_BI_NEW_PASSWORD", "a new password")
        .args(["store", "rekey"])
        .output()
        .expect("rekey");
    ok(out);
    fails_naming(run(&["tables"]), &key, "the old password after rekey");
    let after = bin()
        .env("BEXIO_BI_HOME", &home)
        .env("BEXIO_BI_PASSWORD", "a new password")
        .args(["tables", "--json"])
        .output()
        .expect("run");
    assert_eq!(json(after)[0]["tables"], before[0]["tables"]);
    let trail = bin()
        .env("BEXIO_BI_HOME", &home)
        .env("BEXIO_BI_PASSWORD", "a new password")
        .args(["audit", "show", "--json"])
        .output()
        .expect("run");
    // One JSON object per line.
    let trail = String::from_utf8_lossy(&ok(trail).stdout).into_owned();
    let rekeyed = trail
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .any(|e| e.to_string().contains("\"store.rekey\""));
    assert!(rekeyed, "{trail}");
    let status = bin()
        .env("BEXIO_BI_HOME", &home)
        .args(["store", "status", "--json"])
        .output()
        .expect("run");
    let status = json(status);
    assert_eq!(status["encrypted"], true);
    assert_eq!(status["kdf"]["algorithm"], "argon2id");

    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
}
