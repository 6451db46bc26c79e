//! The day-by-day business simulation behind [`Company::generate`] and [`Company::advance`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Europe::Zurich;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};

use super::reference::{
    self as refdata, CHF, EUR, GERMANY, GROUP_CUSTOMERS, GROUP_SUPPLIERS, SWITZERLAND, account_id,
};
use super::swiss::{self, ArticleKind, Lang, Place};
use super::{Anomaly, Changes, Company, CompanySpec, RecordId};
use crate::model::Table;
use crate::model::accounting::{
    BankAccount, BusinessYear, CalendarYear, EntryLine, JournalEntry, ManualEntry, VatPeriod,
};
use crate::model::contacts::{AdditionalAddress, Contact, ContactRelation};
use crate::model::projects::{ClientService, Note, Project, Timesheet, Tracking};
use crate::model::purchase::{Bill, BillLine, Expense, PartyAddress};
use crate::model::sales::{
    Article, DocKind, Payment, Position, PositionKind, SalesDoc, TaxLine, status,
};
use crate::model::system::{CompanyProfile, FileRecord, User};
use crate::model::wire::{Stamp, splitmix, uuid_for};

/// How a client pays its invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Prompt,
    Slow,
    Partial,
    Erratic,
    Never,
}

#[derive(Debug, Clone)]
struct Client {
    contact_id: u64,
    weight: f64,
    size: f64,
    services_share: f64,
    behaviour: Behaviour,
    until: Option<NaiveDate>,
    currency_id: u64,
    lang: Lang,
    persons: Vec<u64>,
    project: Option<u64>,
    address: Arc<str>,
    vip: bool,
    /// Invoices written so far.
    invoices: u32,
}

#[derive(Debug, Clone)]
struct Supplier {
    contact_id: u64,
    title: &'static str,
    account_no: &'static str,
    address: PartyAddress,
}

/// Something that happens on a later day.
#[derive(Debug, Clone)]
enum Event {
    Issue(u64),
    DeleteDraft(u64),
    Pay { invoice: u64, share: Decimal },
    Cancel(u64),
    AcceptOffer(u64),
    DeclineOffer(u64),
    InvoiceOrder(u64),
    PayBill(u64),
}

/// The simulation state that lives on between `advance` calls.
pub struct Sim {
    rng: ChaCha8Rng,
    seed: u64,
    start: NaiveDate,
    clients: Vec<Client>,
    client_by_contact: std::collections::HashMap<u64, usize>,
    suppliers: Vec<Supplier>,
    schedule: BTreeMap<NaiveDate, Vec<Event>>,
    per_weight: f64,
    cum_target: f64,
    cum_invoices: u64,
    next_position: u64,
    next_payment: u64,
    next_bill_seq: u64,
    doc_numbers: [u64; 3],
    header: Arc<str>,
    /// Footers by payment term (10, 20 or 30 days).
    footers: [Arc<str>; 3],
    article_text: Vec<Arc<str>>,
    unit_names: Vec<Arc<str>>,
    burst: (NaiveDate, NaiveDate),
    spike_day: NaiveDate,
    churn_day: NaiveDate,
    churn_client: Option<usize>,
    employees: u32,
    /// Per calendar quarter, in CHF: VAT owed on sales and input VAT paid on purchases.
    quarter_vat: BTreeMap<(i32, u32), (Decimal, Decimal)>,
    log: Option<Changes>,
    /// The latest change so far: writes through the API are never stamped before it.
    pub(crate) latest: Stamp,
    contacts_target: f64,
}

const BURST_FACTOR: f64 = 4.0;
const MAX_WEIGHT: f64 = 40.0;
const SPIKE_FACTOR: u32 = 30;

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn day_weight(day: NaiveDate, start: NaiveDate, burst: (NaiveDate, NaiveDate)) -> f64 {
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        return 0.0;
    }
    // Holidays when Swiss SMEs are closed.
    if (day.month() == 12 && day.day() >= 24)
        || (day.month() == 1 && day.day() <= 2)
        || (day.month() == 8 && day.day() == 1)
    {
        return 0.0;
    }
    const SEASON: [f64; 12] = [
        0.85, 0.95, 1.1, 1.0, 1.05, 1.05, 0.75, 0.7, 1.1, 1.1, 1.15, 1.2,
    ];
    let years = (day - start).num_days() as f64 / 365.25;
    let trend = 1.0 + 0.12 * years;
    let burst = if day >= burst.0 && day <= burst.1 {
        BURST_FACTOR
    } else {
        1.0
    };
    SEASON[day.month0() as usize] * trend * burst
}

/// Rounds to a currency's rounding step (CHF to 5 Rappen).
fn round_to(v: Decimal, step: Decimal) -> Decimal {
    if step.is_zero() {
        return v;
    }
    ((v / step).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) * step)
        .round_dp(2)
}

fn cents(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl Sim {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// A moment during business hours of `day`, Zurich time.
    fn stamp_on(&mut self, day: NaiveDate) -> Stamp {
        let secs = self.rng.random_range(7 * 3600 + 30 * 60..18 * 3600);
        let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap_or_default();
        let stamp = Stamp(
            Zurich
                .from_local_datetime(&day.and_time(time))
                .earliest()
                .map_or(0, |t| t.timestamp()),
        );
        self.latest = self.latest.max(stamp);
        stamp
    }

    /// A Swiss landline number with a real area code.
    fn phone(&mut self) -> String {
        const AREA: [u32; 21] = [
            21, 22, 24, 26, 27, 31, 32, 33, 34, 41, 43, 44, 52, 55, 56, 58, 61, 62, 71, 81, 91,
        ];
        let area = *self.pick(&AREA);
        format!(
            "+41 {area} {} {} {}",
            self.rng.random_range(200..999),
            self.rng.random_range(10..99),
            self.rng.random_range(10..99)
        )
    }

    fn schedule(&mut self, day: NaiveDate, ev: Event) {
        self.schedule.entry(day).or_default().push(ev);
    }

    fn place(&mut self) -> &'static Place {
        let total: u32 = swiss::PLACES.iter().map(|p| p.weight).sum();
        let mut x = self.rng.random_range(0..total.max(1));
        for p in swiss::PLACES {
            if x < p.weight {
                return p;
            }
            x -= p.weight;
        }
        &swiss::PLACES[0]
    }

    fn log(&mut self, f: impl FnOnce(&mut Changes)) {
        if let Some(l) = self.log.as_mut() {
            f(l);
        }
    }
}

fn midnight(day: NaiveDate) -> Stamp {
    Stamp(
        Zurich
            .from_local_datetime(&day.and_time(NaiveTime::MIN))
            .earliest()
            .map_or(0, |t| t.timestamp()),
    )
}

