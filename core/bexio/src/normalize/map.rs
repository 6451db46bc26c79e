//! One bexio record to rows of the star schema. Lookups teach the [`Context`] (records after
//! them use their names and codes) and are rows of `dim_lookup`.

use bexio_bi_model::catalog::{
    DIM_ACCOUNT, DIM_ARTICLE, DIM_BANK_ACCOUNT, DIM_BUSINESS_YEAR, DIM_CALENDAR_YEAR, DIM_COMPANY,
    DIM_CONTACT, DIM_CONTACT_ADDRESS, DIM_CONTACT_RELATION, DIM_CURRENCY, DIM_FILE, DIM_LOOKUP,
    DIM_PROJECT, DIM_TAX, DIM_USER, DIM_VAT_PERIOD, FACT_BILL, FACT_EXPENSE, FACT_INVOICE,
    FACT_INVOICE_LINE, FACT_JOURNAL, FACT_MANUAL_ENTRY, FACT_NOTE, FACT_ORDER, FACT_PAYMENT,
    FACT_QUOTE, FACT_TIMESHEET, Table,
};
use bexio_bi_model::date::BusinessYear;
use bexio_bi_model::keys::key;
use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::builder::Cell;
use super::fields::{FieldError, Rec};
use super::{Context, Resource};

/// Rows of one record, table by table.
pub type Rows = Vec<(&'static Table, Vec<Cell>)>;

/// The table a resource mainly feeds (for rejects).
pub fn table_of(resource: &Resource) -> &'static str {
    match resource {
        Resource::Contacts | Resource::ArchivedContacts => DIM_CONTACT.name,
        Resource::ContactRelations => DIM_CONTACT_RELATION.name,
        Resource::Projects => DIM_PROJECT.name,
        Resource::Timesheets => FACT_TIMESHEET.name,
        Resource::Journal => FACT_JOURNAL.name,
        Resource::Bills => FACT_BILL.name,
        Resource::Expenses => FACT_EXPENSE.name,
        Resource::Articles => DIM_ARTICLE.name,
        Resource::Currencies => DIM_CURRENCY.name,
        Resource::Taxes => DIM_TAX.name,
        Resource::Accounts => DIM_ACCOUNT.name,
        Resource::Users => DIM_USER.name,
        Resource::Invoices => FACT_INVOICE.name,
        Resource::InvoiceDetail | Resource::InvoiceLines => FACT_INVOICE_LINE.name,
        Resource::InvoicePayments(_) => FACT_PAYMENT.name,
        Resource::Quotes => FACT_QUOTE.name,
        Resource::Orders => FACT_ORDER.name,
        Resource::Countries
        | Resource::Languages
        | Resource::ContactGroups
        | Resource::ContactBranches
        | Resource::Units
        | Resource::AccountGroups
        | Resource::ProjectStates
        | Resource::ProjectTypes
        | Resource::ClientServices
        | Resource::TimesheetStatuses
        | Resource::Salutations
        | Resource::Titles
        | Resource::PaymentTypes
        | Resource::DocumentSettings => DIM_LOOKUP.name,
        Resource::BusinessYears => DIM_BUSINESS_YEAR.name,
        Resource::CompanyProfile => DIM_COMPANY.name,
        Resource::AdditionalAddresses(_) => DIM_CONTACT_ADDRESS.name,
        Resource::Notes => FACT_NOTE.name,
        Resource::CalendarYears => DIM_CALENDAR_YEAR.name,
        Resource::VatPeriods => DIM_VAT_PERIOD.name,
        Resource::ManualEntries => FACT_MANUAL_ENTRY.name,
        Resource::BankAccounts => DIM_BANK_ACCOUNT.name,
        Resource::Files => DIM_FILE.name,
        _ => "context",
    }
}

/// The ISO code of a record's `country_id`.
fn country(ctx: &Context, r: &Rec<'_>) -> Result<Cell, FieldError> {
    Ok(r.int("country_id")?
        .and_then(|c| ctx.countries.get(&c).cloned())
        .into())
}

/// The main phone number: the fixed line, else the mobile.
fn phone(r: &Rec<'_>) -> Result<Cell, FieldError> {
    Ok(r.text_nonempty("phone_fixed")?
        .or(r.text_nonempty("phone_mobile")?)
        .into())
}

fn opt_key(tenant: &str, id: Option<i64>) -> Cell {
    id.map_or(Cell::Null, |id| Cell::Text(key(tenant, id)))
}

fn micros(v: Option<i64>) -> Cell {
    v.map_or(Cell::Null, Cell::Micros)
}

fn opt_bool(v: Option<bool>) -> Cell {
    v.map_or(Cell::Null, Cell::Bool)
}

