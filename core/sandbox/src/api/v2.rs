//! The 2.0 routes: contacts, sales documents, articles, projects, time, accounts, lookups.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, patch, post};
use base64::Engine;
use rust_decimal::Decimal;

use super::query::{Params, matches_all, parse_search, v2_list};
use super::reply::{ApiError, ApiResult, Reply};
use super::table::{
    self, Spec, Writable, WriteOp, crud_routes, parse_id, read_routes, spec, write_routes,
};
use super::{AppState, Ctx};
use crate::company::Company;
use crate::model::Named;
use crate::model::contacts::{AdditionalAddress, Contact, ContactDetail, ContactRelation, Country};
use crate::model::projects::Note;
use crate::model::sales::{Article, DocKind, Payment, SalesDoc};
use crate::model::wire::Stamp;

impl Writable for Named {
    const REQUIRED: &'static [&'static str] = &["name"];
    fn blank(id: u64, _: Stamp) -> Self {
        Named {
            id,
            name: String::new(),
        }
    }
}

impl Writable for Country {
    const REQUIRED: &'static [&'static str] = &["name", "name_short", "iso_3166_alpha2"];
    fn blank(id: u64, _: Stamp) -> Self {
        Country {
            id,
            name: String::new(),
            name_short: String::new(),
            iso_3166_alpha2: String::new(),
        }
    }
}

impl Writable for ContactRelation {
    const REQUIRED: &'static [&'static str] = &["contact_id", "contact_sub_id"];
    const READ_ONLY: &'static [&'static str] = &["id", "updated_at"];
    fn blank(id: u64, now: Stamp) -> Self {
        ContactRelation {
            id,
            contact_id: 0,
            contact_sub_id: 0,
            description: String::new(),
            updated_at: now,
        }
    }
    fn touch(&mut self, now: Stamp) {
        self.updated_at = now;
    }
}

impl Writable for Note {
    const REQUIRED: &'static [&'static str] = &["user_id", "event_start", "subject"];
    fn blank(id: u64, now: Stamp) -> Self {
        Note {
            id,
            user_id: 1,
            event_start: now,
            subject: String::new(),
            info: String::new(),
            contact_id: None,
            project_id: None,
            entry_id: None,
            module_id: None,
        }
    }
}

impl Writable for Contact {
    const REQUIRED: &'static [&'static str] = &["contact_type_id", "name_1", "user_id", "owner_id"];
    const READ_ONLY: &'static [&'static str] = &["id", "nr", "updated_at", "address"];
    fn blank(id: u64, now: Stamp) -> Self {
        Contact::new(id, now)
    }
    fn keep_hidden(&mut self, before: &Self) {
        self.archived = before.archived;
    }
    fn touch(&mut self, now: Stamp) {
        self.updated_at = now;
        // bexio keeps the legacy combined address in step with its parts.
        if let Some(street) = &self.street_name {
            self.address = Some(match &self.house_number {
                Some(h) if !h.is_empty() => format!("{street} {h}"),
                _ => street.clone(),
            });
        }
    }
}

impl Writable for AdditionalAddress {
    const REQUIRED: &'static [&'static str] = &["name"];
    fn keep_hidden(&mut self, before: &Self) {
        self.contact_id = before.contact_id;
    }
    fn blank(id: u64, _: Stamp) -> Self {
        AdditionalAddress {
            id,
            name: String::new(),
            name_addition: None,
            address: None,
            street_name: None,
            house_number: None,
            address_addition: None,
            postcode: None,
            city: None,
            country_id: None,
            subject: None,
            description: None,
            contact_id: 0,
        }
    }
}

