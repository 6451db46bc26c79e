//! Every recorded real bexio answer of a resource the normalizer maps goes through with no reject.

use std::path::Path;

use arrow_array::RecordBatch;
use bexio::normalize::{Normalizer, Resource};

use crate::rows;

fn recording(rel: &str) -> (u16, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/bexio-recorded")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("recording is JSON");
    let status = v["statusCode"].as_u64().unwrap_or(0) as u16;
    let body = match &v["data"] {
        serde_json::Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    (status, body)
}

/// A recording, the resource it answers, and the table it feeds ("" for lookups).
type Case = (&'static str, fn() -> Resource, &'static str);

const CASES: &[Case] = &[
    (
        "Countries/fetch-a-list-of-countries.json",
        || Resource::Countries,
        "dim_lookup",
    ),
    (
        "Countries/fetch-a-country.json",
        || Resource::Countries,
        "dim_lookup",
    ),
    (
        "Languages/fetch-a-list-of-languages.json",
        || Resource::Languages,
        "dim_lookup",
    ),
    (
        "ContactGroups/fetch-a-list-of-contact-groups.json",
        || Resource::ContactGroups,
        "dim_lookup",
    ),
    (
        "ContactGroups/fetch-a-contact-group.json",
        || Resource::ContactGroups,
        "dim_lookup",
    ),
    (
        "ContactSectors/fetch-a-list-of-contact-sectors.json",
        || Resource::ContactBranches,
        "dim_lookup",
    ),
    (
        "Units/fetch-a-list-of-units.json",
        || Resource::Units,
        "dim_lookup",
    ),
    (
        "AccountGroups/fetch-a-list-of-account-groups.json",
        || Resource::AccountGroups,
        "dim_lookup",
    ),
    (
        "Currencies/fetch-a-list-of-currencies.json",
        || Resource::Currencies,
        "dim_currency",
    ),
    (
        "Currencies/fetch-a-currency.json",
        || Resource::Currencies,
        "dim_currency",
    ),
    (
        "Currencies/fetch-exchange-rates-for-currencies.json",
        || Resource::ExchangeRates("EUR".into()),
        "",
    ),
    (
        "Taxes/fetch-a-list-of-taxes.json",
        || Resource::Taxes,
        "dim_tax",
    ),
    (
        "Taxes/fetch-a-list-of-taxes-scoped_active-types_sales_tax.json",
        || Resource::Taxes,
        "dim_tax",
    ),
    ("Taxes/fetch-a-tax.json", || Resource::Taxes, "dim_tax"),
    (
        "Accounts/fetch-a-list-of-accounts.json",
        || Resource::Accounts,
        "dim_account",
    ),
    (
        "Users/fetch-a-list-of-users.json",
        || Resource::Users,
        "dim_user",
    ),
    (
        "Users/fetch-authenticated-user.json",
        || Resource::Users,
        "dim_user",
    ),
    (
        "Contacts/fetch-a-list-of-contacts.json",
        || Resource::Contacts,
        "dim_contact",
    ),
    (
        "Contacts/fetch-a-contact.json",
        || Resource::Contacts,
        "dim_contact",
    ),
    (
        "Contacts/create-contact.json",
        || Resource::Contacts,
        "dim_contact",
    ),
    (
        "Contacts/edit-contact.json",
        || Resource::Contacts,
        "dim_contact",
    ),
    (
        "ContactRelations/create-contact-relation-contact.json",
        || Resource::Contacts,
        "dim_contact",
    ),
    (
        "ContactRelations/fetch-a-list-of-contact-relations.json",
        || Resource::ContactRelations,
        "dim_contact_relation",
    ),
    (
        "ContactRelations/fetch-a-contact-relation.json",
        || Resource::ContactRelations,
        "dim_contact_relation",
    ),
    (
        "ContactRelations/search-contact-relations.json",
        || Resource::ContactRelations,
        "dim_contact_relation",
    ),
    (
        "ContactRelations/create-contact-relation.json",
        || Resource::ContactRelations,
        "dim_contact_relation",
    ),
    (
        "ContactRelations/edit-contact-relation.json",
        || Resource::ContactRelations,
        "dim_contact_relation",
    ),
    (
        "Items/fetch-a-list-of-items.json",
        || Resource::Articles,
        "dim_article",
    ),
    (
        "Items/fetch-an-item.json",
        || Resource::Articles,
        "dim_article",
    ),
    (
        "Items/create-item.json",
        || Resource::Articles,
        "dim_article",
    ),
    (
        "Items/edit-an-item.json",
        || Resource::Articles,
        "dim_article",
    ),
    (
        "ContactSectors/search-contact-sectors.json",
        || Resource::ContactBranches,
        "dim_lookup",
    ),
    (
        "ContactGroups/search-contact-groups.json",
        || Resource::ContactGroups,
        "dim_lookup",
    ),
    (
        "ContactGroups/create-contact-group.json",
        || Resource::ContactGroups,
        "dim_lookup",
    ),
    (
        "ContactGroups/edit-contact-group.json",
        || Resource::ContactGroups,
        "dim_lookup",
    ),
    (
        "BusinessActivities/fetch-a-list-of-business-activities.json",
        || Resource::ClientServices,
        "dim_lookup",
    ),
    (
        "Salutations/fetch-a-list-of-salutations.json",
        || Resource::Salutations,
        "dim_lookup",
    ),
    (
        "Salutations/search-salutations.json",
        || Resource::Salutations,
        "dim_lookup",
    ),
    (
        "Salutations/create-a-salutation.json",
        || Resource::Salutations,
        "dim_lookup",
    ),
    (
        "Salutations/create-a-salutation-for-edit.json",
        || Resource::Salutations,
        "dim_lookup",
    ),
    (
        "Salutations/edit-a-salutation.json",
        || Resource::Salutations,
        "dim_lookup",
    ),
    (
        "AdditionalAddresses/fetch-a-salutation.json",
        || Resource::Salutations,
        "dim_lookup",
    ),
    (
        "Titles/fetch-a-list-of-titles.json",
        || Resource::Titles,
        "dim_lookup",
    ),
    (
        "Titles/fetch-a-title.json",
        || Resource::Titles,
        "dim_lookup",
    ),
    (
        "Titles/search-titles.json",
        || Resource::Titles,
        "dim_lookup",
    ),
    (
        "Titles/create-a-title.json",
        || Resource::Titles,
        "dim_lookup",
    ),
    (
        "Titles/create-a-title-for-edit.json",
        || Resource::Titles,
        "dim_lookup",
    ),
    (
        "Titles/create-a-title-for-delete.json",
        || Resource::Titles,
        "dim_lookup",
    ),
    (
        "Titles/edit-a-title.json",
        || Resource::Titles,
        "dim_lookup",
    ),
    (
        "PaymentTypes/fetch-a-list-of-payment-types.json",
        || Resource::PaymentTypes,
        "dim_lookup",
    ),
    (
        "DocumentSettings/fetch-a-list-of-document-settings.json",
        || Resource::DocumentSettings,
        "dim_lookup",
    ),
    (
        "BusinessYears/fetch-a-list-of-business-years.json",
        || Resource::BusinessYears,
        "dim_business_year",
    ),
    (
        "BusinessYears/fetch-a-business-year.json",
        || Resource::BusinessYears,
        "dim_business_year",
    ),
    (
        "CompanyProfiles/fetch-a-list-of-company-profiles.json",
        || Resource::CompanyProfile,
        "dim_company",
    ),
    (
        "CompanyProfiles/fetch-a-company-profile.json",
        || Resource::CompanyProfile,
        "dim_company",
    ),
    (
        "AdditionalAddresses/fetch-a-list-of-additional-addresses.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "AdditionalAddresses/fetch-an-additional-addresses.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "AdditionalAddresses/search-additional-addresses.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "AdditionalAddresses/create-an-additional-address.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "AdditionalAddresses/edit-an-additional-address.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "Notes/fetch-a-list-of-notes.json",
        || Resource::Notes,
        "fact_note",
    ),
    ("Notes/fetch-a-note.json", || Resource::Notes, "fact_note"),
    ("Notes/search-notes.json", || Resource::Notes, "fact_note"),
    ("Notes/create-a-note.json", || Resource::Notes, "fact_note"),
    ("Notes/edit-a-note.json", || Resource::Notes, "fact_note"),
    (
        "CalendarYears/fetch-a-list-of-calendar-years.json",
        || Resource::CalendarYears,
        "dim_calendar_year",
    ),
    (
        "CalendarYears/fetch-a-calendar-year.json",
        || Resource::CalendarYears,
        "dim_calendar_year",
    ),
    (
        "CalendarYears/search-calendar-years.json",
        || Resource::CalendarYears,
        "dim_calendar_year",
    ),
    (
        "BankAccounts/fetch-a-list-of-bank-accounts.json",
        || Resource::BankAccounts,
        "dim_bank_account",
    ),
    (
        "BankAccounts/fetch-a-single-bank-account.json",
        || Resource::BankAccounts,
        "dim_bank_account",
    ),
    (
        "Files/fetch-a-list-of-files.json",
        || Resource::Files,
        "dim_file",
    ),
    (
        "Files/get-a-single-file.json",
        || Resource::Files,
        "dim_file",
    ),
    ("Files/search-files.json", || Resource::Files, "dim_file"),
    ("Files/create-a-file.json", || Resource::Files, "dim_file"),
    ("Files/edit-a-file.json", || Resource::Files, "dim_file"),
    (
        "Countries/create-country.json",
        || Resource::Countries,
        "dim_lookup",
    ),
    (
        "Countries/edit-a-country.json",
        || Resource::Countries,
        "dim_lookup",
    ),
    (
        "Countries/search-countries.json",
        || Resource::Countries,
        "dim_lookup",
    ),
    (
        "ContactGroups/delete-a-contact-group-create.json",
        || Resource::ContactGroups,
        "dim_lookup",
    ),
    (
        "AdditionalAddresses/delete-an-additional-address-create.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "AdditionalAddresses/edit-an-additional-address-create.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "AdditionalAddresses/fetch-an-additional-address-create.json",
        || Resource::AdditionalAddresses(1),
        "dim_contact_address",
    ),
    (
        "Notes/create-a-note-for-delete.json",
        || Resource::Notes,
        "fact_note",
    ),
    (
        "Notes/create-a-note-for-edit.json",
        || Resource::Notes,
        "fact_note",
    ),
    (
        "Notes/create-a-note-for-fetch.json",
        || Resource::Notes,
        "fact_note",
    ),
    (
        "Files/create-a-file-for-delete.json",
        || Resource::Files,
        "dim_file",
    ),
];

#[test]
fn every_mapped_recording_normalizes_without_rejects() {
    let mut problems = Vec::new();
    for (file, resource, table) in CASES {
        let (status, body) = recording(file);
        assert!(
            (200..300).contains(&status),
            "{file} is not a success recording"
        );
        let mut n = Normalizer::new("q69vysq7fkzl");
        let summary = match n.decode(resource(), &body) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{file}: {e}"));
                continue;
            }
        };
        let batches = n.finish().expect("batches");
        if summary.rejected > 0 {
            let rejects: Vec<String> = batches
                .iter()
                .filter(|(t, _)| *t == "rejects")
                .flat_map(|(_, b)| {
                    let reasons = b
                        .column(4)
                        .as_any()
                        .downcast_ref::<arrow_array::StringArray>()
                        .cloned();
                    (0..b.num_rows()).map(move |i| {
                        reasons
                            .as_ref()
                            .map_or(String::new(), |r| r.value(i).to_owned())
                    })
                })
                .collect();
            problems.push(format!(
                "{file}: {} rejected: {rejects:?}",
                summary.rejected
            ));
        }
        if !table.is_empty() && rows(&batches, table) != summary.records {
            problems.push(format!(
                "{file}: {} records but {} rows in {table}",
                summary.records,
                rows(&batches, table)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lookups_feed_the_context() {
    let mut n = Normalizer::new("t");
    for (file, resource) in [
        (
            "Countries/fetch-a-list-of-countries.json",
            Resource::Countries,
        ),
        (
            "ContactGroups/fetch-a-list-of-contact-groups.json",
            Resource::ContactGroups,
        ),
        (
            "Currencies/fetch-a-list-of-currencies.json",
            Resource::Currencies,
        ),
        (
            "Currencies/fetch-exchange-rates-for-currencies.json",
            Resource::ExchangeRates("EUR".into()),
        ),
    ] {
        n.decode(resource, &recording(file).1).expect("decodes");
    }
    let ctx = n.context();
    assert_eq!(ctx.countries.get(&15).map(String::as_str), Some("US"));
    assert_eq!(
        ctx.contact_groups.get(&1).map(String::as_str),
        Some("Partner")
    );
    assert_eq!(ctx.currencies.get(&2).map(String::as_str), Some("EUR"));
    let day = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
    assert_eq!(ctx.rate("EUR", day), Some("1.05".parse().expect("decimal")));
    assert_eq!(
        ctx.rate(
            "EUR",
            chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date")
        ),
        None
    );
}

/// A column of a table over batches, each cell rendered as text (`∅` for none).
fn column(batches: &[(&'static str, RecordBatch)], table: &str, name: &str) -> Vec<String> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType};
    use arrow_schema::DataType;
    let mut out = Vec::new();
    for (_, b) in batches.iter().filter(|(t, _)| *t == table) {
        let Ok(i) = b.schema().index_of(name) else {
            panic!("{table} has no column {name}");
        };
        let col = b.column(i);
        for row in 0..b.num_rows() {
            out.push(if col.is_null(row) {
                "∅".to_owned()
            } else {
                match col.data_type() {
                    DataType::Utf8 => col.as_string::<i32>().value(row).to_owned(),
                    DataType::Int64 => col.as_primitive::<Int64Type>().value(row).to_string(),
                    DataType::Boolean => col.as_boolean().value(row).to_string(),
                    DataType::Date32 => col.as_primitive::<Date32Type>().value(row).to_string(),
                    DataType::Timestamp(..) => col
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(row)
                        .to_string(),
                    DataType::Decimal128(_, s) => rust_decimal::Decimal::from_i128_with_scale(
                        col.as_primitive::<Decimal128Type>().value(row),
                        u32::from(*s as u8),
                    )
                    .to_string(),
                    other => panic!("no rendering for {other}"),
                }
            });
        }
    }
    out
}

#[test]
fn new_tables_keep_what_bexio_says() {
    let mut n = Normalizer::new("t");
    for (file, resource) in [
        (
            "Countries/fetch-a-list-of-countries.json",
            Resource::Countries,
        ),
        (
            "Currencies/fetch-a-list-of-currencies.json",
            Resource::Currencies,
        ),
        (
            "PaymentTypes/fetch-a-list-of-payment-types.json",
            Resource::PaymentTypes,
        ),
        (
            "DocumentSettings/fetch-a-list-of-document-settings.json",
            Resource::DocumentSettings,
        ),
        (
            "CompanyProfiles/fetch-a-list-of-company-profiles.json",
            Resource::CompanyProfile,
        ),
        (
            "BankAccounts/fetch-a-list-of-bank-accounts.json",
            Resource::BankAccounts,
        ),
        ("Files/fetch-a-list-of-files.json", Resource::Files),
        ("Notes/fetch-a-note.json", Resource::Notes),
        (
            "CalendarYears/fetch-a-list-of-calendar-years.json",
            Resource::CalendarYears,
        ),
        (
            "AdditionalAddresses/fetch-a-list-of-additional-addresses.json",
            Resource::AdditionalAddresses(7),
        ),
    ] {
        n.decode(resource, &recording(file).1).expect("decodes");
    }
    let b = n.finish().expect("batches");
    let lookups: Vec<String> = column(&b, "dim_lookup", "lookup_key")
        .into_iter()
        .zip(column(&b, "dim_lookup", "name"))
        .zip(column(&b, "dim_lookup", "code"))
        .map(|((k, name), code)| format!("{k}={name}/{code}"))
        .collect();
    for want in [
        "t:country:15=USA/US",
        "t:payment_type:2=Barzahlung/∅",
        "t:document_setting:3=Rechnung/KbInvoice",
    ] {
        assert!(lookups.iter().any(|l| l == want), "{want} in {lookups:?}");
    }
    assert_eq!(column(&b, "dim_company", "name"), ["Mustermann AG"]);
    assert_eq!(column(&b, "dim_company", "legal_form"), ["corporation"]);
    assert_eq!(
        column(&b, "dim_bank_account", "iban"),
        ["CH8781223780488303006"]
    );
    assert_eq!(column(&b, "dim_bank_account", "bic"), ["RAIFCH22C23"]);
    assert_eq!(column(&b, "dim_bank_account", "currency_code"), ["CHF"]);
    assert_eq!(column(&b, "dim_bank_account", "account_key"), ["t:116"]);
    assert_eq!(column(&b, "dim_file", "size_bytes"), ["99135"]);
    // 2026-06-18T14:49:23+02:00.
    assert_eq!(column(&b, "dim_file", "created_at"), ["1781786963000000"]);
    // bexio 2.0's naive 2026-06-18 13:50:55 is Zurich summer time: 11:50:55 UTC.
    assert_eq!(column(&b, "fact_note", "event_start"), ["1781783455000000"]);
    assert_eq!(column(&b, "fact_note", "user_key"), ["t:1"]);
    assert_eq!(column(&b, "dim_calendar_year", "year"), ["2026"]);
    assert_eq!(
        column(&b, "dim_contact_address", "contact_key"),
        ["t:7", "t:7"]
    );
    assert_eq!(
        column(&b, "dim_contact_address", "city"),
        ["Test city", "Test city"]
    );
}
