//! Qlik QVD files, one per table, for Qlik Sense and QlikView (`LOAD * FROM [lib://…/fact_invoice.qvd] (qvd)`).
//!
//! Meant to run as a WebAssembly component: it needs nothing but its output directory. Values
//! keep their meaning in Qlik:
//! - whole numbers are numbers; integers beyond 32 bits are duals (the number and its exact text);
//! - decimals (money) are duals of the number and its exact text (`1234.50`), formatted `#,##0.00`,
//!   so Qlik shows and sums them like money and the text never loses a cent;
//! - dates are duals of Qlik's day number (days since 1899-12-30) and `YYYY-MM-DD`, typed DATE;
//! - timestamps are duals of Qlik's fractional day in Swiss time (Qlik has no time zones) and
//!   `YYYY-MM-DD hh:mm:ss`, typed TIMESTAMP;
//! - booleans are Qlik's duals −1 `true` / 0 `false`; text is text; NULL is NULL (Bias −2).
//!
//! The format is written by [`qvd`]; memory grows with the distinct values of a table, not with
//! its rows.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_cast::display::{ArrayFormatter, FormatOptions};
use bexio_bi_plugin_sdk::arrow_array::cast::AsArray;
use bexio_bi_plugin_sdk::arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Decimal128Type, DecimalType, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use bexio_bi_plugin_sdk::arrow_array::{
    Array, ArrayRef, GenericStringArray, OffsetSizeTrait, PrimitiveArray,
};
use bexio_bi_plugin_sdk::arrow_schema::TimeUnit;
use bexio_bi_plugin_sdk::{
    Context, DataType, Error, Exporter, Host, PluginInfo, RecordBatch, Summary,
};
use serde::Deserialize;

mod digits;
pub mod qvd;
mod slots;

use qvd::{FieldType, Symbol, TableWriter};

/// Days from Qlik's day 0 (1899-12-30) to 1970-01-01.
const QLIK_UNIX_DAYS: i32 = 25_569;

/// The configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The time zone timestamps are shown in.
    #[serde(default = "default_zone")]
    time_zone: String,
    /// Memory for each table's dictionaries (distinct values), in MB; beyond it the values go
    /// through disk.
    #[serde(default = "default_dictionary_mb")]
    dictionary_mb: f64,
}

fn default_dictionary_mb() -> f64 {
    256.0
}

fn default_zone() -> String {
    "Europe/Zurich".into()
}

const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "time_zone": {"type": "string", "minLength": 1, "description": "IANA time zone timestamps are shown in (default: Europe/Zurich; Qlik has no time zones)"},
    "dictionary_mb": {"type": "number", "minimum": 0, "description": "Memory for a table's distinct values, in MB (default 256); past it they are deduplicated through files beside the output, so memory stays flat however large the table"}
  }
}"#;

/// How a column's values become symbols.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    BigInt,
    Float,
    Decimal(i8),
    Date,
    Timestamp,
    Bool,
    Text,
    Other,
}

fn kind_of(t: &DataType) -> (Kind, FieldType) {
    match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            (Kind::Int, FieldType::Integer)
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => (Kind::BigInt, FieldType::Integer),
        DataType::Float32 | DataType::Float64 => (Kind::Float, FieldType::Real),
        DataType::Decimal128(_, s) => (
            Kind::Decimal(*s),
            FieldType::Fixed(u8::try_from(*s).unwrap_or(0)),
        ),
        DataType::Date32 => (Kind::Date, FieldType::Date),
        DataType::Timestamp(..) => (Kind::Timestamp, FieldType::Timestamp),
        DataType::Boolean => (Kind::Bool, FieldType::Integer),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => (Kind::Text, FieldType::Text),
        _ => (Kind::Other, FieldType::Text),
    }
}

/// Powers of ten that doubles hold exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Appends a dual symbol of a double whose text `text` writes (ASCII, no NUL); `number` gets
/// the text written, for numbers computed from it.
#[inline]
fn dual_double(
    out: &mut Vec<u8>,
    text: impl FnOnce(&mut Vec<u8>),
    number: impl FnOnce(&[u8]) -> f64,
) {
    out.push(6);
    let at = out.len();
    out.extend_from_slice(&[0; 8]);
    text(out);
    let n = number(&out[at + 8..]);
    out[at..at + 8].copy_from_slice(&n.to_le_bytes());
    out.push(0);
}

/// The double a number's text means (NaN if it is not one, which our texts always are).
fn parse(text: &[u8]) -> f64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::NAN)
}

