//! The table catalog: every table of the star schema, its grain, its source in bexio, and each
//! column with its type and meaning. Arrow schemas and `schema.md` are both derived from it, so
//! the documentation cannot drift from the data.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// What a column holds, in the schema's own vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A key joining facts to dimensions: `"<tenant>:<id>"` (text, unique across companies).
    Key,
    /// bexio's own numeric id.
    Id,
    /// Text.
    Text,
    /// A whole number.
    Int,
    /// True or false.
    Bool,
    /// A calendar day.
    Date,
    /// A moment in time (UTC, microseconds); bexio's naive Zurich times converted.
    Timestamp,
    /// Money with two decimals (totals, payments, line totals): exact.
    Money,
    /// Money with four decimals (VAT amounts as bexio computes them): exact.
    Money4,
    /// Quantities and unit prices (up to six decimals, as bexio allows): exact.
    Quantity,
    /// A percentage such as a VAT rate (`8.1`) or a discount: exact.
    Percent,
    /// An exchange rate: CHF per one unit of the currency.
    Rate,
}

impl ColumnType {
    /// The Arrow type.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Key | ColumnType::Text => DataType::Utf8,
            ColumnType::Id | ColumnType::Int => DataType::Int64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColumnType::Money => DataType::Decimal128(18, 2),
            ColumnType::Money4 => DataType::Decimal128(18, 4),
            ColumnType::Quantity => DataType::Decimal128(18, 6),
            ColumnType::Percent => DataType::Decimal128(9, 4),
            ColumnType::Rate => DataType::Decimal128(18, 8),
        }
    }

    /// How the type reads in the documentation.
    pub fn label(self) -> &'static str {
        match self {
            ColumnType::Key => "key (text)",
            ColumnType::Id => "id (int64)",
            ColumnType::Text => "text",
            ColumnType::Int => "int64",
            ColumnType::Bool => "boolean",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp (UTC)",
            ColumnType::Money => "decimal(18,2)",
            ColumnType::Money4 => "decimal(18,4)",
            ColumnType::Quantity => "decimal(18,6)",
            ColumnType::Percent => "decimal(9,4)",
            ColumnType::Rate => "decimal(18,8)",
        }
    }
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name (snake_case, stable: BI models refer to it).
    pub name: &'static str,
    /// Type.
    pub ty: ColumnType,
    /// Whether the value is always present.
    pub required: bool,
    /// What it means, for `schema.md`.
    pub doc: &'static str,
}

/// A column that may be empty.
pub const fn col(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        required: false,
        doc,
    }
}

/// A column that is always present.
pub const fn req(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        required: true,
        doc,
    }
}

/// Whether a table holds events or things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Facts: measures at a grain (invoices, lines, payments, bookings…).
    Fact,
    /// Dimensions: what facts refer to (contacts, articles, accounts, dates…).
    Dimension,
    /// Bookkeeping of the sync itself (rejected records).
    Meta,
}

/// One table of the star schema.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Table name (`fact_invoice`, `dim_contact`…).
    pub name: &'static str,
    /// Fact, dimension or meta.
    pub kind: Kind,
    /// One row per…
    pub grain: &'static str,
    /// The bexio routes it is built from.
    pub source: &'static str,
    /// Columns, key first.
    pub columns: &'static [Column],
}

impl Table {
    /// The Arrow schema of the table.
    pub fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(c.name, c.ty.arrow(), !c.required))
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The position of a column.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

use ColumnType::*;

const TENANT: Column = req(
    "tenant",
    Text,
    "The bexio company the row belongs to (its company id).",
);

/// `dim_contact`: companies and persons.
pub const DIM_CONTACT: Table = Table {
    name: "dim_contact",
    kind: Kind::Dimension,
    grain: "one row per contact (company or person), archived ones included",
    source: "/2.0/contact (with show_archived), /2.0/contact_group, /2.0/country, /2.0/language",
    columns: &[
        req("contact_key", Key, "Key of the contact."),
        TENANT,
        req("contact_id", Id, "bexio's contact id."),
        col("nr", Text, "Contact number as shown in bexio."),
        req("contact_type", Text, "`company` or `person`."),
        req(
            "name",
            Text,
            "Display name: the company name, or first and last name of a person.",
        ),
        col(
            "name_1",
            Text,
            "Company name or last name (bexio `name_1`).",
        ),
        col(
            "name_2",
            Text,
            "Company addition or first name (bexio `name_2`).",
        ),
        col("street", Text, "Street name."),
        col("house_number", Text, "House number."),
        col("postcode", Text, "Postcode."),
        col("city", Text, "City."),
        col("country_code", Text, "ISO 3166 alpha-2 country code."),
        col(
            "language",
            Text,
            "ISO 639-1 language code of correspondence.",
        ),
        col("email", Text, "Main e-mail address."),
        col("phone", Text, "Main phone number."),
        col("groups", Text, "Contact groups, comma-separated names."),
        col(
            "sectors",
            Text,
            "Sectors (bexio contact branches), comma-separated names.",
        ),
        req(
            "is_archived",
            Bool,
            "Archived in bexio (DELETE on a contact archives it).",
        ),
        col("updated_at", Timestamp, "Last change in bexio."),
    ],
};

