//! `bexio-bi tables` and `bexio-bi show`: what is stored, offline.

use std::io::Write;

use anyhow::Context;
use arrow_array::RecordBatch;
use arrow_schema::DataType;
use bexio_bi_store::Store;
use clap::{Args as ClapArgs, ValueEnum};

use super::UsageError;

/// Options of `tables`.
#[derive(Debug, ClapArgs)]
pub struct TablesArgs {
    /// Only this company.
    #[arg(long)]
    pub tenant: Option<String>,
    /// A version (id or tag, see `bexio-bi versions`) instead of the current one.
    #[arg(long)]
    pub version: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Output formats of `show`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// One JSON object per row (JSON Lines).
    Json,
}

/// Options of `show`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Examples:\n  bexio-bi show fact_invoice --limit 5\n  bexio-bi show dim_contact --tenant meier-it --format csv > contacts.csv"
)]
pub struct ShowArgs {
    /// The table (see `bexio-bi tables`).
    pub table: String,
    /// The company (needed when several are stored).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Rows to print.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// A version (id or tag, see `bexio-bi versions`) instead of the current one.
    #[arg(long)]
    pub version: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The version asked for, or the current one.
pub(super) fn pick(
    store: &Store,
    tenant: &str,
    version: Option<&str>,
) -> anyhow::Result<Option<bexio_bi_store::Snapshot>> {
    Ok(match version {
        None => store.latest(tenant)?,
        Some(v) => Some(store.version(tenant, v)?),
    })
}

/// The store, for commands that read it (none yet: a usage error).
pub(super) fn store() -> anyhow::Result<Store> {
    crate::unlock::existing()
}

pub(super) fn tenants(store: &Store, only: Option<&String>) -> anyhow::Result<Vec<String>> {
    let all = store.tenants()?;
    match only {
        None if all.is_empty() => {
            Err(UsageError("nothing is stored yet: run `bexio-bi sync` first".into()).into())
        }
        None => Ok(all),
        Some(t) if all.contains(t) => Ok(vec![t.clone()]),
        Some(t) => {
            Err(UsageError(format!("no data for {t:?} (stored: {})", all.join(", "))).into())
        }
    }
}

/// Lists the tables of the latest data of each company with their row counts.
pub fn tables(args: TablesArgs) -> anyhow::Result<()> {
    let store = store()?;
    let mut out = Vec::new();
    for t in tenants(&store, args.tenant.as_ref())? {
        if let Some(snap) = pick(&store, &t, args.version.as_deref())? {
            out.push(snap.manifest().clone());
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for m in out {
        println!("{} (snapshot {})", m.tenant, m.id);
        for t in &m.tables {
            println!("  {:<20} {:>10}", t.name, t.rows);
        }
    }
    Ok(())
}

/// Prints rows of a stored table.
pub fn show(args: ShowArgs) -> anyhow::Result<()> {
    let store = store()?;
    let all = tenants(&store, args.tenant.as_ref())?;
    if all.len() > 1 && args.tenant.is_none() {
        return Err(UsageError(format!(
            "several companies are stored ({}): choose one with --tenant",
            all.join(", ")
        ))
        .into());
    }
    let snap = pick(&store, &all[0], args.version.as_deref())?.context("no version")?;
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    let mut header: Vec<String> = Vec::new();
    let mut kinds: Vec<DataType> = Vec::new();
    for batch in snap.read(&args.table)? {
        let batch: RecordBatch = batch?;
        if header.is_empty() {
            header = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            kinds = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.data_type().clone())
                .collect();
        }
        for i in 0..batch.num_rows() {
            if rows.len() >= args.limit {
                break;
            }
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| bexio_bi_store::cell_text(c.as_ref(), i))
                    .collect(),
            );
        }
        if rows.len() >= args.limit {
            break;
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            for r in &rows {
                // Numbers and booleans as JSON numbers and booleans; decimals stay strings so
                // that no reader rounds money through floating point.
                let obj: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(r)
                    .zip(&kinds)
                    .map(|((h, v), kind)| {
                        let value = match (v, kind) {
                            (None, _) => serde_json::Value::Null,
                            (Some(v), DataType::Int64) => v
                                .parse::<i64>()
                                .map_or_else(|_| v.clone().into(), serde_json::Value::from),
                            (Some(v), DataType::Boolean) => serde_json::Value::Bool(v == "true"),
                            (Some(v), _) => serde_json::Value::String(v.clone()),
                        };
                        (h.clone(), value)
                    })
                    .collect();
                writeln!(out, "{}", serde_json::Value::Object(obj))?;
            }
        }
        Format::Csv => {
            let esc = |s: &str| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_owned()
                }
            };
            writeln!(
                out,
                "{}",
                header.iter().map(|h| esc(h)).collect::<Vec<_>>().join(",")
            )?;
            for r in &rows {
                writeln!(
                    out,
                    "{}",
                    r.iter()
                        .map(|v| v.as_deref().map(esc).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
        }
        Format::Table => {
            let widths: Vec<usize> = header
                .iter()
                .enumerate()
                .map(|(c, h)| {
                    rows.iter()
                        .map(|r| r[c].as_deref().map_or(0, |s| s.chars().count().min(40)))
                        .max()
                        .unwrap_or(0)
                        .max(h.len())
                })
                .collect();
            let line = |vals: Vec<String>| {
                vals.iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{:<w$}", v.chars().take(40).collect::<String>(), w = *w))
                    .collect::<Vec<_>>()
                    .join("  ")
            };
            writeln!(out, "{}", line(header.clone()))?;
            for r in &rows {
                writeln!(
                    out,
                    "{}",
                    line(r.iter().map(|v| v.clone().unwrap_or_default()).collect())
                )?;
            }
        }
    }
    Ok(())
}
