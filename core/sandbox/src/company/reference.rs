//! The reference data every bexio company has: lookups, the Swiss chart of accounts (KMU
//! Kontenrahmen), Swiss VAT codes before and after the 2024 rate change, currencies, document
//! settings. Ids follow what real accounts show where the recordings tell (taxes 14–28, languages
//! 1–8, payment types 1–7, countries).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::swiss::UNITS;
use crate::model::accounting::{Account, AccountGroup, Currency, Tax};
use crate::model::contacts::{Country, Language};
use crate::model::sales::DocumentSetting;
use crate::model::wire::uuid_for;
use crate::model::{Named, Table};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// `/2.0/country`: Switzerland first (id 1), as in every bexio company.
pub fn countries() -> Table<Country> {
    let rows: &[(&str, &str, &str)] = &[
        ("Schweiz", "CH", "CH"),
        ("Deutschland", "D", "DE"),
        ("Österreich", "A", "AT"),
        ("Frankreich", "F", "FR"),
        ("Italien", "I", "IT"),
        ("Liechtenstein", "FL", "LI"),
        ("Vereinigtes Königreich", "GB", "GB"),
        ("Niederlande", "NL", "NL"),
        ("Belgien", "B", "BE"),
        ("Luxemburg", "L", "LU"),
        ("Spanien", "ES", "ES"),
        ("Portugal", "P", "PT"),
        ("USA", "USA", "US"),
    ];
    let mut t = Table::default();
    for (i, (name, short, iso)) in rows.iter().enumerate() {
        t.insert(Country {
            id: i as u64 + 1,
            name: (*name).into(),
            name_short: (*short).into(),
            iso_3166_alpha2: (*iso).into(),
        });
    }
    t
}

/// Country id of Switzerland.
pub const SWITZERLAND: u64 = 1;
/// Country id of Germany.
pub const GERMANY: u64 = 2;

/// `/2.0/language`, as recorded.
pub fn languages() -> Table<Language> {
    let rows = [
        ("Deutsch", "de"),
        ("Französisch", "fr"),
        ("Italienisch", "it"),
        ("Englisch", "en"),
        ("Portugiesisch", "pt"),
        ("Chinesisch", "zh"),
        ("Japanisch", "ja"),
        ("Spanisch", "es"),
    ];
    let mut t = Table::default();
    for (i, (name, iso)) in rows.iter().enumerate() {
        t.insert(Language {
            id: i as u64 + 1,
            name: (*name).into(),
            decimal_point: ".".into(),
            thousands_separator: "'".into(),
            date_format_id: 1,
            date_format: "d.m.Y".into(),
            iso_639_1: (*iso).into(),
        });
    }
    t
}

/// A `{id, name}` table from names, ids from 1.
pub fn named(names: &[&str]) -> Table<Named> {
    let mut t = Table::default();
    for (i, n) in names.iter().enumerate() {
        t.insert(Named {
            id: i as u64 + 1,
            name: (*n).into(),
        });
    }
    t
}

/// `/2.0/salutation`.
pub fn salutations() -> Table<Named> {
    named(&[
        "Herr",
        "Frau",
        "Familie",
        "Herr & Frau",
        "Madame",
        "Monsieur",
        "Signora",
        "Signor",
    ])
}
/// `/2.0/title`.
pub fn titles() -> Table<Named> {
    named(&["Dr.", "Prof.", "Dr. med.", "lic. iur."])
}
/// `/2.0/payment_type`, as recorded.
pub fn payment_types() -> Table<Named> {
    named(&[
        "Vorauszahlung",
        "Barzahlung",
        "EC Karte",
        "Rechnung",
        "Nachnahme",
        "Kreditkarte",
        "Bankeinzug/LSV",
    ])
}
/// `/2.0/unit`.
pub fn units() -> Table<Named> {
    named(UNITS)
}
/// `/2.0/contact_group`.
pub fn contact_groups() -> Table<Named> {
    named(&["Kunden", "Lieferanten", "Partner", "Interessenten", "VIP"])
}
/// Contact group id of customers.
pub const GROUP_CUSTOMERS: u64 = 1;
/// Contact group id of suppliers.
pub const GROUP_SUPPLIERS: u64 = 2;
/// `/2.0/contact_branch` (sectors).
pub fn contact_branches() -> Table<Named> {
    named(&[
        "Treuhand",
        "Architektur",
        "Gastronomie",
        "Baugewerbe",
        "Gesundheitswesen",
        "Detailhandel",
        "Immobilien",
        "Informatik",
        "Industrie",
        "Öffentliche Verwaltung",
    ])
}
/// `/2.0/pr_project_state`.
pub fn project_states() -> Table<Named> {
    named(&["Offen", "Aktiv", "Archiviert"])
}
/// `/2.0/pr_project_type`.
pub fn project_types() -> Table<Named> {
    named(&["Kundenprojekt", "Internes Projekt"])
}
/// `/2.0/timesheet_status`.
pub fn timesheet_statuses() -> Table<Named> {
    named(&["Offen", "In Bearbeitung", "Erledigt", "Verrechnet"])
}

