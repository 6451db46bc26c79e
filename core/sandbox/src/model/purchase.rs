//! Purchase bills and expenses (`/4.0/purchase/bills`, `/4.0/expenses`): UUID ids, numbers for
//! money, `+0000` stamps in lists and a `{data, paging}` envelope.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::wire::{Stamp, num};
use crate::record_fields;

struct N<'a>(&'a Decimal);
impl Serialize for N<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        num::serialize(self.0, s)
    }
}

/// A supplier address block on bills and expenses.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct PartyAddress {
    pub title: Option<String>,
    pub salutation: Option<String>,
    pub firstname_suffix: Option<String>,
    pub lastname_company: String,
    pub address_line: String,
    pub postcode: String,
    pub city: String,
    pub country_code: String,
    pub main_contact_id: u64,
    pub contact_address_id: Option<u64>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One line of a bill.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct BillLine {
    pub id: String,
    pub position: u32,
    pub title: String,
    pub tax_id: u64,
    pub tax_calc: Decimal,
    pub amount: Decimal,
    pub booking_account_id: u64,
}

impl Serialize for BillLine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("position", &self.position)?;
        m.serialize_entry("title", &self.title)?;
        m.serialize_entry("tax_id", &self.tax_id)?;
        m.serialize_entry("tax_calc", &N(&self.tax_calc))?;
        m.serialize_entry("amount", &N(&self.amount))?;
        m.serialize_entry("booking_account_id", &self.booking_account_id)?;
        m.end()
    }
}

/// A purchase bill. Raw statuses: DRAFT, BOOKED, PARTIALLY_PAID, PAID, …
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct Bill {
    /// Hidden sequence number (creation order).
    pub seq: u64,
    pub id: String,
    pub created_at: Stamp,
    pub document_no: String,
    pub status: &'static str,
    pub vendor_ref: Option<String>,
    pub supplier_id: u64,
    pub address: PartyAddress,
    pub title: String,
    pub currency_code: &'static str,
    pub exchange_rate: Decimal,
    pub base_currency_code: &'static str,
    pub net: Decimal,
    pub gross: Decimal,
    pub paid: Decimal,
    pub bill_date: NaiveDate,
    pub due_date: NaiveDate,
    pub line_items: Vec<BillLine>,
    pub attachment_ids: Vec<String>,
    pub bank_account_id: u64,
    pub updated_at: Stamp,
}

impl Bill {
    /// The amount still to pay.
    pub fn pending_amount(&self) -> Decimal {
        (self.gross - self.paid).max(Decimal::ZERO)
    }
    /// Whether the bill is unpaid past its due date on `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.pending_amount() > Decimal::ZERO && self.due_date < today && self.status != "DRAFT"
    }
    /// The list row (`GET /4.0/purchase/bills`) as of `today`.
    pub fn row(&self, today: NaiveDate) -> BillRow<'_> {
        BillRow(self, today)
    }
    /// The detail (`GET /4.0/purchase/bills/{id}`) as of `today`.
    pub fn detail(&self, today: NaiveDate) -> BillDetail<'_> {
        BillDetail(self, today)
    }
    fn vendor(&self) -> String {
        match &self.address.firstname_suffix {
            Some(f) if !f.is_empty() => format!("{} {}", f, self.address.lastname_company),
            _ => self.address.lastname_company.clone(),
        }
    }
}
record_fields!(Bill, |s| id = s.seq;
    "id" => s.id.as_str(), "document_no" => s.document_no.as_str(), "bill_date" => s.bill_date.to_string(),
    "due_date" => s.due_date.to_string(), "created_at" => s.created_at, "gross" => s.gross, "net" => s.net,
    "status" => s.status, "title" => s.title.as_str(), "vendor_ref" => s.vendor_ref.as_deref(),
    "currency_code" => s.currency_code, "supplier_id" => s.supplier_id, "pending_amount" => s.pending_amount(),
    "vendor" => s.vendor());

