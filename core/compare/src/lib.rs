//! The comparator: what changed between two versions of a company's data.
//!
//! Tables are compared row by row on their bexio id, merging the two versions as they stream
//! from the store (both are in id order, as every sync writes them): memory holds one batch of
//! each side, whatever the size of the company. For every keyed table the result counts rows
//! added, modified and removed; for invoices it lists them with the fields that changed (old →
//! new); for contacts the new and lost ones; payments received; the change of invoiced totals
//! per currency and in CHF; and flags for changes a fiduciary should look at: an issued or paid
//! invoice whose amount changed, a deleted invoice that had been issued, a removed payment, a
//! bank account whose IBAN changed.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use bexio_bi_store::{Snapshot, StoreError, cell_text};
use rust_decimal::Decimal;
use serde::Serialize;

/// Why two versions could not be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// A version could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A table is not in id order (not written by a sync).
    #[error("{table} of version {version} is not in id order (row {row}); it cannot be compared")]
    Unordered {
        /// The table.
        table: String,
        /// The version.
        version: String,
        /// Where the order broke.
        row: u64,
    },
}

/// Rows of one table: how many in each version and what happened between them.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TableDelta {
    /// Rows in the older version.
    pub rows_from: u64,
    /// Rows in the newer version.
    pub rows_to: u64,
    /// Rows only in the newer version.
    pub added: u64,
    /// Rows in both with other values.
    pub modified: u64,
    /// Rows only in the older version.
    pub removed: u64,
}

/// A field that changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldChange {
    /// Column.
    pub field: String,
    /// Value before (`None`: empty).
    pub old: Option<String>,
    /// Value after.
    pub new: Option<String>,
}

/// An invoice that is new, modified or deleted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InvoiceChange {
    /// bexio id.
    pub id: i64,
    /// Invoice number.
    pub document_nr: Option<String>,
    /// Status (in the newer version; the older for deleted ones).
    pub status: Option<String>,
    /// Total and currency.
    pub total: Option<String>,
    /// Currency.
    pub currency: Option<String>,
    /// Fields that changed (modified invoices; `updated_at` left out).
    pub fields: Vec<FieldChange>,
}

/// A contact that came or went.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ContactRef {
    /// bexio id.
    pub id: i64,
    /// Display name.
    pub name: Option<String>,
}

/// Before, after, and the difference.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Amounts {
    /// Older version.
    pub from: Decimal,
    /// Newer version.
    pub to: Decimal,
    /// `to − from`.
    pub change: Decimal,
}

/// Something a person should look at.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Flag {
    /// `amount_changed`, `issued_invoice_deleted`, `payment_removed` or `iban_changed`.
    pub kind: &'static str,
    /// bexio id of the record.
    pub id: i64,
    /// In words.
    pub message: String,
}

/// What changed between two versions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// The company.
    pub tenant: String,
    /// The older version.
    pub from: String,
    /// The newer version.
    pub to: String,
    /// Per table.
    pub tables: BTreeMap<String, TableDelta>,
    /// New invoices.
    pub new_invoices: Vec<InvoiceChange>,
    /// Modified invoices, with their changed fields.
    pub modified_invoices: Vec<InvoiceChange>,
    /// Deleted invoices.
    pub deleted_invoices: Vec<InvoiceChange>,
    /// New contacts.
    pub new_contacts: Vec<ContactRef>,
    /// Contacts gone (deleted in bexio; archiving keeps them, flagged archived).
    pub lost_contacts: Vec<ContactRef>,
    /// Payments that are new in the newer version.
    pub payments_received: u64,
    /// Their amount in CHF.
    pub payments_received_chf: Decimal,
    /// Σ invoice totals per currency.
    pub invoiced: BTreeMap<String, Amounts>,
    /// Σ invoice totals in CHF (bexio's rates), drafts and cancelled invoices left out.
    pub revenue_chf: Amounts,
    /// Changes to look at.
    pub flags: Vec<Flag>,
}

/// One row: its id and its cells as text.
type Row = (i64, Vec<Option<String>>);

/// Where a row sorts: its parent's id (for rows listed per parent, such as an invoice's
/// payments), then its own.
type Order = (i64, i64);

/// The numeric id in a cell: `42`, or the id part of a key (`tenant:42`).
fn id_in(cell: &Option<String>) -> i64 {
    cell.as_deref()
        .map(|s| s.rsplit(':').next().unwrap_or(s))
        .and_then(|s| s.parse().ok())
        .unwrap_or(i64::MIN)
}

