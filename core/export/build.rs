//! Builds the first-party WebAssembly plugins that ship inside bexio-bi (the QVD writer) for
//! `wasm32-wasip2`, so that `bexio-bi export --to qvd` runs them sandboxed with nothing to
//! install. They are built by a second cargo, into `wasm-guests/` beside the host's target
//! directory, in the host's profile.
//!
//! Without the `wasm32-wasip2` target (or with `BEXIO_BI_NO_EMBEDDED_WASM=1`) bexio-bi is built
//! without them and says so when one is asked for.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (crate, library file stem, name embedded as)
const EMBEDDED: &[(&str, &str, &str)] = &[("bexio-bi-plugin-qvd", "bexio_bi_plugin_qvd", "qvd")];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir.join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    for watched in [
        "plugins/qvd/src",
        "plugins/qvd/Cargo.toml",
        "plugin-sdk/src",
        "plugin-sdk/wit",
        "plugin-sdk/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=BEXIO_BI_NO_EMBEDDED_WASM");
    let skip = std::env::var("BEXIO_BI_NO_EMBEDDED_WASM").is_ok_and(|v| v == "1");
    for (krate, stem, name) in EMBEDDED {
        let dest = out.join(format!("{name}.wasm"));
        let built = if skip {
            Err(Missing::Target("BEXIO_BI_NO_EMBEDDED_WASM=1".to_owned()))
        } else {
            build(&root, krate, stem, &out)
        };
        match built {
            Ok(artifact) => {
                std::fs::copy(&artifact, &dest).expect("copying the component into OUT_DIR");
            }
            Err(Missing::Other(why)) => {
                panic!("building the {name} plugin for wasm32-wasip2 failed:\n{why}")
            }
            Err(Missing::Target(why)) => {
                println!(
                    "cargo:warning=bexio-bi is built without its {name} plugin ({why}): run `rustup target add wasm32-wasip2` and build again"
                );
                // An empty file: the host treats it as absent.
                std::fs::write(&dest, b"").expect("writing into OUT_DIR");
            }
        }
    }
}

/// Why a component is not embedded: the target is missing (a warning), or its build failed (an error).
enum Missing {
    Target(String),
    Other(String),
}

fn build(root: &Path, krate: &str, stem: &str, out: &Path) -> Result<PathBuf, Missing> {
    let profile = if std::env::var("PROFILE").is_ok_and(|p| p == "release") {
        "release"
    } else {
        "debug"
    };
    // Beside the host's target directory when it is known, else inside this build's OUT_DIR.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("wasm-guests"))
        .unwrap_or_else(|| out.join("wasm-guests"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args([
            "-p",
            krate,
            "--target",
            "wasm32-wasip2",
            "--locked",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        // What the outer cargo set for the host (clippy's driver, host flags) is not for the guest.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTFLAGS")
        // 64×64→128-bit multiplies as one instruction (wasmtime's `wide-arithmetic`, enabled by
        // the host's engine): the dictionaries' hash is built on them.
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            "-Ctarget-feature=+wide-arithmetic",
        )
        // A component ships as one optimized unit: calls across crates (Arrow's accessors, the
        // SDK) inline, which matters more than natively (a WebAssembly call costs more).
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    if profile == "release" {
        c.arg("--release");
    }
    let output = c
        .output()
        .map_err(|e| Missing::Other(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        return Err(
            if stderr.contains("wasm32-wasip2") && stderr.contains("target may not be installed") {
                Missing::Target("the Rust target wasm32-wasip2 is not installed".to_owned())
            } else {
                Missing::Other(stderr)
            },
        );
    }
    let artifact = target_dir
        .join("wasm32-wasip2")
        .join(profile)
        .join(format!("{stem}.wasm"));
    if artifact.exists() {
        Ok(artifact)
    } else {
        Err(Missing::Other(format!(
            "{} was not built",
            artifact.display()
        )))
    }
}
