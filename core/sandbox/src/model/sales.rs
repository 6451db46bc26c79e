//! Sales documents (`kb_offer`, `kb_order`, `kb_invoice`), their positions and payments, and
//! the article catalogue.
//!
//! The three document kinds share most fields but each has keys the others lack, so they share
//! one [`SalesDoc`] with a hand-written `Serialize` that writes exactly the keys of its kind.

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::wire::{Stamp, dec2, dec4, dec6, fixed, num};
use crate::record_fields;

/// Which sales document a [`SalesDoc`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// `kb_offer` (quote).
    Offer,
    /// `kb_order`.
    Order,
    /// `kb_invoice`.
    Invoice,
}

impl DocKind {
    /// The route segment (`kb_invoice`).
    pub fn route(self) -> &'static str {
        match self {
            DocKind::Offer => "kb_offer",
            DocKind::Order => "kb_order",
            DocKind::Invoice => "kb_invoice",
        }
    }
    /// bexio's class name, as the journal's `ref_class` and document settings write it.
    pub fn class(self) -> &'static str {
        match self {
            DocKind::Offer => "KbOffer",
            DocKind::Order => "KbOrder",
            DocKind::Invoice => "KbInvoice",
        }
    }
    /// Document number prefix (`RE-00001`).
    pub fn prefix(self) -> &'static str {
        match self {
            DocKind::Offer => "AN",
            DocKind::Order => "AU",
            DocKind::Invoice => "RE",
        }
    }
}

/// Invoice status ids (`kb_item_status_id`).
pub mod status {
    /// Quote: draft.
    pub const OFFER_DRAFT: u32 = 1;
    /// Quote: pending (sent).
    pub const OFFER_PENDING: u32 = 2;
    /// Quote: accepted.
    pub const OFFER_ACCEPTED: u32 = 3;
    /// Quote: declined.
    pub const OFFER_DECLINED: u32 = 4;
    /// Order: pending.
    pub const ORDER_PENDING: u32 = 5;
    /// Order: done.
    pub const ORDER_DONE: u32 = 6;
    /// Order: partially done.
    pub const ORDER_PARTIAL: u32 = 15;
    /// Order: cancelled.
    pub const ORDER_CANCELLED: u32 = 21;
    /// Invoice: draft.
    pub const INVOICE_DRAFT: u32 = 7;
    /// Invoice: pending (open).
    pub const INVOICE_PENDING: u32 = 8;
    /// Invoice: paid.
    pub const INVOICE_PAID: u32 = 9;
    /// Invoice: partially paid.
    pub const INVOICE_PARTIAL: u32 = 16;
    /// Invoice: cancelled.
    pub const INVOICE_CANCELLED: u32 = 19;
}

/// One VAT line of a document (`taxs[]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaxLine {
    /// Rate in percent, `"8.10"`.
    #[serde(with = "dec2")]
    pub percentage: Decimal,
    /// VAT amount, `"1.3706"`.
    #[serde(with = "dec4")]
    pub value: Decimal,
}

/// A quote, order or invoice.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct SalesDoc {
    pub kind: DocKind,
    pub id: u64,
    pub document_nr: String,
    pub title: Option<String>,
    pub contact_id: Option<u64>,
    pub contact_sub_id: Option<u64>,
    pub user_id: u64,
    pub project_id: Option<u64>,
    pub language_id: u64,
    pub bank_account_id: u64,
    pub currency_id: u64,
    pub payment_type_id: u64,
    pub header: Arc<str>,
    pub footer: Arc<str>,
    pub total_gross: Decimal,
    pub total_net: Decimal,
    pub total_taxes: Decimal,
    pub total_received_payments: Decimal,
    pub total_credit_vouchers: Decimal,
    pub total: Decimal,
    pub total_rounding_difference: Decimal,
    pub mwst_type: u32,
    pub mwst_is_net: bool,
    pub show_position_taxes: bool,
    pub is_valid_from: NaiveDate,
    /// Due date (invoice) or validity end (quote, `is_valid_until`).
    pub is_valid_to: NaiveDate,
    pub contact_address: Arc<str>,
    pub kb_item_status_id: u32,
    pub reference: Option<String>,
    pub api_reference: Option<String>,
    pub viewed_by_client_at: Option<Stamp>,
    pub updated_at: Stamp,
    pub template_slug: &'static str,
    pub taxs: Vec<TaxLine>,
    pub network_link: String,
    pub is_recurring: bool,
    pub positions: Vec<Position>,
    /// Invoice payments (`/2.0/kb_invoice/{id}/payment`).
    pub payments: Vec<Payment>,
    /// The quote or order this document was made from, if any.
    pub origin: Option<(DocKind, u64)>,
}

