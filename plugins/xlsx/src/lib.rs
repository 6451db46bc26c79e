//! Excel workbooks: one `.xlsx` holding a sheet per table, each an Excel table (filter buttons,
//! banded rows, structured references for formulas and pivot tables) under a frozen header row.
//! Money is a number formatted `#,##0.00` (Excel shows the thousands separator of the reader's
//! region: `1'234.50` in Switzerland), dates are real Excel dates shown `dd.mm.yyyy`, timestamps
//! are shown in Swiss local time (Excel has no time zones). A table longer than a sheet
//! (1,048,575 rows under the header) continues on `name (2)`, `name (3)`, …
//!
//! Written in rust_xlsxwriter's constant-memory mode: each row goes to a temporary file in the
//! output directory as soon as the next starts, so memory stays flat whatever the row count.
//! Such a sheet cannot go back to a row, so an Excel table is declared with its range before its
//! rows: the plugin takes the range from the row count the host announces
//! ([`Context::rows_hint`]). Without it a table is written as a plain range with a filter.

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
    Context, DataType, Error, Exporter, Host, Level, PluginInfo, RecordBatch, SchemaRef, Summary,
};
use rust_xlsxwriter::{Format, Table, TableColumn, Workbook, Worksheet, XlsxError};
use serde::Deserialize;

/// Rows of a sheet under its header row (Excel's limit is 1,048,576 rows in all).
pub const SHEET_ROWS: u64 = 1_048_575;

/// The largest sheet (rows × columns) written as an Excel table. rust_xlsxwriter keeps an entry
/// per cell of a table's range (to refuse overlapping tables), about 30 bytes each, so a table
/// costs memory in proportion to its size; past this a sheet is a filtered range instead (filter
/// buttons, frozen header and formats stay), and memory stays flat.
pub const TABLE_CELLS: u64 = 2_000_000;

/// Excel's longest cell text.
const CELL_CHARS: usize = 32_767;

/// Days from Excel's day 0 (1899-12-30) to 1970-01-01.
const EXCEL_UNIX_DAYS: f64 = 25_569.0;

/// The configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The workbook's file name.
    #[serde(default = "default_file")]
    file: String,
    /// Number format of money (2-place decimals); other decimals get as many places as they have.
    #[serde(default = "default_money")]
    money_format: String,
    /// Number format of dates.
    #[serde(default = "default_date")]
    date_format: String,
    /// Number format of timestamps.
    #[serde(default = "default_timestamp")]
    timestamp_format: String,
    /// The time zone timestamps are shown in.
    #[serde(default = "default_zone")]
    time_zone: String,
    /// Rows per sheet before a table continues on the next (at most Excel's 1,048,575).
    #[serde(default = "default_sheet_rows")]
    sheet_rows: u64,
    /// Largest sheet (rows × columns) made an Excel table; larger ones get a filtered range.
    #[serde(default = "default_table_cells")]
    table_cells: u64,
}

fn default_table_cells() -> u64 {
    TABLE_CELLS
}

fn default_file() -> String {
    "bexio-bi.xlsx".into()
}
fn default_money() -> String {
    "#,##0.00".into()
}
fn default_date() -> String {
    "dd.mm.yyyy".into()
}
fn default_timestamp() -> String {
    "dd.mm.yyyy hh:mm:ss".into()
}
fn default_zone() -> String {
    "Europe/Zurich".into()
}
fn default_sheet_rows() -> u64 {
    SHEET_ROWS
}

const SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "file": {"type": "string", "pattern": "^[^/\\\\]+\\.xlsx$", "description": "File name of the workbook (default: bexio-bi.xlsx)"},
    "money_format": {"type": "string", "minLength": 1, "description": "Excel number format of money (default: #,##0.00; e.g. \"CHF\" #,##0.00)"},
    "date_format": {"type": "string", "minLength": 1, "description": "Excel number format of dates (default: dd.mm.yyyy)"},
    "timestamp_format": {"type": "string", "minLength": 1, "description": "Excel number format of timestamps (default: dd.mm.yyyy hh:mm:ss)"},
    "time_zone": {"type": "string", "minLength": 1, "description": "IANA time zone timestamps are shown in (default: Europe/Zurich)"},
    "sheet_rows": {"type": "integer", "minimum": 1, "maximum": 1048575, "description": "Rows per sheet before a table continues on the next sheet (default and most: 1048575)"},
    "table_cells": {"type": "integer", "minimum": 0, "description": "Largest sheet (rows x columns) written as an Excel table; larger ones get a filtered range, keeping memory flat (default: 2000000)"}
  }
}"##;