/// `dim_contact_relation`: a person linked to a company (bexio's contact relations).
pub const DIM_CONTACT_RELATION: Table = Table {
    name: "dim_contact_relation",
    kind: Kind::Dimension,
    grain: "one row per link between a company contact and a person contact",
    source: "/2.0/contact_relation",
    columns: &[
        req("contact_relation_key", Key, "Key of the link."),
        TENANT,
        req("contact_relation_id", Id, "bexio's relation id."),
        req("contact_key", Key, "Key of the company (or main) contact."),
        req("contact_person_key", Key, "Key of the person linked to it."),
        col(
            "description",
            Text,
            "What the person is to the company (role).",
        ),
        col("updated_at", Timestamp, "Last change in bexio."),
    ],
};

/// `dim_article`: the product and service catalogue.
pub const DIM_ARTICLE: Table = Table {
    name: "dim_article",
    kind: Kind::Dimension,
    grain: "one row per article",
    source: "/2.0/article, /2.0/unit",
    columns: &[
        req("article_key", Key, "Key of the article."),
        TENANT,
        req("article_id", Id, "bexio's article id."),
        col("code", Text, "Internal article code."),
        req("name", Text, "Internal article name."),
        req("article_type", Text, "`product` or `service`."),
        col("unit", Text, "Unit name (`Stk`, `h`…)."),
        col("sale_price", Quantity, "Sale price per unit."),
        col("purchase_price", Quantity, "Purchase price per unit."),
        col("currency_code", Text, "Currency of the prices."),
        col("tax_key", Key, "Key of the sales VAT code."),
    ],
};

/// `dim_project`.
pub const DIM_PROJECT: Table = Table {
    name: "dim_project",
    kind: Kind::Dimension,
    grain: "one row per project",
    source: "/2.0/pr_project, /2.0/pr_project_state, /2.0/pr_project_type",
    columns: &[
        req("project_key", Key, "Key of the project."),
        TENANT,
        req("project_id", Id, "bexio's project id."),
        col("nr", Text, "Project number."),
        req("name", Text, "Project name."),
        col("contact_key", Key, "Key of the client."),
        col("state", Text, "Project state name."),
        col("project_type", Text, "Project type name."),
        col("start_date", Date, "Start."),
        col("end_date", Date, "End."),
        col(
            "invoice_type",
            Text,
            "How it is billed: `hourly_rate_service`, `hourly_rate_employee`, `hourly_rate_project` or `fixed`.",
        ),
        col("invoice_amount", Money, "Hourly rate or fixed price."),
    ],
};

/// `dim_account`: the chart of accounts.
pub const DIM_ACCOUNT: Table = Table {
    name: "dim_account",
    kind: Kind::Dimension,
    grain: "one row per ledger account",
    source: "/2.0/accounts, /2.0/account_groups",
    columns: &[
        req("account_key", Key, "Key of the account."),
        TENANT,
        req("account_id", Id, "bexio's account id."),
        req("account_no", Text, "Account number (`1100`)."),
        req("name", Text, "Account name."),
        req(
            "account_type",
            Text,
            "`income`, `expense`, `asset`, `liability` or `closing`.",
        ),
        col("group_no", Text, "Number of the account group."),
        col("group_name", Text, "Name of the account group."),
        req("is_active", Bool, "Active."),
    ],
};

/// `dim_tax`: VAT codes.
pub const DIM_TAX: Table = Table {
    name: "dim_tax",
    kind: Kind::Dimension,
    grain: "one row per VAT code",
    source: "/3.0/taxes",
    columns: &[
        req("tax_key", Key, "Key of the VAT code."),
        TENANT,
        req("tax_id", Id, "bexio's tax id."),
        req("code", Text, "VAT code (`UN81`)."),
        col("name", Text, "Display name."),
        req(
            "tax_type",
            Text,
            "bexio's tax type (`sales_tax`, `pre_tax_material`…).",
        ),
        req("rate", Percent, "Rate in percent."),
        col("valid_from_year", Int, "First year of validity."),
        col("valid_to_year", Int, "Last year of validity."),
        req("is_active", Bool, "Active in bexio."),
    ],
};

/// `dim_currency`.
pub const DIM_CURRENCY: Table = Table {
    name: "dim_currency",
    kind: Kind::Dimension,
    grain: "one row per currency",
    source: "/3.0/currencies",
    columns: &[
        req("currency_key", Key, "Key of the currency."),
        TENANT,
        req("currency_id", Id, "bexio's currency id."),
        req("code", Text, "ISO 4217 code."),
        req(
            "round_factor",
            Money,
            "Rounding step of totals (0.05 for CHF).",
        ),
    ],
};

