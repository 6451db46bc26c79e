//! Parquet and Arrow IPC files, one per table, written batch by batch.
//!
//! Parquet keeps Arrow's logical types: decimals stay `DECIMAL(p, s)` (exact, never a float),
//! dates `DATE`, timestamps `TIMESTAMP` with their time zone, text UTF-8 `STRING`. Compression
//! is zstd (level 3) unless configured; row groups hold at most `row_group_rows` rows, so memory
//! stays bounded however large the table. `"format": "arrow"` writes Arrow IPC files instead
//! (Feather v2, readable by pyarrow, DuckDB, Polars; zstd-compressed buffers).
//!
//! Each file is written as `<table>.<ext>.partial` and renamed when the table is complete, so a
//! reader never sees half a file; an aborted export leaves nothing behind.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use bexio_bi_plugin_sdk::{Context, Error, Exporter, Host, PluginInfo, RecordBatch, Summary};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::Deserialize;

/// The configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `parquet` (default) or `arrow`.
    #[serde(default)]
    format: Format,
    /// `zstd` (default), `snappy` or `none`.
    #[serde(default)]
    compression: Codec,
    /// zstd level, 1 to 22.
    #[serde(default = "zstd_level")]
    zstd_level: i32,
    /// Rows per Parquet row group.
    #[serde(default = "row_group_rows")]
    row_group_rows: usize,
}

fn zstd_level() -> i32 {
    3
}

fn row_group_rows() -> usize {
    1 << 20
}

#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Parquet,
    Arrow,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Codec {
    #[default]
    Zstd,
    Snappy,
    None,
}

const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "format": {"type": "string", "enum": ["parquet", "arrow"], "description": "Parquet (default) or Arrow IPC files"},
    "compression": {"type": "string", "enum": ["zstd", "snappy", "none"], "description": "Compression codec (default: zstd); Arrow IPC knows zstd and none"},
    "zstd_level": {"type": "integer", "minimum": 1, "maximum": 22, "description": "zstd level (default: 3)"},
    "row_group_rows": {"type": "integer", "minimum": 1024, "description": "Rows per Parquet row group (default: 1048576)"}
  }
}"#;

/// The exporter.
pub struct Parquet {
    config: Config,
    dir: PathBuf,
    host: std::sync::Arc<dyn Host>,
    current: Option<Open>,
    summary: Summary,
}

enum Writer {
    Parquet(ArrowWriter<BufWriter<File>>),
    Arrow(FileWriter<BufWriter<File>>),
}

/// The file being written.
struct Open {
    table: String,
    name: String,
    writer: Writer,
    rows: u64,
}

fn partial(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.partial"))
}

impl Parquet {
    fn extension(&self) -> &'static str {
        match self.config.format {
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }

    fn close(&mut self) -> Result<(), Error> {
        let Some(f) = self.current.take() else {
            return Ok(());
        };
        let tmp = partial(&self.dir, &f.name);
        match f.writer {
            Writer::Parquet(w) => {
                w.close()
                    .map_err(|e| Error::io(format!("{}: {e}", f.name)))?;
            }
            Writer::Arrow(mut w) => {
                w.finish()?;
                let mut buf = w.into_inner()?;
                std::io::Write::flush(&mut buf)?;
            }
        }
        let path = self.dir.join(&f.name);
        std::fs::rename(&tmp, &path)
            .map_err(|e| Error::io(format!("cannot rename {}: {e}", tmp.display())))?;
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        let s = std::mem::take(&mut self.summary);
        self.summary = s.rows(&f.table, f.rows).file(f.name, bytes);
        Ok(())
    }

    fn start(&mut self, table: &str, batch: &RecordBatch) -> Result<(), Error> {
        self.close()?;
        let name = format!("{table}.{}", self.extension());
        let tmp = partial(&self.dir, &name);
        let file = File::create(&tmp)
            .map_err(|e| Error::io(format!("cannot create {}: {e}", tmp.display())))?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let schema = batch.schema();
        let writer = match self.config.format {
            Format::Parquet => {
                let compression = match self.config.compression {
                    Codec::Zstd => Compression::ZSTD(
                        ZstdLevel::try_new(self.config.zstd_level)
                            .map_err(|e| Error::config(format!("zstd_level: {e}")))?,
                    ),
                    Codec::Snappy => Compression::SNAPPY,
                    Codec::None => Compression::UNCOMPRESSED,
                };
                let props = WriterProperties::builder()
                    .set_compression(compression)
                    .set_max_row_group_row_count(Some(self.config.row_group_rows))
                    .set_created_by(format!("bexio-bi parquet {}", env!("CARGO_PKG_VERSION")))
                    .build();
                Writer::Parquet(
                    ArrowWriter::try_new(out, schema, Some(props))
                        .map_err(|e| Error::data(format!("{table}: {e}")))?,
                )
            }
            Format::Arrow => {
                let codec = match self.config.compression {
                    Codec::Zstd => Some(arrow_ipc::CompressionType::ZSTD),
                    Codec::None => None,
                    Codec::Snappy => {
                        return Err(Error::config(
                            "Arrow IPC files know zstd and none, not snappy",
                        ));
                    }
                };
                let options = IpcWriteOptions::default()
                    .try_with_compression(codec)
                    .map_err(|e| Error::config(e.to_string()))?;
                Writer::Arrow(FileWriter::try_new_with_options(out, &schema, options)?)
            }
        };
        self.current = Some(Open {
            table: table.to_owned(),
            name,
            writer,
            rows: 0,
        });
        Ok(())
    }
}