/// How a column's values become cells.
#[derive(Clone)]
enum Kind {
    /// A number with this format (decimals: money or their own places; integers; floats).
    Number(Option<Format>),
    /// Days since 1970-01-01.
    Date,
    /// A point in time, shown in the configured zone.
    Timestamp,
    Bool,
    Text,
    /// Anything else, as Arrow displays it.
    Other,
}

/// The exporter.
pub struct Xlsx {
    workbook: Workbook,
    config: Config,
    zone: chrono_tz::Tz,
    dir: PathBuf,
    host: Arc<dyn Host>,
    money: Format,
    date: Format,
    timestamp: Format,
    header: Format,
    /// Sheet names already used.
    sheet_names: Vec<String>,
    /// Table names already used.
    table_names: Vec<String>,
    current: Option<Sheet>,
    sheets: usize,
    summary: Summary,
    /// Cells cut to Excel's longest text.
    truncated: u64,
    /// The tables to come, with the row count the host announced, if it did, and whether a
    /// sheet was started for each.
    tables: Vec<(String, SchemaRef, Option<u64>, bool)>,
}

/// The sheet being written.
struct Sheet {
    table: String,
    /// Its index in the workbook.
    index: usize,
    /// 1 for a table's first sheet, 2 for its continuation, …
    part: u32,
    schema: SchemaRef,
    kinds: Vec<Kind>,
    /// The next row to write (0 is the header).
    row: u32,
    /// Rows this sheet takes under its header.
    capacity: u64,
    /// Whether the sheet holds an Excel table (its range announced) or a plain filtered range.
    is_table: bool,
    /// Rows still expected for the table, when announced (this sheet's and the following).
    remaining: Option<u64>,
    /// Rows of the table written so far, all sheets.
    rows: u64,
}

fn xlsx_error(what: &str, e: XlsxError) -> Error {
    match e {
        XlsxError::IoError(e) => Error::io(format!("{what}: {e}")),
        e => Error::data(format!("{what}: {e}")),
    }
}

/// A name Excel accepts for a table: letters, digits, `_` and `.`, not starting with a digit.
fn table_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.chars()
        .next()
        .is_none_or(|c| c.is_ascii_digit() || c == '.')
    {
        s.insert(0, '_');
    }
    // Names that look like cell references (A1, R1C1) are refused by Excel.
    if s.len() <= 3 || s.chars().all(|c| c.is_ascii_alphanumeric()) && s.len() <= 7 {
        s.insert_str(0, "t_");
    }
    s.chars().take(250).collect()
}

/// A name Excel accepts for a sheet: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(table: &str, part: u32) -> String {
    let clean: String = table
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'');
    let clean = if clean.is_empty() { "table" } else { clean };
    let suffix = if part > 1 {
        format!(" ({part})")
    } else {
        String::new()
    };
    let keep = 31 - suffix.chars().count();
    format!("{}{suffix}", clean.chars().take(keep).collect::<String>())
}

impl Xlsx {
    /// `name`, or `name~2`, `name~3`… for a sheet; `name_2`… for a table: Excel wants sheet
    /// names unique among sheets and table names among tables, both case-insensitively.
    fn unique(used: &mut Vec<String>, name: String, sep: char, max: usize) -> String {
        let mut candidate = name.clone();
        let mut n = 2;
        while used
            .iter()
            .any(|u| u.to_lowercase() == candidate.to_lowercase())
        {
            let suffix = format!("{sep}{n}");
            let keep = max - suffix.chars().count();
            candidate = format!("{}{suffix}", name.chars().take(keep).collect::<String>());
            n += 1;
        }
        used.push(candidate.clone());
        candidate
    }

