//! CSV files, one per table: RFC 4180 (fields with the delimiter, a quote or a line break are
//! quoted, quotes doubled, CRLF line ends), UTF-8, a header row. `"excel": true` writes what a
//! Swiss Excel opens with a double click: `;` between fields and a byte-order mark.
//!
//! Values are written exactly as stored: decimals with all their places (`1234.50`, never a
//! float), dates as `2026-11-26`, timestamps as ISO 8601, booleans as `true`/`false`, NULL as an
//! empty field.

use std::fs::File;
use std::io::Write;

use arrow_cast::display::{ArrayFormatter, FormatOptions};
use bexio_bi_plugin_sdk::files::FileWriter;
use bexio_bi_plugin_sdk::{Context, Error, Exporter, Host, PluginInfo, RecordBatch, Summary};
use serde::Deserialize;

/// The configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `;` and a BOM, for Excel with Swiss (or German) regional settings.
    #[serde(default)]
    excel: bool,
    /// The field delimiter (default `,`; `;` with `excel`).
    delimiter: Option<String>,
    /// A header row with the column names.
    #[serde(default = "yes")]
    header: bool,
}

fn yes() -> bool {
    true
}

const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "excel": {"type": "boolean", "description": "Semicolons and a byte-order mark, for Excel with Swiss regional settings"},
    "delimiter": {"type": "string", "enum": [",", ";", "\t", "|"], "description": "Field delimiter (default: comma; semicolon with excel)"},
    "header": {"type": "boolean", "description": "A header row with the column names (default: true)"}
  }
}"#;

/// The exporter.
pub struct Csv {
    delimiter: u8,
    bom: bool,
    header: bool,
    dir: std::path::PathBuf,
    host: std::sync::Arc<dyn Host>,
    current: Option<Open>,
    summary: Summary,
}

/// The file being written.
struct Open {
    table: String,
    name: String,
    out: FileWriter,
    rows: u64,
    bytes: u64,
}

impl Csv {
    fn close(&mut self) -> Result<(), Error> {
        if let Some(f) = self.current.take() {
            let file = f.out.finish()?;
            let bytes = file.metadata().map_or(f.bytes, |m| m.len());
            let s = std::mem::take(&mut self.summary);
            self.summary = s.rows(&f.table, f.rows).file(f.name, bytes);
        }
        Ok(())
    }

    fn start(&mut self, table: &str, batch: &RecordBatch) -> Result<(), Error> {
        self.close()?;
        let name = format!("{table}.csv");
        let path = self.dir.join(&name);
        let file = File::create(&path)
            .map_err(|e| Error::io(format!("cannot create {}: {e}", path.display())))?;
        let mut out = FileWriter::with_capacity(1 << 20, file);
        if self.bom {
            out.write_all("\u{feff}".as_bytes())?;
        }
        if self.header {
            let schema = batch.schema();
            let mut line = Vec::new();
            for (i, f) in schema.fields().iter().enumerate() {
                if i > 0 {
                    line.push(self.delimiter);
                }
                field(&mut line, f.name(), self.delimiter);
            }
            line.extend_from_slice(b"\r\n");
            out.write_all(&line)?;
        }
        self.current = Some(Open {
            table: table.to_owned(),
            name,
            out,
            rows: 0,
            bytes: 0,
        });
        Ok(())
    }
}