/// One account of the chart: number, name, bexio account type, group number.
const CHART: &[(&str, &str, u32, &str)] = &[
    ("1000", "Kasse", 3, "100"),
    ("1020", "Bank CHF", 3, "100"),
    ("1021", "Bank EUR", 3, "100"),
    (
        "1100",
        "Forderungen aus Lieferungen und Leistungen",
        3,
        "110",
    ),
    ("1170", "Vorsteuer Material, Waren, DL - Kl. 4", 3, "117"),
    (
        "1171",
        "Vorsteuer Inv., übr. Betriebsaufwand Kl. 5-8",
        3,
        "117",
    ),
    ("1200", "Handelswaren", 3, "120"),
    ("1300", "Aktive Rechnungsabgrenzung", 3, "130"),
    ("1510", "Mobiliar und Einrichtungen", 3, "150"),
    ("1520", "Büromaschinen, Informatik", 3, "150"),
    (
        "2000",
        "Verbindlichkeiten aus Lieferungen und Leistungen",
        4,
        "200",
    ),
    ("2030", "Erhaltene Anzahlungen von Dritten", 4, "200"),
    (
        "2200",
        "Geschuldete Mehrwertsteuer (Umsatzsteuer)",
        4,
        "220",
    ),
    ("2201", "Abrechnungskonto MWST", 4, "220"),
    ("2270", "Sozialversicherungen", 4, "220"),
    ("2300", "Passive Rechnungsabgrenzung", 4, "230"),
    ("2800", "Aktienkapital", 4, "280"),
    ("2970", "Gewinnvortrag", 4, "290"),
    ("3200", "Handelserlös", 1, "320"),
    ("3400", "Dienstleistungserlös", 1, "340"),
    ("3600", "Übrige Erlöse", 1, "360"),
    ("3800", "Skonti", 1, "380"),
    ("3805", "Verluste aus Forderungen", 1, "380"),
    ("4200", "Einkauf Handelsware", 2, "420"),
    ("4400", "Aufwand für bezogene Dienstleistungen", 2, "440"),
    ("5000", "Lohnaufwand", 2, "500"),
    ("5700", "Sozialversicherungsaufwand", 2, "570"),
    ("5800", "Übriger Personalaufwand", 2, "580"),
    ("5820", "Reisespesen", 2, "580"),
    ("6000", "Raumaufwand (Miete)", 2, "600"),
    ("6100", "Unterhalt und Reparaturen", 2, "610"),
    ("6200", "Fahrzeugaufwand", 2, "620"),
    ("6300", "Sachversicherungen, Abgaben, Gebühren", 2, "630"),
    ("6400", "Energie und Entsorgung", 2, "640"),
    ("6500", "Verwaltungsaufwand", 2, "650"),
    ("6510", "Telefon, Internet, Porti", 2, "650"),
    ("6570", "Informatikaufwand inkl. Leasing", 2, "650"),
    ("6600", "Werbeaufwand", 2, "660"),
    ("6700", "Übriger betrieblicher Aufwand", 2, "670"),
    ("6800", "Abschreibungen", 2, "680"),
    ("6900", "Finanzaufwand", 2, "690"),
    ("6945", "Rundungsdifferenz", 2, "690"),
    ("6949", "Währungsverluste", 2, "690"),
    ("6999", "Währungsgewinne", 1, "690"),
    ("9100", "Eröffnungsbilanz", 5, "9"),
    ("9200", "Jahresgewinn oder Jahresverlust", 5, "9"),
];

