//! Sans-IO normalization: bexio JSON bytes in, Arrow `RecordBatch`es of the star schema out.
//!
//! A [`Normalizer`] belongs to one company. Feed it pages as they arrive with
//! [`Normalizer::decode`], naming the [`Resource`] the page came from; take finished batches with
//! [`Normalizer::flush`] (bounded memory: a table's rows are cut into batches of
//! [`Normalizer::batch_rows`]) and the rest with [`Normalizer::finish`]. Lookups (currencies,
//! countries, groups…) are decoded into a [`Context`] that later records use, so the client
//! feeds them first. A page that is not JSON is an error (the client retries it); a record that
//! does not fit the schema becomes a row of `rejects` with the reason and its raw JSON, and the
//! sync goes on.
//!
//! ```
//! use bexio::normalize::{Normalizer, Resource};
//!
//! let mut n = Normalizer::new("q69vysq7fkzl");
//! let page = br#"[{"id":1,"name":"CHF","round_factor":0.05}]"#;
//! n.decode(Resource::Currencies, page).expect("a JSON page");
//! let batches = n.finish().expect("batches");
//! assert_eq!(batches[0].0, "dim_currency");
//! assert_eq!(batches[0].1.num_rows(), 1);
//! ```

mod builder;
mod fields;
mod map;

use std::collections::{BTreeMap, HashMap};

use arrow_array::RecordBatch;
use bexio_bi_model::catalog::{self, Table};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

pub use builder::{Cell, RowError, TableBuilder};

/// A batch is also cut when its text reaches this size (rejects carry whole raw records).
const MAX_BATCH_TEXT: usize = 32 << 20;
pub use fields::{FieldError, Raw, Rec, parse_moment};

enum PageError {
    Json(serde_json::Error),
    Shape(String),
}

/// The records of a page, unparsed: a JSON array, a 4.0 `{data, paging}` envelope, or one object.
fn records_of(body: &[u8]) -> Result<Vec<&Raw>, PageError> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        data: Option<Vec<&'a Raw>>,
        #[serde(borrow)]
        paging: Option<&'a Raw>,
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        Some(b'[') => serde_json::from_slice(body).map_err(PageError::Json),
        Some(b'{') => {
            let whole: &Raw = serde_json::from_slice(body).map_err(PageError::Json)?;
            match serde_json::from_str::<Envelope<'_>>(whole.get()) {
                Ok(Envelope {
                    data: Some(data),
                    paging: Some(_),
                }) => Ok(data),
                _ => Ok(vec![whole]),
            }
        }
        _ => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(e) => Err(PageError::Json(e)),
            Ok(_) => Err(PageError::Shape(
                String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned(),
            )),
        },
    }
}

/// Where a page came from: which bexio route, and so which tables it feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resource {
    /// `/2.0/country`.
    Countries,
    /// `/2.0/language`.
    Languages,
    /// `/2.0/contact_group`.
    ContactGroups,
    /// `/2.0/contact_branch`.
    ContactBranches,
    /// `/2.0/unit`.
    Units,
    /// `/3.0/currencies`.
    Currencies,
    /// `/3.0/currencies/{id}/exchange_rates?date=` of the currency with this code.
    ExchangeRates(String),
    /// `/3.0/taxes`.
    Taxes,
    /// `/2.0/account_groups`.
    AccountGroups,
    /// `/2.0/accounts`.
    Accounts,
    /// `/3.0/users`.
    Users,
    /// `/2.0/contact` (list or search) of contacts that are not archived.
    Contacts,
    /// `/2.0/contact?show_archived=true`: archived contacts.
    ArchivedContacts,
    /// `/2.0/contact_relation` (list or search).
    ContactRelations,
    /// `/2.0/pr_project_state`.
    ProjectStates,
    /// `/2.0/pr_project_type`.
    ProjectTypes,
    /// `/2.0/client_service` (business activities).
    ClientServices,
    /// `/2.0/timesheet_status`.
    TimesheetStatuses,
    /// `/3.0/accounting/business_years`.
    BusinessYears,
    /// `/2.0/pr_project`.
    Projects,
    /// `/2.0/timesheet`.
    Timesheets,
    /// `/3.0/accounting/journal`.
    Journal,
    /// `/4.0/purchase/bills` (list rows or a detail).
    Bills,
    /// `/4.0/expenses` (list rows or a detail).
    Expenses,
    /// `/2.0/article`.
    Articles,
    /// `/2.0/kb_invoice` (list or search).
    Invoices,
    /// `/2.0/kb_invoice/{id}`: the invoice with its positions.
    InvoiceDetail,
    /// `/2.0/kb_invoice/{id}` read only for its positions (the invoice row came from the list).
    InvoiceLines,
    /// `/2.0/kb_invoice/{id}/payment` of this invoice.
    InvoicePayments(i64),
    /// `/2.0/kb_offer` (list or search).
    Quotes,
    /// `/2.0/kb_order` (list or search).
    Orders,
    /// `/2.0/salutation`.
    Salutations,
    /// `/2.0/title`.
    Titles,
    /// `/2.0/payment_type`.
    PaymentTypes,
    /// `/2.0/kb_item_setting` (document settings: numbering and defaults per document class).
    DocumentSettings,
    /// `/2.0/company_profile`.
    CompanyProfile,
    /// `/2.0/contact/{id}/additional_address` of this contact.
    AdditionalAddresses(i64),
    /// `/2.0/note`.
    Notes,
    /// `/3.0/accounting/calendar_years`.
    CalendarYears,
    /// `/3.0/accounting/vat_periods`.
    VatPeriods,
    /// `/3.0/accounting/manual_entries`.
    ManualEntries,
    /// `/3.0/banking/accounts`.
    BankAccounts,
    /// `/3.0/files` (metadata).
    Files,
}