/// Streams a table's rows in order, one batch in memory.
struct Cursor {
    batches: Box<dyn Iterator<Item = Result<RecordBatch, StoreError>>>,
    batch: Option<RecordBatch>,
    at: usize,
    id_col: usize,
    parent_col: Option<usize>,
    last: Option<Order>,
    seen: u64,
    table: String,
    version: String,
}

impl Cursor {
    fn new(
        snap: Option<&Snapshot>,
        table: &str,
        id_col: usize,
        parent_col: Option<usize>,
    ) -> Result<Cursor, CompareError> {
        let batches: Box<dyn Iterator<Item = Result<RecordBatch, StoreError>>> = match snap {
            Some(s) if s.manifest().tables.iter().any(|t| t.name == table) => {
                Box::new(s.read(table)?)
            }
            _ => Box::new(std::iter::empty()),
        };
        Ok(Cursor {
            batches,
            batch: None,
            at: 0,
            id_col,
            parent_col,
            last: None,
            seen: 0,
            table: table.to_owned(),
            version: snap.map_or_else(String::new, |s| s.manifest().id.clone()),
        })
    }

    fn next(&mut self) -> Result<Option<(Order, Row)>, CompareError> {
        loop {
            if let Some(b) = &self.batch
                && self.at < b.num_rows()
            {
                let i = self.at;
                self.at += 1;
                let cells: Vec<Option<String>> = b
                    .columns()
                    .iter()
                    .map(|c| cell_text(c.as_ref(), i))
                    .collect();
                let id = id_in(&cells[self.id_col]);
                let order = (self.parent_col.map_or(0, |p| id_in(&cells[p])), id);
                if self.last.is_some_and(|l| order <= l) {
                    return Err(CompareError::Unordered {
                        table: self.table.clone(),
                        version: self.version.clone(),
                        row: self.seen,
                    });
                }
                self.last = Some(order);
                self.seen += 1;
                return Ok(Some((order, (id, cells))));
            }
            match self.batches.next() {
                None => return Ok(None),
                Some(b) => {
                    self.batch = Some(b?);
                    self.at = 0;
                }
            }
        }
    }
}

/// What happened to one id.
enum Event {
    Added(Row),
    Removed(Row),
    Modified(Row, Row),
}

/// Compares a table of two versions row by row, calling `on` for every id that differs.
///
/// Tables in id order (as syncs write them) are merged as they stream. A table that is not
/// (a dimension built from two lists, such as active and archived contacts) is compared through
/// a map of the older version's rows, which holds that table in memory.
fn merge(
    from: Option<&Snapshot>,
    to: Option<&Snapshot>,
    table: &str,
    order: (usize, Option<usize>),
    ignore: &[usize],
    mut on: impl FnMut(Event),
) -> Result<TableDelta, CompareError> {
    let mut events = Vec::new();
    match merge_ordered(from, to, table, order, ignore, |e| events.push(e)) {
        Ok(d) => {
            events.into_iter().for_each(&mut on);
            Ok(d)
        }
        Err(CompareError::Unordered { .. }) => merge_unordered(from, to, table, order, ignore, on),
        Err(e) => Err(e),
    }
}

fn differs(l: &Row, r: &Row, ignore: &[usize]) -> bool {
    l.1.len() != r.1.len()
        || l.1
            .iter()
            .zip(&r.1)
            .enumerate()
            .any(|(i, (p, q))| p != q && !ignore.contains(&i))
}