/// Account groups: number, name, parent number.
const GROUPS: &[(&str, &str, Option<&str>)] = &[
    ("1", "Aktiven", None),
    ("10", "Umlaufvermögen", Some("1")),
    ("100", "Flüssige Mittel", Some("10")),
    (
        "110",
        "Forderungen aus Lieferungen und Leistungen",
        Some("10"),
    ),
    ("117", "Forderungen staatlichen Stellen", Some("10")),
    ("120", "Vorräte", Some("10")),
    ("130", "Aktive Rechnungsabgrenzungen", Some("10")),
    ("14", "Anlagevermögen", Some("1")),
    ("150", "Mobile Sachanlagen", Some("14")),
    ("2", "Passiven", None),
    ("20", "Kurzfristiges Fremdkapital", Some("2")),
    (
        "200",
        "Verbindlichkeiten aus Lieferungen und Leistungen",
        Some("20"),
    ),
    ("220", "Übrige kurzfristige Verbindlichkeiten", Some("20")),
    ("230", "Passive Rechnungsabgrenzungen", Some("20")),
    ("28", "Eigenkapital", Some("2")),
    ("280", "Grundkapital", Some("28")),
    ("290", "Reserven, Gewinnvortrag", Some("28")),
    ("3", "Betrieblicher Ertrag", None),
    ("320", "Handelserlös", Some("3")),
    ("340", "Dienstleistungserlös", Some("3")),
    ("360", "Übrige Erlöse", Some("3")),
    ("380", "Erlösminderungen", Some("3")),
    (
        "4",
        "Aufwand für Material, Waren und Dienstleistungen",
        None,
    ),
    ("420", "Handelswarenaufwand", Some("4")),
    ("440", "Aufwand für bezogene Dienstleistungen", Some("4")),
    ("5", "Personalaufwand", None),
    ("500", "Lohnaufwand", Some("5")),
    ("570", "Sozialversicherungsaufwand", Some("5")),
    ("580", "Übriger Personalaufwand", Some("5")),
    ("6", "Übriger betrieblicher Aufwand", None),
    ("600", "Raumaufwand", Some("6")),
    ("610", "Unterhalt, Reparaturen, Ersatz", Some("6")),
    ("620", "Fahrzeugaufwand", Some("6")),
    ("630", "Sachversicherungen, Abgaben", Some("6")),
    ("640", "Energie und Entsorgung", Some("6")),
    ("650", "Verwaltungs- und Informatikaufwand", Some("6")),
    ("660", "Werbeaufwand", Some("6")),
    ("670", "Sonstiger betrieblicher Aufwand", Some("6")),
    ("680", "Abschreibungen", Some("6")),
    ("690", "Finanzaufwand und Finanzertrag", Some("6")),
    ("9", "Abschluss", None),
];

/// First id of account groups and accounts (real companies start well above 1).
const GROUP_BASE: u64 = 39;
const ACCOUNT_BASE: u64 = 89;

/// The chart of accounts and its groups.
pub fn chart(seed: u64) -> (Table<AccountGroup>, Table<Account>) {
    let mut groups = Table::default();
    let group_id = |no: &str| {
        GROUPS
            .iter()
            .position(|g| g.0 == no)
            .map(|i| GROUP_BASE + i as u64)
    };
    for (i, (no, name, parent)) in GROUPS.iter().enumerate() {
        let id = GROUP_BASE + i as u64;
        groups.insert(AccountGroup {
            id,
            uuid: uuid_for(seed ^ 0xA11, id).to_string(),
            account_no: (*no).into(),
            name: (*name).into(),
            parent_fibu_account_group_id: parent.and_then(group_id),
            is_active: true,
            is_locked: no.len() <= 2,
        });
    }
    let mut accounts = Table::default();
    for (i, (no, name, kind, group)) in CHART.iter().enumerate() {
        let id = ACCOUNT_BASE + i as u64;
        accounts.insert(Account {
            id,
            uuid: uuid_for(seed ^ 0xACC, id).to_string(),
            account_no: (*no).into(),
            name: (*name).into(),
            account_type: *kind,
            tax_id: None,
            fibu_account_group_id: group_id(group).unwrap_or(GROUP_BASE),
            is_active: true,
            is_locked: matches!(*kind, 5),
        });
    }
    (groups, accounts)
}