/// Generates a company from its spec.
pub fn generate(spec: &CompanySpec) -> Company {
    let seed = splitmix(spec.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let lang = if rng.random_bool(0.75) {
        Lang::De
    } else {
        Lang::Fr
    };
    let start = spec.start;
    let today = spec.today.max(start);

    // Anomalies: a burst in the last year, a spike a few months before today.
    let burst_start = today - Duration::days(rng.random_range(200..300));
    let burst = (burst_start, burst_start + Duration::days(6));
    let spike_day = today - Duration::days(rng.random_range(60..120));
    let churn_day = today - Duration::days(rng.random_range(150..250));

    let history_weight: f64 = start
        .iter_days()
        .take_while(|x| *x <= today)
        .map(|x| day_weight(x, start, burst))
        .sum();
    let per_weight = spec.invoices as f64 / history_weight.max(1.0);

    let (account_groups, accounts) = refdata::chart(seed);
    let article_text = swiss::ARTICLES
        .iter()
        .map(|a| Arc::<str>::from(a.name))
        .collect();
    let unit_names = swiss::UNITS.iter().map(|u| Arc::<str>::from(*u)).collect();
    let sim = Sim {
        rng,
        seed,
        start,
        clients: Vec::new(),
        client_by_contact: std::collections::HashMap::new(),
        suppliers: Vec::new(),
        schedule: BTreeMap::new(),
        per_weight,
        cum_target: 0.0,
        cum_invoices: 0,
        next_position: 1,
        next_payment: 1,
        next_bill_seq: 1,
        doc_numbers: [0; 3],
        header: Arc::from(
            "Wir danken Ihnen für Ihren Auftrag und stellen Ihnen folgende Leistungen in Rechnung:",
        ),
        footers: [10, 20, 30].map(|d| {
            Arc::from(format!(
                "Zahlbar innert {d} Tagen netto.<br/>Freundliche Grüsse"
            ))
        }),
        article_text,
        unit_names,
        burst,
        spike_day,
        churn_day,
        churn_client: None,
        employees: 0,
        quarter_vat: BTreeMap::new(),
        log: None,
        latest: Stamp::default(),
        contacts_target: (spec.invoices as f64 / 25.0).clamp(25.0, 40_000.0),
    };

    let mut c = Company {
        name: String::new(),
        today: start,
        profile: placeholder_profile(),
        users: Table::default(),
        countries: refdata::countries(),
        languages: refdata::languages(),
        salutations: refdata::salutations(),
        titles: refdata::titles(),
        payment_types: refdata::payment_types(),
        units: refdata::units(),
        contact_groups: refdata::contact_groups(),
        contact_branches: refdata::contact_branches(),
        project_states: refdata::project_states(),
        project_types: refdata::project_types(),
        timesheet_statuses: refdata::timesheet_statuses(),
        contacts: Table::default(),
        contact_relations: Table::default(),
        additional_addresses: Table::default(),
        notes: Table::default(),
        articles: Table::default(),
        offers: Table::default(),
        orders: Table::default(),
        invoices: Table::default(),
        document_settings: refdata::document_settings(),
        projects: Table::default(),
        timesheets: Table::default(),
        client_services: Table::default(),
        accounts,
        account_groups,
        taxes: refdata::taxes(seed),
        currencies: refdata::currencies(),
        calendar_years: Table::default(),
        business_years: Table::default(),
        vat_periods: Table::default(),
        manual_entries: Table::default(),
        journal: Table::default(),
        bank_accounts: Table::default(),
        bills: Table::default(),
        expenses: Table::default(),
        files: Table::default(),
        eur_rates: BTreeMap::new(),
        anomalies: Vec::new(),
        sim,
    };
    setup(&mut c, lang, start);
    for day in start.iter_days().take_while(|x| *x <= today) {
        simulate_day(&mut c, day);
    }
    c.today = today;
    finish_years(&mut c);
    document_anomalies(&mut c);
    c
}

/// Runs the simulation `days` further and records what changed.
pub fn advance(c: &mut Company, days: u32) -> Changes {
    c.sim.log = Some(Changes::default());
    let from = c.today + Duration::days(1);
    for day in from.iter_days().take(days as usize) {
        simulate_day(c, day);
        c.today = day;
    }
    finish_years(c);
    c.sim.log.take().unwrap_or_default()
}

fn placeholder_profile() -> CompanyProfile {
    CompanyProfile {
        id: 1,
        name: String::new(),
        address: None,
        address_nr: None,
        postcode: None,
        city: None,
        country_id: SWITZERLAND,
        legal_form: "corporation".into(),
        country_name: "Schweiz".into(),
        mail: None,
        phone_fixed: None,
        phone_mobile: None,
        fax: None,
        url: None,
        skype_name: None,
        facebook_name: None,
        twitter_name: None,
        description: None,
        ust_id_nr: None,
        mwst_nr: None,
        trade_register_nr: None,
        has_own_logo: false,
        is_public_profile: false,
        is_logo_public: false,
        is_address_public: false,
        is_phone_public: false,
        is_mobile_public: false,
        is_fax_public: false,
        is_mail_public: false,
        is_url_public: false,
        is_skype_public: false,
        logo_base64: String::new(),
    }
}

/// A 1×1 transparent PNG: the logo and avatar bexio returns when none was uploaded.
pub const BLANK_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

fn slug(s: &str) -> String {
    s.chars()
        .filter_map(|ch| match ch.to_ascii_lowercase() {
            'ä' | 'Ä' => Some('a'),
            'ö' | 'Ö' => Some('o'),
            'ü' | 'Ü' => Some('u'),
            'é' | 'è' | 'ê' => Some('e'),
            'à' | 'â' => Some('a'),
            'ç' => Some('c'),
            c if c.is_ascii_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

fn setup(c: &mut Company, lang: Lang, start: NaiveDate) {
    let s = &mut c.sim;
    let place = s.place();
    let family = *s.pick(swiss::last_names(lang));
    let company_name = match lang {
        Lang::De => format!("{family} Informatik AG"),
        _ => format!("{family} Informatique SA"),
    };
    let street = *s.pick(swiss::streets(place.lang));
    let house = s.rng.random_range(1..120).to_string();
    let domain = format!("{}-it.ch", slug(family));
    c.name = company_name.clone();
    c.profile = CompanyProfile {
        name: company_name.clone(),
        address: Some(street.into()),
        address_nr: Some(house.clone()),
        postcode: Some(place.postcode.into()),
        city: Some(place.city.into()),
        mail: Some(format!("info@{domain}")),
        phone_fixed: Some(s.phone()),
        url: Some(format!("https://www.{domain}")),
        mwst_nr: Some(format!(
            "CHE-{:03}.{:03}.{:03} MWST",
            s.rng.random_range(100..999),
            s.rng.random_range(100..999),
            s.rng.random_range(100..999)
        )),
        trade_register_nr: Some(format!(
            "CH-{:03}.{}.{:03}.{:03}-{}",
            s.rng.random_range(20..670),
            s.rng.random_range(3..4),
            s.rng.random_range(100..999),
            s.rng.random_range(100..999),
            s.rng.random_range(1..9)
        )),
        logo_base64: BLANK_PNG_BASE64.into(),
        ..placeholder_profile()
    };

    // Users: the owner and a few employees.
    let n_users = 3 + (s.contacts_target as u32 / 400).min(9);
    s.employees = n_users + 1;
    for id in 1..=u64::from(n_users) {
        let female = s.chance(0.45);
        let first = *s.pick(swiss::first_names(lang, female));
        let last = if id == 1 {
            family
        } else {
            *s.pick(swiss::last_names(lang))
        };
        c.users.insert(User {
            id,
            salutation_type: if female { "female" } else { "male" }.into(),
            firstname: first.into(),
            lastname: last.into(),
            email: format!("{}.{}@{domain}", slug(first), slug(last)),
            is_superadmin: id == 1,
            is_accountant: id == 2,
        });
    }

    // Bank accounts: CHF for everything, EUR for euro clients.
    let bank_city = place.city;
    for (id, cur, no, name) in [(1, CHF, "1020", "Bank CHF"), (2, EUR, "1021", "Bank EUR")] {
        let iban = format!(
            "CH{:02}0070{:013}",
            s.rng.random_range(10..99),
            s.rng.random_range(1_000_000_000u64..9_999_999_999_999)
        );
        c.bank_accounts.insert(BankAccount {
            id,
            uuid: uuid_for(s.seed ^ 0xBA4C, id).to_string(),
            name: format!("{name} Zürcher Kantonalbank"),
            owner: company_name.clone(),
            owner_address: street.into(),
            owner_house_number: house.clone(),
            owner_zip: place.postcode.into(),
            owner_city: bank_city.into(),
            owner_country_code: "CH".into(),
            bc_nr: "700".into(),
            bank_name: "Zürcher Kantonalbank".into(),
            bank_account_nr: iban[9..].into(),
            iban_nr: iban.clone(),
            currency_id: cur,
            account_id: account_id(no),
            remarks: String::new(),
            is_esr: false,
            esr_besr_id: String::new(),
            esr_bottom_line_include_amount: true,
            esr_post_account_nr: String::new(),
            esr_payment_for_text: String::new(),
            esr_in_favour_of_text: String::new(),
            invoice_mode: if cur == CHF { "qr_invoice" } else { "none" }.into(),
            qr_invoice_iban: (cur == CHF).then(|| {
                format!(
                    "CH{:02}3000{:013}",
                    s.rng.random_range(10..99),
                    s.rng.random_range(1_000_000_000u64..9_999_999_999_999)
                )
            }),
            kind: "bank".into(),
            bank_nr: "ZKBKCHZZ80A".into(),
        });
    }

    // Articles.
    for (i, a) in swiss::ARTICLES.iter().enumerate() {
        let id = i as u64 + 1;
        let (tax, _) =
            refdata::sales_tax(a.vat, NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(start));
        let product = a.kind == ArticleKind::Product;
        let sale = d(a.sale_price);
        let purchase = a.purchase_price.map(d);
        c.articles.insert(Article {
            id,
            article_type_id: a.kind.bexio_article_type_id(),
            deliverer_code: Some(if product {
                format!("D-{}", a.code)
            } else {
                String::new()
            }),
            deliverer_name: Some(if product {
                "ALSO Schweiz AG".to_string()
            } else {
                String::new()
            }),
            intern_code: a.code.into(),
            intern_name: a.name.into(),
            intern_description: Some(a.description.into()),
            purchase_price: purchase,
            sale_price: Some(sale),
            purchase_total: purchase,
            sale_total: Some(sale),
            currency_id: Some(CHF),
            tax_income_id: Some(tax),
            tax_id: Some(tax),
            tax_expense_id: product.then_some(21),
            unit_id: swiss::unit_id(a.unit).map(u64::from),
            is_stock: product,
            stock_id: product.then_some(1),
            stock_place_id: product.then_some(1),
            stock_nr: if product {
                s.rng.random_range(0..40)
            } else {
                0
            },
            stock_min_nr: if product { 2 } else { 0 },
            account_id: Some(account_id(if product { "3200" } else { "3400" })),
            expense_account_id: product.then(|| account_id("4200")),
            ..Article::new(id)
        });
    }
    for a in c.articles.iter_mut() {
        a.stock_available_nr = a.stock_nr;
    }

    for (i, (name, billable)) in [
        ("Beratung", true),
        ("Installation", true),
        ("Support", true),
        ("Projektleitung", true),
        ("Administration", false),
        ("Weiterbildung", false),
    ]
    .iter()
    .enumerate()
    {
        let id = i as u64 + 1;
        c.client_services.insert(ClientService {
            id,
            name: (*name).into(),
            default_is_billable: *billable,
            default_price_per_hour: billable
                .then(|| d(["165.00", "140.00", "150.00", "185.00"][i % 4])),
            account_id: billable.then(|| account_id("3400")),
        });
    }

    // Suppliers.
    let n_suppliers = swiss::SUPPLIERS
        .len()
        .min(12 + (c.sim.contacts_target as usize / 200));
    for &(name, title) in swiss::SUPPLIERS.iter().take(n_suppliers) {
        let account_no = supplier_account(title);
        let id = new_company_contact(c, start, Some(name), GROUP_SUPPLIERS);
        let ct = c.contacts.get(id).cloned();
        if let Some(ct) = ct {
            c.sim.suppliers.push(Supplier {
                contact_id: id,
                title,
                account_no,
                address: PartyAddress {
                    title: None,
                    salutation: None,
                    firstname_suffix: None,
                    lastname_company: ct.name_1.clone(),
                    address_line: ct.address.clone().unwrap_or_default(),
                    postcode: ct.postcode.clone().unwrap_or_default(),
                    city: ct.city.clone().unwrap_or_default(),
                    country_code: "CH".into(),
                    main_contact_id: id,
                    contact_address_id: None,
                    kind: "COMPANY",
                },
            });
        }
    }

    // The first clients exist from day one.
    let initial = (c.sim.contacts_target * 0.35).ceil() as usize;
    for _ in 0..initial {
        new_client(c, start);
    }

    // Files: a few scanned receipts in the inbox.
    for id in 1..=3u64 {
        let content: Arc<[u8]> = Arc::from(blank_png());
        c.files.insert(FileRecord {
            id,
            uuid: uuid_for(c.sim.seed ^ 0xF11E, id).to_string(),
            name: format!("Beleg {id}"),
            size_in_bytes: content.len() as u64,
            extension: "png".into(),
            mime_type: "image/png".into(),
            uploader_email: None,
            processing_source: None,
            processing_status: None,
            user_id: 1,
            is_archived: false,
            source_id: 2,
            created_at: Stamp(midnight(start).0 + 9 * 3600 + id as i64 * 60),
            is_referenced: false,
            source_type: "web".into(),
            content,
        });
    }
}

/// The bytes of a 1×1 PNG.
pub fn blank_png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(BLANK_PNG_BASE64)
        .unwrap_or_default()
}

fn supplier_account(title: &str) -> &'static str {
    let t = title.to_lowercase();
    if t.contains("miete") || t.contains("büro") && t.contains("raum") {
        "6000"
    } else if t.contains("telefon")
        || t.contains("internet")
        || t.contains("porto")
        || t.contains("post")
    {
        "6510"
    } else if t.contains("versicherung") {
        "6300"
    } else if t.contains("strom") || t.contains("energie") || t.contains("entsorgung") {
        "6400"
    } else if t.contains("hardware") || t.contains("ware") || t.contains("distribution") {
        "4200"
    } else if t.contains("software")
        || t.contains("lizenz")
        || t.contains("cloud")
        || t.contains("hosting")
    {
        "6570"
    } else if t.contains("werbung") || t.contains("marketing") || t.contains("inserat") {
        "6600"
    } else if t.contains("reinigung") || t.contains("unterhalt") {
        "6100"
    } else if t.contains("fahrzeug") || t.contains("leasing") || t.contains("treibstoff") {
        "6200"
    } else if t.contains("treuhand") || t.contains("beratung") || t.contains("revision") {
        "4400"
    } else {
        "6500"
    }
}

/// Creates a company contact (client or supplier) and returns its id.
fn new_company_contact(c: &mut Company, day: NaiveDate, name: Option<&str>, group: u64) -> u64 {
    let s = &mut c.sim;
    let place = s.place();
    let family = *s.pick(swiss::last_names(place.lang));
    let name = match name {
        Some(n) => n.to_string(),
        None => s
            .pick(swiss::company_templates(place.lang))
            .replace("{name}", family)
            .replace("{city}", place.city),
    };
    let street = *s.pick(swiss::streets(place.lang));
    let house = s.rng.random_range(1..150).to_string();
    let id = c.contacts.next_id();
    let stamp = s.stamp_on(day);
    let domain = format!("{}.ch", slug(&name).chars().take(18).collect::<String>());
    let branch = s.rng.random_range(1..=10u64);
    let contact = Contact {
        name_1: name,
        salutation_id: Some(0),
        address: Some(format!("{street} {house}")),
        street_name: Some(street.into()),
        house_number: Some(house),
        postcode: Some(place.postcode.into()),
        city: Some(place.city.into()),
        country_id: Some(SWITZERLAND),
        mail: Some(format!("info@{domain}")),
        phone_fixed: Some(s.phone()),
        url: Some(format!("https://www.{domain}")),
        language_id: Some(u64::from(place.lang.bexio_language_id())),
        contact_group_ids: Some(group.to_string()),
        contact_branch_ids: (group == GROUP_CUSTOMERS).then(|| branch.to_string()),
        ..Contact::new(id, stamp)
    };
    c.contacts.insert(contact);
    c.sim.log(|l| l.created("contact", RecordId::Num(id)));
    id
}

fn new_person(
    c: &mut Company,
    day: NaiveDate,
    lang: Lang,
    place: &Place,
    company: Option<&str>,
) -> u64 {
    let s = &mut c.sim;
    let female = s.chance(0.5);
    let first = *s.pick(swiss::first_names(lang, female));
    let last = *s.pick(swiss::last_names(lang));
    let street = *s.pick(swiss::streets(place.lang));
    let house = s.rng.random_range(1..90).to_string();
    let id = c.contacts.next_id();
    let stamp = s.stamp_on(day);
    let mail = match company {
        Some(co) => format!(
            "{}.{}@{}.ch",
            slug(first),
            slug(last),
            slug(co).chars().take(18).collect::<String>()
        ),
        None => format!("{}.{}@bluewin.ch", slug(first), slug(last)),
    };
    let birthday = NaiveDate::from_ymd_opt(
        s.rng.random_range(1950..2000),
        s.rng.random_range(1..=12),
        s.rng.random_range(1..=28),
    );
    let salutation = match (lang, female) {
        (Lang::De, false) => 1,
        (Lang::De, true) => 2,
        (Lang::Fr, false) => 6,
        (Lang::Fr, true) => 5,
        (Lang::It, false) => 8,
        (Lang::It, true) => 7,
    };
    c.contacts.insert(Contact {
        contact_type_id: 2,
        name_1: last.into(),
        name_2: Some(first.into()),
        salutation_id: Some(salutation),
        title_id: s.chance(0.06).then_some(1),
        birthday: if company.is_none() { birthday } else { None },
        address: Some(format!("{street} {house}")),
        street_name: Some(street.into()),
        house_number: Some(house),
        postcode: Some(place.postcode.into()),
        city: Some(place.city.into()),
        country_id: Some(SWITZERLAND),
        mail: Some(mail),
        phone_mobile: Some(format!(
            "+41 7{} {} {} {}",
            s.rng.random_range(6..10),
            s.rng.random_range(200..999),
            s.rng.random_range(10..99),
            s.rng.random_range(10..99)
        )),
        language_id: Some(u64::from(lang.bexio_language_id())),
        contact_group_ids: company.is_none().then(|| GROUP_CUSTOMERS.to_string()),
        ..Contact::new(id, stamp)
    });
    c.sim.log(|l| l.created("contact", RecordId::Num(id)));
    id
}

/// Acquires a new client (a company with contact persons, or a private person).
fn new_client(c: &mut Company, day: NaiveDate) {
    let is_company = c.sim.chance(0.75);
    let (contact_id, lang) = if is_company {
        let id = new_company_contact(c, day, None, GROUP_CUSTOMERS);
        let lang = c
            .contacts
            .get(id)
            .and_then(|x| x.language_id)
            .map_or(Lang::De, |l| match l {
                2 => Lang::Fr,
                3 => Lang::It,
                _ => Lang::De,
            });
        (id, lang)
    } else {
        let place = c.sim.place();
        (new_person(c, day, place.lang, place, None), place.lang)
    };
    let mut persons = Vec::new();
    if is_company {
        let n = c.sim.rng.random_range(0..=2);
        let company_name = c
            .contacts
            .get(contact_id)
            .map(|x| x.name_1.clone())
            .unwrap_or_default();
        // Contact persons work where their company is.
        let postcode = c
            .contacts
            .get(contact_id)
            .and_then(|x| x.postcode.clone())
            .unwrap_or_default();
        let place = match swiss::PLACES.iter().find(|p| p.postcode == postcode) {
            Some(p) => *p,
            None => *c.sim.place(),
        };
        for _ in 0..n {
            let pid = new_person(c, day, lang, &place, Some(&company_name));
            persons.push(pid);
            let rid = c.contact_relations.next_id();
            let stamp = c.sim.stamp_on(day);
            c.contact_relations.insert(ContactRelation {
                id: rid,
                contact_id,
                contact_sub_id: pid,
                description: [
                    "Geschäftsführer",
                    "Buchhaltung",
                    "Einkauf",
                    "IT-Verantwortliche/r",
                ][rid as usize % 4]
                    .into(),
                updated_at: stamp,
            });
            c.sim
                .log(|l| l.created("contact_relation", RecordId::Num(rid)));
        }
        if c.sim.chance(0.1) {
            let aid = c.additional_addresses.next_id();
            let street = *c.sim.pick(swiss::streets(place.lang));
            c.additional_addresses.insert(AdditionalAddress {
                id: aid,
                name: company_name.clone(),
                name_addition: Some("Filiale".into()),
                address: Some(format!("{street} {}", aid % 90 + 1)),
                street_name: Some(street.into()),
                house_number: Some((aid % 90 + 1).to_string()),
                address_addition: None,
                postcode: Some(place.postcode.into()),
                city: Some(place.city.into()),
                country_id: Some(SWITZERLAND),
                subject: Some("Lieferadresse".into()),
                description: None,
                contact_id,
            });
            c.sim
                .log(|l| l.created("contact/additional_address", RecordId::Num(aid)));
        }
    }
    let s = &mut c.sim;
    let behaviour = match s.rng.random_range(0..100) {
        0..50 => Behaviour::Prompt,
        50..80 => Behaviour::Slow,
        80..90 => Behaviour::Partial,
        90..96 => Behaviour::Erratic,
        _ => Behaviour::Never,
    };
    // Pareto-like weights: a few clients bring most of the revenue.
    let u: f64 = s.rng.random_range(0.02..1.0);
    let weight = u.powf(-0.9).min(MAX_WEIGHT) * if is_company { 1.0 } else { 0.3 };
    let size = if is_company {
        (0.5 + weight / 6.0).min(4.0)
    } else {
        0.4
    };
    let until = s
        .chance(0.12)
        .then(|| day + Duration::days(s.rng.random_range(200..1000)));
    let currency_id = if is_company && s.chance(0.06) {
        EUR
    } else {
        CHF
    };
    if currency_id == EUR {
        // Euro clients are across the border, in southern Germany.
        const GERMAN_PLACES: [(&str, &str); 10] = [
            ("78462", "Konstanz"),
            ("79539", "Lörrach"),
            ("79098", "Freiburg im Breisgau"),
            ("78224", "Singen (Hohentwiel)"),
            ("79761", "Waldshut-Tiengen"),
            ("88131", "Lindau (Bodensee)"),
            ("80331", "München"),
            ("70173", "Stuttgart"),
            ("60311", "Frankfurt am Main"),
            ("78050", "Villingen-Schwenningen"),
        ];
        let (postcode, city) = *s.pick(&GERMAN_PLACES);
        let street = *s.pick(swiss::STREETS_DE);
        let house = s.rng.random_range(1..120).to_string();
        let phone = format!(
            "+49 {} {}",
            s.rng.random_range(700..799),
            s.rng.random_range(100_000..999_999)
        );
        if let Some(ct) = c.contacts.get_mut(contact_id) {
            ct.country_id = Some(GERMANY);
            ct.postcode = Some(postcode.into());
            ct.city = Some(city.into());
            ct.street_name = Some(street.into());
            ct.address = Some(format!("{street} {house}"));
            ct.house_number = Some(house);
            ct.phone_fixed = Some(phone);
            ct.language_id = Some(1);
        }
    }
    let ct = c.contacts.get(contact_id);
    let address: Arc<str> = Arc::from(ct.map_or(String::new(), |ct| {
        format!(
            "{}\n{}\n{} {}",
            match &ct.name_2 {
                Some(n2) if ct.contact_type_id == 2 && !n2.is_empty() =>
                    format!("{} {}", n2, ct.name_1),
                _ => ct.name_1.clone(),
            },
            ct.address.clone().unwrap_or_default(),
            ct.postcode.clone().unwrap_or_default(),
            ct.city.clone().unwrap_or_default()
        )
    }));
    let services_share = s.rng.random_range(0.2..0.9);
    let vip = weight > 8.0;
    s.client_by_contact.insert(contact_id, s.clients.len());
    s.clients.push(Client {
        contact_id,
        weight,
        size,
        services_share,
        behaviour,
        until,
        currency_id,
        lang,
        persons,
        project: None,
        address,
        vip,
        invoices: 0,
    });
}

/// Picks an active client with probability proportional to its weight (rejection sampling, so
/// the cost does not grow with the number of clients).
fn active_client(c: &mut Company, day: NaiveDate) -> usize {
    let s = &mut c.sim;
    let n = s.clients.len();
    if n == 0 {
        return 0;
    }
    for _ in 0..10_000 {
        let i = s.rng.random_range(0..n);
        let cl = &s.clients[i];
        if cl.until.is_some_and(|u| u <= day) {
            continue;
        }
        if s.rng.random_range(0.0..MAX_WEIGHT) < cl.weight {
            return i;
        }
    }
    // Practically unreachable: fall back to any active client.
    s.clients
        .iter()
        .position(|cl| cl.until.is_none_or(|u| u > day))
        .unwrap_or(0)
}

/// Builds the positions of a new document for a client.
fn make_positions(c: &mut Company, client: usize, day: NaiveDate, factor: u32) -> Vec<Position> {
    let s = &mut c.sim;
    let cl = s.clients[client].clone();
    let n_lines = s.rng.random_range(1..=4) + usize::from(cl.size > 2.0);
    let mut out = Vec::with_capacity(n_lines + 3);
    let mut internal = 0u32;
    let mut pos_nr = 0u32;
    if s.chance(0.15) {
        internal += 1;
        out.push(Position {
            id: s.next_position,
            kind: PositionKind::Text { show_pos_nr: false },
            amount: Decimal::ZERO,
            unit_id: None,
            unit_name: Arc::from(""),
            account_id: None,
            tax_id: None,
            tax_value: Decimal::ZERO,
            text: Arc::from(format!(
                "Gemäss Offerte vom {}",
                (day - Duration::days(14)).format("%d.%m.%Y")
            )),
            unit_price: Decimal::ZERO,
            discount_in_percent: Decimal::ZERO,
            position_total: Decimal::ZERO,
            pos: None,
            internal_pos: internal,
        });
        s.next_position += 1;
    }
    let mut subtotal = Decimal::ZERO;
    for _ in 0..n_lines {
        let want_service = s.rng.random_bool(cl.services_share);
        let idx = loop {
            let i = s.rng.random_range(0..swiss::ARTICLES.len());
            if (swiss::ARTICLES[i].kind == ArticleKind::Service) == want_service || s.chance(0.1) {
                break i;
            }
        };
        let a = &swiss::ARTICLES[idx];
        let base_qty: i64 = match a.unit {
            "h" => s.rng.random_range(1..=16) * 2,
            "Min" => s.rng.random_range(15..=90),
            "Monat" => s.rng.random_range(1..=12),
            "km" => s.rng.random_range(10..=180),
            "Tag" | "Nacht" => s.rng.random_range(1..=4),
            "Lizenz" => s.rng.random_range(1..=15),
            "Pauschal" | "Jahr" => 1,
            _ => s.rng.random_range(1..=5),
        };
        let scale = (cl.size * f64::from(factor)).max(0.25);
        let scaled =
            Decimal::from(base_qty) * Decimal::from_f64_retain(scale).unwrap_or(Decimal::ONE);
        // Hours are billed in half hours (at least one), everything else in whole units.
        let qty = if a.unit == "h" {
            ((scaled * Decimal::TWO).round_dp(0) / Decimal::TWO).max(Decimal::ONE)
        } else {
            scaled.round_dp(0).max(Decimal::ONE)
        };
        let mut price = d(a.sale_price);
        if cl.currency_id == EUR {
            price = cents(price * d("1.04"));
        }
        let discount = if cl.vip && s.chance(0.3) {
            d("5")
        } else {
            Decimal::ZERO
        };
        let total = cents(qty * price * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED);
        let (tax_id, rate) = refdata::sales_tax(a.vat, day);
        internal += 1;
        pos_nr += 1;
        let unit = swiss::unit_id(a.unit).unwrap_or(1);
        let article_id = idx as u64 + 1;
        out.push(Position {
            id: s.next_position,
            kind: if s.chance(0.85) {
                PositionKind::Article { article_id }
            } else {
                PositionKind::Custom
            },
            amount: qty,
            unit_id: Some(u64::from(unit)),
            unit_name: s.unit_names[(unit - 1) as usize].clone(),
            account_id: Some(account_id(if a.kind == ArticleKind::Product {
                "3200"
            } else {
                "3400"
            })),
            tax_id: Some(tax_id),
            tax_value: rate,
            text: s.article_text[idx].clone(),
            unit_price: price,
            discount_in_percent: discount,
            position_total: total,
            pos: Some(pos_nr),
            internal_pos: internal,
        });
        s.next_position += 1;
        subtotal += total;
    }
    if pos_nr >= 3 && s.chance(0.4) {
        internal += 1;
        out.push(Position {
            id: s.next_position,
            kind: PositionKind::Subtotal { value: subtotal },
            amount: Decimal::ZERO,
            unit_id: None,
            unit_name: Arc::from(""),
            account_id: None,
            tax_id: None,
            tax_value: Decimal::ZERO,
            text: Arc::from("Zwischentotal"),
            unit_price: Decimal::ZERO,
            discount_in_percent: Decimal::ZERO,
            position_total: Decimal::ZERO,
            pos: None,
            internal_pos: internal,
        });
        s.next_position += 1;
    }
    if cl.vip && s.chance(0.25) {
        let pct = d("3");
        out.push(Position {
            id: s.next_position,
            kind: PositionKind::Discount {
                is_percentual: true,
                value: pct,
                discount_total: cents(subtotal * pct / Decimal::ONE_HUNDRED),
            },
            amount: Decimal::ZERO,
            unit_id: None,
            unit_name: Arc::from(""),
            account_id: None,
            tax_id: None,
            tax_value: Decimal::ZERO,
            text: Arc::from("Partnerrabatt"),
            unit_price: Decimal::ZERO,
            discount_in_percent: Decimal::ZERO,
            position_total: Decimal::ZERO,
            pos: None,
            internal_pos: internal + 1,
        });
        s.next_position += 1;
    }
    out
}

/// Totals as bexio computes them for net prices with VAT added (`mwst_type` 0, `mwst_is_net`).
struct Totals {
    gross: Decimal,
    net: Decimal,
    taxes: Decimal,
    total: Decimal,
    rounding: Decimal,
    taxs: Vec<TaxLine>,
    /// Net per revenue account, after document discounts.
    by_account: BTreeMap<u64, Decimal>,
}

fn totals(positions: &[Position], round_factor: Decimal) -> Totals {
    let mut gross = Decimal::ZERO;
    let mut by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    let mut by_account: BTreeMap<u64, Decimal> = BTreeMap::new();
    let mut discount = Decimal::ZERO;
    for p in positions {
        match p.kind {
            PositionKind::Custom | PositionKind::Article { .. } => {
                gross += p.position_total;
                *by_rate.entry(p.tax_value).or_default() += p.position_total;
                *by_account.entry(p.account_id.unwrap_or(0)).or_default() += p.position_total;
            }
            PositionKind::Discount { discount_total, .. } => discount += discount_total,
            _ => {}
        }
    }
    let net = gross - discount;
    let share = if gross.is_zero() {
        Decimal::ONE
    } else {
        net / gross
    };
    let mut taxes = Decimal::ZERO;
    let mut taxs = Vec::new();
    for (rate, base) in &by_rate {
        let v = (base * share * rate / Decimal::ONE_HUNDRED).round_dp(4);
        taxes += v;
        taxs.push(TaxLine {
            percentage: *rate,
            value: v,
        });
    }
    // Spread the discount over revenue accounts; the last one takes the remainder.
    let mut left = net;
    let n = by_account.len();
    for (i, v) in by_account.values_mut().enumerate() {
        if i + 1 == n {
            *v = left;
        } else {
            *v = cents(*v * share);
            left -= *v;
        }
    }
    let exact = cents(net + taxes);
    let total = round_to(net + taxes, round_factor);
    Totals {
        gross,
        net,
        taxes,
        total,
        rounding: total - exact,
        taxs,
        by_account,
    }
}

fn doc_number(c: &mut Company, kind: DocKind) -> String {
    let i = kind as usize;
    c.sim.doc_numbers[i] += 1;
    format!("{}-{:05}", kind.prefix(), c.sim.doc_numbers[i])
}

/// Creates a sales document; returns its id.
fn new_doc(
    c: &mut Company,
    kind: DocKind,
    client: usize,
    day: NaiveDate,
    positions: Vec<Position>,
    origin: Option<(DocKind, u64)>,
) -> u64 {
    let cl = c.sim.clients[client].clone();
    let round_factor = c
        .currencies
        .get(cl.currency_id)
        .map_or(d("0.01"), |cur| cur.round_factor);
    let t = totals(&positions, round_factor);
    let id = c.docs(kind).next_id();
    let document_nr = doc_number(c, kind);
    let stamp = c.sim.stamp_on(day);
    let terms = match cl.behaviour {
        Behaviour::Prompt if c.sim.chance(0.2) => 10,
        _ => *c.sim.pick(&[30, 30, 30, 20]),
    };
    let title = match kind {
        DocKind::Invoice => {
            let name = c
                .contacts
                .get(cl.contact_id)
                .map(|x| x.name_1.as_str())
                .unwrap_or_default();
            c.sim.pick(swiss::DOCUMENT_TITLES).replace("{client}", name)
        }
        DocKind::Offer => "Offerte".to_string(),
        DocKind::Order => "Auftragsbestätigung".to_string(),
    };
    let status = match kind {
        DocKind::Offer => status::OFFER_PENDING,
        DocKind::Order => status::ORDER_PENDING,
        DocKind::Invoice => status::INVOICE_DRAFT,
    };
    let network_link = format!(
        "https://my.bexio.com/{}/{}",
        kind.route(),
        doc_uuid(c.sim.seed, kind, id).simple()
    );
    let doc = SalesDoc {
        kind,
        id,
        document_nr,
        title: Some(title),
        contact_id: Some(cl.contact_id),
        contact_sub_id: cl.persons.first().copied(),
        user_id: c.sim.rng.random_range(1..=c.users.len().max(1) as u64),
        project_id: cl.project.filter(|_| c.sim.chance(0.3)),
        language_id: u64::from(cl.lang.bexio_language_id()),
        bank_account_id: if cl.currency_id == EUR { 2 } else { 1 },
        currency_id: cl.currency_id,
        payment_type_id: 4,
        header: c.sim.header.clone(),
        footer: c.sim.footers[match terms {
            10 => 0,
            20 => 1,
            _ => 2,
        }]
        .clone(),
        total_gross: t.gross,
        total_net: t.net,
        total_taxes: t.taxes,
        total_received_payments: Decimal::ZERO,
        total_credit_vouchers: Decimal::ZERO,
        total: t.total,
        total_rounding_difference: t.rounding,
        mwst_type: 0,
        mwst_is_net: true,
        show_position_taxes: false,
        is_valid_from: day,
        is_valid_to: day + Duration::days(if kind == DocKind::Offer { 30 } else { terms }),
        contact_address: cl.address.clone(),
        kb_item_status_id: status,
        reference: None,
        api_reference: None,
        viewed_by_client_at: None,
        updated_at: stamp,
        template_slug: "581a8010821e01426b8b456b",
        taxs: t.taxs,
        network_link,
        is_recurring: false,
        positions,
        payments: Vec::new(),
        origin,
    };
    c.docs_mut(kind).insert(doc);
    c.sim.log(|l| l.created(kind.route(), RecordId::Num(id)));
    id
}

fn touch(c: &mut Company, kind: DocKind, id: u64, day: NaiveDate) {
    let stamp = c.sim.stamp_on(day);
    if let Some(doc) = c.docs_mut(kind).get_mut(id) {
        doc.updated_at = stamp.max(doc.updated_at);
    }
    c.sim.log(|l| l.updated(kind.route(), RecordId::Num(id)));
}

fn new_invoice(
    c: &mut Company,
    client: usize,
    day: NaiveDate,
    positions: Vec<Position>,
    origin: Option<(DocKind, u64)>,
) -> u64 {
    let id = new_doc(c, DocKind::Invoice, client, day, positions, origin);
    c.sim.cum_invoices += 1;
    c.sim.clients[client].invoices += 1;
    // Most invoices are issued the day they are written; some wait as drafts.
    let s = &mut c.sim;
    if s.chance(0.75) {
        issue_invoice(c, id, day);
    } else {
        let later = day + Duration::days(s.rng.random_range(1..=6));
        let ev = if s.chance(0.04) {
            Event::DeleteDraft(id)
        } else {
            Event::Issue(id)
        };
        s.schedule(later, ev);
    }
    id
}

fn issue_invoice(c: &mut Company, id: u64, day: NaiveDate) {
    let Some(doc) = c.invoices.get(id) else {
        return;
    };
    if doc.kb_item_status_id != status::INVOICE_DRAFT {
        return;
    }
    let (total, due, client_contact) = (doc.total, doc.is_valid_to, doc.contact_id);
    if let Some(doc) = c.invoices.get_mut(id) {
        doc.kb_item_status_id = status::INVOICE_PENDING;
    }
    touch(c, DocKind::Invoice, id, day);
    book_invoice(c, id, day, false);
    let behaviour = client_contact
        .and_then(|id| c.sim.client_by_contact.get(&id))
        .map_or(Behaviour::Prompt, |i| c.sim.clients[*i].behaviour);
    let s = &mut c.sim;
    if total.is_zero() {
        return;
    }
    if s.chance(0.015) {
        let when = day + Duration::days(s.rng.random_range(1..20));
        s.schedule(when, Event::Cancel(id));
        return;
    }
    let full = Decimal::ONE;
    let at = |s: &mut Sim, lo: i64, hi: i64| {
        (due + Duration::days(s.rng.random_range(lo..hi))).max(day + Duration::days(1))
    };
    match behaviour {
        Behaviour::Prompt => {
            let when = at(s, -20, 3);
            s.schedule(
                when,
                Event::Pay {
                    invoice: id,
                    share: full,
                },
            );
        }
        Behaviour::Slow => {
            let when = at(s, 5, 60);
            s.schedule(
                when,
                Event::Pay {
                    invoice: id,
                    share: full,
                },
            );
        }
        Behaviour::Partial => {
            let first = at(s, 0, 15);
            let second = at(s, 20, 75);
            s.schedule(
                first,
                Event::Pay {
                    invoice: id,
                    share: d("0.5"),
                },
            );
            s.schedule(
                second,
                Event::Pay {
                    invoice: id,
                    share: full,
                },
            );
        }
        Behaviour::Erratic => {
            if s.chance(0.7) {
                let when = at(s, 10, 120);
                s.schedule(
                    when,
                    Event::Pay {
                        invoice: id,
                        share: full,
                    },
                );
            }
        }
        Behaviour::Never => {}
    }
}

/// Books an invoice (or its reversal) in the journal.
fn book_invoice(c: &mut Company, id: u64, day: NaiveDate, reverse: bool) {
    let Some(doc) = c.invoices.get(id) else {
        return;
    };
    let round_factor = c
        .currencies
        .get(doc.currency_id)
        .map_or(d("0.01"), |cur| cur.round_factor);
    let t = totals(&doc.positions, round_factor);
    let currency_id = doc.currency_id;
    let text: Arc<str> = Arc::from(format!(
        "{} - {}",
        doc.document_nr,
        doc.contact_address.lines().next().unwrap_or("")
    ));
    let debtor = account_id("1100");
    let mut lines: Vec<(u64, u64, Decimal)> = t
        .by_account
        .iter()
        .map(|(acc, v)| (debtor, *acc, *v))
        .collect();
    let vat = cents(t.taxes);
    lines.push((debtor, account_id("2200"), vat));
    let rounding = t.total - t.net - vat;
    if rounding > Decimal::ZERO {
        lines.push((debtor, account_id("6945"), rounding));
    } else if rounding < Decimal::ZERO {
        lines.push((account_id("6945"), debtor, -rounding));
    }
    let q = (day.year(), day.month0() / 3);
    let chf_vat = if currency_id == EUR {
        cents(vat * c.eur_rate(day))
    } else {
        vat
    };
    c.sim.quarter_vat.entry(q).or_default().0 += if reverse { -chf_vat } else { chf_vat };
    for (debit, credit, amount) in lines {
        if amount.is_zero() {
            continue;
        }
        let (debit, credit) = if reverse {
            (credit, debit)
        } else {
            (debit, credit)
        };
        journal(
            c,
            day,
            "KbInvoice",
            id,
            debit,
            credit,
            amount,
            currency_id,
            &text,
        );
    }
}

/// The uuid of the record a booking refers to: the document's, bill's or expense's own.
fn ref_uuid(c: &Company, class: &str, id: u64) -> uuid::Uuid {
    let own = |s: Option<&String>| s.and_then(|s| s.parse().ok());
    match class {
        "KbInvoice" => doc_uuid(c.sim.seed, DocKind::Invoice, id),
        "KbBill" => own(c.bills.get(id).map(|b| &b.id)).unwrap_or_default(),
        "KbExpense" => own(c.expenses.get(id).map(|e| &e.id)).unwrap_or_default(),
        _ => uuid_for(
            c.sim.seed
                ^ splitmix(
                    class
                        .bytes()
                        .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b)),
                ),
            id,
        ),
    }
}