impl Writable for Article {
    const REQUIRED: &'static [&'static str] = &["intern_code", "intern_name"];
    /// bexio answers a create with the stock counters as strings (but `stock_available_nr`), and
    /// an edit with `stock_nr` and `stock_min_nr` as strings; reads send numbers.
    fn shape(json: &mut serde_json::Value, op: WriteOp) {
        let fields: &[&str] = match op {
            WriteOp::Create => &[
                "stock_nr",
                "stock_min_nr",
                "stock_reserved_nr",
                "stock_picked_nr",
                "stock_disposed_nr",
                "stock_ordered_nr",
            ],
            WriteOp::Edit => &["stock_nr", "stock_min_nr"],
        };
        for f in fields {
            if let Some(v) = json.get_mut(*f)
                && let Some(n) = v.as_i64()
            {
                *v = serde_json::Value::String(n.to_string());
            }
        }
    }
    fn blank(id: u64, _: Stamp) -> Self {
        Article::new(id)
    }
}

const CONTACT_SEARCH: &[&str] = &[
    "id",
    "name_1",
    "name_2",
    "nr",
    "address",
    "mail",
    "mail_second",
    "postcode",
    "city",
    "country_id",
    "contact_group_ids",
    "contact_type_id",
    "updated_at",
    "user_id",
    "phone_fixed",
    "phone_mobile",
    "fax",
];
const CONTACT_ORDER: &[&str] = &["id", "nr", "name_1", "updated_at"];
const DOC_ORDER: &[&str] = &["id", "total", "total_net", "total_gross", "updated_at"];
const INVOICE_SEARCH: &[&str] = &[
    "id",
    "kb_item_status_id",
    "document_nr",
    "title",
    "api_reference",
    "contact_id",
    "contact_sub_id",
    "user_id",
    "currency_id",
    "total_gross",
    "total_net",
    "total",
    "is_valid_from",
    "is_valid_to",
    "updated_at",
];
const OFFER_SEARCH: &[&str] = &[
    "id",
    "kb_item_status_id",
    "document_nr",
    "title",
    "contact_id",
    "contact_sub_id",
    "user_id",
    "currency_id",
    "total_gross",
    "total_net",
    "total",
    "is_valid_from",
    "is_valid_to",
    "is_valid_until",
    "updated_at",
];
const ORDER_SEARCH: &[&str] = &[
    "id",
    "kb_item_status_id",
    "document_nr",
    "title",
    "contact_id",
    "contact_sub_id",
    "user_id",
    "currency_id",
    "total_gross",
    "total_net",
    "total",
    "is_valid_from",
    "updated_at",
];

fn contact_spec() -> Spec<Contact> {
    spec!(2, contacts, order: ["id", "nr", "name_1", "updated_at"], search: [], etag: true)
}

/// The contacts DELETE archives; archived contacts only show with `show_archived=true`.
fn contacts() -> Router<Arc<AppState>> {
    let spec = contact_spec();
    Router::new()
        .route(
            "/2.0/contact",
            get(|ctx: Ctx, Query(q): Query<Params>| async move {
                let archived = q
                    .get("show_archived")
                    .is_some_and(|v| v == "true" || v == "1");
                let c = ctx.tenant.company.read();
                v2_list(
                    c.contacts.iter().filter(|x| x.archived == archived),
                    &q,
                    CONTACT_ORDER,
                )
            })
            .post(
                move |ctx: Ctx, State(app): State<Arc<AppState>>, body: Bytes| async move {
                    let r = table::create(spec, &ctx, &app, &body)?;
                    with_profile_image(&ctx, r)
                },
            ),
        )
        .route(
            "/2.0/contact/search",
            post(
                |ctx: Ctx, Query(q): Query<Params>, body: Bytes| async move {
                    let filters = parse_search(&body, CONTACT_SEARCH)?;
                    let archived = q
                        .get("show_archived")
                        .is_some_and(|v| v == "true" || v == "1");
                    let c = ctx.tenant.company.read();
                    v2_list(
                        c.contacts
                            .iter()
                            .filter(|x| x.archived == archived && matches_all(&filters, *x)),
                        &q,
                        CONTACT_ORDER,
                    )
                },
            ),
        )
        .route(
            "/2.0/contact/{id}",
            get(|ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let row = c.contacts.get(id).ok_or_else(ApiError::not_found)?;
                let detail = ContactDetail {
                    contact: row,
                    profile_image: crate::company::BLANK_PNG_BASE64,
                };
                Ok::<_, ApiError>(Reply::json(&detail).with_etag())
            })
            .post(
                move |ctx: Ctx,
                      State(app): State<Arc<AppState>>,
                      Path(id): Path<String>,
                      body: Bytes| async move {
                    let r = table::edit(spec, &ctx, &app, &id, &body)?;
                    with_profile_image(&ctx, r)
                },
            )
            .delete(
                |ctx: Ctx, State(app): State<Arc<AppState>>, Path(id): Path<String>| async move {
                    set_archived(&ctx, &app, &id, true)
                },
            ),
        )
        .route(
            "/2.0/contact/{id}/restore",
            patch(
                |ctx: Ctx, State(app): State<Arc<AppState>>, Path(id): Path<String>| async move {
                    set_archived(&ctx, &app, &id, false)
                },
            ),
        )
        .merge(additional_addresses())
}

