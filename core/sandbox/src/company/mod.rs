//! The synthetic company: a realistic Swiss SME, deterministic from a seed.
//!
//! The company is *simulated* day by day from its first business day to `today`: clients are
//! acquired and some churn, quotes become orders and invoices, invoices are issued, paid (on time,
//! late, in parts or never, per client), a few are cancelled; suppliers bill, employees file
//! expenses, salaries and VAT are booked. `advance` runs the same simulation further and records
//! exactly what changed, so a sync can be checked against the truth.

mod reference;
mod simulate;
pub mod swiss;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

pub use reference::{CHF, CURRENCY_CODES, EUR};
pub use simulate::{BLANK_PNG_BASE64, Sim, blank_png};

use crate::model::accounting::{
    Account, AccountGroup, BankAccount, BusinessYear, CalendarYear, Currency, JournalEntry,
    ManualEntry, Tax, VatPeriod,
};
use crate::model::contacts::{AdditionalAddress, Contact, ContactRelation, Country, Language};
use crate::model::projects::{ClientService, Note, Project, Timesheet};
use crate::model::purchase::{Bill, Expense};
use crate::model::sales::{Article, DocKind, DocumentSetting, SalesDoc, status};
use crate::model::system::{CompanyProfile, FileRecord, User};
use crate::model::{Named, Table};

/// What to generate.
#[derive(Debug, Clone)]
pub struct CompanySpec {
    /// Seed of everything random about this company.
    pub seed: u64,
    /// Number of invoices issued between `start` and `today` (the generator hits it exactly
    /// unless the order pipeline alone overshoots on the last day).
    pub invoices: u64,
    /// First business day.
    pub start: NaiveDate,
    /// The company's "now": history ends here; `advance` moves it on.
    pub today: NaiveDate,
}

impl CompanySpec {
    /// A company with `invoices` invoices over the default history (2022-01-03 to 2025-11-28).
    pub fn new(seed: u64, invoices: u64) -> Self {
        CompanySpec {
            seed,
            invoices,
            start: NaiveDate::from_ymd_opt(2022, 1, 3).unwrap_or_default(),
            today: NaiveDate::from_ymd_opt(2025, 11, 28).unwrap_or_default(),
        }
    }
}

/// A known anomaly planted in the data, for evaluating detectors.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anomaly {
    /// One invoice about `factor` times the client's usual amount.
    InvoiceSpike {
        /// The invoice.
        invoice_id: u64,
        /// Its client.
        contact_id: u64,
        /// How many times the client's usual quantities.
        factor: u32,
    },
    /// A regular client who stopped ordering: no invoice after `last_invoice`.
    ClientChurn {
        /// The client.
        contact_id: u64,
        /// Day of the client's last invoice.
        last_invoice: NaiveDate,
    },
    /// Several times the usual number of new documents on these days.
    ActivityBurst {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
        /// Activity multiplier.
        factor: u32,
        /// The invoices dated in the burst.
        invoice_ids: Vec<u64>,
    },
}

/// An id in a change list: a number (v2/v3) or a UUID (v4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum RecordId {
    /// Numeric id.
    Num(u64),
    /// UUID id.
    Uuid(String),
}

/// Ids of one resource that `advance` created, updated or deleted. An id created and then
/// deleted in the same advance appears nowhere; created and then updated appears as created.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResourceChanges {
    /// New records.
    pub created: BTreeSet<RecordId>,
    /// Existing records that changed (`updated_at` moved where the resource has one).
    pub updated: BTreeSet<RecordId>,
    /// Records that are gone (contacts: archived).
    pub deleted: BTreeSet<RecordId>,
}

/// All changes of one `advance`, keyed by resource route name (`kb_invoice`, `contact`, …).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes(pub BTreeMap<&'static str, ResourceChanges>);