/// A sales document's uuid (also the key of its customer-portal link).
fn doc_uuid(seed: u64, kind: DocKind, id: u64) -> uuid::Uuid {
    uuid_for(seed ^ kind as u64, id)
}

/// Books one journal line, in the document's currency with its CHF value.
#[allow(clippy::too_many_arguments)]
fn journal(
    c: &mut Company,
    day: NaiveDate,
    class: &'static str,
    ref_id: u64,
    debit: u64,
    credit: u64,
    amount: Decimal,
    currency_id: u64,
    text: &Arc<str>,
) {
    let factor = if currency_id == EUR {
        c.eur_rate(day)
    } else {
        Decimal::ONE
    };
    let id = c.journal.next_id();
    c.journal.insert(JournalEntry {
        id,
        ref_id,
        ref_uuid: ref_uuid(c, class, ref_id),
        ref_class: class,
        date: midnight(day),
        debit_account_id: debit,
        credit_account_id: credit,
        description: text.clone(),
        amount,
        currency_id,
        currency_factor: factor,
        base_currency_id: CHF,
        base_currency_amount: cents(amount * factor),
    });
    c.sim
        .log(|l| l.created("accounting/journal", RecordId::Num(id)));
}

fn pay_invoice(c: &mut Company, id: u64, share: Decimal, day: NaiveDate) {
    let Some(doc) = c.invoices.get(id) else {
        return;
    };
    let target = cents(doc.total * share);
    let amount = (target - doc.total_received_payments).min(doc.remaining());
    let bank = doc.bank_account_id;
    let _ = record_payment(c, id, day, amount, bank, None);
}

