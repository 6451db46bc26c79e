//! The sync pipeline of one company: bexio client → normalizer → store.
//!
//! Streams are read in an order that lets later records use earlier ones: lookups first, then
//! dimensions, the journal (its bookings carry bexio's exchange rates), sales documents, the
//! invoices' details (positions; one request per invoice, several in flight) and payments (only
//! for invoices that received some), then purchase bills and expenses. Batches stream into a new
//! snapshot of the store, which is published only when every stream is done: a sync that fails
//! or is killed leaves the previous snapshot as it was.
//!
//! A stream that bexio refuses with 403 (a missing scope) is skipped with a warning naming it;
//! the others go on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bexio::client::{Client, ClientError, Paging, Stats};
use bexio::normalize::{DecodeError, Normalizer, Resource};
use bexio_bi_store::{Store, StoreError};
use serde::Serialize;

/// Why a company's sync failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// bexio could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// An answer could not be read at all, even after retries.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The store could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request task failed unexpectedly.
    #[error("a request task failed: {0}")]
    Task(String),
}

/// Told about progress (a terminal shows bars; logs or nothing elsewhere).
pub trait Progress: Send + Sync {
    /// A stream starts; `total` when known.
    fn start(&self, tenant: &str, stream: &str, total: Option<u64>);
    /// Records read.
    fn advance(&self, tenant: &str, stream: &str, records: u64);
    /// A stream is done.
    fn finish(&self, tenant: &str, stream: &str);
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: &str, _: Option<u64>) {}
    fn advance(&self, _: &str, _: &str, _: u64) {}
    fn finish(&self, _: &str, _: &str) {}
}

/// How to sync.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Detail requests in flight at once.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { concurrency: 4 }
    }
}

/// A stream that was not read.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The stream.
    pub stream: String,
    /// Why (bexio's words).
    pub reason: String,
}

/// What a company's sync did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The company.
    pub tenant: String,
    /// The snapshot written.
    pub snapshot: String,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// Records rejected (see the `rejects` table).
    pub rejected: u64,
    /// Streams skipped.
    pub skipped: Vec<Skipped>,
    /// Invoices deleted in bexio between being listed and being read in detail.
    pub vanished: u64,
    /// HTTP requests, 429s, retries, time waited for rate limits.
    pub http: Stats,
    /// Wall time.
    pub seconds: f64,
}

/// What the sync keeps of each invoice of the list: enough to fetch its details.
struct InvoiceRef {
    id: i64,
    paid: bool,
}

impl InvoiceRef {
    /// The invoices of a list page (ids and whether any payment was received).
    fn read(body: &[u8]) -> Vec<InvoiceRef> {
        // Read each record on its own and as leniently as the normalizer does: one odd record
        // must not hide the others' positions and payments.
        let rows: Vec<&serde_json::value::RawValue> =
            serde_json::from_slice(body).unwrap_or_default();
        rows.into_iter()
            .filter_map(|raw| {
                let v: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
                let id = v["id"]
                    .as_i64()
                    .or_else(|| v["id"].as_str().and_then(|s| s.trim().parse().ok()))?;
                // Any non-zero digit: a payment was received (read as text, never as a float).
                let paid = match &v["total_received_payments"] {
                    serde_json::Value::String(s) => {
                        s.chars().any(|c| c.is_ascii_digit() && c != '0')
                    }
                    serde_json::Value::Number(n) => n
                        .to_string()
                        .chars()
                        .any(|c| c.is_ascii_digit() && c != '0'),
                    _ => false,
                };
                Some(InvoiceRef { id, paid })
            })
            .collect()
    }
}

struct Run<'a> {
    tenant: &'a str,
    client: &'a Client,
    normalizer: Normalizer,
    writer: bexio_bi_store::SnapshotWriter,
    progress: &'a dyn Progress,
    rejected: u64,
    skipped: Vec<Skipped>,
    vanished: u64,
}