impl Changes {
    fn entry(&mut self, resource: &'static str) -> &mut ResourceChanges {
        self.0.entry(resource).or_default()
    }
    /// Records a new record.
    pub fn created(&mut self, resource: &'static str, id: RecordId) {
        self.entry(resource).created.insert(id);
    }
    /// Records a change to a record.
    pub fn updated(&mut self, resource: &'static str, id: RecordId) {
        let e = self.entry(resource);
        if !e.created.contains(&id) {
            e.updated.insert(id);
        }
    }
    /// Records a deletion.
    pub fn deleted(&mut self, resource: &'static str, id: RecordId) {
        let e = self.entry(resource);
        e.updated.remove(&id);
        if !e.created.remove(&id) {
            e.deleted.insert(id);
        }
    }
}

/// One company's complete bexio data.
#[allow(missing_docs)]
pub struct Company {
    pub name: String,
    pub today: NaiveDate,
    pub profile: CompanyProfile,
    pub users: Table<User>,
    pub countries: Table<Country>,
    pub languages: Table<Language>,
    pub salutations: Table<Named>,
    pub titles: Table<Named>,
    pub payment_types: Table<Named>,
    pub units: Table<Named>,
    pub contact_groups: Table<Named>,
    pub contact_branches: Table<Named>,
    pub project_states: Table<Named>,
    pub project_types: Table<Named>,
    pub timesheet_statuses: Table<Named>,
    pub contacts: Table<Contact>,
    pub contact_relations: Table<ContactRelation>,
    pub additional_addresses: Table<AdditionalAddress>,
    pub notes: Table<Note>,
    pub articles: Table<Article>,
    pub offers: Table<SalesDoc>,
    pub orders: Table<SalesDoc>,
    pub invoices: Table<SalesDoc>,
    pub document_settings: Table<DocumentSetting>,
    pub projects: Table<Project>,
    pub timesheets: Table<Timesheet>,
    pub client_services: Table<ClientService>,
    pub accounts: Table<Account>,
    pub account_groups: Table<AccountGroup>,
    pub taxes: Table<Tax>,
    pub currencies: Table<Currency>,
    pub calendar_years: Table<CalendarYear>,
    pub business_years: Table<BusinessYear>,
    pub vat_periods: Table<VatPeriod>,
    pub manual_entries: Table<ManualEntry>,
    pub journal: Table<JournalEntry>,
    pub bank_accounts: Table<BankAccount>,
    pub bills: Table<Bill>,
    pub expenses: Table<Expense>,
    pub files: Table<FileRecord>,
    /// CHF per 1 EUR by day.
    pub eur_rates: BTreeMap<NaiveDate, Decimal>,
    pub anomalies: Vec<Anomaly>,
    pub(crate) sim: Sim,
}

impl Company {
    /// Generates the company's history from `spec.start` to `spec.today`.
    pub fn generate(spec: &CompanySpec) -> Company {
        simulate::generate(spec)
    }

    /// Moves time on by `days`, simulating the business, and returns what changed.
    pub fn advance(&mut self, days: u32) -> Changes {
        simulate::advance(self, days)
    }

    /// The moment of a change made through the API now: the company's `today` at the clock's
    /// time of day, and never before the latest change already in the data, so that `updated_at`
    /// only moves forward (the generated history ends at `today`, not at the wall clock).
    pub fn write_stamp(&mut self, clock: &crate::clock::SimClock) -> crate::model::wire::Stamp {
        use chrono::TimeZone;
        let now = clock.now() as i64;
        let time_of_day = chrono_tz::Europe::Zurich
            .timestamp_opt(now, 0)
            .single()
            .map(|t| t.time())
            .unwrap_or_default();
        let local = self.today.and_time(time_of_day);
        let candidate = chrono_tz::Europe::Zurich
            .from_local_datetime(&local)
            .earliest()
            .map_or(0, |t| t.timestamp());
        let stamp = crate::model::wire::Stamp(candidate.max(self.sim.latest.0 + 1));
        self.sim.latest = stamp;
        stamp
    }

    /// Issues a draft invoice (as `POST /2.0/kb_invoice/{id}/issue`); the error is bexio's refusal.
    pub fn issue_invoice(&mut self, id: u64) -> Result<(), String> {
        let today = self.today;
        simulate::issue_from_api(self, id, today)
    }

