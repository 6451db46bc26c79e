//! Plugins as an operator meets them: list, info, enable with grants, install, export through
//! several at once; and the SDK's "hello exporter" walkthrough run verbatim.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Synced, bin, json, ok};

/// Where guest builds go: beside the host's target directory, kept between runs.
fn guest_target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
        .join("wasm-guests")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The CSV plugin built as a WebAssembly component.
fn csv_component() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["build", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(repo().join("plugins/csv/Cargo.toml"))
        .env("CARGO_TARGET_DIR", guest_target())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    guest_target().join("wasm32-wasip2/debug/bexio_bi_plugin_csv.wasm")
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn export_through_plugins_with_grants() {
    let acme = Synced::new(
        "plugins",
        &["--invoices", "300", "--time-scale", "60", "--seed", "11"],
    );
    let run = |args: &[&str]| acme.run(args);
    let home = &acme.home;
    let fails = |args: &[&str], code: i32, needles: &[&str]| {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {n:?} not in {err}");
        }
        err
    };
    let stored = json(run(&["tables", "--json"]));
    let rows_of = |table: &str| {
        stored[0]["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .find(|t| t["name"] == table)
            .and_then(|t| t["rows"].as_u64())
            .unwrap_or_else(|| panic!("no {table}"))
    };
    let company = stored[0]["tenant"].as_str().expect("tenant").to_owned();

    // Shipped, built in, nothing enabled yet.
    let list = json(run(&["plugins", "list", "--json"]));
    let names: Vec<&str> = list["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert!(
        names.contains(&"parquet") && names.contains(&"csv"),
        "{list}"
    );
    fails(&["export"], 2, &["no plugin to export to", "--to parquet"]);
    fails(&["export", "--to", "qvd9"], 2, &["qvd9", "known: "]);

    // Two plugins, one pass over the data.
    let out_dir = home.join("exports");
    let report = json(run(&[
        "export",
        "--to",
        "parquet,csv",
        "--out",
        out_dir.to_str().expect("utf8"),
        "--json",
    ]));
    let exports = report["exports"].as_array().expect("exports");
    assert_eq!(exports.len(), 2, "{report}");
    for e in exports {
        assert!(e["error"].is_null(), "{e}");
        assert_eq!(
            e["summary"]["tables"]["fact_invoice"].as_u64(),
            Some(rows_of("fact_invoice")),
            "{e}"
        );
    }
    let parquet_dir = out_dir.join(&company).join("parquet");
    let csv_builtin = files(&out_dir.join(&company).join("csv"));
    assert!(parquet_dir.join("fact_invoice.parquet").exists());
    assert!(
        csv_builtin.iter().any(|(n, _)| n == "dim_contact.csv"),
        "{:?}",
        csv_builtin.iter().map(|f| &f.0).collect::<Vec<_>>()
    );

    // Configuration is checked against the plugin's schema before it is stored.
    fails(
        &[
            "plugins",
            "enable",
            "parquet",
            "--config",
            r#"{"compression": "lz4", "zstd_level": 99}"#,
        ],
        2,
        &[
            "parquet: the configuration is wrong",
            "compression",
            "zstd_level",
            "plugins info parquet",
        ],
    );
    ok(run(&[
        "plugins",
        "enable",
        "parquet",
        "--config",
        r#"{"format": "arrow"}"#,
    ]));
    let info = json(run(&["plugins", "info", "parquet", "--json"]));
    assert_eq!(info["granted"]["enabled"], true, "{info}");
    assert_eq!(info["granted"]["config"]["format"], "arrow", "{info}");
    assert!(info["config_schema"]["properties"]["compression"].is_object());
    let report = json(run(&[
        "export",
        "--tables",
        "invoices",
        "--json",
        "--out",
        out_dir.to_str().expect("utf8"),
    ]));
    assert_eq!(
        report["exports"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert!(parquet_dir.join("fact_invoice.arrow").exists());
    ok(run(&["plugins", "disable", "parquet"]));
    fails(&["export"], 2, &["no plugin to export to"]);
    let toml = std::fs::read_to_string(home.join("plugins.toml")).expect("plugins.toml");
    assert!(
        toml.contains("enabled = false") && toml.contains("format = \"arrow\""),
        "{toml}"
    );

    // The CSV plugin installed as a WebAssembly component hides the built-in one.
    let component = csv_component();
    ok(run(&[
        "plugins",
        "install",
        component.to_str().expect("utf8"),
    ]));
    fails(
        &["plugins", "install", component.to_str().expect("utf8")],
        2,
        &["installed already", "--force"],
    );
    let list = json(run(&["plugins", "list", "--json"]));
    let csv = list["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["name"] == "csv")
        .expect("csv")
        .clone();
    assert_eq!(csv["kind"], "wasm", "{list}");
    assert_eq!(csv["shadows"].as_array().map(Vec::len), Some(1), "{list}");

    // It asks for a secret: refused until the operator grants it.
    let manifest = home.join("plugins/csv/csv.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(
        &manifest,
        text.replace(
            "[capabilities]\n",
            "[capabilities]\nsecrets = [\"sftp_password\"]\n",
        ),
    )
    .expect("write");
    let wasm_out = home.join("exports-wasm");
    let wasm_out = wasm_out.to_str().expect("utf8");
    fails(
        &["export", "--to", "csv", "--out", wasm_out],
        1,
        &[
            "csv refused",
            "sftp_password",
            "bexio-bi plugins enable csv --allow-secret sftp_password",
        ],
    );
    let mut child = bin()
        .env("BEXIO_BI_HOME", home)
        .args(["plugins", "secret", "sftp_password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("secret");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"hunter2\n")
            .expect("write");
    }
    assert!(child.wait().expect("wait").success());
    ok(run(&[
        "plugins",
        "enable",
        "csv",
        "--allow-secret",
        "sftp_password",
    ]));
    let report = json(run(&["export", "--to", "csv", "--out", wasm_out, "--json"]));
    assert!(report["exports"][0]["error"].is_null(), "{report}");
    // Sandboxed or built in: the same bytes.
    assert_eq!(
        files(&Path::new(wasm_out).join(&company).join("csv")),
        csv_builtin
    );
    // Nothing of the secret in clear on disk.
    for f in walk(home) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !bytes.windows(7).any(|w| w == b"hunter2"),
            "{} holds the secret in clear",
            f.display()
        );
    }

    // A component changed after installation is refused before anything runs.
    let installed = home.join("plugins/csv/csv.wasm");
    let mut bytes = std::fs::read(&installed).expect("read");
    let n = bytes.len() / 2;
    bytes[n] ^= 0x55;
    std::fs::write(&installed, bytes).expect("tamper");
    let fresh = home.join("exports-tampered");
    fails(
        &[
            "export",
            "--to",
            "parquet,csv",
            "--out",
            fresh.to_str().expect("utf8"),
        ],
        1,
        &["csv refused", "does not match the sha256", "reinstall"],
    );
    assert!(
        !fresh.exists(),
        "something was exported although a plugin was refused"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The "Hello, exporter" steps of plugin-sdk/README.md, as written, from an empty directory.
#[test]
fn hello_exporter_walkthrough_runs_verbatim() {
    let readme =
        std::fs::read_to_string(repo().join("plugin-sdk/README.md")).expect("plugin-sdk/README.md");
    let section = &readme[readme.find("## Hello, exporter").expect("the section")..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let script = &section[start..start + section[start..].find("\n```").expect("block end")];
    let dir = std::env::temp_dir().join(format!("bexio-bi-hello-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_bexio-bi"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(&dir)
        .env("PATH", path)
        .env(
            "BEXIO_BI_SDK",
            repo().join("plugin-sdk").canonicalize().expect("sdk"),
        )
        .env("BEXIO_BI_HOME", dir.join(".bexio-bi"))
        // As a plugin author runs it: cargo's defaults, not the test's build settings.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("BEXIO_BI_PASSWORD")
        .env_remove("BEXIO_BI_PLUGIN_PATH")
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the walkthrough failed:\n{stdout}\n{stderr}"
    );
    let hello = std::fs::read_to_string(dir.join("hello/out/hello.txt")).expect("hello.txt");
    assert!(hello.starts_with("hello fact_invoice: "), "{hello}");
    let rows: u64 = hello
        .lines()
        .map(|l| {
            l.rsplit_once(": ")
                .and_then(|(_, n)| n.trim_end_matches(" rows").parse::<u64>().ok())
                .expect("a count")
        })
        .sum();
    assert!(rows > 0, "{hello}");
    assert!(
        stdout.contains(&format!("hello (wasm) wrote {rows} rows of fact_invoice")),
        "{stdout}"
    );
    assert!(stdout.contains("installed hello 0.1.0 (wasm)"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