fn chf(amount: Decimal, rate: Option<Decimal>) -> Cell {
    rate.map_or(Cell::Null, |r| {
        // An amount too large to convert stays unconverted rather than overflowing.
        amount.checked_mul(r).map_or(Cell::Null, |v| {
            Cell::Dec(v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
        })
    })
}

/// Rounds a rate to the 8 decimals the schema keeps.
fn rate_cell(rate: Option<Decimal>) -> Cell {
    rate.map_or(Cell::Null, |r| {
        Cell::Dec(r.round_dp_with_strategy(8, RoundingStrategy::MidpointAwayFromZero))
    })
}

fn invoice_status(id: i64) -> &'static str {
    match id {
        7 => "draft",
        8 => "pending",
        9 => "paid",
        16 => "partial",
        19 => "cancelled",
        31 => "unpaid",
        _ => "other",
    }
}

fn quote_status(id: i64) -> &'static str {
    match id {
        1 => "draft",
        2 => "pending",
        3 => "accepted",
        4 => "declined",
        _ => "other",
    }
}

fn order_status(id: i64) -> &'static str {
    match id {
        5 => "pending",
        6 => "done",
        15 => "partial",
        21 => "cancelled",
        _ => "other",
    }
}

fn names(ids: Option<String>, lookup: &std::collections::HashMap<i64, String>) -> Option<String> {
    let ids = ids?;
    let list: Vec<String> = ids
        .split(',')
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .map(|id| lookup.get(&id).cloned().unwrap_or_else(|| id.to_string()))
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

/// Maps one record of `resource`.
pub fn record(
    ctx: &mut Context,
    tenant: &str,
    resource: &Resource,
    r: &Rec<'_>,
) -> Result<Rows, FieldError> {
    let t = tenant;
    Ok(match resource {
        Resource::Countries => {
            let id = r.req_int("id")?;
            let code = r.text_nonempty("iso_3166_alpha2")?;
            if let Some(code) = &code {
                ctx.countries.insert(id, code.clone());
            }
            let name = r.text_nonempty("name")?.or(code.clone());
            lookup_row(t, "country", id, name, code)
        }
        Resource::Languages => {
            let id = r.req_int("id")?;
            let code = r.text_nonempty("iso_639_1")?;
            if let Some(code) = &code {
                ctx.languages.insert(id, code.clone());
            }
            let name = r.text_nonempty("name")?.or(code.clone());
            lookup_row(t, "language", id, name, code)
        }
        Resource::ContactGroups => lookup(&mut ctx.contact_groups, t, "contact_group", r)?,
        Resource::ContactBranches => lookup(&mut ctx.contact_branches, t, "contact_branch", r)?,
        Resource::Units => lookup(&mut ctx.units, t, "unit", r)?,
        Resource::AccountGroups => {
            let id = r.req_int("id")?;
            let no = r.text("account_no")?;
            let name = r.text("name")?;
            ctx.account_groups.insert(
                id,
                (
                    no.clone().unwrap_or_default(),
                    name.clone().unwrap_or_default(),
                ),
            );
            let no = no.filter(|n| !n.trim().is_empty());
            let name = name.filter(|n| !n.trim().is_empty()).or(no.clone());
            lookup_row(t, "account_group", id, name, no)
        }
        Resource::Salutations => lookup_row(
            t,
            "salutation",
            r.req_int("id")?,
            r.text_nonempty("name")?,
            None,
        ),
        Resource::Titles => {
            lookup_row(t, "title", r.req_int("id")?, r.text_nonempty("name")?, None)
        }
        Resource::PaymentTypes => lookup_row(
            t,
            "payment_type",
            r.req_int("id")?,
            r.text_nonempty("name")?,
            None,
        ),
        Resource::DocumentSettings => lookup_row(
            t,
            "document_setting",
            r.req_int("id")?,
            r.text_nonempty("text")?,
            r.text_nonempty("kb_item_class")?,
        ),
        Resource::ExchangeRates(code) => {
            // Rows give the rate against other currencies; the one against CHF is what we keep.
            let against = r
                .obj("exchange_currency")
                .map(|c| c.text("name"))
                .transpose()?
                .flatten();
            if against.as_deref() == Some("CHF") {
                let day = r.req_date("exchange_rate_date")?;
                let factor = match r.dec("factor_nr_to_ratio")? {
                    Some(f) => f,
                    None => r
                        .req_dec("factor_nr")?
                        .checked_div(r.dec("ratio")?.unwrap_or(Decimal::ONE))
                        .ok_or_else(|| FieldError {
                            field: "ratio".into(),
                            expected: "a non-zero ratio",
                            found: "0".into(),
                        })?,
                };
                ctx.rates.insert((code.clone(), day), factor);
            }
            Vec::new()
        }
        Resource::Currencies => {
            let id = r.req_int("id")?;
            let code = r.req_text("name")?;
            ctx.currencies.insert(id, code.clone());
            vec![(
                &DIM_CURRENCY,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    code.into(),
                    r.req_dec("round_factor")?.into(),
                ],
            )]
        }
        Resource::Taxes => {
            let id = r.req_int("id")?;
            vec![(
                &DIM_TAX,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    r.req_text("code")?.into(),
                    r.text_nonempty("display_name")?.into(),
                    r.req_text("type")?.into(),
                    r.req_dec("value")?.into(),
                    r.int("start_year")?.into(),
                    r.int("end_year")?.into(),
                    r.bool("is_active")?.unwrap_or(false).into(),
                ],
            )]
        }
        Resource::Accounts => {
            let id = r.req_int("id")?;
            let kind = match r.req_int("account_type")? {
                1 => "income",
                2 => "expense",
                3 => "asset",
                4 => "liability",
                5 => "closing",
                _ => "other",
            };
            let group = r
                .int("fibu_account_group_id")?
                .and_then(|g| ctx.account_groups.get(&g).cloned());
            vec![(
                &DIM_ACCOUNT,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    r.req_text("account_no")?.into(),
                    r.req_text("name")?.into(),
                    kind.into(),
                    group.as_ref().map(|g| g.0.clone()).into(),
                    group.map(|g| g.1).into(),
                    r.bool("is_active")?.unwrap_or(true).into(),
                ],
            )]
        }
        Resource::Users => {
            let id = r.req_int("id")?;
            vec![(
                &DIM_USER,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    r.text_nonempty("firstname")?.into(),
                    r.text_nonempty("lastname")?.into(),
                    r.text_nonempty("email")?.into(),
                    r.bool("is_superadmin")?.unwrap_or(false).into(),
                ],
            )]
        }
        Resource::Contacts => vec![(&DIM_CONTACT, contact(ctx, t, r, false)?)],
        Resource::ArchivedContacts => vec![(&DIM_CONTACT, contact(ctx, t, r, true)?)],
        Resource::ProjectStates => lookup(&mut ctx.project_states, t, "project_state", r)?,
        Resource::ProjectTypes => lookup(&mut ctx.project_types, t, "project_type", r)?,
        Resource::ClientServices => lookup(&mut ctx.client_services, t, "business_activity", r)?,
        Resource::TimesheetStatuses => {
            lookup(&mut ctx.timesheet_statuses, t, "timesheet_status", r)?
        }
        Resource::BusinessYears => {
            let id = r.req_int("id")?;
            let (start, end) = (r.req_date("start")?, r.req_date("end")?);
            ctx.business_years.push(BusinessYear { start, end });
            vec![(
                &DIM_BUSINESS_YEAR,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    start.into(),
                    end.into(),
                    r.text_nonempty("status")?.into(),
                    r.date("closed_at")?.into(),
                ],
            )]
        }
        Resource::CompanyProfile => vec![(&DIM_COMPANY, company(ctx, t, r)?)],
        Resource::AdditionalAddresses(contact_id) => {
            vec![(&DIM_CONTACT_ADDRESS, address(ctx, t, *contact_id, r)?)]
        }
        Resource::Notes => vec![(&FACT_NOTE, note(ctx, t, r)?)],
        Resource::CalendarYears => {
            let id = r.req_int("id")?;
            let start = r.req_date("start")?;
            vec![(
                &DIM_CALENDAR_YEAR,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    i64::from(start.year()).into(),
                    start.into(),
                    r.req_date("end")?.into(),
                    r.bool("is_vat_subject")?.unwrap_or(false).into(),
                    r.text_nonempty("vat_accounting_method")?.into(),
                    r.text_nonempty("vat_accounting_type")?.into(),
                    opt_bool(r.bool("is_annual_reporting")?),
                    micros(r.micros("updated_at")?),
                ],
            )]
        }
        Resource::VatPeriods => {
            let id = r.req_int("id")?;
            vec![(
                &DIM_VAT_PERIOD,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    r.req_date("start")?.into(),
                    r.req_date("end")?.into(),
                    r.text_nonempty("type")?.into(),
                    r.text_nonempty("status")?.into(),
                    r.date("closed_at")?.into(),
                ],
            )]
        }
        Resource::ManualEntries => manual_entry(ctx, t, r)?
            .into_iter()
            .map(|row| (&FACT_MANUAL_ENTRY, row))
            .collect(),
        Resource::BankAccounts => {
            let id = r.req_int("id")?;
            vec![(
                &DIM_BANK_ACCOUNT,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    r.text_nonempty("name")?
                        .unwrap_or_else(|| format!("#{id}"))
                        .into(),
                    r.text_nonempty("type")?.into(),
                    r.text_nonempty("bank_name")?.into(),
                    r.text_nonempty("iban_nr")?.into(),
                    r.text_nonempty("qr_invoice_iban")?.into(),
                    r.text_nonempty("bank_nr")?.into(),
                    r.text_nonempty("owner")?.into(),
                    r.int("currency_id")?.and_then(|c| ctx.currency(c)).into(),
                    opt_key(t, r.int("account_id")?),
                ],
            )]
        }
        Resource::Files => {
            let id = r.req_int("id")?;
            vec![(
                &DIM_FILE,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    r.text_nonempty("uuid")?.into(),
                    r.text_nonempty("name")?
                        .unwrap_or_else(|| format!("#{id}"))
                        .into(),
                    r.text_nonempty("extension")?.into(),
                    r.text_nonempty("mime_type")?.into(),
                    r.int("size_in_bytes")?.into(),
                    opt_key(t, r.int("user_id")?),
                    r.text_nonempty("uploader_email")?.into(),
                    r.text_nonempty("source_type")?.into(),
                    r.text_nonempty("processing_status")?.into(),
                    r.bool("is_archived")?.unwrap_or(false).into(),
                    opt_bool(r.bool("is_referenced")?),
                    micros(r.micros("created_at")?),
                ],
            )]
        }
        Resource::Projects => vec![(&DIM_PROJECT, project(ctx, t, r)?)],
        Resource::ContactRelations => {
            let id = r.req_int("id")?;
            vec![(
                &DIM_CONTACT_RELATION,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    key(t, r.req_int("contact_id")?).into(),
                    key(t, r.req_int("contact_sub_id")?).into(),
                    r.text_nonempty("description")?.into(),
                    micros(r.micros("updated_at")?),
                ],
            )]
        }
        Resource::Timesheets => vec![(&FACT_TIMESHEET, timesheet(ctx, t, r)?)],
        Resource::Journal => vec![(&FACT_JOURNAL, journal(ctx, t, r)?)],
        Resource::Bills => vec![(&FACT_BILL, bill(ctx, t, r)?)],
        Resource::Expenses => vec![(&FACT_EXPENSE, expense(ctx, t, r)?)],
        Resource::Articles => {
            let id = r.req_int("id")?;
            let kind = if r.int("article_type_id")? == Some(2) {
                "service"
            } else {
                "product"
            };
            let name = r
                .text_nonempty("intern_name")?
                .or(r.text_nonempty("intern_code")?)
                .unwrap_or_else(|| format!("#{id}"));
            vec![(
                &DIM_ARTICLE,
                vec![
                    key(t, id).into(),
                    t.into(),
                    Cell::Int(id),
                    r.text_nonempty("intern_code")?.into(),
                    name.into(),
                    kind.into(),
                    r.int("unit_id")?
                        .and_then(|u| ctx.units.get(&u).cloned())
                        .into(),
                    r.dec("sale_price")?.into(),
                    r.dec("purchase_price")?.into(),
                    r.int("currency_id")?.and_then(|c| ctx.currency(c)).into(),
                    opt_key(t, r.int("tax_id")?),
                ],
            )]
        }
        Resource::Invoices => {
            remember_currency(ctx, r)?;
            vec![(&FACT_INVOICE, invoice(ctx, t, r)?)]
        }
        Resource::InvoiceDetail => {
            remember_currency(ctx, r)?;
            let mut rows = vec![(&FACT_INVOICE, invoice(ctx, t, r)?)];
            rows.extend(
                lines(ctx, t, r)?
                    .into_iter()
                    .map(|row| (&FACT_INVOICE_LINE, row)),
            );
            rows
        }
        Resource::InvoiceLines => lines(ctx, t, r)?
            .into_iter()
            .map(|row| (&FACT_INVOICE_LINE, row))
            .collect(),
        Resource::InvoicePayments(invoice_id) => {
            vec![(&FACT_PAYMENT, payment(ctx, t, *invoice_id, r)?)]
        }
        Resource::Quotes => vec![(&FACT_QUOTE, quote_or_order(ctx, t, r, true)?)],
        Resource::Orders => vec![(&FACT_ORDER, quote_or_order(ctx, t, r, false)?)],
    })
}

