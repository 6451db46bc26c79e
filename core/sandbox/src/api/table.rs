//! Generic read and write routes over a [`Table`], so that each resource is declared once with
//! its paging, search and write rules.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::query::{self, Params, matches_all, parse_search};
use super::reply::{ApiError, ApiResult, Reply};
use super::{AppState, Ctx};
use crate::company::Company;
use crate::model::wire::Stamp;
use crate::model::{Record, Table};

/// A record that clients may create and edit.
pub trait Writable: Record + Serialize + DeserializeOwned + Clone {
    /// Fields a create must carry.
    const REQUIRED: &'static [&'static str] = &[];
    /// Fields a client may not set.
    const READ_ONLY: &'static [&'static str] = &["id"];
    /// A new record with defaults.
    fn blank(id: u64, now: Stamp) -> Self;
    /// Marks the record as changed at `now`.
    fn touch(&mut self, _now: Stamp) {}
    /// Carries over what the API does not show (and so a merge through JSON loses), such as a
    /// contact's archived flag.
    fn keep_hidden(&mut self, _before: &Self) {}
    /// Adjusts the JSON of a write's answer where bexio encodes it differently from reads.
    fn shape(_json: &mut serde_json::Value, _op: WriteOp) {}
}

/// Which write produced an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    /// `POST /resource`.
    Create,
    /// `POST /resource/{id}` (2.0) or `PATCH` (3.0).
    Edit,
}

fn shaped<T: Writable>(row: &T, op: WriteOp) -> Result<serde_json::Value, ApiError> {
    let mut v = serde_json::to_value(row).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    T::shape(&mut v, op);
    Ok(v)
}

/// Merges a JSON object into a record: unknown keys are ignored (as bexio does), read-only keys
/// are kept, values of the wrong type are a 422.
pub fn merge<T: Writable>(base: &T, body: &[u8]) -> Result<T, ApiError> {
    let patch: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_params(format!("the body must be a JSON object: {e}")))?;
    let serde_json::Value::Object(patch) = patch else {
        return Err(ApiError::bad_params("the body must be a JSON object"));
    };
    let mut current =
        serde_json::to_value(base).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    if let serde_json::Value::Object(map) = &mut current {
        for (k, v) in patch {
            if map.contains_key(&k) && !T::READ_ONLY.contains(&k.as_str()) {
                map.insert(k, v);
            }
        }
    }
    serde_json::from_value(current)
        .map_err(|e| ApiError::unprocessable(format!("Could not save the record: {e}")))
}

/// Declares a [`Spec`] for a table field of `Company`: `spec!(2, contacts, order: [...], search: [...])`;
/// the first argument is the API generation (3 adds the paging headers).
macro_rules! spec {
    ($gen:literal, $field:ident, order: [$($o:literal),*], search: [$($s:literal),*] $(, etag: $etag:expr)?) => {
        $crate::api::table::Spec {
            table: |c: &$crate::company::Company| &c.$field,
            table_mut: |c: &mut $crate::company::Company| &mut c.$field,
            orderable: &[$($o),*],
            searchable: &[$($s),*],
            v3: $gen == 3,
            etag: false $(|| $etag)?,
        }
    };
}
pub(crate) use spec;

/// How a resource behaves.
pub struct Spec<T: 'static> {
    /// Read the table.
    pub table: fn(&Company) -> &Table<T>,
    /// Write the table.
    pub table_mut: fn(&mut Company) -> &mut Table<T>,
    /// `order_by` fields.
    pub orderable: &'static [&'static str],
    /// Search fields (empty: no `/search`).
    pub searchable: &'static [&'static str],
    /// 3.0 paging headers.
    pub v3: bool,
    /// Single records carry an `etag`.
    pub etag: bool,
}

impl<T> Clone for Spec<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Spec<T> {}

/// `GET /` and `POST /search` for a table.
pub fn read_routes<T: Record + Serialize + 'static>(
    path: &str,
    spec: Spec<T>,
) -> Router<Arc<AppState>> {
    let mut r = Router::new()
        .route(
            path,
            get(move |ctx: Ctx, Query(q): Query<Params>| async move {
                let c = ctx.tenant.company.read();
                list(spec, (spec.table)(&c).iter(), &q)
            }),
        )
        .route(
            &format!("{path}/{{id}}"),
            get(move |ctx: Ctx, Path(id): Path<String>| async move {
                let id = parse_id(&id)?;
                let c = ctx.tenant.company.read();
                let row = (spec.table)(&c).get(id).ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>(single(spec, Reply::json(row)))
            }),
        );
    if !spec.searchable.is_empty() {
        r = r.route(
            &format!("{path}/search"),
            post(
                move |ctx: Ctx, Query(q): Query<Params>, body: Bytes| async move {
                    let filters = parse_search(&body, spec.searchable)?;
                    let c = ctx.tenant.company.read();
                    list(
                        spec,
                        (spec.table)(&c)
                            .iter()
                            .filter(|r| matches_all(&filters, *r)),
                        &q,
                    )
                },
            ),
        );
    }
    r
}