/// The id of the account with this number.
pub fn account_id(no: &str) -> u64 {
    CHART
        .iter()
        .position(|a| a.0 == no)
        .map_or(ACCOUNT_BASE, |i| ACCOUNT_BASE + i as u64)
}

/// One VAT code: id, code, digit, type, rate, account no, active, from year, to year, label.
type TaxRow = (
    u64,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<i32>,
    Option<i32>,
    &'static str,
);

const TAXES: &[TaxRow] = &[
    (
        1,
        "UN77",
        "302",
        "sales_tax",
        "7.7",
        "2200",
        Some(2018),
        Some(2023),
        "Revenue (NS)",
    ),
    (
        2,
        "UR25",
        "312",
        "sales_tax",
        "2.5",
        "2200",
        Some(2018),
        Some(2023),
        "Revenue (RS)",
    ),
    (
        3,
        "US37",
        "342",
        "sales_tax",
        "3.7",
        "2200",
        Some(2018),
        Some(2023),
        "Revenue (SS)",
    ),
    (
        4,
        "ULA",
        "221",
        "not_taxable_turnover",
        "0",
        "2200",
        None,
        None,
        "Leistungen im Ausland",
    ),
    (
        6,
        "UNO",
        "230",
        "not_taxable_turnover",
        "0",
        "2200",
        None,
        None,
        "Exempt revenue ",
    ),
    (
        7,
        "V00",
        "000",
        "pre_tax_investment",
        "0",
        "1171",
        None,
        None,
        "No VAT",
    ),
    (
        8,
        "U00",
        "000",
        "sales_tax",
        "0",
        "2200",
        None,
        None,
        "No VAT",
    ),
    (
        14,
        "UN81",
        "303",
        "sales_tax",
        "8.1",
        "2200",
        Some(2024),
        None,
        "Revenue (NS)",
    ),
    (
        15,
        "UR26",
        "313",
        "sales_tax",
        "2.6",
        "2200",
        Some(2024),
        None,
        "Revenue (RS)",
    ),
    (
        16,
        "US38",
        "343",
        "sales_tax",
        "3.8",
        "2200",
        Some(2024),
        None,
        "Revenue (SS)",
    ),
    (
        20,
        "VM26",
        "400",
        "pre_tax_material",
        "2.6",
        "1170",
        Some(2024),
        None,
        "Mat/SV (RS)",
    ),
    (
        21,
        "VM81",
        "400",
        "pre_tax_material",
        "8.1",
        "1170",
        Some(2024),
        None,
        "Mat/SV (NS)",
    ),
    (
        23,
        "VB26",
        "405",
        "pre_tax_investment",
        "2.6",
        "1171",
        Some(2024),
        None,
        "Inv/BA (RS)",
    ),
    (
        24,
        "VB81",
        "405",
        "pre_tax_investment",
        "8.1",
        "1171",
        Some(2024),
        None,
        "Inv/BA (NS)",
    ),
    (
        29,
        "VM77",
        "400",
        "pre_tax_material",
        "7.7",
        "1170",
        Some(2018),
        Some(2023),
        "Mat/SV (NS)",
    ),
    (
        30,
        "VM25",
        "400",
        "pre_tax_material",
        "2.5",
        "1170",
        Some(2018),
        Some(2023),
        "Mat/SV (RS)",
    ),
    (
        31,
        "VB77",
        "405",
        "pre_tax_investment",
        "7.7",
        "1171",
        Some(2018),
        Some(2023),
        "Inv/BA (NS)",
    ),
];

/// `/3.0/taxes`: the Swiss VAT codes. Codes ending their validity in 2023 are inactive from 2024.
pub fn taxes(seed: u64) -> Table<Tax> {
    let mut t = Table::default();
    for &(id, code, digit, kind, rate, account, from, to, label) in TAXES {
        let value = dec(rate);
        t.insert(Tax {
            id,
            uuid: uuid_for(seed ^ 0x7A4, id).to_string(),
            name: format!("lib.model.tax.ch.{}.name", code.to_lowercase()),
            code: code.into(),
            digit: digit.into(),
            kind: kind.into(),
            account_id: account_id(account),
            tax_settlement_type: "none".into(),
            value,
            net_tax_value: None,
            start_year: from,
            end_year: to,
            // Inactive: codes replaced in 2024, and "no VAT" on sales (as bexio ships it).
            is_active: to.is_none() && code != "U00",
            display_name: format!("{code} - {label} {value:.2}%"),
            start_month: from.map(|_| 1),
            end_month: to.map(|_| 12),
        });
    }
    t
}