fn merge_unordered(
    from: Option<&Snapshot>,
    to: Option<&Snapshot>,
    table: &str,
    (id_col, parent_col): (usize, Option<usize>),
    ignore: &[usize],
    mut on: impl FnMut(Event),
) -> Result<TableDelta, CompareError> {
    // Rows are matched on the table's key (its first column, unique by design: ids may repeat
    // across the lists a table is built from).
    let rows = |snap: Option<&Snapshot>| -> Result<Vec<(String, Row)>, CompareError> {
        let mut out = Vec::new();
        if let Some(s) = snap
            && s.manifest().tables.iter().any(|t| t.name == table)
        {
            for batch in s.read(table)? {
                let b = batch?;
                for i in 0..b.num_rows() {
                    let cells: Vec<Option<String>> = b
                        .columns()
                        .iter()
                        .map(|c| cell_text(c.as_ref(), i))
                        .collect();
                    let id = id_in(&cells[id_col]);
                    let key = cells[0].clone().unwrap_or_else(|| {
                        format!("{}:{id}", parent_col.map_or(0, |p| id_in(&cells[p])))
                    });
                    out.push((key, (id, cells)));
                }
            }
        }
        Ok(out)
    };
    let mut old: BTreeMap<String, Row> = rows(from)?.into_iter().collect();
    let mut d = TableDelta {
        rows_from: old.len() as u64,
        ..TableDelta::default()
    };
    for (key, r) in rows(to)? {
        d.rows_to += 1;
        match old.remove(&key) {
            None => {
                d.added += 1;
                on(Event::Added(r));
            }
            Some(l) => {
                if differs(&l, &r, ignore) {
                    d.modified += 1;
                    on(Event::Modified(l, r));
                }
            }
        }
    }
    for (_, l) in old {
        d.removed += 1;
        on(Event::Removed(l));
    }
    Ok(d)
}

fn merge_ordered(
    from: Option<&Snapshot>,
    to: Option<&Snapshot>,
    table: &str,
    (id_col, parent_col): (usize, Option<usize>),
    ignore: &[usize],
    mut on: impl FnMut(Event),
) -> Result<TableDelta, CompareError> {
    let mut a = Cursor::new(from, table, id_col, parent_col)?;
    let mut b = Cursor::new(to, table, id_col, parent_col)?;
    let mut d = TableDelta::default();
    let (mut x, mut y) = (a.next()?, b.next()?);
    loop {
        match (x.take(), y.take()) {
            (None, None) => break,
            (Some((_, r)), None) => {
                d.rows_from += 1;
                d.removed += 1;
                on(Event::Removed(r));
                x = a.next()?;
            }
            (None, Some((_, r))) => {
                d.rows_to += 1;
                d.added += 1;
                on(Event::Added(r));
                y = b.next()?;
            }
            (Some((lo, l)), Some((ro, r))) => {
                if lo < ro {
                    d.rows_from += 1;
                    d.removed += 1;
                    on(Event::Removed(l));
                    x = a.next()?;
                    y = Some((ro, r));
                } else if ro < lo {
                    d.rows_to += 1;
                    d.added += 1;
                    on(Event::Added(r));
                    y = b.next()?;
                    x = Some((lo, l));
                } else {
                    d.rows_from += 1;
                    d.rows_to += 1;
                    if differs(&l, &r, ignore) {
                        d.modified += 1;
                        on(Event::Modified(l, r));
                    }
                    x = a.next()?;
                    y = b.next()?;
                }
            }
        }
    }
    Ok(d)
}

fn col(snap: &Snapshot, table: &str, name: &str) -> Option<usize> {
    bexio_bi_model::catalog::table(table)
        .and_then(|t| t.index_of(name))
        .filter(|_| snap.manifest().tables.iter().any(|t| t.name == table))
}

fn dec(v: &Option<String>) -> Decimal {
    v.as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(Decimal::ZERO)
}