/// A decimal's symbol: its number (the double nearest the exact value) and its exact text.
fn decimal_symbol(out: &mut Vec<u8>, v: i128, scale: i8, s: &mut String) {
    let abs = v.unsigned_abs();
    // Amounts below 2^64 with up to 19 places (all of them, in practice): written directly.
    if let (Ok(abs), Ok(places @ 0..=19)) = (u64::try_from(abs), u32::try_from(scale)) {
        let unit = 10u64.pow(places);
        dual_double(
            out,
            |out| {
                if v < 0 {
                    out.push(b'-');
                }
                digits::push_u64(out, abs / unit);
                if places > 0 {
                    out.push(b'.');
                    digits::push_padded(out, abs % unit, places as usize);
                }
            },
            // Both operands exact and IEEE division correctly rounded: the same double as
            // parsing the text; beyond 2^53 the text is parsed.
            |text| {
                if abs < 1 << 53 {
                    let n = abs as f64 / POW10[places as usize];
                    if v < 0 { -n } else { n }
                } else {
                    parse(text)
                }
            },
        );
        return;
    }
    s.clear();
    let n = if (0..=22).contains(&scale) {
        let scale = scale as u32;
        let abs = v.unsigned_abs();
        let unit = 10u128.pow(scale);
        if v < 0 {
            s.push('-');
        }
        let _ = write!(s, "{}", abs / unit);
        if scale > 0 {
            let _ = write!(s, ".{:0width$}", abs % unit, width = scale as usize);
        }
        // Both operands exact and IEEE division correctly rounded: the same double as
        // parsing the text; beyond 2^53 the text is parsed.
        if abs < 1 << 53 {
            v as f64 / POW10[scale as usize]
        } else {
            s.parse().unwrap_or(f64::NAN)
        }
    } else {
        s.push_str(&Decimal128Type::format_decimal(v, 38, scale));
        s.parse().unwrap_or(f64::NAN)
    };
    Symbol::DualDouble(n, s).encode(out);
}

/// The UTC offset of a time zone, remembered for the hour asked last.
struct Zone {
    tz: chrono_tz::Tz,
    /// The hour (since 1970, UTC) and its offset in microseconds, when constant in that hour.
    hour: Option<(i64, i64)>,
    /// The local day (since 1970) whose `YYYY-MM-DD` starts `stamp`: timestamps come in runs of
    /// one day (a day's records, a sync's updates), and its date is written once.
    day: Option<i64>,
    /// `YYYY-MM-DD hh:mm:ss` of the last timestamp written.
    stamp: [u8; 19],
}

impl Zone {
    const HOUR: i64 = 3_600_000_000;

    fn new(tz: chrono_tz::Tz) -> Zone {
        Zone {
            tz,
            hour: None,
            day: None,
            stamp: *b"0000-00-00 00:00:00",
        }
    }

    /// `YYYY-MM-DD hh:mm:ss` of a local day within years 0–9999 and a second of it (0–86399),
    /// the date kept from the call before when the day is the same.
    fn stamp(&mut self, days: i64, second: u32) -> &[u8; 19] {
        if self.day != Some(days) {
            // The caller keeps to the years 0–9999 (`digits::FOUR_DIGIT_YEARS`).
            let date = digits::date(days);
            debug_assert!(date.is_some(), "day {days} beyond the years 0–9999");
            let date = date.unwrap_or(*b"0000-00-00");
            self.stamp[..10].copy_from_slice(&date);
            self.day = Some(days);
        }
        self.stamp[11..13].copy_from_slice(&digits::two(second / 3_600));
        self.stamp[14..16].copy_from_slice(&digits::two(second / 60 % 60));
        self.stamp[17..19].copy_from_slice(&digits::two(second % 60));
        &self.stamp
    }

    fn offset_at(&self, micros: i64) -> Option<i64> {
        use chrono::{Offset, TimeZone};
        let utc = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
        Some(
            i64::from(
                self.tz
                    .offset_from_utc_datetime(&utc)
                    .fix()
                    .local_minus_utc(),
            ) * 1_000_000,
        )
    }

    /// The offset at `micros` UTC.
    fn offset(&mut self, micros: i64) -> Option<i64> {
        let hour = micros.div_euclid(Self::HOUR);
        if let Some((h, offset)) = self.hour
            && h == hour
        {
            return Some(offset);
        }
        let offset = self.offset_at(micros)?;
        let start = hour.checked_mul(Self::HOUR)?;
        let constant = self.offset_at(start) == Some(offset)
            && self.offset_at(start + Self::HOUR - 1) == Some(offset);
        self.hour = constant.then_some((hour, offset));
        Some(offset)
    }

