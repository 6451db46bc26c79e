//! Bringing the mirror up to date with bexio: listings, `updated_at` searches, per-invoice reads.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bexio::client::{Answer, Client, ClientError, Paging};
use bexio_bi_cache::{
    CacheError, Change, Incoming, Key, Mirror, RunState, StreamState, key_of, key_of_bytes,
};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::streams::{
    ADDRESSES, ADDRESSES_TTL, DETAILS, Freshness, INVOICES, PAYMENTS, RATES, STREAMS, Stream,
};
use crate::{Options, Progress, Skipped, SyncError};

/// What the sync needs of a record to mirror it.
pub(crate) struct Head<'a> {
    pub key: Key,
    /// The id as a number, where it is one (ordered listings).
    pub num: Option<u64>,
    /// `updated_at`, where the record has one.
    pub version: Option<String>,
    pub raw: &'a RawValue,
}

#[derive(Deserialize)]
struct Fields {
    #[serde(default)]
    id: serde_json::Value,
    #[serde(default)]
    updated_at: serde_json::Value,
}

/// The records of a list body (an array or a 4.0 envelope), each with its key and version.
pub(crate) fn heads<'a>(body: &'a [u8], path: &str) -> Result<Vec<Head<'a>>, SyncError> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        data: Vec<&'a RawValue>,
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let shape = |what: &str| {
        SyncError::Client(ClientError::Rejected {
            path: path.to_owned(),
            status: 200,
            message: format!("the answer is not {what}"),
        })
    };
    let raws: Vec<&RawValue> = match first {
        Some(b'[') => serde_json::from_slice(body).map_err(|_| shape("a list of records"))?,
        Some(b'{') => {
            serde_json::from_slice::<Envelope<'_>>(body)
                .map_err(|_| shape("a 4.0 page"))?
                .data
        }
        _ => return Err(shape("a list of records")),
    };
    Ok(raws
        .into_iter()
        .map(|raw| {
            let fields: Option<Fields> = serde_json::from_str(raw.get()).ok();
            let (key, num, version) = match fields {
                Some(f) => {
                    let key = key_of(&f.id);
                    let num = match &f.id {
                        serde_json::Value::Number(n) => n.as_u64(),
                        serde_json::Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    let version = match f.updated_at {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s),
                        other => Some(other.to_string()),
                    };
                    (key, num, version)
                }
                None => (None, None, None),
            };
            Head {
                key: key.unwrap_or_else(|| key_of_bytes(raw.get().as_bytes())),
                num,
                version,
                raw,
            }
        })
        .collect())
}

