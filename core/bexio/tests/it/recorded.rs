//! Every recorded real bexio answer of a resource the normalizer maps goes through with no reject.

use std::path::Path;

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
        "",
    ),
    ("Countries/fetch-a-country.json", || Resource::Countries, ""),
    (
        "Languages/fetch-a-list-of-languages.json",
        || Resource::Languages,
        "",
    ),
    (
        "ContactGroups/fetch-a-list-of-contact-groups.json",
        || Resource::ContactGroups,
        "",
    ),
    (
        "ContactGroups/fetch-a-contact-group.json",
        || Resource::ContactGroups,
        "",
    ),
    (
        "ContactSectors/fetch-a-list-of-contact-sectors.json",
        || Resource::ContactBranches,
        "",
    ),
    ("Units/fetch-a-list-of-units.json", || Resource::Units, ""),
    (
        "AccountGroups/fetch-a-list-of-account-groups.json",
        || Resource::AccountGroups,
        "",
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