impl SalesDoc {
    /// What is still owed: total minus payments and credit vouchers, never below zero.
    pub fn remaining(&self) -> Decimal {
        (self.total - self.total_received_payments - self.total_credit_vouchers).max(Decimal::ZERO)
    }

    /// The document with its positions, as its detail route returns it.
    pub fn detail(&self) -> Detail<'_> {
        Detail(self)
    }

    fn write_fields<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        let d6 = |v: &Decimal| fixed(v, 6);
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("document_nr", &self.document_nr)?;
        m.serialize_entry("title", &self.title)?;
        m.serialize_entry("contact_id", &self.contact_id)?;
        m.serialize_entry("contact_sub_id", &self.contact_sub_id)?;
        m.serialize_entry("user_id", &self.user_id)?;
        m.serialize_entry("project_id", &self.project_id)?;
        m.serialize_entry("logopaper_id", &1)?;
        m.serialize_entry("language_id", &self.language_id)?;
        m.serialize_entry("bank_account_id", &self.bank_account_id)?;
        m.serialize_entry("currency_id", &self.currency_id)?;
        m.serialize_entry("payment_type_id", &self.payment_type_id)?;
        m.serialize_entry("header", &*self.header)?;
        m.serialize_entry("footer", &*self.footer)?;
        m.serialize_entry("total_gross", &d6(&self.total_gross))?;
        m.serialize_entry("total_net", &d6(&self.total_net))?;
        m.serialize_entry("total_taxes", &fixed(&self.total_taxes, 4))?;
        if self.kind == DocKind::Invoice {
            m.serialize_entry(
                "total_received_payments",
                &d6(&self.total_received_payments),
            )?;
            m.serialize_entry("total_credit_vouchers", &d6(&self.total_credit_vouchers))?;
            m.serialize_entry("total_remaining_payments", &d6(&self.remaining()))?;
        }
        m.serialize_entry("total", &d6(&self.total))?;
        m.serialize_entry(
            "total_rounding_difference",
            &Num(self.total_rounding_difference),
        )?;
        m.serialize_entry("mwst_type", &self.mwst_type)?;
        m.serialize_entry("mwst_is_net", &self.mwst_is_net)?;
        m.serialize_entry("show_position_taxes", &self.show_position_taxes)?;
        m.serialize_entry("is_valid_from", &self.is_valid_from)?;
        match self.kind {
            DocKind::Invoice => m.serialize_entry("is_valid_to", &self.is_valid_to)?,
            DocKind::Offer => m.serialize_entry("is_valid_until", &self.is_valid_to)?,
            DocKind::Order => {}
        }
        m.serialize_entry("contact_address", &*self.contact_address)?;
        if self.kind != DocKind::Invoice {
            m.serialize_entry("delivery_address_type", &0)?;
            m.serialize_entry("delivery_address", &*self.contact_address)?;
        }
        m.serialize_entry("kb_item_status_id", &self.kb_item_status_id)?;
        match self.kind {
            DocKind::Invoice => m.serialize_entry("reference", &self.reference)?,
            DocKind::Order => m.serialize_entry("is_recurring", &self.is_recurring)?,
            DocKind::Offer => {}
        }
        m.serialize_entry("api_reference", &self.api_reference)?;
        m.serialize_entry(
            "viewed_by_client_at",
            &self.viewed_by_client_at.map(Stamp::v2),
        )?;
        if self.kind == DocKind::Offer {
            m.serialize_entry("kb_terms_of_payment_template_id", &None::<u64>)?;
            m.serialize_entry("show_total", &true)?;
        }
        m.serialize_entry("updated_at", &self.updated_at.v2())?;
        if self.kind == DocKind::Invoice {
            m.serialize_entry("esr_id", &self.id)?;
            m.serialize_entry("qr_invoice_id", &self.id)?;
        }
        m.serialize_entry("template_slug", self.template_slug)?;
        m.serialize_entry("taxs", &self.taxs)?;
        m.serialize_entry("network_link", &self.network_link)?;
        Ok(())
    }
}

impl Serialize for SalesDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.write_fields(&mut m)?;
        m.end()
    }
}

/// A sales document with `positions`, as the detail route returns it.
pub struct Detail<'a>(&'a SalesDoc);

impl Serialize for Detail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.0.write_fields(&mut m)?;
        m.serialize_entry("positions", &self.0.positions)?;
        m.end()
    }
}

struct Num(Decimal);
impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        num::serialize(&self.0, s)
    }
}