/// `dim_user`.
pub const DIM_USER: Table = Table {
    name: "dim_user",
    kind: Kind::Dimension,
    grain: "one row per bexio user",
    source: "/3.0/users",
    columns: &[
        req("user_key", Key, "Key of the user."),
        TENANT,
        req("user_id", Id, "bexio's user id."),
        col("first_name", Text, "First name."),
        col("last_name", Text, "Last name."),
        col("email", Text, "E-mail address."),
        req("is_admin", Bool, "Superadmin in bexio."),
    ],
};

/// `dim_date`: the calendar, per company (business years differ).
pub const DIM_DATE: Table = Table {
    name: "dim_date",
    kind: Kind::Dimension,
    grain: "one row per company and calendar day, covering every date in the data",
    source: "generated; business years from /3.0/accounting/business_years",
    columns: &[
        req("date_key", Key, "Key of the day: `<tenant>:<YYYY-MM-DD>`."),
        TENANT,
        req("date", Date, "The day."),
        req("year", Int, "Calendar year."),
        req("quarter", Int, "Calendar quarter, 1–4."),
        req("month", Int, "Month, 1–12."),
        req("month_name", Text, "Month name in German (`Januar`)."),
        req("day", Int, "Day of the month."),
        req("iso_year", Int, "ISO 8601 week-numbering year."),
        req("iso_week", Int, "ISO 8601 week, 1–53."),
        req("weekday", Int, "ISO weekday, 1 (Monday) to 7 (Sunday)."),
        req("is_weekend", Bool, "Saturday or Sunday."),
        col(
            "business_year",
            Text,
            "bexio business year containing the day (`2025` or `2024/25`).",
        ),
        col(
            "business_year_start",
            Date,
            "First day of that business year.",
        ),
    ],
};

/// `dim_lookup`: bexio's small lists, in one table.
pub const DIM_LOOKUP: Table = Table {
    name: "dim_lookup",
    kind: Kind::Dimension,
    grain: "one row per entry of a bexio lookup list (a country, a salutation, a payment type…)",
    source: "/2.0/country, /2.0/language, /2.0/contact_group, /2.0/contact_branch, /2.0/unit, \
             /2.0/salutation, /2.0/title, /2.0/payment_type, /2.0/pr_project_state, \
             /2.0/pr_project_type, /2.0/client_service, /2.0/timesheet_status, /2.0/account_groups, \
             /2.0/kb_item_setting",
    columns: &[
        req(
            "lookup_key",
            Key,
            "Key of the entry: `<tenant>:<lookup>:<id>`.",
        ),
        TENANT,
        req(
            "lookup_id",
            Id,
            "bexio's id of the entry (unique within its lookup).",
        ),
        req(
            "lookup",
            Text,
            "Which list: `country`, `language`, `contact_group`, `contact_branch` (sectors), `unit`, \
             `salutation`, `title`, `payment_type`, `project_state`, `project_type`, \
             `business_activity` (bexio client services), `timesheet_status`, `account_group` or \
             `document_setting` (bexio kb_item_setting).",
        ),
        req("name", Text, "Name as shown in bexio."),
        col(
            "code",
            Text,
            "Code where the list has one: ISO 3166 alpha-2 (countries), ISO 639-1 (languages), \
             account number (account groups), document class (`KbInvoice`, document settings).",
        ),
    ],
};

/// `dim_company`: the bexio company itself (its profile).
pub const DIM_COMPANY: Table = Table {
    name: "dim_company",
    kind: Kind::Dimension,
    grain: "one row per company profile (one per bexio company)",
    source: "/2.0/company_profile, /2.0/country",
    columns: &[
        req("company_key", Key, "Key of the profile."),
        TENANT,
        req("company_id", Id, "bexio's profile id."),
        req("name", Text, "Company name."),
        col(
            "legal_form",
            Text,
            "bexio's legal form (`corporation`, `limited_liability_company`, `sole_proprietorship`…).",
        ),
        col("street", Text, "Street (bexio `address`)."),
        col("house_number", Text, "House number (bexio `address_nr`)."),
        col("postcode", Text, "Postcode."),
        col("city", Text, "City."),
        col("country_code", Text, "ISO 3166 alpha-2 country code."),
        col("email", Text, "E-mail address."),
        col("phone", Text, "Main phone number."),
        col("website", Text, "Web site."),
        col(
            "uid_nr",
            Text,
            "Company identification number (UID, `CHE-123.456.789`; bexio `ust_id_nr`).",
        ),
        col(
            "vat_nr",
            Text,
            "VAT number (`CHE-123.456.789 MWST`; bexio `mwst_nr`).",
        ),
        col("trade_register_nr", Text, "Commercial register number."),
    ],
};