impl Run<'_> {
    fn feed(&mut self, resource: Resource, body: &[u8]) -> Result<usize, SyncError> {
        let summary = self.normalizer.decode(resource, body)?;
        self.rejected += summary.rejected as u64;
        for (table, batch) in self.normalizer.flush() {
            self.writer.write(table, &batch)?;
        }
        Ok(summary.records)
    }

    /// Reads every page of a list route into the normalizer; a 403 skips the stream.
    async fn stream(
        &mut self,
        name: &str,
        path: &str,
        paging: Paging,
        resource: Resource,
    ) -> Result<Vec<InvoiceRef>, SyncError> {
        self.progress.start(self.tenant, name, None);
        let limit = if paging == Paging::Page { 500 } else { 2000 };
        let client = self.client;
        let mut invoices: Vec<InvoiceRef> = Vec::new();
        let mut failed: Option<SyncError> = None;
        // Pages are decoded as they arrive: memory holds one page, not the stream.
        let result = client
            .pages(paging, path, limit, |answer| {
                match self.feed(resource.clone(), &answer.body) {
                    Ok(n) => self.progress.advance(self.tenant, name, n as u64),
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
                if resource == Resource::Invoices {
                    invoices.extend(InvoiceRef::read(&answer.body));
                }
                true
            })
            .await;
        if let Some(e) = failed {
            return Err(e);
        }
        match result {
            Ok(_) => {}
            Err(ClientError::Forbidden { message, .. }) => {
                tracing::warn!(tenant = self.tenant, stream = name, %message, "skipped: the token lacks the scope");
                self.skipped.push(Skipped {
                    stream: name.to_owned(),
                    reason: message,
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.progress.finish(self.tenant, name);
        Ok(invoices)
    }

    /// One request per id, `concurrency` in flight; 404s (deleted meanwhile) are skipped.
    async fn per_id(
        &mut self,
        name: &str,
        ids: &[i64],
        concurrency: usize,
        path: impl Fn(i64) -> String,
        resource: impl Fn(i64) -> Resource,
    ) -> Result<(), SyncError> {
        self.progress
            .start(self.tenant, name, Some(ids.len() as u64));
        // A sliding window: as soon as one request is answered, the next one goes out, so a
        // slow answer never holds the others back. Dropping the set (on an error) cancels the
        // rest.
        let mut set = tokio::task::JoinSet::new();
        let mut next = ids.iter();
        let spawn =
            |set: &mut tokio::task::JoinSet<(i64, Result<bexio::client::Answer, ClientError>)>,
             id: i64| {
                let client = self.client.clone();
                let p = path(id);
                set.spawn(async move { (id, client.get(&p).await) });
            };
        for id in next.by_ref().take(concurrency.max(1)) {
            spawn(&mut set, *id);
        }
        while let Some(done) = set.join_next().await {
            // A request task that panicked is a bug, not a record to skip.
            let (id, answer) = done.map_err(|e| SyncError::Task(e.to_string()))?;
            if let Some(n) = next.next() {
                spawn(&mut set, *n);
            }
            match answer {
                Ok(a) => {
                    self.feed(resource(id), &a.body)?;
                }
                // Deleted between the list and now: counted, and gone from the next sync.
                Err(ClientError::NotFound { .. }) => self.vanished += 1,
                Err(ClientError::Forbidden { message, .. }) => {
                    self.skipped.push(Skipped {
                        stream: name.to_owned(),
                        reason: message,
                    });
                    self.progress.finish(self.tenant, name);
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
            self.progress.advance(self.tenant, name, 1);
        }
        self.progress.finish(self.tenant, name);
        Ok(())
    }
}

/// A list stream: its name, route, paging and what its records are.
type Stream = (&'static str, &'static str, Paging, fn() -> Resource);

/// The list streams, in the order they are read.
const STREAMS: &[Stream] = &[
    ("countries", "/2.0/country", Paging::Offset, || {
        Resource::Countries
    }),
    ("languages", "/2.0/language", Paging::Offset, || {
        Resource::Languages
    }),
    (
        "contact groups",
        "/2.0/contact_group",
        Paging::Offset,
        || Resource::ContactGroups,
    ),
    (
        "contact sectors",
        "/2.0/contact_branch",
        Paging::Offset,
        || Resource::ContactBranches,
    ),
    ("units", "/2.0/unit", Paging::Offset, || Resource::Units),
    ("currencies", "/3.0/currencies", Paging::OffsetTotal, || {
        Resource::Currencies
    }),
    (
        "account groups",
        "/2.0/account_groups",
        Paging::Offset,
        || Resource::AccountGroups,
    ),
    (
        "project states",
        "/2.0/pr_project_state",
        Paging::Offset,
        || Resource::ProjectStates,
    ),
    (
        "project types",
        "/2.0/pr_project_type",
        Paging::Offset,
        || Resource::ProjectTypes,
    ),
    ("activities", "/2.0/client_service", Paging::Offset, || {
        Resource::ClientServices
    }),
    (
        "timesheet states",
        "/2.0/timesheet_status",
        Paging::Offset,
        || Resource::TimesheetStatuses,
    ),
    (
        "business years",
        "/3.0/accounting/business_years",
        Paging::OffsetTotal,
        || Resource::BusinessYears,
    ),
    ("accounts", "/2.0/accounts", Paging::Offset, || {
        Resource::Accounts
    }),
    ("taxes", "/3.0/taxes", Paging::OffsetTotal, || {
        Resource::Taxes
    }),
    ("users", "/3.0/users", Paging::OffsetTotal, || {
        Resource::Users
    }),
    ("articles", "/2.0/article", Paging::Offset, || {
        Resource::Articles
    }),
    ("contacts", "/2.0/contact", Paging::Offset, || {
        Resource::Contacts
    }),
    (
        "archived contacts",
        "/2.0/contact?show_archived=true",
        Paging::Offset,
        || Resource::ArchivedContacts,
    ),
    ("projects", "/2.0/pr_project", Paging::Offset, || {
        Resource::Projects
    }),
    ("timesheets", "/2.0/timesheet", Paging::Offset, || {
        Resource::Timesheets
    }),
    (
        "journal",
        "/3.0/accounting/journal",
        Paging::OffsetTotal,
        || Resource::Journal,
    ),
    ("quotes", "/2.0/kb_offer", Paging::Offset, || {
        Resource::Quotes
    }),
    ("orders", "/2.0/kb_order", Paging::Offset, || {
        Resource::Orders
    }),
    ("invoices", "/2.0/kb_invoice", Paging::Offset, || {
        Resource::Invoices
    }),
    ("bills", "/4.0/purchase/bills", Paging::Page, || {
        Resource::Bills
    }),
    ("expenses", "/4.0/expenses", Paging::Page, || {
        Resource::Expenses
    }),
];

/// Syncs one company completely and publishes a new snapshot.
pub async fn sync(
    tenant: &str,
    client: &Client,
    store: &Store,
    options: Options,
    progress: Arc<dyn Progress>,
) -> Result<Report, SyncError> {
    let started = Instant::now();
    let writer = store.begin(tenant)?;
    let mut run = Run {
        tenant,
        client,
        normalizer: Normalizer::new(tenant),
        writer,
        progress: progress.as_ref(),
        rejected: 0,
        skipped: Vec::new(),
        vanished: 0,
    };
    let mut invoices = Vec::new();
    for (name, path, paging, resource) in STREAMS {
        let refs = run.stream(name, path, *paging, resource()).await?;
        if !refs.is_empty() {
            invoices = refs;
        }
    }
    // Positions are only in each invoice's detail; payments only where some were received.
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    run.per_id(
        "invoice lines",
        &ids,
        options.concurrency,
        |id| format!("/2.0/kb_invoice/{id}"),
        |_| Resource::InvoiceLines,
    )
    .await?;
    let paid: Vec<i64> = invoices.iter().filter(|i| i.paid).map(|i| i.id).collect();
    run.per_id(
        "payments",
        &paid,
        options.concurrency,
        |id| format!("/2.0/kb_invoice/{id}/payment"),
        Resource::InvoicePayments,
    )
    .await?;

    let Run {
        normalizer,
        mut writer,
        rejected,
        skipped,
        vanished,
        ..
    } = run;
    for (table, batch) in normalizer.finish()? {
        writer.write(table, &batch)?;
    }
    let manifest = writer.commit()?;
    Ok(Report {
        tenant: tenant.to_owned(),
        snapshot: manifest.id.clone(),
        tables: manifest
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect(),
        rejected,
        skipped,
        vanished,
        http: client.stats(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
