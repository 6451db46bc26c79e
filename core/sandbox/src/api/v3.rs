//! The 3.0 routes: taxes, currencies, accounting, banking, users and files. Lists carry
//! `x-total-count`, `x-limit` and `x-offset`; money and timestamps use 3.0's encodings.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::query::{Params, matches_all, parse_search, v3_list};
use super::reply::{ApiError, Reply};
use super::table::{self, Writable, parse_id, read_routes, spec};
use super::{AppState, Ctx};
use crate::company::{CURRENCY_CODES, Company};
use crate::model::accounting::{Currency, ExchangeRate};
use crate::model::system::FileRecord;
use crate::model::wire::{Stamp, uuid_for};

impl Writable for Currency {
    const REQUIRED: &'static [&'static str] = &["name", "round_factor"];
    fn blank(id: u64, _: Stamp) -> Self {
        Currency {
            id,
            name: String::new(),
            round_factor: Decimal::new(1, 2),
        }
    }
}

fn date_param(q: &Params, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::bad_params(format!("{name} must be a date YYYY-MM-DD, got {s:?}"))
            }),
    }
}

fn taxes() -> Router<Arc<AppState>> {
    let spec = spec!(3, taxes, order: ["id"], search: [], etag: true);
    Router::new()
        .route(
            "/3.0/taxes",
            get(|ctx: Ctx, Query(q): Query<Params>| async move {
                let scope = q.get("scope").map(String::as_str);
                if !matches!(scope, None | Some("" | "active" | "inactive")) {
                    return Err(ApiError::bad_params("scope must be active or inactive"));
                }
                let types: Vec<String> = q
                    .get("types")
                    .map(|t| t.split(',').map(|s| s.trim().to_string()).collect())
                    .unwrap_or_default();
                let year = date_param(&q, "date")?.map(|d| chrono::Datelike::year(&d));
                let c = ctx.tenant.company.read();
                let rows = c.taxes.iter().filter(|t| {
                    // With `date`, "active" means in force on that date (a 7.7 % code was active
                    // in 2023); without it, today's flag.
                    let active = match year {
                        Some(y) => {
                            t.start_year.is_none_or(|s| s <= y)
                                && t.end_year.is_none_or(|e| e >= y)
                                && (t.is_active || t.end_year.is_some())
                        }
                        None => t.is_active,
                    };
                    let scope_ok = match scope {
                        Some("active") => active,
                        Some("inactive") => !active,
                        _ => year.is_none() || active,
                    };
                    let type_ok = types.is_empty()
                        || types.iter().any(|x| {
                            x == &t.kind || (x == "pre_tax" && t.kind.starts_with("pre_tax"))
                        });
                    scope_ok && type_ok
                });
                v3_list(rows, &q, &["id"])
            }),
        )
        .route(
            "/3.0/taxes/{id}",
            get(move |ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let t = c.taxes.get(id).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(table::single(spec, Reply::json(t)))
            })
            .delete(|ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let mut c = ctx.tenant.company.write();
                c.taxes.get(id).ok_or_else(ApiError::not_found)?;
                let used = c.articles.iter().any(|a| a.tax_id == Some(id))
                    || c.invoices
                        .iter()
                        .any(|d| d.positions.iter().any(|p| p.tax_id == Some(id)))
                    || c.accounts.iter().any(|a| a.tax_id == Some(id));
                if used {
                    return Err(ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "tax can not be deleted",
                    ));
                }
                c.taxes.remove(id);
                Ok(Reply::success())
            }),
        )
}

fn rate_against_chf(c: &Company, currency: &str, day: NaiveDate) -> Option<Decimal> {
    let eur = c.eur_rate(day);
    match currency {
        "CHF" => Some(Decimal::ONE),
        "EUR" => Some(eur),
        // Derived from the euro rate with fixed crosses; good enough for a sandbox.
        "USD" => Some((eur * Decimal::new(8150, 4)).round_dp(4)),
        "GBP" => Some((eur * Decimal::new(11650, 4)).round_dp(4)),
        _ => None,
    }
}

