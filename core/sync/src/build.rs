//! Building the tables from the mirror: every record through the normalizer, in the order that
//! lets later records use earlier ones, into a new snapshot of the store.

use std::collections::BTreeSet;

use bexio::normalize::{Normalizer, Resource};
use bexio_bi_cache::{Mirror, id_of_key};
use bexio_bi_store::SnapshotWriter;

use crate::streams::{ADDRESSES, DETAILS, INVOICES, PAYMENTS, RATES, STREAMS, stream};
use crate::{Progress, SyncError};

/// Records per array handed to the normalizer, and bytes at most.
const CHUNK_RECORDS: usize = 2000;
const CHUNK_BYTES: usize = 8 << 20;

struct Builder<'a> {
    normalizer: Normalizer,
    writer: &'a mut SnapshotWriter,
    rejected: u64,
}

impl Builder<'_> {
    fn feed(&mut self, resource: Resource, body: &[u8]) -> Result<(), SyncError> {
        let summary = self.normalizer.decode(resource, body)?;
        self.rejected += summary.rejected as u64;
        for (table, batch) in self.normalizer.flush() {
            self.writer.write(table, &batch)?;
        }
        Ok(())
    }

    /// Hands a stream's records to the normalizer as JSON arrays of up to 2000 records.
    fn stream(
        &mut self,
        mirror: &Mirror,
        key: &str,
        resource: impl Fn() -> Resource,
    ) -> Result<u64, SyncError> {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut n = 0usize;
        let mut total = 0u64;
        for item in mirror.records(key)? {
            let (_, body) = item?;
            buf.push(if n == 0 { b'[' } else { b',' });
            buf.extend_from_slice(&body);
            n += 1;
            total += 1;
            if n >= CHUNK_RECORDS || buf.len() >= CHUNK_BYTES {
                buf.push(b']');
                self.feed(resource(), &buf)?;
                buf.clear();
                n = 0;
            }
        }
        if n > 0 {
            buf.push(b']');
            self.feed(resource(), &buf)?;
        }
        Ok(total)
    }
}

/// Builds every table from the mirror into `writer`; streams in `skip` (refused by bexio in this
/// run) are left out. Returns the records rejected.
pub(crate) fn tables(
    tenant: &str,
    mirror: &Mirror,
    writer: &mut SnapshotWriter,
    skip: &BTreeSet<String>,
    progress: &dyn Progress,
) -> Result<u64, SyncError> {
    const NAME: &str = "tables";
    progress.start(tenant, NAME, None);
    let mut b = Builder {
        normalizer: Normalizer::new(tenant),
        writer,
        rejected: 0,
    };
    for s in STREAMS.iter().filter(|s| !skip.contains(s.key)) {
        let n = b.stream(mirror, s.key, s.resource)?;
        progress.advance(tenant, NAME, n);
        if s.key == "accounting/journal" {
            // Rates the journal lacks, before the documents that need them.
            for item in mirror.records(RATES)? {
                let (key, body) = item?;
                let code = key.split(':').next().unwrap_or_default().to_owned();
                b.feed(Resource::ExchangeRates(code), &body)?;
            }
        }
    }
    if !skip.contains(INVOICES) {
        let n = b.stream(mirror, DETAILS, || Resource::InvoiceLines)?;
        progress.advance(tenant, NAME, n);
        // Each invoice's payments are one list, read with the invoice's id.
        for item in mirror.records(PAYMENTS)? {
            let (key, body) = item?;
            let Ok(id) = id_of_key(&key).parse::<i64>() else {
                continue;
            };
            b.feed(Resource::InvoicePayments(id), &body)?;
            progress.advance(tenant, NAME, 1);
        }
    }
    if !skip.contains("contact") {
        // Each contact's additional addresses are one list, read with the contact's id.
        for item in mirror.records(ADDRESSES)? {
            let (key, body) = item?;
            let Ok(id) = id_of_key(&key).parse::<i64>() else {
                continue;
            };
            b.feed(Resource::AdditionalAddresses(id), &body)?;
            progress.advance(tenant, NAME, 1);
        }
    }
    // Deletions: a row per record gone from bexio, unless it only moved to a sibling stream
    // (an archived contact is still a contact).
    for s in STREAMS.iter().filter(|s| !skip.contains(s.key)) {
        for t in mirror.tombstones(s.key)? {
            let moved = match s.sibling.and_then(stream) {
                Some(sib) => mirror.get(sib.key, &t.key)?.is_some(),
                None => false,
            };
            if moved {
                continue;
            }
            let at = i64::try_from(t.deleted_unix)
                .unwrap_or(i64::MAX / 1_000_000)
                .saturating_mul(1_000_000);
            let last_seen = String::from_utf8_lossy(&t.body);
            b.normalizer
                .tombstone(&(s.resource)(), id_of_key(&t.key), at, &last_seen)?;
        }
    }
    let Builder {
        normalizer,
        writer,
        rejected,
    } = b;
    for (table, batch) in normalizer.finish()? {
        writer.write(table, &batch)?;
    }
    progress.finish(tenant, NAME);
    Ok(rejected)
}