/// Payments carry no currency: they are in their invoice's, which is remembered here (only
/// when it is not CHF, to keep the context small).
fn remember_currency(ctx: &mut Context, r: &Rec<'_>) -> Result<(), FieldError> {
    let currency = currency(ctx, r)?;
    let id = r.req_int("id")?;
    ctx.known_invoices.insert(id);
    if currency == "CHF" {
        ctx.invoice_currency.remove(&id);
    } else {
        ctx.invoice_currency.insert(id, currency);
    }
    Ok(())
}

/// The currency of a sales document: required, and known.
fn currency(ctx: &Context, r: &Rec<'_>) -> Result<String, FieldError> {
    let id = r.req_int("currency_id")?;
    ctx.currency(id).ok_or_else(|| FieldError {
        field: "currency_id".into(),
        expected: "a currency of /3.0/currencies",
        found: id.to_string(),
    })
}

fn contact(ctx: &Context, t: &str, r: &Rec<'_>, archived: bool) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    let person = r.int("contact_type_id")? == Some(2);
    let name_1 = r.text_nonempty("name_1")?;
    let name_2 = r.text_nonempty("name_2")?;
    let name = match (person, &name_1, &name_2) {
        (true, Some(last), Some(first)) => format!("{first} {last}"),
        (_, Some(n1), _) => n1.clone(),
        (_, None, Some(n2)) => n2.clone(),
        (_, None, None) => format!("#{id}"),
    };
    // bexio's newer address fields win; older records only have the combined `address`.
    let street = r
        .text_nonempty("street_name")?
        .or(r.text_nonempty("address")?);
    let groups = names(r.text_nonempty("contact_group_ids")?, &ctx.contact_groups);
    let sectors = names(
        r.text_nonempty("contact_branch_ids")?,
        &ctx.contact_branches,
    );
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        r.text_nonempty("nr")?.into(),
        if person { "person" } else { "company" }.into(),
        name.into(),
        name_1.into(),
        name_2.into(),
        street.into(),
        r.text_nonempty("house_number")?.into(),
        r.text_nonempty("postcode")?.into(),
        r.text_nonempty("city")?.into(),
        country(ctx, r)?,
        r.int("language_id")?
            .and_then(|l| ctx.languages.get(&l).cloned())
            .into(),
        r.text_nonempty("mail")?.into(),
        phone(r)?,
        groups.into(),
        sectors.into(),
        // Archived contacts only come from the `show_archived=true` pull.
        archived.into(),
        micros(r.micros("updated_at")?),
    ])
}