/// `dim_contact_address`: additional addresses of contacts (delivery, branch offices…).
pub const DIM_CONTACT_ADDRESS: Table = Table {
    name: "dim_contact_address",
    kind: Kind::Dimension,
    grain: "one row per additional address of a contact",
    source: "/2.0/contact/{id}/additional_address (per contact), /2.0/country",
    columns: &[
        req("contact_address_key", Key, "Key of the address."),
        TENANT,
        req("contact_address_id", Id, "bexio's additional address id."),
        req("contact_key", Key, "Key of the contact it belongs to."),
        req("name", Text, "Name on the address."),
        col("name_addition", Text, "Addition to the name."),
        col(
            "subject",
            Text,
            "What the address is for (`Lieferadresse`…).",
        ),
        col("street", Text, "Street name."),
        col("house_number", Text, "House number."),
        col(
            "address_addition",
            Text,
            "Addition to the address (c/o, PO box…).",
        ),
        col("postcode", Text, "Postcode."),
        col("city", Text, "City."),
        col("country_code", Text, "ISO 3166 alpha-2 country code."),
        col("description", Text, "Internal description."),
    ],
};

/// `dim_bank_account`: the company's own bank and cash accounts.
pub const DIM_BANK_ACCOUNT: Table = Table {
    name: "dim_bank_account",
    kind: Kind::Dimension,
    grain: "one row per bank or cash account of the company",
    source: "/3.0/banking/accounts, /3.0/currencies",
    columns: &[
        req("bank_account_key", Key, "Key of the bank account."),
        TENANT,
        req("bank_account_id", Id, "bexio's bank account id."),
        req("name", Text, "Name in bexio."),
        col("account_type", Text, "`bank` or `cash`."),
        col("bank_name", Text, "Name of the bank."),
        col("iban", Text, "IBAN."),
        col("qr_iban", Text, "QR-IBAN for QR invoices."),
        col(
            "bic",
            Text,
            "BIC (SWIFT code) of the bank (bexio `bank_nr`).",
        ),
        col("owner", Text, "Account holder."),
        col("currency_code", Text, "Currency of the account."),
        col("account_key", Key, "Key of its ledger account."),
    ],
};

/// `dim_calendar_year`: calendar years and their VAT settings.
pub const DIM_CALENDAR_YEAR: Table = Table {
    name: "dim_calendar_year",
    kind: Kind::Dimension,
    grain: "one row per calendar year set up in bexio accounting",
    source: "/3.0/accounting/calendar_years",
    columns: &[
        req("calendar_year_key", Key, "Key of the calendar year."),
        TENANT,
        req("calendar_year_id", Id, "bexio's calendar year id."),
        req("year", Int, "The year."),
        req("start_date", Date, "First day."),
        req("end_date", Date, "Last day."),
        req("is_vat_subject", Bool, "The company owes VAT that year."),
        col(
            "vat_accounting_method",
            Text,
            "`effective` or `net_tax_rate` (Saldosteuersatz).",
        ),
        col(
            "vat_accounting_type",
            Text,
            "`agreed` (vereinbart) or `collected` (vereinnahmt).",
        ),
        col("is_annual_reporting", Bool, "VAT is reported once a year."),
        col("updated_at", Timestamp, "Last change in bexio."),
    ],
};

/// `dim_business_year`: fiscal years.
pub const DIM_BUSINESS_YEAR: Table = Table {
    name: "dim_business_year",
    kind: Kind::Dimension,
    grain: "one row per business (fiscal) year",
    source: "/3.0/accounting/business_years",
    columns: &[
        req("business_year_key", Key, "Key of the business year."),
        TENANT,
        req("business_year_id", Id, "bexio's business year id."),
        req("start_date", Date, "First day."),
        req("end_date", Date, "Last day."),
        col("status", Text, "`open` or `closed`."),
        col("closed_at", Date, "Day it was closed."),
    ],
};

/// `dim_vat_period`: VAT reporting periods.
pub const DIM_VAT_PERIOD: Table = Table {
    name: "dim_vat_period",
    kind: Kind::Dimension,
    grain: "one row per VAT reporting period",
    source: "/3.0/accounting/vat_periods",
    columns: &[
        req("vat_period_key", Key, "Key of the period."),
        TENANT,
        req("vat_period_id", Id, "bexio's VAT period id."),
        req("start_date", Date, "First day."),
        req("end_date", Date, "Last day."),
        col(
            "period_type",
            Text,
            "bexio's period type (`quarter`, `semester`, `year`…).",
        ),
        col("status", Text, "`open` or `closed`."),
        col("closed_at", Date, "Day it was closed."),
    ],
};