    fn kind(&self, data_type: &DataType) -> Kind {
        match data_type {
            DataType::Decimal128(_, 2) => Kind::Number(Some(self.money.clone())),
            DataType::Decimal128(_, s) if *s > 0 => {
                let places = "0".repeat(usize::try_from(*s).unwrap_or(0).min(30));
                Kind::Number(Some(
                    Format::new().set_num_format(format!("#,##0.{places}")),
                ))
            }
            DataType::Decimal128(..) => Kind::Number(Some(Format::new().set_num_format("#,##0"))),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Kind::Number(None),
            DataType::Float32 | DataType::Float64 => Kind::Number(None),
            DataType::Date32 => Kind::Date,
            DataType::Timestamp(..) => Kind::Timestamp,
            DataType::Boolean => Kind::Bool,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
            _ => Kind::Other,
        }
    }

    /// Starts the `part`-th sheet of `table`.
    fn start(
        &mut self,
        table: &str,
        schema: SchemaRef,
        part: u32,
        remaining: Option<u64>,
        rows: u64,
    ) -> Result<(), Error> {
        let sheet = Xlsx::unique(&mut self.sheet_names, sheet_name(table, part), '~', 31);
        let tname = Xlsx::unique(
            &mut self.table_names,
            table_name(&if part > 1 {
                format!("{table}_{part}")
            } else {
                table.to_owned()
            }),
            '_',
            250,
        );
        let kinds: Vec<Kind> = schema
            .fields()
            .iter()
            .map(|f| self.kind(f.data_type()))
            .collect();
        let capacity = self.config.sheet_rows;
        let index = self.sheets;
        let header = self.header.clone();
        let ws = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(|e| xlsx_error("cannot start a sheet", e))?;
        self.sheets += 1;
        ws.set_name(&sheet)
            .map_err(|e| xlsx_error(&format!("sheet name {sheet:?}"), e))?;
        let last_col = u16::try_from(schema.fields().len().saturating_sub(1))
            .map_err(|_| Error::data(format!("{table} has more columns than Excel's 16,384")))?;
        for (i, (f, k)) in schema.fields().iter().zip(&kinds).enumerate() {
            let width = match k {
                Kind::Date => 11.0,
                Kind::Timestamp => 19.0,
                Kind::Number(Some(_)) => 14.0,
                Kind::Number(None) => 10.0,
                Kind::Bool => 8.0,
                Kind::Text | Kind::Other => 24.0,
            };
            let width = f64::max(width, (f.name().chars().count() + 3) as f64).min(60.0);
            ws.set_column_width(i as u16, width)
                .map_err(|e| xlsx_error("column width", e))?;
        }
        ws.set_freeze_panes(1, 0)
            .map_err(|e| xlsx_error("freezing the header", e))?;
        let cells_of = |n: u64| n.min(capacity).saturating_mul(schema.fields().len() as u64);
        let is_table = match remaining {
            Some(n) if n > 0 && cells_of(n) > self.config.table_cells => {
                self.host.log(
                    Level::Info,
                    &format!(
                        "{table}: {} cells on sheet {sheet:?}, more than table_cells ({}): written as a filtered range, not an Excel table",
                        cells_of(n),
                        self.config.table_cells
                    ),
                );
                for (i, f) in schema.fields().iter().enumerate() {
                    ws.write_string_with_format(0, i as u16, f.name(), &header)
                        .map_err(|e| xlsx_error("header", e))?;
                }
                false
            }
            Some(n) if n > 0 && !schema.fields().is_empty() => {
                let here = n.min(capacity);
                let columns: Vec<TableColumn> = schema
                    .fields()
                    .iter()
                    .map(|f| {
                        TableColumn::new()
                            .set_header(f.name())
                            .set_header_format(&header)
                    })
                    .collect();
                let t = Table::new().set_name(&tname).set_columns(&columns);
                // The header row is row 0; rows 1..=here are the data.
                ws.add_table(0, 0, here as u32, last_col, &t)
                    .map_err(|e| xlsx_error(&format!("the Excel table of {table}"), e))?;
                true
            }
            _ => {
                for (i, f) in schema.fields().iter().enumerate() {
                    ws.write_string_with_format(0, i as u16, f.name(), &header)
                        .map_err(|e| xlsx_error("header", e))?;
                }
                false
            }
        };
        self.current = Some(Sheet {
            table: table.to_owned(),
            index,
            part,
            schema,
            kinds,
            row: 1,
            capacity,
            is_table,
            remaining,
            rows,
        });
        Ok(())
    }

