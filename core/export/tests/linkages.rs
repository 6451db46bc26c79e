//! The same exporter linked three ways (built in, native library, WebAssembly component) writes
//! the same files; hostile WebAssembly plugins are each stopped with a clear error while the
//! other exporters of the same run complete.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use arrow_array::{Decimal128Array, Int64Array, RecordBatch, StringArray};
use bexio_bi_export::dispatch::Dispatch;
use bexio_bi_export::native::Native;
use bexio_bi_export::wasm::Wasm;
use bexio_bi_export::{Batch, ExportError, Limits, Linked, OpenRequest, TracingHost};

/// Where guest builds go: beside the host's target directory, kept between runs.
fn guest_target() -> PathBuf {
    let host = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    host.join("wasm-guests")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds a crate with cargo (for `target`, with `features`); returns the artifact.
fn build(manifest: &Path, target: Option<&str>, features: &[&str], artifact: &str) -> PathBuf {
    let dir = guest_target();
    let mut c = Command::new(env!("CARGO"));
    c.arg("build")
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", &dir)
        .env_remove("RUSTFLAGS");
    if let Some(t) = target {
        c.args(["--target", t]);
    }
    if !features.is_empty() {
        c.arg("--features").arg(features.join(","));
    }
    let out = c.output().expect("cargo");
    assert!(
        out.status.success(),
        "building {}: {}",
        manifest.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let path = match target {
        Some(t) => dir.join(t).join("debug").join(artifact),
        None => dir.join("debug").join(artifact),
    };
    assert!(path.exists(), "{} was not built", path.display());
    path
}

fn temp(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let d = std::env::temp_dir().join(format!(
        "bexio-bi-export-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).expect("temp");
    d
}

fn invoices(from: i64, n: i64) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "invoice_key",
            Arc::new(Int64Array::from_iter_values(from..from + n)) as _,
        ),
        (
            "title",
            Arc::new(StringArray::from_iter_values(
                (from..from + n).map(|i| format!("Rechnung {i} für Müller & Söhne; «Zürich»")),
            )) as _,
        ),
        (
            "total",
            Arc::new(
                Decimal128Array::from_iter_values((from..from + n).map(|i| i as i128 * 105 - 7))
                    .with_precision_and_scale(18, 2)
                    .expect("decimal"),
            ) as _,
        ),
    ])
    .expect("batch")
}

fn request(out: &Path, config: serde_json::Value, limits: Limits) -> OpenRequest {
    OpenRequest {
        config,
        tables: vec![("fact_invoice".into(), invoices(0, 1).schema())],
        out_dir: out.to_owned(),
        host: Arc::new(TracingHost::new("test")),
        limits,
    }
}

fn run_all(
    plugins: Vec<(String, Arc<dyn Linked>, OpenRequest)>,
    batches: usize,
) -> Vec<(String, Result<bexio_bi_export::Summary, ExportError>)> {
    let mut sessions = Vec::new();
    let mut early = Vec::new();
    for (name, p, r) in plugins {
        match p.open(&r) {
            Ok(s) => sessions.push((name, s)),
            Err(e) => early.push((name, Err(e))),
        }
    }
    let mut d = Dispatch::start(sessions);
    for i in 0..batches {
        d.send(Batch::new("fact_invoice", invoices(i as i64 * 5000, 5000)));
    }
    let mut out: Vec<_> = d.finish().into_iter().map(|o| (o.name, o.result)).collect();
    out.extend(early);
    out
}

#[test]
fn one_exporter_three_linkages_same_files() {
    let csv = repo().join("plugins/csv/Cargo.toml");
    let wasm_path = build(&csv, Some("wasm32-wasip2"), &[], "bexio_bi_plugin_csv.wasm");
    let so = build(&csv, None, &[], "libbexio_bi_plugin_csv.so");
    let cache = temp("cache");
    let first = Wasm::load(&wasm_path, Some(&cache)).expect("load wasm");
    assert!(!first.loaded.cached);
    let again = Wasm::load(&wasm_path, Some(&cache)).expect("load again");
    assert!(again.loaded.cached, "the second load comes from the cache");
    assert!(
        again.loaded.elapsed < first.loaded.elapsed,
        "cached {:?} vs compiled {:?}",
        again.loaded.elapsed,
        first.loaded.elapsed
    );
    let linked: Vec<(String, Arc<dyn Linked>)> = vec![
        (
            "builtin".into(),
            bexio_bi_export::builtin::find("csv").expect("builtin csv"),
        ),
        (
            "native".into(),
            Arc::new(Native::load(&so).expect("load native")),
        ),
        ("wasm".into(), Arc::new(again)),
    ];
    let dirs: Vec<PathBuf> = linked.iter().map(|(n, _)| temp(n)).collect();
    let plugins = linked
        .iter()
        .zip(&dirs)
        .map(|((n, p), d)| {
            (
                n.clone(),
                Arc::clone(p),
                request(d, serde_json::json!({"excel": true}), Limits::default()),
            )
        })
        .collect();
    let results = run_all(plugins, 4);
    let mut files = Vec::new();
    for ((name, result), dir) in results.into_iter().zip(&dirs) {
        let s = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.tables["fact_invoice"], 20_000, "{name}");
        assert_eq!(s.files, vec!["fact_invoice.csv"], "{name}");
        files.push(std::fs::read(dir.join("fact_invoice.csv")).expect("file"));
    }
    assert_eq!(files[0], files[1], "native writes what built-in writes");
    assert_eq!(files[0], files[2], "wasm writes what built-in writes");
    let text = String::from_utf8(files[0].clone()).expect("utf8");
    assert!(text.starts_with("\u{feff}invoice_key;title;total\r\n"));
    assert!(
        text.contains("1;\"Rechnung 1 für Müller & Söhne; «Zürich»\";0.98\r\n"),
        "{}",
        &text[..300]
    );
}