impl Exporter for Parquet {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "parquet",
            env!("CARGO_PKG_VERSION"),
            "Parquet (zstd, exact decimals, dates, time zones) or Arrow IPC files, one per table",
        )
        .config_schema(SCHEMA)
        .capabilities(&["files"])
    }

    fn open(ctx: Context) -> Result<Parquet, Error> {
        let config: Config = ctx.config()?;
        if !(1..=22).contains(&config.zstd_level) {
            return Err(Error::config(format!(
                "zstd_level must be 1 to 22, not {}",
                config.zstd_level
            )));
        }
        if config.row_group_rows < 1024 {
            return Err(Error::config(format!(
                "row_group_rows must be at least 1024, not {}",
                config.row_group_rows
            )));
        }
        std::fs::create_dir_all(&ctx.out_dir)?;
        Ok(Parquet {
            config,
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
        let Some(f) = self.current.as_mut() else {
            return Err(Error::internal("no file open"));
        };
        match &mut f.writer {
            Writer::Parquet(w) => w
                .write(&batch)
                .map_err(|e| Error::data(format!("{table}: {e}")))?,
            Writer::Arrow(w) => w.write(&batch)?,
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
            let tmp = partial(&self.dir, &f.name);
            drop(f);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

bexio_bi_plugin_sdk::export_plugin!(Parquet);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bexio_bi_plugin_sdk::arrow_array::{
        Array, Date32Array, Decimal128Array, Int64Array, StringArray,
    };
    use bexio_bi_plugin_sdk::serde_json::json;
    use bexio_bi_plugin_sdk::testing::Harness;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn batch(from: i64) -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from(vec![from, from + 1, from + 2])) as _,
            ),
            (
                "name",
                Arc::new(StringArray::from(vec![
                    Some("Zürich AG"),
                    None,
                    Some("€ 5"),
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
            (
                "date",
                Arc::new(Date32Array::from(vec![Some(20_000), None, Some(0)])) as _,
            ),
        ])
        .expect("batch")
    }

    #[test]
    fn parquet_keeps_types_nulls_and_exact_decimals() {
        let out = Harness::<Parquet>::new()
            .table("fact_invoice", vec![batch(1), batch(4)])
            .table("dim_contact", vec![batch(9)])
            .run()
            .expect("run");
        assert_eq!(out.summary.tables["fact_invoice"], 6);
        assert_eq!(
            out.summary.files,
            vec!["fact_invoice.parquet", "dim_contact.parquet"]
        );
        let schema = batch(0).schema();
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(bytes_file(out.file("fact_invoice.parquet")))
                .expect("reader")
                .build()
                .expect("build");
        let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("read");
        assert_eq!(batches[0].schema().fields(), schema.fields());
        let total: i128 = batches
            .iter()
            .map(|b| {
                let d = b
                    .column(2)
                    .as_any()
                    .downcast_ref::<Decimal128Array>()
                    .expect("decimal");
                (0..d.len())
                    .filter(|&i| d.is_valid(i))
                    .map(|i| d.value(i))
                    .sum::<i128>()
            })
            .sum();
        assert_eq!(total, 2 * (123_450 - 5));
    }

    fn bytes_file(b: Vec<u8>) -> bytes::Bytes {
        b.into()
    }

    #[test]
    fn arrow_ipc_and_bad_settings() {
        let out = Harness::<Parquet>::new()
            .config(json!({"format": "arrow"}))
            .table("fact_invoice", vec![batch(1)])
            .run()
            .expect("run");
        let bytes = out.file("fact_invoice.arrow");
        assert!(bytes.starts_with(b"ARROW1"));
        let reader =
            arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes), None).expect("ipc");
        let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
        assert_eq!(rows, 3);
        for (config, needle) in [
            (
                json!({"format": "arrow", "compression": "snappy"}),
                "not snappy",
            ),
            (json!({"zstd_level": 40}), "1 to 22"),
            (json!({"colour": "red"}), "colour"),
        ] {
            let e = Harness::<Parquet>::new()
                .config(config)
                .table("fact_invoice", vec![batch(1)])
                .run()
                .expect_err(needle);
            assert!(e.message.contains(needle), "{e}");
        }
    }
}