    /// Completes the current sheet (a plain range gets its filter now that its end is known).
    fn close(&mut self, last_of_table: bool) -> Result<(), Error> {
        let Some(s) = self.current.take() else {
            return Ok(());
        };
        if !s.is_table && !s.schema.fields().is_empty() {
            let last_col = (s.schema.fields().len() - 1) as u16;
            let ws = self
                .workbook
                .worksheet_from_index(s.index)
                .map_err(|e| xlsx_error("sheet", e))?;
            ws.autofilter(0, 0, s.row.saturating_sub(1).max(1), last_col)
                .map_err(|e| xlsx_error("filter", e))?;
        }
        if last_of_table {
            if let Some(left) = s.remaining.filter(|&n| n > 0) {
                self.host.log(
                    Level::Warn,
                    &format!(
                        "{}: {left} announced rows did not arrive; the Excel table keeps empty rows",
                        s.table
                    ),
                );
            }
            let summary = std::mem::take(&mut self.summary);
            self.summary = summary.rows(&s.table, s.rows);
        }
        Ok(())
    }

    /// A header-only sheet for each of the first `upto` announced tables that has none yet.
    fn empty_sheets(&mut self, upto: usize) -> Result<(), Error> {
        for i in 0..upto {
            if self.tables[i].3 {
                continue;
            }
            self.tables[i].3 = true;
            let (table, schema) = (self.tables[i].0.clone(), Arc::clone(&self.tables[i].1));
            self.start(&table, schema, 1, Some(0), 0)?;
            self.close(true)?;
        }
        Ok(())
    }

    fn write_rows(&mut self, batch: &RecordBatch, from: usize, to: usize) -> Result<(), Error> {
        let options = FormatOptions::default();
        let Some(sheet) = self.current.as_mut() else {
            return Err(Error::internal("no sheet open"));
        };
        let ws = self
            .workbook
            .worksheet_from_index(sheet.index)
            .map_err(|e| xlsx_error("sheet", e))?;
        // Row by row: a constant-memory sheet cannot go back to a row it has left.
        let formatters = batch
            .columns()
            .iter()
            .zip(&sheet.kinds)
            .map(|(array, kind)| match kind {
                Kind::Other => ArrayFormatter::try_new(array.as_ref(), &options).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cells = Cells {
            date: &self.date,
            timestamp: &self.timestamp,
            zone: self.zone,
        };
        for i in from..to {
            let row = sheet.row + (i - from) as u32;
            for (col, ((array, kind), fmt)) in batch
                .columns()
                .iter()
                .zip(&sheet.kinds)
                .zip(&formatters)
                .enumerate()
            {
                if array.is_null(i) {
                    continue;
                }
                cell(
                    ws,
                    row,
                    col as u16,
                    array,
                    i,
                    kind,
                    fmt.as_ref(),
                    &cells,
                    &mut self.truncated,
                )?;
            }
        }
        let n = (to - from) as u64;
        sheet.row += n as u32;
        sheet.rows += n;
        sheet.capacity -= n;
        if let Some(r) = sheet.remaining.as_mut() {
            *r = r.saturating_sub(n);
        }
        Ok(())
    }
}

/// The formats and zone cells need.
struct Cells<'a> {
    date: &'a Format,
    timestamp: &'a Format,
    zone: chrono_tz::Tz,
}

/// Writes one value (not NULL) as a cell.
#[allow(clippy::too_many_arguments)]
fn cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    array: &ArrayRef,
    i: usize,
    kind: &Kind,
    fmt: Option<&ArrayFormatter<'_>>,
    cells: &Cells<'_>,
    truncated: &mut u64,
) -> Result<(), Error> {
    let at = |e| xlsx_error(&format!("row {row}, column {}", col + 1), e);
    match kind {
        Kind::Number(format) => {
            let v = number(array, i).ok_or_else(|| Error::internal("not a number column"))?;
            match format {
                Some(f) => ws.write_number_with_format(row, col, v, f),
                None => ws.write_number(row, col, v),
            }
            .map_err(at)?;
        }
        Kind::Date => {
            let days = array.as_primitive::<Date32Type>().value(i);
            ws.write_number_with_format(row, col, f64::from(days) + EXCEL_UNIX_DAYS, cells.date)
                .map_err(at)?;
        }
        Kind::Timestamp => {
            let micros = timestamp_micros(array.as_ref(), i)
                .ok_or_else(|| Error::internal("not a timestamp column"))?;
            let Some(utc) = chrono::DateTime::from_timestamp_micros(micros) else {
                return Err(Error::data(format!(
                    "row {row}: timestamp {micros} µs is out of range"
                )));
            };
            let local = utc.with_timezone(&cells.zone).naive_local();
            let since = local.and_utc().timestamp_micros() as f64 / 86_400_000_000.0;
            ws.write_number_with_format(row, col, since + EXCEL_UNIX_DAYS, cells.timestamp)
                .map_err(at)?;
        }
        Kind::Bool => {
            ws.write_boolean(row, col, array.as_boolean().value(i))
                .map_err(at)?;
        }
        Kind::Text => {
            let s = match array.data_type() {
                DataType::LargeUtf8 => array.as_string::<i64>().value(i),
                DataType::Utf8View => array.as_string_view().value(i),
                _ => array.as_string::<i32>().value(i),
            };
            ws.write_string(row, col, clip(s, truncated)).map_err(at)?;
        }
        Kind::Other => {
            let text = fmt.map(|f| f.value(i).to_string()).unwrap_or_default();
            ws.write_string(row, col, clip(&text, truncated))
                .map_err(at)?;
        }
    }
    Ok(())
}

