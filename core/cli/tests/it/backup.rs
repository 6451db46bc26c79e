//! A backup after every sync, deduplicated; one command restores a lost data directory.

use super::{acme_home, bin, json, ok, serve};

#[test]
fn syncs_are_backed_up_and_a_lost_store_is_restored() {
    let (mut sandbox, ready) = serve(&["--invoices", "300", "--time-scale", "60", "--seed", "9"]);
    let url = ready["url"].as_str().expect("url").to_owned();
    let token = ready["tenants"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let nas = std::env::temp_dir().join(format!("bexio-bi-nas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&nas);
    let home = acme_home(
        "backup-cli",
        &url,
        &format!("[backup]\ntarget = \"{}\"\n\n", nas.display()),
    );
    let target = nas.clone();
    let run = |args: &[&str]| {
        bin()
            .env("BEXIO_BI_HOME", &home)
            .env("BEXIO_BI_TENANT_ACME_TOKEN", &token)
            .args(args)
            .output()
            .expect("run")
    };
    let out = ok(run(&["sync"]));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("backup "),
        "a backup after the sync: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    ok(run(&["sync"]));
    let list = json(run(&["backup", "list", "--json"]));
    let list = list.as_array().expect("backups");
    assert_eq!(list.len(), 2);
    let before = json(run(&["tables", "--json"]));
    let first_bytes = std::fs::read_dir(target.join("objects"))
        .expect("objects")
        .count();
    assert!(first_bytes > 0);
    ok(run(&["backup", "verify"]));
    let created = json(run(&["backup", "create", "--json"]));
    assert_eq!(created["copied"], 0, "nothing new: nothing copied");

    // The data directory is lost: one command brings it back, checked.
    std::fs::remove_dir_all(home.join("data")).expect("loss");
    let out = run(&["tables"]);
    assert_eq!(out.status.code(), Some(2), "nothing stored");
    let out = ok(run(&["backup", "restore", "latest"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checked"));
    let after = json(run(&["tables", "--json"]));
    assert_eq!(after[0]["tables"], before[0]["tables"]);
    assert_eq!(
        json(run(&["versions", "--json"])).as_array().map(Vec::len),
        Some(2)
    );

    // A damaged target is named, never restored from.
    let objects = target.join("objects");
    let sub = std::fs::read_dir(&objects)
        .expect("dirs")
        .flatten()
        .next()
        .expect("dir")
        .path();
    let chunk = std::fs::read_dir(&sub)
        .expect("chunks")
        .flatten()
        .next()
        .expect("chunk")
        .path();
    std::fs::write(&chunk, b"garbage").expect("tamper");
    let out = run(&["backup", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("damaged"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&nas);
}
