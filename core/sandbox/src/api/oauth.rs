//! The OAuth 2.0 / OpenID Connect authorization server of the sandbox.
//!
//! It imitates bexio's Keycloak realm `https://auth.bexio.com/realms/bexio` (research §1.3) closely
//! enough that a bexio client cannot tell the two apart: the same discovery document (with the
//! sandbox's own address), the same endpoints under `/realms/bexio/protocol/openid-connect/…`, the
//! same parameters, the same JSON shapes and the same error codes and descriptions as Keycloak.
//!
//! There is no password UI: a company user "logs in and consents" as soon as the authorization
//! request names it (`login_hint` = company id or e-mail) or when the sandbox has a single company;
//! otherwise the authorization endpoint answers a page listing the companies.
//!
//! Tokens are JWT-shaped (`header.payload.signature`, the signature being random bytes): the server
//! remembers every token it issued and never needs to verify a signature. All randomness comes from
//! ChaCha20 seeded with the sandbox seed and a counter, so two sandboxes with the same seed answer
//! the same sequence of requests with the same tokens.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use parking_lot::Mutex;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The discovery document recorded from `auth.bexio.com`, with `{base}` in place of the host.
const DISCOVERY_TEMPLATE: &str = include_str!("../../data/openid-configuration.json");

/// The path of the realm, below the sandbox base URL.
const REALM: &str = "/realms/bexio";
/// The path prefix of the OpenID Connect protocol endpoints.
const OIDC: &str = "/realms/bexio/protocol/openid-connect";
/// Authorization codes are valid for this many (simulated) seconds, like Keycloak's default.
const CODE_TTL_SECS: f64 = 60.0;
/// An offline session (refresh token) ends when it is not used for a year (research §1.3).
const OFFLINE_IDLE_SECS: f64 = 365.0 * 86_400.0;
/// Expired tokens are kept this long so that `resolve` can tell "expired" from "unknown".
const PURGE_GRACE_SECS: f64 = 86_400.0;
/// The store is swept for expired entries once every this many operations.
const PURGE_EVERY: u64 = 64;
/// A registered redirect URI that admits any loopback redirect URI (RFC 8252 §7.3).
const LOOPBACK_WILDCARD: &str = "http://127.0.0.1/*";

/// The API scopes documented by bexio (research §1.4).
const API_SCOPES: &[&str] = &[
    "accounting",
    "article_show",
    "article_edit",
    "bank_account_show",
    "bank_payment_show",
    "bank_payment_edit",
    "contact_show",
    "contact_edit",
    "file",
    "kb_invoice_show",
    "kb_invoice_edit",
    "kb_offer_show",
    "kb_offer_edit",
    "kb_order_show",
    "kb_order_edit",
    "kb_delivery_show",
    "kb_delivery_edit",
    "monitoring_show",
    "monitoring_edit",
    "note_show",
    "note_edit",
    "kb_article_order_show",
    "kb_article_order_edit",
    "project_show",
    "project_edit",
    "stock_edit",
    "task_show",
    "task_edit",
    "kb_bill_show",
    "kb_expense_show",
    "payroll_employee_show",
    "payroll_employee_edit",
    "payroll_absence_show",
    "payroll_absence_edit",
    "payroll_paystub_show",
];

/// The OpenID Connect scopes of the realm (research §1.4).
const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "company_profile",
    "offline_access",
];

/// A company user that can log in and consent (one per sandbox tenant).
#[derive(Debug, Clone)]
pub struct Identity {
    /// Index of the tenant (company) in the sandbox.
    pub tenant: usize,
    /// The bexio company id, e.g. `"q69vysq7fkzl"`.
    pub company_id: String,
    /// The company's name.
    pub company_name: String,
    /// The subject: a UUID (bexio's login id).
    pub sub: String,
    /// The user's e-mail address.
    pub email: String,
    /// The user's first name.
    pub given_name: String,
    /// The user's last name.
    pub family_name: String,
    /// `"male"` or `"female"`.
    pub gender: String,
    /// The user's id inside the company.
    pub company_user_id: u64,
    /// The shard of the company (a UUID).
    pub shard_id: String,
}

/// A registered OAuth client (app).
#[derive(Debug, Clone)]
pub struct OAuthClient {
    /// The client id.
    pub client_id: String,
    /// The client secret; `None` makes a public client, for which PKCE (S256) is mandatory.
    pub client_secret: Option<String>,
    /// The registered redirect URIs, matched exactly; when the list contains
    /// `"http://127.0.0.1/*"`, any `http://127.0.0.1:<port>/…` or `http://localhost:<port>/…`
    /// loopback URI is accepted as well (RFC 8252 style).
    pub redirect_uris: Vec<String>,
    /// The scopes the client may request (`openid` is always allowed).
    pub allowed_scopes: BTreeSet<String>,
}

/// What a valid access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    /// Index of the tenant (company) whose data the token opens.
    pub tenant: usize,
    /// The scopes granted to the token.
    pub scopes: BTreeSet<String>,
    /// The client the token was issued to.
    pub client_id: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token was never issued, was revoked, or is not an access token.
    #[error("unknown token")]
    Unknown,
    /// The token was issued but its lifetime is over.
    #[error("token expired")]
    Expired,
}

/// The authorization server: identities, clients and the issued codes and tokens.
pub struct OAuth {
    issuer: String,
    discovery: String,
    kid: String,
    modulus: String,
    identities: Vec<Identity>,
    clients: Vec<OAuthClient>,
    access_ttl_secs: u64,
    now: Arc<dyn Fn() -> f64 + Send + Sync>,
    seed: u64,
    store: Mutex<Store>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("issuer", &self.issuer)
            .field("identities", &self.identities.len())
            .field("clients", &self.clients.len())
            .field("access_ttl_secs", &self.access_ttl_secs)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    /// Creates the server for the sandbox at `base_url` (e.g. `http://127.0.0.1:8080`).
    ///
    /// `now` returns the current (possibly simulated) Unix time in seconds; access tokens expire
    /// after `access_ttl_secs` of that time. `seed` makes every token and id reproducible.
    pub fn new(
        base_url: &str,
        identities: Vec<Identity>,
        clients: Vec<OAuthClient>,
        access_ttl_secs: u64,
        now: Arc<dyn Fn() -> f64 + Send + Sync>,
        seed: u64,
    ) -> Arc<OAuth> {
        let base = base_url.trim().trim_end_matches('/');
        let mut kid_rng = entropy(seed, u64::MAX);
        let mut kid = [0u8; 32];
        kid_rng.fill_bytes(&mut kid);
        let mut modulus = [0u8; 256];
        kid_rng.fill_bytes(&mut modulus);
        modulus[0] |= 0x80;
        modulus[255] |= 0x01;
        Arc::new(OAuth {
            issuer: format!("{base}{REALM}"),
            discovery: discovery_document(base),
            kid: URL_SAFE_NO_PAD.encode(kid),
            modulus: URL_SAFE_NO_PAD.encode(modulus),
            identities,
            clients,
            access_ttl_secs,
            now,
            seed,
            store: Mutex::new(Store::default()),
        })
    }