fn invoice(ctx: &mut Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    let currency = currency(ctx, r)?;
    let date: NaiveDate = r.req_date("is_valid_from")?;
    ctx.saw_day(date);
    let rate = ctx.rate(&currency, date);
    let status_id = r.req_int("kb_item_status_id")?;
    let total = r.req_dec("total")?;
    let net = r.req_dec("total_net")?;
    let paid = r.req_dec("total_received_payments")?;
    // Derivable when a drifting answer leaves it out.
    let open = match r.dec("total_remaining_payments")? {
        Some(v) => v,
        None => total
            .checked_sub(paid)
            .unwrap_or(Decimal::ZERO)
            .max(Decimal::ZERO),
    };
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        r.req_text("document_nr")?.into(),
        r.text_nonempty("title")?.into(),
        opt_key(t, r.int("contact_id")?),
        opt_key(t, r.int("contact_sub_id")?),
        opt_key(t, r.int("user_id")?),
        opt_key(t, r.int("project_id")?),
        currency.into(),
        date.into(),
        r.date("is_valid_to")?.into(),
        Cell::Int(status_id),
        invoice_status(status_id).into(),
        r.req_dec("total_gross")?.into(),
        net.into(),
        r.req_dec("total_taxes")?.into(),
        total.into(),
        paid.into(),
        open.into(),
        r.req_dec("total_rounding_difference")?.into(),
        rate_cell(rate),
        chf(total, rate),
        chf(net, rate),
        micros(r.micros("updated_at")?),
    ])
}

