//! The 4.0 routes: purchase bills and expenses, with UUID ids, `page`/`limit` paging and the
//! `{data, paging}` envelope.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::get;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::query::{Params, v4_page};
use super::reply::{ApiError, Reply};
use super::{AppState, Ctx};

fn date(q: &Params, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::unprocessable(format!("{name} must be a date YYYY-MM-DD"))),
    }
}

fn stamp(q: &Params, name: &str) -> Result<Option<crate::model::wire::Stamp>, ApiError> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::model::wire::Stamp::parse_any(s)
            .or_else(|| crate::model::wire::Stamp::parse_v2(&format!("{s} 00:00:00")))
            .map(Some)
            .ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "{name} must be a date-time like 2020-01-24T13:08:01+0000"
                ))
            }),
    }
}

fn amount(q: &Params, name: &str) -> Result<Option<Decimal>, ApiError> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::unprocessable(format!("{name} must be a number"))),
    }
}

fn text_match(q: &Params, name: &str, value: &str) -> bool {
    q.get(name)
        .filter(|s| !s.is_empty())
        .is_none_or(|want| value.to_lowercase().contains(&want.to_lowercase()))
}

const BILL_SORT: &[&str] = &[
    "document_no",
    "title",
    "vendor",
    "bill_date",
    "due_date",
    "gross",
    "net",
    "pending_amount",
    "created_at",
    "status",
];
const EXPENSE_SORT: &[&str] = &[
    "document_no",
    "title",
    "vendor",
    "paid_on",
    "gross",
    "net",
    "created_at",
    "status",
];

/// All 4.0 routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/4.0/purchase/bills",
            get(|ctx: Ctx, Query(q): Query<Params>| async move {
                let (from, to) = (date(&q, "bill_date_start")?, date(&q, "bill_date_end")?);
                let (due_from, due_to) = (date(&q, "due_date_start")?, date(&q, "due_date_end")?);
                let (gross_min, gross_max) = (amount(&q, "gross_min")?, amount(&q, "gross_max")?);
                let status = q.get("status").map(|s| s.to_uppercase());
                if let Some(s) = &status
                    && !matches!(s.as_str(), "DRAFTS" | "TODO" | "PAID" | "OVERDUE")
                {
                    return Err(ApiError::unprocessable(
                        "status must be one of DRAFTS, TODO, PAID, OVERDUE",
                    ));
                }
                let supplier: Option<u64> = q.get("supplier_id").and_then(|s| s.parse().ok());
                let c = ctx.tenant.company.read();
                let today = c.today;
                let rows = c.bills.iter().filter(|b| {
                    from.is_none_or(|d| b.bill_date >= d)
                        && to.is_none_or(|d| b.bill_date <= d)
                        && due_from.is_none_or(|d| b.due_date >= d)
                        && due_to.is_none_or(|d| b.due_date <= d)
                        && gross_min.is_none_or(|m| b.gross >= m)
                        && gross_max.is_none_or(|m| b.gross <= m)
                        && supplier.is_none_or(|s| b.supplier_id == s)
                        && text_match(&q, "title", &b.title)
                        && text_match(&q, "document_no", &b.document_no)
                        && text_match(&q, "vendor", &b.address.lastname_company)
                        && q.get("currency_code")
                            .is_none_or(|cc| cc.eq_ignore_ascii_case(b.currency_code))
                        && match status.as_deref() {
                            Some("DRAFTS") => b.status == "DRAFT",
                            Some("TODO") => b.status != "DRAFT" && b.status != "PAID",
                            Some("PAID") => b.status == "PAID",
                            Some("OVERDUE") => b.overdue(today),
                            _ => true,
                        }
                });
                v4_page(rows, &q, BILL_SORT, |b| b.row(today))
            }),
        )
        .route(
            "/4.0/purchase/bills/{id}",
            get(|ctx: Ctx, Path(id): Path<String>| async move {
                let c = ctx.tenant.company.read();
                let b = c
                    .bills
                    .iter()
                    .find(|b| b.id == id)
                    .ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(Reply::json(&b.detail(c.today)))
            }),
        )
        .route(
            "/4.0/expenses",
            get(|ctx: Ctx, Query(q): Query<Params>| async move {
                let (from, to) = (stamp(&q, "created_at_start")?, stamp(&q, "created_at_end")?);
                let (paid_from, paid_to) = (date(&q, "paid_on_start")?, date(&q, "paid_on_end")?);
                let (gross_min, gross_max) = (amount(&q, "gross_min")?, amount(&q, "gross_max")?);
                let c = ctx.tenant.company.read();
                let rows = c.expenses.iter().filter(|e| {
                    from.is_none_or(|d| e.created_at >= d)
                        && to.is_none_or(|d| e.created_at <= d)
                        && paid_from.is_none_or(|d| e.paid_on >= d)
                        && paid_to.is_none_or(|d| e.paid_on <= d)
                        && gross_min.is_none_or(|m| e.gross >= m)
                        && gross_max.is_none_or(|m| e.gross <= m)
                        && text_match(&q, "title", &e.title)
                        && text_match(&q, "document_no", &e.document_no)
                        && q.get("currency_code")
                            .is_none_or(|cc| cc.eq_ignore_ascii_case(e.currency_code))
                });
                v4_page(rows, &q, EXPENSE_SORT, |e| e.row())
            }),
        )
        .route(
            "/4.0/expenses/{id}",
            get(|ctx: Ctx, Path(id): Path<String>| async move {
                let c = ctx.tenant.company.read();
                let e = c
                    .expenses
                    .iter()
                    .find(|e| e.id == id)
                    .ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(Reply::json(&e.detail()))
            }),
        )
}
