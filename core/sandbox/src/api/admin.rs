//! `/_sandbox/`: what bexio does not have. Ground truth for tests (`stats`), time moving on
//! (`advance`) and faults on demand (`faults`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::AppState;
use super::faults::FaultPlan;
use super::limits::Bucket;
use super::query::Params;
use super::reply::{ApiError, ApiResult, Reply};

fn selected<'a>(app: &'a AppState, q: &Params) -> Result<Vec<&'a Arc<super::Tenant>>, ApiError> {
    match q.get("company_id").filter(|s| !s.is_empty()) {
        None => Ok(app.tenants.iter().collect()),
        Some(id) => {
            let t: Vec<_> = app.tenants.iter().filter(|t| &t.company_id == id).collect();
            if t.is_empty() {
                Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no company {id:?} in this sandbox"),
                ))
            } else {
                Ok(t)
            }
        }
    }
}

async fn stats(State(app): State<Arc<AppState>>, Query(q): Query<Params>) -> ApiResult {
    let mut companies = Vec::new();
    for t in selected(&app, &q)? {
        let stats = t.company.read().stats();
        let l = t.limiter.lock();
        let served = |b: Bucket| l.served.get(&b).copied().unwrap_or(0);
        companies.push(serde_json::json!({
            "company_id": t.company_id,
            "name": t.name,
            "stats": stats,
            "requests": {
                "served": served(Bucket::Default) + served(Bucket::Article) + served(Bucket::Search),
                "by_bucket": {"default": served(Bucket::Default), "article": served(Bucket::Article), "search": served(Bucket::Search)},
                "throttled": l.throttled,
            },
        }));
    }
    Ok(Reply::json(&serde_json::json!({
        "clock": {
            "time_scale": app.clock.scale(),
            "simulated_seconds": app.clock.elapsed(),
            "simulated_now": app.clock.now(),
        },
        "limits": app.limits,
        "faults": *app.faults.read(),
        "companies": companies,
    })))
}

async fn advance(State(app): State<Arc<AppState>>, Query(q): Query<Params>) -> ApiResult {
    let days: u32 = match q.get("days") {
        None => 1,
        Some(d) => d
            .parse()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| ApiError::bad_params("days must be a whole number from 1 to 3650"))?,
    };
    let tenants: Vec<Arc<super::Tenant>> = selected(&app, &q)?.into_iter().cloned().collect();
    // Simulating months of business is CPU work: keep it off the async workers. Each company
    // is locked only while its own simulation runs.
    let out = tokio::task::spawn_blocking(move || {
        tenants
            .iter()
            .map(|t| {
                let mut c = t.company.write();
                let changes = c.advance(days);
                serde_json::json!({"company_id": t.company_id, "today": c.today, "changes": changes})
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("advance failed: {e}")))?;
    Ok(Reply::json(
        &serde_json::json!({"days": days, "companies": out}),
    ))
}

async fn get_faults(State(app): State<Arc<AppState>>) -> Reply {
    Reply::json(&*app.faults.read())
}

/// Sets the fault plan from a spec in the body (`429=0.05,5xx=0.02`) or `?spec=`.
async fn set_faults(
    State(app): State<Arc<AppState>>,
    Query(q): Query<Params>,
    body: Bytes,
) -> ApiResult {
    let spec = match q.get("spec") {
        Some(s) => s.clone(),
        None => String::from_utf8_lossy(&body)
            .trim()
            .trim_matches('"')
            .to_string(),
    };
    let plan = FaultPlan::parse(&spec).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    *app.faults.write() = plan.clone();
    Ok(Reply::json(&plan))
}

/// The admin routes.
pub fn routes(app: Arc<AppState>) -> Router {
    Router::new()
        .route("/stats", get(stats))
        .route("/advance", post(advance))
        .route("/faults", get(get_faults).put(set_faults).post(set_faults))
        .with_state(app)
}