/// Books a payment of an open invoice: the payment record, the invoice's status and the journal.
pub(crate) fn record_payment(
    c: &mut Company,
    id: u64,
    day: NaiveDate,
    amount: Decimal,
    bank: u64,
    payment_service_id: Option<u64>,
) -> Result<Payment, String> {
    let doc = c.invoices.get(id).ok_or("no such invoice")?;
    if !matches!(
        doc.kb_item_status_id,
        status::INVOICE_PENDING | status::INVOICE_PARTIAL
    ) {
        return Err("Payments can only be added to open invoices".into());
    }
    if amount <= Decimal::ZERO || amount > doc.remaining() {
        return Err(format!(
            "The payment must be more than 0 and at most the remaining {}",
            doc.remaining()
        ));
    }
    let pid = c.sim.next_payment;
    c.sim.next_payment += 1;
    let currency_id = doc.currency_id;
    let text: Arc<str> = Arc::from(format!("Zahlung {}", doc.document_nr));
    let payment = Payment {
        id: pid,
        date: day,
        value: amount,
        bank_account_id: Some(bank),
        title: "Zahlungseingang".into(),
        payment_service_id,
        is_client_account_redemption: false,
        is_cash_discount: false,
        kb_invoice_id: id,
        kb_credit_voucher_id: None,
        kb_bill_id: None,
        kb_credit_voucher_text: String::new(),
    };
    if let Some(doc) = c.invoices.get_mut(id) {
        doc.payments.push(payment.clone());
        doc.total_received_payments += amount;
        doc.kb_item_status_id = if doc.remaining().is_zero() {
            status::INVOICE_PAID
        } else {
            status::INVOICE_PARTIAL
        };
    }
    touch(c, DocKind::Invoice, id, day);
    c.sim
        .log(|l| l.created("kb_invoice/payment", RecordId::Num(pid)));
    journal(
        c,
        day,
        "KbPayment",
        pid,
        bank_account(bank),
        account_id("1100"),
        amount,
        currency_id,
        &text,
    );
    Ok(payment)
}