/// `dim_file`: the documents of bexio's file inbox (metadata only, never the content).
pub const DIM_FILE: Table = Table {
    name: "dim_file",
    kind: Kind::Dimension,
    grain: "one row per file in bexio (archived ones included)",
    source: "/3.0/files",
    columns: &[
        req("file_key", Key, "Key of the file."),
        TENANT,
        req("file_id", Id, "bexio's file id."),
        col("uuid", Text, "bexio's file UUID."),
        req("name", Text, "File name without its extension."),
        col("extension", Text, "Extension (`pdf`, `png`…)."),
        col("mime_type", Text, "MIME type."),
        col("size_bytes", Int, "Size in bytes."),
        col("user_key", Key, "Key of the user who uploaded it."),
        col(
            "uploader_email",
            Text,
            "E-mail address it was sent from (mail upload).",
        ),
        col(
            "source_type",
            Text,
            "How it came in (`web`, `mail`, `app`…).",
        ),
        col(
            "processing_status",
            Text,
            "State of bexio's automatic reading.",
        ),
        req("is_archived", Bool, "Archived."),
        col(
            "is_referenced",
            Bool,
            "Attached to a record (a bill, an expense, a booking…).",
        ),
        col("created_at", Timestamp, "Uploaded."),
    ],
};

/// `fact_invoice`.
pub const FACT_INVOICE: Table = Table {
    name: "fact_invoice",
    kind: Kind::Fact,
    grain: "one row per invoice that exists in bexio (deleted ones are rows of `tombstones`)",
    source: "/2.0/kb_invoice (+ search on updated_at), /3.0/currencies/{id}/exchange_rates",
    columns: &[
        req("invoice_key", Key, "Key of the invoice."),
        TENANT,
        req("invoice_id", Id, "bexio's invoice id."),
        req("document_nr", Text, "Invoice number (`RE-00001`)."),
        col("title", Text, "Title."),
        col("contact_key", Key, "Key of the client."),
        col("contact_person_key", Key, "Key of the contact person."),
        col("user_key", Key, "Key of the responsible user."),
        col("project_key", Key, "Key of the project."),
        req("currency_code", Text, "Currency of the amounts."),
        req(
            "invoice_date",
            Date,
            "Invoice date (bexio `is_valid_from`).",
        ),
        col("due_date", Date, "Due date (bexio `is_valid_to`)."),
        req("status_id", Int, "bexio's status id (`kb_item_status_id`)."),
        req(
            "status",
            Text,
            "`draft`, `pending`, `paid`, `partial`, `cancelled` or `unpaid`.",
        ),
        req(
            "total_gross",
            Money,
            "Sum of the lines before document discounts.",
        ),
        req(
            "total_net",
            Money,
            "Net amount after discounts, without VAT.",
        ),
        req("total_taxes", Money4, "VAT."),
        req(
            "total",
            Money,
            "Amount due, VAT included, rounded as bexio rounds (CHF to 0.05).",
        ),
        req("total_paid", Money, "Payments received."),
        req("total_open", Money, "Still to pay."),
        req("rounding_difference", Money, "Rounding of the total."),
        col(
            "exchange_rate",
            Rate,
            "CHF per unit of the invoice currency on the invoice date (1 for CHF; empty when bexio has no rate).",
        ),
        col("total_chf", Money, "Total in CHF."),
        col("total_net_chf", Money, "Net amount in CHF."),
        col("updated_at", Timestamp, "Last change in bexio."),
    ],
};

/// `fact_invoice_line`.
pub const FACT_INVOICE_LINE: Table = Table {
    name: "fact_invoice_line",
    kind: Kind::Fact,
    grain: "one row per invoice position",
    source: "/2.0/kb_invoice/{id} (positions)",
    columns: &[
        req("line_key", Key, "Key of the position."),
        TENANT,
        req("invoice_key", Key, "Key of the invoice."),
        req("position_id", Id, "bexio's position id."),
        col("pos", Int, "Position number as printed."),
        req(
            "line_type",
            Text,
            "`custom`, `article`, `text`, `subtotal`, `discount`, `pagebreak` or `subposition`.",
        ),
        col("article_key", Key, "Key of the article (article lines)."),
        col("text", Text, "Line text."),
        col("quantity", Quantity, "Quantity."),
        col("unit", Text, "Unit name."),
        col("unit_price", Quantity, "Price per unit."),
        col("discount_percent", Percent, "Line discount."),
        col(
            "line_total",
            Money,
            "Line total without VAT (discounts: the discount amount, negative).",
        ),
        col("tax_key", Key, "Key of the VAT code."),
        col("tax_rate", Percent, "VAT rate."),
        col("account_key", Key, "Key of the revenue account."),
        col("line_total_chf", Money, "Line total in CHF."),
    ],
};