    /// A timestamp's symbol: Qlik's fractional day and `YYYY-MM-DD hh:mm:ss`, in local time.
    fn symbol(&mut self, out: &mut Vec<u8>, micros: i64, s: &mut String) {
        let local = self.offset(micros).and_then(|o| micros.checked_add(o));
        let seconds = local.map(|l| l.div_euclid(1_000_000));
        let days = seconds.map(|s| s.div_euclid(86_400));
        match (local, seconds, days) {
            // Years 0–9999 (every real one): written directly.
            (Some(local), Some(seconds), Some(days))
                if digits::FOUR_DIGIT_YEARS.contains(&days) =>
            {
                let second = seconds.rem_euclid(86_400) as u32;
                let day = local as f64 / 86_400_000_000.0 + f64::from(QLIK_UNIX_DAYS);
                let stamp = self.stamp(days, second);
                dual_double(out, |out| out.extend_from_slice(stamp), |_| day);
            }
            // Beyond them, as chrono writes them; beyond chrono, the microseconds as text.
            _ => match local.and_then(|l| Some((l, chrono::DateTime::from_timestamp_micros(l)?))) {
                Some((local, t)) => {
                    s.clear();
                    let _ = write!(s, "{}", t.naive_utc().format("%Y-%m-%d %H:%M:%S"));
                    let day = local as f64 / 86_400_000_000.0 + f64::from(QLIK_UNIX_DAYS);
                    Symbol::DualDouble(day, s).encode(out);
                }
                None => {
                    s.clear();
                    let _ = write!(s, "{micros}");
                    Symbol::Text(s).encode(out);
                }
            },
        }
    }
}

/// Gives every row of a primitive array to `f` with its key (what `Column::fixed` takes), NULLs
/// to the column. The keys of a group of rows are prefetched before the group is looked up
/// (once the field's table outgrows the cache).
///
/// Not inlined into `fill` (nor is [`strings`]): in the WebAssembly build, Cranelift keeps the
/// memory base and the loop's state in registers in a function this small, where in all of
/// `fill` it reloaded them from the stack at every access (`perf annotate`; 4% of the build's
/// time on the benchmark's table).
#[inline(never)]
fn each<T: ArrowPrimitiveType>(
    col: &mut qvd::Column<'_>,
    a: &PrimitiveArray<T>,
    key: impl Fn(T::Native) -> i128,
    mut f: impl FnMut(&mut qvd::Column<'_>, usize, T::Native, i128),
) {
    let nulls = a.nulls().filter(|n| n.null_count() > 0);
    for (group, values) in a.values().chunks(qvd::GROUP).enumerate() {
        if col.prefetching_fixed() {
            col.prefetch_fixed(values.iter().map(|&v| key(v)));
        }
        let first = group * qvd::GROUP;
        for (row, &v) in (first..).zip(values) {
            if nulls.is_some_and(|n| n.is_null(row)) {
                col.null(row);
            } else {
                f(col, row, v, key(v));
            }
        }
    }
}

/// Whole numbers: numbers, or duals with their exact text beyond 32 bits.
fn ints<T: ArrowPrimitiveType>(
    col: &mut qvd::Column<'_>,
    a: &PrimitiveArray<T>,
    s: &mut String,
    wide: impl Fn(T::Native) -> i128,
) {
    each(col, a, &wide, |col, row, _, v| {
        col.fixed(row, v, |out| {
            match (i32::try_from(v), u64::try_from(v.unsigned_abs())) {
                (Ok(v), _) => Symbol::Int(v).encode(out),
                (Err(_), Ok(abs)) => dual_double(
                    out,
                    |out| {
                        if v < 0 {
                            out.push(b'-');
                        }
                        digits::push_u64(out, abs);
                    },
                    |_| v as f64,
                ),
                (Err(_), Err(_)) => {
                    s.clear();
                    let _ = write!(s, "{v}");
                    Symbol::DualDouble(v as f64, s).encode(out);
                }
            }
        });
    });
}

/// Text values, one at a time (each checked for NUL characters, which the format drops).
fn texts<'a>(col: &mut qvd::Column<'_>, values: impl Iterator<Item = Option<&'a str>>) {
    for (row, v) in values.enumerate() {
        match v {
            Some(v) => col.text(row, v),
            None => col.null(row),
        }
    }
}