    /// The routes under `/realms/bexio` (already with state; merge into the app router).
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route(
                "/realms/bexio/.well-known/openid-configuration",
                get(discovery_handler),
            )
            .route(
                "/realms/bexio/protocol/openid-connect/auth",
                get(authorize_handler).post(authorize_handler),
            )
            .route(
                "/realms/bexio/protocol/openid-connect/token",
                post(token_handler),
            )
            .route(
                "/realms/bexio/protocol/openid-connect/token/introspect",
                post(introspect_handler),
            )
            .route(
                "/realms/bexio/protocol/openid-connect/userinfo",
                get(userinfo_handler).post(userinfo_handler),
            )
            .route(
                "/realms/bexio/protocol/openid-connect/revoke",
                post(revoke_handler),
            )
            .route(
                "/realms/bexio/protocol/openid-connect/certs",
                get(certs_handler),
            )
            .route(
                "/realms/bexio/protocol/openid-connect/logout",
                get(logout_handler).post(logout_handler),
            )
            .with_state(Arc::clone(self))
    }

    /// Resolves a bearer access token issued by this server.
    pub fn resolve(&self, access_token: &str) -> Result<AccessGrant, TokenError> {
        let (identity, scopes, client_id) = self.access_record(access_token)?;
        let tenant = self
            .identities
            .get(identity)
            .map(|i| i.tenant)
            .ok_or(TokenError::Unknown)?;
        Ok(AccessGrant {
            tenant,
            scopes: scopes.into_iter().collect(),
            client_id,
        })
    }

    /// The default scopes of bexio (those a PAT has): every documented API scope of research §1.4
    /// plus `openid`, `profile`, `email`, `company_profile` and `offline_access`.
    pub fn default_scopes() -> BTreeSet<String> {
        API_SCOPES
            .iter()
            .chain(OIDC_SCOPES)
            .map(|s| (*s).to_owned())
            .collect()
    }

    // ----------------------------------------------------------------------------------------
    // Internals shared by the endpoints.

    fn now(&self) -> f64 {
        let t = (self.now)();
        if t.is_finite() { t } else { 0.0 }
    }

    fn client(&self, client_id: &str) -> Option<&OAuthClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The identity, scopes and client of a live access token.
    fn access_record(&self, token: &str) -> Result<(usize, Vec<String>, String), TokenError> {
        let now = self.now();
        let st = self.store.lock();
        let rec = st
            .tokens
            .get(token)
            .filter(|r| r.kind == Kind::Access)
            .ok_or(TokenError::Unknown)?;
        let session = st.sessions.get(&rec.session).ok_or(TokenError::Unknown)?;
        if now >= rec.expires_at {
            return Err(TokenError::Expired);
        }
        Ok((
            session.identity,
            rec.scopes.clone(),
            session.client_id.clone(),
        ))
    }

    /// Authenticates the client of a token, revocation or introspection request: HTTP Basic, or
    /// `client_id` (+ `client_secret` for confidential clients) in the form body.
    #[allow(clippy::result_large_err)]
    fn authenticate_client(
        &self,
        headers: &HeaderMap,
        params: &Params,
    ) -> Result<&OAuthClient, Response> {
        let bad_client = || {
            oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid client or Invalid client credentials",
            )
        };
        let basic = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => {
                let value = value.to_str().map_err(|_| bad_client())?;
                let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
                if scheme.eq_ignore_ascii_case("basic") {
                    Some(parse_basic(rest).ok_or_else(bad_client)?)
                } else {
                    None
                }
            }
        };
        let (client_id, secret) = match basic {
            Some((id, secret)) => {
                if params.get("client_id").is_some_and(|body_id| body_id != id) {
                    return Err(oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "The client_id parameter does not match the authenticated client",
                    ));
                }
                (id, Some(secret))
            }
            None => match params.get("client_id") {
                Some(id) => (
                    id.to_owned(),
                    params.get("client_secret").map(str::to_owned),
                ),
                None => {
                    return Err(oauth_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "Missing client_id parameter",
                    ));
                }
            },
        };
        let client = self.client(&client_id).ok_or_else(bad_client)?;
        match &client.client_secret {
            None => Ok(client),
            Some(expected) => match secret {
                Some(given) if secrets_equal(&given, expected) => Ok(client),
                _ => Err(bad_client()),
            },
        }
    }

    /// Mints a JWT-shaped token from `claims` (random signature from `rng`).
    fn jwt(&self, claims: &impl Serialize, rng: &mut ChaCha20Rng) -> String {
        let header = format!(r#"{{"kid":"{}","typ":"JWT","alg":"RS256"}}"#, self.kid);
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut signature = [0u8; 32];
        rng.fill_bytes(&mut signature);
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Issues the tokens of one token response for `session_id` with `scopes`; a new refresh
    /// token (replacing the session's current one) is minted when the session has offline access.
    fn issue_tokens(
        &self,
        st: &mut Store,
        session_id: &str,
        scopes: &[String],
        now: f64,
    ) -> Option<TokenResponse> {
        let session = st.sessions.get(session_id)?;
        let identity = self.identities.get(session.identity)?;
        let client_id = session.client_id.clone();
        let nonce = session.nonce.clone();
        let auth_time = session.auth_time;
        let granted = session.granted.clone();
        let offline = granted.iter().any(|s| s == "offline_access");
        let scope = scopes.join(" ");
        let ctx = ClaimContext {
            identity,
            client_id: &client_id,
            session: session_id,
            issuer: &self.issuer,
            iat: now,
            auth_time,
        };

        let access_exp = now + self.access_ttl_secs as f64;
        let mut rng = st.entropy(self.seed);
        let jti = random_uuid(&mut rng);
        let access_claims = ctx.claims("Bearer", &jti, access_exp, scopes, &client_id, None, None);
        let access = self.jwt(&access_claims, &mut rng);
        st.tokens.insert(
            access.clone(),
            TokenRecord::new(Kind::Access, session_id, scopes, now, access_exp, jti),
        );

        let id_token = if scopes.iter().any(|s| s == "openid") {
            let mut rng = st.entropy(self.seed);
            let jti = random_uuid(&mut rng);
            let digest = Sha256::digest(access.as_bytes());
            let at_hash = URL_SAFE_NO_PAD.encode(&digest[..16]);
            let claims = ctx.claims(
                "ID",
                &jti,
                access_exp,
                scopes,
                &client_id,
                nonce.as_deref(),
                Some(at_hash),
            );
            let token = self.jwt(&claims, &mut rng);
            st.tokens.insert(
                token.clone(),
                TokenRecord::new(Kind::Id, session_id, scopes, now, access_exp, jti),
            );
            Some(token)
        } else {
            None
        };

        let refresh = if offline {
            let mut rng = st.entropy(self.seed);
            let jti = random_uuid(&mut rng);
            let exp = now + OFFLINE_IDLE_SECS;
            let claims = ctx.claims("Refresh", &jti, exp, &granted, &self.issuer, None, None);
            let token = self.jwt(&claims, &mut rng);
            st.tokens.insert(
                token.clone(),
                TokenRecord::new(Kind::Refresh, session_id, &granted, now, exp, jti),
            );
            Some(token)
        } else {
            None
        };

        let session = st.sessions.get_mut(session_id)?;
        session.issued.push(access.clone());
        if let Some(id) = &id_token {
            session.issued.push(id.clone());
        }
        if refresh.is_some() {
            session.refresh.clone_from(&refresh);
        }
        Some(TokenResponse {
            access_token: access,
            expires_in: self.access_ttl_secs,
            refresh_expires_in: 0,
            refresh_token: refresh,
            token_type: "Bearer",
            id_token,
            not_before_policy: 0,
            session_state: session_id.to_owned(),
            scope,
        })
    }

    // ----------------------------------------------------------------------------------------
    // GET /.well-known/openid-configuration

    fn handle_discovery(&self) -> Response {
        let mut resp = response(
            StatusCode::OK,
            "application/json;charset=UTF-8",
            "no-cache, must-revalidate, no-transform, no-store",
            false,
            self.discovery.clone(),
        );
        resp.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
        resp
    }

    // ----------------------------------------------------------------------------------------
    // GET|POST /protocol/openid-connect/auth

    fn handle_authorize(
        &self,
        method: &Method,
        headers: &HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Response {
        let mut params = Params::parse(query.unwrap_or(""));
        if *method == Method::POST && is_form(headers) {
            params
                .0
                .extend(Params::parse(&String::from_utf8_lossy(body)).0);
        }

        // Errors before the redirect URI is known to be registered are shown, never redirected.
        let Some(client_id) = params.get("client_id") else {
            return error_page(StatusCode::BAD_REQUEST, "Missing parameter: client_id");
        };
        let Some(client) = self.client(client_id) else {
            return error_page(StatusCode::BAD_REQUEST, "Client not found.");
        };
        let redirect_uri = match params.get("redirect_uri") {
            Some(uri) if redirect_allowed(client, uri) => uri.to_owned(),
            Some(_) => {
                return error_page(StatusCode::BAD_REQUEST, "Invalid parameter: redirect_uri");
            }
            None => {
                let mut exact = client
                    .redirect_uris
                    .iter()
                    .filter(|u| u.as_str() != LOOPBACK_WILDCARD && !u.contains('*'));
                match (exact.next(), exact.next()) {
                    (Some(only), None) => only.clone(),
                    _ => {
                        return error_page(
                            StatusCode::BAD_REQUEST,
                            "Invalid parameter: redirect_uri",
                        );
                    }
                }
            }
        };
        let state = params.get("state");
        let mode = match params.get("response_mode") {
            None | Some("query") => Mode::Query,
            Some("fragment") => Mode::Fragment,
            Some("form_post") => Mode::FormPost,
            Some(_) => {
                return self.redirect_error(
                    &redirect_uri,
                    Mode::Query,
                    state,
                    "invalid_request",
                    "Invalid parameter: response_mode",
                );
            }
        };
        let fail = |error: &str, description: &str| {
            self.redirect_error(&redirect_uri, mode, state, error, description)
        };

        if let Some(name) = params.duplicated() {
            return fail("invalid_request", &format!("Duplicated parameter: {name}"));
        }
        match params.get("response_type") {
            None => return fail("invalid_request", "Missing parameter: response_type"),
            Some("code") => {}
            Some(other) if is_known_response_type(other) => {
                return fail(
                    "unauthorized_client",
                    "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client.",
                );
            }
            Some(_) => return fail("unsupported_response_type", "Unsupported response_type"),
        }

        let raw_scope = params.get("scope").unwrap_or("");
        let scopes = split_scopes(raw_scope);
        if scopes
            .iter()
            .any(|s| s != "openid" && !client.allowed_scopes.contains(s))
        {
            return fail("invalid_scope", &format!("Invalid scopes: {raw_scope}"));
        }
        if !scopes.iter().any(|s| s == "openid") {
            return fail("invalid_scope", "Missing openid scope");
        }

        let challenge = match pkce_challenge(
            client,
            params.get("code_challenge"),
            params.get("code_challenge_method"),
        ) {
            Ok(c) => c,
            Err(description) => return fail("invalid_request", description),
        };

        // "Log in": a login_hint naming a company or user, or the only identity there is.
        let hinted = params.get("login_hint").and_then(|hint| {
            self.identities.iter().position(|i| {
                i.company_id == hint || i.email.eq_ignore_ascii_case(hint) || i.sub == hint
            })
        });
        let chosen = hinted.or(if self.identities.len() == 1 {
            Some(0)
        } else {
            None
        });
        let prompt_none = params
            .get("prompt")
            .is_some_and(|p| p.split(' ').any(|v| v == "none"));
        let Some(identity) = chosen else {
            if prompt_none || self.identities.is_empty() {
                return fail("login_required", "Login required");
            }
            return self.login_page(&params);
        };

        let now = self.now();
        let (code, session) = {
            let mut st = self.store.lock();
            st.tick(now);
            let mut rng = st.entropy(self.seed);
            let code_id = random_uuid(&mut rng);
            let session = random_uuid(&mut rng);
            let code = format!("{code_id}.{session}.{}", client_uuid(&client.client_id));
            st.codes.insert(
                code.clone(),
                PendingCode {
                    client_id: client.client_id.clone(),
                    redirect_uri: params.get("redirect_uri").map(str::to_owned),
                    identity,
                    scopes,
                    nonce: params.get("nonce").map(str::to_owned),
                    challenge,
                    session: session.clone(),
                    expires_at: now + CODE_TTL_SECS,
                },
            );
            (code, session)
        };
        tracing::debug!(client = %client.client_id, identity, "authorization code issued");
        self.redirect(
            &redirect_uri,
            mode,
            &[
                ("code", Some(&code)),
                ("state", state),
                ("session_state", Some(&session)),
                ("iss", Some(&self.issuer)),
            ],
        )
    }

    fn redirect_error(
        &self,
        uri: &str,
        mode: Mode,
        state: Option<&str>,
        error: &str,
        description: &str,
    ) -> Response {
        self.redirect(
            uri,
            mode,
            &[
                ("error", Some(error)),
                ("error_description", Some(description)),
                ("state", state),
                ("iss", Some(&self.issuer)),
            ],
        )
    }

    fn redirect(&self, uri: &str, mode: Mode, pairs: &[(&str, Option<&str>)]) -> Response {
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect();
        if mode == Mode::FormPost {
            let mut inputs = String::new();
            for (k, v) in &pairs {
                let _ = write!(
                    inputs,
                    r#"<input type="hidden" name="{}" value="{}"/>"#,
                    html_escape(k),
                    html_escape(v)
                );
            }
            let page = format!(
                "<HTML><HEAD><TITLE>Submit This Form</TITLE></HEAD><BODY Onload=\"javascript:document.forms[0].submit()\">\
                 <FORM METHOD=\"POST\" ACTION=\"{}\">{inputs}<NOSCRIPT><P>JavaScript is disabled. We strongly recommend to \
                 enable it. Click the button below to continue.</P><INPUT name=\"continue\" TYPE=\"SUBMIT\" VALUE=\"CONTINUE\" />\
                 </NOSCRIPT></FORM></BODY></HTML>",
                html_escape(uri)
            );
            return response(
                StatusCode::OK,
                "text/html;charset=utf-8",
                "no-store, must-revalidate, max-age=0",
                false,
                page,
            );
        }
        let encoded = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", pct_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let location = match mode {
            Mode::Fragment => format!("{}#{encoded}", uri.split_once('#').map_or(uri, |(u, _)| u)),
            _ => {
                let (base, fragment) = uri
                    .split_once('#')
                    .map_or((uri, None), |(u, f)| (u, Some(f)));
                let sep = if base.contains('?') { "&" } else { "?" };
                match fragment {
                    Some(f) => format!("{base}{sep}{encoded}#{f}"),
                    None => format!("{base}{sep}{encoded}"),
                }
            }
        };
        let Ok(location) = HeaderValue::try_from(location) else {
            return error_page(StatusCode::BAD_REQUEST, "Invalid parameter: redirect_uri");
        };
        let mut resp = response(
            StatusCode::FOUND,
            "text/html;charset=utf-8",
            "no-store, must-revalidate, max-age=0",
            false,
            "",
        );
        resp.headers_mut().insert(header::LOCATION, location);
        resp
    }

    /// The "login" page: one link per company, each repeating the request with its `login_hint`.
    fn login_page(&self, params: &Params) -> Response {
        let query: Vec<String> = params
            .0
            .iter()
            .filter(|(k, _)| k != "login_hint")
            .map(|(k, v)| format!("{}={}", pct_encode(k), pct_encode(v)))
            .collect();
        let mut items = String::new();
        for identity in &self.identities {
            let mut href = format!("{OIDC}/auth?");
            for q in &query {
                href.push_str(q);
                href.push('&');
            }
            href.push_str("login_hint=");
            href.push_str(&pct_encode(&identity.company_id));
            let _ = write!(
                items,
                "\n            <li class=\"kc-company\"><a id=\"company-{}\" href=\"{}\">{}</a> <span class=\"kc-user\">{}</span></li>",
                html_escape(&identity.company_id),
                html_escape(&href),
                html_escape(&identity.company_name),
                html_escape(&identity.email)
            );
        }
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"de-CH\">\n<head>\n    <meta charset=\"utf-8\">\n    <meta name=\"robots\" content=\"noindex, nofollow\">\n    \
             <title>Login | bexio</title>\n</head>\n<body>\n<div id=\"kc-header\">bexio</div>\n<h1 id=\"kc-page-title\">Firma auswählen</h1>\n\
             <div id=\"kc-content\">\n    <p class=\"instruction\">Choose the company to log in to and grant access.</p>\n    <ul id=\"kc-companies\">{items}\n    </ul>\n</div>\n</body>\n</html>\n"
        );
        page_response(StatusCode::OK, page)
    }

    // ----------------------------------------------------------------------------------------
    // POST /protocol/openid-connect/token

    fn handle_token(&self, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Response {
        if query.is_some_and(|q| !q.is_empty()) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Parameters must be sent in the request body as application/x-www-form-urlencoded, not in the query string",
            );
        }
        let params = match form_params(headers, body) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        if params.duplicated().is_some() {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "duplicated parameter",
            );
        }
        let Some(grant_type) = params.get("grant_type") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing form parameter: grant_type",
            );
        };
        let client = match self.authenticate_client(headers, &params) {
            Ok(c) => c,
            Err(resp) => return resp,
        };
        match grant_type {
            "authorization_code" => self.grant_authorization_code(client, &params),
            "refresh_token" => self.grant_refresh_token(client, &params),
            "password" => oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "Client not allowed for direct access grants",
            ),
            "client_credentials" => oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "Client not enabled to retrieve service account",
            ),
            _ => oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant_type",
            ),
        }
    }

    fn grant_authorization_code(&self, client: &OAuthClient, params: &Params) -> Response {
        let invalid_grant =
            |description: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description);
        let Some(code) = params.get("code") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing parameter: code",
            );
        };
        let now = self.now();
        let mut st = self.store.lock();
        st.tick(now);
        // A code is consumed by its first use, successful or not (as in Keycloak).
        let Some(pending) = st.codes.remove(code) else {
            if let Some((session, _)) = st.used_codes.get(code).cloned() {
                // Replay of a used code: revoke what it produced (RFC 6749 §4.1.2).
                st.revoke_session(&session);
                tracing::debug!("authorization code replayed; session revoked");
            }
            return invalid_grant("Code not valid");
        };
        st.used_codes.insert(
            code.to_owned(),
            (pending.session.clone(), pending.expires_at),
        );
        if now >= pending.expires_at {
            return invalid_grant("Code not valid");
        }
        if pending.client_id != client.client_id {
            return invalid_grant("Auth error");
        }
        if let Some(expected) = &pending.redirect_uri
            && params.get("redirect_uri") != Some(expected.as_str())
        {
            return invalid_grant("Incorrect redirect_uri");
        }
        if let Some((method, challenge)) = &pending.challenge
            && let Err(description) = verify_pkce(*method, challenge, params.get("code_verifier"))
        {
            return invalid_grant(description);
        }
        st.sessions.insert(
            pending.session.clone(),
            Session {
                identity: pending.identity,
                client_id: pending.client_id.clone(),
                granted: pending.scopes.clone(),
                nonce: pending.nonce.clone(),
                auth_time: now,
                refresh: None,
                issued: Vec::new(),
            },
        );
        match self.issue_tokens(&mut st, &pending.session, &pending.scopes, now) {
            Some(tokens) => token_json(StatusCode::OK, &tokens),
            None => invalid_grant("Session not active"),
        }
    }

    fn grant_refresh_token(&self, client: &OAuthClient, params: &Params) -> Response {
        let invalid_grant =
            |description: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description);
        let Some(refresh) = params.get("refresh_token") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing parameter: refresh_token",
            );
        };
        let now = self.now();
        let mut st = self.store.lock();
        st.tick(now);
        if let Some((session, _)) = st.retired_refresh.get(refresh).cloned() {
            // A rotated-out refresh token came back: assume it leaked and end the whole family.
            st.revoke_session(&session);
            tracing::debug!("refresh token reused; token family revoked");
            return invalid_grant("Maximum allowed refresh token reuse exceeded");
        }
        let Some(record) = st.tokens.get(refresh).filter(|r| r.kind == Kind::Refresh) else {
            return invalid_grant("Invalid refresh token");
        };
        let session_id = record.session.clone();
        let expired = now >= record.expires_at;
        let Some(session) = st.sessions.get(&session_id) else {
            return invalid_grant("Session not active");
        };
        if session.client_id != client.client_id {
            return invalid_grant(
                "Invalid refresh token. Token client and authorized client don't match",
            );
        }
        if expired {
            st.revoke_session(&session_id);
            return invalid_grant("Token is not active");
        }
        let scopes = match params.get("scope") {
            None => session.granted.clone(),
            Some(raw) => {
                let requested = split_scopes(raw);
                if requested.iter().any(|s| !session.granted.contains(s)) {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        &format!("Invalid scopes: {raw}"),
                    );
                }
                requested
            }
        };
        st.tokens.remove(refresh);
        st.retired_refresh
            .insert(refresh.to_owned(), (session_id.clone(), now));
        match self.issue_tokens(&mut st, &session_id, &scopes, now) {
            Some(tokens) => token_json(StatusCode::OK, &tokens),
            None => invalid_grant("Session not active"),
        }
    }

    // ----------------------------------------------------------------------------------------
    // GET|POST /protocol/openid-connect/userinfo

    fn handle_userinfo(&self, method: &Method, headers: &HeaderMap, body: &[u8]) -> Response {
        let from_header = headers
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().ok().and_then(bearer_token));
        let token = match from_header {
            Some(Some(token)) => Some(token.to_owned()),
            Some(None) => return invalid_token(),
            None if *method == Method::POST && is_form(headers) => {
                Params::parse(&String::from_utf8_lossy(body))
                    .get("access_token")
                    .map(str::to_owned)
            }
            None => None,
        };
        let Some(token) = token else {
            let mut resp = json_response(
                StatusCode::UNAUTHORIZED,
                "no-cache",
                &ErrorBody {
                    error: "invalid_request",
                    error_description: "Token not provided",
                },
            );
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"bexio\""),
            );
            return resp;
        };
        let Ok((identity, scopes, _client)) = self.access_record(&token) else {
            return invalid_token();
        };
        let Some(identity) = self.identities.get(identity) else {
            return invalid_token();
        };
        let has = |s: &str| scopes.iter().any(|g| g == s);
        if !has("openid") {
            let mut resp = json_response(
                StatusCode::FORBIDDEN,
                "no-cache",
                &ErrorBody {
                    error: "insufficient_scope",
                    error_description: "Missing openid scope",
                },
            );
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"bexio\", error=\"insufficient_scope\""),
            );
            return resp;
        }
        let (profile, email, company) = (has("profile"), has("email"), has("company_profile"));
        let info = UserInfo {
            sub: &identity.sub,
            email_verified: email.then_some(true),
            gender: profile.then_some(identity.gender.as_str()),
            company_id: company.then_some(identity.company_id.as_str()),
            shard_id: company.then_some(identity.shard_id.as_str()),
            company_name: company.then_some(identity.company_name.as_str()),
            locale: profile.then_some("de-CH"),
            given_name: profile.then_some(identity.given_name.as_str()),
            company_user_id: company.then_some(identity.company_user_id),
            family_name: profile.then_some(identity.family_name.as_str()),
            email: email.then_some(identity.email.as_str()),
        };
        let mut resp = json_response(StatusCode::OK, "no-cache", &info);
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp
    }

    // ----------------------------------------------------------------------------------------
    // POST /protocol/openid-connect/revoke (RFC 7009)

    fn handle_revoke(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let params = match form_params(headers, body) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        let client = match self.authenticate_client(headers, &params) {
            Ok(c) => c,
            Err(resp) => return resp,
        };
        let Some(token) = params.get("token") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Token not provided",
            );
        };
        if let Some(hint) = params.get("token_type_hint")
            && hint != "access_token"
            && hint != "refresh_token"
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_token_type",
                &format!("Unsupported token type: {hint}"),
            );
        }
        let now = self.now();
        let mut st = self.store.lock();
        st.tick(now);
        let Some(record) = st.tokens.get(token) else {
            return empty_ok();
        };
        let (kind, session_id) = (record.kind, record.session.clone());
        let owner = st.sessions.get(&session_id).map(|s| s.client_id.clone());
        if owner
            .as_deref()
            .is_some_and(|owner| owner != client.client_id)
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "Unmatching clients",
            );
        }
        match kind {
            // Revoking a refresh token ends its offline session and every token of it.
            Kind::Refresh => st.revoke_session(&session_id),
            Kind::Access => {
                st.tokens.remove(token);
            }
            Kind::Id => {}
        }
        empty_ok()
    }

    // ----------------------------------------------------------------------------------------
    // POST /protocol/openid-connect/token/introspect (RFC 7662)

    fn handle_introspect(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let params = match form_params(headers, body) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        let client = match self.authenticate_client(headers, &params) {
            Ok(c) => c,
            Err(resp) => return resp,
        };
        if client.client_secret.is_none() {
            return oauth_error(
                StatusCode::FORBIDDEN,
                "invalid_request",
                "Client not allowed.",
            );
        }
        let Some(token) = params.get("token") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Token not provided.",
            );
        };
        let now = self.now();
        let st = self.store.lock();
        let active = st
            .tokens
            .get(token)
            .filter(|r| now < r.expires_at)
            .and_then(|r| {
                let session = st.sessions.get(&r.session)?;
                let identity = self.identities.get(session.identity)?;
                Some((r, session, identity))
            });
        let Some((record, session, identity)) = active else {
            return token_json(StatusCode::OK, &Inactive { active: false });
        };
        let body = Introspection {
            exp: record.expires_at.floor() as i64,
            iat: record.issued_at.floor() as i64,
            auth_time: session.auth_time.floor() as i64,
            jti: &record.jti,
            iss: &self.issuer,
            aud: if record.kind == Kind::Refresh {
                &self.issuer
            } else {
                &session.client_id
            },
            sub: &identity.sub,
            typ: record.kind.typ(),
            azp: &session.client_id,
            session_state: &record.session,
            scope: record.scopes.join(" "),
            sid: &record.session,
            client_id: &session.client_id,
            username: &identity.email,
            company_id: &identity.company_id,
            token_type: "Bearer",
            active: true,
        };
        token_json(StatusCode::OK, &body)
    }

    // ----------------------------------------------------------------------------------------
    // GET /protocol/openid-connect/certs

    fn handle_certs(&self) -> Response {
        let jwks = serde_json::json!({
            "keys": [{
                "kid": self.kid,
                "kty": "RSA",
                "alg": "RS256",
                "use": "sig",
                "n": self.modulus,
                "e": "AQAB",
            }]
        });
        json_response(StatusCode::OK, "no-cache", &jwks)
    }

    // ----------------------------------------------------------------------------------------
    // GET|POST /protocol/openid-connect/logout

    fn handle_logout(
        &self,
        method: &Method,
        headers: &HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Response {
        let mut params = Params::parse(query.unwrap_or(""));
        if *method == Method::POST && is_form(headers) {
            params
                .0
                .extend(Params::parse(&String::from_utf8_lossy(body)).0);
        }
        let mut client_id = params.get("client_id").map(str::to_owned);
        if let Some(hint) = params.get("id_token_hint") {
            let now = self.now();
            let mut st = self.store.lock();
            st.tick(now);
            let known = st
                .tokens
                .get(hint)
                .filter(|r| r.kind == Kind::Id)
                .map(|r| r.session.clone());
            match known {
                Some(session) => {
                    if let Some(s) = st.sessions.get(&session) {
                        client_id.get_or_insert_with(|| s.client_id.clone());
                    }
                    st.revoke_session(&session);
                    tracing::debug!("session ended by logout");
                }
                // An ID token of ours that is no longer stored (purged, or its session already
                // ended): nothing left to end. Anything else is refused, as Keycloak does.
                None => match self.decode_own_id_token(hint) {
                    Some(azp) => {
                        client_id.get_or_insert(azp);
                    }
                    None => {
                        return error_page(
                            StatusCode::BAD_REQUEST,
                            "Invalid parameter: id_token_hint",
                        );
                    }
                },
            }
        }
        if let Some(target) = params.get("post_logout_redirect_uri") {
            let client = client_id.as_deref().and_then(|id| self.client(id));
            return match client {
                Some(client) if redirect_allowed(client, target) => {
                    self.redirect(target, Mode::Query, &[("state", params.get("state"))])
                }
                Some(_) => error_page(StatusCode::BAD_REQUEST, "Invalid redirect uri"),
                None => error_page(StatusCode::BAD_REQUEST, "Missing parameters: id_token_hint"),
            };
        }
        let page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n    <meta charset=\"utf-8\">\n    \
                    <meta name=\"robots\" content=\"noindex, nofollow\">\n    <title>Logout | bexio</title>\n</head>\n<body>\n\
                    <div id=\"kc-header\">bexio</div>\n<h1 id=\"kc-page-title\">You are logged out</h1>\n\
                    <div id=\"kc-info-message\">\n    <p class=\"instruction\">You are logged out</p>\n</div>\n</body>\n</html>\n";
        page_response(StatusCode::OK, page.to_owned())
    }

    /// If `token` looks like an ID token issued by this realm, its `azp` (client id).
    fn decode_own_id_token(&self, token: &str) -> Option<String> {
        let mut parts = token.split('.');
        let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next())
        else {
            return None;
        };
        let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        if claims.get("iss")?.as_str()? != self.issuer || claims.get("typ")?.as_str()? != "ID" {
            return None;
        }
        Some(claims.get("azp")?.as_str()?.to_owned())
    }
}