/// `fact_payment`.
pub const FACT_PAYMENT: Table = Table {
    name: "fact_payment",
    kind: Kind::Fact,
    grain: "one row per invoice payment",
    source: "/2.0/kb_invoice/{id}/payment",
    columns: &[
        req("payment_key", Key, "Key of the payment."),
        TENANT,
        req("payment_id", Id, "bexio's payment id."),
        req("invoice_key", Key, "Key of the invoice."),
        req("payment_date", Date, "Date."),
        req("amount", Money, "Amount in the invoice currency."),
        req("currency_code", Text, "Currency."),
        col("amount_chf", Money, "Amount in CHF."),
        col(
            "bank_account_key",
            Key,
            "Key of the bank account the money went to.",
        ),
        req(
            "is_cash_discount",
            Bool,
            "A cash discount rather than money received.",
        ),
    ],
};

/// `fact_quote`.
pub const FACT_QUOTE: Table = Table {
    name: "fact_quote",
    kind: Kind::Fact,
    grain: "one row per quote",
    source: "/2.0/kb_offer (+ search on updated_at)",
    columns: &[
        req("quote_key", Key, "Key of the quote."),
        TENANT,
        req("quote_id", Id, "bexio's quote id."),
        req("document_nr", Text, "Quote number (`AN-00001`)."),
        col("title", Text, "Title."),
        col("contact_key", Key, "Key of the client."),
        col("user_key", Key, "Key of the responsible user."),
        req("currency_code", Text, "Currency."),
        req("quote_date", Date, "Date."),
        col("valid_until", Date, "Valid until."),
        req("status_id", Int, "bexio's status id."),
        req(
            "status",
            Text,
            "`draft`, `pending`, `accepted` or `declined`.",
        ),
        req("total_net", Money, "Net amount."),
        req("total", Money, "Total, VAT included."),
        col("total_chf", Money, "Total in CHF."),
        col("updated_at", Timestamp, "Last change in bexio."),
    ],
};

/// `fact_order`.
pub const FACT_ORDER: Table = Table {
    name: "fact_order",
    kind: Kind::Fact,
    grain: "one row per order",
    source: "/2.0/kb_order (+ search on updated_at)",
    columns: &[
        req("order_key", Key, "Key of the order."),
        TENANT,
        req("order_id", Id, "bexio's order id."),
        req("document_nr", Text, "Order number (`AU-00001`)."),
        col("title", Text, "Title."),
        col("contact_key", Key, "Key of the client."),
        col("user_key", Key, "Key of the responsible user."),
        req("currency_code", Text, "Currency."),
        req("order_date", Date, "Date."),
        req("status_id", Int, "bexio's status id."),
        req(
            "status",
            Text,
            "`pending`, `done`, `partial` or `cancelled`.",
        ),
        req("total_net", Money, "Net amount."),
        req("total", Money, "Total, VAT included."),
        col("total_chf", Money, "Total in CHF."),
        col("updated_at", Timestamp, "Last change in bexio."),
    ],
};

/// `fact_timesheet`.
pub const FACT_TIMESHEET: Table = Table {
    name: "fact_timesheet",
    kind: Kind::Fact,
    grain: "one row per time entry",
    source: "/2.0/timesheet, /2.0/client_service, /2.0/timesheet_status",
    columns: &[
        req("timesheet_key", Key, "Key of the entry."),
        TENANT,
        req("timesheet_id", Id, "bexio's timesheet id."),
        req("work_date", Date, "Day worked."),
        col("user_key", Key, "Who worked."),
        col("contact_key", Key, "For which client."),
        col("project_key", Key, "On which project."),
        col(
            "activity",
            Text,
            "Business activity (bexio client service).",
        ),
        col("text", Text, "Description."),
        req("minutes", Int, "Duration in minutes."),
        req("billable", Bool, "Billable."),
        col("hourly_rate", Money, "Rate charged per hour."),
        col("status", Text, "Timesheet status name."),
    ],
};

/// `fact_journal`.
pub const FACT_JOURNAL: Table = Table {
    name: "fact_journal",
    kind: Kind::Fact,
    grain: "one row per journal booking (debit and credit account)",
    source: "/3.0/accounting/journal",
    columns: &[
        req("booking_key", Key, "Key of the booking."),
        TENANT,
        req("booking_id", Id, "bexio's journal id."),
        req("booking_date", Date, "Booking date."),
        req("debit_account_key", Key, "Key of the debit account."),
        req("credit_account_key", Key, "Key of the credit account."),
        req("amount", Money, "Amount in the booking currency."),
        req("currency_code", Text, "Booking currency."),
        req(
            "exchange_rate",
            Rate,
            "CHF per unit of the booking currency.",
        ),
        col("amount_chf", Money, "Amount in CHF."),
        col(
            "ref_class",
            Text,
            "What was booked (`KbInvoice`, `KbPayment`, `KbBill`, `ManualEntry`…).",
        ),
        col("ref_id", Id, "Id of what was booked."),
        col("description", Text, "Booking text."),
    ],
};