/// A string array's values: hashed for the whole column first when none holds a NUL character
/// (checked once for the whole batch).
#[inline(never)]
fn strings<O: OffsetSizeTrait>(col: &mut qvd::Column<'_>, a: &GenericStringArray<O>) {
    if a.value_data().contains(&0) {
        texts(col, a.iter());
    } else {
        col.texts_without_nul(a.len(), |i| a.is_valid(i).then(|| a.value(i)));
    }
}

/// Gives the rows of `array` to field `col` as QVD symbols.
fn fill(
    col: &mut qvd::Column<'_>,
    array: &ArrayRef,
    kind: Kind,
    zone: &mut Zone,
    s: &mut String,
) -> Result<(), Error> {
    let a = array.as_ref();
    match (kind, a.data_type()) {
        (Kind::Int | Kind::BigInt, DataType::Int8) => {
            ints(col, a.as_primitive::<Int8Type>(), s, i128::from);
        }
        (Kind::Int | Kind::BigInt, DataType::Int16) => {
            ints(col, a.as_primitive::<Int16Type>(), s, i128::from);
        }
        (Kind::Int | Kind::BigInt, DataType::Int32) => {
            ints(col, a.as_primitive::<Int32Type>(), s, i128::from);
        }
        (Kind::Int | Kind::BigInt, DataType::Int64) => {
            ints(col, a.as_primitive::<Int64Type>(), s, i128::from);
        }
        (Kind::Int | Kind::BigInt, DataType::UInt8) => {
            ints(col, a.as_primitive::<UInt8Type>(), s, i128::from);
        }
        (Kind::Int | Kind::BigInt, DataType::UInt16) => {
            ints(col, a.as_primitive::<UInt16Type>(), s, i128::from);
        }
        (Kind::Int | Kind::BigInt, DataType::UInt32) => {
            ints(col, a.as_primitive::<UInt32Type>(), s, i128::from);
        }
        (Kind::Int | Kind::BigInt, DataType::UInt64) => {
            ints(col, a.as_primitive::<UInt64Type>(), s, i128::from);
        }
        (Kind::Float, DataType::Float32) => {
            let key = |v: f32| i128::from(f64::from(v).to_bits());
            each(
                col,
                a.as_primitive::<Float32Type>(),
                key,
                |col, row, v, k| {
                    let v = f64::from(v);
                    col.fixed(row, k, |out| {
                        Symbol::Double(v).encode(out);
                    });
                },
            );
        }
        (Kind::Float, _) => {
            let key = |v: f64| i128::from(v.to_bits());
            each(
                col,
                a.as_primitive::<Float64Type>(),
                key,
                |col, row, v, k| {
                    col.fixed(row, k, |out| {
                        Symbol::Double(v).encode(out);
                    });
                },
            );
        }
        (Kind::Decimal(scale), _) => {
            each(
                col,
                a.as_primitive::<Decimal128Type>(),
                |v| v,
                |col, row, v, _| {
                    col.fixed(row, v, |out| decimal_symbol(out, v, scale, s));
                },
            );
        }
        (Kind::Date, _) => {
            each(
                col,
                a.as_primitive::<Date32Type>(),
                i128::from,
                |col, row, days, k| {
                    col.fixed(row, k, |out| {
                        out.push(5);
                        out.extend_from_slice(&days.saturating_add(QLIK_UNIX_DAYS).to_le_bytes());
                        match digits::date(i64::from(days)) {
                            Some(date) => out.extend_from_slice(&date),
                            // Years beyond 0–9999, as chrono writes them.
                            None => {
                                s.clear();
                                match chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0)
                                {
                                    Some(d) => {
                                        let _ = write!(s, "{}", d.date_naive().format("%Y-%m-%d"));
                                    }
                                    None => {
                                        let _ = write!(s, "{days}");
                                    }
                                }
                                out.extend_from_slice(s.as_bytes());
                            }
                        }
                        out.push(0);
                    });
                },
            );
        }
        (Kind::Timestamp, DataType::Timestamp(unit, _)) => {
            let mut add = |col: &mut qvd::Column<'_>, row: usize, _, micros: i128| {
                // The key is the microseconds (from i64 values, so it fits).
                let micros = micros as i64;
                col.fixed(row, i128::from(micros), |out| zone.symbol(out, micros, s));
            };
            match unit {
                TimeUnit::Second => each(
                    col,
                    a.as_primitive::<TimestampSecondType>(),
                    |v| i128::from(v.saturating_mul(1_000_000)),
                    &mut add,
                ),
                TimeUnit::Millisecond => each(
                    col,
                    a.as_primitive::<TimestampMillisecondType>(),
                    |v| i128::from(v.saturating_mul(1_000)),
                    &mut add,
                ),
                TimeUnit::Microsecond => each(
                    col,
                    a.as_primitive::<TimestampMicrosecondType>(),
                    i128::from,
                    &mut add,
                ),
                TimeUnit::Nanosecond => each(
                    col,
                    a.as_primitive::<TimestampNanosecondType>(),
                    |v| i128::from(v / 1_000),
                    &mut add,
                ),
            }
        }
        (Kind::Bool, _) => {
            for (row, v) in a.as_boolean().iter().enumerate() {
                match v {
                    Some(v) => col.fixed(row, i128::from(v), |out| {
                        if v {
                            Symbol::DualInt(-1, "true").encode(out);
                        } else {
                            Symbol::DualInt(0, "false").encode(out);
                        }
                    }),
                    None => col.null(row),
                }
            }
        }
        (Kind::Text, DataType::LargeUtf8) => strings(col, a.as_string::<i64>()),
        (Kind::Text, DataType::Utf8View) => texts(col, a.as_string_view().iter()),
        (Kind::Text, _) => strings(col, a.as_string::<i32>()),
        _ => {
            let options = FormatOptions::default();
            let fmt = ArrayFormatter::try_new(a, &options)?;
            for row in 0..a.len() {
                if a.is_null(row) {
                    col.null(row);
                } else {
                    s.clear();
                    let _ = write!(s, "{}", fmt.value(row));
                    col.text(row, s);
                }
            }
        }
    }
    Ok(())
}

