//! Property test: random tables (NULLs, empty strings, one-value and all-NULL columns, huge and
//! negative numbers, long and non-ASCII text, names needing XML escapes) written by the QVD
//! writer and read back by the three independent readers (pyqvd, openqvd, qvdrs), every value
//! compared. The cases come from fixed seeds, so a failure names one that reproduces it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bexio_bi_plugin_qvd::Qvd;
use bexio_bi_plugin_sdk::arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use bexio_bi_plugin_sdk::testing::Harness;
use chrono::NaiveDateTime;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CASES: u64 = 40;

/// What a reader must give back for one cell.
#[derive(Debug, Clone)]
enum Expected {
    Null,
    Int(i64),
    /// A decimal: its number and its exact text.
    Decimal(f64, String),
    Date(String, i32),
    Timestamp(NaiveDateTime),
    Bool(bool),
    Float(f64),
    Text(String),
}

fn num(x: &str) -> Option<f64> {
    x.parse::<f64>().ok()
}

impl Expected {
    /// Whether a reader's tagged value (see tests/python/qvd_read.py) is this value.
    fn matches(&self, got: &serde_json::Value) -> bool {
        let (tag, x) = match got.as_array().map(|a| a.as_slice()) {
            Some([t, x]) => (t.as_str().unwrap_or(""), x.as_str().unwrap_or("")),
            _ => return got.is_null() && matches!(self, Expected::Null),
        };
        match self {
            Expected::Null => false,
            Expected::Int(v) => match tag {
                "n" => num(x) == Some(*v as f64),
                _ => x == v.to_string(),
            },
            Expected::Decimal(f, text) => match tag {
                "n" => num(x) == Some(*f),
                _ => x == text,
            },
            Expected::Date(iso, qlik_day) => match tag {
                "n" => num(x) == Some(f64::from(*qlik_day)),
                _ => x == iso,
            },
            Expected::Timestamp(t) => match tag {
                "s" => x == t.format("%Y-%m-%d %H:%M:%S").to_string(),
                _ => NaiveDateTime::parse_from_str(x, "%Y-%m-%d %H:%M:%S%.f").is_ok_and(|r| {
                    (r - *t)
                        .num_microseconds()
                        .is_some_and(|d| d.abs() <= 1_000)
                }),
            },
            Expected::Bool(b) => match tag {
                "n" => x == if *b { "-1" } else { "0" },
                _ => x == if *b { "true" } else { "false" },
            },
            Expected::Float(f) => num(x) == Some(*f),
            Expected::Text(s) => tag == "s" && x == s,
        }
    }
}

struct Case {
    names: Vec<String>,
    batches: Vec<RecordBatch>,
    /// Row-major.
    expected: Vec<Vec<Expected>>,
}

const LETTERS: &[char] = &[
    'a', 'b', 'Z', '0', '9', ' ', ';', '"', '<', '&', 'ä', 'ö', 'ü', 'é', 'è', 'ß', '€', '\'', '\n',
];

fn text(rng: &mut ChaCha8Rng) -> String {
    let len = match rng.random_range(0..10) {
        0 => 0,
        1 => rng.random_range(2_000..6_000),
        _ => rng.random_range(1..24),
    };
    (0..len)
        .map(|_| LETTERS[rng.random_range(0..LETTERS.len())])
        .collect()
}

/// One random column of `rows` values: its Arrow array and what must come back.
fn column(rng: &mut ChaCha8Rng, rows: usize) -> (ArrayRef, Vec<Expected>) {
    // How NULLs and repeats are spread in this column.
    let null_rate = [0.0, 0.0, 0.1, 0.5, 1.0][rng.random_range(0..5)];
    let one_value = rng.random_bool(0.15);
    let pick = |rng: &mut ChaCha8Rng| !rng.random_bool(null_rate);
    let zone = chrono_tz::Europe::Zurich;
    macro_rules! col {
        ($gen:expr, $arr:expr, $exp:expr) => {{
            let first = $gen(&mut *rng);
            let values: Vec<_> = (0..rows)
                .map(|_| {
                    pick(rng).then(|| {
                        if one_value {
                            first.clone()
                        } else {
                            $gen(&mut *rng)
                        }
                    })
                })
                .collect();
            let expected = values
                .iter()
                .map(|v| v.clone().map_or(Expected::Null, $exp))
                .collect();
            (Arc::new($arr(values)) as ArrayRef, expected)
        }};
    }
    match rng.random_range(0..8) {
        0 => col!(
            |r: &mut ChaCha8Rng| match r.random_range(0..4) {
                0 => r.random_range(-100..100),
                1 => r.random::<i64>(),
                2 => [
                    i64::MIN,
                    i64::MAX,
                    i64::from(i32::MIN),
                    i64::from(i32::MAX) + 1
                ][r.random_range(0..4)],
                _ => r.random_range(-2_000_000_000..2_000_000_000),
            },
            Int64Array::from,
            Expected::Int
        ),
        1 => col!(
            |r: &mut ChaCha8Rng| match r.random_range(0..3) {
                0 => r.random_range(-100_000i128..100_000),
                1 => r.random_range(-10i128.pow(15)..10i128.pow(15)),
                _ => 0,
            },
            |v: Vec<Option<i128>>| Decimal128Array::from(v)
                .with_precision_and_scale(18, 2)
                .expect("decimal"),
            |v: i128| {
                let text = format!(
                    "{}{}.{:02}",
                    if v < 0 { "-" } else { "" },
                    v.unsigned_abs() / 100,
                    v.unsigned_abs() % 100
                );
                Expected::Decimal(text.parse().expect("f64"), text)
            }
        ),
        2 => col!(
            |r: &mut ChaCha8Rng| r.random_range(-25_000..60_000),
            Date32Array::from,
            |d: i32| {
                let day = chrono::DateTime::from_timestamp(i64::from(d) * 86_400, 0)
                    .expect("date")
                    .date_naive();
                Expected::Date(day.format("%Y-%m-%d").to_string(), d + 25_569)
            }
        ),
        3 => col!(
            |r: &mut ChaCha8Rng| r.random_range(-2_000_000_000_000_000i64..4_000_000_000_000_000),
            |v: Vec<Option<i64>>| TimestampMicrosecondArray::from(v).with_timezone("UTC"),
            |us: i64| Expected::Timestamp(
                chrono::DateTime::from_timestamp_micros(us)
                    .expect("ts")
                    .with_timezone(&zone)
                    .naive_local()
            )
        ),
        4 => col!(
            |r: &mut ChaCha8Rng| r.random_bool(0.5),
            BooleanArray::from,
            Expected::Bool
        ),
        5 => col!(
            |r: &mut ChaCha8Rng| match r.random_range(0..3) {
                0 => r.random_range(-1e6..1e6),
                1 => r.random::<f64>() * 1e300 * if r.random_bool(0.5) { -1.0 } else { 1.0 },
                _ => (r.random_range(-1000..1000) as f64) / 8.0,
            },
            Float64Array::from,
            Expected::Float
        ),
        _ => col!(text, StringArray::from, Expected::Text),
    }
}

