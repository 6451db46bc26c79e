//! Accounting (`/2.0/accounts`, `/3.0/accounting/*`, `/3.0/taxes`, `/3.0/currencies`, banking).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::wire::{Stamp, num, ts_v3};
use crate::record_fields;

/// `/2.0/accounts`: one account of the chart. `account_type`: 1 income, 2 expense, 3 asset,
/// 4 liability, 5 closing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Account {
    pub id: u64,
    pub uuid: String,
    pub account_no: String,
    pub name: String,
    pub account_type: u32,
    pub tax_id: Option<u64>,
    pub fibu_account_group_id: u64,
    pub is_active: bool,
    pub is_locked: bool,
}
record_fields!(Account, |s| id = s.id;
    "id" => s.id, "account_no" => s.account_no.as_str(), "fibu_account_group_id" => s.fibu_account_group_id,
    "name" => s.name.as_str(), "account_type" => s.account_type);

/// `/2.0/account_groups`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AccountGroup {
    pub id: u64,
    pub uuid: String,
    pub account_no: String,
    pub name: String,
    pub parent_fibu_account_group_id: Option<u64>,
    pub is_active: bool,
    pub is_locked: bool,
}
record_fields!(AccountGroup, |s| id = s.id; "id" => s.id, "account_no" => s.account_no.as_str(), "name" => s.name.as_str());

/// `/3.0/taxes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Tax {
    pub id: u64,
    pub uuid: String,
    pub name: String,
    pub code: String,
    pub digit: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub account_id: u64,
    pub tax_settlement_type: String,
    #[serde(with = "num")]
    pub value: Decimal,
    #[serde(with = "num::opt")]
    pub net_tax_value: Option<Decimal>,
    pub start_year: Option<i32>,
    pub end_year: Option<i32>,
    pub is_active: bool,
    pub display_name: String,
    pub start_month: Option<u32>,
    pub end_month: Option<u32>,
}
record_fields!(Tax, |s| id = s.id; "id" => s.id, "code" => s.code.as_str(), "type" => s.kind.as_str(), "value" => s.value);

/// `/3.0/currencies`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Currency {
    pub id: u64,
    pub name: String,
    #[serde(with = "num")]
    pub round_factor: Decimal,
}
record_fields!(Currency, |s| id = s.id; "id" => s.id, "name" => s.name.as_str());

/// `/3.0/currencies/{id}/exchange_rates`: one rate against another currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ExchangeRate {
    #[serde(with = "num")]
    pub factor_nr: Decimal,
    pub exchange_currency: Currency,
    pub ratio: u32,
    #[serde(with = "num")]
    pub factor_nr_to_ratio: Decimal,
    pub source: String,
    pub source_reason: String,
    pub exchange_rate_date: NaiveDate,
}

/// `/3.0/accounting/calendar_years`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct CalendarYear {
    pub id: u64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub is_vat_subject: bool,
    pub default_tax_income_id: u64,
    pub default_tax_expense_id: u64,
    #[serde(with = "ts_v3")]
    pub created_at: Stamp,
    #[serde(with = "ts_v3")]
    pub updated_at: Stamp,
    pub vat_accounting_method: String,
    pub vat_accounting_type: String,
    pub is_annual_reporting: bool,
}
record_fields!(CalendarYear, |s| id = s.id;
    "id" => s.id, "start" => s.start.to_string(), "end" => s.end.to_string(),
    "is_vat_subject" => s.is_vat_subject, "vat_accounting_method" => s.vat_accounting_method.as_str(),
    "vat_accounting_type" => s.vat_accounting_type.as_str(), "created_at" => s.created_at, "updated_at" => s.updated_at);

/// `/3.0/accounting/business_years`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct BusinessYear {
    pub id: u64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub closed_at: Option<NaiveDate>,
    pub status: String,
}
record_fields!(BusinessYear, |s| id = s.id; "id" => s.id, "start" => s.start.to_string(), "status" => s.status.as_str());

/// `/3.0/accounting/vat_periods`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct VatPeriod {
    pub id: u64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub closed_at: Option<NaiveDate>,
}
record_fields!(VatPeriod, |s| id = s.id; "id" => s.id, "start" => s.start.to_string(), "status" => s.status.as_str());

/// One line of a manual entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct EntryLine {
    pub id: u64,
    pub date: NaiveDate,
    pub debit_account_id: u64,
    pub credit_account_id: u64,
    pub tax_id: Option<u64>,
    pub tax_account_id: Option<u64>,
    pub description: String,
    #[serde(with = "num")]
    pub amount: Decimal,
    pub currency_id: u64,
    pub base_currency_id: u64,
    #[serde(with = "num")]
    pub currency_factor: Decimal,
    #[serde(with = "num")]
    pub base_currency_amount: Decimal,
    pub created_by_user_id: u64,
    pub edited_by_user_id: u64,
}

/// `/3.0/accounting/manual_entries`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ManualEntry {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub date: NaiveDate,
    pub reference_nr: String,
    pub created_by_user_id: u64,
    pub edited_by_user_id: u64,
    pub entries: Vec<EntryLine>,
    pub is_locked: bool,
    pub locked_info: Option<String>,
    pub booking_type: String,
}
record_fields!(ManualEntry, |s| id = s.id; "id" => s.id, "date" => s.date.to_string());

/// `/3.0/accounting/journal`: one booking. Kept compact (no per-row text allocations): a large
/// company has millions of bookings.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct JournalEntry {
    pub id: u64,
    pub ref_id: u64,
    #[serde(serialize_with = "display")]
    pub ref_uuid: uuid::Uuid,
    pub ref_class: &'static str,
    /// The booking date at midnight, Zurich time.
    #[serde(with = "ts_v3")]
    pub date: Stamp,
    pub debit_account_id: u64,
    pub credit_account_id: u64,
    pub description: std::sync::Arc<str>,
    #[serde(with = "num")]
    pub amount: Decimal,
    pub currency_id: u64,
    #[serde(with = "num")]
    pub currency_factor: Decimal,
    pub base_currency_id: u64,
    #[serde(with = "num")]
    pub base_currency_amount: Decimal,
}
record_fields!(JournalEntry, |s| id = s.id; "id" => s.id, "date" => s.date);

/// `/3.0/banking/accounts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct BankAccount {
    pub id: u64,
    pub uuid: String,
    pub name: String,
    pub owner: String,
    pub owner_address: String,
    pub owner_house_number: String,
    pub owner_zip: String,
    pub owner_city: String,
    pub owner_country_code: String,
    pub bc_nr: String,
    pub bank_name: String,
    pub bank_account_nr: String,
    pub iban_nr: String,
    pub currency_id: u64,
    pub account_id: u64,
    pub remarks: String,
    pub is_esr: bool,
    pub esr_besr_id: String,
    pub esr_bottom_line_include_amount: bool,
    pub esr_post_account_nr: String,
    pub esr_payment_for_text: String,
    pub esr_in_favour_of_text: String,
    pub invoice_mode: String,
    pub qr_invoice_iban: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub bank_nr: String,
}
record_fields!(BankAccount, |s| id = s.id; "id" => s.id, "name" => s.name.as_str());

fn display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