/// Appends `value` as one CSV field, quoted when it must be.
fn field(out: &mut Vec<u8>, value: &str, delimiter: u8) {
    let needs = value
        .bytes()
        .any(|b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r');
    if !needs {
        out.extend_from_slice(value.as_bytes());
        return;
    }
    out.push(b'"');
    for b in value.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

impl Exporter for Csv {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "csv",
            env!("CARGO_PKG_VERSION"),
            "CSV files, one per table (RFC 4180, UTF-8; excel: semicolons and a BOM)",
        )
        .config_schema(SCHEMA)
    }

    fn open(ctx: Context) -> Result<Csv, Error> {
        let c: Config = ctx.config()?;
        let delimiter = match (c.delimiter.as_deref(), c.excel) {
            (Some(d), _) if d.len() == 1 => d.as_bytes()[0],
            (Some(d), _) => {
                return Err(Error::config(format!(
                    "delimiter must be one character, not {d:?}"
                )));
            }
            (None, true) => b';',
            (None, false) => b',',
        };
        std::fs::create_dir_all(&ctx.out_dir)?;
        Ok(Csv {
            delimiter,
            bom: c.excel,
            header: c.header,
            dir: ctx.out_dir.clone(),
            host: ctx.host(),
            current: None,
            summary: Summary::default(),
        })
    }

    fn write(&mut self, table: &str, batch: RecordBatch) -> Result<(), Error> {
        if self.current.as_ref().is_none_or(|c| c.table != table) {
            self.start(table, &batch)?;
        }
        let options = FormatOptions::default().with_null("");
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        let delimiter = self.delimiter;
        let Some(f) = self.current.as_mut() else {
            return Err(Error::internal("no file open"));
        };
        let mut line = Vec::with_capacity(256);
        let mut cell = String::new();
        for row in 0..batch.num_rows() {
            line.clear();
            for (i, fmt) in formatters.iter().enumerate() {
                if i > 0 {
                    line.push(delimiter);
                }
                cell.clear();
                use std::fmt::Write as _;
                write!(cell, "{}", fmt.value(row))
                    .map_err(|_| Error::data(format!("cannot format row {row} of {table}")))?;
                field(&mut line, &cell, delimiter);
            }
            line.extend_from_slice(b"\r\n");
            f.out.write_all(&line)?;
            f.bytes += line.len() as u64;
        }
        f.rows += batch.num_rows() as u64;
        self.host.progress(table, f.rows);
        Ok(())
    }

    fn finish(mut self) -> Result<Summary, Error> {
        self.close()?;
        Ok(self.summary)
    }

    fn abort(mut self) {
        if let Some(f) = self.current.take() {
            let path = self.dir.join(&f.name);
            drop(f);
            let _ = std::fs::remove_file(path);
        }
    }
}

bexio_bi_plugin_sdk::export_plugin!(Csv);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bexio_bi_plugin_sdk::arrow_array::{Decimal128Array, Int64Array, StringArray};
    use bexio_bi_plugin_sdk::serde_json::json;
    use bexio_bi_plugin_sdk::testing::Harness;

    use super::*;

    fn batch() -> RecordBatch {
        RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as _),
            (
                "name",
                Arc::new(StringArray::from(vec![
                    Some("Müller; Söhne \"AG\""),
                    None,
                    Some("Zeile\nzwei"),
                ])) as _,
            ),
            (
                "total",
                Arc::new(
                    Decimal128Array::from(vec![Some(123_450), Some(-5), None])
                        .with_precision_and_scale(18, 2)
                        .expect("decimal"),
                ) as _,
            ),
        ])
        .expect("batch")
    }

    #[test]
    fn writes_rfc_4180_with_exact_decimals() {
        let out = Harness::<Csv>::new()
            .table("invoices", vec![batch(), batch()])
            .run()
            .expect("run");
        assert_eq!(out.summary.tables["invoices"], 6);
        assert_eq!(out.summary.files, vec!["invoices.csv"]);
        let text = out.text("invoices.csv");
        let mut lines = text.split("\r\n");
        assert_eq!(lines.next(), Some("id,name,total"));
        assert_eq!(lines.next(), Some("1,\"Müller; Söhne \"\"AG\"\"\",1234.50"));
        assert!(text.contains("2,,-0.05\r\n"), "{text}");
        assert!(text.contains("3,\"Zeile\nzwei\",\r\n"), "{text}");
        assert_eq!(out.progress, vec![("invoices".to_owned(), 6)]);
    }

    #[test]
    fn the_excel_option_uses_semicolons_and_a_bom() {
        let out = Harness::<Csv>::new()
            .config(json!({"excel": true}))
            .table("invoices", vec![batch()])
            .run()
            .expect("run");
        let bytes = out.file("invoices.csv");
        assert!(bytes.starts_with("\u{feff}id;name;total\r\n".as_bytes()));
        let text = String::from_utf8(bytes).expect("utf8");
        assert!(
            text.contains("1;\"Müller; Söhne \"\"AG\"\"\";1234.50\r\n"),
            "{text}"
        );
        let e = Harness::<Csv>::new()
            .config(json!({"delimiter": "::"}))
            .table("invoices", vec![batch()])
            .run()
            .expect_err("bad delimiter");
        assert!(e.message.contains("one character"), "{e}");
    }
}