/// Read and write routes of a writable table.
pub fn crud_routes<T: Writable + 'static>(path: &str, spec: Spec<T>) -> Router<Arc<AppState>> {
    read_routes(path, spec).merge(write_routes(path, spec))
}

/// `POST /` (create), `POST /{id}` (edit), `DELETE /{id}` for a table, the 2.0 way.
pub fn write_routes<T: Writable + 'static>(path: &str, spec: Spec<T>) -> Router<Arc<AppState>> {
    Router::new()
        .route(
            path,
            post(
                move |ctx: Ctx,
                      axum::extract::State(app): axum::extract::State<Arc<AppState>>,
                      body: Bytes| async move { create(spec, &ctx, &app, &body) },
            ),
        )
        .route(
            &format!("{path}/{{id}}"),
            post(
                move |ctx: Ctx,
                      axum::extract::State(app): axum::extract::State<Arc<AppState>>,
                      Path(id): Path<String>,
                      body: Bytes| async move { edit(spec, &ctx, &app, &id, &body) },
            )
            .delete(move |ctx: Ctx, Path(id): Path<String>| async move { delete(spec, &ctx, &id) }),
        )
}

/// Parses a numeric id from the path (404 when it is not one, as bexio answers).
pub fn parse_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>().map_err(|_| ApiError::not_found())
}

/// A list answer in the resource's generation.
pub fn list<'a, T: Record + Serialize + 'a>(
    spec: Spec<T>,
    rows: impl Iterator<Item = &'a T>,
    q: &Params,
) -> ApiResult {
    if spec.v3 {
        query::v3_list(rows, q, spec.orderable)
    } else {
        query::v2_list(rows, q, spec.orderable)
    }
}

/// A single-record answer.
pub fn single<T>(spec: Spec<T>, reply: Reply) -> Reply {
    if spec.etag { reply.with_etag() } else { reply }
}

fn check_required(body: &[u8], required: &[&str]) -> Result<(), ApiError> {
    if required.is_empty() {
        return Ok(());
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_params(format!("the body must be a JSON object: {e}")))?;
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| v.get(*k).is_none_or(serde_json::Value::is_null))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable(format!(
            "Missing required fields: {}",
            missing.join(", ")
        )))
    }
}

/// Creates a record from a JSON body.
pub fn create<T: Writable>(spec: Spec<T>, ctx: &Ctx, app: &AppState, body: &[u8]) -> ApiResult {
    check_required(body, T::REQUIRED)?;
    let mut c = ctx.tenant.company.write();
    let now = c.write_stamp(&app.clock);
    let table = (spec.table_mut)(&mut c);
    let id = table.next_id();
    let row = merge(&T::blank(id, now), body)?;
    table.insert(row);
    let row = table.get(id).ok_or_else(ApiError::not_found)?;
    Ok(single(spec, Reply::created(&shaped(row, WriteOp::Create)?)))
}

/// Edits a record from a JSON body.
pub fn edit<T: Writable>(
    spec: Spec<T>,
    ctx: &Ctx,
    app: &AppState,
    id: &str,
    body: &[u8],
) -> ApiResult {
    let id = parse_id(id)?;
    let mut c = ctx.tenant.company.write();
    let now = c.write_stamp(&app.clock);
    let table = (spec.table_mut)(&mut c);
    let current = table.get(id).ok_or_else(ApiError::not_found)?;
    let mut row = merge(current, body)?;
    row.keep_hidden(current);
    row.touch(now);
    table.insert(row);
    let row = table.get(id).ok_or_else(ApiError::not_found)?;
    Ok(single(spec, Reply::json(&shaped(row, WriteOp::Edit)?)))
}

/// Deletes a record.
pub fn delete<T: Record>(spec: Spec<T>, ctx: &Ctx, id: &str) -> ApiResult {
    let id = parse_id(id)?;
    let mut c = ctx.tenant.company.write();
    (spec.table_mut)(&mut c)
        .remove(id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::success())
}