/// Sales tax id for a VAT class at a date: `(tax_id, rate)`.
pub fn sales_tax(class: super::swiss::VatClass, date: NaiveDate) -> (u64, Decimal) {
    use super::swiss::VatClass::*;
    let new = date >= NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let (id, rate) = match (class, new) {
        (Standard, true) => (14, "8.1"),
        (Reduced, true) => (15, "2.6"),
        (Accommodation, true) => (16, "3.8"),
        (Standard, false) => (1, "7.7"),
        (Reduced, false) => (2, "2.5"),
        (Accommodation, false) => (3, "3.7"),
    };
    (id, dec(rate))
}

/// Input tax (pre-tax on purchases) id at a date: `(tax_id, rate)`.
pub fn input_tax(reduced: bool, date: NaiveDate) -> (u64, Decimal) {
    let new = date >= NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    match (reduced, new) {
        (false, true) => (21, dec("8.1")),
        (true, true) => (20, dec("2.6")),
        (false, false) => (29, dec("7.7")),
        (true, false) => (30, dec("2.5")),
    }
}

/// `/3.0/currencies`: CHF (rounded to 5 Rappen) and the usual foreign currencies.
pub fn currencies() -> Table<Currency> {
    let mut t = Table::default();
    for (i, (name, rf)) in [
        ("CHF", "0.05"),
        ("EUR", "0.01"),
        ("USD", "0.01"),
        ("GBP", "0.01"),
    ]
    .iter()
    .enumerate()
    {
        t.insert(Currency {
            id: i as u64 + 1,
            name: (*name).into(),
            round_factor: dec(rf),
        });
    }
    t
}
/// Currency id of CHF.
pub const CHF: u64 = 1;
/// Currency id of EUR.
pub const EUR: u64 = 2;

/// ISO 4217 codes offered by `/3.0/currencies/codes`.
pub const CURRENCY_CODES: &[&str] = &[
    "AED", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF",
    "ILS", "INR", "JPY", "KRW", "MXN", "NOK", "NZD", "PLN", "RON", "SEK", "SGD", "THB", "TRY",
    "USD", "ZAR",
];

/// `/2.0/kb_item_setting`, as recorded for a Swiss company.
pub fn document_settings() -> Table<DocumentSetting> {
    let rows: &[(u64, &str, &str, &str)] = &[
        (1, "Angebot", "KbOffer", "AN-%nummer%"),
        (2, "Auftrag", "KbOrder", "AU-%nummer%"),
        (3, "Rechnung", "KbInvoice", "RE-%nummer%"),
        (4, "Lieferung", "KbDelivery", "LS-%nummer%"),
        (5, "Gutschrift", "KbCreditVoucher", "GS-%nummer%"),
        (6, "Kontoauszug", "KbAccountStatement", "KA-%nummer%"),
        (10, "Bestellung", "KbArticleOrder", "%nummer%"),
    ];
    let mut t = Table::default();
    for &(id, text, class, format) in rows {
        t.insert(DocumentSetting {
            id,
            text: text.into(),
            kb_item_class: class.into(),
            enumeration_format: Some(format.into()),
            use_automatic_enumeration: true,
            use_yearly_enumeration: false,
            next_nr: 1,
            nr_min_length: 5,
            default_time_period_in_days: if class == "KbInvoice" { 30 } else { 14 },
            default_logopaper_id: 1,
            default_language_id: 1,
            default_client_bank_account_new_id: 1,
            default_currency_id: CHF,
            default_mwst_type: 0,
            default_mwst_is_net: true,
            default_nb_decimals_amount: 2,
            default_nb_decimals_price: 2,
            default_show_position_taxes: false,
            default_title: text.into(),
            default_show_esr_on_same_page: false,
            default_payment_type_id: 4,
            kb_terms_of_payment_template_id: 1,
            default_show_total: true,
        });
    }
    t
}