fn lines(ctx: &Context, t: &str, r: &Rec<'_>) -> Result<Vec<Vec<Cell>>, FieldError> {
    let invoice_id = r.req_int("id")?;
    let currency = currency(ctx, r)?;
    let rate = ctx.rate(&currency, r.req_date("is_valid_from")?);
    let mut out = Vec::new();
    for p in r.array("positions")? {
        let p = &Rec::parse(p).map_err(|e| FieldError {
            field: "positions[]".into(),
            expected: "an object",
            found: e.found,
        })?;
        let pid = p.req_int("id")?;
        let kind = match p.text("type")?.as_deref() {
            Some("KbPositionCustom") => "custom",
            Some("KbPositionArticle") => "article",
            Some("KbPositionText") => "text",
            Some("KbPositionSubtotal") => "subtotal",
            Some("KbPositionDiscount") => "discount",
            Some("KbPositionPagebreak") => "pagebreak",
            Some("KbPositionSubposition") => "subposition",
            _ => "other",
        };
        // A discount line lowers the total: its `discount_total` is a magnitude.
        let total = match kind {
            "discount" => p.dec("discount_total")?.map(|v| -v.abs()),
            "custom" | "article" => p.dec("position_total")?,
            _ => None,
        };
        out.push(vec![
            key(t, format!("{invoice_id}-{pid}")).into(),
            t.into(),
            key(t, invoice_id).into(),
            Cell::Int(pid),
            p.int("pos")?.into(),
            kind.into(),
            opt_key(t, p.int("article_id")?),
            p.text_nonempty("text")?.into(),
            if matches!(kind, "custom" | "article") {
                p.dec("amount")?.into()
            } else {
                Cell::Null
            },
            p.text_nonempty("unit_name")?.into(),
            if matches!(kind, "custom" | "article") {
                p.dec("unit_price")?.into()
            } else {
                Cell::Null
            },
            if kind == "discount" {
                p.dec("value")?.into()
            } else {
                p.dec("discount_in_percent")?.into()
            },
            total.into(),
            opt_key(t, p.int("tax_id")?),
            p.dec("tax_value")?.into(),
            opt_key(t, p.int("account_id")?),
            total.map_or(Cell::Null, |v| chf(v, rate)),
        ]);
    }
    Ok(out)
}