// --------------------------------------------------------------------------------------------
// Axum handlers (thin wrappers).

async fn discovery_handler(State(oauth): State<Arc<OAuth>>) -> Response {
    oauth.handle_discovery()
}

async fn authorize_handler(
    State(oauth): State<Arc<OAuth>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    oauth.handle_authorize(&method, &headers, query.as_deref(), &body)
}

async fn token_handler(
    State(oauth): State<Arc<OAuth>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    oauth.handle_token(&headers, query.as_deref(), &body)
}

async fn userinfo_handler(
    State(oauth): State<Arc<OAuth>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    oauth.handle_userinfo(&method, &headers, &body)
}

async fn revoke_handler(
    State(oauth): State<Arc<OAuth>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    oauth.handle_revoke(&headers, &body)
}

async fn introspect_handler(
    State(oauth): State<Arc<OAuth>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    oauth.handle_introspect(&headers, &body)
}

async fn certs_handler(State(oauth): State<Arc<OAuth>>) -> Response {
    oauth.handle_certs()
}

async fn logout_handler(
    State(oauth): State<Arc<OAuth>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    oauth.handle_logout(&method, &headers, query.as_deref(), &body)
}

// --------------------------------------------------------------------------------------------
// The store of codes, tokens and sessions.

#[derive(Default)]
struct Store {
    /// Feeds the RNG: every minted value uses a fresh counter value.
    counter: u64,
    /// Operations since start, for the periodic purge.
    ops: u64,
    codes: HashMap<String, PendingCode>,
    /// Used codes → (session, code expiry), to detect replays.
    used_codes: HashMap<String, (String, f64)>,
    tokens: HashMap<String, TokenRecord>,
    /// Rotated-out refresh tokens → (session, time of rotation), to detect reuse.
    retired_refresh: HashMap<String, (String, f64)>,
    /// Sessions (= token families) by `session_state`.
    sessions: HashMap<String, Session>,
}

impl Store {
    fn entropy(&mut self, seed: u64) -> ChaCha20Rng {
        self.counter += 1;
        entropy(seed, self.counter)
    }

    /// Counts an operation and purges expired entries from time to time.
    fn tick(&mut self, now: f64) {
        self.ops += 1;
        if self.ops.is_multiple_of(PURGE_EVERY) {
            self.purge(now);
        }
    }

    fn purge(&mut self, now: f64) {
        self.codes.retain(|_, c| c.expires_at > now);
        self.used_codes
            .retain(|_, (_, exp)| *exp + PURGE_GRACE_SECS > now);
        self.tokens.retain(|_, t| match t.kind {
            Kind::Refresh => t.expires_at > now,
            Kind::Access | Kind::Id => t.expires_at + PURGE_GRACE_SECS > now,
        });
        let tokens = &self.tokens;
        self.sessions.retain(|_, s| {
            s.issued.retain(|t| tokens.contains_key(t));
            s.refresh.as_ref().is_some_and(|r| tokens.contains_key(r)) || !s.issued.is_empty()
        });
        let sessions = &self.sessions;
        self.retired_refresh
            .retain(|_, (s, at)| sessions.contains_key(s) || *at + PURGE_GRACE_SECS > now);
    }

    /// Ends a session: its refresh token and every access and ID token it produced.
    fn revoke_session(&mut self, session_id: &str) {
        if let Some(session) = self.sessions.remove(session_id) {
            for token in &session.issued {
                self.tokens.remove(token);
            }
            if let Some(refresh) = &session.refresh {
                self.tokens.remove(refresh);
            }
        }
    }
}