fn bank_account(bank_account_id: u64) -> u64 {
    if bank_account_id == 2 {
        account_id("1021")
    } else {
        account_id("1020")
    }
}

/// Removes a payment and books its reversal.
pub(crate) fn remove_payment(
    c: &mut Company,
    id: u64,
    pid: u64,
    day: NaiveDate,
) -> Result<(), String> {
    let doc = c.invoices.get_mut(id).ok_or("no such invoice")?;
    let at = doc
        .payments
        .iter()
        .position(|p| p.id == pid)
        .ok_or("no such payment")?;
    let p = doc.payments.remove(at);
    doc.total_received_payments -= p.value;
    doc.kb_item_status_id = if doc.total_received_payments.is_zero() {
        status::INVOICE_PENDING
    } else {
        status::INVOICE_PARTIAL
    };
    let (currency_id, text) = (
        doc.currency_id,
        Arc::<str>::from(format!("Storno Zahlung {}", doc.document_nr)),
    );
    touch(c, DocKind::Invoice, id, day);
    c.sim
        .log(|l| l.deleted("kb_invoice/payment", RecordId::Num(pid)));
    let bank = bank_account(p.bank_account_id.unwrap_or(1));
    journal(
        c,
        day,
        "KbPayment",
        pid,
        account_id("1100"),
        bank,
        p.value,
        currency_id,
        &text,
    );
    Ok(())
}

/// Issues a draft invoice (books it and lets the client's payment behaviour take its course).
pub(crate) fn issue_from_api(c: &mut Company, id: u64, day: NaiveDate) -> Result<(), String> {
    match c.invoices.get(id) {
        None => Err("no such invoice".into()),
        Some(d) if d.kb_item_status_id != status::INVOICE_DRAFT => {
            Err("Only draft invoices can be issued".into())
        }
        Some(_) => {
            issue_invoice(c, id, day);
            Ok(())
        }
    }
}

/// Takes an open invoice without payments back to draft, reversing its booking.
pub(crate) fn revert_issue(c: &mut Company, id: u64, day: NaiveDate) -> Result<(), String> {
    let doc = c.invoices.get_mut(id).ok_or("no such invoice")?;
    if doc.kb_item_status_id != status::INVOICE_PENDING || !doc.payments.is_empty() {
        return Err("Only open invoices without payments can be reverted to draft".into());
    }
    doc.kb_item_status_id = status::INVOICE_DRAFT;
    touch(c, DocKind::Invoice, id, day);
    book_invoice(c, id, day, true);
    Ok(())
}

/// Cancels an open invoice without payments, reversing its booking.
pub(crate) fn cancel_from_api(c: &mut Company, id: u64, day: NaiveDate) -> Result<(), String> {
    match c.invoices.get(id) {
        None => Err("no such invoice".into()),
        Some(d) if d.kb_item_status_id != status::INVOICE_PENDING || !d.payments.is_empty() => {
            Err("Only open invoices without payments can be cancelled".into())
        }
        Some(_) => {
            cancel_invoice(c, id, day);
            Ok(())
        }
    }
}

fn new_offer(c: &mut Company, client: usize, day: NaiveDate) {
    let positions = make_positions(c, client, day, 1);
    let id = new_doc(c, DocKind::Offer, client, day, positions, None);
    let s = &mut c.sim;
    match s.rng.random_range(0..100) {
        0..62 => {
            let when = day + Duration::days(s.rng.random_range(3..21));
            s.schedule(when, Event::AcceptOffer(id));
        }
        62..84 => {
            let when = day + Duration::days(s.rng.random_range(5..30));
            s.schedule(when, Event::DeclineOffer(id));
        }
        _ => {}
    }
}

fn accept_offer(c: &mut Company, id: u64, day: NaiveDate) {
    let Some(offer) = c.offers.get(id) else {
        return;
    };
    if offer.kb_item_status_id != status::OFFER_PENDING {
        return;
    }
    let contact = offer.contact_id;
    let mut positions = offer.positions.clone();
    let Some(client) = contact.and_then(|id| c.sim.client_by_contact.get(&id).copied()) else {
        return;
    };
    // A client who has left declines what is still open.
    let gone = c.sim.clients[client].until.is_some_and(|u| u <= day);
    if let Some(o) = c.offers.get_mut(id) {
        o.kb_item_status_id = if gone {
            status::OFFER_DECLINED
        } else {
            status::OFFER_ACCEPTED
        };
    }
    if gone {
        touch(c, DocKind::Offer, id, day);
        return;
    }
    touch(c, DocKind::Offer, id, day);
    for p in &mut positions {
        p.id = c.sim.next_position;
        c.sim.next_position += 1;
    }
    let order = new_doc(
        c,
        DocKind::Order,
        client,
        day,
        positions,
        Some((DocKind::Offer, id)),
    );
    let s = &mut c.sim;
    let when = day + Duration::days(s.rng.random_range(5..30));
    s.schedule(when, Event::InvoiceOrder(order));
}

fn invoice_order(c: &mut Company, id: u64, day: NaiveDate) {
    let Some(order) = c.orders.get(id) else {
        return;
    };
    if order.kb_item_status_id != status::ORDER_PENDING {
        return;
    }
    // Keep the planned number of invoices exact: past today's plan, the order waits a day.
    if c.sim.cum_invoices >= c.sim.cum_target.round() as u64 {
        c.sim
            .schedule(day + Duration::days(1), Event::InvoiceOrder(id));
        return;
    }
    let contact = order.contact_id;
    let mut positions = order.positions.clone();
    let Some(client) = contact.and_then(|id| c.sim.client_by_contact.get(&id).copied()) else {
        return;
    };
    if let Some(o) = c.orders.get_mut(id) {
        o.kb_item_status_id = status::ORDER_DONE;
    }
    touch(c, DocKind::Order, id, day);
    for p in &mut positions {
        p.id = c.sim.next_position;
        c.sim.next_position += 1;
    }
    new_invoice(c, client, day, positions, Some((DocKind::Order, id)));
}

fn cancel_invoice(c: &mut Company, id: u64, day: NaiveDate) {
    let Some(doc) = c.invoices.get(id) else {
        return;
    };
    if doc.kb_item_status_id != status::INVOICE_PENDING || !doc.payments.is_empty() {
        return;
    }
    if let Some(doc) = c.invoices.get_mut(id) {
        doc.kb_item_status_id = status::INVOICE_CANCELLED;
    }
    touch(c, DocKind::Invoice, id, day);
    book_invoice(c, id, day, true);
}

fn run_event(c: &mut Company, ev: Event, day: NaiveDate) {
    match ev {
        Event::Issue(id) => issue_invoice(c, id, day),
        Event::DeleteDraft(id) => {
            if c.invoices
                .get(id)
                .is_some_and(|x| x.kb_item_status_id == status::INVOICE_DRAFT)
            {
                c.invoices.remove(id);
                // The planned count is of invoices that exist; a deleted draft is written again.
                c.sim.cum_invoices = c.sim.cum_invoices.saturating_sub(1);
                c.sim.log(|l| l.deleted("kb_invoice", RecordId::Num(id)));
            }
        }
        Event::Pay { invoice, share } => pay_invoice(c, invoice, share, day),
        Event::Cancel(id) => cancel_invoice(c, id, day),
        Event::AcceptOffer(id) => accept_offer(c, id, day),
        Event::DeclineOffer(id) => {
            if c.offers
                .get(id)
                .is_some_and(|o| o.kb_item_status_id == status::OFFER_PENDING)
            {
                if let Some(o) = c.offers.get_mut(id) {
                    o.kb_item_status_id = status::OFFER_DECLINED;
                }
                touch(c, DocKind::Offer, id, day);
            }
        }
        Event::InvoiceOrder(id) => invoice_order(c, id, day),
        Event::PayBill(seq) => pay_bill(c, seq, day),
    }
}

fn poisson_round(s: &mut Sim, x: f64) -> usize {
    let base = x.floor();
    (base as usize) + usize::from(s.rng.random_bool((x - base).clamp(0.0, 1.0)))
}

