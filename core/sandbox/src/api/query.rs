//! Paging, ordering and search, per API generation.
//!
//! - 2.0: `limit` (default 500, at most 2000), `offset`, `order_by=field[_asc|_desc][,…]`; a bare
//!   array; the client knows it reached the end when a page is shorter than `limit`.
//! - 3.0: the same parameters, plus `x-total-count`, `x-limit`, `x-offset` headers.
//! - 4.0: `page` (from 1) and `limit` (default 100, at most 500), `order`/`sort`, and a
//!   `{"data": […], "paging": {page, page_size, page_count, item_count}}` envelope.
//! - Search: `POST …/search` with a JSON array of `{field, value, criteria}`; every criterion must
//!   hold (AND). Unknown fields or criteria are a 422.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::reply::{ApiError, ApiResult, Reply};
use crate::model::wire::Stamp;
use crate::model::{Record, Scalar};

/// Query parameters as sent.
pub type Params = HashMap<String, String>;

/// Default page size of 2.0 and 3.0 lists.
pub const DEFAULT_LIMIT: usize = 500;
/// Largest page bexio serves on 2.0 and 3.0 lists.
pub const MAX_LIMIT: usize = 2000;
/// Largest page of 4.0 lists.
pub const MAX_V4_LIMIT: usize = 500;

fn number(params: &Params, name: &str, default: usize) -> Result<usize, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            ApiError::bad_params(format!("{name} must be a non-negative integer, got {v:?}"))
        }),
    }
}

/// One `order_by` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    /// Field name.
    pub field: String,
    /// Descending?
    pub desc: bool,
}

/// Parsed `limit`, `offset` and `order_by` of a 2.0/3.0 list.
#[derive(Debug, Clone)]
pub struct Page {
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
    /// Sort keys; empty means by id ascending.
    pub order: Vec<OrderKey>,
}

impl Page {
    /// Reads the paging parameters, checking `order_by` fields against `orderable`.
    pub fn parse(params: &Params, orderable: &[&str]) -> Result<Page, ApiError> {
        let limit = number(params, "limit", DEFAULT_LIMIT)?;
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::bad_params(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = number(params, "offset", 0)?;
        let mut order = Vec::new();
        if let Some(spec) = params.get("order_by").filter(|s| !s.trim().is_empty()) {
            for part in spec.split(',') {
                let part = part.trim();
                let (field, desc) = if let Some(f) = part.strip_suffix("_desc") {
                    (f, true)
                } else if let Some(f) = part.strip_suffix("_asc") {
                    (f, false)
                } else {
                    (part, false)
                };
                if !orderable.contains(&field) {
                    return Err(ApiError::bad_params(format!(
                        "order_by {field:?} is not one of {}",
                        orderable.join(", ")
                    )));
                }
                order.push(OrderKey {
                    field: field.to_string(),
                    desc,
                });
            }
        }
        Ok(Page {
            limit,
            offset,
            order,
        })
    }
}

fn compare(a: &Scalar<'_>, b: &Scalar<'_>) -> Ordering {
    use Scalar::*;
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Less,
        (_, Null) => Ordering::Greater,
        (Int(x), Int(y)) => x.cmp(y),
        (Dec(x), Dec(y)) => x.cmp(y),
        (Int(x), Dec(y)) => Decimal::from(*x).cmp(y),
        (Dec(x), Int(y)) => x.cmp(&Decimal::from(*y)),
        (Time(x), Time(y)) => x.cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Str(x), Str(y)) => x.cmp(y),
        _ => text(a).cmp(&text(b)),
    }
}

fn text<'a>(v: &'a Scalar<'a>) -> Cow<'a, str> {
    match v {
        Scalar::Null => Cow::Borrowed(""),
        Scalar::Int(i) => Cow::Owned(i.to_string()),
        Scalar::Dec(d) => Cow::Owned(d.to_string()),
        Scalar::Str(s) => Cow::Borrowed(s),
        Scalar::Bool(b) => Cow::Borrowed(if *b { "1" } else { "0" }),
        Scalar::Time(t) => Cow::Owned(Stamp(*t).v2()),
    }
}