struct PendingCode {
    client_id: String,
    /// The redirect URI as sent in the authorization request (`None` when it was defaulted).
    redirect_uri: Option<String>,
    identity: usize,
    scopes: Vec<String>,
    nonce: Option<String>,
    challenge: Option<(PkceMethod, String)>,
    session: String,
    expires_at: f64,
}

struct Session {
    identity: usize,
    client_id: String,
    /// The scopes consented to at authorization, in request order.
    granted: Vec<String>,
    nonce: Option<String>,
    auth_time: f64,
    /// The current (only valid) refresh token of the family.
    refresh: Option<String>,
    /// Access and ID tokens issued in this session.
    issued: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Refresh,
    Id,
}

impl Kind {
    fn typ(self) -> &'static str {
        match self {
            Kind::Access => "Bearer",
            Kind::Refresh => "Refresh",
            Kind::Id => "ID",
        }
    }
}

struct TokenRecord {
    kind: Kind,
    session: String,
    scopes: Vec<String>,
    issued_at: f64,
    expires_at: f64,
    jti: String,
}

impl TokenRecord {
    fn new(
        kind: Kind,
        session: &str,
        scopes: &[String],
        issued_at: f64,
        expires_at: f64,
        jti: String,
    ) -> Self {
        TokenRecord {
            kind,
            session: session.to_owned(),
            scopes: scopes.to_vec(),
            issued_at,
            expires_at,
            jti,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PkceMethod {
    Plain,
    S256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Query,
    Fragment,
    FormPost,
}

// --------------------------------------------------------------------------------------------
// Wire shapes.

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    refresh_expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(rename = "not-before-policy")]
    not_before_policy: u64,
    session_state: String,
    scope: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

#[derive(Serialize)]
struct UserInfo<'a> {
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_user_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct Inactive {
    active: bool,
}

#[derive(Serialize)]
struct Introspection<'a> {
    exp: i64,
    iat: i64,
    auth_time: i64,
    jti: &'a str,
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    typ: &'a str,
    azp: &'a str,
    session_state: &'a str,
    scope: String,
    sid: &'a str,
    client_id: &'a str,
    username: &'a str,
    company_id: &'a str,
    token_type: &'a str,
    active: bool,
}

/// The payload of an access, refresh or ID token (Keycloak's claim order).
#[derive(Serialize)]
struct Claims<'a> {
    exp: i64,
    iat: i64,
    auth_time: i64,
    jti: &'a str,
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    typ: &'a str,
    azp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    session_state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    scope: String,
    sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<&'a str>,
    company_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_user_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

/// What every token of one response shares.
struct ClaimContext<'a> {
    identity: &'a Identity,
    client_id: &'a str,
    session: &'a str,
    issuer: &'a str,
    iat: f64,
    auth_time: f64,
}

impl<'a> ClaimContext<'a> {
    #[allow(clippy::too_many_arguments)]
    fn claims(
        &self,
        typ: &'a str,
        jti: &'a str,
        exp: f64,
        scopes: &[String],
        aud: &'a str,
        nonce: Option<&'a str>,
        at_hash: Option<String>,
    ) -> Claims<'a> {
        let user_claims = typ != "Refresh";
        let has = |s: &str| user_claims && scopes.iter().any(|g| g == s);
        let (profile, email, company) = (has("profile"), has("email"), has("company_profile"));
        let id = self.identity;
        Claims {
            exp: exp.floor() as i64,
            iat: self.iat.floor() as i64,
            auth_time: self.auth_time.floor() as i64,
            jti,
            iss: self.issuer,
            aud,
            sub: &id.sub,
            typ,
            azp: self.client_id,
            nonce,
            session_state: self.session,
            at_hash,
            scope: scopes.join(" "),
            sid: self.session,
            email_verified: email.then_some(true),
            gender: profile.then_some(id.gender.as_str()),
            company_id: &id.company_id,
            company_name: company.then_some(id.company_name.as_str()),
            company_user_id: company.then_some(id.company_user_id),
            name: profile.then(|| format!("{} {}", id.given_name, id.family_name)),
            locale: profile.then_some("de-CH"),
            given_name: profile.then_some(id.given_name.as_str()),
            family_name: profile.then_some(id.family_name.as_str()),
            email: email.then_some(id.email.as_str()),
        }
    }
}

// --------------------------------------------------------------------------------------------
// Responses.

fn response(
    status: StatusCode,
    content_type: &'static str,
    cache_control: &'static str,
    pragma: bool,
    body: impl Into<Body>,
) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if pragma {
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    for (name, value) in [
        ("referrer-policy", "no-referrer"),
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-xss-protection", "1; mode=block"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    resp
}

fn json_response(
    status: StatusCode,
    cache_control: &'static str,
    body: &impl Serialize,
) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => response(status, "application/json", cache_control, false, bytes),
        Err(_) => response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            cache_control,
            false,
            "{}",
        ),
    }
}

/// A JSON response of a token endpoint: `Cache-Control: no-store` and `Pragma: no-cache`.
fn token_json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => response(status, "application/json", "no-store", true, bytes),
        Err(_) => response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            "no-store",
            true,
            "{}",
        ),
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    token_json(
        status,
        &ErrorBody {
            error,
            error_description: description,
        },
    )
}

fn empty_ok() -> Response {
    response(StatusCode::OK, "application/json", "no-store", true, "")
}

fn invalid_token() -> Response {
    let mut resp = json_response(
        StatusCode::UNAUTHORIZED,
        "no-cache",
        &ErrorBody {
            error: "invalid_token",
            error_description: "Token verification failed",
        },
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"bexio\", error=\"invalid_token\""),
    );
    resp
}

fn page_response(status: StatusCode, page: String) -> Response {
    let mut resp = response(
        status,
        "text/html;charset=utf-8",
        "no-store, must-revalidate, max-age=0",
        false,
        page,
    );
    let headers = resp.headers_mut();
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static("frame-src 'self'; frame-ancestors 'self'; object-src 'none';"),
    );
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("none"),
    );
    headers.insert(
        HeaderName::from_static("content-language"),
        HeaderValue::from_static("de-CH"),
    );
    resp
}

/// Keycloak's "We are sorry..." page.
fn error_page(status: StatusCode, message: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n    <meta charset=\"utf-8\">\n    <meta name=\"robots\" content=\"noindex, nofollow\">\n    \
         <title>Login | bexio</title>\n</head>\n<body>\n<div id=\"kc-header\">bexio</div>\n<h1 id=\"kc-page-title\">We are sorry...</h1>\n\
         <div id=\"kc-error-message\">\n    <p class=\"instruction\">{}</p>\n</div>\n</body>\n</html>\n",
        html_escape(message)
    );
    page_response(status, page)
}

// --------------------------------------------------------------------------------------------
// Helpers.

/// The discovery document for `base` (compact JSON, like the recording).
fn discovery_document(base: &str) -> String {
    let escaped = serde_json::to_string(base).unwrap_or_default();
    let escaped = escaped
        .get(1..escaped.len().saturating_sub(1))
        .unwrap_or_default();
    minify_json(DISCOVERY_TEMPLATE).replace("{base}", escaped)
}

/// Removes the whitespace outside strings of a JSON text.
fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// A ChaCha20 generator for `seed` mixed with `counter`.
fn entropy(seed: u64, counter: u64) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&counter.to_le_bytes());
    key[16..].copy_from_slice(b"bexio-oauth-v1\0\0");
    ChaCha20Rng::from_seed(key)
}