fn payment(
    ctx: &mut Context,
    t: &str,
    invoice_id: i64,
    r: &Rec<'_>,
) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    let date = r.req_date("date")?;
    ctx.saw_day(date);
    let amount = r.req_dec("value")?;
    // The payment's currency is its invoice's; the client passes invoices before payments.
    let invoice = r.int("kb_invoice_id")?.unwrap_or(invoice_id);
    if !ctx.known_invoices.contains(&invoice) {
        return Err(FieldError {
            field: "kb_invoice_id".into(),
            expected: "an invoice read before its payments",
            found: invoice.to_string(),
        });
    }
    let currency = ctx
        .invoice_currency
        .get(&invoice)
        .cloned()
        .unwrap_or_else(|| "CHF".to_owned());
    let rate = ctx.rate(&currency, date);
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        key(t, invoice).into(),
        date.into(),
        amount.into(),
        currency.into(),
        chf(amount, rate),
        opt_key(t, r.int("bank_account_id")?),
        r.bool("is_cash_discount")?.unwrap_or(false).into(),
    ])
}

fn quote_or_order(
    ctx: &mut Context,
    t: &str,
    r: &Rec<'_>,
    quote: bool,
) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    let currency = currency(ctx, r)?;
    let date = r.req_date("is_valid_from")?;
    ctx.saw_day(date);
    let rate = ctx.rate(&currency, date);
    let status_id = r.req_int("kb_item_status_id")?;
    let total = r.req_dec("total")?;
    let mut row = vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        r.req_text("document_nr")?.into(),
        r.text_nonempty("title")?.into(),
        opt_key(t, r.int("contact_id")?),
        opt_key(t, r.int("user_id")?),
        currency.into(),
        date.into(),
    ];
    if quote {
        row.push(r.date("is_valid_until")?.into());
    }
    row.extend([
        Cell::Int(status_id),
        if quote {
            quote_status(status_id)
        } else {
            order_status(status_id)
        }
        .into(),
        r.req_dec("total_net")?.into(),
        total.into(),
        chf(total, rate),
        micros(r.micros("updated_at")?),
    ]);
    Ok(row)
}

/// A `{id, name}` lookup that later records refer to: taught to the context, and a row of
/// `dim_lookup`.
fn lookup(
    into: &mut std::collections::HashMap<i64, String>,
    t: &str,
    list: &'static str,
    r: &Rec<'_>,
) -> Result<Rows, FieldError> {
    let id = r.req_int("id")?;
    let name = r.req_text("name")?;
    into.insert(id, name.clone());
    Ok(lookup_row(t, list, id, Some(name), None))
}

/// The `dim_lookup` row of an entry of the list `list` (an entry without a name is named by
/// its id, as articles and projects are).
fn lookup_row(
    t: &str,
    list: &'static str,
    id: i64,
    name: Option<String>,
    code: Option<String>,
) -> Rows {
    vec![(
        &DIM_LOOKUP,
        vec![
            key(t, format!("{list}:{id}")).into(),
            t.into(),
            Cell::Int(id),
            list.into(),
            name.unwrap_or_else(|| format!("#{id}")).into(),
            code.into(),
        ],
    )]
}

fn company(ctx: &Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        r.text_nonempty("name")?
            .unwrap_or_else(|| format!("#{id}"))
            .into(),
        r.text_nonempty("legal_form")?.into(),
        r.text_nonempty("address")?.into(),
        r.text_nonempty("address_nr")?.into(),
        r.text_nonempty("postcode")?.into(),
        r.text_nonempty("city")?.into(),
        country(ctx, r)?,
        r.text_nonempty("mail")?.into(),
        phone(r)?,
        r.text_nonempty("url")?.into(),
        r.text_nonempty("ust_id_nr")?.into(),
        r.text_nonempty("mwst_nr")?.into(),
        r.text_nonempty("trade_register_nr")?.into(),
    ])
}