/// Selects the page of `rows` (already filtered, in id order) that `page` asks for.
pub fn paginate<'a, T: Record>(
    rows: impl Iterator<Item = &'a T>,
    page: &Page,
) -> (Vec<&'a T>, usize) {
    if page.order.is_empty() {
        let mut total = 0;
        let mut out = Vec::new();
        for r in rows {
            if total >= page.offset && out.len() < page.limit {
                out.push(r);
            }
            total += 1;
        }
        return (out, total);
    }
    let mut all: Vec<(Vec<Scalar<'a>>, &'a T)> = rows
        .map(|r| {
            (
                page.order
                    .iter()
                    .map(|k| r.field(&k.field).unwrap_or(Scalar::Null))
                    .collect(),
                r,
            )
        })
        .collect();
    all.sort_by(|(ka, ra), (kb, rb)| {
        for (i, key) in page.order.iter().enumerate() {
            let o = compare(&ka[i], &kb[i]);
            let o = if key.desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        ra.id().cmp(&rb.id())
    });
    let total = all.len();
    (
        all.into_iter()
            .skip(page.offset)
            .take(page.limit)
            .map(|(_, r)| r)
            .collect(),
        total,
    )
}

/// A 2.0 list: a bare JSON array. 2.0 sends no total, so in id order only the page is visited.
pub fn v2_list<'a, T: Record + serde::Serialize + 'a>(
    rows: impl Iterator<Item = &'a T>,
    params: &Params,
    orderable: &[&str],
) -> ApiResult {
    let page = Page::parse(params, orderable)?;
    if page.order.is_empty() {
        let rows: Vec<&T> = rows.skip(page.offset).take(page.limit).collect();
        return Ok(Reply::json(&rows));
    }
    let (rows, _) = paginate(rows, &page);
    Ok(Reply::json(&rows))
}

/// A 3.0 list: a bare array with `x-total-count`, `x-limit`, `x-offset`.
pub fn v3_list<'a, T: Record + serde::Serialize + 'a>(
    rows: impl Iterator<Item = &'a T>,
    params: &Params,
    orderable: &[&str],
) -> ApiResult {
    let page = Page::parse(params, orderable)?;
    let (rows, total) = paginate(rows, &page);
    Ok(Reply::json(&rows).with_totals(total, page.limit, page.offset))
}

/// A 4.0 page: `{"data": […], "paging": {…}}`, rendering each row with `render`.
pub fn v4_page<'a, T: Record + 'a, R: serde::Serialize>(
    rows: impl Iterator<Item = &'a T>,
    params: &Params,
    sortable: &[&str],
    render: impl Fn(&'a T) -> R,
) -> ApiResult {
    let limit = number(params, "limit", 100)?;
    if limit == 0 || limit > MAX_V4_LIMIT {
        return Err(ApiError::unprocessable(format!(
            "limit must be between 1 and {MAX_V4_LIMIT}"
        )));
    }
    let page_no = number(params, "page", 1)?.max(1);
    let mut order = Vec::new();
    if let Some(sort) = params.get("sort").filter(|s| !s.is_empty()) {
        if !sortable.contains(&sort.as_str()) {
            return Err(ApiError::unprocessable(format!(
                "sort must be one of {}",
                sortable.join(", ")
            )));
        }
        let desc = match params.get("order").map(|s| s.to_ascii_lowercase()) {
            None => false,
            Some(o) if o == "asc" => false,
            Some(o) if o == "desc" => true,
            Some(o) => {
                return Err(ApiError::unprocessable(format!(
                    "order must be asc or desc, got {o:?}"
                )));
            }
        };
        order.push(OrderKey {
            field: sort.clone(),
            desc,
        });
    }
    let offset = (page_no - 1)
        .checked_mul(limit)
        .ok_or_else(|| ApiError::unprocessable(format!("page {page_no} is out of range")))?;
    let page = Page {
        limit,
        offset,
        order,
    };
    let (rows, total) = paginate(rows, &page);
    let data: Vec<R> = rows.into_iter().map(render).collect();
    let body = serde_json::json!({
        "data": data,
        "paging": {"page": page_no, "page_size": limit, "page_count": total.div_ceil(limit), "item_count": total},
    });
    Ok(Reply::json(&body))
}

/// A search criterion as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct Criterion {
    /// Field name.
    pub field: String,
    /// Value (string, number or, for `in`, a list).
    #[serde(default)]
    pub value: serde_json::Value,
    /// Operator; `like` when omitted.
    #[serde(default)]
    pub criteria: Option<String>,
}

/// A comparison operator of bexio's search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`, `equal`.
    Eq,
    /// `!=`, `not_equal`.
    Ne,
    /// `>`, `greater_than`.
    Gt,
    /// `>=`, `greater_equal`.
    Ge,
    /// `<`, `less_than`.
    Lt,
    /// `<=`, `less_equal`.
    Le,
    /// `like` (substring, `%` wildcards, case-insensitive).
    Like,
    /// `not_like`.
    NotLike,
    /// `is_null`.
    IsNull,
    /// `not_null`.
    NotNull,
    /// `in` (list or comma-separated).
    In,
    /// `not_in`.
    NotIn,
}