fn set_archived(ctx: &Ctx, app: &AppState, id: &str, archived: bool) -> ApiResult {
    let id = parse_id(id)?;
    let mut c = ctx.tenant.company.write();
    let now = c.write_stamp(&app.clock);
    let row = c.contacts.get_mut(id).ok_or_else(ApiError::not_found)?;
    row.archived = archived;
    row.updated_at = now;
    Ok(Reply::success())
}

/// Creates and edits of contacts answer with the contact's `profile_image`.
fn with_profile_image(ctx: &Ctx, reply: Reply) -> ApiResult {
    let contact: Contact =
        serde_json::from_slice(&reply.body).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let c = ctx.tenant.company.read();
    let row = c.contacts.get(contact.id).ok_or_else(ApiError::not_found)?;
    let detail = ContactDetail {
        contact: row,
        profile_image: crate::company::BLANK_PNG_BASE64,
    };
    let mut out = Reply::json(&detail).with_etag();
    out.status = reply.status;
    Ok(out)
}

fn additional_addresses() -> Router<Arc<AppState>> {
    const ORDER: &[&str] = &["id", "name"];
    const SEARCH: &[&str] = &[
        "id",
        "name",
        "name_addition",
        "address",
        "postcode",
        "city",
        "country_id",
        "subject",
        "description",
    ];
    fn owned(c: &Company, contact: u64) -> Result<(), ApiError> {
        c.contacts
            .get(contact)
            .map(|_| ())
            .ok_or_else(ApiError::not_found)
    }
    Router::new()
        .route(
            "/2.0/contact/{cid}/additional_address",
            get(|ctx: Ctx, Path(cid): Path<String>, Query(q): Query<Params>| async move {
                let cid = parse_id(&cid)?;
                let c = ctx.tenant.company.read();
                owned(&c, cid)?;
                v2_list(c.additional_addresses.iter().filter(|a| a.contact_id == cid), &q, ORDER)
            })
            .post(|ctx: Ctx, Path(cid): Path<String>, State(app): State<Arc<AppState>>, body: Bytes| async move {
                let cid = parse_id(&cid)?;
                owned(&ctx.tenant.company.read(), cid)?;
                let spec = spec!(2, additional_addresses, order: ["id"], search: [], etag: true);
                let r = table::create(spec, &ctx, &app, &body)?;
                let v: AdditionalAddress = serde_json::from_slice(&r.body).map_err(|e| ApiError::unprocessable(e.to_string()))?;
                if let Some(a) = ctx.tenant.company.write().additional_addresses.get_mut(v.id) {
                    a.contact_id = cid;
                }
                Ok::<_, ApiError>(r)
            }),
        )
        .route(
            "/2.0/contact/{cid}/additional_address/search",
            post(|ctx: Ctx, Path(cid): Path<String>, Query(q): Query<Params>, body: Bytes| async move {
                let cid = parse_id(&cid)?;
                let filters = parse_search(&body, SEARCH)?;
                let c = ctx.tenant.company.read();
                owned(&c, cid)?;
                v2_list(c.additional_addresses.iter().filter(|a| a.contact_id == cid && matches_all(&filters, *a)), &q, ORDER)
            }),
        )
        .route(
            "/2.0/contact/{cid}/additional_address/{id}",
            get(|ctx: Ctx, Path((cid, id)): Path<(String, String)>| async move {
                let (cid, id) = (parse_id(&cid)?, parse_id(&id)?);
                let c = ctx.tenant.company.read();
                let a = c.additional_addresses.get(id).filter(|a| a.contact_id == cid).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(Reply::json(a).with_etag())
            })
            .post(|ctx: Ctx, State(app): State<Arc<AppState>>, Path((cid, id)): Path<(String, String)>, body: Bytes| async move {
                let cid = parse_id(&cid)?;
                let belongs = ctx.tenant.company.read().additional_addresses.get(parse_id(&id)?).is_some_and(|a| a.contact_id == cid);
                if !belongs {
                    return Err(ApiError::not_found());
                }
                let spec = spec!(2, additional_addresses, order: ["id"], search: [], etag: true);
                table::edit(spec, &ctx, &app, &id, &body)
            })
            .delete(|ctx: Ctx, Path((cid, id)): Path<(String, String)>| async move {
                let (cid, id) = (parse_id(&cid)?, parse_id(&id)?);
                let mut c = ctx.tenant.company.write();
                if c.additional_addresses.get(id).is_none_or(|a| a.contact_id != cid) {
                    return Err(ApiError::not_found());
                }
                c.additional_addresses.remove(id);
                Ok(Reply::success())
            }),
        )
}