fn simulate_day(c: &mut Company, day: NaiveDate) {
    // Exchange rate: a gentle random walk around 0.95 CHF per EUR.
    let prev = c
        .eur_rates
        .values()
        .next_back()
        .copied()
        .unwrap_or(d("0.9850"));
    let step = Decimal::from(c.sim.rng.random_range(-20i64..=19)) / Decimal::from(10_000);
    let rate = (prev + step).clamp(d("0.9100"), d("1.0500"));
    c.eur_rates.insert(day, rate);

    let w = day_weight(day, c.sim.start, c.sim.burst);
    let rate = w * c.sim.per_weight;
    c.sim.cum_target += rate;
    // Nothing is booked on weekends and holidays: what falls due then happens on the next day.
    let due = c.sim.schedule.remove(&day).unwrap_or_default();
    if w == 0.0 {
        if !due.is_empty() {
            c.sim
                .schedule
                .entry(day + Duration::days(1))
                .or_default()
                .extend(due);
        }
    } else {
        for ev in due {
            run_event(c, ev, day);
        }
    }
    if day >= c.sim.burst.0
        && !c
            .anomalies
            .iter()
            .any(|a| matches!(a, Anomaly::ActivityBurst { .. }))
    {
        let (from, to) = c.sim.burst;
        c.anomalies.push(Anomaly::ActivityBurst {
            from,
            to,
            factor: BURST_FACTOR as u32,
            invoice_ids: Vec::new(),
        });
    }
    if day >= c.sim.churn_day && c.sim.churn_client.is_none() {
        start_churn(c, day);
    }
    if w == 0.0 {
        return;
    }

    // New clients arrive steadily; a few leave (their `until`).
    let horizon_days = 1400.0;
    let p_new = c.sim.contacts_target * 0.65 / horizon_days * 7.0 / 5.0;
    for _ in 0..poisson_round(&mut c.sim, p_new) {
        new_client(c, day);
    }

    // Quotes, part of which become orders and invoices later.
    for _ in 0..poisson_round(&mut c.sim, rate * 0.45) {
        let client = active_client(c, day);
        new_offer(c, client, day);
    }

    // Invoices written directly, topping up to the planned cumulative count.
    let target = c.sim.cum_target.round() as u64;
    let direct = target.saturating_sub(c.sim.cum_invoices);
    for i in 0..direct {
        let planted = c
            .anomalies
            .iter()
            .any(|a| matches!(a, Anomaly::InvoiceSpike { .. }));
        if i == 0 && day >= c.sim.spike_day && !planted {
            spike_invoice(c, day);
            continue;
        }
        let client = active_client(c, day);
        let positions = make_positions(c, client, day, 1);
        new_invoice(c, client, day, positions, None);
    }

    projects_and_time(c, day, rate);
    purchases(c, day, rate);
    bookkeeping(c, day);

    // Now and then a contact changes (new address, e-mail).
    let edits = poisson_round(&mut c.sim, c.contacts.len() as f64 * 0.0008);
    for _ in 0..edits {
        let n = c.contacts.len() as u64;
        if n == 0 {
            break;
        }
        let id = c.sim.rng.random_range(1..=n);
        let stamp = c.sim.stamp_on(day);
        // A move within the contact's language region.
        let lang = match c.contacts.get(id).and_then(|x| x.language_id) {
            Some(2) => Lang::Fr,
            Some(3) => Lang::It,
            _ => Lang::De,
        };
        let street = *c.sim.pick(swiss::streets(lang));
        let house = c.sim.rng.random_range(1..99).to_string();
        if let Some(ct) = c.contacts.get_mut(id).filter(|ct| !ct.archived) {
            ct.street_name = Some(street.into());
            ct.house_number = Some(house.clone());
            ct.address = Some(format!("{street} {house}"));
            ct.updated_at = stamp;
            c.sim.log(|l| l.updated("contact", RecordId::Num(id)));
        }
    }
    // Clients that left long ago are archived (bexio's DELETE on contacts).
    if day.day() == 1 {
        let gone: Vec<u64> = c
            .sim
            .clients
            .iter()
            .filter(|cl| cl.until.is_some_and(|u| u + Duration::days(365) < day))
            .map(|cl| cl.contact_id)
            .collect();
        for id in gone {
            let stamp = c.sim.stamp_on(day);
            if let Some(ct) = c.contacts.get_mut(id).filter(|ct| !ct.archived) {
                ct.archived = true;
                ct.updated_at = stamp;
                c.sim.log(|l| l.deleted("contact", RecordId::Num(id)));
            }
        }
    }
}

/// The active client with the most invoices so far: a regular whose usual is well known.
fn regular_client(c: &Company, day: NaiveDate, except: Option<usize>) -> Option<usize> {
    c.sim
        .clients
        .iter()
        .enumerate()
        .filter(|(i, cl)| Some(*i) != except && cl.until.is_none_or(|u| u > day))
        .max_by_key(|(_, cl)| cl.invoices)
        .filter(|(_, cl)| cl.invoices >= 2)
        .map(|(i, _)| i)
}

/// Writes one invoice about [`SPIKE_FACTOR`] times a regular client's usual (median) amount.
fn spike_invoice(c: &mut Company, day: NaiveDate) {
    let Some(client) = regular_client(c, day, c.sim.churn_client) else {
        // No regular yet: an ordinary invoice today, the spike on a later day.
        let client = active_client(c, day);
        let positions = make_positions(c, client, day, 1);
        new_invoice(c, client, day, positions, None);
        return;
    };
    let contact = c.sim.clients[client].contact_id;
    let mut usual: Vec<Decimal> = c
        .invoices
        .iter()
        .filter(|d| d.contact_id == Some(contact))
        .map(|d| d.total_net)
        .collect();
    usual.sort();
    let median = usual.get(usual.len() / 2).copied().unwrap_or(Decimal::ONE);
    let mut positions: Vec<Position> = make_positions(c, client, day, 1)
        .into_iter()
        .filter(|p| matches!(p.kind, PositionKind::Custom | PositionKind::Article { .. }))
        .collect();
    let base: Decimal = positions.iter().map(|p| p.position_total).sum();
    let wanted = median * Decimal::from(SPIKE_FACTOR);
    let mult = if base.is_zero() {
        Decimal::from(SPIKE_FACTOR)
    } else {
        (wanted / base).ceil().max(Decimal::ONE)
    };
    for p in &mut positions {
        p.amount *= mult;
        p.position_total = cents(
            p.amount * p.unit_price * (Decimal::ONE_HUNDRED - p.discount_in_percent)
                / Decimal::ONE_HUNDRED,
        );
    }
    let id = new_invoice(c, client, day, positions, None);
    // The spike is issued at once, so it is never a draft that gets deleted.
    issue_invoice(c, id, day);
    let total = c.invoices.get(id).map_or(Decimal::ZERO, |d| d.total_net);
    let factor = if median.is_zero() {
        SPIKE_FACTOR
    } else {
        rust_decimal::prelude::ToPrimitive::to_u32(&(total / median).round())
            .unwrap_or(SPIKE_FACTOR)
    };
    c.anomalies.push(Anomaly::InvoiceSpike {
        invoice_id: id,
        contact_id: contact,
        factor,
    });
}

/// A regular client stops ordering from `day` on.
fn start_churn(c: &mut Company, day: NaiveDate) {
    if let Some(client) = regular_client(c, day, None) {
        c.sim.clients[client].until = Some(day);
        c.sim.churn_client = Some(client);
    }
}

/// Documents the planted anomalies with the ids they concern.
fn document_anomalies(c: &mut Company) {
    let (from, to) = c.sim.burst;
    let burst: Vec<u64> = c
        .invoices
        .iter()
        .filter(|d| d.is_valid_from >= from && d.is_valid_from <= to)
        .map(|d| d.id)
        .collect();
    for a in &mut c.anomalies {
        if let Anomaly::ActivityBurst { invoice_ids, .. } = a {
            invoice_ids.clone_from(&burst);
        }
    }
    plant_churn(c);
}

/// Documents the churned client with the day of its last invoice.
fn plant_churn(c: &mut Company) {
    let Some(client) = c.sim.churn_client else {
        return;
    };
    let contact_id = c.sim.clients[client].contact_id;
    let last_invoice = c
        .invoices
        .iter()
        .filter(|d| d.contact_id == Some(contact_id))
        .map(|d| d.is_valid_from)
        .max();
    if let Some(last_invoice) = last_invoice {
        c.anomalies.push(Anomaly::ClientChurn {
            contact_id,
            last_invoice,
        });
    }
}

fn projects_and_time(c: &mut Company, day: NaiveDate, rate: f64) {
    // Projects for service clients.
    if c.sim.chance((rate * 0.02).min(0.8)) {
        let client = active_client(c, day);
        let cl = c.sim.clients[client].clone();
        let client_name = c
            .contacts
            .get(cl.contact_id)
            .map(|x| x.name_1.clone())
            .unwrap_or_default();
        let id = c.projects.next_id();
        let name = c
            .sim
            .pick(swiss::PROJECT_TEMPLATES)
            .replace("{client}", &client_name);
        let ends = c
            .sim
            .chance(0.7)
            .then(|| day + Duration::days(c.sim.rng.random_range(20..200)));
        let invoice_type = c.sim.rng.random_range(1..=4u64);
        c.projects.insert(Project {
            id,
            uuid: uuid_for(c.sim.seed ^ 0x9E0, id).to_string(),
            nr: format!("{id:06}"),
            name,
            start_date: midnight(day),
            end_date: ends.map(midnight),
            comment: String::new(),
            pr_state_id: 2,
            pr_project_type_id: 1,
            contact_id: cl.contact_id,
            contact_sub_id: cl.persons.first().copied(),
            pr_invoice_type_id: invoice_type,
            pr_invoice_type_amount: if invoice_type == 4 {
                d("12000.00")
            } else {
                d("165.00")
            },
            pr_budget_type_id: 2,
            pr_budget_type_amount: Decimal::from(c.sim.rng.random_range(20..400)),
            user_id: 1,
        });
        c.sim.clients[client].project = Some(id);
        c.sim.log(|l| l.created("pr_project", RecordId::Num(id)));
    }
    // Close projects whose end passed.
    if day.weekday() == Weekday::Fri {
        let ended: Vec<u64> = c
            .projects
            .iter()
            .filter(|p| p.pr_state_id == 2 && p.end_date.is_some_and(|e| e < midnight(day)))
            .map(|p| p.id)
            .collect();
        for id in ended {
            if let Some(p) = c.projects.get_mut(id) {
                p.pr_state_id = 3;
            }
            c.sim.log(|l| l.updated("pr_project", RecordId::Num(id)));
        }
    }
    // Time tracking.
    let entries = poisson_round(&mut c.sim, (rate * 0.9).clamp(1.0, 400.0));
    let n_users = c.users.len().max(1) as u64;
    for _ in 0..entries {
        let client = active_client(c, day);
        let cl = c.sim.clients[client].clone();
        let s = &mut c.sim;
        let quarters: u32 = s.rng.random_range(1..=24);
        let duration = format!("{:02}:{:02}", quarters / 4, (quarters % 4) * 15);
        let service = s.rng.random_range(1..=6u64);
        let billable = service <= 4 && s.chance(0.9);
        let id = c.timesheets.next_id();
        let text = (*s.pick(swiss::TIMESHEET_TEXTS)).to_string();
        let user = s.rng.random_range(1..=n_users);
        c.timesheets.insert(Timesheet {
            id,
            user_id: user,
            status_id: 1,
            client_service_id: service,
            text,
            allowable_bill: billable,
            charge: billable.then(|| d("165.00")),
            contact_id: Some(cl.contact_id),
            sub_contact_id: None,
            pr_project_id: cl.project,
            pr_package_id: None,
            pr_milestone_id: None,
            travel_time: None,
            travel_charge: None,
            travel_distance: 0,
            estimated_time: None,
            date: day,
            duration: duration.clone(),
            running: false,
            tracking: Tracking {
                kind: "duration".into(),
                date: day,
                duration,
            },
        });
        c.sim.log(|l| l.created("timesheet", RecordId::Num(id)));
    }
    // Month end: last month's billable time is invoiced (status 4 "Verrechnet").
    if day.day() <= 3 && day.weekday() == Weekday::Mon || day.day() == 1 {
        let cutoff = day - Duration::days(25);
        let ids: Vec<u64> = c
            .timesheets
            .iter()
            .rev()
            .take_while(|t| t.date >= cutoff - Duration::days(40))
            .filter(|t| t.date < cutoff && t.status_id == 1)
            .map(|t| t.id)
            .collect();
        for id in ids {
            if let Some(t) = c.timesheets.get_mut(id) {
                t.status_id = if t.allowable_bill { 4 } else { 3 };
            }
            c.sim.log(|l| l.updated("timesheet", RecordId::Num(id)));
        }
    }
}

