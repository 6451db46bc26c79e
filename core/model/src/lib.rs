//! The data model of bexio-bi: the star schema that bexio's data becomes, as Arrow schemas.
//!
//! This crate does no IO. It names every table and column, says what each means, and gives the
//! exact decimal conversions and keys the normalizer and exporters share.
//!
//! ```
//! use bexio_bi_model::catalog::{table, ColumnType};
//!
//! let invoices = table("fact_invoice").expect("in the catalog");
//! let schema = invoices.schema();
//! assert_eq!(schema.field(0).name(), "invoice_key");
//! assert_eq!(invoices.column("total").map(|c| c.ty), Some(ColumnType::Money));
//! ```

pub mod catalog;
pub mod date;
pub mod doc;
pub mod keys;
pub mod money;

pub use catalog::{CATALOG, Column, ColumnType, Kind, Table, table};