/// `fact_bill`.
pub const FACT_BILL: Table = Table {
    name: "fact_bill",
    kind: Kind::Fact,
    grain: "one row per supplier bill",
    source: "/4.0/purchase/bills (+ detail)",
    columns: &[
        req("bill_key", Key, "Key of the bill."),
        TENANT,
        req("bill_id", Text, "bexio's bill id (UUID)."),
        req("document_no", Text, "Bill number."),
        col("title", Text, "Title."),
        col("supplier_key", Key, "Key of the supplier contact."),
        col("vendor", Text, "Supplier name as on the bill."),
        req("bill_date", Date, "Bill date."),
        col("due_date", Date, "Due date."),
        req(
            "status",
            Text,
            "bexio's bill status (`DRAFT`, `BOOKED`, `PAID`…).",
        ),
        req("currency_code", Text, "Currency."),
        req("net", Money, "Net amount."),
        req("gross", Money, "Gross amount, VAT included."),
        req("pending", Money, "Still to pay."),
        col("gross_chf", Money, "Gross amount in CHF."),
        req("is_overdue", Bool, "Unpaid after its due date."),
        col("created_at", Timestamp, "Created in bexio."),
    ],
};

/// `fact_expense`.
pub const FACT_EXPENSE: Table = Table {
    name: "fact_expense",
    kind: Kind::Fact,
    grain: "one row per expense",
    source: "/4.0/expenses (+ detail)",
    columns: &[
        req("expense_key", Key, "Key of the expense."),
        TENANT,
        req("expense_id", Text, "bexio's expense id (UUID)."),
        req("document_no", Text, "Expense number."),
        col("title", Text, "Title."),
        col("vendor", Text, "Paid to."),
        req("paid_on", Date, "Day paid."),
        req("status", Text, "bexio's expense status."),
        req("currency_code", Text, "Currency."),
        req("net", Money, "Net amount."),
        req("gross", Money, "Gross amount, VAT included."),
        col("gross_chf", Money, "Gross amount in CHF."),
        col("account_key", Key, "Key of the expense account."),
        col("project_key", Key, "Key of the project."),
        col("created_at", Timestamp, "Created in bexio."),
    ],
};

/// `fact_manual_entry`.
pub const FACT_MANUAL_ENTRY: Table = Table {
    name: "fact_manual_entry",
    kind: Kind::Fact,
    grain: "one row per line of a manual booking (single, compound or group entry)",
    source: "/3.0/accounting/manual_entries",
    columns: &[
        req("manual_entry_line_key", Key, "Key of the line."),
        TENANT,
        req("manual_entry_line_id", Id, "bexio's id of the line."),
        req(
            "manual_entry_id",
            Id,
            "bexio's id of the manual entry (the journal's `ref_id` of class `ManualEntry`).",
        ),
        col("reference_nr", Text, "Reference number of the entry."),
        col(
            "entry_type",
            Text,
            "`manual_single_entry`, `manual_compound_entry` or `manual_group_entry`.",
        ),
        req("booking_date", Date, "Booking date."),
        col("debit_account_key", Key, "Key of the debit account."),
        col("credit_account_key", Key, "Key of the credit account."),
        col("tax_key", Key, "Key of the VAT code."),
        col(
            "tax_account_key",
            Key,
            "Key of the account the VAT is booked to.",
        ),
        req("amount", Money, "Amount in the booking currency."),
        req("currency_code", Text, "Booking currency."),
        req(
            "exchange_rate",
            Rate,
            "CHF per unit of the booking currency.",
        ),
        col("amount_chf", Money, "Amount in CHF."),
        col("description", Text, "Booking text."),
        col("is_locked", Bool, "Locked (its business year is closed)."),
        col("user_key", Key, "Key of the user who booked it."),
    ],
};

/// `fact_note`.
pub const FACT_NOTE: Table = Table {
    name: "fact_note",
    kind: Kind::Fact,
    grain: "one row per note (calls, meetings… logged on contacts and projects)",
    source: "/2.0/note",
    columns: &[
        req("note_key", Key, "Key of the note."),
        TENANT,
        req("note_id", Id, "bexio's note id."),
        req("note_date", Date, "Day of the event (Zurich time)."),
        col("event_start", Timestamp, "When the event started."),
        col("subject", Text, "Subject."),
        col("info", Text, "Text of the note."),
        col("user_key", Key, "Key of the user who wrote it."),
        col("contact_key", Key, "Key of the contact."),
        col("project_key", Key, "Key of the project."),
        col(
            "module_id",
            Int,
            "bexio module of the record it is attached to, if any.",
        ),
        col("entry_id", Id, "Id of that record within its module."),
    ],
};