/// Compares version `from` with version `to` of the same company.
pub fn diff(from: &Snapshot, to: &Snapshot) -> Result<Diff, CompareError> {
    let mut out = Diff {
        tenant: to.manifest().tenant.clone(),
        from: from.manifest().id.clone(),
        to: to.manifest().id.clone(),
        ..Diff::default()
    };
    // Invoices: the detailed view.
    let inv = &bexio_bi_model::catalog::FACT_INVOICE;
    let names: Vec<&str> = inv.columns.iter().map(|c| c.name).collect();
    let ix = |n: &str| names.iter().position(|c| *c == n).unwrap_or(0);
    let (id, nr, status, total, cur, chf, upd) = (
        ix("invoice_id"),
        ix("document_nr"),
        ix("status"),
        ix("total"),
        ix("currency_code"),
        ix("total_chf"),
        ix("updated_at"),
    );
    let change = |r: &Row, fields: Vec<FieldChange>| InvoiceChange {
        id: r.0,
        document_nr: r.1[nr].clone(),
        status: r.1[status].clone(),
        total: r.1[total].clone(),
        currency: r.1[cur].clone(),
        fields,
    };
    let issued = |r: &Row| !matches!(r.1[status].as_deref(), Some("draft") | Some("cancelled"));
    // Totals per version, over every invoice (and the CHF revenue of issued ones).
    for (snap, is_to) in [(from, false), (to, true)] {
        let mut c = Cursor::new(Some(snap), inv.name, id, None)?;
        while let Some((_, r)) = c.next()? {
            let code = r.1[cur].clone().unwrap_or_default();
            let a = out.invoiced.entry(code).or_default();
            let t = dec(&r.1[total]);
            let rev = if issued(&r) {
                dec(&r.1[chf])
            } else {
                Decimal::ZERO
            };
            if is_to {
                a.to += t;
                out.revenue_chf.to += rev;
            } else {
                a.from += t;
                out.revenue_chf.from += rev;
            }
        }
    }
    for a in out.invoiced.values_mut() {
        a.change = a.to - a.from;
    }
    out.revenue_chf.change = out.revenue_chf.to - out.revenue_chf.from;
    let mut flags = Vec::new();
    let (mut new, mut modified, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
    let delta = merge(
        Some(from),
        Some(to),
        inv.name,
        (id, None),
        &[upd],
        |e| match e {
            Event::Added(r) => new.push(change(&r, Vec::new())),
            Event::Removed(r) => {
                if issued(&r) {
                    flags.push(Flag {
                        kind: "issued_invoice_deleted",
                        id: r.0,
                        message: format!(
                            "invoice {} ({}, {} {}) was deleted",
                            r.1[nr].as_deref().unwrap_or("?"),
                            r.1[status].as_deref().unwrap_or("?"),
                            r.1[cur].as_deref().unwrap_or(""),
                            r.1[total].as_deref().unwrap_or("?")
                        ),
                    });
                }
                deleted.push(change(&r, Vec::new()));
            }
            Event::Modified(l, r) => {
                let fields: Vec<FieldChange> = names
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != upd && l.1.get(*i) != r.1.get(*i))
                    .map(|(i, n)| FieldChange {
                        field: (*n).to_owned(),
                        old: l.1.get(i).cloned().flatten(),
                        new: r.1.get(i).cloned().flatten(),
                    })
                    .collect();
                if issued(&l) && l.1[total] != r.1[total] {
                    flags.push(Flag {
                        kind: "amount_changed",
                        id: r.0,
                        message: format!(
                            "invoice {} was {} and its total changed from {} to {}",
                            r.1[nr].as_deref().unwrap_or("?"),
                            l.1[status].as_deref().unwrap_or("?"),
                            l.1[total].as_deref().unwrap_or("?"),
                            r.1[total].as_deref().unwrap_or("?")
                        ),
                    });
                }
                modified.push(change(&r, fields));
            }
        },
    )?;
    out.tables.insert(inv.name.to_owned(), delta);
    (
        out.new_invoices,
        out.modified_invoices,
        out.deleted_invoices,
    ) = (new, modified, deleted);

    // Payments: received (new) and removed (flagged).
    if let (Some(pid), Some(amount_chf)) = (
        col(to, "fact_payment", "payment_id"),
        col(to, "fact_payment", "amount_chf"),
    ) {
        let (mut n, mut sum) = (0u64, Decimal::ZERO);
        // Payments are listed invoice by invoice.
        let order = (pid, col(to, "fact_payment", "invoice_key"));
        let delta = merge(
            Some(from),
            Some(to),
            "fact_payment",
            order,
            &[],
            |e| match e {
                Event::Added(r) => {
                    n += 1;
                    sum += dec(&r.1[amount_chf]);
                }
                Event::Removed(r) => flags.push(Flag {
                    kind: "payment_removed",
                    id: r.0,
                    message: format!(
                        "payment {} of CHF {} was removed",
                        r.0,
                        r.1[amount_chf].as_deref().unwrap_or("?")
                    ),
                }),
                Event::Modified(..) => {}
            },
        )?;
        out.payments_received = n;
        out.payments_received_chf = sum;
        out.tables.insert("fact_payment".into(), delta);
    }

    // Contacts: new and lost.
    if let (Some(cid), Some(name)) = (
        col(to, "dim_contact", "contact_id"),
        col(to, "dim_contact", "name"),
    ) {
        let upd = col(to, "dim_contact", "updated_at").unwrap_or(usize::MAX);
        let (mut new, mut lost) = (Vec::new(), Vec::new());
        let delta = merge(
            Some(from),
            Some(to),
            "dim_contact",
            (cid, None),
            &[upd],
            |e| match e {
                Event::Added(r) => new.push(ContactRef {
                    id: r.0,
                    name: r.1[name].clone(),
                }),
                Event::Removed(r) => lost.push(ContactRef {
                    id: r.0,
                    name: r.1[name].clone(),
                }),
                Event::Modified(..) => {}
            },
        )?;
        out.new_contacts = new;
        out.lost_contacts = lost;
        out.tables.insert("dim_contact".into(), delta);
    }

    // Bank accounts: an IBAN that changes is where payments go astray.
    if let (Some(bid), Some(iban), Some(name)) = (
        col(to, "dim_bank_account", "bank_account_id"),
        col(to, "dim_bank_account", "iban"),
        col(to, "dim_bank_account", "name"),
    ) {
        let delta = merge(
            Some(from),
            Some(to),
            "dim_bank_account",
            (bid, None),
            &[],
            |e| {
                if let Event::Modified(l, r) = e
                    && l.1[iban] != r.1[iban]
                {
                    flags.push(Flag {
                        kind: "iban_changed",
                        id: r.0,
                        message: format!(
                            "the IBAN of bank account {} changed from {} to {}",
                            r.1[name].as_deref().unwrap_or("?"),
                            l.1[iban].as_deref().unwrap_or("∅"),
                            r.1[iban].as_deref().unwrap_or("∅")
                        ),
                    });
                }
            },
        )?;
        out.tables.insert("dim_bank_account".into(), delta);
    }

    // Every other table keyed by a bexio id: counts.
    for t in bexio_bi_model::catalog::CATALOG {
        if out.tables.contains_key(t.name) {
            continue;
        }
        let Some(idc) = t
            .columns
            .iter()
            .position(|c| c.ty == bexio_bi_model::catalog::ColumnType::Id)
        else {
            continue;
        };
        let listed = |s: &Snapshot| s.manifest().tables.iter().any(|x| x.name == t.name);
        if !listed(from) && !listed(to) {
            continue;
        }
        let upd = t.index_of("updated_at").unwrap_or(usize::MAX);
        // Rows listed per parent (an invoice's lines) sort by the parent's key first.
        let parent = t
            .columns
            .iter()
            .enumerate()
            .skip(1)
            .find(|(i, c)| {
                *i < idc && c.ty == bexio_bi_model::catalog::ColumnType::Key && c.required
            })
            .map(|(i, _)| i);
        let delta = merge(Some(from), Some(to), t.name, (idc, parent), &[upd], |_| {})?;
        out.tables.insert(t.name.to_owned(), delta);
    }
    out.flags = flags;
    Ok(out)
}

