//! Contacts and their satellites (`/2.0/contact*`, lookups of countries and languages).

use serde::{Deserialize, Serialize};

use super::wire::{Stamp, ts_v2};
use crate::record_fields;

/// `/2.0/contact`: a company (`contact_type_id` 1) or a person (2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Contact {
    pub id: u64,
    pub nr: Option<String>,
    pub contact_type_id: u32,
    pub name_1: String,
    pub name_2: Option<String>,
    pub salutation_id: Option<u64>,
    pub salutation_form: Option<u64>,
    pub title_id: Option<u64>,
    pub birthday: Option<chrono::NaiveDate>,
    pub address: Option<String>,
    pub street_name: Option<String>,
    pub house_number: Option<String>,
    pub address_addition: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country_id: Option<u64>,
    pub mail: Option<String>,
    pub mail_second: Option<String>,
    pub phone_fixed: Option<String>,
    pub phone_fixed_second: Option<String>,
    pub phone_mobile: Option<String>,
    pub fax: Option<String>,
    pub url: Option<String>,
    pub skype_name: Option<String>,
    pub remarks: Option<String>,
    pub language_id: Option<u64>,
    pub is_lead: bool,
    pub contact_group_ids: Option<String>,
    pub contact_branch_ids: Option<String>,
    pub user_id: u64,
    pub owner_id: u64,
    #[serde(with = "ts_v2")]
    pub updated_at: Stamp,
    /// Archived contacts (DELETE archives) only show with `show_archived=true`.
    #[serde(skip)]
    pub archived: bool,
}
record_fields!(Contact, |s| id = s.id;
    "id" => s.id, "nr" => s.nr.as_deref(), "name_1" => s.name_1.as_str(), "name_2" => s.name_2.as_deref(),
    "address" => s.address.as_deref(), "mail" => s.mail.as_deref(), "mail_second" => s.mail_second.as_deref(),
    "postcode" => s.postcode.as_deref(), "city" => s.city.as_deref(), "country_id" => s.country_id,
    "contact_group_ids" => s.contact_group_ids.as_deref(), "contact_type_id" => s.contact_type_id,
    "updated_at" => s.updated_at, "user_id" => s.user_id, "phone_fixed" => s.phone_fixed.as_deref(),
    "phone_mobile" => s.phone_mobile.as_deref(), "fax" => s.fax.as_deref(),
);

impl Contact {
    /// A company contact with bexio's defaults: empty strings where bexio answers `""`.
    pub fn new(id: u64, now: Stamp) -> Self {
        let empty = || Some(String::new());
        Contact {
            id,
            nr: Some(format!("{id:06}")),
            contact_type_id: 1,
            name_1: String::new(),
            name_2: empty(),
            salutation_id: None,
            salutation_form: None,
            title_id: None,
            birthday: None,
            address: None,
            street_name: None,
            house_number: None,
            address_addition: None,
            postcode: empty(),
            city: empty(),
            country_id: None,
            mail: empty(),
            mail_second: empty(),
            phone_fixed: empty(),
            phone_fixed_second: empty(),
            phone_mobile: empty(),
            fax: empty(),
            url: empty(),
            skype_name: empty(),
            remarks: empty(),
            language_id: None,
            is_lead: false,
            contact_group_ids: None,
            contact_branch_ids: None,
            user_id: 1,
            owner_id: 1,
            updated_at: now,
            archived: false,
        }
    }
}

/// A contact with its profile image, as `GET /2.0/contact/{id}` and writes return it.
#[derive(Debug, Serialize)]
pub struct ContactDetail<'a> {
    #[serde(flatten)]
    /// The contact.
    pub contact: &'a Contact,
    /// Base64 PNG avatar.
    pub profile_image: &'static str,
}

/// `/2.0/contact_relation`: a person linked to a company.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ContactRelation {
    pub id: u64,
    pub contact_id: u64,
    pub contact_sub_id: u64,
    pub description: String,
    #[serde(with = "ts_v2")]
    pub updated_at: Stamp,
}
record_fields!(ContactRelation, |s| id = s.id;
    "id" => s.id, "contact_id" => s.contact_id, "contact_sub_id" => s.contact_sub_id, "updated_at" => s.updated_at);

/// `/2.0/contact/{id}/additional_address`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AdditionalAddress {
    pub id: u64,
    pub name: String,
    pub name_addition: Option<String>,
    pub address: Option<String>,
    pub street_name: Option<String>,
    pub house_number: Option<String>,
    pub address_addition: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country_id: Option<u64>,
    pub subject: Option<String>,
    pub description: Option<String>,
    #[serde(skip)]
    pub contact_id: u64,
}
record_fields!(AdditionalAddress, |s| id = s.id;
    "id" => s.id, "name" => s.name.as_str(), "name_addition" => s.name_addition.as_deref(),
    "address" => s.address.as_deref(), "postcode" => s.postcode.as_deref(), "city" => s.city.as_deref(),
    "country_id" => s.country_id, "subject" => s.subject.as_deref(), "description" => s.description.as_deref());

/// `/2.0/country`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Country {
    pub id: u64,
    pub name: String,
    pub name_short: String,
    pub iso_3166_alpha2: String,
}
record_fields!(Country, |s| id = s.id;
    "id" => s.id, "name" => s.name.as_str(), "name_short" => s.name_short.as_str(), "iso_3166_alpha2" => s.iso_3166_alpha2.as_str());

/// `/2.0/language`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Language {
    pub id: u64,
    pub name: String,
    pub decimal_point: String,
    pub thousands_separator: String,
    pub date_format_id: u32,
    pub date_format: String,
    pub iso_639_1: String,
}
record_fields!(Language, |s| id = s.id; "id" => s.id, "name" => s.name.as_str(), "iso_639_1" => s.iso_639_1.as_str());