fn docs(kind: DocKind) -> Router<Arc<AppState>> {
    let base = format!("/2.0/{}", kind.route());
    let searchable = match kind {
        DocKind::Invoice => INVOICE_SEARCH,
        DocKind::Offer => OFFER_SEARCH,
        DocKind::Order => ORDER_SEARCH,
    };
    let mut r = Router::new()
        .route(
            &base,
            get(move |ctx: Ctx, Query(q): Query<Params>| async move {
                let c = ctx.tenant.company.read();
                v2_list(c.docs(kind).iter(), &q, DOC_ORDER)
            }),
        )
        .route(
            &format!("{base}/search"),
            post(
                move |ctx: Ctx, Query(q): Query<Params>, body: Bytes| async move {
                    let filters = parse_search(&body, searchable)?;
                    let c = ctx.tenant.company.read();
                    v2_list(
                        c.docs(kind).iter().filter(|d| matches_all(&filters, *d)),
                        &q,
                        DOC_ORDER,
                    )
                },
            ),
        )
        .route(
            &format!("{base}/{{id}}"),
            get(move |ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let doc = c.docs(kind).get(id).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(Reply::json(&doc.detail()))
            }),
        )
        .route(
            &format!("{base}/{{id}}/pdf"),
            get(move |ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let doc = c.docs(kind).get(id).ok_or_else(ApiError::not_found)?;
                let pdf = pdf_of(doc);
                Ok::<_, ApiError>(Reply::json(&serde_json::json!({
                    "name": format!("{}.pdf", doc.document_nr),
                    "size": pdf.len(),
                    "mime": "application/pdf",
                    "content": base64::engine::general_purpose::STANDARD.encode(&pdf),
                })))
            }),
        );
    if kind == DocKind::Invoice {
        r = r.merge(invoice_actions());
    }
    r
}