/// An additional address: bexio's record does not name its contact, the route does.
fn address(ctx: &Context, t: &str, contact_id: i64, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    // As for contacts: the newer address fields win over the combined `address`.
    let street = r
        .text_nonempty("street_name")?
        .or(r.text_nonempty("address")?);
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        key(t, contact_id).into(),
        r.text_nonempty("name")?
            .unwrap_or_else(|| format!("#{id}"))
            .into(),
        r.text_nonempty("name_addition")?.into(),
        r.text_nonempty("subject")?.into(),
        street.into(),
        r.text_nonempty("house_number")?.into(),
        r.text_nonempty("address_addition")?.into(),
        r.text_nonempty("postcode")?.into(),
        r.text_nonempty("city")?.into(),
        country(ctx, r)?,
        r.text_nonempty("description")?.into(),
    ])
}

fn note(ctx: &mut Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    // bexio 2.0 writes Zurich's local time: its date part is the day of the event.
    let day = r.req_date("event_start")?;
    ctx.saw_day(day);
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        day.into(),
        micros(r.micros("event_start")?),
        r.text_nonempty("subject")?.into(),
        r.text_nonempty("info")?.into(),
        opt_key(t, r.int("user_id")?),
        opt_key(t, r.int("contact_id")?),
        opt_key(t, r.int("project_id")?),
        r.int("module_id")?.into(),
        r.int("entry_id")?.into(),
    ])
}

/// The lines of a manual entry (an entry without lines gives no row).
fn manual_entry(ctx: &mut Context, t: &str, r: &Rec<'_>) -> Result<Vec<Vec<Cell>>, FieldError> {
    let entry_id = r.req_int("id")?;
    let entry_date = r.date("date")?;
    let reference = r.text_nonempty("reference_nr")?;
    let kind = r.text_nonempty("type")?;
    let locked = r.bool("is_locked")?;
    let mut out = Vec::new();
    for line in r.array("entries")? {
        let l = &Rec::parse(line).map_err(|e| FieldError {
            field: "entries[]".into(),
            expected: "an object",
            found: e.found,
        })?;
        let line_id = l.req_int("id")?;
        // Lines carry their own date; the entry's stands in where a line has none.
        let day = match l.date("date")?.or(entry_date) {
            Some(d) => d,
            None => l.req_date("date")?,
        };
        ctx.saw_day(day);
        let currency = currency(ctx, l)?;
        let amount = l.req_dec("amount")?;
        let (factor, chf_amount) = booked_in_chf(l, amount)?;
        out.push(vec![
            key(t, format!("{entry_id}-{line_id}")).into(),
            t.into(),
            Cell::Int(line_id),
            Cell::Int(entry_id),
            reference.clone().into(),
            kind.clone().into(),
            day.into(),
            opt_key(t, l.int("debit_account_id")?),
            opt_key(t, l.int("credit_account_id")?),
            opt_key(t, l.int("tax_id")?),
            opt_key(t, l.int("tax_account_id")?),
            amount.into(),
            currency.into(),
            rate_cell(Some(factor)),
            chf_amount.into(),
            l.text_nonempty("description")?.into(),
            opt_bool(locked),
            opt_key(
                t,
                l.int("created_by_user_id")?
                    .or(r.int("created_by_user_id")?),
            ),
        ]);
    }
    Ok(out)
}

fn project(ctx: &Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    let invoice_type = match r.int("pr_invoice_type_id")? {
        Some(1) => Some("hourly_rate_service"),
        Some(2) => Some("hourly_rate_employee"),
        Some(3) => Some("hourly_rate_project"),
        Some(4) => Some("fixed"),
        _ => None,
    };
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        r.text_nonempty("nr")?.into(),
        r.text_nonempty("name")?
            .unwrap_or_else(|| format!("#{id}"))
            .into(),
        opt_key(t, r.int("contact_id")?),
        r.int("pr_state_id")?
            .and_then(|s| ctx.project_states.get(&s).cloned())
            .into(),
        r.int("pr_project_type_id")?
            .and_then(|s| ctx.project_types.get(&s).cloned())
            .into(),
        r.date("start_date")?.into(),
        r.date("end_date")?.into(),
        invoice_type.map(str::to_owned).into(),
        r.dec("pr_invoice_type_amount")?.into(),
    ])
}

/// `"01:40"` → 100 minutes.
fn minutes(r: &Rec<'_>, field: &str) -> Result<i64, FieldError> {
    let text = r.req_text(field)?;
    let bad = || FieldError {
        field: field.to_owned(),
        expected: "a duration HH:MM",
        found: text.clone(),
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (
        h.trim().parse().map_err(|_| bad())?,
        m.trim().parse().map_err(|_| bad())?,
    );
    if !(0..60).contains(&m) || h < 0 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn timesheet(ctx: &mut Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    let day = r.req_date("date")?;
    ctx.saw_day(day);
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        day.into(),
        opt_key(t, r.int("user_id")?),
        opt_key(t, r.int("contact_id")?),
        opt_key(t, r.int("pr_project_id")?),
        r.int("client_service_id")?
            .and_then(|s| ctx.client_services.get(&s).cloned())
            .into(),
        r.text_nonempty("text")?.into(),
        Cell::Int(minutes(r, "duration")?),
        r.bool("allowable_bill")?.unwrap_or(false).into(),
        r.dec("charge")?.into(),
        r.int("status_id")?
            .and_then(|s| ctx.timesheet_statuses.get(&s).cloned())
            .into(),
    ])
}

