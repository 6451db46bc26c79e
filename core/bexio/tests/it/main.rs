//! The normalizer against bexio's real recorded answers and against the sandbox over HTTP.

mod client;
mod oauth;
mod recorded;
mod sandbox;

use arrow_array::RecordBatch;

/// Total rows of a table over batches.
pub fn rows(batches: &[(&'static str, RecordBatch)], table: &str) -> usize {
    batches
        .iter()
        .filter(|(t, _)| *t == table)
        .map(|(_, b)| b.num_rows())
        .sum()
}