impl Op {
    /// Parses bexio's criteria names and symbols.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s.trim() {
            "=" | "equal" => Op::Eq,
            "!=" | "not_equal" => Op::Ne,
            ">" | "greater_than" => Op::Gt,
            ">=" | "greater_equal" => Op::Ge,
            "<" | "less_than" => Op::Lt,
            "<=" | "less_equal" => Op::Le,
            "like" => Op::Like,
            "not_like" => Op::NotLike,
            "is_null" => Op::IsNull,
            "not_null" => Op::NotNull,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            _ => return None,
        })
    }
}

/// A checked criterion, ready to test records.
#[derive(Debug, Clone)]
pub struct Filter {
    field: String,
    op: Op,
    values: Vec<String>,
}

fn value_strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(value_strings).collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// Parses a search body against the resource's searchable fields.
pub fn parse_search(body: &[u8], searchable: &[&str]) -> Result<Vec<Filter>, ApiError> {
    let criteria: Vec<Criterion> = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_params(format!(
            "the search body must be a JSON array of {{field, value, criteria}}: {e}"
        ))
    })?;
    let mut out = Vec::with_capacity(criteria.len());
    for c in criteria {
        if !searchable.contains(&c.field.as_str()) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "The field '{}' is not searchable; allowed: {}",
                    c.field,
                    searchable.join(", ")
                ),
            ));
        }
        let op_name = c.criteria.as_deref().unwrap_or("like");
        let op = Op::parse(op_name)
            .ok_or_else(|| ApiError::unprocessable(format!("Unknown criteria '{op_name}'")))?;
        let mut values = value_strings(&c.value);
        if matches!(op, Op::In | Op::NotIn) && values.len() == 1 {
            values = values[0].split(',').map(|s| s.trim().to_string()).collect();
        }
        if values.is_empty() && !matches!(op, Op::IsNull | Op::NotNull) {
            return Err(ApiError::unprocessable(format!(
                "The criteria '{op_name}' on '{}' needs a value",
                c.field
            )));
        }
        for v in &values {
            if v.len() > 255 {
                return Err(ApiError::unprocessable(format!(
                    "The value for '{}' is longer than 255 characters",
                    c.field
                )));
            }
        }
        out.push(Filter {
            field: c.field,
            op,
            values,
        });
    }
    Ok(out)
}

fn like(hay: &str, pattern: &str) -> bool {
    let hay = hay.to_lowercase();
    let pattern = pattern.to_lowercase();
    if !pattern.contains('%') {
        return hay.contains(&pattern);
    }
    // SQL LIKE with `%` only: match the pieces in order.
    let parts: Vec<&str> = pattern.split('%').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            if !hay.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return hay.len() >= pos + part.len() && hay.ends_with(part);
        } else if let Some(found) = hay[pos..].find(part) {
            pos += found + part.len();
        } else {
            return false;
        }
    }
    true
}

fn cmp_value(field: &Scalar<'_>, value: &str) -> Option<Ordering> {
    match field {
        Scalar::Null => None,
        Scalar::Int(i) => value
            .trim()
            .parse::<i64>()
            .ok()
            .map(|v| i.cmp(&v))
            .or_else(|| {
                value
                    .trim()
                    .parse::<Decimal>()
                    .ok()
                    .map(|v| Decimal::from(*i).cmp(&v))
            }),
        Scalar::Dec(d) => value.trim().parse::<Decimal>().ok().map(|v| d.cmp(&v)),
        Scalar::Time(t) => Stamp::parse_any(value)
            .or_else(|| Stamp::parse_v2(&format!("{} 00:00:00", value.trim())))
            .map(|v| t.cmp(&v.0)),
        Scalar::Bool(b) => {
            let v = matches!(value.trim(), "1" | "true");
            Some(b.cmp(&v))
        }
        Scalar::Str(s) => Some(s.as_ref().cmp(value)),
    }
}