/// A booking's rate (`currency_factor`, 1 when absent) and its CHF value: as bexio states it
/// (`base_currency_amount`), derived only when an answer leaves it out.
fn booked_in_chf(r: &Rec<'_>, amount: Decimal) -> Result<(Decimal, Decimal), FieldError> {
    let factor = r.dec("currency_factor")?.unwrap_or(Decimal::ONE);
    let chf_amount = match r.dec("base_currency_amount")? {
        Some(v) => v,
        None => amount
            .checked_mul(factor)
            .ok_or_else(|| FieldError {
                field: "amount".into(),
                expected: "an amount that fits",
                found: amount.to_string(),
            })?
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
    };
    Ok((factor, chf_amount))
}

fn journal(ctx: &mut Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_int("id")?;
    let day = r.req_date("date")?;
    ctx.saw_day(day);
    let currency = currency(ctx, r)?;
    let amount = r.req_dec("amount")?;
    let (factor, chf_amount) = booked_in_chf(r, amount)?;
    // The journal carries the rate bexio booked each day with: invoices in that currency are
    // converted with it, at no extra request.
    if currency != "CHF" && factor > Decimal::ZERO {
        ctx.rates.insert((currency.clone(), day), factor);
    }
    Ok(vec![
        key(t, id).into(),
        t.into(),
        Cell::Int(id),
        day.into(),
        key(t, r.req_int("debit_account_id")?).into(),
        key(t, r.req_int("credit_account_id")?).into(),
        amount.into(),
        currency.into(),
        rate_cell(Some(factor)),
        chf_amount.into(),
        r.text_nonempty("ref_class")?.into(),
        r.int("ref_id")?.into(),
        r.text_nonempty("description")?.into(),
    ])
}

fn vendor(r: &Rec<'_>) -> Result<Option<String>, FieldError> {
    if let Some(v) = r.text_nonempty("vendor")? {
        return Ok(Some(v));
    }
    let first = r.text_nonempty("firstname_suffix")?;
    let last = r.text_nonempty("lastname_company")?;
    Ok(match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (None, Some(l)) => Some(l),
        (Some(f), None) => Some(f),
        (None, None) => None,
    })
}

fn bill(ctx: &mut Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_text("id")?;
    let day = r.req_date("bill_date")?;
    ctx.saw_day(day);
    let currency = r.req_text("currency_code")?;
    // Lists carry net and gross; details the (manual) amount.
    let gross = match r.dec("gross")? {
        Some(g) => g,
        None => r.req_dec("amount_man")?,
    };
    let net = r.dec("net")?.unwrap_or(gross);
    let rate = ctx.rate(&currency, day);
    Ok(vec![
        key(t, &id).into(),
        t.into(),
        id.into(),
        r.req_text("document_no")?.into(),
        r.text_nonempty("title")?.into(),
        opt_key(t, r.int("supplier_id")?),
        vendor(r)?.into(),
        day.into(),
        r.date("due_date")?.into(),
        r.req_text("status")?.into(),
        currency.into(),
        net.into(),
        gross.into(),
        r.req_dec("pending_amount")?.into(),
        chf(gross, rate),
        r.bool("overdue")?.unwrap_or(false).into(),
        micros(r.micros("created_at")?),
    ])
}

fn expense(ctx: &mut Context, t: &str, r: &Rec<'_>) -> Result<Vec<Cell>, FieldError> {
    let id = r.req_text("id")?;
    let day = r.req_date("paid_on")?;
    ctx.saw_day(day);
    let currency = r.req_text("currency_code")?;
    let gross = match r.dec("gross")? {
        Some(g) => g,
        None => r.req_dec("amount")?,
    };
    let net = match r.dec("net")? {
        Some(n) => n,
        None => gross
            .checked_sub(r.req_dec("tax_man")?)
            .ok_or_else(|| FieldError {
                field: "tax_man".into(),
                expected: "an amount that fits",
                found: gross.to_string(),
            })?,
    };
    let rate = ctx.rate(&currency, day);
    Ok(vec![
        key(t, &id).into(),
        t.into(),
        id.into(),
        r.req_text("document_no")?.into(),
        r.text_nonempty("title")?.into(),
        vendor(r)?.into(),
        day.into(),
        r.req_text("status")?.into(),
        currency.into(),
        net.into(),
        gross.into(),
        chf(gross, rate),
        opt_key(t, r.int("booking_account_id")?),
        r.text_nonempty("project_id")?.map(|p| key(t, p)).into(),
        micros(r.micros("created_at")?),
    ])
}