impl Resource {
    /// The route, for rejects and messages.
    pub fn route(&self) -> String {
        match self {
            Resource::Countries => "/2.0/country".into(),
            Resource::Languages => "/2.0/language".into(),
            Resource::ContactGroups => "/2.0/contact_group".into(),
            Resource::ContactBranches => "/2.0/contact_branch".into(),
            Resource::Units => "/2.0/unit".into(),
            Resource::Currencies => "/3.0/currencies".into(),
            Resource::ExchangeRates(code) => format!("/3.0/currencies/{code}/exchange_rates"),
            Resource::Taxes => "/3.0/taxes".into(),
            Resource::AccountGroups => "/2.0/account_groups".into(),
            Resource::Accounts => "/2.0/accounts".into(),
            Resource::Users => "/3.0/users".into(),
            Resource::Contacts => "/2.0/contact".into(),
            Resource::ArchivedContacts => "/2.0/contact?show_archived=true".into(),
            Resource::ContactRelations => "/2.0/contact_relation".into(),
            Resource::ProjectStates => "/2.0/pr_project_state".into(),
            Resource::ProjectTypes => "/2.0/pr_project_type".into(),
            Resource::ClientServices => "/2.0/client_service".into(),
            Resource::TimesheetStatuses => "/2.0/timesheet_status".into(),
            Resource::BusinessYears => "/3.0/accounting/business_years".into(),
            Resource::Projects => "/2.0/pr_project".into(),
            Resource::Timesheets => "/2.0/timesheet".into(),
            Resource::Journal => "/3.0/accounting/journal".into(),
            Resource::Bills => "/4.0/purchase/bills".into(),
            Resource::Expenses => "/4.0/expenses".into(),
            Resource::Articles => "/2.0/article".into(),
            Resource::Invoices => "/2.0/kb_invoice".into(),
            Resource::InvoiceDetail | Resource::InvoiceLines => "/2.0/kb_invoice/{id}".into(),
            Resource::InvoicePayments(id) => format!("/2.0/kb_invoice/{id}/payment"),
            Resource::Quotes => "/2.0/kb_offer".into(),
            Resource::Orders => "/2.0/kb_order".into(),
            Resource::Salutations => "/2.0/salutation".into(),
            Resource::Titles => "/2.0/title".into(),
            Resource::PaymentTypes => "/2.0/payment_type".into(),
            Resource::DocumentSettings => "/2.0/kb_item_setting".into(),
            Resource::CompanyProfile => "/2.0/company_profile".into(),
            Resource::AdditionalAddresses(id) => format!("/2.0/contact/{id}/additional_address"),
            Resource::Notes => "/2.0/note".into(),
            Resource::CalendarYears => "/3.0/accounting/calendar_years".into(),
            Resource::VatPeriods => "/3.0/accounting/vat_periods".into(),
            Resource::ManualEntries => "/3.0/accounting/manual_entries".into(),
            Resource::BankAccounts => "/3.0/banking/accounts".into(),
            Resource::Files => "/3.0/files".into(),
        }
    }
}