fn new_bill(c: &mut Company, supplier: usize, day: NaiveDate, net_total: Decimal) {
    let sup = c.sim.suppliers[supplier].clone();
    // Office rent is exempt from Swiss VAT (no option taken); everything else is standard-rated.
    let (tax_id, rate) = if sup.account_no == "6000" {
        (7, Decimal::ZERO)
    } else {
        refdata::input_tax(false, day)
    };
    let s = &mut c.sim;
    let seq = s.next_bill_seq;
    s.next_bill_seq += 1;
    let n_lines = if s.chance(0.3) { 2 } else { 1 };
    let mut lines = Vec::new();
    let mut net = Decimal::ZERO;
    let mut gross = Decimal::ZERO;
    for i in 0..n_lines {
        let amount = if i + 1 == n_lines {
            net_total - net
        } else {
            cents(net_total * d("0.6"))
        };
        net += amount;
        let tax = cents(amount * rate / Decimal::ONE_HUNDRED);
        gross += amount + tax;
        lines.push(BillLine {
            id: uuid_for(s.seed ^ 0xB111, seq * 8 + i as u64).to_string(),
            position: i as u32,
            title: sup.title.into(),
            tax_id,
            tax_calc: tax,
            amount: amount + tax,
            booking_account_id: account_id(sup.account_no),
        });
    }
    let created = s.stamp_on(day);
    let terms = *s.pick(&[10i64, 20, 30, 30]);
    let draft = s.chance(0.04);
    let bill = Bill {
        seq,
        id: uuid_for(s.seed ^ 0xB177, seq).to_string(),
        created_at: created,
        document_no: format!("LR-{seq:05}"),
        status: if draft { "DRAFT" } else { "BOOKED" },
        vendor_ref: Some(format!("{}", 100_000 + splitmix(seq ^ s.seed) % 900_000)),
        supplier_id: sup.contact_id,
        address: sup.address.clone(),
        title: sup.title.into(),
        currency_code: "CHF",
        exchange_rate: Decimal::ONE,
        base_currency_code: "CHF",
        net,
        gross,
        paid: Decimal::ZERO,
        bill_date: day,
        due_date: day + Duration::days(terms),
        line_items: lines,
        attachment_ids: vec![uuid_for(s.seed ^ 0xA77, seq).to_string()],
        bank_account_id: 1,
        updated_at: created,
    };
    let due = bill.due_date;
    let id_str = bill.id.clone();
    c.bills.insert(bill);
    c.sim
        .log(|l| l.created("purchase/bills", RecordId::Uuid(id_str)));
    if !draft {
        let pay = (due - Duration::days(c.sim.rng.random_range(0..5))).max(day + Duration::days(1));
        c.sim.schedule(pay, Event::PayBill(seq));
        let text: Arc<str> = Arc::from(format!("LR-{seq:05} {}", sup.title));
        let creditor = account_id("2000");
        journal(
            c,
            day,
            "KbBill",
            seq,
            account_id(sup.account_no),
            creditor,
            net,
            CHF,
            &text,
        );
        let tax = gross - net;
        journal(
            c,
            day,
            "KbBill",
            seq,
            account_id("1170"),
            creditor,
            tax,
            CHF,
            &text,
        );
        let q = (day.year(), day.month0() / 3);
        c.sim.quarter_vat.entry(q).or_default().1 += tax;
    }
}

fn pay_bill(c: &mut Company, seq: u64, day: NaiveDate) {
    let stamp = c.sim.stamp_on(day);
    let Some(b) = c.bills.get_mut(seq) else {
        return;
    };
    if b.status != "BOOKED" {
        return;
    }
    b.paid = b.gross;
    b.status = "PAID";
    b.updated_at = stamp;
    let (gross, text, id) = (
        b.gross,
        Arc::<str>::from(format!("Zahlung {}", b.document_no)),
        b.id.clone(),
    );
    c.sim
        .log(|l| l.updated("purchase/bills", RecordId::Uuid(id)));
    journal(
        c,
        day,
        "KbBill",
        seq,
        account_id("2000"),
        account_id("1020"),
        gross,
        CHF,
        &text,
    );
}

fn purchases(c: &mut Company, day: NaiveDate, rate: f64) {
    let n_sup = c.sim.suppliers.len();
    if n_sup == 0 {
        return;
    }
    // Recurring bills on fixed days.
    for i in 0..n_sup {
        let sup = c.sim.suppliers[i].clone();
        let monthly = match sup.account_no {
            "6000" => Some((1, d("4800.00"))),
            "6510" => Some((5, d("389.40"))),
            "6570" => Some((8, d("1240.00"))),
            "6100" => Some((15, d("620.00"))),
            _ => None,
        };
        // Due on a fixed day of the month, or the Monday after when it falls on a weekend.
        if let Some((dom, amount)) = monthly
            && (day.day() == dom
                || (day.day() == dom + 1 && day.weekday() == Weekday::Mon)
                || (day.day() == dom + 2 && day.weekday() == Weekday::Mon))
        {
            let growth =
                Decimal::from_f64_retain(1.0 + (day - c.sim.start).num_days() as f64 / 3650.0)
                    .unwrap_or(Decimal::ONE);
            new_bill(c, i, day, cents(amount * growth));
        }
        if sup.account_no == "6300"
            && day.month() == 1
            && day.day() <= 7
            && day.weekday() == Weekday::Tue
        {
            new_bill(c, i, day, d("3450.00"));
        }
        if sup.account_no == "6400"
            && day.month() % 3 == 1
            && day.day() <= 7
            && day.weekday() == Weekday::Wed
        {
            new_bill(c, i, day, d("742.35"));
        }
    }
    // Goods bought for resale and outside services, with sales volume.
    for _ in 0..poisson_round(&mut c.sim, rate * 0.12) {
        let candidates: Vec<usize> = (0..n_sup)
            .filter(|i| {
                matches!(
                    c.sim.suppliers[*i].account_no,
                    "4200" | "4400" | "6500" | "6600"
                )
            })
            .collect();
        let i = if candidates.is_empty() {
            0
        } else {
            *c.sim.pick(&candidates)
        };
        let amount = Decimal::from(c.sim.rng.random_range(120..6000))
            + Decimal::from(c.sim.rng.random_range(0..100)) / Decimal::ONE_HUNDRED;
        new_bill(c, i, day, amount);
    }
    // Employee expenses.
    for _ in 0..poisson_round(&mut c.sim, (rate * 0.08).clamp(0.15, 200.0)) {
        let s = &mut c.sim;
        let seq = c.expenses.next_id();
        let title = (*s.pick(swiss::EXPENSE_TITLES)).to_string();
        // Mileage allowances carry no VAT; meals the reduced rate.
        let (tax_id, vat) = if title.contains("Kilometer") || title.contains(" km") {
            (7, Decimal::ZERO)
        } else {
            refdata::input_tax(
                title.contains("essen") || title.contains("Verpflegung"),
                day,
            )
        };
        let gross = Decimal::from(s.rng.random_range(8..480))
            + Decimal::from(s.rng.random_range(0..20) * 5) / Decimal::ONE_HUNDRED;
        let net = cents(gross * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + vat));
        let account = if title.contains("Bahn")
            || title.contains("Park")
            || title.contains("Hotel")
            || title.contains("Taxi")
        {
            "5820"
        } else {
            "6500"
        };
        let user = s.rng.random_range(1..=c.users.len().max(1) as u64);
        let user_name = c
            .users
            .get(user)
            .map(|u| (u.firstname.clone(), u.lastname.clone()))
            .unwrap_or_default();
        let created = s.stamp_on(day);
        let exp = Expense {
            seq,
            id: uuid_for(s.seed ^ 0xE4B, seq).to_string(),
            created_at: created,
            document_no: format!("AW-{seq:05}"),
            status: "DONE",
            address: PartyAddress {
                title: None,
                salutation: None,
                firstname_suffix: Some(user_name.0),
                lastname_company: user_name.1,
                address_line: String::new(),
                postcode: String::new(),
                city: String::new(),
                country_code: "CH".into(),
                main_contact_id: user,
                contact_address_id: None,
                kind: "PRIVATE",
            },
            supplier_id: user,
            title,
            currency_code: "CHF",
            exchange_rate: Decimal::ONE,
            paid_on: day,
            bank_account_id: 1,
            booking_account_id: account_id(account),
            net,
            gross,
            tax_id,
            project_id: None,
            attachment_ids: vec![uuid_for(s.seed ^ 0xA78, seq).to_string()],
            updated_at: created,
        };
        let (id_str, text) = (
            exp.id.clone(),
            Arc::<str>::from(format!("{} {}", exp.document_no, exp.title)),
        );
        c.expenses.insert(exp);
        c.sim.log(|l| l.created("expenses", RecordId::Uuid(id_str)));
        journal(
            c,
            day,
            "KbExpense",
            seq,
            account_id(account),
            account_id("1020"),
            net,
            CHF,
            &text,
        );
        journal(
            c,
            day,
            "KbExpense",
            seq,
            account_id("1170"),
            account_id("1020"),
            gross - net,
            CHF,
            &text,
        );
        let q = (day.year(), day.month0() / 3);
        c.sim.quarter_vat.entry(q).or_default().1 += gross - net;
    }
}

fn manual_entry(
    c: &mut Company,
    day: NaiveDate,
    reference: String,
    lines: &[(&str, &str, Decimal, &str)],
) {
    let id = c.manual_entries.next_id();
    let mut entries = Vec::new();
    for (i, (debit, credit, amount, text)) in lines.iter().enumerate() {
        entries.push(EntryLine {
            id: id * 10 + i as u64,
            date: day,
            debit_account_id: account_id(debit),
            credit_account_id: account_id(credit),
            tax_id: None,
            tax_account_id: None,
            description: (*text).into(),
            amount: *amount,
            currency_id: CHF,
            base_currency_id: CHF,
            currency_factor: Decimal::ONE,
            base_currency_amount: *amount,
            created_by_user_id: 2,
            edited_by_user_id: 2,
        });
    }
    c.manual_entries.insert(ManualEntry {
        id,
        kind: if lines.len() > 1 {
            "manual_compound_entry"
        } else {
            "manual_single_entry"
        }
        .into(),
        date: day,
        reference_nr: reference,
        created_by_user_id: 2,
        edited_by_user_id: 2,
        entries,
        is_locked: false,
        locked_info: None,
        booking_type: "manual_entry".into(),
    });
    c.sim
        .log(|l| l.created("accounting/manual_entries", RecordId::Num(id)));
    for (debit, credit, amount, text) in lines {
        journal(
            c,
            day,
            "ManualEntry",
            id,
            account_id(debit),
            account_id(credit),
            *amount,
            CHF,
            &Arc::from(*text),
        );
    }
}

fn bookkeeping(c: &mut Company, day: NaiveDate) {
    // Salaries on the 25th (or the Friday before).
    let payday =
        day.day() == 25 || (day.day() >= 23 && day.day() < 25 && day.weekday() == Weekday::Fri);
    let month_done = c.manual_entries.iter().next_back().is_some_and(|m| {
        m.reference_nr.starts_with("LOHN")
            && m.date.month() == day.month()
            && m.date.year() == day.year()
    });
    if payday && !month_done {
        let per_head = d("7450.00") + Decimal::from((day - c.sim.start).num_days() / 365 * 150);
        let gross = per_head * Decimal::from(c.sim.employees);
        let social = cents(gross * d("0.128"));
        manual_entry(
            c,
            day,
            format!("LOHN-{}-{:02}", day.year(), day.month()),
            &[
                ("5000", "1020", gross - social, "Nettolöhne"),
                ("5000", "2270", social, "AN-Beiträge Sozialversicherungen"),
                ("5700", "2270", social, "AG-Beiträge Sozialversicherungen"),
            ],
        );
    }
    // The previous quarter's VAT is settled within 60 days of its end (the first working day from
    // the 20th of the second month): output VAT (2200) against
    // input VAT (1170), the difference paid to (or refunded by) the tax office from the bank.
    if day.day() >= 20 && matches!(day.month(), 2 | 5 | 8 | 11) {
        let previous = i64::from(day.year()) * 4 + i64::from(day.month0() / 3) - 1;
        let key = (
            (previous.div_euclid(4)) as i32,
            previous.rem_euclid(4) as u32,
        );
        if let Some((output, input)) = c.sim.quarter_vat.remove(&key) {
            let (output, input) = (cents(output), cents(input));
            let reference = format!("MWST-{}-Q{}", key.0, key.1 + 1);
            let lines: Vec<(&str, &str, Decimal, &str)> = if output >= input {
                vec![
                    ("2200", "1170", input, "MWST-Abrechnung Vorsteuer"),
                    ("2200", "1020", output - input, "MWST-Abrechnung Zahlung"),
                ]
            } else {
                vec![
                    ("2200", "1170", output, "MWST-Abrechnung Vorsteuer"),
                    (
                        "1020",
                        "1170",
                        input - output,
                        "MWST-Abrechnung Rückerstattung",
                    ),
                ]
            };
            let lines: Vec<_> = lines.into_iter().filter(|l| !l.2.is_zero()).collect();
            if !lines.is_empty() {
                manual_entry(c, day, reference, &lines);
            }
        }
    }
    // Notes now and then.
    if c.sim.chance(0.05) && !c.sim.clients.is_empty() {
        let client = active_client(c, day);
        let contact_id = c.sim.clients[client].contact_id;
        let id = c.notes.next_id();
        let stamp = c.sim.stamp_on(day);
        c.notes.insert(Note {
            id,
            user_id: 1,
            event_start: stamp,
            subject: [
                "Telefonat",
                "Besprechung vor Ort",
                "Offerte nachfassen",
                "Reklamation",
            ][id as usize % 4]
                .into(),
            info: String::new(),
            contact_id: Some(contact_id),
            project_id: None,
            entry_id: None,
            module_id: None,
        });
        c.sim.log(|l| l.created("note", RecordId::Num(id)));
    }
}