/// `s` cut to Excel's longest cell text (counting UTF-16 units, as Excel does).
fn clip<'a>(s: &'a str, truncated: &mut u64) -> &'a str {
    if s.len() <= CELL_CHARS {
        return s;
    }
    let mut units = 0;
    for (at, c) in s.char_indices() {
        units += c.len_utf16();
        if units > CELL_CHARS {
            *truncated += 1;
            return &s[..at];
        }
    }
    s
}

/// A numeric value as Excel's double. Decimals keep every digit Excel can hold (15 significant
/// digits): money up to 9,999,999,999,999.99 is exact.
fn number(array: &ArrayRef, i: usize) -> Option<f64> {
    Some(match array.data_type() {
        DataType::Decimal128(_, scale) => {
            let v = array.as_primitive::<Decimal128Type>().value(i);
            // Through the decimal text, so that 1234.50 becomes the double nearest to 1234.5.
            let text = Decimal128Type::format_decimal(v, 38, *scale);
            text.parse().ok()?
        }
        DataType::Int8 => f64::from(array.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => f64::from(array.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => f64::from(array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i) as f64,
        DataType::UInt8 => f64::from(array.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => f64::from(array.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => f64::from(array.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i) as f64,
        DataType::Float32 => f64::from(array.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(i),
        _ => return None,
    })
}

impl Exporter for Xlsx {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "xlsx",
            env!("CARGO_PKG_VERSION"),
            "An Excel workbook: a sheet per table as an Excel table, CHF and date formats",
        )
        .config_schema(SCHEMA)
    }

    fn open(ctx: Context) -> Result<Xlsx, Error> {
        let config: Config = ctx.config()?;
        if config.file.contains(['/', '\\']) || !config.file.ends_with(".xlsx") {
            return Err(Error::config(format!(
                "file must be a file name ending in .xlsx, not {:?}",
                config.file
            )));
        }
        if !(1..=SHEET_ROWS).contains(&config.sheet_rows) {
            return Err(Error::config(format!(
                "sheet_rows must be between 1 and {SHEET_ROWS}"
            )));
        }
        let zone: chrono_tz::Tz = config.time_zone.parse().map_err(|_| {
            Error::config(format!(
                "time_zone {:?} is not an IANA time zone (e.g. Europe/Zurich)",
                config.time_zone
            ))
        })?;
        std::fs::create_dir_all(&ctx.out_dir)?;
        let mut workbook = Workbook::new();
        // Temporary sheet files go next to the workbook: the only directory a sandboxed plugin
        // may write, and on the same disk as the result.
        workbook
            .set_tempdir(&ctx.out_dir)
            .map_err(|e| xlsx_error("temporary directory", e))?;
        Ok(Xlsx {
            workbook,
            money: Format::new().set_num_format(&config.money_format),
            date: Format::new().set_num_format(&config.date_format),
            timestamp: Format::new().set_num_format(&config.timestamp_format),
            header: Format::new().set_bold(),
            zone,
            config,
            dir: ctx.out_dir.clone(),
            host: ctx.host(),
            sheet_names: Vec::new(),
            table_names: Vec::new(),
            current: None,
            sheets: 0,
            summary: Summary::default(),
            truncated: 0,
            tables: ctx
                .tables
                .iter()
                .map(|(t, schema)| (t.clone(), Arc::clone(schema), ctx.rows_hint(t), false))
                .collect(),
        })
    }

    fn write(&mut self, table: &str, batch: RecordBatch) -> Result<(), Error> {
        if self.current.as_ref().is_none_or(|s| s.table != table) {
            self.close(true)?;
            // Tables announced before this one that had no rows still get their sheet.
            let at = self.tables.iter().position(|t| t.0 == table);
            self.empty_sheets(at.unwrap_or(self.tables.len()))?;
            let hint = match at {
                Some(i) => {
                    self.tables[i].3 = true;
                    self.tables[i].2
                }
                None => None,
            };
            self.start(table, batch.schema(), 1, hint, 0)?;
        }
        let mut from = 0;
        while from < batch.num_rows() {
            let Some(s) = self.current.as_ref() else {
                return Err(Error::internal("no sheet open"));
            };
            if s.capacity == 0 {
                // The sheet is full: the table continues on the next.
                let (schema, part, remaining, rows) =
                    (Arc::clone(&s.schema), s.part + 1, s.remaining, s.rows);
                if remaining == Some(0) {
                    self.host.log(
                        Level::Warn,
                        &format!("{table}: more rows arrived than announced"),
                    );
                }
                self.close(false)?;
                self.start(table, schema, part, remaining.filter(|&n| n > 0), rows)?;
                continue;
            }
            let to = batch
                .num_rows()
                .min(from + usize::try_from(s.capacity).unwrap_or(usize::MAX));
            self.write_rows(&batch, from, to)?;
            from = to;
        }
        if let Some(s) = &self.current {
            self.host.progress(table, s.rows);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Summary, Error> {
        self.close(true)?;
        self.empty_sheets(self.tables.len())?;
        if self.sheets == 0 {
            // Excel cannot open a workbook without a sheet.
            self.workbook.add_worksheet();
        }
        if self.truncated > 0 {
            self.host.log(
                Level::Warn,
                &format!(
                    "{} cells were longer than Excel's 32,767 characters and were cut",
                    self.truncated
                ),
            );
        }
        let path = self.dir.join(&self.config.file);
        let partial = self.dir.join(format!("{}.partial", self.config.file));
        self.workbook
            .save(&partial)
            .map_err(|e| xlsx_error(&format!("writing {}", path.display()), e))?;
        std::fs::rename(&partial, &path)
            .map_err(|e| Error::io(format!("cannot rename to {}: {e}", path.display())))?;
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        Ok(self.summary.file(self.config.file.clone(), bytes))
    }

    fn abort(self) {
        let _ = std::fs::remove_file(self.dir.join(format!("{}.partial", self.config.file)));
    }
}

bexio_bi_plugin_sdk::export_plugin!(Xlsx);

#[cfg(test)]
mod tests {
    use bexio_bi_plugin_sdk::arrow_array::{
        BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
    };
    use bexio_bi_plugin_sdk::serde_json::json;
    use bexio_bi_plugin_sdk::testing::Harness;

    use super::*;

    fn batch(from: i64, n: i64) -> RecordBatch {
        let ids: Vec<i64> = (from..from + n).collect();
        RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(ids.clone())) as ArrayRef),
            (
                "name",
                Arc::new(StringArray::from_iter(
                    ids.iter()
                        .map(|i| (i % 3 != 0).then(|| format!("Müller {i} €"))),
                )) as _,
            ),
            (
                "total",
                Arc::new(
                    Decimal128Array::from_iter_values(ids.iter().map(|i| i128::from(*i) * 105))
                        .with_precision_and_scale(18, 2)
                        .expect("decimal"),
                ) as _,
            ),
            (
                "day",
                Arc::new(Date32Array::from_iter_values(
                    ids.iter().map(|i| 20_000 + *i as i32),
                )) as _,
            ),
            (
                "at",
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values(
                        ids.iter().map(|i| 1_700_000_000_000_000 + i * 1_000_000),
                    )
                    .with_timezone("UTC"),
                ) as _,
            ),
            (
                "paid",
                Arc::new(BooleanArray::from_iter(
                    ids.iter().map(|i| Some(i % 2 == 0)),
                )) as _,
            ),
        ])
        .expect("batch")
    }

    /// The names of the workbook's parts (a zip's central directory keeps them in clear).
    fn has_part(bytes: &[u8], part: &str) -> bool {
        bytes.windows(part.len()).any(|w| w == part.as_bytes())
    }

    #[test]
    fn one_sheet_per_table_as_excel_tables() {
        let out = Harness::<Xlsx>::new()
            .table("fact_invoice", vec![batch(0, 5), batch(5, 5)])
            .table("dim_contact", vec![batch(0, 3)])
            .run()
            .expect("run");
        assert_eq!(out.summary.tables["fact_invoice"], 10);
        assert_eq!(out.summary.tables["dim_contact"], 3);
        assert_eq!(out.summary.files, vec!["bexio-bi.xlsx"]);
        let bytes = out.file("bexio-bi.xlsx");
        assert!(has_part(&bytes, "xl/worksheets/sheet2.xml"));
        assert!(has_part(&bytes, "xl/tables/table2.xml"));
        assert!(!has_part(&bytes, "xl/worksheets/sheet3.xml"));
        // No temporary file is left beside the workbook.
        let left: Vec<_> = std::fs::read_dir(&out.out_dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, vec!["bexio-bi.xlsx"], "{left:?}");
    }

    #[test]
    fn a_table_longer_than_a_sheet_continues_on_the_next() {
        let out = Harness::<Xlsx>::new()
            .config(json!({"sheet_rows": 4, "file": "long.xlsx"}))
            .table("lines", vec![batch(0, 3), batch(3, 7)])
            .run()
            .expect("run");
        assert_eq!(out.summary.tables["lines"], 10);
        let bytes = out.file("long.xlsx");
        // 4 + 4 + 2 rows: three sheets, three tables.
        assert!(has_part(&bytes, "xl/worksheets/sheet3.xml"));
        assert!(has_part(&bytes, "xl/tables/table3.xml"));
        assert!(!has_part(&bytes, "xl/worksheets/sheet4.xml"));
    }

    #[test]
    fn a_sheet_past_table_cells_is_a_filtered_range() {
        let out = Harness::<Xlsx>::new()
            .config(json!({"table_cells": 30}))
            .table("small", vec![batch(0, 4)])
            .table("large", vec![batch(0, 10)])
            .run()
            .expect("run");
        let bytes = out.file("bexio-bi.xlsx");
        // 4 × 6 cells: a table; 10 × 6: a filtered range.
        assert!(has_part(&bytes, "xl/tables/table1.xml"));
        assert!(!has_part(&bytes, "xl/tables/table2.xml"));
        assert!(has_part(&bytes, "xl/worksheets/sheet2.xml"));
        assert!(
            out.logs.iter().any(|(_, m)| m.contains("filtered range")),
            "{:?}",
            out.logs
        );
    }

    #[test]
    fn names_excel_refuses_are_made_acceptable() {
        assert_eq!(table_name("fact_invoice"), "fact_invoice");
        assert_eq!(table_name("2024 sales-report"), "_2024_sales_report");
        assert_eq!(table_name("AB1"), "t_AB1");
        assert_eq!(sheet_name("a/b:c", 1), "a_b_c");
        let long = "fact_invoice_line_with_a_very_long_name";
        assert_eq!(sheet_name(long, 12).chars().count(), 31);
        assert!(sheet_name(long, 12).ends_with(" (12)"));
    }

    #[test]
    fn bad_configuration_is_refused() {
        for (config, says) in [
            (json!({"file": "../x.xlsx"}), "file name"),
            (json!({"time_zone": "Mars/Olympus"}), "IANA"),
            (json!({"sheet_rows": 0}), "sheet_rows"),
        ] {
            let e = Harness::<Xlsx>::new()
                .config(config)
                .table("t", vec![batch(0, 1)])
                .run()
                .expect_err("refused");
            assert!(e.message.contains(says), "{e}");
        }
    }
}