record_fields!(SalesDoc, |s| id = s.id;
    "id" => s.id, "kb_item_status_id" => s.kb_item_status_id, "document_nr" => s.document_nr.as_str(),
    "title" => s.title.as_deref(), "api_reference" => s.api_reference.as_deref(), "contact_id" => s.contact_id,
    "contact_sub_id" => s.contact_sub_id, "user_id" => s.user_id, "currency_id" => s.currency_id,
    "total_gross" => s.total_gross, "total_net" => s.total_net, "total" => s.total,
    "is_valid_from" => s.is_valid_from.to_string(), "is_valid_to" => s.is_valid_to.to_string(),
    "is_valid_until" => s.is_valid_to.to_string(), "updated_at" => s.updated_at,
);

/// The kind of a document position, with what only that kind has.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum PositionKind {
    /// A free line with amount and price.
    Custom,
    /// A line referring to a catalogue article.
    Article { article_id: u64 },
    /// Free text.
    Text { show_pos_nr: bool },
    /// Subtotal of the lines above.
    Subtotal { value: Decimal },
    /// A discount on the lines above, percentual or absolute; `discount_total` is a magnitude.
    Discount {
        is_percentual: bool,
        value: Decimal,
        discount_total: Decimal,
    },
}

/// One `positions[]` entry.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct Position {
    pub id: u64,
    pub kind: PositionKind,
    pub amount: Decimal,
    pub unit_id: Option<u64>,
    pub unit_name: Arc<str>,
    pub account_id: Option<u64>,
    pub tax_id: Option<u64>,
    pub tax_value: Decimal,
    pub text: Arc<str>,
    pub unit_price: Decimal,
    pub discount_in_percent: Decimal,
    pub position_total: Decimal,
    pub pos: Option<u32>,
    pub internal_pos: u32,
}

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d6 = |v: &Decimal| fixed(v, 6);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        match &self.kind {
            PositionKind::Custom | PositionKind::Article { .. } => {
                m.serialize_entry("amount", &d6(&self.amount))?;
                if let PositionKind::Article { .. } = self.kind {
                    m.serialize_entry("amount_reserved", &d6(&Decimal::ZERO))?;
                    m.serialize_entry("amount_open", &d6(&self.amount))?;
                    m.serialize_entry("amount_completed", &d6(&Decimal::ZERO))?;
                }
                m.serialize_entry("unit_id", &self.unit_id)?;
                m.serialize_entry("account_id", &self.account_id)?;
                m.serialize_entry("unit_name", &*self.unit_name)?;
                m.serialize_entry("tax_id", &self.tax_id)?;
                m.serialize_entry("tax_value", &fixed(&self.tax_value, 2))?;
                m.serialize_entry("text", &*self.text)?;
                m.serialize_entry("unit_price", &d6(&self.unit_price))?;
                m.serialize_entry("discount_in_percent", &d6(&self.discount_in_percent))?;
                m.serialize_entry("position_total", &d6(&self.position_total))?;
                m.serialize_entry("pos", &self.pos)?;
                m.serialize_entry("internal_pos", &self.internal_pos)?;
                m.serialize_entry("is_optional", &false)?;
                if let PositionKind::Article { article_id } = self.kind {
                    m.serialize_entry("article_id", &article_id)?;
                    m.serialize_entry("type", "KbPositionArticle")?;
                } else {
                    m.serialize_entry("type", "KbPositionCustom")?;
                }
                m.serialize_entry("parent_id", &None::<u64>)?;
            }
            PositionKind::Text { show_pos_nr } => {
                m.serialize_entry("text", &*self.text)?;
                m.serialize_entry("show_pos_nr", show_pos_nr)?;
                m.serialize_entry("pos", &self.pos)?;
                m.serialize_entry("internal_pos", &self.internal_pos)?;
                m.serialize_entry("is_optional", &false)?;
                m.serialize_entry("type", "KbPositionText")?;
                m.serialize_entry("parent_id", &None::<u64>)?;
            }
            PositionKind::Subtotal { value } => {
                m.serialize_entry("text", &*self.text)?;
                m.serialize_entry("value", &d6(value))?;
                m.serialize_entry("internal_pos", &self.internal_pos)?;
                m.serialize_entry("is_optional", &false)?;
                m.serialize_entry("type", "KbPositionSubtotal")?;
                m.serialize_entry("parent_id", &None::<u64>)?;
            }
            PositionKind::Discount {
                is_percentual,
                value,
                discount_total,
            } => {
                m.serialize_entry("text", &*self.text)?;
                m.serialize_entry("is_percentual", is_percentual)?;
                m.serialize_entry("value", &d6(value))?;
                m.serialize_entry("discount_total", &d6(discount_total))?;
                m.serialize_entry("type", "KbPositionDiscount")?;
            }
        }
        m.end()
    }
}