/// A bill as a list row.
pub struct BillRow<'a>(&'a Bill, NaiveDate);
impl Serialize for BillRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (b, today) = (self.0, self.1);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &b.id)?;
        m.serialize_entry("created_at", &b.created_at.v4())?;
        m.serialize_entry("document_no", &b.document_no)?;
        m.serialize_entry("status", b.status)?;
        m.serialize_entry("vendor_ref", &b.vendor_ref)?;
        m.serialize_entry("firstname_suffix", &b.address.firstname_suffix)?;
        m.serialize_entry("lastname_company", &b.address.lastname_company)?;
        m.serialize_entry("vendor", &b.vendor())?;
        m.serialize_entry("title", &b.title)?;
        m.serialize_entry("currency_code", b.currency_code)?;
        m.serialize_entry("pending_amount", &N(&b.pending_amount()))?;
        m.serialize_entry("net", &N(&b.net))?;
        m.serialize_entry("gross", &N(&b.gross))?;
        m.serialize_entry("bill_date", &b.bill_date)?;
        m.serialize_entry("due_date", &b.due_date)?;
        m.serialize_entry("overdue", &b.overdue(today))?;
        let accounts: Vec<u64> = b.line_items.iter().map(|l| l.booking_account_id).collect();
        m.serialize_entry("booking_account_ids", &accounts)?;
        m.serialize_entry("attachment_ids", &b.attachment_ids)?;
        m.end()
    }
}

/// A bill with its line items.
pub struct BillDetail<'a>(&'a Bill, NaiveDate);
impl Serialize for BillDetail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (b, today) = (self.0, self.1);
        let base_amount = (b.gross * b.exchange_rate).round_dp(2);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &b.id)?;
        m.serialize_entry("document_no", &b.document_no)?;
        m.serialize_entry("title", &b.title)?;
        m.serialize_entry("status", b.status)?;
        m.serialize_entry("firstname_suffix", &b.address.firstname_suffix)?;
        m.serialize_entry("lastname_company", &b.address.lastname_company)?;
        m.serialize_entry(
            "created_at",
            &b.created_at.utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
        )?;
        m.serialize_entry("supplier_id", &b.supplier_id)?;
        m.serialize_entry("vendor_ref", &b.vendor_ref)?;
        m.serialize_entry("contact_partner_id", &None::<u64>)?;
        m.serialize_entry("bill_date", &b.bill_date)?;
        m.serialize_entry("due_date", &b.due_date)?;
        m.serialize_entry("pending_amount", &N(&b.pending_amount()))?;
        m.serialize_entry("amount_man", &N(&b.gross))?;
        m.serialize_entry("amount_calc", &N(&b.gross))?;
        m.serialize_entry("manual_amount", &false)?;
        m.serialize_entry("currency_code", b.currency_code)?;
        m.serialize_entry("exchange_rate", &N(&b.exchange_rate))?;
        m.serialize_entry("base_currency_code", b.base_currency_code)?;
        m.serialize_entry("item_net", &false)?;
        m.serialize_entry("split_into_line_items", &(b.line_items.len() > 1))?;
        m.serialize_entry("purchase_order_id", &None::<u64>)?;
        m.serialize_entry("base_currency_amount", &N(&base_amount))?;
        m.serialize_entry("overdue", &b.overdue(today))?;
        m.serialize_entry("qr_bill_information", &None::<String>)?;
        m.serialize_entry("address", &b.address)?;
        m.serialize_entry("line_items", &b.line_items)?;
        m.serialize_entry("discounts", &Vec::<u8>::new())?;
        m.serialize_entry("payment", &None::<u8>)?;
        m.serialize_entry("attachment_ids", &b.attachment_ids)?;
        m.end()
    }
}

/// An expense (receipt paid directly, e.g. by an employee).
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct Expense {
    /// Hidden sequence number (creation order).
    pub seq: u64,
    pub id: String,
    pub created_at: Stamp,
    pub document_no: String,
    pub status: &'static str,
    pub address: PartyAddress,
    pub supplier_id: u64,
    pub title: String,
    pub currency_code: &'static str,
    pub exchange_rate: Decimal,
    pub paid_on: NaiveDate,
    pub bank_account_id: u64,
    pub booking_account_id: u64,
    pub net: Decimal,
    pub gross: Decimal,
    pub tax_id: u64,
    pub project_id: Option<String>,
    pub attachment_ids: Vec<String>,
    pub updated_at: Stamp,
}