/// A page that could not be read at all (the client should fetch it again).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, or cut short.
    #[error("{route}: the answer is not valid JSON ({source}); it may have been cut short")]
    NotJson {
        /// The route.
        route: String,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// JSON, but neither a record, a list of records nor a 4.0 page.
    #[error("{route}: expected a list of records, got {found}")]
    Shape {
        /// The route.
        route: String,
        /// What came.
        found: String,
    },
    /// Arrow refused a batch (a bug: rows are checked before they are appended).
    #[error("building {table}: {source}")]
    Arrow {
        /// Table.
        table: &'static str,
        /// Arrow's error.
        source: arrow_schema::ArrowError,
    },
}

/// What one page gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageSummary {
    /// Records in the page.
    pub records: usize,
    /// Rows appended to tables (a record may give several).
    pub rows: usize,
    /// Records rejected.
    pub rejected: usize,
}

/// What earlier pages taught the normalizer: lookups that records refer to by id.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Country id → ISO code.
    pub countries: HashMap<i64, String>,
    /// Language id → ISO code.
    pub languages: HashMap<i64, String>,
    /// Contact group id → name.
    pub contact_groups: HashMap<i64, String>,
    /// Contact branch (sector) id → name.
    pub contact_branches: HashMap<i64, String>,
    /// Unit id → name.
    pub units: HashMap<i64, String>,
    /// Currency id → code.
    pub currencies: HashMap<i64, String>,
    /// Account group id → (number, name).
    pub account_groups: HashMap<i64, (String, String)>,
    /// CHF per unit of a currency, by day.
    pub rates: BTreeMap<(String, NaiveDate), Decimal>,
    /// Invoices not in CHF: id → currency code (their payments are in it).
    pub invoice_currency: HashMap<i64, String>,
    /// Every invoice read so far (a payment of another one cannot be placed).
    pub known_invoices: std::collections::HashSet<i64>,
    /// Project state id → name.
    pub project_states: HashMap<i64, String>,
    /// Project type id → name.
    pub project_types: HashMap<i64, String>,
    /// Business activity id → name.
    pub client_services: HashMap<i64, String>,
    /// Timesheet status id → name.
    pub timesheet_statuses: HashMap<i64, String>,
    /// The company's business years.
    pub business_years: Vec<bexio_bi_model::date::BusinessYear>,
    /// First and last day that facts refer to (the span of `dim_date`).
    pub days: Option<(NaiveDate, NaiveDate)>,
}

impl Context {
    /// Widens the span of days the facts cover.
    pub fn saw_day(&mut self, day: NaiveDate) {
        // A wild date (year 1 or 9999) must not blow the calendar up to millions of days.
        if !(1900..=2100).contains(&day.year()) {
            return;
        }
        self.days = Some(match self.days {
            None => (day, day),
            Some((a, b)) => (a.min(day), b.max(day)),
        });
    }

    /// CHF per one unit of `currency` on `day`: 1 for CHF; else the latest rate known on or
    /// before the day (bexio's own rates, as `/3.0/currencies/{id}/exchange_rates` gives them).
    pub fn rate(&self, currency: &str, day: NaiveDate) -> Option<Decimal> {
        if currency == "CHF" {
            return Some(Decimal::ONE);
        }
        self.rates
            .range((currency.to_owned(), NaiveDate::MIN)..=(currency.to_owned(), day))
            .next_back()
            .map(|(_, r)| *r)
    }

    /// The code of a currency id. Before `/3.0/currencies` was read, id 1 is CHF (bexio's base
    /// currency in every Swiss company); any other unknown id is an error, never a guess.
    pub fn currency(&self, id: i64) -> Option<String> {
        match self.currencies.get(&id) {
            Some(code) => Some(code.clone()),
            None if id == 1 && self.currencies.is_empty() => Some("CHF".to_owned()),
            None => None,
        }
    }
}

/// Turns one company's bexio pages into star-schema batches.
pub struct Normalizer {
    tenant: String,
    context: Context,
    tables: BTreeMap<&'static str, TableBuilder>,
    batch_rows: usize,
    ready: Vec<(&'static str, RecordBatch)>,
}

impl Normalizer {
    /// A normalizer for the company `tenant` (its bexio company id).
    pub fn new(tenant: &str) -> Self {
        Normalizer {
            tenant: tenant.to_owned(),
            context: Context::default(),
            tables: BTreeMap::new(),
            batch_rows: 8192,
            ready: Vec::new(),
        }
    }

