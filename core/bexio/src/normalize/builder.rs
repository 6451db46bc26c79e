//! Rows to Arrow: a builder per table that takes whole rows of [`Cell`]s, checks every cell
//! against the catalog (type, required, exact decimal) before appending any, and hands out
//! `RecordBatch`es of a bounded size.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use bexio_bi_model::catalog::{ColumnType, Table};
use bexio_bi_model::money;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Empty.
    Null,
    /// Text (also keys).
    Text(String),
    /// Whole number or id.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// Calendar day.
    Date(NaiveDate),
    /// Moment, microseconds since the epoch, UTC.
    Micros(i64),
    /// Exact decimal.
    Dec(Decimal),
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::Null, Cell::Text)
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_owned())
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}
impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Cell::Null, Cell::Int)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Bool(v)
    }
}
impl From<Decimal> for Cell {
    fn from(v: Decimal) -> Self {
        Cell::Dec(v)
    }
}
impl From<Option<Decimal>> for Cell {
    fn from(v: Option<Decimal>) -> Self {
        v.map_or(Cell::Null, Cell::Dec)
    }
}
impl From<NaiveDate> for Cell {
    fn from(v: NaiveDate) -> Self {
        Cell::Date(v)
    }
}
impl From<Option<NaiveDate>> for Cell {
    fn from(v: Option<NaiveDate>) -> Self {
        v.map_or(Cell::Null, Cell::Date)
    }
}

enum Col {
    Text(StringBuilder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Micros(TimestampMicrosecondBuilder),
    Dec(Decimal128Builder),
}

/// A row that does not fit its table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}.{column}: {problem}")]
pub struct RowError {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
    /// What is wrong.
    pub problem: String,
}

fn epoch_days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// Appends rows of one table and cuts them into batches.
pub struct TableBuilder {
    table: &'static Table,
    cols: Vec<Col>,
    rows: usize,
    /// Bytes of text held (raw JSON of rejects can be large).
    text_bytes: usize,
    /// Unscaled decimals of the row being checked, reused.
    scratch: Vec<i128>,
}

impl TableBuilder {
    /// An empty builder for a catalog table.
    pub fn new(table: &'static Table) -> Self {
        let cols = table
            .columns
            .iter()
            .map(|c| match c.ty {
                ColumnType::Key | ColumnType::Text => Col::Text(StringBuilder::new()),
                ColumnType::Id | ColumnType::Int => Col::Int(Int64Builder::new()),
                ColumnType::Bool => Col::Bool(BooleanBuilder::new()),
                ColumnType::Date => Col::Date(Date32Builder::new()),
                ColumnType::Timestamp => {
                    Col::Micros(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
                }
                ty => {
                    let (p, s) = money::precision_scale(ty).unwrap_or((38, 0));
                    Col::Dec(
                        Decimal128Builder::new()
                            .with_precision_and_scale(p, s as i8)
                            .unwrap_or_else(|_| Decimal128Builder::new()),
                    )
                }
            })
            .collect();
        TableBuilder {
            table,
            cols,
            rows: 0,
            text_bytes: 0,
            scratch: Vec::new(),
        }
    }

    /// The table.
    pub fn table(&self) -> &'static Table {
        self.table
    }

    /// Rows waiting to be flushed.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Bytes of text waiting to be flushed.
    pub fn text_bytes(&self) -> usize {
        self.text_bytes
    }

    /// Whether no rows are waiting.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends a row if every cell fits its column; otherwise appends nothing and says why.
    pub fn push(&mut self, row: &[Cell]) -> Result<(), RowError> {
        self.check(row)?;
        self.append_checked(row);
        Ok(())
    }