impl Expense {
    /// The list row (`GET /4.0/expenses`).
    pub fn row(&self) -> ExpenseRow<'_> {
        ExpenseRow(self)
    }
    /// The detail (`GET /4.0/expenses/{id}`).
    pub fn detail(&self) -> ExpenseDetail<'_> {
        ExpenseDetail(self)
    }
    fn vendor(&self) -> String {
        match &self.address.firstname_suffix {
            Some(f) if !f.is_empty() => format!("{} {}", f, self.address.lastname_company),
            _ => self.address.lastname_company.clone(),
        }
    }
}
record_fields!(Expense, |s| id = s.seq;
    "id" => s.id.as_str(), "document_no" => s.document_no.as_str(), "paid_on" => s.paid_on.to_string(),
    "created_at" => s.created_at, "gross" => s.gross, "net" => s.net, "title" => s.title.as_str(),
    "status" => s.status, "currency_code" => s.currency_code, "supplier_id" => s.supplier_id,
    "project_id" => s.project_id.as_deref(), "vendor" => s.vendor());

/// An expense as a list row.
pub struct ExpenseRow<'a>(&'a Expense);
impl Serialize for ExpenseRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &e.id)?;
        m.serialize_entry("created_at", &e.created_at.v4())?;
        m.serialize_entry("document_no", &e.document_no)?;
        m.serialize_entry("status", e.status)?;
        m.serialize_entry("firstname_suffix", &e.address.firstname_suffix)?;
        m.serialize_entry("lastname_company", &e.address.lastname_company)?;
        m.serialize_entry("vendor", &e.vendor())?;
        m.serialize_entry("title", &e.title)?;
        m.serialize_entry("currency_code", e.currency_code)?;
        m.serialize_entry("paid_on", &e.paid_on)?;
        m.serialize_entry("booking_account_id", &e.booking_account_id)?;
        m.serialize_entry("net", &N(&e.net))?;
        m.serialize_entry("gross", &N(&e.gross))?;
        m.serialize_entry("project_id", &e.project_id)?;
        m.serialize_entry("chargeable_contact_id", &None::<u64>)?;
        m.serialize_entry("transaction_id", &None::<String>)?;
        m.serialize_entry("invoice_id", &None::<String>)?;
        m.serialize_entry("attachment_ids", &e.attachment_ids)?;
        m.end()
    }
}

/// An expense with its booking details.
pub struct ExpenseDetail<'a>(&'a Expense);
impl Serialize for ExpenseDetail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let tax = e.gross - e.net;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &e.id)?;
        m.serialize_entry("document_no", &e.document_no)?;
        m.serialize_entry("title", &e.title)?;
        m.serialize_entry("status", e.status)?;
        m.serialize_entry("firstname_suffix", &e.address.firstname_suffix)?;
        m.serialize_entry("lastname_company", &e.address.lastname_company)?;
        m.serialize_entry("created_at", &e.created_at.v4())?;
        m.serialize_entry("supplier_id", &e.supplier_id)?;
        m.serialize_entry("paid_on", &e.paid_on)?;
        m.serialize_entry("bank_account_id", &e.bank_account_id)?;
        m.serialize_entry("booking_account_id", &e.booking_account_id)?;
        m.serialize_entry("currency_code", e.currency_code)?;
        m.serialize_entry("base_currency_code", "CHF")?;
        m.serialize_entry("exchange_rate", &N(&e.exchange_rate))?;
        m.serialize_entry("amount", &N(&e.gross))?;
        m.serialize_entry("tax_man", &N(&tax))?;
        m.serialize_entry("tax_calc", &N(&tax))?;
        m.serialize_entry("tax_id", &e.tax_id)?;
        m.serialize_entry(
            "base_currency_amount",
            &N(&(e.gross * e.exchange_rate).round_dp(2)),
        )?;
        m.serialize_entry("transaction_id", &None::<String>)?;
        m.serialize_entry("invoice_id", &None::<String>)?;
        m.serialize_entry("project_id", &e.project_id)?;
        m.serialize_entry("attachment_ids", &e.attachment_ids)?;
        m.serialize_entry("address", &e.address)?;
        m.end()
    }
}
