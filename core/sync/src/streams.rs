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

/// The list streams, in the order they are read: lookups, dimensions, the journal (its bookings
/// carry bexio's exchange rates), sales documents, purchases.
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
];

/// The stream with this key.
pub fn stream(key: &str) -> Option<&'static Stream> {
    STREAMS.iter().find(|s| s.key == key)
}