fn currencies() -> Router<Arc<AppState>> {
    let spec = spec!(3, currencies, order: ["id", "name"], search: [], etag: true);
    Router::new()
        .route(
            "/3.0/currencies",
            get(|ctx: Ctx, Query(q): Query<Params>| async move {
                let c = ctx.tenant.company.read();
                v3_list(c.currencies.iter(), &q, &["id", "name"])
            })
            .post(
                move |ctx: Ctx, State(app): State<Arc<AppState>>, body: Bytes| async move {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    let name = v.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                    if !CURRENCY_CODES.contains(&name) {
                        return Err(ApiError::unprocessable(format!(
                            "'{name}' is not a supported currency code"
                        )));
                    }
                    if ctx
                        .tenant
                        .company
                        .read()
                        .currencies
                        .iter()
                        .any(|c| c.name == name)
                    {
                        return Err(ApiError::unprocessable(format!(
                            "The currency '{name}' exists already"
                        )));
                    }
                    table::create(spec, &ctx, &app, &body)
                },
            ),
        )
        .route(
            "/3.0/currencies/codes",
            get(|| async { Reply::json(CURRENCY_CODES) }),
        )
        .route(
            "/3.0/currencies/{id}",
            get(move |ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let cur = c.currencies.get(id).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(table::single(spec, Reply::json(cur)))
            })
            .patch(
                move |ctx: Ctx,
                      State(app): State<Arc<AppState>>,
                      Path(id): Path<String>,
                      body: Bytes| async move {
                    table::edit(spec, &ctx, &app, &id, &body).map(|r| Reply { etag: false, ..r })
                },
            )
            .delete(move |ctx: Ctx, Path(id): Path<String>| async move {
                let nid = parse_id(&id)?;
                {
                    let c = ctx.tenant.company.read();
                    if nid == crate::company::CHF || c.invoices.iter().any(|d| d.currency_id == nid)
                    {
                        return Err(ApiError::new(
                            axum::http::StatusCode::CONFLICT,
                            "currency can not be deleted",
                        ));
                    }
                }
                table::delete(spec, &ctx, &id)
            }),
        )
        .route(
            "/3.0/currencies/{id}/exchange_rates",
            get(
                |ctx: Ctx, Path(id): Path<String>, Query(q): Query<Params>| async move {
                    let id = parse_id(&id)?;
                    let c = ctx.tenant.company.read();
                    let day = date_param(&q, "date")?.unwrap_or(c.today);
                    let this = c.currencies.get(id).ok_or_else(ApiError::not_found)?;
                    let here = rate_against_chf(&c, &this.name, day);
                    let rows: Vec<ExchangeRate> = c
                        .currencies
                        .iter()
                        .filter(|o| o.id != id)
                        .filter_map(|other| {
                            let there = rate_against_chf(&c, &other.name, day)?;
                            let factor = (here? / there).round_dp(4);
                            Some(ExchangeRate {
                                factor_nr: factor,
                                exchange_currency: other.clone(),
                                ratio: 1,
                                factor_nr_to_ratio: factor,
                                source: "custom".into(),
                                source_reason: "source_custom".into(),
                                exchange_rate_date: day,
                            })
                        })
                        .collect();
                    let n = rows.len();
                    Ok::<_, ApiError>(Reply::json(&rows).with_totals(n, 500, 0))
                },
            ),
        )
}

