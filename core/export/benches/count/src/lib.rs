//! Counts rows, sums the `total` decimals and the bytes of the text columns of every batch.

use bexio_bi_plugin_sdk::arrow_array::{Array, Decimal128Array, StringArray};
use bexio_bi_plugin_sdk::{Context, Error, Exporter, PluginInfo, RecordBatch, Summary};

/// The exporter.
pub struct Count {
    out: std::path::PathBuf,
    rows: u64,
    total: i128,
    text_bytes: u64,
}

impl Exporter for Count {
    fn info() -> PluginInfo {
        PluginInfo::new("count", "0.1.0", "Counts rows and sums totals")
    }

    fn open(ctx: Context) -> Result<Self, Error> {
        Ok(Count {
            out: ctx.out_dir.clone(),
            rows: 0,
            total: 0,
            text_bytes: 0,
        })
    }

    fn write(&mut self, _table: &str, batch: RecordBatch) -> Result<(), Error> {
        self.rows += batch.num_rows() as u64;
        for c in batch.columns() {
            if let Some(d) = c.as_any().downcast_ref::<Decimal128Array>() {
                self.total += d.iter().flatten().sum::<i128>();
            } else if let Some(s) = c.as_any().downcast_ref::<StringArray>() {
                self.text_bytes += s.values().len() as u64;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Summary, Error> {
        let line = format!(
            "{} rows, total {}, {} bytes of text\n",
            self.rows, self.total, self.text_bytes
        );
        std::fs::write(self.out.join("count.txt"), &line)?;
        Ok(Summary::default()
            .rows("all", self.rows)
            .file("count.txt", line.len() as u64)
            .note(line.trim_end().to_owned()))
    }
}

bexio_bi_plugin_sdk::export_plugin!(Count);