#[test]
fn hostile_components_are_stopped_and_the_others_finish() {
    let hostile = repo().join("tests/plugins/hostile/Cargo.toml");
    let csv = repo().join("plugins/csv/Cargo.toml");
    let csv_wasm = build(&csv, Some("wasm32-wasip2"), &[], "bexio_bi_plugin_csv.wasm");
    let cache = temp("hostile-cache");
    let limits = Limits {
        memory_bytes: 64 << 20,
        call_timeout: std::time::Duration::from_millis(1500),
    };
    for (feature, expect) in [
        ("spin", "stopped after"),
        ("memory", "memory limit of 64 MB"),
        ("passwd", "passwd"),
        ("escape", "escaped"),
        ("socket", "hostile"),
        ("trap", "trapped in write on purpose"),
    ] {
        let built = build(&hostile, Some("wasm32-wasip2"), &[feature], "hostile.wasm");
        let copy = temp(feature).join(format!("hostile-{feature}.wasm"));
        std::fs::copy(&built, &copy).expect("copy");
        let bad: Arc<dyn Linked> = Arc::new(Wasm::load(&copy, Some(&cache)).expect("load hostile"));
        let good: Arc<dyn Linked> =
            Arc::new(Wasm::load(&csv_wasm, Some(&cache)).expect("load csv"));
        let bad_dir = temp(&format!("{feature}-out"));
        let good_dir = temp(&format!("{feature}-csv"));
        let started = std::time::Instant::now();
        let results = run_all(
            vec![
                (
                    "hostile".into(),
                    bad,
                    request(&bad_dir, serde_json::json!({}), limits),
                ),
                (
                    "csv".into(),
                    good,
                    request(&good_dir, serde_json::json!({}), limits),
                ),
            ],
            3,
        );
        assert!(
            started.elapsed().as_secs() < 30,
            "{feature} took {:?}",
            started.elapsed()
        );
        let (_, hostile_result) = &results[0];
        let e = match hostile_result {
            Err(e) => e.to_string(),
            Ok(s) => panic!("{feature}: the hostile plugin succeeded: {s:?}"),
        };
        assert!(
            e.contains("hostile")
                && (e.contains(expect)
                    || feature == "passwd"
                    || feature == "escape"
                    || feature == "socket"),
            "{feature}: {e}"
        );
        let (_, csv_result) = &results[1];
        let s = csv_result
            .as_ref()
            .unwrap_or_else(|e| panic!("{feature}: csv failed: {e}"));
        assert_eq!(s.tables["fact_invoice"], 15_000, "{feature}");
        // Nothing escaped the sandbox.
        assert!(
            !bad_dir.join("passwd.txt").exists()
                || std::fs::read_to_string(bad_dir.join("passwd.txt"))
                    .map_or(true, |t| !t.contains("root:"))
        );
        assert!(
            !bad_dir
                .parent()
                .expect("parent")
                .join("escaped.txt")
                .exists()
        );
        eprintln!("{feature}: {e}");
    }
}