/// `/2.0/kb_invoice/{id}/payment`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Payment {
    pub id: u64,
    pub date: NaiveDate,
    #[serde(with = "dec4")]
    pub value: Decimal,
    pub bank_account_id: Option<u64>,
    pub title: String,
    pub payment_service_id: Option<u64>,
    pub is_client_account_redemption: bool,
    pub is_cash_discount: bool,
    pub kb_invoice_id: u64,
    pub kb_credit_voucher_id: Option<u64>,
    pub kb_bill_id: Option<u64>,
    pub kb_credit_voucher_text: String,
}
record_fields!(Payment, |s| id = s.id; "id" => s.id, "date" => s.date.to_string(), "value" => s.value);

/// `/2.0/article`: a product (`article_type_id` 1) or service (2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Article {
    pub id: u64,
    pub user_id: u64,
    pub article_type_id: u32,
    pub contact_id: Option<u64>,
    pub deliverer_code: Option<String>,
    pub deliverer_name: Option<String>,
    pub deliverer_description: Option<String>,
    pub intern_code: String,
    pub intern_name: String,
    pub intern_description: Option<String>,
    #[serde(with = "dec6::opt")]
    pub purchase_price: Option<Decimal>,
    #[serde(with = "dec6::opt")]
    pub sale_price: Option<Decimal>,
    #[serde(with = "num::opt")]
    pub purchase_total: Option<Decimal>,
    #[serde(with = "num::opt")]
    pub sale_total: Option<Decimal>,
    pub currency_id: Option<u64>,
    pub tax_income_id: Option<u64>,
    pub tax_id: Option<u64>,
    pub tax_expense_id: Option<u64>,
    pub unit_id: Option<u64>,
    pub is_stock: bool,
    pub stock_id: Option<u64>,
    pub stock_place_id: Option<u64>,
    pub stock_nr: i64,
    pub stock_min_nr: i64,
    pub stock_reserved_nr: i64,
    pub stock_available_nr: i64,
    pub stock_picked_nr: i64,
    pub stock_disposed_nr: i64,
    pub stock_ordered_nr: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub weight: Option<i64>,
    pub volume: Option<i64>,
    pub html_text: Option<String>,
    pub remarks: Option<String>,
    #[serde(with = "dec6::opt")]
    pub delivery_price: Option<Decimal>,
    pub article_group_id: Option<u64>,
    pub account_id: Option<u64>,
    pub expense_account_id: Option<u64>,
}
impl Article {
    /// An article with bexio's defaults (empty texts, no prices, nothing in stock).
    pub fn new(id: u64) -> Self {
        Article {
            id,
            user_id: 1,
            article_type_id: 1,
            contact_id: None,
            deliverer_code: Some(String::new()),
            deliverer_name: Some(String::new()),
            deliverer_description: Some(String::new()),
            intern_code: String::new(),
            intern_name: String::new(),
            intern_description: Some(String::new()),
            purchase_price: None,
            sale_price: None,
            purchase_total: None,
            sale_total: None,
            currency_id: Some(1),
            tax_income_id: None,
            tax_id: None,
            tax_expense_id: None,
            unit_id: None,
            is_stock: false,
            stock_id: None,
            stock_place_id: None,
            stock_nr: 0,
            stock_min_nr: 0,
            stock_reserved_nr: 0,
            stock_available_nr: 0,
            stock_picked_nr: 0,
            stock_disposed_nr: 0,
            stock_ordered_nr: 0,
            width: None,
            height: None,
            weight: None,
            volume: None,
            html_text: Some(String::new()),
            remarks: Some(String::new()),
            delivery_price: None,
            article_group_id: None,
            account_id: None,
            expense_account_id: None,
        }
    }
}

record_fields!(Article, |s| id = s.id;
    "id" => s.id, "intern_name" => s.intern_name.as_str(), "intern_code" => s.intern_code.as_str());

/// `/2.0/kb_item_setting`: numbering and defaults per document class.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct DocumentSetting {
    pub id: u64,
    pub text: String,
    pub kb_item_class: String,
    pub enumeration_format: Option<String>,
    pub use_automatic_enumeration: bool,
    pub use_yearly_enumeration: bool,
    pub next_nr: u64,
    pub nr_min_length: u32,
    pub default_time_period_in_days: u32,
    pub default_logopaper_id: u64,
    pub default_language_id: u64,
    pub default_client_bank_account_new_id: u64,
    pub default_currency_id: u64,
    pub default_mwst_type: u32,
    pub default_mwst_is_net: bool,
    pub default_nb_decimals_amount: u32,
    pub default_nb_decimals_price: u32,
    pub default_show_position_taxes: bool,
    pub default_title: String,
    pub default_show_esr_on_same_page: bool,
    pub default_payment_type_id: u64,
    pub kb_terms_of_payment_template_id: u64,
    pub default_show_total: bool,
}
record_fields!(DocumentSetting, |s| id = s.id; "id" => s.id);