/// A minimal but valid one-page PDF naming the document.
fn pdf_of(doc: &SalesDoc) -> Vec<u8> {
    let text = format!(
        "{} {} CHF {}",
        doc.document_nr,
        doc.title.as_deref().unwrap_or(""),
        doc.total.round_dp(2)
    );
    let text: String = text
        .chars()
        .filter(|c| c.is_ascii() && *c != '(' && *c != ')' && *c != '\\')
        .collect();
    let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn invoice_payment(c: &Company, invoice: u64, payment: u64) -> Result<&Payment, ApiError> {
    c.invoices
        .get(invoice)
        .and_then(|d| d.payments.iter().find(|p| p.id == payment))
        .ok_or_else(ApiError::not_found)
}

/// Status changes and payments of invoices: they book in the journal like bexio does.
fn invoice_actions() -> Router<Arc<AppState>> {
    type Action = fn(&mut Company, u64) -> Result<(), String>;
    const ACTIONS: [(&str, Action); 3] = [
        ("issue", Company::issue_invoice),
        ("revert_issue", Company::revert_invoice_issue),
        ("cancel", Company::cancel_invoice),
    ];
    let mut r = Router::new();
    for (name, act) in ACTIONS {
        r = r.route(
            &format!("/2.0/kb_invoice/{{id}}/{name}"),
            post(move |ctx: Ctx, State(app): State<Arc<AppState>>, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let mut c = ctx.tenant.company.write();
                act(&mut c, id).map_err(refusal)?;
                let now = c.write_stamp(&app.clock);
                if let Some(doc) = c.invoices.get_mut(id) {
                    doc.updated_at = now;
                }
                Ok::<_, ApiError>(Reply::success())
            }),
        );
    }
    r
        .route(
            "/2.0/kb_invoice/{id}/payment",
            get(
                |ctx: Ctx, Path(id): Path<String>, Query(q): Query<Params>| async move {
                    let id = parse_id(&id)?;
                    let c = ctx.tenant.company.read();
                    let doc = c.invoices.get(id).ok_or_else(ApiError::not_found)?;
                    v2_list(doc.payments.iter(), &q, &["id", "date"])
                },
            )
            .post(
                |ctx: Ctx,
                 State(app): State<Arc<AppState>>,
                 Path(id): Path<String>,
                 body: Bytes| async move { add_payment(&ctx, &app, &id, &body) },
            ),
        )
        .route(
            "/2.0/kb_invoice/{id}/payment/{pid}",
            get(
                |ctx: Ctx, Path((id, pid)): Path<(String, String)>| async move {
                    let c = ctx.tenant.company.read();
                    Ok::<_, ApiError>(Reply::json(invoice_payment(
                        &c,
                        parse_id(&id)?,
                        parse_id(&pid)?,
                    )?))
                },
            )
            .delete(
                |ctx: Ctx,
                 State(app): State<Arc<AppState>>,
                 Path((id, pid)): Path<(String, String)>| async move {
                    let (id, pid) = (parse_id(&id)?, parse_id(&pid)?);
                    let mut c = ctx.tenant.company.write();
                    c.delete_payment(id, pid).map_err(refusal)?;
                    let now = c.write_stamp(&app.clock);
                    if let Some(doc) = c.invoices.get_mut(id) {
                        doc.updated_at = now;
                    }
                    Ok::<_, ApiError>(Reply::success())
                },
            ),
        )
}

/// A refusal of the company model as bexio answers it: 404 for unknown records, else 422.
fn refusal(message: String) -> ApiError {
    if message.starts_with("no such") {
        ApiError::not_found()
    } else {
        ApiError::unprocessable(message)
    }
}

fn add_payment(ctx: &Ctx, app: &AppState, id: &str, body: &[u8]) -> ApiResult {
    #[derive(serde::Deserialize)]
    struct NewPayment {
        date: chrono::NaiveDate,
        #[serde(with = "crate::model::wire::dec4")]
        value: Decimal,
        bank_account_id: Option<u64>,
        payment_service_id: Option<u64>,
    }
    let p: NewPayment = serde_json::from_slice(body)
        .map_err(|e| ApiError::unprocessable(format!("Could not save the payment: {e}")))?;
    let id = parse_id(id)?;
    let mut c = ctx.tenant.company.write();
    let payment = c
        .add_payment(id, p.date, p.value, p.bank_account_id, p.payment_service_id)
        .map_err(refusal)?;
    let now = c.write_stamp(&app.clock);
    if let Some(doc) = c.invoices.get_mut(id) {
        doc.updated_at = now;
    }
    Ok(Reply::created(&payment))
}