#[test]
fn wrong_interface_bad_checksum_and_malformed_manifests_are_refused() {
    use bexio_bi_export::manifest::Manifest;
    use bexio_bi_export::registry::{Entry, Origin};

    // A component built against bexio-bi:exporter@2.0.0, which this host does not implement.
    let future = build(
        &repo().join("tests/plugins/future/Cargo.toml"),
        Some("wasm32-wasip2"),
        &[],
        "future.wasm",
    );
    let e = match Wasm::load(&future, None) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a component of interface 2 was loaded"),
    };
    assert!(
        e.contains("future.wasm")
            && e.contains("built for the plugin interface bexio-bi:exporter@2.0.0")
            && e.contains("implements bexio-bi:exporter@1.0.0")
            && e.contains("bexio-bi-plugin-sdk 1.x"),
        "{e}"
    );
    eprintln!("wrong interface (wasm): {e}");

    // A native library of C ABI version 2.
    let built = build(
        &repo().join("tests/plugins/hostile/Cargo.toml"),
        None,
        &["abi2"],
        &format!(
            "{}hostile{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ),
    );
    let lib = temp("abi2").join(format!("abi2{}", std::env::consts::DLL_SUFFIX));
    std::fs::copy(&built, &lib).expect("copy");
    let e = match Native::load(&lib) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a library of ABI 2 was loaded"),
    };
    assert!(e.contains("ABI") && e.contains('2'), "{e}");
    eprintln!("wrong interface (native): {e}");

    // A good component whose file no longer matches the sha256 its manifest pins.
    let csv_wasm = build(
        &repo().join("plugins/csv/Cargo.toml"),
        Some("wasm32-wasip2"),
        &[],
        "bexio_bi_plugin_csv.wasm",
    );
    let dir = temp("checksum");
    let mut bytes = std::fs::read(&csv_wasm).expect("read");
    std::fs::write(dir.join("csv.wasm"), &bytes).expect("write");
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let text = format!(
        "manifest_version = 1\n\n[plugin]\nname = \"csv\"\nversion = \"1.0.0\"\nkind = \"wasm\"\ninterface = 1\n\n[artifact]\npath = \"csv.wasm\"\nsha256 = \"{sha}\"\n"
    );
    std::fs::write(dir.join("csv.toml"), &text).expect("manifest");
    let entry = |m| Entry {
        manifest: m,
        origin: Origin::Dir(dir.clone()),
        shadows: Vec::new(),
    };
    let good = Manifest::load(&dir.join("csv.toml")).expect("manifest reads");
    entry(good.clone())
        .load(None)
        .expect("the intact component loads");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.join("csv.wasm"), &bytes).expect("tamper");
    let e = match entry(good).load(None) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a tampered component was loaded"),
    };
    assert!(
        e.contains("csv refused")
            && e.contains("does not match the sha256")
            && e.contains("reinstall"),
        "{e}"
    );
    eprintln!("bad checksum: {e}");

    // Malformed manifests: each names the file and the line.
    for (broken, needle) in [
        (
            text.replace("kind = \"wasm\"", "kind = \"wasm"),
            "broken.toml:6",
        ),
        (
            text.replace("interface = 1", "interface = 2"),
            "interface 2",
        ),
        (text.replace("[artifact]\n", ""), "unknown field"),
    ] {
        std::fs::write(dir.join("broken.toml"), &broken).expect("write");
        let e = Manifest::load(&dir.join("broken.toml"))
            .expect_err(needle)
            .to_string();
        assert!(e.contains("broken.toml") && e.contains(needle), "{e}");
        eprintln!("malformed manifest: {e}");
    }
}

#[test]
fn granted_hosts_and_secrets_reach_a_component_and_nothing_else() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = format!("127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let built = build(
        &repo().join("tests/plugins/hostile/Cargo.toml"),
        Some("wasm32-wasip2"),
        &["socket"],
        "hostile.wasm",
    );
    let copy = temp("granted").join("hostile-granted.wasm");
    std::fs::copy(&built, &copy).expect("copy");
    let run = |grant: &str, secrets: &[(&str, &str)]| {
        let mut wasm = Wasm::load(&copy, None).expect("load");
        wasm.grant_network(vec![grant.to_owned()]);
        let mut host = TracingHost::new("hostile");
        host.secrets = secrets
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut r = request(
            &temp("granted-out"),
            serde_json::json!({ "connect": addr }),
            Limits::default(),
        );
        r.host = Arc::new(host);
        run_all(vec![("hostile".into(), Arc::new(wasm), r)], 1)
            .remove(0)
            .1
    };
    // Granted: it connects, and reads the secret granted to it.
    let s = run(&addr, &[("token", "s3cret")]).expect("granted host");
    assert!(s.notes.iter().any(|n| n == "connected"), "{:?}", s.notes);
    assert!(
        s.notes.iter().any(|n| n == "secret token: 6 bytes"),
        "{:?}",
        s.notes
    );
    // Another host granted: this one is refused; no secret granted: none seen.
    let e = run("127.0.0.1:9", &[]).expect_err("not granted");
    assert!(e.to_string().contains("denied"), "{e}");
    drop(listener);
}