    /// Rows per batch (default 8192).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// What the normalizer has learnt from lookups.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The company.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Reads one page (a JSON array, a single object, or a 4.0 `{data, paging}` envelope).
    pub fn decode(&mut self, resource: Resource, body: &[u8]) -> Result<PageSummary, DecodeError> {
        let route = resource.route();
        let records = records_of(body).map_err(|e| match e {
            PageError::Json(source) => DecodeError::NotJson {
                route: route.clone(),
                source,
            },
            PageError::Shape(found) => DecodeError::Shape {
                route: route.clone(),
                found,
            },
        })?;
        let mut summary = PageSummary {
            records: records.len(),
            ..PageSummary::default()
        };
        for raw in records {
            let rec = match Rec::parse(raw) {
                Ok(rec) => rec,
                Err(e) => {
                    self.reject(&resource, None, e.to_string(), raw.get())?;
                    summary.rejected += 1;
                    continue;
                }
            };
            let checked = map::record(&mut self.context, &self.tenant, &resource, &rec)
                .map_err(|e| e.to_string())
                .and_then(|rows| {
                    // A record's rows go in together or not at all: check them all first.
                    for (table, row) in &rows {
                        self.builder(table).check(row).map_err(|e| e.to_string())?;
                    }
                    Ok(rows)
                });
            match checked {
                Ok(rows) => {
                    for (table, row) in &rows {
                        let batch_rows = self.batch_rows;
                        let b = self.builder(table);
                        let _ = b.push(row);
                        // Cut as soon as a batch is full: batches never exceed `batch_rows`.
                        if b.len() >= batch_rows || b.text_bytes() >= MAX_BATCH_TEXT {
                            let batch = b.finish().map_err(|source| DecodeError::Arrow {
                                table: table.name,
                                source,
                            })?;
                            self.ready.push((table.name, batch));
                        }
                    }
                    summary.rows += rows.len();
                }
                Err(reason) => {
                    self.reject(&resource, rec.id_text(), reason, raw.get())?;
                    summary.rejected += 1;
                }
            }
        }
        self.cut()?;
        Ok(summary)
    }

    fn builder(&mut self, table: &'static Table) -> &mut TableBuilder {
        self.tables
            .entry(table.name)
            .or_insert_with(|| TableBuilder::new(table))
    }

    fn reject(
        &mut self,
        resource: &Resource,
        id: Option<String>,
        reason: String,
        raw: &str,
    ) -> Result<(), DecodeError> {
        let cells = vec![id.into(), Cell::Text(reason), Cell::Text(raw.to_owned())];
        self.meta_row(&catalog::REJECTS, resource, cells)
    }

    /// A row of a meta table (`rejects`, `tombstones`): the company, the table and route the
    /// record belongs to, then `cells`. Such rows carry whole raw records: batches are cut by
    /// size right away.
    fn meta_row(
        &mut self,
        table: &'static Table,
        resource: &Resource,
        cells: Vec<Cell>,
    ) -> Result<(), DecodeError> {
        let mut row = vec![
            Cell::Text(self.tenant.clone()),
            Cell::Text(map::table_of(resource).to_owned()),
            Cell::Text(resource.route()),
        ];
        row.extend(cells);
        self.builder(table)
            .push(&row)
            .map_err(|e| DecodeError::Shape {
                route: resource.route(),
                found: e.to_string(),
            })?;
        self.cut()
    }

    /// Records that a record of `resource` was found deleted in bexio: a row of `tombstones`
    /// with when (microseconds since the epoch) and the record as last seen.
    pub fn tombstone(
        &mut self,
        resource: &Resource,
        id: &str,
        deleted_at_micros: i64,
        last_seen: &str,
    ) -> Result<(), DecodeError> {
        let cells = vec![
            Cell::Text(id.to_owned()),
            Cell::Micros(deleted_at_micros),
            Cell::Text(last_seen.to_owned()),
        ];
        self.meta_row(&catalog::TOMBSTONES, resource, cells)
    }

