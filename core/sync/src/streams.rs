//! What a sync reads, in the order it reads it.

use bexio::client::Paging;
use bexio::normalize::Resource;

/// How a stream is kept up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Read again when its copy is older than this many seconds (reference data; 0: every run).
    Ttl(u64),
    /// bexio can search it by `updated_at`: changes since the last run are asked for first,
    /// then the ids are reconciled (that is what finds deletions).
    UpdatedAt {
        /// The search route.
        search: &'static str,
    },
}

/// A list route of bexio, mirrored record by record.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    /// The mirror's name for it, bexio's route name (`kb_invoice`); also the key of the sync
    /// summary's changes (the names `/_sandbox/advance` uses).
    pub key: &'static str,
    /// What progress bars call it.
    pub name: &'static str,
    /// The list route.
    pub path: &'static str,
    /// How it pages.
    pub paging: Paging,
    /// Whether the route can be ordered by id (`order_by=id`): such listings overlap their pages
    /// by one record and notice when records vanish under them.
    pub by_id: bool,
    /// What its records are.
    pub resource: fn() -> Resource,
    /// How it is kept fresh.
    pub freshness: Freshness,
    /// Another stream with the same records in another state (a contact archived moves from
    /// `contact` to `contact_archived`): a record there is not a deletion.
    pub sibling: Option<&'static str>,
}

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

const fn ttl(
    key: &'static str,
    name: &'static str,
    path: &'static str,
    paging: Paging,
    resource: fn() -> Resource,
    seconds: u64,
) -> Stream {
    Stream {
        key,
        name,
        path,
        paging,
        by_id: false,
        resource,
        freshness: Freshness::Ttl(seconds),
        sibling: None,
    }
}

/// The invoices stream's key (its positions and payments hang off it).
pub const INVOICES: &str = "kb_invoice";
/// Invoice details (positions), keyed like the invoices.
pub const DETAILS: &str = "kb_invoice/detail";
/// Payments of each invoice (one list per invoice), keyed like the invoices.
pub const PAYMENTS: &str = "kb_invoice/payment";
/// bexio's exchange rates of a currency on a day (`EUR:2024-03-01`), where the journal has none.
pub const RATES: &str = "currencies/exchange_rates";
/// Additional addresses of each contact (one list per contact, archived contacts included),
/// keyed like the contacts.
pub const ADDRESSES: &str = "contact/additional_address";
/// How long the additional addresses of unchanged contacts are kept before all are read again:
/// bexio lists them only contact by contact (one request each), and an address may change
/// without its contact's `updated_at` moving.
pub const ADDRESSES_TTL: u64 = 7 * DAY;