    /// Whether a row fits (nothing is appended).
    pub fn check(&mut self, row: &[Cell]) -> Result<(), RowError> {
        let t = self.table;
        if row.len() != t.columns.len() {
            return Err(RowError {
                table: t.name,
                column: "*",
                problem: format!("{} cells for {} columns", row.len(), t.columns.len()),
            });
        }
        // Check everything first: a row is all in or all out.
        self.scratch.clear();
        for (c, cell) in t.columns.iter().zip(row) {
            let err = |problem: String| RowError {
                table: t.name,
                column: c.name,
                problem,
            };
            match (c.ty, cell) {
                (_, Cell::Null) if c.required => return Err(err("is required but missing".into())),
                (_, Cell::Null) => {}
                (ColumnType::Key | ColumnType::Text, Cell::Text(_))
                | (ColumnType::Id | ColumnType::Int, Cell::Int(_))
                | (ColumnType::Bool, Cell::Bool(_))
                | (ColumnType::Date, Cell::Date(_))
                | (ColumnType::Timestamp, Cell::Micros(_)) => {}
                (ty, Cell::Dec(d)) => match money::to_i128(*d, ty) {
                    Ok(v) => self.scratch.push(v),
                    Err(e) => return Err(err(e.to_string())),
                },
                (ty, other) => return Err(err(format!("expected {}, got {other:?}", ty.label()))),
            }
        }
        Ok(())
    }

    /// Appends a row that [`TableBuilder::check`] accepted just before.
    fn append_checked(&mut self, row: &[Cell]) {
        let mut decimals = self.scratch.iter();
        for (col, cell) in self.cols.iter_mut().zip(row) {
            match (col, cell) {
                (Col::Text(b), Cell::Text(s)) => {
                    self.text_bytes += s.len();
                    b.append_value(s)
                }
                (Col::Int(b), Cell::Int(v)) => b.append_value(*v),
                (Col::Bool(b), Cell::Bool(v)) => b.append_value(*v),
                (Col::Date(b), Cell::Date(d)) => b.append_value(epoch_days(*d)),
                (Col::Micros(b), Cell::Micros(v)) => b.append_value(*v),
                (Col::Dec(b), Cell::Dec(_)) => {
                    b.append_value(decimals.next().copied().unwrap_or_default())
                }
                (Col::Text(b), _) => b.append_null(),
                (Col::Int(b), _) => b.append_null(),
                (Col::Bool(b), _) => b.append_null(),
                (Col::Date(b), _) => b.append_null(),
                (Col::Micros(b), _) => b.append_null(),
                (Col::Dec(b), _) => b.append_null(),
            }
        }
        self.rows += 1;
    }

    /// The rows so far as one batch (the builder is then empty).
    pub fn finish(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Text(b) => Arc::new(b.finish()),
                    Col::Int(b) => Arc::new(b.finish()),
                    Col::Bool(b) => Arc::new(b.finish()),
                    Col::Date(b) => Arc::new(b.finish()),
                    Col::Micros(b) => Arc::new(b.finish()),
                    Col::Dec(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        self.text_bytes = 0;
        RecordBatch::try_new(self.table.schema(), arrays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bexio_bi_model::catalog::FACT_PAYMENT;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    fn row(amount: &str) -> Vec<Cell> {
        vec![
            "t:1".into(),
            "t".into(),
            Cell::Int(1),
            "t:9".into(),
            Cell::Date(NaiveDate::from_ymd_opt(2025, 1, 2).expect("date")),
            Cell::Dec(d(amount)),
            "CHF".into(),
            Cell::Dec(d(amount)),
            Cell::Null,
            Cell::Bool(false),
        ]
    }

    #[test]
    fn rows_are_all_in_or_all_out() {
        let mut b = TableBuilder::new(&FACT_PAYMENT);
        b.push(&row("100.000000")).expect("fits");
        let e = b
            .push(&row("0.125"))
            .expect_err("three decimals do not fit decimal(18,2)");
        assert_eq!(e.column, "amount");
        let mut missing = row("1");
        missing[0] = Cell::Null;
        assert!(b.push(&missing).is_err());
        assert_eq!(b.len(), 1);
        let batch = b.finish().expect("batch");
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), FACT_PAYMENT.schema());
        assert!(b.is_empty());
    }
}