fn accounting() -> Router<Arc<AppState>> {
    let calendar = spec!(3, calendar_years, order: ["id", "start"], search: ["id", "start", "end", "is_vat_subject", "vat_accounting_method", "vat_accounting_type", "created_at", "updated_at"], etag: true);
    let business = spec!(3, business_years, order: ["id", "start"], search: []);
    let vat = spec!(3, vat_periods, order: ["id", "start"], search: []);
    let manual = spec!(3, manual_entries, order: ["id", "date"], search: []);
    Router::new()
        .merge(read_routes("/3.0/accounting/calendar_years", calendar))
        .merge(read_routes("/3.0/accounting/business_years", business))
        .merge(read_routes("/3.0/accounting/vat_periods", vat))
        .merge(read_routes("/3.0/accounting/manual_entries", manual))
        .route(
            "/3.0/accounting/manual_entries/next_ref_nr",
            get(|ctx: Ctx| async move {
                let c = ctx.tenant.company.read();
                Reply::json(
                    &serde_json::json!({"next_ref_nr": (c.manual_entries.len() + 1).to_string()}),
                )
            }),
        )
        .route(
            "/3.0/accounting/journal",
            get(|ctx: Ctx, Query(q): Query<Params>| async move {
                let from = date_param(&q, "from")?;
                let to = date_param(&q, "to")?;
                let c = ctx.tenant.company.read();
                let account = match q.get("account_uuid").filter(|s| !s.is_empty()) {
                    None => None,
                    Some(u) => Some(
                        c.accounts
                            .iter()
                            .find(|a| &a.uuid == u)
                            .map(|a| a.id)
                            .ok_or_else(|| ApiError::bad_params("unknown account_uuid"))?,
                    ),
                };
                let from_stamp =
                    from.map(|d| Stamp::parse_v2(&format!("{d} 00:00:00")).unwrap_or_default());
                let to_stamp =
                    to.map(|d| Stamp::parse_v2(&format!("{d} 23:59:59")).unwrap_or_default());
                let rows = c.journal.iter().filter(|j| {
                    from_stamp.is_none_or(|f| j.date >= f)
                        && to_stamp.is_none_or(|t| j.date <= t)
                        && account
                            .is_none_or(|a| j.debit_account_id == a || j.credit_account_id == a)
                });
                v3_list(rows, &q, &["id", "date"])
            }),
        )
}

/// bexio's upload limit per file.
const MAX_UPLOAD: usize = 12 * 1024 * 1024;