    /// Takes an open invoice back to draft (`revert_issue`).
    pub fn revert_invoice_issue(&mut self, id: u64) -> Result<(), String> {
        let today = self.today;
        simulate::revert_issue(self, id, today)
    }

    /// Cancels an open invoice (`cancel`).
    pub fn cancel_invoice(&mut self, id: u64) -> Result<(), String> {
        let today = self.today;
        simulate::cancel_from_api(self, id, today)
    }

    /// Books a payment of an invoice (`POST /2.0/kb_invoice/{id}/payment`).
    pub fn add_payment(
        &mut self,
        id: u64,
        date: NaiveDate,
        value: Decimal,
        bank_account_id: Option<u64>,
        payment_service_id: Option<u64>,
    ) -> Result<crate::model::sales::Payment, String> {
        let bank = bank_account_id
            .or_else(|| self.invoices.get(id).map(|d| d.bank_account_id))
            .unwrap_or(1);
        simulate::record_payment(self, id, date, value, bank, payment_service_id)
    }

    /// Deletes a payment of an invoice and books the reversal.
    pub fn delete_payment(&mut self, id: u64, payment_id: u64) -> Result<(), String> {
        let today = self.today;
        simulate::remove_payment(self, id, payment_id, today)
    }

    /// The sales documents of one kind.
    pub fn docs(&self, kind: DocKind) -> &Table<SalesDoc> {
        match kind {
            DocKind::Offer => &self.offers,
            DocKind::Order => &self.orders,
            DocKind::Invoice => &self.invoices,
        }
    }

    /// The sales documents of one kind, for editing.
    pub fn docs_mut(&mut self, kind: DocKind) -> &mut Table<SalesDoc> {
        match kind {
            DocKind::Offer => &mut self.offers,
            DocKind::Order => &mut self.orders,
            DocKind::Invoice => &mut self.invoices,
        }
    }

    /// The CHF value of one EUR on a day (the latest known rate on or before it).
    pub fn eur_rate(&self, day: NaiveDate) -> Decimal {
        self.eur_rates
            .range(..=day)
            .next_back()
            .map(|(_, r)| *r)
            .unwrap_or(Decimal::ONE)
    }

    /// Ground truth for tests: row counts per resource and invoice sums.
    pub fn stats(&self) -> CompanyStats {
        let mut counts = BTreeMap::new();
        let mut put = |k: &'static str, n: usize| {
            counts.insert(k, n as u64);
        };
        put(
            "contact",
            self.contacts.iter().filter(|c| !c.archived).count(),
        );
        put(
            "contact_archived",
            self.contacts.iter().filter(|c| c.archived).count(),
        );
        put("contact_relation", self.contact_relations.len());
        put("contact_group", self.contact_groups.len());
        put("contact_branch", self.contact_branches.len());
        put("additional_address", self.additional_addresses.len());
        put("company_profile", 1);
        put("country", self.countries.len());
        put("language", self.languages.len());
        put("salutation", self.salutations.len());
        put("title", self.titles.len());
        put("payment_type", self.payment_types.len());
        put("unit", self.units.len());
        put("pr_project_state", self.project_states.len());
        put("pr_project_type", self.project_types.len());
        put("timesheet_status", self.timesheet_statuses.len());
        put("client_service", self.client_services.len());
        put("kb_item_setting", self.document_settings.len());
        put("article", self.articles.len());
        put("kb_offer", self.offers.len());
        put("kb_order", self.orders.len());
        put("kb_invoice", self.invoices.len());
        put(
            "kb_invoice_position",
            self.invoices.iter().map(|d| d.positions.len()).sum(),
        );
        put(
            "kb_invoice_payment",
            self.invoices.iter().map(|d| d.payments.len()).sum(),
        );
        put("pr_project", self.projects.len());
        put("timesheet", self.timesheets.len());
        put("note", self.notes.len());
        put("accounts", self.accounts.len());
        put("account_groups", self.account_groups.len());
        put("taxes", self.taxes.len());
        put("currencies", self.currencies.len());
        put("accounting/journal", self.journal.len());
        put("accounting/manual_entries", self.manual_entries.len());
        put("accounting/calendar_years", self.calendar_years.len());
        put("accounting/business_years", self.business_years.len());
        put("accounting/vat_periods", self.vat_periods.len());
        put("banking/accounts", self.bank_accounts.len());
        put("users", self.users.len());
        put("files", self.files.len());
        put("purchase/bills", self.bills.len());
        put("expenses", self.expenses.len());

