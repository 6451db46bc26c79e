//! Company profile, users and files (`/2.0/company_profile`, `/3.0/users`, `/3.0/files`).

use serde::{Deserialize, Serialize};

use super::wire::{Stamp, ts_v3};
use crate::record_fields;

/// `/2.0/company_profile`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct CompanyProfile {
    pub id: u64,
    pub name: String,
    pub address: Option<String>,
    pub address_nr: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country_id: u64,
    pub legal_form: String,
    pub country_name: String,
    pub mail: Option<String>,
    pub phone_fixed: Option<String>,
    pub phone_mobile: Option<String>,
    pub fax: Option<String>,
    pub url: Option<String>,
    pub skype_name: Option<String>,
    pub facebook_name: Option<String>,
    pub twitter_name: Option<String>,
    pub description: Option<String>,
    pub ust_id_nr: Option<String>,
    pub mwst_nr: Option<String>,
    pub trade_register_nr: Option<String>,
    pub has_own_logo: bool,
    pub is_public_profile: bool,
    pub is_logo_public: bool,
    pub is_address_public: bool,
    pub is_phone_public: bool,
    pub is_mobile_public: bool,
    pub is_fax_public: bool,
    pub is_mail_public: bool,
    pub is_url_public: bool,
    pub is_skype_public: bool,
    pub logo_base64: String,
}
record_fields!(CompanyProfile, |s| id = s.id; "id" => s.id, "name" => s.name.as_str());

/// `/3.0/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct User {
    pub id: u64,
    pub salutation_type: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub is_superadmin: bool,
    pub is_accountant: bool,
}
record_fields!(User, |s| id = s.id; "id" => s.id, "email" => s.email.as_str());

/// `/3.0/files`: a document in the file inbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct FileRecord {
    pub id: u64,
    pub uuid: String,
    pub name: String,
    pub size_in_bytes: u64,
    pub extension: String,
    pub mime_type: String,
    pub uploader_email: Option<String>,
    pub processing_source: Option<String>,
    pub processing_status: Option<String>,
    pub user_id: u64,
    pub is_archived: bool,
    pub source_id: u64,
    #[serde(with = "ts_v3")]
    pub created_at: Stamp,
    pub is_referenced: bool,
    pub source_type: String,
    /// The file's bytes (served by `/download`).
    #[serde(skip)]
    pub content: std::sync::Arc<[u8]>,
}
record_fields!(FileRecord, |s| id = s.id;
    "id" => s.id, "uuid" => s.uuid.as_str(), "created_at" => s.created_at, "name" => s.name.as_str(),
    "extension" => s.extension.as_str(), "size_in_bytes" => s.size_in_bytes, "mime_type" => s.mime_type.as_str(),
    "user_id" => s.user_id, "is_archived" => s.is_archived, "source_id" => s.source_id);