/// bexio's naive Zurich time minus `seconds` (for the overlap of `updated_at` searches).
fn earlier(stamp: &str, seconds: u64) -> Option<String> {
    let t = NaiveDateTime::parse_from_str(stamp.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    let t = t - chrono::Duration::seconds(i64::try_from(seconds).ok()?);
    Some(t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// Whether an invoice record says a payment was received (read as text, never as a float).
fn paid(raw: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct P {
        #[serde(default)]
        total_received_payments: serde_json::Value,
    }
    let Ok(p) = serde_json::from_slice::<P>(raw) else {
        return false;
    };
    let text = match p.total_received_payments {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return false,
    };
    text.chars().any(|c| c.is_ascii_digit() && c != '0')
}

pub(crate) struct Fetcher<'a> {
    pub tenant: &'a str,
    pub client: &'a Client,
    pub mirror: &'a Arc<Mirror>,
    pub progress: &'a dyn Progress,
    pub options: &'a Options,
    pub run: RunState,
    pub now: u64,
    pub skipped: Vec<Skipped>,
    pub vanished: u64,
    /// Streams not read because their copy was fresh enough.
    pub cached: Vec<String>,
    /// Streams (and per-invoice steps) an interrupted run had already done.
    pub resumed: Vec<String>,
}

impl Fetcher<'_> {
    fn done(&self, step: &str) -> bool {
        self.run.done.contains(step)
    }

    fn mark(&mut self, step: &str) -> Result<(), SyncError> {
        self.mirror.mark_done(step)?;
        self.run.done.insert(step.to_owned());
        Ok(())
    }

    /// Brings every stream, then the invoices' positions and payments and the contacts'
    /// additional addresses, up to date.
    pub async fn all(&mut self) -> Result<(), SyncError> {
        for s in STREAMS {
            self.stream(s).await?;
        }
        self.rates().await?;
        self.details().await?;
        self.payments().await?;
        self.addresses().await
    }

    /// bexio's exchange rates for documents in other currencies dated before the journal's
    /// first booking in that currency (the journal's bookings carry the rates of later days):
    /// one request per currency and month, kept for good (past rates do not change).
    async fn rates(&mut self) -> Result<(), SyncError> {
        if self.done(RATES) {
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Dated {
            #[serde(default)]
            currency_id: serde_json::Value,
            #[serde(default)]
            date: Option<String>,
            #[serde(default)]
            is_valid_from: Option<String>,
        }
        let day = |s: &Option<String>| {
            s.as_deref()
                .and_then(|s| s.get(..10))
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        let currency = |v: &serde_json::Value| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        };
        let mut codes: BTreeMap<u64, String> = BTreeMap::new();
        for item in self.mirror.records("currencies")? {
            let (k, body) = item?;
            #[derive(Deserialize)]
            struct C {
                name: String,
            }
            if let (Ok(id), Ok(c)) = (
                bexio_bi_cache::id_of_key(&k).parse::<u64>(),
                serde_json::from_slice::<C>(&body),
            ) && c.name != "CHF"
            {
                codes.insert(id, c.name);
            }
        }
        let mut booked: BTreeMap<u64, chrono::NaiveDate> = BTreeMap::new();
        for item in self.mirror.records("accounting/journal")? {
            let (_, body) = item?;
            if let Ok(d) = serde_json::from_slice::<Dated>(&body)
                && let (Some(c), Some(day)) = (currency(&d.currency_id), day(&d.date))
            {
                let e = booked.entry(c).or_insert(day);
                *e = (*e).min(day);
            }
        }
        // Months (their first document's day) that the journal cannot price.
        let mut wanted: BTreeMap<(u64, String), chrono::NaiveDate> = BTreeMap::new();
        for stream in ["kb_offer", "kb_order", INVOICES] {
            for item in self.mirror.records(stream)? {
                let (_, body) = item?;
                let Ok(d) = serde_json::from_slice::<Dated>(&body) else {
                    continue;
                };
                let (Some(c), Some(on)) = (currency(&d.currency_id), day(&d.is_valid_from)) else {
                    continue;
                };
                if !codes.contains_key(&c) || booked.get(&c).is_some_and(|b| *b <= on) {
                    continue;
                }
                let month = on.format("%Y-%m").to_string();
                let e = wanted.entry((c, month)).or_insert(on);
                *e = (*e).min(on);
            }
        }
        for ((c, _), on) in wanted {
            let key = format!("{}:{on}", codes[&c]);
            if self.mirror.get(RATES, &key)?.is_some() {
                continue;
            }
            let answer = self
                .client
                .get(&format!("/3.0/currencies/{c}/exchange_rates?date={on}"))
                .await;
            match answer {
                Ok(a) => {
                    let rec = Incoming {
                        key: &key,
                        version: None,
                        body: &a.body,
                    };
                    self.mirror.put_page(RATES, &[rec], false, true)?;
                }
                // Without the scope or the route, documents stay without a CHF amount.
                Err(ClientError::Forbidden { .. } | ClientError::NotFound { .. }) => break,
                Err(e) => return Err(e.into()),
            }
        }
        self.mark(RATES)
    }

    async fn stream(&mut self, s: &Stream) -> Result<(), SyncError> {
        if self.done(s.key) {
            self.resumed.push(s.key.to_owned());
            return Ok(());
        }
        let state = self.mirror.stream_state(s.key)?;
        let ttl = self
            .options
            .ttl
            .get(s.key)
            .copied()
            .or(match s.freshness {
                Freshness::Ttl(t) => Some(t),
                Freshness::UpdatedAt { .. } => None,
            })
            .unwrap_or(0);
        if let Some(st) = &state
            && !self.run.full
            && ttl > 0
            && self.now.saturating_sub(st.fetched_unix) < ttl
        {
            self.cached.push(s.key.to_owned());
            return self.mark(s.key);
        }
        self.progress.start(self.tenant, s.name, None);
        let started = std::time::Instant::now();
        let result = self.read_stream(s, state).await;
        tracing::info!(
            tenant = self.tenant,
            stream = s.key,
            seconds = started.elapsed().as_secs_f64(),
            records = self.mirror.len(s.key).unwrap_or(0),
            "stream read"
        );
        self.progress.finish(self.tenant, s.name);
        match result {
            Ok(()) => Ok(()),
            Err(SyncError::Client(ClientError::Forbidden { message, .. })) => {
                tracing::warn!(tenant = self.tenant, stream = s.name, %message, "skipped: the token lacks the scope");
                self.skipped.push(Skipped {
                    stream: s.name.to_owned(),
                    reason: message,
                });
                self.mark(&format!("skipped:{}", s.key))?;
                self.mark(s.key)
            }
            Err(e) => Err(e),
        }
    }

    async fn read_stream(
        &mut self,
        s: &Stream,
        state: Option<StreamState>,
    ) -> Result<(), SyncError> {
        let mut requests = 0u64;
        let mut newest: Option<String> = state.as_ref().and_then(|st| st.cursor.clone());
        // 1. What changed since the last run, by bexio's own clock (with an overlap window, as
        //    clocks and transactions in flight are not exact).
        if let (Freshness::UpdatedAt { search }, Some(cursor), false) =
            (s.freshness, newest.clone(), self.run.full)
        {
            let since = earlier(&cursor, self.options.overlap_seconds).unwrap_or(cursor);
            let body =
                serde_json::json!([{"field": "updated_at", "value": since, "criteria": ">="}]);
            let (n, _) = self
                .walk(s, search, Some(&body), false, &mut newest)
                .await?;
            requests += n;
        }
        // 2. The whole list: records new or changed (a safety net for the search) are written,
        //    and every id is marked seen; ids not seen are deletions.
        self.mirror.start_listing(s.key)?;
        let (n, consistent) = self.walk(s, s.path, None, true, &mut newest).await?;
        requests += n;
        if !consistent {
            tracing::warn!(
                tenant = self.tenant,
                stream = s.name,
                "records moved while the list was read; deletions are checked again next time"
            );
        }
        let cascade: &[&str] = if s.key == INVOICES {
            &[DETAILS, PAYMENTS]
        } else {
            &[]
        };
        let state = StreamState {
            fetched_unix: self.now,
            cursor: newest,
            requests,
        };
        self.mirror
            .finish_listing(s.key, consistent, cascade, &state, self.now)?;
        self.run.done.insert(s.key.to_owned());
        Ok(())
    }

    /// Reads every page of a list or search into the mirror. Returns the requests made and
    /// whether the listing is known to be consistent (no record can have been skipped).
    async fn walk(
        &mut self,
        s: &Stream,
        path: &str,
        search: Option<&serde_json::Value>,
        listing: bool,
        newest: &mut Option<String>,
    ) -> Result<(u64, bool), SyncError> {
        let limit: u64 = if s.paging == Paging::Page { 500 } else { 2000 };
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut requests = 0u64;
        let mut store_page = |this: &mut Self, body: &[u8], last: Option<u64>| {
            let heads = heads(body, path)?;
            let fresh: Vec<&Head<'_>> = heads
                .iter()
                .filter(|h| match (last, h.num) {
                    (Some(l), Some(n)) => n > l,
                    _ => true,
                })
                .collect();
            let incoming: Vec<Incoming<'_>> = fresh
                .iter()
                .map(|h| Incoming {
                    key: &h.key,
                    version: h.version.as_deref(),
                    body: h.raw.get().as_bytes(),
                })
                .collect();
            this.mirror.put_page(s.key, &incoming, listing, false)?;
            for h in &fresh {
                if let Some(v) = &h.version
                    && newest.as_deref().is_none_or(|n| v.as_str() > n)
                {
                    *newest = Some(v.clone());
                }
            }
            this.progress
                .advance(this.tenant, s.name, fresh.len() as u64);
            // The page's size and its highest numeric id.
            Ok::<_, SyncError>((heads.len() as u64, heads.iter().filter_map(|h| h.num).max()))
        };
        if s.by_id {
            // Ordered by id, each page overlapping the last by one record: if the first record
            // of a page is not the last of the previous one, records before it vanished while
            // we read, and the page slid past some: step back and read again (ids already
            // stored are skipped).
            let mut offset = 0u64;
            let mut last: Option<u64> = None;
            let mut backsteps = 0u32;
            loop {
                let url = format!("{path}{sep}order_by=id&limit={limit}&offset={offset}");
                let answer = self.send(&url, search).await?;
                requests += 1;
                let peek = heads(&answer.body, path)?;
                let first = peek.first().and_then(|h| h.num);
                if let (Some(l), Some(f)) = (last, first)
                    && f > l
                    && offset > 0
                    && backsteps < 64
                {
                    backsteps += 1;
                    offset = offset.saturating_sub(limit / 2);
                    continue;
                }
                drop(peek);
                let (n, max) = store_page(self, &answer.body, last)?;
                if n < limit {
                    return Ok((requests, true));
                }
                last = max.max(last);
                offset += n - 1;
            }
        }
        // Without an order: pages as they come; the listing is consistent when it holds as
        // many records as bexio counts (3.0 `x-total-count`, 4.0 `paging.item_count`).
        let mut records = 0u64;
        let mut total: Option<u64> = None;
        let mut failed = None;
        let client = self.client;
        let pages = {
            let this = &mut *self;
            client
                .pages(s.paging, path, limit as u32, |answer: &Answer| {
                    requests += 1;
                    match store_page(this, &answer.body, None) {
                        Ok((n, _)) => records += n,
                        Err(e) => {
                            failed = Some(e);
                            return false;
                        }
                    }
                    total = answer.total_count.or_else(|| {
                        serde_json::from_slice::<serde_json::Value>(&answer.body)
                            .ok()
                            .and_then(|v| v["paging"]["item_count"].as_u64())
                    });
                    true
                })
                .await
        };
        if let Some(e) = failed {
            return Err(e);
        }
        pages?;
        Ok((requests, total.is_none_or(|t| t == records)))
    }

    async fn send(
        &self,
        url: &str,
        search: Option<&serde_json::Value>,
    ) -> Result<Answer, ClientError> {
        match search {
            Some(body) => self.client.post(url, body).await,
            None => self.client.get(url).await,
        }
    }

    /// The invoices that changed in this run (created or updated).
    fn changed_invoices(&self) -> Result<BTreeSet<Key>, SyncError> {
        let mut changes = self.mirror.changes()?;
        let per = changes.remove(INVOICES).unwrap_or_default();
        Ok(per
            .into_iter()
            .filter(|(c, _)| *c != Change::Deleted)
            .flat_map(|(_, keys)| keys)
            .collect())
    }

    /// Positions: read for new and changed invoices (every invoice on a full run or the first).
    async fn details(&mut self) -> Result<(), SyncError> {
        if self.done(DETAILS) || self.done(&format!("skipped:{INVOICES}")) {
            return Ok(());
        }
        if !self.done("plan:details") {
            let have: BTreeSet<Key> = self.mirror.stored_keys(DETAILS)?.into_iter().collect();
            let changed = self.changed_invoices()?;
            let todo: Vec<Key> = self
                .mirror
                .stored_keys(INVOICES)?
                .into_iter()
                .filter(|k| self.run.full || !have.contains(k) || changed.contains(k))
                .collect();
            self.mirror.plan("details", &todo, &[])?;
            self.run.done.insert("plan:details".into());
        }
        let todo = self.mirror.todo("details")?;
        self.per_id("invoice lines", DETAILS, "details", &todo, |id| {
            format!("/2.0/kb_invoice/{id}")
        })
        .await?;
        self.mark(DETAILS)
    }

    /// Payments: read for changed invoices that received some (every paid invoice on a full
    /// run); a changed invoice without payments loses the ones stored.
    async fn payments(&mut self) -> Result<(), SyncError> {
        if self.done(PAYMENTS) || self.done(&format!("skipped:{INVOICES}")) {
            return Ok(());
        }
        if !self.done("plan:payments") {
            let have: BTreeSet<Key> = self.mirror.stored_keys(PAYMENTS)?.into_iter().collect();
            let changed = self.changed_invoices()?;
            let mut todo = Vec::new();
            let mut drop = Vec::new();
            for item in self.mirror.records(INVOICES)? {
                let (k, body) = item?;
                let is_paid = paid(&body);
                let stale = self.run.full || changed.contains(&k);
                if is_paid && (stale || !have.contains(&k)) {
                    todo.push(k);
                } else if !is_paid && have.contains(&k) {
                    drop.push(k);
                }
            }
            self.mirror.plan("payments", &todo, &[(PAYMENTS, drop)])?;
            self.run.done.insert("plan:payments".into());
        }
        let todo = self.mirror.todo("payments")?;
        self.per_id("payments", PAYMENTS, "payments", &todo, |id| {
            format!("/2.0/kb_invoice/{id}/payment")
        })
        .await?;
        self.mark(PAYMENTS)
    }

    /// Additional addresses: bexio lists them only per contact, one request each. They are read
    /// for contacts new or changed in this run (an address created with its contact), and for
    /// every contact, archived ones included, when the copy is older than [`ADDRESSES_TTL`] or
    /// the run is full. Contacts gone from bexio lose theirs.
    async fn addresses(&mut self) -> Result<(), SyncError> {
        if self.done(ADDRESSES) || self.done("skipped:contact") {
            return Ok(());
        }
        // Noted in the run, so that a resumed run knows its plan was a complete read.
        let refresh = format!("refresh:{ADDRESSES}");
        if !self.done("plan:addresses") {
            let ttl = self
                .options
                .ttl
                .get(ADDRESSES)
                .copied()
                .unwrap_or(ADDRESSES_TTL);
            let stale = self
                .mirror
                .stream_state(ADDRESSES)?
                .is_none_or(|st| self.now.saturating_sub(st.fetched_unix) >= ttl);
            if self.run.full || stale {
                self.mark(&refresh)?;
            }
            let all = self.done(&refresh);
            let have: BTreeSet<Key> = self.mirror.stored_keys(ADDRESSES)?.into_iter().collect();
            let mut changes = self.mirror.changes()?;
            let changed: BTreeSet<Key> = ["contact", "contact_archived"]
                .into_iter()
                .flat_map(|s| changes.remove(s).unwrap_or_default())
                .filter(|(c, _)| *c != Change::Deleted)
                .flat_map(|(_, keys)| keys)
                .collect();
            let mut contacts: BTreeSet<Key> =
                self.mirror.stored_keys("contact")?.into_iter().collect();
            contacts.extend(self.mirror.stored_keys("contact_archived")?);
            let todo: Vec<Key> = contacts
                .iter()
                .filter(|k| all || !have.contains(*k) || changed.contains(*k))
                .cloned()
                .collect();
            let drop: Vec<Key> = have.difference(&contacts).cloned().collect();
            self.mirror.plan("addresses", &todo, &[(ADDRESSES, drop)])?;
            self.run.done.insert("plan:addresses".into());
        }
        let todo = self.mirror.todo("addresses")?;
        self.per_id("contact addresses", ADDRESSES, "addresses", &todo, |id| {
            format!("/2.0/contact/{id}/additional_address?limit=2000")
        })
        .await?;
        if !self.done(&refresh) {
            return self.mark(ADDRESSES);
        }
        // A complete read: its time starts the time-to-live (saved with the step done).
        let state = StreamState {
            fetched_unix: self.now,
            cursor: None,
            requests: self.mirror.len(ADDRESSES)?,
        };
        self.mirror
            .finish_listing(ADDRESSES, false, &[], &state, self.now)?;
        self.run.done.insert(ADDRESSES.to_owned());
        Ok(())
    }

    /// One request per key, `concurrency` in flight (a sliding window: a slow answer never
    /// holds the others back). Answers go to a writer thread that stores them in durable
    /// transactions, each ticking its keys off the plan, batching whatever arrived while the
    /// last one was written: the requests never wait for the disk, and a run killed here
    /// resumes with the keys still to do. 404s (deleted meanwhile) are counted and skipped.
    async fn per_id(
        &mut self,
        name: &str,
        stream: &str,
        plan: &str,
        keys: &[Key],
        path: impl Fn(&str) -> String,
    ) -> Result<(), SyncError> {
        self.progress
            .start(self.tenant, name, Some(keys.len() as u64));
        // Bounded: if the disk falls behind, the requests wait (memory stays flat).
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(Key, Option<Vec<u8>>)>(1024);
        let writer = {
            let mirror = Arc::clone(self.mirror);
            let (stream, plan) = (stream.to_owned(), plan.to_owned());
            tokio::task::spawn_blocking(move || -> Result<(), CacheError> {
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    while batch.len() < 512 {
                        match rx.try_recv() {
                            Ok(more) => batch.push(more),
                            Err(_) => break,
                        }
                    }
                    mirror.put_results(&stream, &plan, &batch, true)?;
                }
                Ok(())
            })
        };
        let mut set = tokio::task::JoinSet::new();
        let mut next = keys.iter();
        let spawn = |set: &mut tokio::task::JoinSet<(Key, Result<Answer, ClientError>)>,
                     key: &Key| {
            let client = self.client.clone();
            let p = path(bexio_bi_cache::id_of_key(key));
            let key = key.clone();
            set.spawn(async move { (key, client.get(&p).await) });
        };
        for k in next.by_ref().take(self.options.concurrency.max(1)) {
            spawn(&mut set, k);
        }
        let mut failure = None;
        while let Some(done) = set.join_next().await {
            let (key, answer) = match done {
                Ok(x) => x,
                Err(e) => {
                    failure = Some(SyncError::Task(e.to_string()));
                    break;
                }
            };
            let stored = match answer {
                Ok(a) => (key, Some(a.body)),
                Err(ClientError::NotFound { .. }) => {
                    self.vanished += 1;
                    (key, None)
                }
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            };
            if tx.send(stored).await.is_err() {
                // The writer stopped: its error is reported below.
                break;
            }
            if let Some(k) = next.next() {
                spawn(&mut set, k);
            }
            self.progress.advance(self.tenant, name, 1);
        }
        // What arrived is kept even when the step failed: the next run resumes after it.
        drop(tx);
        let written = writer.await.map_err(|e| SyncError::Task(e.to_string()))?;
        self.progress.finish(self.tenant, name);
        tracing::info!(
            tenant = self.tenant,
            stream,
            requests = keys.len(),
            "per-record reads done"
        );
        written?;
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Requests a full read of everything in the mirror would take (for "calls saved").
pub(crate) fn full_read_requests(mirror: &Mirror) -> Result<u64, SyncError> {
    let mut total = 0u64;
    for s in STREAMS {
        let limit = if s.paging == Paging::Page { 500 } else { 2000 };
        // One request per page; a list is at least one page.
        total += mirror.len(s.key)? / limit + 1;
    }
    total += mirror.len(INVOICES)?;
    total += mirror.len(PAYMENTS)?;
    total += mirror.len(ADDRESSES)?;
    Ok(total)
}

/// Change lists of the run, by stream, with bexio's ids.
pub(crate) fn change_lists(mirror: &Mirror) -> Result<BTreeMap<String, crate::Changes>, SyncError> {
    let mut out = BTreeMap::new();
    for (stream, per) in mirror.changes()? {
        let ids = |c: Change| -> Vec<String> {
            per.get(&c)
                .map(|keys| {
                    keys.iter()
                        .map(|k| bexio_bi_cache::id_of_key(k).to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        out.insert(
            stream,
            crate::Changes {
                created: ids(Change::Created),
                updated: ids(Change::Updated),
                deleted: ids(Change::Deleted),
            },
        );
    }
    Ok(out)
}