impl Filter {
    /// Whether a record matches.
    pub fn matches<T: Record>(&self, row: &T) -> bool {
        let v = row.field(&self.field).unwrap_or(Scalar::Null);
        let first = self.values.first().map(String::as_str).unwrap_or("");
        let eq = |val: &str| cmp_value(&v, val) == Some(Ordering::Equal);
        match self.op {
            Op::IsNull => matches!(v, Scalar::Null) || matches!(&v, Scalar::Str(s) if s.is_empty()),
            Op::NotNull => {
                !(matches!(v, Scalar::Null) || matches!(&v, Scalar::Str(s) if s.is_empty()))
            }
            Op::Eq => eq(first),
            Op::Ne => !matches!(v, Scalar::Null) && !eq(first),
            Op::Gt => cmp_value(&v, first) == Some(Ordering::Greater),
            Op::Ge => matches!(
                cmp_value(&v, first),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            Op::Lt => cmp_value(&v, first) == Some(Ordering::Less),
            Op::Le => matches!(cmp_value(&v, first), Some(Ordering::Less | Ordering::Equal)),
            Op::Like => !matches!(v, Scalar::Null) && like(&text(&v), first),
            Op::NotLike => !matches!(v, Scalar::Null) && !like(&text(&v), first),
            Op::In => self.values.iter().any(|x| eq(x)),
            Op::NotIn => !matches!(v, Scalar::Null) && !self.values.iter().any(|x| eq(x)),
        }
    }
}

/// Whether a record matches every filter.
pub fn matches_all<T: Record>(filters: &[Filter], row: &T) -> bool {
    filters.iter().all(|f| f.matches(row))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Named;

    fn rows() -> Vec<Named> {
        ["Alpha AG", "Beta GmbH", "Gamma SA", "Delta Sàrl"]
            .iter()
            .enumerate()
            .map(|(i, n)| Named {
                id: i as u64 + 1,
                name: (*n).into(),
            })
            .collect()
    }

    fn search(body: &str) -> Vec<u64> {
        let filters = parse_search(body.as_bytes(), &["id", "name"]).expect("valid search");
        rows()
            .into_iter()
            .filter(|r| matches_all(&filters, r))
            .map(|r| r.id)
            .collect()
    }

    #[test]
    fn every_documented_operator() {
        assert_eq!(search(r#"[{"field":"name","value":"gmbh"}]"#), vec![2]);
        assert_eq!(
            search(r#"[{"field":"name","value":"%a","criteria":"like"}]"#),
            vec![3]
        );
        assert_eq!(
            search(r#"[{"field":"name","value":"a%","criteria":"like"}]"#),
            vec![1]
        );
        assert_eq!(
            search(r#"[{"field":"name","value":"AG","criteria":"not_like"}]"#),
            vec![2, 3, 4]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"="}]"#),
            vec![2]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":2,"criteria":"equal"}]"#),
            vec![2]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"!="}]"#),
            vec![1, 3, 4]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"not_equal"}]"#),
            vec![1, 3, 4]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":">"}]"#),
            vec![3, 4]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"greater_than"}]"#),
            vec![3, 4]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":">="}]"#),
            vec![2, 3, 4]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"greater_equal"}]"#),
            vec![2, 3, 4]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"<"}]"#),
            vec![1]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"less_than"}]"#),
            vec![1]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"<="}]"#),
            vec![1, 2]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"2","criteria":"less_equal"}]"#),
            vec![1, 2]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":["1","3"],"criteria":"in"}]"#),
            vec![1, 3]
        );
        assert_eq!(
            search(r#"[{"field":"id","value":"1,3","criteria":"not_in"}]"#),
            vec![2, 4]
        );
        assert_eq!(
            search(r#"[{"field":"name","criteria":"not_null"}]"#),
            vec![1, 2, 3, 4]
        );
        assert!(search(r#"[{"field":"name","criteria":"is_null"}]"#).is_empty());
        // Criteria combine with AND.
        assert_eq!(
            search(
                r#"[{"field":"id","value":"1","criteria":">"},{"field":"name","value":"a","criteria":"like"}]"#
            ),
            vec![2, 3, 4]
        );
    }

    #[test]
    fn bad_searches_are_422() {
        let e = parse_search(br#"[{"field":"nope","value":"x"}]"#, &["id"]).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = parse_search(
            br#"[{"field":"id","value":"x","criteria":"between"}]"#,
            &["id"],
        )
        .unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = parse_search(b"{not json", &["id"]).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn paging_limits_and_order() {
        let params: Params = [("limit".to_string(), "2001".to_string())].into();
        assert!(Page::parse(&params, &["id"]).is_err());
        let params: Params = [
            ("order_by".to_string(), "name_desc".to_string()),
            ("limit".into(), "2".into()),
        ]
        .into();
        let page = Page::parse(&params, &["id", "name"]).unwrap();
        let data = rows();
        let (got, total) = paginate(data.iter(), &page);
        assert_eq!(total, 4);
        assert_eq!(got.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 4]);
        let params: Params = [("order_by".to_string(), "bogus".to_string())].into();
        assert!(Page::parse(&params, &["id"]).is_err());
    }
}