/// Calendar years, business years and VAT periods up to `today`.
fn finish_years(c: &mut Company) {
    let today = c.today;
    for year in c.sim.start.year()..=today.year() {
        let id = (year - c.sim.start.year()) as u64 + 1;
        let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
        let closed = end < today - Duration::days(120);
        let new_rates = year >= 2024;
        let created = midnight(start);
        if c.calendar_years.get(id).is_none() {
            c.calendar_years.insert(CalendarYear {
                id,
                start,
                end,
                is_vat_subject: true,
                default_tax_income_id: if new_rates { 14 } else { 1 },
                default_tax_expense_id: if new_rates { 21 } else { 29 },
                created_at: created,
                updated_at: created,
                vat_accounting_method: "effective".into(),
                vat_accounting_type: "agreed".into(),
                is_annual_reporting: false,
            });
            c.sim
                .log(|l| l.created("accounting/calendar_years", RecordId::Num(id)));
        }
        let closed_at = closed.then(|| NaiveDate::from_ymd_opt(year + 1, 4, 30).unwrap_or(end));
        let status = if closed { "closed" } else { "open" };
        match c.business_years.get(id).map(|y| y.status == status) {
            Some(true) => {}
            known => {
                c.business_years.insert(BusinessYear {
                    id,
                    start,
                    end,
                    closed_at,
                    status: status.into(),
                });
                c.sim.log(|l| match known {
                    None => l.created("accounting/business_years", RecordId::Num(id)),
                    Some(_) => l.updated("accounting/business_years", RecordId::Num(id)),
                });
            }
        }
        for q in 0..4u32 {
            let qid = (id - 1) * 4 + u64::from(q) + 1;
            let qs = NaiveDate::from_ymd_opt(year, q * 3 + 1, 1).unwrap_or_default();
            if qs > today {
                break;
            }
            let qe = NaiveDate::from_ymd_opt(
                if q == 3 { year + 1 } else { year },
                if q == 3 { 1 } else { q * 3 + 4 },
                1,
            )
            .unwrap_or_default()
                - Duration::days(1);
            let done = qe + Duration::days(60) < today;
            let status = if done { "closed" } else { "open" };
            let known = c.vat_periods.get(qid).map(|p| p.status == status);
            if known == Some(true) {
                continue;
            }
            c.vat_periods.insert(VatPeriod {
                id: qid,
                start: qs,
                end: qe,
                kind: "quarter".into(),
                status: status.into(),
                closed_at: done.then(|| qe + Duration::days(55)),
            });
            c.sim.log(|l| match known {
                None => l.created("accounting/vat_periods", RecordId::Num(qid)),
                Some(_) => l.updated("accounting/vat_periods", RecordId::Num(qid)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_follow_bexio_rounding() {
        let pos = |total: &str, rate: &str| Position {
            id: 1,
            kind: PositionKind::Custom,
            amount: Decimal::ONE,
            unit_id: None,
            unit_name: Arc::from(""),
            account_id: Some(1),
            tax_id: Some(1),
            tax_value: d(rate),
            text: Arc::from(""),
            unit_price: d(total),
            discount_in_percent: Decimal::ZERO,
            position_total: d(total),
            pos: Some(1),
            internal_pos: 1,
        };
        // bexio's documented sample: 17.80 net at 7.7 % → taxes 1.3706, total 19.15, rounding −0.02.
        let t = totals(&[pos("17.80", "7.7")], d("0.05"));
        assert_eq!(t.net, d("17.80"));
        assert_eq!(t.taxes, d("1.3706"));
        assert_eq!(t.total, d("19.15"));
        assert_eq!(t.rounding, d("-0.02"));
        let t = totals(&[pos("100.00", "8.1"), pos("50.00", "2.6")], d("0.05"));
        assert_eq!(t.taxes, d("9.4"));
        assert_eq!(t.total, d("159.40"));
    }

    #[test]
    fn generation_is_deterministic_and_hits_the_invoice_count() {
        let spec = CompanySpec::new(7, 400);
        let a = Company::generate(&spec);
        let b = Company::generate(&spec);
        assert_eq!(a.invoices.len(), b.invoices.len());
        let total_a: Decimal = a.invoices.iter().map(|i| i.total).sum();
        let total_b: Decimal = b.invoices.iter().map(|i| i.total).sum();
        assert_eq!(total_a, total_b);
        // Exactly the requested number of invoices exists on `today`, for several seeds.
        assert_eq!(a.invoices.len(), 400);
        for seed in 1..6 {
            assert_eq!(
                Company::generate(&CompanySpec::new(seed, 350))
                    .invoices
                    .len(),
                350
            );
        }
        assert!(a.anomalies.len() >= 2, "{:?}", a.anomalies);
    }

    #[test]
    fn journal_balances_receivables_with_invoices_and_payments() {
        // Per currency, in the document currency: what the journal says clients owe (account
        // 1100) equals what the open invoices say, to the cent.
        for seed in [3, 8, 21] {
            let c = Company::generate(&CompanySpec::new(seed, 600));
            let debtor = account_id("1100");
            let mut journal: BTreeMap<u64, Decimal> = BTreeMap::new();
            for j in c.journal.iter() {
                let e = journal.entry(j.currency_id).or_default();
                if j.debit_account_id == debtor {
                    *e += j.amount;
                }
                if j.credit_account_id == debtor {
                    *e -= j.amount;
                }
            }
            let mut invoices: BTreeMap<u64, Decimal> = BTreeMap::new();
            for i in c.invoices.iter().filter(|i| {
                matches!(
                    i.kb_item_status_id,
                    status::INVOICE_PENDING | status::INVOICE_PARTIAL | status::INVOICE_PAID
                )
            }) {
                *invoices.entry(i.currency_id).or_default() += i.remaining();
            }
            journal.retain(|_, v| !v.is_zero());
            invoices.retain(|_, v| !v.is_zero());
            assert_eq!(journal, invoices, "seed {seed}");
            assert!(invoices.contains_key(&CHF));
        }
        let with_eur = (1..40).any(|seed| {
            Company::generate(&CompanySpec::new(seed, 300))
                .invoices
                .iter()
                .any(|i| i.currency_id == EUR)
        });
        assert!(with_eur, "some companies bill in EUR");
    }

    #[test]
    fn vat_is_settled_quarter_by_quarter() {
        let c = Company::generate(&CompanySpec::new(5, 800));
        let balance = |no: &str| {
            let acc = account_id(no);
            c.journal.iter().fold(Decimal::ZERO, |b, j| {
                b + if j.debit_account_id == acc {
                    j.base_currency_amount
                } else {
                    Decimal::ZERO
                } - if j.credit_account_id == acc {
                    j.base_currency_amount
                } else {
                    Decimal::ZERO
                }
            })
        };
        // What is left on the VAT accounts is exactly the quarters not yet settled.
        let open_output: Decimal = c.sim.quarter_vat.values().map(|v| v.0).sum();
        let open_input: Decimal = c.sim.quarter_vat.values().map(|v| v.1).sum();
        assert_eq!(-balance("2200"), open_output);
        assert_eq!(balance("1170"), open_input);
        // Only the running and the previous quarter can still be open on `today`.
        assert!(
            c.sim.quarter_vat.len() <= 2,
            "{:?}",
            c.sim.quarter_vat.keys().collect::<Vec<_>>()
        );
        let settlements = c
            .manual_entries
            .iter()
            .filter(|m| m.reference_nr.starts_with("MWST-"))
            .count();
        assert!(
            settlements >= 14,
            "{settlements} VAT settlements over four years"
        );
    }

    #[test]
    fn advance_lists_every_row_it_adds_or_removes() {
        let mut c = Company::generate(&CompanySpec::new(13, 600));
        let before = c.stats().counts;
        let changes = c.advance(120);
        let after = c.stats().counts;
        let key = |resource: &str| match resource {
            "contact/additional_address" => "additional_address".to_string(),
            "kb_invoice/payment" => "kb_invoice_payment".to_string(),
            other => other.to_string(),
        };
        let mut checked = 0;
        for (resource, ch) in &changes.0 {
            let k = key(resource);
            let (Some(b), Some(a)) = (before.get(k.as_str()), after.get(k.as_str())) else {
                panic!("advance lists {resource}, which stats does not count");
            };
            let expected = *b as i64 + ch.created.len() as i64 - ch.deleted.len() as i64;
            assert_eq!(
                *a as i64,
                expected,
                "{resource}: {b} before, {} created, {} deleted",
                ch.created.len(),
                ch.deleted.len()
            );
            checked += 1;
        }
        // Everything that grew is in the list (positions are part of their invoice).
        for (k, a) in &after {
            let b = before.get(k).copied().unwrap_or(0);
            if *a != b && *k != "kb_invoice_position" {
                assert!(
                    changes.0.keys().any(|r| key(r) == *k),
                    "{k} changed ({b} → {a}) but advance does not list it"
                );
            }
        }
        assert!(checked >= 10, "{checked} resources changed in 120 days");
    }

    #[test]
    fn documents_look_like_a_real_company_writes_them() {
        let c = Company::generate(&CompanySpec::new(17, 1500));
        for kind in [DocKind::Offer, DocKind::Order, DocKind::Invoice] {
            for d in c.docs(kind).iter() {
                assert!(
                    !matches!(d.is_valid_from.weekday(), Weekday::Sat | Weekday::Sun),
                    "{} dated on a weekend",
                    d.document_nr
                );
                assert!(
                    !d.title.as_deref().unwrap_or("").contains('{'),
                    "placeholder left in {:?}",
                    d.title
                );
                if kind == DocKind::Invoice {
                    let days = (d.is_valid_to - d.is_valid_from).num_days();
                    assert!(
                        d.footer.contains(&format!("innert {days} Tagen")),
                        "{} due in {days} days: {}",
                        d.document_nr,
                        d.footer
                    );
                }
                assert!(
                    d.updated_at >= midnight(d.is_valid_from),
                    "{} changed before it was written",
                    d.document_nr
                );
            }
        }
        for d in c.invoices.iter().filter(|d| d.currency_id == EUR) {
            let ct = c.contacts.get(d.contact_id.unwrap_or(0)).expect("client");
            assert_eq!(ct.country_id, Some(GERMANY));
            assert_eq!(
                ct.postcode.as_deref().map(str::len),
                Some(5),
                "German postcodes have five digits"
            );
        }
        let burst = c.anomalies.iter().find_map(|a| match a {
            Anomaly::ActivityBurst {
                from,
                to,
                invoice_ids,
                ..
            } => Some((*from, *to, invoice_ids.clone())),
            _ => None,
        });
        let (from, to, ids) = burst.expect("a burst is planted");
        assert!(!ids.is_empty());
        for id in ids {
            let d = c.invoices.get(id).expect("burst invoice exists");
            assert!(d.is_valid_from >= from && d.is_valid_from <= to);
        }
    }

    #[test]
    fn advance_reports_what_changed() {
        let mut c = Company::generate(&CompanySpec::new(11, 300));
        let before = c.invoices.len();
        let changes = c.advance(30);
        let inv = changes.0.get("kb_invoice").cloned().unwrap_or_default();
        assert!(!inv.created.is_empty());
        assert_eq!(
            c.invoices.len() + inv.deleted.len(),
            before + inv.created.len()
        );
        for id in &inv.created {
            let RecordId::Num(id) = id else {
                panic!("numeric ids")
            };
            assert!(c.invoices.get(*id).is_some());
        }
    }
}
