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
    Date32Type, Decimal128Type, DecimalType, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use bexio_bi_plugin_sdk::arrow_array::{Array, ArrayRef};
use bexio_bi_plugin_sdk::values::timestamp_micros;
use bexio_bi_plugin_sdk::{
    Context, DataType, Error, Exporter, Host, PluginInfo, RecordBatch, Summary,
};
use serde::Deserialize;

pub mod qvd;

use qvd::{ColumnValues, FieldType, Symbol, TableWriter};

/// Days from Qlik's day 0 (1899-12-30) to 1970-01-01.
const QLIK_UNIX_DAYS: i32 = 25_569;

/// The configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The time zone timestamps are shown in.
    #[serde(default = "default_zone")]
    time_zone: String,
}

fn default_zone() -> String {
    "Europe/Zurich".into()
}

const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "time_zone": {"type": "string", "minLength": 1, "description": "IANA time zone timestamps are shown in (default: Europe/Zurich; Qlik has no time zones)"}
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

/// One Arrow column seen as QVD symbols.
struct Column<'a> {
    array: &'a ArrayRef,
    kind: Kind,
    zone: chrono_tz::Tz,
    other: Option<ArrayFormatter<'a>>,
}

impl ColumnValues for Column<'_> {
    fn rows(&self) -> usize {
        self.array.len()
    }

    fn raw(&self, i: usize) -> Option<u128> {
        if self.array.is_null(i) {
            return None;
        }
        let a = self.array;
        Some(match self.kind {
            Kind::Decimal(_) => a.as_primitive::<Decimal128Type>().value(i) as u128,
            Kind::Date => a.as_primitive::<Date32Type>().value(i) as u32 as u128,
            Kind::Timestamp => timestamp_micros(a.as_ref(), i)? as u64 as u128,
            Kind::BigInt if a.data_type() == &DataType::Int64 => {
                a.as_primitive::<Int64Type>().value(i) as u64 as u128
            }
            _ => return None,
        })
    }

    fn with_symbol(&self, i: usize, s: &mut String, f: &mut dyn FnMut(Option<Symbol<'_>>)) {
        if self.array.is_null(i) {
            return f(None);
        }
        let a = self.array;
        s.clear();
        match self.kind {
            Kind::Int => {
                let v = match a.data_type() {
                    DataType::Int8 => i32::from(a.as_primitive::<Int8Type>().value(i)),
                    DataType::Int16 => i32::from(a.as_primitive::<Int16Type>().value(i)),
                    DataType::UInt8 => i32::from(a.as_primitive::<UInt8Type>().value(i)),
                    DataType::UInt16 => i32::from(a.as_primitive::<UInt16Type>().value(i)),
                    _ => a.as_primitive::<Int32Type>().value(i),
                };
                f(Some(Symbol::Int(v)));
            }
            Kind::BigInt => {
                let v: i128 = match a.data_type() {
                    DataType::UInt32 => i128::from(a.as_primitive::<UInt32Type>().value(i)),
                    DataType::UInt64 => i128::from(a.as_primitive::<UInt64Type>().value(i)),
                    _ => i128::from(a.as_primitive::<Int64Type>().value(i)),
                };
                match i32::try_from(v) {
                    Ok(v) => f(Some(Symbol::Int(v))),
                    Err(_) => {
                        let _ = write!(s, "{v}");
                        f(Some(Symbol::DualDouble(v as f64, s)));
                    }
                }
            }
            Kind::Float => {
                let v = match a.data_type() {
                    DataType::Float32 => f64::from(a.as_primitive::<Float32Type>().value(i)),
                    _ => a.as_primitive::<Float64Type>().value(i),
                };
                f(Some(Symbol::Double(v)));
            }
            Kind::Decimal(scale) => {
                let v = a.as_primitive::<Decimal128Type>().value(i);
                s.push_str(&Decimal128Type::format_decimal(v, 38, scale));
                let n: f64 = s.parse().unwrap_or(f64::NAN);
                f(Some(Symbol::DualDouble(n, s)));
            }
            Kind::Date => {
                let days = a.as_primitive::<Date32Type>().value(i);
                match chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0) {
                    Some(d) => {
                        let _ = write!(s, "{}", d.format("%Y-%m-%d"));
                    }
                    None => {
                        let _ = write!(s, "{days}");
                    }
                }
                f(Some(Symbol::DualInt(
                    days.saturating_add(QLIK_UNIX_DAYS),
                    s,
                )));
            }
            Kind::Timestamp => {
                let micros = timestamp_micros(a.as_ref(), i).unwrap_or_default();
                match chrono::DateTime::from_timestamp_micros(micros) {
                    Some(utc) => {
                        let local = utc.with_timezone(&self.zone).naive_local();
                        let _ = write!(s, "{}", local.format("%Y-%m-%d %H:%M:%S"));
                        let day = local.and_utc().timestamp_micros() as f64 / 86_400_000_000.0
                            + f64::from(QLIK_UNIX_DAYS);
                        f(Some(Symbol::DualDouble(day, s)));
                    }
                    None => {
                        let _ = write!(s, "{micros}");
                        f(Some(Symbol::Text(s)));
                    }
                }
            }
            Kind::Bool => {
                let v = a.as_boolean().value(i);
                f(Some(if v {
                    Symbol::DualInt(-1, "true")
                } else {
                    Symbol::DualInt(0, "false")
                }));
            }
            Kind::Text => {
                let v = match a.data_type() {
                    DataType::LargeUtf8 => a.as_string::<i64>().value(i),
                    DataType::Utf8View => a.as_string_view().value(i),
                    _ => a.as_string::<i32>().value(i),
                };
                f(Some(Symbol::Text(v)));
            }
            Kind::Other => {
                if let Some(fmt) = &self.other {
                    let _ = write!(s, "{}", fmt.value(i));
                }
                f(Some(Symbol::Text(s)));
            }
        }
    }
}

/// The exporter.
pub struct Qvd {
    zone: chrono_tz::Tz,
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
        Ok(Qvd {
            zone,
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
            let w = TableWriter::create(&self.dir, &file_name(table), table, fields)
                .map_err(|e| Error::io(format!("cannot start {table}.qvd: {e}")))?;
            self.current = Some((table.to_owned(), kinds, w));
        }
        Ok(())
    }

    fn add(&mut self, table: &str, batch: &RecordBatch) -> Result<(), Error> {
        let zone = self.zone;
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
        let options = FormatOptions::default();
        let columns = batch
            .columns()
            .iter()
            .zip(kinds.iter())
            .map(|(array, &kind)| {
                Ok(Column {
                    array,
                    kind,
                    zone,
                    other: match kind {
                        Kind::Other => Some(ArrayFormatter::try_new(array.as_ref(), &options)?),
                        _ => None,
                    },
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let refs: Vec<&dyn ColumnValues> = columns.iter().map(|c| c as _).collect();
        w.add(&refs)
            .map_err(|e| Error::io(format!("writing {table}.qvd: {e}")))?;
        self.host.progress(table, w.rows());
        Ok(())
    }
}

bexio_bi_plugin_sdk::export_plugin!(Qvd);