fn case(seed: u64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = match rng.random_range(0..6) {
        0 => 0,
        1 => 1,
        _ => rng.random_range(2..300),
    };
    let width = rng.random_range(1..7);
    let mut names = Vec::new();
    let mut arrays = Vec::new();
    let mut by_column = Vec::new();
    for c in 0..width {
        let name = match rng.random_range(0..4) {
            0 => format!("Betrag (CHF) {c}"),
            1 => format!("Straße & <Ort> \"{c}\""),
            _ => format!("col_{c}"),
        };
        let (array, expected) = column(&mut rng, rows);
        names.push(name);
        arrays.push(array);
        by_column.push(expected);
    }
    let batch = RecordBatch::try_from_iter(names.iter().cloned().zip(arrays)).expect("batch");
    // Up to three batches, so that the writer's streaming is exercised.
    let mut batches = Vec::new();
    let cuts = [0, rows / 3, rows * 2 / 3, rows];
    for w in cuts.windows(2) {
        if w[1] > w[0] || (rows == 0 && batches.is_empty()) {
            batches.push(batch.slice(w[0], w[1] - w[0]));
        }
    }
    let expected = (0..rows)
        .map(|r| by_column.iter().map(|c| c[r].clone()).collect())
        .collect();
    Case {
        names,
        batches,
        expected,
    }
}

fn python() -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/venv.sh");
    let out = Command::new("bash").arg(&script).output().expect("venv.sh");
    assert!(
        out.status.success(),
        "the readers' venv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn read_all(python: &Path, dir: &Path) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/qvd_read.py");
    let out = Command::new(python)
        .arg(script)
        .arg(dir)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "qvd_read.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn random_tables_round_trip_through_three_independent_readers() {
    let dir = std::env::temp_dir().join(format!("bexio-bi-qvd-prop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let cases: Vec<Case> = (0..CASES).map(case).collect();
    for (seed, c) in cases.iter().enumerate() {
        // Dictionaries in memory, none in memory (every value through the partition files),
        // and a budget used up part way through the table.
        let dictionary_mb = [256.0, 0.0, 0.002][seed % 3];
        let out = Harness::<Qvd>::new()
            .config(serde_json::json!({ "dictionary_mb": dictionary_mb }))
            .out_dir(&dir)
            .table(&format!("case_{seed}"), c.batches.clone())
            .run()
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(
            out.summary.tables[&format!("case_{seed}")],
            c.expected.len() as u64
        );
    }
    let found = read_all(&python(), &dir);
    let mut checked = 0;
    for (seed, c) in cases.iter().enumerate() {
        let file = &found[format!("case_{seed}.qvd")];
        for reader in ["pyqvd", "openqvd", "qvdrs"] {
            let got = &file[reader];
            let at = format!("seed {seed}, {reader}");
            assert!(got["error"].is_null(), "{at}: {}", got["error"]);
            let names: Vec<&str> = got["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .filter_map(|f| f.as_str())
                .collect();
            // openqvd 2.0 drops XML character references (and the spaces beside them) from
            // field names, so `a & b` comes back `ab`; pyqvd and qvdrs read them as written.
            let escaped = |n: &str| n.contains(['&', '<', '>', '"', '\'']);
            if reader == "openqvd" {
                for (n, want) in names.iter().zip(&c.names) {
                    assert!(
                        escaped(want) || n == want,
                        "{at}: field {want:?} read as {n:?}"
                    );
                }
            } else {
                assert_eq!(names, c.names, "{at}: field names");
            }
            let rows = got["rows"].as_array().expect("rows");
            assert_eq!(rows.len(), c.expected.len(), "{at}: rows");
            for (r, (want, row)) in c.expected.iter().zip(rows).enumerate() {
                for (col, (w, g)) in want.iter().zip(row.as_array().expect("row")).enumerate() {
                    assert!(
                        w.matches(g),
                        "{at}: row {r}, field {:?}: wrote {w:?}, read {g}",
                        c.names[col]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} values checked");
    eprintln!("{CASES} random tables, {checked} values checked in three readers");
    let _ = std::fs::remove_dir_all(&dir);
}