    /// Moves full batches to the ready list.
    fn cut(&mut self) -> Result<(), DecodeError> {
        for (name, b) in &mut self.tables {
            if b.len() >= self.batch_rows || b.text_bytes() >= MAX_BATCH_TEXT {
                let batch = b.finish().map_err(|source| DecodeError::Arrow {
                    table: name,
                    source,
                })?;
                self.ready.push((name, batch));
            }
        }
        Ok(())
    }

    /// Reads many pages of one resource on all cores. The records land in the same tables as
    /// with [`Normalizer::decode`] page by page (in another order). For resources whose records
    /// only read the context (lists of documents, journal, timesheets…); lookups are decoded one
    /// by one.
    pub fn decode_parallel(
        &mut self,
        resource: Resource,
        pages: &[&[u8]],
    ) -> Result<PageSummary, DecodeError> {
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(pages.len())
            .max(1);
        if workers == 1 {
            let mut total = PageSummary::default();
            for p in pages {
                let s = self.decode(resource.clone(), p)?;
                total.records += s.records;
                total.rows += s.rows;
                total.rejected += s.rejected;
            }
            return Ok(total);
        }
        let chunk = pages.len().div_ceil(workers);
        let results: Vec<Result<(PageSummary, Normalizer), DecodeError>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = pages
                    .chunks(chunk)
                    .map(|part| {
                        let mut worker = Normalizer {
                            tenant: self.tenant.clone(),
                            context: self.context.clone(),
                            tables: BTreeMap::new(),
                            batch_rows: self.batch_rows,
                            ready: Vec::new(),
                        };
                        let resource = resource.clone();
                        scope.spawn(move || {
                            let mut total = PageSummary::default();
                            for p in part {
                                let s = worker.decode(resource.clone(), p)?;
                                total.records += s.records;
                                total.rows += s.rows;
                                total.rejected += s.rejected;
                            }
                            Ok((total, worker))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(DecodeError::Shape {
                                route: resource.route(),
                                found: "a decoder thread panicked".into(),
                            })
                        })
                    })
                    .collect()
            });
        let mut total = PageSummary::default();
        for r in results {
            let (s, mut worker) = r?;
            total.records += s.records;
            total.rows += s.rows;
            total.rejected += s.rejected;
            // What the workers learnt (currencies of invoices, days covered) joins the context.
            self.context
                .invoice_currency
                .extend(worker.context.invoice_currency.drain());
            self.context
                .rates
                .extend(std::mem::take(&mut worker.context.rates));
            if let Some((a, b)) = worker.context.days {
                self.context.saw_day(a);
                self.context.saw_day(b);
            }
            self.ready.append(&mut worker.ready);
            for (name, b) in &mut worker.tables {
                if !b.is_empty() {
                    let batch = b.finish().map_err(|source| DecodeError::Arrow {
                        table: name,
                        source,
                    })?;
                    self.ready.push((name, batch));
                }
            }
        }
        Ok(total)
    }

    /// Batches completed so far (each of about [`Normalizer::batch_rows`] rows).
    pub fn flush(&mut self) -> Vec<(&'static str, RecordBatch)> {
        std::mem::take(&mut self.ready)
    }

    /// Everything still held, as batches, table by table, and the date dimension over the days
    /// the facts cover.
    pub fn finish(mut self) -> Result<Vec<(&'static str, RecordBatch)>, DecodeError> {
        let mut out = std::mem::take(&mut self.ready);
        if let Some((first, last)) = self.context.days {
            // Whole years, so that period-over-period measures have every day to compare with.
            let from = NaiveDate::from_ymd_opt(first.year(), 1, 1).unwrap_or(first);
            let to = NaiveDate::from_ymd_opt(last.year(), 12, 31).unwrap_or(last);
            let dates = bexio_bi_model::date::date_dimension(
                &self.tenant,
                from,
                to,
                &self.context.business_years,
            )
            .map_err(|source| DecodeError::Arrow {
                table: catalog::DIM_DATE.name,
                source,
            })?;
            let mut start = 0;
            while start < dates.num_rows() {
                let len = self.batch_rows.min(dates.num_rows() - start);
                out.push((catalog::DIM_DATE.name, dates.slice(start, len)));
                start += len;
            }
        }
        for (name, b) in &mut self.tables {
            if !b.is_empty() {
                out.push((
                    name,
                    b.finish().map_err(|source| DecodeError::Arrow {
                        table: name,
                        source,
                    })?,
                ));
            }
        }
        Ok(out)
    }
}