/// `1234567.8` → `1'234'567.80`, the Swiss way; with a sign when asked.
pub fn swiss(v: Decimal, signed: bool) -> String {
    let s = format!("{:.2}", v.round_dp(2).abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('\'');
        }
        grouped.push(ch);
    }
    let sign = if v.is_sign_negative() && !v.is_zero() {
        "-"
    } else if signed {
        "+"
    } else {
        ""
    };
    format!("{sign}{grouped}.{frac}")
}

impl Diff {
    /// The one-line summary: `+25 new invoices · 12 modified · 3 new clients · revenue +12'500.00 CHF`.
    pub fn headline(&self) -> String {
        let mut parts = vec![
            format!("+{} new invoices", self.new_invoices.len()),
            format!("{} modified", self.modified_invoices.len()),
        ];
        if !self.deleted_invoices.is_empty() {
            parts.push(format!("{} deleted", self.deleted_invoices.len()));
        }
        parts.push(format!("{} new clients", self.new_contacts.len()));
        if self.payments_received > 0 {
            parts.push(format!(
                "{} payments received ({} CHF)",
                self.payments_received,
                swiss(self.payments_received_chf, false)
            ));
        }
        parts.push(format!(
            "revenue {} CHF",
            swiss(self.revenue_chf.change, true)
        ));
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swiss_numbers() {
        assert_eq!(swiss(Decimal::new(1_250_000, 2), true), "+12'500.00");
        assert_eq!(swiss(Decimal::new(-123_456_789, 2), true), "-1'234'567.89");
        assert_eq!(swiss(Decimal::ZERO, true), "+0.00");
        assert_eq!(swiss(Decimal::new(999, 0), false), "999.00");
    }
}