/// The list streams, in the order they are read: lookups, dimensions, the journal (its bookings
/// carry bexio's exchange rates), sales documents, purchases, files.
pub const STREAMS: &[Stream] = &[
    ttl(
        "country",
        "countries",
        "/2.0/country",
        Paging::Offset,
        || Resource::Countries,
        7 * DAY,
    ),
    ttl(
        "language",
        "languages",
        "/2.0/language",
        Paging::Offset,
        || Resource::Languages,
        7 * DAY,
    ),
    ttl(
        "company_profile",
        "company profile",
        "/2.0/company_profile",
        Paging::Offset,
        || Resource::CompanyProfile,
        DAY,
    ),
    ttl(
        "contact_group",
        "contact groups",
        "/2.0/contact_group",
        Paging::Offset,
        || Resource::ContactGroups,
        DAY,
    ),
    ttl(
        "contact_branch",
        "contact sectors",
        "/2.0/contact_branch",
        Paging::Offset,
        || Resource::ContactBranches,
        DAY,
    ),
    ttl(
        "unit",
        "units",
        "/2.0/unit",
        Paging::Offset,
        || Resource::Units,
        DAY,
    ),
    ttl(
        "salutation",
        "salutations",
        "/2.0/salutation",
        Paging::Offset,
        || Resource::Salutations,
        DAY,
    ),
    ttl(
        "title",
        "titles",
        "/2.0/title",
        Paging::Offset,
        || Resource::Titles,
        DAY,
    ),
    ttl(
        "payment_type",
        "payment types",
        "/2.0/payment_type",
        Paging::Offset,
        || Resource::PaymentTypes,
        DAY,
    ),
    ttl(
        "kb_item_setting",
        "document settings",
        "/2.0/kb_item_setting",
        Paging::Offset,
        || Resource::DocumentSettings,
        DAY,
    ),
    ttl(
        "currencies",
        "currencies",
        "/3.0/currencies",
        Paging::OffsetTotal,
        || Resource::Currencies,
        DAY,
    ),
    ttl(
        "account_groups",
        "account groups",
        "/2.0/account_groups",
        Paging::Offset,
        || Resource::AccountGroups,
        DAY,
    ),
    ttl(
        "pr_project_state",
        "project states",
        "/2.0/pr_project_state",
        Paging::Offset,
        || Resource::ProjectStates,
        DAY,
    ),
    ttl(
        "pr_project_type",
        "project types",
        "/2.0/pr_project_type",
        Paging::Offset,
        || Resource::ProjectTypes,
        DAY,
    ),
    ttl(
        "client_service",
        "activities",
        "/2.0/client_service",
        Paging::Offset,
        || Resource::ClientServices,
        DAY,
    ),
    ttl(
        "timesheet_status",
        "timesheet states",
        "/2.0/timesheet_status",
        Paging::Offset,
        || Resource::TimesheetStatuses,
        DAY,
    ),
    ttl(
        "accounting/business_years",
        "business years",
        "/3.0/accounting/business_years",
        Paging::OffsetTotal,
        || Resource::BusinessYears,
        HOUR,
    ),
    ttl(
        "accounting/calendar_years",
        "calendar years",
        "/3.0/accounting/calendar_years",
        Paging::OffsetTotal,
        || Resource::CalendarYears,
        HOUR,
    ),
    ttl(
        "accounting/vat_periods",
        "VAT periods",
        "/3.0/accounting/vat_periods",
        Paging::OffsetTotal,
        || Resource::VatPeriods,
        // Periods close (and new ones open) as bookkeeping goes on: one request, every run.
        0,
    ),
    ttl(
        "accounts",
        "accounts",
        "/2.0/accounts",
        Paging::Offset,
        || Resource::Accounts,
        HOUR,
    ),
    ttl(
        "taxes",
        "taxes",
        "/3.0/taxes",
        Paging::OffsetTotal,
        || Resource::Taxes,
        HOUR,
    ),
    ttl(
        "banking/accounts",
        "bank accounts",
        "/3.0/banking/accounts",
        Paging::OffsetTotal,
        || Resource::BankAccounts,
        DAY,
    ),
    ttl(
        "users",
        "users",
        "/3.0/users",
        Paging::OffsetTotal,
        || Resource::Users,
        HOUR,
    ),
    Stream {
        by_id: true,
        ..ttl(
            "article",
            "articles",
            "/2.0/article",
            Paging::Offset,
            || Resource::Articles,
            0,
        )
    },
    Stream {
        key: "contact",
        name: "contacts",
        path: "/2.0/contact",
        paging: Paging::Offset,
        by_id: true,
        resource: || Resource::Contacts,
        freshness: Freshness::UpdatedAt {
            search: "/2.0/contact/search",
        },
        sibling: Some("contact_archived"),
    },
    Stream {
        by_id: true,
        ..ttl(
            "contact_archived",
            "archived contacts",
            "/2.0/contact?show_archived=true",
            Paging::Offset,
            || Resource::ArchivedContacts,
            0,
        )
    },
    Stream {
        key: "contact_relation",
        name: "contact relations",
        path: "/2.0/contact_relation",
        paging: Paging::Offset,
        by_id: true,
        resource: || Resource::ContactRelations,
        freshness: Freshness::UpdatedAt {
            search: "/2.0/contact_relation/search",
        },
        sibling: None,
    },
    Stream {
        by_id: true,
        ..ttl(
            "note",
            "notes",
            "/2.0/note",
            Paging::Offset,
            || Resource::Notes,
            0,
        )
    },
    Stream {
        by_id: true,
        ..ttl(
            "pr_project",
            "projects",
            "/2.0/pr_project",
            Paging::Offset,
            || Resource::Projects,
            0,
        )
    },
    Stream {
        by_id: true,
        ..ttl(
            "timesheet",
            "timesheets",
            "/2.0/timesheet",
            Paging::Offset,
            || Resource::Timesheets,
            0,
        )
    },
    ttl(
        "accounting/journal",
        "journal",
        "/3.0/accounting/journal",
        Paging::OffsetTotal,
        || Resource::Journal,
        0,
    ),
    ttl(
        "accounting/manual_entries",
        "manual entries",
        "/3.0/accounting/manual_entries",
        Paging::OffsetTotal,
        || Resource::ManualEntries,
        0,
    ),
    Stream {
        key: "kb_offer",
        name: "quotes",
        path: "/2.0/kb_offer",
        paging: Paging::Offset,
        by_id: true,
        resource: || Resource::Quotes,
        freshness: Freshness::UpdatedAt {
            search: "/2.0/kb_offer/search",
        },
        sibling: None,
    },
    Stream {
        key: "kb_order",
        name: "orders",
        path: "/2.0/kb_order",
        paging: Paging::Offset,
        by_id: true,
        resource: || Resource::Orders,
        freshness: Freshness::UpdatedAt {
            search: "/2.0/kb_order/search",
        },
        sibling: None,
    },
    Stream {
        key: INVOICES,
        name: "invoices",
        path: "/2.0/kb_invoice",
        paging: Paging::Offset,
        by_id: true,
        resource: || Resource::Invoices,
        freshness: Freshness::UpdatedAt {
            search: "/2.0/kb_invoice/search",
        },
        sibling: None,
    },
    ttl(
        "purchase/bills",
        "bills",
        "/4.0/purchase/bills",
        Paging::Page,
        || Resource::Bills,
        0,
    ),
    ttl(
        "expenses",
        "expenses",
        "/4.0/expenses",
        Paging::Page,
        || Resource::Expenses,
        0,
    ),
    ttl(
        "files",
        "files",
        "/3.0/files",
        Paging::OffsetTotal,
        || Resource::Files,
        0,
    ),
];

/// The stream with this key.
pub fn stream(key: &str) -> Option<&'static Stream> {
    STREAMS.iter().find(|s| s.key == key)
}