        let mut inv = InvoiceStats::default();
        for d in self.invoices.iter() {
            let cur = self
                .currencies
                .get(d.currency_id)
                .map_or("CHF", |c| c.name.as_str())
                .to_string();
            let st = status_name(d.kb_item_status_id);
            inv.count += 1;
            inv.sum_total += d.total;
            for bucket in [
                inv.by_currency.entry(cur).or_default(),
                inv.by_status.entry(st.into()).or_default(),
            ] {
                bucket.count += 1;
                bucket.sum_total += d.total;
                bucket.sum_net += d.total_net;
                bucket.sum_taxes += d.total_taxes;
                bucket.sum_paid += d.total_received_payments;
                if !matches!(
                    d.kb_item_status_id,
                    status::INVOICE_CANCELLED | status::INVOICE_DRAFT
                ) {
                    bucket.sum_open += d.remaining();
                }
            }
        }
        CompanyStats {
            name: self.name.clone(),
            today: self.today,
            counts,
            invoices: inv,
            anomalies: self.anomalies.clone(),
        }
    }
}

/// bexio's invoice status ids as words.
pub fn status_name(id: u32) -> &'static str {
    match id {
        status::INVOICE_DRAFT => "draft",
        status::INVOICE_PENDING => "pending",
        status::INVOICE_PAID => "paid",
        status::INVOICE_PARTIAL => "partial",
        status::INVOICE_CANCELLED => "cancelled",
        _ => "other",
    }
}

/// Sums over a set of invoices; money as exact decimals (serialized as strings).
#[derive(Debug, Clone, Default, Serialize)]
pub struct InvoiceSums {
    /// Invoices.
    pub count: u64,
    /// Σ total.
    pub sum_total: Decimal,
    /// Σ total_net.
    pub sum_net: Decimal,
    /// Σ total_taxes.
    pub sum_taxes: Decimal,
    /// Σ total_received_payments.
    pub sum_paid: Decimal,
    /// Σ still owed on issued, not cancelled invoices.
    pub sum_open: Decimal,
}

/// Invoice ground truth.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InvoiceStats {
    /// All invoices.
    pub count: u64,
    /// Σ total over all invoices, any currency, any status.
    pub sum_total: Decimal,
    /// Per currency code.
    pub by_currency: BTreeMap<String, InvoiceSums>,
    /// Per status (`draft`, `pending`, `paid`, `partial`, `cancelled`).
    pub by_status: BTreeMap<String, InvoiceSums>,
}

/// What `/_sandbox/stats` reports per company.
#[derive(Debug, Clone, Serialize)]
pub struct CompanyStats {
    /// Company name.
    pub name: String,
    /// The company's current day.
    pub today: NaiveDate,
    /// Rows per resource.
    pub counts: BTreeMap<&'static str, u64>,
    /// Invoice sums.
    pub invoices: InvoiceStats,
    /// Planted anomalies.
    pub anomalies: Vec<Anomaly>,
}

/// The invoices of a generated company (seed, `n` invoices) as bexio's 2.0 list rows, one JSON
/// record per line, in `dir/invoices-<n>.ndjson`; generated once and reused. For benchmarks and
/// tools that need bexio-shaped invoices in bulk.
pub fn invoices_ndjson(
    seed: u64,
    n: u64,
    dir: &std::path::Path,
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("invoices-{n}.ndjson"));
    if !path.exists() {
        let company = Company::generate(&CompanySpec::new(seed, n));
        let tmp = dir.join(format!(".invoices-{n}.ndjson.tmp"));
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for inv in company.invoices.iter() {
            serde_json::to_writer(&mut w, inv)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}
