//! Projects and time tracking (`/2.0/pr_project`, `/2.0/timesheet`, `/2.0/client_service`).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::wire::{Stamp, dec2, ts_v2};
use crate::record_fields;

/// `/2.0/pr_project`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Project {
    pub id: u64,
    pub uuid: String,
    pub nr: String,
    pub name: String,
    #[serde(with = "ts_v2")]
    pub start_date: Stamp,
    #[serde(with = "ts_v2::opt")]
    pub end_date: Option<Stamp>,
    pub comment: String,
    pub pr_state_id: u64,
    pub pr_project_type_id: u64,
    pub contact_id: u64,
    pub contact_sub_id: Option<u64>,
    pub pr_invoice_type_id: u64,
    #[serde(with = "dec2")]
    pub pr_invoice_type_amount: Decimal,
    pub pr_budget_type_id: u64,
    #[serde(with = "dec2")]
    pub pr_budget_type_amount: Decimal,
    pub user_id: u64,
}
record_fields!(Project, |s| id = s.id;
    "id" => s.id, "name" => s.name.as_str(), "contact_id" => s.contact_id, "pr_state_id" => s.pr_state_id);

/// How a timesheet entry was tracked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Tracking {
    #[serde(rename = "type")]
    pub kind: String,
    pub date: NaiveDate,
    pub duration: String,
}

/// `/2.0/timesheet`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Timesheet {
    pub id: u64,
    pub user_id: u64,
    pub status_id: u64,
    pub client_service_id: u64,
    pub text: String,
    pub allowable_bill: bool,
    #[serde(with = "dec2::opt")]
    pub charge: Option<Decimal>,
    pub contact_id: Option<u64>,
    pub sub_contact_id: Option<u64>,
    pub pr_project_id: Option<u64>,
    pub pr_package_id: Option<u64>,
    pub pr_milestone_id: Option<u64>,
    pub travel_time: Option<String>,
    #[serde(with = "dec2::opt")]
    pub travel_charge: Option<Decimal>,
    pub travel_distance: u32,
    pub estimated_time: Option<String>,
    pub date: NaiveDate,
    pub duration: String,
    pub running: bool,
    pub tracking: Tracking,
}
record_fields!(Timesheet, |s| id = s.id;
    "id" => s.id, "client_service_id" => s.client_service_id, "contact_id" => s.contact_id, "user_id" => s.user_id,
    "pr_project_id" => s.pr_project_id, "status_id" => s.status_id, "date" => s.date.to_string());

/// `/2.0/client_service` (business activities).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ClientService {
    pub id: u64,
    pub name: String,
    pub default_is_billable: bool,
    #[serde(with = "dec2::opt")]
    pub default_price_per_hour: Option<Decimal>,
    pub account_id: Option<u64>,
}
record_fields!(ClientService, |s| id = s.id; "id" => s.id, "name" => s.name.as_str());

/// `/2.0/note`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Note {
    pub id: u64,
    pub user_id: u64,
    #[serde(with = "ts_v2")]
    pub event_start: Stamp,
    pub subject: String,
    pub info: String,
    pub contact_id: Option<u64>,
    pub project_id: Option<u64>,
    pub entry_id: Option<u64>,
    pub module_id: Option<u64>,
}
record_fields!(Note, |s| id = s.id;
    "id" => s.id, "event_start" => s.event_start, "contact_id" => s.contact_id, "user_id" => s.user_id,
    "subject" => s.subject.as_str(), "module_id" => s.module_id, "entry_id" => s.entry_id, "project_id" => s.project_id);