/// `rejects`: records that could not be mapped, kept with the reason and the raw JSON.
pub const REJECTS: Table = Table {
    name: "rejects",
    kind: Kind::Meta,
    grain: "one row per bexio record that could not be mapped",
    source: "any route",
    columns: &[
        TENANT,
        req("table_name", Text, "The table the record was meant for."),
        req("route", Text, "The bexio route it came from."),
        col("record_id", Text, "Its id, when one could be read."),
        req(
            "reason",
            Text,
            "Why it was rejected (field, expected, found).",
        ),
        req("raw_json", Text, "The record as bexio sent it."),
    ],
};

/// `tombstones`: records that were deleted in bexio after a sync had seen them.
pub const TOMBSTONES: Table = Table {
    name: "tombstones",
    kind: Kind::Meta,
    grain: "one row per bexio record found deleted (id reconciliation); facts hold live records only",
    source: "id reconciliation of every stream",
    columns: &[
        TENANT,
        req("table_name", Text, "The table the record was in."),
        req("route", Text, "The bexio route it came from."),
        req("record_id", Text, "Its bexio id."),
        req(
            "deleted_at",
            Timestamp,
            "When a sync first found it gone (contacts: archived).",
        ),
        req("last_seen_json", Text, "The record as bexio last sent it."),
    ],
};

/// Every table, dimensions first.
pub const CATALOG: &[Table] = &[
    DIM_CONTACT,
    DIM_CONTACT_RELATION,
    DIM_ARTICLE,
    DIM_PROJECT,
    DIM_ACCOUNT,
    DIM_TAX,
    DIM_CURRENCY,
    DIM_USER,
    DIM_DATE,
    DIM_LOOKUP,
    DIM_COMPANY,
    DIM_CONTACT_ADDRESS,
    DIM_BANK_ACCOUNT,
    DIM_CALENDAR_YEAR,
    DIM_BUSINESS_YEAR,
    DIM_VAT_PERIOD,
    DIM_FILE,
    FACT_INVOICE,
    FACT_INVOICE_LINE,
    FACT_PAYMENT,
    FACT_QUOTE,
    FACT_ORDER,
    FACT_TIMESHEET,
    FACT_JOURNAL,
    FACT_BILL,
    FACT_EXPENSE,
    FACT_MANUAL_ENTRY,
    FACT_NOTE,
    REJECTS,
    TOMBSTONES,
];

/// The table with this name.
pub fn table(name: &str) -> Option<&'static Table> {
    CATALOG.iter().find(|t| t.name == name)
}

/// The table and key column a `*_key` column refers to (`supplier_key` → `dim_contact.contact_key`),
/// for the key columns of facts and dimensions after their own key.
pub fn references(t: &Table) -> Vec<(&'static str, &'static Table, &'static str)> {
    if t.kind == Kind::Meta {
        return Vec::new();
    }
    t.columns
        .iter()
        .skip(1)
        .filter(|c| c.ty == ColumnType::Key)
        .filter_map(|c| {
            let target = match c.name {
                "contact_person_key" | "supplier_key" => "contact_key",
                "debit_account_key" | "credit_account_key" | "tax_account_key" => "account_key",
                other => other,
            };
            CATALOG
                .iter()
                .find(|o| o.kind != Kind::Meta && o.columns[0].name == target)
                .map(|o| (c.name, o, target))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_table_is_well_formed() {
        let mut names = HashSet::new();
        for t in CATALOG {
            assert!(names.insert(t.name), "{} twice", t.name);
            let mut cols = HashSet::new();
            for c in t.columns {
                assert!(cols.insert(c.name), "{}.{} twice", t.name, c.name);
                assert!(!c.doc.is_empty(), "{}.{} undocumented", t.name, c.name);
            }
            assert!(
                t.column("tenant").is_some_and(|c| c.required),
                "{} lacks tenant",
                t.name
            );
            if t.kind != Kind::Meta {
                let first = t.columns[0];
                assert!(
                    first.ty == ColumnType::Key && first.required,
                    "{}: the key comes first",
                    t.name
                );
            }
            assert_eq!(t.schema().fields().len(), t.columns.len());
        }
    }

    /// Every `*_key` column of a fact refers to a dimension that has that key.
    #[test]
    fn foreign_keys_point_at_dimensions() {
        for t in CATALOG.iter().filter(|t| t.kind != Kind::Meta) {
            let refs = references(t);
            for c in t.columns.iter().skip(1).filter(|c| c.ty == ColumnType::Key) {
                let r = refs.iter().find(|r| r.0 == c.name);
                assert!(r.is_some(), "{}.{} refers to nothing", t.name, c.name);
                let (_, target, column) = r.expect("checked");
                assert_ne!(target.kind, Kind::Meta);
                assert_eq!(target.columns[0].name, *column);
            }
        }
        let f = table("fact_invoice").expect("fact_invoice");
        assert!(references(f).iter().any(|(c, t, k)| *c == "contact_key"
            && t.name == "dim_contact"
            && *k == "contact_key"));
    }
}