/// A `{id, name}` lookup table (salutations, titles, units…), read-only or writable.
macro_rules! lookup {
    ($path:literal, $field:ident, writable: $w:literal) => {{
        let spec = Spec {
            orderable: &["id", "name"],
            searchable: &["id", "name"],
            ..spec!(2, $field, order: [], search: [])
        };
        let r = read_routes($path, spec);
        if $w { r.merge(write_routes($path, spec)) } else { r }
    }};
}

/// All 2.0 routes.
pub fn routes() -> Router<Arc<AppState>> {
    let relation = spec!(2, contact_relations, order: ["id", "contact_id", "contact_sub_id", "updated_at"], search: ["contact_id", "contact_sub_id", "updated_at"], etag: true);
    let country = spec!(2, countries, order: ["id", "name", "name_short"], search: ["id", "name", "name_short", "iso_3166_alpha2"]);
    let language = spec!(2, languages, order: ["id", "name"], search: ["id", "name", "iso_639_1"]);
    let note = spec!(2, notes, order: ["id", "event_start"], search: ["id", "event_start", "contact_id", "user_id", "subject", "module_id", "entry_id", "project_id"]);
    let article =
        spec!(2, articles, order: ["id", "intern_name"], search: ["intern_name", "intern_code"]);
    let project =
        spec!(2, projects, order: ["id", "name"], search: ["name", "contact_id", "pr_state_id"]);
    let timesheet = spec!(2, timesheets, order: ["id", "date"], search: ["id", "client_service_id", "contact_id", "user_id", "pr_project_id", "status_id", "date"]);
    let client_service = spec!(2, client_services, order: ["id", "name"], search: ["id", "name"]);
    let accounts = spec!(2, accounts, order: ["id", "account_no", "name"], search: ["account_no", "fibu_account_group_id", "name", "account_type"]);
    let account_groups = spec!(2, account_groups, order: ["id", "account_no", "name"], search: ["account_no", "name"]);
    let settings = spec!(2, document_settings, order: ["id"], search: []);

    Router::new()
        .merge(contacts())
        .merge(crud_routes("/2.0/contact_relation", relation))
        .merge(lookup!("/2.0/contact_group", contact_groups, writable: true))
        .merge(lookup!("/2.0/contact_branch", contact_branches, writable: false))
        .merge(lookup!("/2.0/salutation", salutations, writable: true))
        .merge(lookup!("/2.0/title", titles, writable: true))
        .merge(lookup!("/2.0/payment_type", payment_types, writable: false))
        .merge(lookup!("/2.0/unit", units, writable: true))
        .merge(lookup!("/2.0/pr_project_state", project_states, writable: false))
        .merge(lookup!("/2.0/pr_project_type", project_types, writable: false))
        .merge(lookup!("/2.0/timesheet_status", timesheet_statuses, writable: false))
        .merge(crud_routes("/2.0/country", country))
        .merge(read_routes("/2.0/language", language))
        .merge(crud_routes("/2.0/note", note))
        .merge(crud_routes("/2.0/article", article))
        .merge(read_routes("/2.0/pr_project", project))
        .merge(read_routes("/2.0/timesheet", timesheet))
        .merge(read_routes("/2.0/client_service", client_service))
        .merge(read_routes("/2.0/accounts", accounts))
        .merge(read_routes("/2.0/account_groups", account_groups))
        .merge(read_routes("/2.0/kb_item_setting", settings))
        .merge(docs(DocKind::Offer))
        .merge(docs(DocKind::Order))
        .merge(docs(DocKind::Invoice))
        .route(
            "/2.0/company_profile",
            get(|ctx: Ctx| async move {
                let c = ctx.tenant.company.read();
                Ok::<_, ApiError>(Reply::json(&[&c.profile]))
            }),
        )
        .route(
            "/2.0/company_profile/{id}",
            get(|ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                if id != c.profile.id {
                    return Err(ApiError::not_found());
                }
                Ok(Reply::json(&c.profile).with_etag())
            }),
        )
}