fn random_uuid(rng: &mut ChaCha20Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A stable UUID for a client (Keycloak puts the client's internal id into its codes).
fn client_uuid(client_id: &str) -> String {
    let digest = Sha256::digest(client_id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn secrets_equal(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

/// Decodes the credentials of `Authorization: Basic …` (each part form-urlencoded, RFC 6749 §2.3.1).
fn parse_basic(encoded: &str) -> Option<(String, String)> {
    let bytes = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = pct_decode(id);
    (!id.is_empty()).then(|| (id, pct_decode(secret)))
}

/// The token of an `Authorization: Bearer …` header value.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The parameters of a form body; any other non-empty body is refused.
#[allow(clippy::result_large_err)]
fn form_params(headers: &HeaderMap, body: &[u8]) -> Result<Params, Response> {
    if is_form(headers) {
        return Ok(Params::parse(&String::from_utf8_lossy(body)));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params(Vec::new()));
    }
    Err(oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Content-Type must be application/x-www-form-urlencoded",
    ))
}

/// Splits a space-separated scope string, dropping empty parts and duplicates.
fn split_scopes(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.split([' ', '\t', '\n', '\r']).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

fn is_known_response_type(value: &str) -> bool {
    let parts: Vec<&str> = value.split(' ').filter(|s| !s.is_empty()).collect();
    !parts.is_empty()
        && parts
            .iter()
            .all(|p| matches!(*p, "code" | "token" | "id_token" | "none"))
}

/// Validates the PKCE parameters of an authorization request.
fn pkce_challenge(
    client: &OAuthClient,
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<(PkceMethod, String)>, &'static str> {
    let method = match method {
        None => None,
        Some("S256") => Some(PkceMethod::S256),
        Some("plain") => Some(PkceMethod::Plain),
        Some(_) => return Err("Invalid parameter: code_challenge_method"),
    };
    if client.client_secret.is_none() {
        match method {
            None => return Err("Missing parameter: code_challenge_method"),
            Some(PkceMethod::Plain) => {
                return Err(
                    "Invalid parameter: code challenge method is not matching the configured one",
                );
            }
            Some(PkceMethod::S256) => {}
        }
    }
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err("Missing parameter: code_challenge"),
        (Some(challenge), method) => {
            if !is_pkce_string(challenge) {
                return Err("Invalid parameter: code_challenge");
            }
            Ok(Some((
                method.unwrap_or(PkceMethod::Plain),
                challenge.to_owned(),
            )))
        }
    }
}

/// 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn verify_pkce(
    method: PkceMethod,
    challenge: &str,
    verifier: Option<&str>,
) -> Result<(), &'static str> {
    let Some(verifier) = verifier else {
        return Err("PKCE code verifier not specified");
    };
    if !is_pkce_string(verifier) {
        return Err("PKCE verification failed: Invalid code verifier");
    }
    let computed = match method {
        PkceMethod::Plain => verifier.to_owned(),
        PkceMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
    };
    if computed == challenge {
        Ok(())
    } else {
        Err("PKCE verification failed: Invalid code verifier")
    }
}

/// Whether `uri` is a registered redirect URI of `client` (exact match, or a loopback URI when
/// the client registered `http://127.0.0.1/*`).
fn redirect_allowed(client: &OAuthClient, uri: &str) -> bool {
    if uri.contains('#') {
        return false;
    }
    client.redirect_uris.iter().any(|r| r == uri)
        || (client.redirect_uris.iter().any(|r| r == LOOPBACK_WILDCARD) && is_loopback_uri(uri))
}

/// `http://127.0.0.1[:port][/path][?query]` or the same with `localhost` (RFC 8252 §7.3).
fn is_loopback_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let Some(after_host) = rest
        .strip_prefix("127.0.0.1")
        .or_else(|| rest.strip_prefix("localhost"))
    else {
        return false;
    };
    let after_port = match after_host.strip_prefix(':') {
        Some(port_and_rest) => {
            let digits = port_and_rest.bytes().take_while(u8::is_ascii_digit).count();
            let port = port_and_rest
                .get(..digits)
                .and_then(|p| p.parse::<u16>().ok());
            if digits == 0 || digits > 5 || port.is_none_or(|p| p == 0) {
                return false;
            }
            port_and_rest.get(digits..).unwrap_or_default()
        }
        None => after_host,
    };
    after_port.is_empty() || after_port.starts_with('/') || after_port.starts_with('?')
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space; bad escapes stay literal).
fn pct_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Decoded `application/x-www-form-urlencoded` parameters, in order.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(text: &str) -> Params {
        Params(
            text.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (pct_decode(k), pct_decode(v))
                })
                .collect(),
        )
    }

    /// The first non-empty value of `name` (an empty value counts as missing, as in Keycloak).
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The first parameter name that occurs more than once.
    fn duplicated(&self) -> Option<&str> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, (k, _))| self.0.iter().skip(i + 1).any(|(other, _)| other == k))
            .map(|(_, (k, _))| k.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    /// 2026-06-18 12:00:00 UTC.
    const T0: u64 = 1_781_784_000;
    const TTL: u64 = 300;
    /// The example of RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const APP_REDIRECT: &str = "https://app.example.com/callback";
    const CLI_REDIRECT: &str = "http://127.0.0.1:53682/callback";
    const APP_BASIC: &str = "Basic YXBwOnMzY3JldA=="; // app:s3cret
    const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

    fn identity(
        tenant: usize,
        company_id: &str,
        company_name: &str,
        sub: &str,
        email: &str,
    ) -> Identity {
        Identity {
            tenant,
            company_id: company_id.to_owned(),
            company_name: company_name.to_owned(),
            sub: sub.to_owned(),
            email: email.to_owned(),
            given_name: "Max".to_owned(),
            family_name: "Muster".to_owned(),
            gender: "male".to_owned(),
            company_user_id: 1,
            shard_id: "5f89516f-ff9f-4e3f-b49e-b51507ef9b84".to_owned(),
        }
    }

    fn two_identities() -> Vec<Identity> {
        vec![
            identity(
                0,
                "q69vysq7fkzl",
                "Mustermann AG",
                "c5798551-d986-4c57-8c57-1365f667f43d",
                "max@mustermann.ch",
            ),
            identity(
                1,
                "acme01xyzabc",
                "Acme & Söhne GmbH",
                "0b7e2f0e-5a55-4d8e-9c61-7f2b1d7b9e11",
                "anna@acme.ch",
            ),
        ]
    }

    fn clients() -> Vec<OAuthClient> {
        vec![
            OAuthClient {
                client_id: "app".to_owned(),
                client_secret: Some("s3cret".to_owned()),
                redirect_uris: vec![
                    APP_REDIRECT.to_owned(),
                    "https://app.example.com/bye".to_owned(),
                ],
                allowed_scopes: OAuth::default_scopes(),
            },
            OAuthClient {
                client_id: "cli".to_owned(),
                client_secret: None,
                redirect_uris: vec![LOOPBACK_WILDCARD.to_owned()],
                allowed_scopes: OAuth::default_scopes(),
            },
            OAuthClient {
                client_id: "narrow".to_owned(),
                client_secret: Some("n".to_owned()),
                redirect_uris: vec!["https://narrow.example/cb".to_owned()],
                allowed_scopes: ["openid", "contact_show"]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            },
        ]
    }

    struct Resp {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Resp {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
        fn json(&self) -> Value {
            serde_json::from_str(&self.body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
        }
        /// The parameters of the redirect (query, or fragment if there is no query).
        fn redirect_params(&self) -> Params {
            let location = self
                .header("location")
                .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body));
            let query = location
                .split_once('?')
                .map(|(_, q)| q)
                .or_else(|| location.split_once('#').map(|(_, f)| f));
            Params::parse(query.unwrap_or(""))
        }
        fn assert_error(&self, status: u16, error: &str) {
            assert_eq!(self.status, status, "{}", self.body);
            assert_eq!(self.json()["error"], error, "{}", self.body);
        }
    }

    fn http(
        addr: SocketAddr,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut request =
            format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of headers");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            let mut decoded = Vec::new();
            let mut rest = &body[..];
            while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
                let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..pos]).trim(), 16)
                    .unwrap();
                if size == 0 {
                    break;
                }
                decoded.extend_from_slice(&rest[pos + 2..pos + 2 + size]);
                rest = &rest[pos + 2 + size + 2..];
            }
            body = decoded;
        }
        Resp {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }

    fn q(pairs: &[(&str, &str)]) -> String {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", pct_encode(k), pct_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn jwt_payload(token: &str) -> Value {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "JWT-shaped: {token}");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
    }

    struct Sandbox {
        oauth: Arc<OAuth>,
        addr: SocketAddr,
        clock: Arc<AtomicU64>,
    }

    fn sandbox() -> Sandbox {
        sandbox_with(two_identities(), 42)
    }

    fn sandbox_with(identities: Vec<Identity>, seed: u64) -> Sandbox {
        let clock = Arc::new(AtomicU64::new(T0));
        let time = Arc::clone(&clock);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let now: Arc<dyn Fn() -> f64 + Send + Sync> =
            Arc::new(move || time.load(Ordering::SeqCst) as f64);
        let oauth = OAuth::new(
            &format!("http://{addr}/"),
            identities,
            clients(),
            TTL,
            now,
            seed,
        );
        let app = oauth.router();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Sandbox { oauth, addr, clock }
    }

    impl Sandbox {
        fn base(&self) -> String {
            format!("http://{}", self.addr)
        }
        fn advance(&self, secs: u64) {
            self.clock.fetch_add(secs, Ordering::SeqCst);
        }
        fn get(&self, target: &str, headers: &[(&str, &str)]) -> Resp {
            http(self.addr, "GET", target, headers, b"")
        }
        fn post(&self, target: &str, headers: &[(&str, &str)], body: &str) -> Resp {
            http(self.addr, "POST", target, headers, body.as_bytes())
        }
        fn authorize(&self, query: &str) -> Resp {
            self.get(&format!("{OIDC}/auth?{query}"), &[])
        }
        /// Authorization by the public client `cli` with PKCE S256, logged in as `hint`.
        fn cli_code(&self, scope: &str, hint: &str) -> String {
            let resp = self.authorize(&q(&[
                ("client_id", "cli"),
                ("redirect_uri", CLI_REDIRECT),
                ("response_type", "code"),
                ("scope", scope),
                ("state", "st-1"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("login_hint", hint),
            ]));
            assert_eq!(resp.status, 302, "{}", resp.body);
            resp.redirect_params().get("code").expect("code").to_owned()
        }
        fn cli_tokens(&self, scope: &str, hint: &str) -> Value {
            let code = self.cli_code(scope, hint);
            let resp = self.token(
                &[FORM],
                &q(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", "cli"),
                    ("code", &code),
                    ("redirect_uri", CLI_REDIRECT),
                    ("code_verifier", VERIFIER),
                ]),
            );
            assert_eq!(resp.status, 200, "{}", resp.body);
            resp.json()
        }
        /// Authorization by the confidential client `app` (no PKCE).
        fn app_code(&self, scope: &str) -> String {
            let resp = self.authorize(&q(&[
                ("client_id", "app"),
                ("redirect_uri", APP_REDIRECT),
                ("response_type", "code"),
                ("scope", scope),
                ("state", "s"),
                ("login_hint", "q69vysq7fkzl"),
            ]));
            assert_eq!(resp.status, 302, "{}", resp.body);
            resp.redirect_params().get("code").expect("code").to_owned()
        }
        fn app_tokens(&self, scope: &str) -> Value {
            let code = self.app_code(scope);
            let resp = self.token(
                &[FORM, ("Authorization", APP_BASIC)],
                &q(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", APP_REDIRECT),
                ]),
            );
            assert_eq!(resp.status, 200, "{}", resp.body);
            resp.json()
        }
        fn token(&self, headers: &[(&str, &str)], body: &str) -> Resp {
            self.post(&format!("{OIDC}/token"), headers, body)
        }
        fn refresh(&self, client: &str, refresh_token: &str, scope: Option<&str>) -> Resp {
            let mut pairs = vec![
                ("grant_type", "refresh_token"),
                ("client_id", client),
                ("refresh_token", refresh_token),
            ];
            if let Some(scope) = scope {
                pairs.push(("scope", scope));
            }
            self.token(&[FORM], &q(&pairs))
        }
        fn userinfo(&self, token: &str) -> Resp {
            self.get(
                &format!("{OIDC}/userinfo"),
                &[("Authorization", &format!("Bearer {token}"))],
            )
        }
    }

    fn s(v: &Value) -> &str {
        v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
    }

    // ---------------------------------------------------------------------------------------
    // Discovery, JWKS

    #[test]
    fn discovery_uses_the_base_and_the_recorded_headers() {
        let sb = sandbox();
        let resp = sb.get("/realms/bexio/.well-known/openid-configuration", &[]);
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-type"),
            Some("application/json;charset=UTF-8")
        );
        assert_eq!(
            resp.header("cache-control"),
            Some("no-cache, must-revalidate, no-transform, no-store")
        );
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("x-frame-options"), Some("SAMEORIGIN"));
        assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
        assert!(resp.header("strict-transport-security").is_some());
        assert!(!resp.body.contains("{base}") && !resp.body.contains("auth.bexio.com"));
        assert!(!resp.body.contains('\n'), "compact like the recording");
        let doc = resp.json();
        let base = sb.base();
        assert_eq!(doc["issuer"], format!("{base}/realms/bexio"));
        assert_eq!(doc["authorization_endpoint"], format!("{base}{OIDC}/auth"));
        assert_eq!(doc["token_endpoint"], format!("{base}{OIDC}/token"));
        assert_eq!(doc["userinfo_endpoint"], format!("{base}{OIDC}/userinfo"));
        assert_eq!(doc["jwks_uri"], format!("{base}{OIDC}/certs"));
        assert_eq!(doc["revocation_endpoint"], format!("{base}{OIDC}/revoke"));
        assert_eq!(
            doc["introspection_endpoint"],
            format!("{base}{OIDC}/token/introspect")
        );
        assert_eq!(doc["end_session_endpoint"], format!("{base}{OIDC}/logout"));
        assert_eq!(
            doc["mtls_endpoint_aliases"]["token_endpoint"],
            format!("{base}{OIDC}/token")
        );
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["plain", "S256"])
        );
        for scope in OAuth::default_scopes() {
            assert!(
                doc["scopes_supported"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s == scope.as_str()),
                "{scope}"
            );
        }
    }

    #[test]
    fn discovery_for_the_real_host_is_byte_for_byte_the_recording_size() {
        // The recording's Content-Length is 7081 (OAuth/openid-configuration.json).
        let doc = discovery_document("https://auth.bexio.com");
        assert_eq!(doc.len(), 7081);
        assert!(doc.starts_with(
            r#"{"issuer":"https://auth.bexio.com/realms/bexio","authorization_endpoint":"#
        ));
    }

    #[test]
    fn certs_is_a_jwks_whose_kid_signs_the_tokens() {
        let sb = sandbox();
        let resp = sb.get(&format!("{OIDC}/certs"), &[]);
        assert_eq!(resp.status, 200);
        let jwks = resp.json();
        let key = &jwks["keys"][0];
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["e"], "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(s(&key["n"])).unwrap().len(), 256);
        let tokens = sb.cli_tokens("openid", "q69vysq7fkzl");
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(s(&tokens["access_token"]).split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["kid"], key["kid"]);
        assert_eq!(header["alg"], "RS256");
    }

    // ---------------------------------------------------------------------------------------
    // Authorization code flow

    #[test]
    fn full_authorization_code_flow_with_pkce_s256() {
        let sb = sandbox();
        let resp = sb.authorize(&q(&[
            ("client_id", "cli"),
            ("redirect_uri", CLI_REDIRECT),
            ("response_type", "code"),
            (
                "scope",
                "openid profile email company_profile offline_access contact_show",
            ),
            ("state", "a b&c"),
            ("nonce", "n-0S6"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("login_hint", "acme01xyzabc"),
        ]));
        assert_eq!(resp.status, 302, "{}", resp.body);
        let location = resp.header("location").unwrap();
        assert!(
            location.starts_with(&format!("{CLI_REDIRECT}?code=")),
            "{location}"
        );
        let p = resp.redirect_params();
        let issuer = format!("{}/realms/bexio", sb.base());
        assert_eq!(p.get("state"), Some("a b&c"));
        assert_eq!(p.get("iss"), Some(issuer.as_str()));
        let session_state = p.get("session_state").unwrap().to_owned();
        let code = p.get("code").unwrap().to_owned();
        assert_eq!(code.split('.').count(), 3, "Keycloak-shaped code");

        let resp = sb.token(
            &[FORM],
            &q(&[
                ("grant_type", "authorization_code"),
                ("client_id", "cli"),
                ("code", &code),
                ("redirect_uri", CLI_REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert_eq!(resp.header("pragma"), Some("no-cache"));
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert!(
            resp.body.starts_with(r#"{"access_token":"#),
            "Keycloak field order: {}",
            resp.body
        );
        let t = resp.json();
        assert_eq!(t["expires_in"], TTL);
        assert_eq!(t["refresh_expires_in"], 0);
        assert_eq!(t["token_type"], "Bearer");
        assert_eq!(t["not-before-policy"], 0);
        assert_eq!(t["session_state"], session_state.as_str());
        assert_eq!(
            t["scope"],
            "openid profile email company_profile offline_access contact_show"
        );
        assert!(t["refresh_token"].is_string());

        let access = s(&t["access_token"]);
        let claims = jwt_payload(access);
        assert_eq!(claims["iss"], issuer.as_str());
        assert_eq!(claims["sub"], "0b7e2f0e-5a55-4d8e-9c61-7f2b1d7b9e11");
        assert_eq!(claims["typ"], "Bearer");
        assert_eq!(claims["azp"], "cli");
        assert_eq!(claims["company_id"], "acme01xyzabc");
        assert_eq!(claims["exp"], T0 + TTL);
        assert_eq!(claims["iat"], T0);
        let id = jwt_payload(s(&t["id_token"]));
        assert_eq!(id["typ"], "ID");
        assert_eq!(id["aud"], "cli");
        assert_eq!(id["nonce"], "n-0S6");
        assert_eq!(id["email"], "anna@acme.ch");
        assert_eq!(jwt_payload(s(&t["refresh_token"]))["typ"], "Refresh");

        let grant = sb.oauth.resolve(access).unwrap();
        assert_eq!(grant.tenant, 1);
        assert_eq!(grant.client_id, "cli");
        assert!(grant.scopes.contains("contact_show") && grant.scopes.contains("openid"));
        assert_eq!(grant.scopes.len(), 6);

        // The code is single-use; replaying it also revokes what it produced.
        let replay = sb.token(
            &[FORM],
            &q(&[
                ("grant_type", "authorization_code"),
                ("client_id", "cli"),
                ("code", &code),
                ("redirect_uri", CLI_REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
        );
        replay.assert_error(400, "invalid_grant");
        assert_eq!(replay.json()["error_description"], "Code not valid");
        assert_eq!(sb.oauth.resolve(access), Err(TokenError::Unknown));
        sb.refresh("cli", s(&t["refresh_token"]), None)
            .assert_error(400, "invalid_grant");
    }

    #[test]
    fn wrong_or_missing_verifier_is_invalid_grant_and_burns_the_code() {
        let sb = sandbox();
        let exchange = |code: &str, verifier: Option<&str>| {
            let mut pairs = vec![
                ("grant_type", "authorization_code"),
                ("client_id", "cli"),
                ("code", code),
                ("redirect_uri", CLI_REDIRECT),
            ];
            if let Some(v) = verifier {
                pairs.push(("code_verifier", v));
            }
            sb.token(&[FORM], &q(&pairs))
        };
        let code = sb.cli_code("openid", "q69vysq7fkzl");
        let wrong = exchange(
            &code,
            Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        );
        wrong.assert_error(400, "invalid_grant");
        assert_eq!(
            wrong.json()["error_description"],
            "PKCE verification failed: Invalid code verifier"
        );
        let again = exchange(&code, Some(VERIFIER));
        again.assert_error(400, "invalid_grant");
        assert_eq!(again.json()["error_description"], "Code not valid");

        let code = sb.cli_code("openid", "q69vysq7fkzl");
        let missing = exchange(&code, None);
        missing.assert_error(400, "invalid_grant");
        assert_eq!(
            missing.json()["error_description"],
            "PKCE code verifier not specified"
        );

        let code = sb.cli_code("openid", "q69vysq7fkzl");
        let short = exchange(&code, Some("short"));
        assert_eq!(
            short.json()["error_description"],
            "PKCE verification failed: Invalid code verifier"
        );

        // Redirect URI of the token request must equal the authorization request's.
        let code = sb.cli_code("openid", "q69vysq7fkzl");
        let resp = sb.token(
            &[FORM],
            &q(&[
                ("grant_type", "authorization_code"),
                ("client_id", "cli"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:9999/other"),
                ("code_verifier", VERIFIER),
            ]),
        );
        resp.assert_error(400, "invalid_grant");
        assert_eq!(resp.json()["error_description"], "Incorrect redirect_uri");

        // A code of one client cannot be redeemed by another.
        let code = sb.cli_code("openid", "q69vysq7fkzl");
        let resp = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CLI_REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
        );
        resp.assert_error(400, "invalid_grant");
    }

    #[test]
    fn public_client_needs_pkce_s256() {
        let sb = sandbox();
        let base = [
            ("client_id", "cli"),
            ("redirect_uri", CLI_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "keep-me"),
            ("login_hint", "q69vysq7fkzl"),
        ];
        let resp = sb.authorize(&q(&base));
        assert_eq!(resp.status, 302);
        assert!(resp.header("location").unwrap().starts_with(CLI_REDIRECT));
        let p = resp.redirect_params();
        assert_eq!(p.get("error"), Some("invalid_request"));
        assert_eq!(
            p.get("error_description"),
            Some("Missing parameter: code_challenge_method")
        );
        assert_eq!(p.get("state"), Some("keep-me"));
        assert_eq!(p.get("code"), None);

        let mut plain = base.to_vec();
        plain.extend([
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ]);
        let p = sb.authorize(&q(&plain)).redirect_params();
        assert_eq!(p.get("error"), Some("invalid_request"));
        assert_eq!(p.get("code"), None);

        let mut no_challenge = base.to_vec();
        no_challenge.push(("code_challenge_method", "S256"));
        assert_eq!(
            sb.authorize(&q(&no_challenge))
                .redirect_params()
                .get("error"),
            Some("invalid_request")
        );

        let mut bad_challenge = base.to_vec();
        bad_challenge.extend([
            ("code_challenge", "too-short"),
            ("code_challenge_method", "S256"),
        ]);
        let p = sb.authorize(&q(&bad_challenge)).redirect_params();
        assert_eq!(
            p.get("error_description"),
            Some("Invalid parameter: code_challenge")
        );
    }

    #[test]
    fn confidential_client_may_use_plain_pkce() {
        let sb = sandbox();
        let resp = sb.authorize(&q(&[
            ("client_id", "app"),
            ("redirect_uri", APP_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ]));
        // Two identities and no hint: the company chooser.
        assert_eq!(resp.status, 200);
        let resp = sb.authorize(&q(&[
            ("client_id", "app"),
            ("redirect_uri", APP_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
            ("login_hint", "max@mustermann.ch"),
        ]));
        let code = resp.redirect_params().get("code").unwrap().to_owned();
        let resp = sb.token(
            &[FORM],
            &q(&[
                ("grant_type", "authorization_code"),
                ("client_id", "app"),
                ("client_secret", "s3cret"),
                ("code", &code),
                ("redirect_uri", APP_REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
    }

    #[test]
    fn unregistered_redirect_or_unknown_client_gets_an_error_page_not_a_redirect() {
        let sb = sandbox();
        let attempt = |client: &str, redirect: &str| {
            sb.authorize(&q(&[
                ("client_id", client),
                ("redirect_uri", redirect),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "x"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("login_hint", "q69vysq7fkzl"),
            ]))
        };
        for (client, redirect) in [
            ("app", "https://evil.example/callback"),
            ("app", "https://app.example.com/callback/../x"),
            ("app", "https://app.example.com/callback#frag"),
            ("cli", "http://127.0.0.1:8080@evil.example/cb"),
            ("cli", "http://localhost.evil.example/cb"),
            ("cli", "https://127.0.0.1:8080/cb"),
            ("cli", "http://127.0.0.1:99999/cb"),
            ("cli", "http://127.0.0.1:/cb"),
            ("nobody", APP_REDIRECT),
        ] {
            let resp = attempt(client, redirect);
            assert_eq!(resp.status, 400, "{client} {redirect}");
            assert!(resp.header("location").is_none(), "{client} {redirect}");
            assert_eq!(resp.header("content-type"), Some("text/html;charset=utf-8"));
            assert!(resp.body.contains("We are sorry"));
        }
        // Missing client_id, garbage query.
        assert_eq!(sb.authorize("response_type=code&scope=openid").status, 400);
        assert_eq!(
            sb.authorize("%%%&=&client_id=%ZZ&redirect_uri=%").status,
            400
        );
        // Loopback redirect URIs on any port, with 127.0.0.1 or localhost.
        for redirect in [
            "http://127.0.0.1:1/cb",
            "http://localhost:49152/callback?x=1",
            "http://127.0.0.1/cb",
        ] {
            let resp = attempt("cli", redirect);
            assert_eq!(resp.status, 302, "{redirect}: {}", resp.body);
            assert!(resp.header("location").unwrap().starts_with(redirect));
        }
        // A registered URI that already has a query keeps it.
        assert!(
            attempt("cli", "http://localhost:49152/callback?x=1")
                .header("location")
                .unwrap()
                .contains("?x=1&code=")
        );
    }

    #[test]
    fn authorization_request_errors_are_redirected() {
        let sb = sandbox();
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = vec![
                ("client_id", "app"),
                ("redirect_uri", APP_REDIRECT),
                ("state", "z"),
                ("login_hint", "q69vysq7fkzl"),
            ];
            pairs.extend_from_slice(extra);
            let resp = sb.authorize(&q(&pairs));
            assert_eq!(resp.status, 302, "{}", resp.body);
            let p = resp.redirect_params();
            assert_eq!(p.get("state"), Some("z"));
            assert_eq!(p.get("code"), None);
            (
                p.get("error").unwrap_or("").to_owned(),
                p.get("error_description").unwrap_or("").to_owned(),
            )
        };
        assert_eq!(with(&[("scope", "openid")]).0, "invalid_request");
        assert_eq!(
            with(&[("scope", "openid"), ("response_type", "token")]).0,
            "unauthorized_client"
        );
        assert_eq!(
            with(&[("scope", "openid"), ("response_type", "banana")]).0,
            "unsupported_response_type"
        );
        assert_eq!(
            with(&[
                ("scope", "openid nonsense_scope"),
                ("response_type", "code")
            ]),
            (
                "invalid_scope".to_owned(),
                "Invalid scopes: openid nonsense_scope".to_owned()
            )
        );
        assert_eq!(
            with(&[("scope", "contact_show"), ("response_type", "code")]).0,
            "invalid_scope"
        );
        assert_eq!(with(&[("response_type", "code")]).0, "invalid_scope");
        assert_eq!(
            with(&[
                ("scope", "openid"),
                ("response_type", "code"),
                ("response_type", "code")
            ])
            .0,
            "invalid_request"
        );
        // A client may only ask for its own scopes.
        let resp = sb.authorize(&q(&[
            ("client_id", "narrow"),
            ("redirect_uri", "https://narrow.example/cb"),
            ("response_type", "code"),
            ("scope", "openid contact_edit"),
            ("login_hint", "q69vysq7fkzl"),
        ]));
        assert_eq!(resp.redirect_params().get("error"), Some("invalid_scope"));
        // Without redirect_uri the single registered one is used.
        let resp = sb.authorize(&q(&[
            ("client_id", "narrow"),
            ("response_type", "code"),
            ("scope", "openid contact_show"),
            ("login_hint", "q69vysq7fkzl"),
        ]));
        assert!(
            resp.header("location")
                .unwrap()
                .starts_with("https://narrow.example/cb?code=")
        );
        // prompt=none without a way to pick the user.
        let resp = sb.authorize(&q(&[
            ("client_id", "app"),
            ("redirect_uri", APP_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("prompt", "none"),
        ]));
        assert_eq!(resp.redirect_params().get("error"), Some("login_required"));
    }

    #[test]
    fn response_modes_fragment_and_form_post() {
        let sb = sandbox();
        let base = [
            ("client_id", "app"),
            ("redirect_uri", APP_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "f"),
            ("login_hint", "q69vysq7fkzl"),
        ];
        let mut fragment = base.to_vec();
        fragment.push(("response_mode", "fragment"));
        let resp = sb.authorize(&q(&fragment));
        assert!(
            resp.header("location")
                .unwrap()
                .starts_with(&format!("{APP_REDIRECT}#code="))
        );
        let mut form = base.to_vec();
        form.push(("response_mode", "form_post"));
        let resp = sb.authorize(&q(&form));
        assert_eq!(resp.status, 200);
        assert!(resp.body.contains(&format!("ACTION=\"{APP_REDIRECT}\"")));
        assert!(resp.body.contains("name=\"code\""));
    }

    #[test]
    fn login_hint_picks_the_tenant_and_without_it_a_chooser_is_shown() {
        let sb = sandbox();
        let t = sb.cli_tokens("openid", "acme01xyzabc");
        assert_eq!(sb.oauth.resolve(s(&t["access_token"])).unwrap().tenant, 1);
        let t = sb.cli_tokens("openid", "MAX@Mustermann.CH");
        assert_eq!(sb.oauth.resolve(s(&t["access_token"])).unwrap().tenant, 0);

        let query = q(&[
            ("client_id", "cli"),
            ("redirect_uri", CLI_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("login_hint", "no-such-company"),
        ]);
        let page = sb.authorize(&query);
        assert_eq!(page.status, 200);
        assert_eq!(page.header("content-type"), Some("text/html;charset=utf-8"));
        assert!(page.body.contains("Mustermann AG") && page.body.contains("Acme &amp; Söhne GmbH"));
        // Follow the link of the second company.
        let start = page
            .body
            .find("id=\"company-acme01xyzabc\" href=\"")
            .unwrap()
            + "id=\"company-acme01xyzabc\" href=\"".len();
        let href = page.body[start..]
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        assert!(
            href.starts_with(&format!("{OIDC}/auth?")) && href.ends_with("login_hint=acme01xyzabc")
        );
        assert!(!href.contains("no-such-company"));
        let resp = sb.get(&href, &[]);
        assert_eq!(resp.status, 302, "{}", resp.body);
        let code = resp.redirect_params().get("code").unwrap().to_owned();
        let t = sb
            .token(
                &[FORM],
                &q(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", "cli"),
                    ("code", &code),
                    ("redirect_uri", CLI_REDIRECT),
                    ("code_verifier", VERIFIER),
                ]),
            )
            .json();
        assert_eq!(sb.oauth.resolve(s(&t["access_token"])).unwrap().tenant, 1);

        // A single identity logs in without a hint.
        let single = sandbox_with(vec![two_identities().remove(1)], 7);
        let resp = single.authorize(&q(&[
            ("client_id", "cli"),
            ("redirect_uri", CLI_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]));
        assert_eq!(resp.status, 302);
        assert!(resp.redirect_params().get("code").is_some());
    }

    #[test]
    fn authorization_codes_expire_after_60_seconds() {
        let sb = sandbox();
        let code = sb.app_code("openid");
        sb.advance(61);
        let resp = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", APP_REDIRECT),
            ]),
        );
        resp.assert_error(400, "invalid_grant");
        let code = sb.app_code("openid");
        sb.advance(59);
        let resp = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", APP_REDIRECT),
            ]),
        );
        assert_eq!(resp.status, 200);
    }

    // ---------------------------------------------------------------------------------------
    // Token endpoint: client authentication and request format

    #[test]
    fn confidential_client_authentication() {
        let sb = sandbox();
        // Basic (app_tokens) and client_secret_post both work.
        sb.app_tokens("openid");
        let code = sb.app_code("openid");
        let resp = sb.token(
            &[FORM],
            &q(&[
                ("grant_type", "authorization_code"),
                ("client_id", "app"),
                ("client_secret", "s3cret"),
                ("code", &code),
                ("redirect_uri", APP_REDIRECT),
            ]),
        );
        assert_eq!(resp.status, 200, "{}", resp.body);

        let code = sb.app_code("openid");
        let body = q(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", APP_REDIRECT),
        ]);
        let wrong_secret = format!("Basic {}", STANDARD.encode("app:wrong"));
        sb.token(&[FORM, ("Authorization", &wrong_secret)], &body)
            .assert_error(401, "invalid_client");
        sb.token(&[FORM, ("Authorization", "Basic !!!not-base64")], &body)
            .assert_error(401, "invalid_client");
        let no_colon = format!("Basic {}", STANDARD.encode("app"));
        sb.token(&[FORM, ("Authorization", &no_colon)], &body)
            .assert_error(401, "invalid_client");
        let not_utf8 = format!("Basic {}", STANDARD.encode([0xff, 0xfe, b':', 0x80]));
        sb.token(&[FORM, ("Authorization", &not_utf8)], &body)
            .assert_error(401, "invalid_client");
        sb.token(&[FORM], &body).assert_error(401, "invalid_client");
        sb.token(&[FORM], &format!("{body}&client_id=app"))
            .assert_error(401, "invalid_client");
        sb.token(&[FORM], &format!("{body}&client_id=ghost&client_secret=x"))
            .assert_error(401, "invalid_client");
        let other = format!("Basic {}", STANDARD.encode("narrow:n"));
        sb.token(
            &[FORM, ("Authorization", &other)],
            &format!("{body}&client_id=app"),
        )
        .assert_error(400, "invalid_request");
        // The failed attempts did not touch the code: it still works with the right secret.
        let resp = sb.token(&[FORM, ("Authorization", APP_BASIC)], &body);
        assert_eq!(resp.status, 200, "{}", resp.body);
    }

    #[test]
    fn token_parameters_only_from_a_form_body() {
        let sb = sandbox();
        let code = sb.app_code("openid");
        let query = q(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", APP_REDIRECT),
        ]);
        let resp = sb.post(
            &format!("{OIDC}/token?{query}"),
            &[FORM, ("Authorization", APP_BASIC)],
            "",
        );
        resp.assert_error(400, "invalid_request");
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert_eq!(resp.header("pragma"), Some("no-cache"));
        let resp = sb.post(
            &format!("{OIDC}/token?{query}"),
            &[FORM, ("Authorization", APP_BASIC)],
            &query,
        );
        resp.assert_error(400, "invalid_request");
        let json = r#"{"grant_type":"authorization_code"}"#;
        sb.token(
            &[
                ("Content-Type", "application/json"),
                ("Authorization", APP_BASIC),
            ],
            json,
        )
        .assert_error(400, "invalid_request");
        // GET is not a token request.
        assert_eq!(sb.get(&format!("{OIDC}/token?{query}"), &[]).status, 405);
        // The code was never consumed.
        assert_eq!(
            sb.token(&[FORM, ("Authorization", APP_BASIC)], &query)
                .status,
            200
        );
    }

    #[test]
    fn malformed_token_requests_get_oauth_errors() {
        let sb = sandbox();
        let auth = [FORM, ("Authorization", APP_BASIC)];
        let missing = sb.token(&auth, "");
        missing.assert_error(400, "invalid_request");
        assert_eq!(
            missing.json()["error_description"],
            "Missing form parameter: grant_type"
        );
        sb.token(&auth, "grant_type=magic")
            .assert_error(400, "unsupported_grant_type");
        sb.token(&auth, "grant_type=password&username=a&password=b")
            .assert_error(400, "unauthorized_client");
        sb.token(&auth, "grant_type=authorization_code")
            .assert_error(400, "invalid_request");
        sb.token(&auth, "grant_type=refresh_token")
            .assert_error(400, "invalid_request");
        sb.token(
            &auth,
            "grant_type=authorization_code&code=%ZZ%&redirect_uri=",
        )
        .assert_error(400, "invalid_grant");
        sb.token(&auth, "grant_type=refresh_token&refresh_token=a.b.c")
            .assert_error(400, "invalid_grant");
        sb.token(&auth, "grant_type=refresh_token&grant_type=refresh_token")
            .assert_error(400, "invalid_request");
        let resp = http(
            sb.addr,
            "POST",
            &format!("{OIDC}/token"),
            &auth,
            &[0xff, 0xfe, b'&', b'=', 0x80],
        );
        resp.assert_error(400, "invalid_request");
    }

    // ---------------------------------------------------------------------------------------
    // Refresh tokens

    #[test]
    fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
        let sb = sandbox();
        let t1 = sb.cli_tokens("openid offline_access contact_show", "q69vysq7fkzl");
        let (a1, r1) = (
            s(&t1["access_token"]).to_owned(),
            s(&t1["refresh_token"]).to_owned(),
        );

        let resp = sb.refresh("cli", &r1, None);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        let t2 = resp.json();
        let (a2, r2) = (
            s(&t2["access_token"]).to_owned(),
            s(&t2["refresh_token"]).to_owned(),
        );
        assert_ne!(r1, r2);
        assert_ne!(a1, a2);
        assert_eq!(t2["scope"], "openid offline_access contact_show");
        assert_eq!(t2["session_state"], t1["session_state"]);
        assert!(t2["id_token"].is_string());

        let t3 = sb.refresh("cli", &r2, None).json();
        let (a3, r3) = (
            s(&t3["access_token"]).to_owned(),
            s(&t3["refresh_token"]).to_owned(),
        );
        for a in [&a1, &a2, &a3] {
            assert!(
                sb.oauth.resolve(a).is_ok(),
                "refreshing does not end older access tokens"
            );
        }

        // A public client's refresh token cannot be used by another client.
        let foreign = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[("grant_type", "refresh_token"), ("refresh_token", &r3)]),
        );
        foreign.assert_error(400, "invalid_grant");

        // Reuse of a rotated-out token: refused, and the whole family is revoked.
        let reuse = sb.refresh("cli", &r1, None);
        reuse.assert_error(400, "invalid_grant");
        assert_eq!(
            reuse.json()["error_description"],
            "Maximum allowed refresh token reuse exceeded"
        );
        sb.refresh("cli", &r3, None)
            .assert_error(400, "invalid_grant");
        for a in [&a1, &a2, &a3] {
            assert_eq!(sb.oauth.resolve(a), Err(TokenError::Unknown));
        }
        assert_eq!(sb.userinfo(&a3).status, 401);
        // Other families are untouched.
        let other = sb.cli_tokens("openid offline_access", "q69vysq7fkzl");
        assert_eq!(
            sb.refresh("cli", s(&other["refresh_token"]), None).status,
            200
        );
    }

    #[test]
    fn no_refresh_token_without_offline_access() {
        let sb = sandbox();
        let t = sb.app_tokens("openid contact_show");
        assert!(t.get("refresh_token").is_none(), "{t}");
        assert_eq!(t["refresh_expires_in"], 0);
        assert!(t["id_token"].is_string());
        let resp = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&t["access_token"])),
            ]),
        );
        resp.assert_error(400, "invalid_grant");
        let resp = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&t["id_token"])),
            ]),
        );
        resp.assert_error(400, "invalid_grant");
    }

    #[test]
    fn refresh_may_narrow_but_not_widen_the_scope() {
        let sb = sandbox();
        let t = sb.cli_tokens(
            "openid offline_access contact_show contact_edit",
            "q69vysq7fkzl",
        );
        let r = s(&t["refresh_token"]).to_owned();

        let wide = sb.refresh(
            "cli",
            &r,
            Some("openid offline_access contact_show kb_invoice_show"),
        );
        wide.assert_error(400, "invalid_scope");
        assert_eq!(
            wide.json()["error_description"],
            "Invalid scopes: openid offline_access contact_show kb_invoice_show"
        );

        // The refused request did not consume the refresh token.
        let narrow = sb.refresh("cli", &r, Some("openid contact_show"));
        assert_eq!(narrow.status, 200, "{}", narrow.body);
        let n = narrow.json();
        assert_eq!(n["scope"], "openid contact_show");
        let grant = sb.oauth.resolve(s(&n["access_token"])).unwrap();
        assert_eq!(
            grant.scopes,
            ["openid", "contact_show"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        );
        assert!(
            n["refresh_token"].is_string(),
            "the offline session goes on"
        );

        // Narrowing does not shrink what was originally granted.
        let back = sb.refresh("cli", s(&n["refresh_token"]), Some("contact_edit"));
        assert_eq!(back.status, 200, "{}", back.body);
        let b = back.json();
        assert!(b.get("id_token").is_none(), "no ID token without openid");
        // ... and userinfo needs openid.
        let resp = sb.userinfo(s(&b["access_token"]));
        assert_eq!(resp.status, 403);
        assert_eq!(resp.json()["error"], "insufficient_scope");
    }

    // ---------------------------------------------------------------------------------------
    // Expiry, resolve, userinfo

    #[test]
    fn access_tokens_expire_on_the_simulated_clock() {
        let sb = sandbox();
        let t = sb.cli_tokens("openid offline_access", "acme01xyzabc");
        let access = s(&t["access_token"]);
        sb.advance(TTL - 1);
        assert_eq!(sb.oauth.resolve(access).unwrap().tenant, 1);
        assert_eq!(sb.userinfo(access).status, 200);
        sb.advance(1);
        assert_eq!(sb.oauth.resolve(access), Err(TokenError::Expired));
        let resp = sb.userinfo(access);
        assert_eq!(resp.status, 401);
        assert_eq!(
            resp.header("www-authenticate"),
            Some("Bearer realm=\"bexio\", error=\"invalid_token\"")
        );
        // The refresh token still works and yields a fresh access token.
        let fresh = sb.refresh("cli", s(&t["refresh_token"]), None).json();
        assert_eq!(jwt_payload(s(&fresh["access_token"]))["exp"], T0 + 2 * TTL);
        assert!(sb.oauth.resolve(s(&fresh["access_token"])).is_ok());
        // A day later the expired token may be forgotten, but is never valid again.
        sb.advance(2 * 86_400);
        assert!(sb.oauth.resolve(access).is_err());
    }

    #[test]
    fn resolve_refuses_unknown_tokens() {
        let sb = sandbox();
        assert_eq!(sb.oauth.resolve(""), Err(TokenError::Unknown));
        assert_eq!(sb.oauth.resolve("garbage"), Err(TokenError::Unknown));
        assert_eq!(sb.oauth.resolve("a.b.c"), Err(TokenError::Unknown));
        let t = sb.cli_tokens("openid offline_access", "q69vysq7fkzl");
        assert_eq!(
            sb.oauth.resolve(s(&t["refresh_token"])),
            Err(TokenError::Unknown)
        );
        assert_eq!(
            sb.oauth.resolve(s(&t["id_token"])),
            Err(TokenError::Unknown)
        );
        assert!(sb.oauth.resolve(s(&t["access_token"])).is_ok());
        assert_eq!(TokenError::Expired.to_string(), "token expired");
        assert_eq!(TokenError::Unknown.to_string(), "unknown token");
    }

    #[test]
    fn userinfo_claims_follow_the_scopes() {
        let sb = sandbox();
        let full = sb.cli_tokens("openid profile email company_profile", "q69vysq7fkzl");
        let resp = sb.userinfo(s(&full["access_token"]));
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(
            resp.body,
            r#"{"sub":"c5798551-d986-4c57-8c57-1365f667f43d","email_verified":true,"gender":"male","company_id":"q69vysq7fkzl","shard_id":"5f89516f-ff9f-4e3f-b49e-b51507ef9b84","company_name":"Mustermann AG","locale":"de-CH","given_name":"Max","company_user_id":1,"family_name":"Muster","email":"max@mustermann.ch"}"#
        );
        let keys = |scope: &str| {
            let t = sb.cli_tokens(scope, "q69vysq7fkzl");
            let info = sb.userinfo(s(&t["access_token"])).json();
            let mut keys: Vec<String> = info.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys("openid"), ["sub"]);
        assert_eq!(keys("openid email"), ["email", "email_verified", "sub"]);
        assert_eq!(
            keys("openid profile"),
            ["family_name", "gender", "given_name", "locale", "sub"]
        );
        assert_eq!(
            keys("openid company_profile"),
            [
                "company_id",
                "company_name",
                "company_user_id",
                "shard_id",
                "sub"
            ]
        );

        // POST with the token in the header or in the form body.
        let access = s(&full["access_token"]);
        let resp = sb.post(
            &format!("{OIDC}/userinfo"),
            &[("Authorization", &format!("bearer {access}"))],
            "",
        );
        assert_eq!(resp.status, 200);
        let resp = sb.post(
            &format!("{OIDC}/userinfo"),
            &[FORM],
            &q(&[("access_token", access)]),
        );
        assert_eq!(resp.status, 200);
        assert_eq!(resp.json()["sub"], "c5798551-d986-4c57-8c57-1365f667f43d");
    }

    #[test]
    fn userinfo_refuses_bad_tokens_with_401() {
        let sb = sandbox();
        for authorization in [
            "Bearer nope",
            "Bearer",
            "Bearer    ",
            "Basic YXBwOnMzY3JldA==",
            "garbage",
            "Bearer a b",
        ] {
            let resp = sb.get(
                &format!("{OIDC}/userinfo"),
                &[("Authorization", authorization)],
            );
            assert_eq!(resp.status, 401, "{authorization}");
            assert_eq!(
                resp.header("www-authenticate"),
                Some("Bearer realm=\"bexio\", error=\"invalid_token\"")
            );
            let body = resp.json();
            assert_eq!(body["error"], "invalid_token");
            assert_eq!(body["error_description"], "Token verification failed");
        }
        let resp = http(
            sb.addr,
            "GET",
            &format!("{OIDC}/userinfo"),
            &[("Authorization", "Bearer \u{e9}t\u{e9}")],
            b"",
        );
        assert_eq!(resp.status, 401);
        let resp = sb.get(&format!("{OIDC}/userinfo"), &[]);
        assert_eq!(resp.status, 401);
        assert!(
            resp.header("www-authenticate")
                .unwrap()
                .starts_with("Bearer realm=\"bexio\"")
        );
    }

    #[test]
    fn expired_entries_are_purged_lazily() {
        let sb = sandbox();
        let t = sb.cli_tokens("openid offline_access", "q69vysq7fkzl");
        let old = sb.cli_tokens("openid", "q69vysq7fkzl");
        let access = s(&old["access_token"]).to_owned();
        let unused_code = sb.cli_code("openid", "q69vysq7fkzl");
        sb.advance(TTL + PURGE_GRACE_SECS as u64 + 1);
        assert_eq!(sb.oauth.resolve(&access), Err(TokenError::Expired));
        for _ in 0..PURGE_EVERY {
            sb.cli_code("openid", "q69vysq7fkzl");
        }
        assert_eq!(sb.oauth.resolve(&access), Err(TokenError::Unknown));
        {
            let st = sb.oauth.store.lock();
            assert!(!st.codes.contains_key(&unused_code));
            assert!(!st.tokens.contains_key(&access));
            assert_eq!(st.sessions.len(), 1, "only the offline session survives");
        }
        // The offline session still refreshes after its access tokens were purged.
        assert_eq!(sb.refresh("cli", s(&t["refresh_token"]), None).status, 200);
    }

    // ---------------------------------------------------------------------------------------
    // Revocation, introspection, logout

    #[test]
    fn revocation() {
        let sb = sandbox();
        let revoke = |headers: &[(&str, &str)], body: &str| {
            sb.post(&format!("{OIDC}/revoke"), headers, body)
        };
        let t = sb.app_tokens("openid offline_access contact_show");
        let access = s(&t["access_token"]);
        let refresh = s(&t["refresh_token"]);

        // Unknown tokens: 200, as RFC 7009 wants.
        let resp = revoke(&[FORM, ("Authorization", APP_BASIC)], "token=unknown");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        // Client authentication is required, and only the owner may revoke.
        revoke(&[FORM], &q(&[("token", access)])).assert_error(401, "invalid_client");
        let narrow = format!("Basic {}", STANDARD.encode("narrow:n"));
        revoke(
            &[FORM, ("Authorization", &narrow)],
            &q(&[("token", access)]),
        )
        .assert_error(400, "invalid_token");
        revoke(&[FORM, ("Authorization", APP_BASIC)], "").assert_error(400, "invalid_request");
        revoke(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[("token", access), ("token_type_hint", "weird")]),
        )
        .assert_error(400, "unsupported_token_type");
        assert!(sb.oauth.resolve(access).is_ok());

        // Revoking an access token ends just that token.
        let resp = revoke(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[("token", access), ("token_type_hint", "access_token")]),
        );
        assert_eq!(resp.status, 200);
        assert_eq!(sb.oauth.resolve(access), Err(TokenError::Unknown));
        assert_eq!(sb.userinfo(access).status, 401);
        let t2 = sb
            .token(
                &[FORM, ("Authorization", APP_BASIC)],
                &q(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]),
            )
            .json();
        let (a2, r2) = (s(&t2["access_token"]), s(&t2["refresh_token"]));
        assert!(sb.oauth.resolve(a2).is_ok());

        // Revoking a refresh token ends the offline session with its access tokens.
        let resp = revoke(
            &[FORM],
            &q(&[
                ("token", r2),
                ("client_id", "app"),
                ("client_secret", "s3cret"),
            ]),
        );
        assert_eq!(resp.status, 200);
        assert_eq!(sb.oauth.resolve(a2), Err(TokenError::Unknown));
        let resp = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[("grant_type", "refresh_token"), ("refresh_token", r2)]),
        );
        resp.assert_error(400, "invalid_grant");

        // Public clients revoke with their client_id.
        let t = sb.cli_tokens("openid", "q69vysq7fkzl");
        let resp = revoke(
            &[FORM],
            &q(&[("token", s(&t["access_token"])), ("client_id", "cli")]),
        );
        assert_eq!(resp.status, 200);
        assert_eq!(
            sb.oauth.resolve(s(&t["access_token"])),
            Err(TokenError::Unknown)
        );
    }

    #[test]
    fn introspection() {
        let sb = sandbox();
        let introspect = |headers: &[(&str, &str)], token: &str| {
            sb.post(
                &format!("{OIDC}/token/introspect"),
                headers,
                &q(&[("token", token)]),
            )
        };
        let t = sb.app_tokens("openid offline_access contact_show");
        let resp = introspect(&[FORM, ("Authorization", APP_BASIC)], s(&t["access_token"]));
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        let info = resp.json();
        assert_eq!(info["active"], true);
        assert_eq!(info["scope"], "openid offline_access contact_show");
        assert_eq!(info["client_id"], "app");
        assert_eq!(info["sub"], "c5798551-d986-4c57-8c57-1365f667f43d");
        assert_eq!(info["company_id"], "q69vysq7fkzl");
        assert_eq!(info["exp"], T0 + TTL);
        assert_eq!(info["typ"], "Bearer");
        let info = introspect(
            &[FORM, ("Authorization", APP_BASIC)],
            s(&t["refresh_token"]),
        )
        .json();
        assert_eq!(info["active"], true);
        assert_eq!(info["typ"], "Refresh");

        assert_eq!(
            introspect(&[FORM, ("Authorization", APP_BASIC)], "nope").body,
            r#"{"active":false}"#
        );
        introspect(&[FORM], s(&t["access_token"])).assert_error(401, "invalid_client");
        let resp = sb.post(
            &format!("{OIDC}/token/introspect"),
            &[FORM],
            &q(&[("token", s(&t["access_token"])), ("client_id", "cli")]),
        );
        assert_eq!(resp.status, 403);
        sb.advance(TTL);
        assert_eq!(
            introspect(&[FORM, ("Authorization", APP_BASIC)], s(&t["access_token"])).json()["active"],
            false
        );
    }

    #[test]
    fn logout_with_id_token_hint_ends_the_session() {
        let sb = sandbox();
        let t = sb.app_tokens("openid offline_access");
        let other = sb.app_tokens("openid");
        let id_token = s(&t["id_token"]);
        let resp = sb.get(
            &format!("{OIDC}/logout?{}", q(&[("id_token_hint", id_token)])),
            &[],
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.header("content-type"), Some("text/html;charset=utf-8"));
        assert!(resp.body.contains("You are logged out"));
        assert_eq!(
            sb.oauth.resolve(s(&t["access_token"])),
            Err(TokenError::Unknown)
        );
        let resp = sb.token(
            &[FORM, ("Authorization", APP_BASIC)],
            &q(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&t["refresh_token"])),
            ]),
        );
        resp.assert_error(400, "invalid_grant");
        assert!(
            sb.oauth.resolve(s(&other["access_token"])).is_ok(),
            "other sessions live on"
        );

        // Logging out again with the same hint is harmless.
        assert_eq!(
            sb.get(
                &format!("{OIDC}/logout?{}", q(&[("id_token_hint", id_token)])),
                &[]
            )
            .status,
            200
        );
        // A forged or garbage hint is refused.
        for hint in ["garbage", "a.b.c", "a.%%%.c", "...."] {
            let resp = sb.get(&format!("{OIDC}/logout?id_token_hint={hint}"), &[]);
            assert_eq!(resp.status, 400, "{hint}");
        }
        // Without parameters: just the page.
        let resp = sb.post(&format!("{OIDC}/logout"), &[FORM], "");
        assert_eq!(resp.status, 200);
        assert!(resp.body.contains("You are logged out"));

        // With a registered post_logout_redirect_uri: back to the app, with the state.
        let resp = sb.post(
            &format!("{OIDC}/logout"),
            &[FORM],
            &q(&[
                ("id_token_hint", s(&other["id_token"])),
                ("post_logout_redirect_uri", "https://app.example.com/bye"),
                ("state", "s1"),
            ]),
        );
        assert_eq!(resp.status, 302);
        assert_eq!(
            resp.header("location"),
            Some("https://app.example.com/bye?state=s1")
        );
        assert_eq!(
            sb.oauth.resolve(s(&other["access_token"])),
            Err(TokenError::Unknown)
        );
        let resp = sb.get(
            &format!(
                "{OIDC}/logout?{}",
                q(&[
                    ("client_id", "app"),
                    ("post_logout_redirect_uri", "https://evil.example/")
                ])
            ),
            &[],
        );
        assert_eq!(resp.status, 400);
        assert!(resp.header("location").is_none());
    }

    // ---------------------------------------------------------------------------------------
    // Determinism and helpers

    fn direct_flow(seed: u64) -> (String, Value) {
        let now: Arc<dyn Fn() -> f64 + Send + Sync> = Arc::new(|| T0 as f64);
        let oauth = OAuth::new(
            "http://sandbox.test",
            two_identities(),
            clients(),
            TTL,
            now,
            seed,
        );
        let query = q(&[
            ("client_id", "app"),
            ("redirect_uri", APP_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid offline_access"),
            ("login_hint", "acme01xyzabc"),
        ]);
        let resp = oauth.handle_authorize(&Method::GET, &HeaderMap::new(), Some(&query), b"");
        let location = resp
            .headers()
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let code = Params::parse(location.split_once('?').unwrap().1)
            .get("code")
            .unwrap()
            .to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static(APP_BASIC));
        let body = q(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", APP_REDIRECT),
        ]);
        let resp = oauth.handle_token(&headers, None, body.as_bytes());
        assert_eq!(resp.status(), StatusCode::OK);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(resp.into_body(), usize::MAX))
            .unwrap();
        (location, serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn tokens_are_deterministic_given_the_seed_and_unique() {
        let (loc_a, a) = direct_flow(9);
        let (loc_b, b) = direct_flow(9);
        assert_eq!(loc_a, loc_b);
        assert_eq!(a, b);
        let (loc_c, c) = direct_flow(10);
        assert_ne!(loc_a, loc_c);
        assert_ne!(a["access_token"], c["access_token"]);
        let tokens = [&a["access_token"], &a["refresh_token"], &a["id_token"]];
        let distinct: BTreeSet<String> = tokens.iter().map(|t| s(t).to_owned()).collect();
        assert_eq!(distinct.len(), 3);
        // session_state and jti are UUIDs.
        assert!(uuid::Uuid::parse_str(s(&a["session_state"])).is_ok());
        assert!(uuid::Uuid::parse_str(s(&jwt_payload(s(&a["access_token"]))["jti"])).is_ok());
    }

    #[test]
    fn default_scopes_are_the_documented_ones() {
        let scopes = OAuth::default_scopes();
        for s in [
            "accounting",
            "contact_show",
            "kb_invoice_edit",
            "payroll_paystub_show",
            "openid",
            "offline_access",
            "company_profile",
        ] {
            assert!(scopes.contains(s), "{s}");
        }
        assert_eq!(scopes.len(), API_SCOPES.len() + OIDC_SCOPES.len());
        assert!(!scopes.contains("all"));
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            verify_pkce(PkceMethod::S256, CHALLENGE, Some(VERIFIER)),
            Ok(())
        );
        assert!(verify_pkce(PkceMethod::S256, CHALLENGE, Some(CHALLENGE)).is_err());
        assert_eq!(
            verify_pkce(PkceMethod::Plain, VERIFIER, Some(VERIFIER)),
            Ok(())
        );
        assert!(verify_pkce(PkceMethod::Plain, VERIFIER, None).is_err());
        let invalid = format!("{}!", &VERIFIER[..43]);
        assert!(verify_pkce(PkceMethod::Plain, &invalid, Some(&invalid)).is_err());
        assert!(!is_pkce_string(&"a".repeat(129)));
        assert!(is_pkce_string(&"a~.-_".repeat(20)));
    }

    #[test]
    fn url_and_loopback_helpers() {
        assert_eq!(pct_decode("a+b%20c%2B%zz%"), "a b c+%zz%");
        assert_eq!(pct_decode("%C3%A9%FF"), "é\u{fffd}");
        assert_eq!(pct_encode("a b/é~"), "a%20b%2F%C3%A9~");
        let p = Params::parse("a=1&&b=&a=2&c");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.duplicated(), Some("a"));
        assert_eq!(split_scopes("  openid  openid email "), ["openid", "email"]);
        assert!(is_loopback_uri("http://127.0.0.1:8080/cb"));
        assert!(is_loopback_uri("http://localhost:8080"));
        assert!(is_loopback_uri("http://localhost?x"));
        assert!(!is_loopback_uri("http://127.0.0.1:0/cb"));
        assert!(!is_loopback_uri("http://127.0.0.1:8080@x.y/"));
        assert!(!is_loopback_uri("http://127.0.0.10/"));
        assert!(!is_loopback_uri("http://localhost:80a/"));
        assert_eq!(
            parse_basic("YXBwOnMzY3JldA=="),
            Some(("app".to_owned(), "s3cret".to_owned()))
        );
        assert_eq!(
            parse_basic(&STANDARD.encode("a%3Ab:p%2Bq")),
            Some(("a:b".to_owned(), "p+q".to_owned()))
        );
        assert_eq!(parse_basic("***"), None);
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer"), None);
        assert_eq!(
            minify_json("{ \"a b\" : [1, \"x\\\" y\"] }"),
            "{\"a b\":[1,\"x\\\" y\"]}"
        );
    }
}
