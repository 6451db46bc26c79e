//! Responses as bexio writes them: JSON bodies, bexio's error bodies, and the headers its
//! gateway adds.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A successful answer of an API route.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Vec<u8>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers (paging totals, file download headers).
    pub headers: Vec<(&'static str, String)>,
    /// Whether bexio sends an `etag` with this answer (single records of some resources).
    pub etag: bool,
}

impl Reply {
    /// `200` with a JSON body.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()),
            content_type: "application/json",
            headers: Vec::new(),
            etag: false,
        }
    }
    /// `201 Created` with a JSON body.
    pub fn created<T: Serialize + ?Sized>(value: &T) -> Reply {
        Reply {
            status: StatusCode::CREATED,
            ..Reply::json(value)
        }
    }
    /// `{"success":true}`, bexio's answer to deletes and actions.
    pub fn success() -> Reply {
        Reply::json(&serde_json::json!({"success": true}))
    }
    /// Adds an `etag` (as bexio does for single contacts, taxes, currencies…).
    pub fn with_etag(mut self) -> Reply {
        self.etag = true;
        self
    }
    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
    /// Adds v3 paging headers (`x-total-count`, `x-limit`, `x-offset`).
    pub fn with_totals(self, total: usize, limit: usize, offset: usize) -> Reply {
        self.with_header("x-total-count", total.to_string())
            .with_header("x-limit", limit.to_string())
            .with_header("x-offset", offset.to_string())
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> axum::response::Response {
        let etag = self.etag.then(|| {
            let digest = Sha256::digest(&self.body);
            digest
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        let mut resp = Response::new(Body::from(self.body));
        *resp.status_mut() = self.status;
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.append(HeaderName::from_static(name), v);
            }
        }
        if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
            h.insert(HeaderName::from_static("etag"), tag);
        }
        resp
    }
}

/// An error as bexio reports it: `{"error_code": <status>, "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// 400 with bexio's wording for bad parameters.
    pub fn bad_params(detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Parameters are invalid: {detail}"),
        )
    }
    /// 404 for a record that does not exist.
    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Object not found")
    }
    /// 422 for a body that cannot be saved.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let body = serde_json::json!({"error_code": self.status.as_u16(), "message": self.message});
        let mut r = Reply::json(&body);
        r.status = self.status;
        r.into_response()
    }
}

/// What route handlers return.
pub type ApiResult = Result<Reply, ApiError>;