/// The exporter.
pub struct Qvd {
    zone: Zone,
    budget: usize,
    dir: PathBuf,
    host: Arc<dyn Host>,
    current: Option<(String, Vec<Kind>, TableWriter)>,
    summary: Summary,
    created: String,
    /// The tables announced, and whether each has been started.
    tables: Vec<(String, bexio_bi_plugin_sdk::SchemaRef, bool)>,
}

impl Qvd {
    fn close(&mut self) -> Result<(), Error> {
        if let Some((table, _, w)) = self.current.take() {
            let rows = w.rows();
            let (path, bytes) = w
                .finish(&self.created)
                .map_err(|e| Error::io(format!("writing {table}.qvd: {e}")))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let s = std::mem::take(&mut self.summary);
            self.summary = s.rows(&table, rows).file(name, bytes);
        }
        Ok(())
    }
}

/// A file name for a table: its name without path separators and other characters file
/// systems refuse.
fn file_name(table: &str) -> String {
    let clean: String = table
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim_matches(|c| c == '.' || c == ' ');
    format!("{}.qvd", if clean.is_empty() { "table" } else { clean })
}

impl Exporter for Qvd {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "qvd",
            env!("CARGO_PKG_VERSION"),
            "Qlik QVD files, one per table (dates, timestamps and exact money as duals)",
        )
        .config_schema(SCHEMA)
    }

    fn open(ctx: Context) -> Result<Qvd, Error> {
        let config: Config = ctx.config()?;
        let zone: chrono_tz::Tz = config.time_zone.parse().map_err(|_| {
            Error::config(format!(
                "time_zone {:?} is not an IANA time zone (e.g. Europe/Zurich)",
                config.time_zone
            ))
        })?;
        std::fs::create_dir_all(&ctx.out_dir)?;
        if !(config.dictionary_mb >= 0.0 && config.dictionary_mb.is_finite()) {
            return Err(Error::config(format!(
                "dictionary_mb must be a number of MB, 0 or more (not {})",
                config.dictionary_mb
            )));
        }
        Ok(Qvd {
            zone: Zone::new(zone),
            budget: (config.dictionary_mb * 1_048_576.0) as usize,
            dir: ctx.out_dir.clone(),
            host: ctx.host(),
            current: None,
            summary: Summary::default(),
            created: chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            tables: ctx
                .tables
                .iter()
                .map(|(t, s)| (t.clone(), Arc::clone(s), false))
                .collect(),
        })
    }

    fn write(&mut self, table: &str, batch: RecordBatch) -> Result<(), Error> {
        if self.current.as_ref().is_none_or(|(t, _, _)| t != table) {
            self.close()?;
            self.start(table, &batch.schema())?;
        }
        self.add(table, &batch)
    }

    fn finish(mut self) -> Result<Summary, Error> {
        self.close()?;
        // A table without rows still gets its file (the fields, no records).
        let empty: Vec<_> = self
            .tables
            .iter()
            .filter(|t| !t.2)
            .map(|(t, s, _)| (t.clone(), Arc::clone(s)))
            .collect();
        for (table, schema) in empty {
            self.start(&table, &schema)?;
            self.close()?;
        }
        Ok(self.summary)
    }

    fn abort(mut self) {
        if let Some((_, _, w)) = self.current.take() {
            w.abort();
        }
    }
}