fn files() -> Router<Arc<AppState>> {
    let spec = spec!(3, files, order: ["id", "created_at", "source_id", "uuid", "name", "size_in_bytes"], search: [], etag: true);
    const SEARCH: &[&str] = &[
        "id",
        "uuid",
        "created_at",
        "name",
        "extension",
        "size_in_bytes",
        "mime_type",
        "user_id",
        "is_archived",
        "source_id",
    ];
    fn archived_filter(q: &Params) -> Result<Option<bool>, ApiError> {
        match q.get("archived_state").map(String::as_str) {
            None | Some("" | "all") => Ok(None),
            Some("archived") => Ok(Some(true)),
            Some("not_archived") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad_params(format!(
                "archived_state must be all, archived or not_archived, got {other:?}"
            ))),
        }
    }
    fn file_body(f: &FileRecord) -> Response {
        let mut r = Response::new(Body::from(f.content.to_vec()));
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&f.mime_type) {
            h.insert(CONTENT_TYPE, v);
        }
        h.insert(
            "content-description",
            HeaderValue::from_static("File Transfer"),
        );
        h.insert(
            "content-transfer-encoding",
            HeaderValue::from_static("binary"),
        );
        h.insert(
            "cache-control",
            HeaderValue::from_static("public, must-revalidate"),
        );
        h.insert("pragma", HeaderValue::from_static("public"));
        let name = format!("{}.{}", f.name, f.extension).replace('"', "");
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert("content-disposition", v);
        }
        r
    }
    Router::new()
        .route(
            "/3.0/files",
            get(move |ctx: Ctx, Query(q): Query<Params>| async move {
                let archived = archived_filter(&q)?;
                let c = ctx.tenant.company.read();
                v3_list(
                    c.files
                        .iter()
                        .filter(|f| archived.is_none_or(|a| f.is_archived == a)),
                    &q,
                    spec.orderable,
                )
            })
            .post(
                |ctx: Ctx, State(app): State<Arc<AppState>>, mut form: Multipart| async move {
                    let mut created = Vec::new();
                    while let Some(field) = form
                        .next_field()
                        .await
                        .map_err(|e| ApiError::bad_params(format!("bad multipart body: {e}")))?
                    {
                        let file_name = field.file_name().unwrap_or("upload").to_string();
                        let mime = field
                            .content_type()
                            .unwrap_or("application/octet-stream")
                            .to_string();
                        let bytes = field.bytes().await.map_err(|e| {
                            ApiError::bad_params(format!("bad multipart body: {e}"))
                        })?;
                        let (stem, ext) = file_name
                            .rsplit_once('.')
                            .map_or((file_name.clone(), String::new()), |(s, e)| {
                                (s.to_string(), e.to_lowercase())
                            });
                        if bytes.len() > MAX_UPLOAD {
                            return Err(ApiError::unprocessable(format!(
                                "The file {file_name:?} is larger than bexio's 12 MB limit"
                            )));
                        }
                        let mut c = ctx.tenant.company.write();
                        let id = c.files.next_id();
                        let created_at = c.write_stamp(&app.clock);
                        let rec = FileRecord {
                            id,
                            uuid: uuid_for(0xF11E ^ app.clock.now().to_bits(), id).to_string(),
                            name: stem,
                            size_in_bytes: bytes.len() as u64,
                            extension: ext,
                            mime_type: mime,
                            uploader_email: None,
                            processing_source: None,
                            processing_status: None,
                            user_id: 1,
                            is_archived: false,
                            source_id: 2,
                            created_at,
                            is_referenced: false,
                            source_type: "web".into(),
                            content: Arc::from(bytes.to_vec()),
                        };
                        c.files.insert(rec.clone());
                        created.push(rec);
                    }
                    if created.is_empty() {
                        return Err(ApiError::unprocessable("No file in the upload"));
                    }
                    Ok(Reply::created(&created))
                },
            ),
        )
        .route(
            "/3.0/files/search",
            post(
                move |ctx: Ctx, Query(q): Query<Params>, body: Bytes| async move {
                    let filters = parse_search(&body, SEARCH)?;
                    let c = ctx.tenant.company.read();
                    v3_list(
                        c.files.iter().filter(|f| matches_all(&filters, *f)),
                        &q,
                        spec.orderable,
                    )
                },
            ),
        )
        .route(
            "/3.0/files/{id}",
            get(move |ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let f = c.files.get(id).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(table::single(spec, Reply::json(f)))
            })
            .patch(
                move |ctx: Ctx, Path(id): Path<String>, body: Bytes| async move {
                    #[derive(serde::Deserialize)]
                    struct Edit {
                        name: Option<String>,
                        is_archived: Option<bool>,
                    }
                    let e: Edit = serde_json::from_slice(&body).map_err(|e| {
                        ApiError::unprocessable(format!("Could not save the file: {e}"))
                    })?;
                    let id = parse_id(&id)?;
                    let mut c = ctx.tenant.company.write();
                    let f = c.files.get_mut(id).ok_or_else(ApiError::not_found)?;
                    if let Some(n) = e.name {
                        f.name = n;
                    }
                    if let Some(a) = e.is_archived {
                        f.is_archived = a;
                    }
                    Ok::<_, ApiError>(Reply::json(f))
                },
            )
            .delete(move |ctx: Ctx, Path(id): Path<String>| async move {
                table::delete(spec, &ctx, &id)
            }),
        )
        .route(
            "/3.0/files/{id}/download",
            get(|ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let f = c.files.get(id).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(file_body(f))
            }),
        )
        .route(
            "/3.0/files/{id}/preview",
            get(|ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let f = c.files.get(id).ok_or_else(ApiError::not_found)?;
                // bexio labels previews as JPEG whatever their bytes (PNG in the recordings).
                let mut preview = f.clone();
                preview.mime_type = "image/jpeg".into();
                Ok::<_, ApiError>(file_body(&preview).into_response())
            }),
        )
        // A multipart upload may carry several files of up to 12 MB each.
        .layer(axum::extract::DefaultBodyLimit::max(4 * MAX_UPLOAD))
}

/// All 3.0 routes.
pub fn routes() -> Router<Arc<AppState>> {
    let banks = spec!(3, bank_accounts, order: ["id", "name"], search: [], etag: true);
    let users = spec!(3, users, order: ["id"], search: []);
    Router::new()
        .merge(taxes())
        .merge(currencies())
        .merge(accounting())
        .merge(files())
        .merge(read_routes("/3.0/banking/accounts", banks))
        .merge(read_routes("/3.0/users", users))
        .route(
            "/3.0/users/me",
            get(|ctx: Ctx| async move {
                let c = ctx.tenant.company.read();
                let me = c.users.get(1).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(Reply::json(me))
            }),
        )
}
