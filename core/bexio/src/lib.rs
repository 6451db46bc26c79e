//! The bexio side of bexio-bi.
//!
//! [`normalize`] turns bexio's JSON answers into the Arrow star schema of `bexio-bi-model`
//! without doing any IO, so that it can be tested and fuzzed without a server. The client that
//! fetches those answers (paging, rate limits, retries, incremental pulls) sits beside it.

pub mod client;
pub mod normalize;