impl Qvd {
    fn start(&mut self, table: &str, schema: &bexio_bi_plugin_sdk::SchemaRef) -> Result<(), Error> {
        if let Some(t) = self.tables.iter_mut().find(|t| t.0 == table) {
            t.2 = true;
        }
        {
            let (kinds, fields): (Vec<Kind>, Vec<(String, FieldType)>) = schema
                .fields()
                .iter()
                .map(|f| {
                    let (k, t) = kind_of(f.data_type());
                    (k, (f.name().clone(), t))
                })
                .unzip();
            let expected = self
                .tables
                .iter()
                .find(|t| t.0 == table)
                .and_then(|(_, s, _)| s.metadata().get(bexio_bi_plugin_sdk::ROWS_METADATA))
                .and_then(|r| r.parse().ok());
            let w = TableWriter::create(&self.dir, &file_name(table), table, fields, self.budget)
                .map_err(|e| Error::io(format!("cannot start {table}.qvd: {e}")))?
                .rows_expected(expected);
            self.current = Some((table.to_owned(), kinds, w));
        }
        Ok(())
    }

    fn add(&mut self, table: &str, batch: &RecordBatch) -> Result<(), Error> {
        let Some((_, kinds, w)) = self.current.as_mut() else {
            return Err(Error::internal("no table open"));
        };
        if batch.num_columns() != kinds.len() {
            return Err(Error::data(format!(
                "{table}: a batch has {} columns, the table {}",
                batch.num_columns(),
                kinds.len()
            )));
        }
        let mut text = String::new();
        w.begin_batch(batch.num_rows());
        for (c, (array, &kind)) in batch.columns().iter().zip(kinds.iter()).enumerate() {
            fill(&mut w.column(c), array, kind, &mut self.zone, &mut text)?;
        }
        w.end_batch()
            .map_err(|e| Error::io(format!("writing {table}.qvd: {e}")))?;
        self.host.progress(table, w.rows());
        Ok(())
    }
}

bexio_bi_plugin_sdk::export_plugin!(Qvd);

#[cfg(test)]
mod tests {
    use super::*;

    /// A timestamp's symbol: its number and its text.
    fn symbol(zone: &mut Zone, micros: i64) -> (f64, String) {
        let mut out = Vec::new();
        zone.symbol(&mut out, micros, &mut String::new());
        assert_eq!((out[0], out.last()), (6, Some(&0)), "a dual double");
        let n = f64::from_le_bytes(out[1..9].try_into().expect("8 bytes"));
        let text = String::from_utf8(out[9..out.len() - 1].to_vec()).expect("ASCII");
        (n, text)
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them_in_runs_and_across_days() {
        let tz: chrono_tz::Tz = "Europe/Zurich".parse().expect("zone");
        let mut zone = Zone::new(tz);
        // Runs within a day, midnight, the DST changes of 2026 (29 March, 25 October), a jump
        // of years and back, and negative times.
        let start = 1_774_652_400_000_000i64; // 2026-03-27 23:00 UTC
        let mut moments: Vec<i64> = (0..400).map(|i| start + i * 977_000_000).collect();
        moments.extend((0..200).map(|i| 1_792_000_000_000_000 + i * 1_800_000_000));
        moments.extend([
            start,
            -86_400_000_001,
            0,
            253_402_300_799_000_000,
            start + 1,
        ]);
        for micros in moments {
            let (n, text) = symbol(&mut zone, micros);
            let local = chrono::DateTime::from_timestamp_micros(micros)
                .expect("in range")
                .with_timezone(&tz)
                .naive_local();
            assert_eq!(
                text,
                local.format("%Y-%m-%d %H:%M:%S").to_string(),
                "{micros}"
            );
            let days = local.and_utc().timestamp_micros() as f64 / 86_400_000_000.0;
            assert_eq!(n, days + f64::from(QLIK_UNIX_DAYS), "{micros}");
        }
    }
}
