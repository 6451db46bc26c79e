//! Faults on demand: a share of requests fail the way bexio and its gateway fail in the wild.
//!
//! A plan is written as `kind=share[:param]` items separated by commas, for example
//! `429=0.05,5xx=0.02,slow=0.1:1500ms,truncate=0.01,drift=0.2`:
//! - `429`: refused as if over the rate limit;
//! - `5xx`: 500, 502 (an HTML page from the CDN) or 503 (maintenance);
//! - `slow`: the answer waits (default 2 s, or `:<n>ms` / `:<n>s`);
//! - `truncate`: the JSON body is cut short (a consistent `Content-Length`, broken JSON);
//! - `drift`: type drift seen in real answers: `positions[].pos` as a string, and numbers sent
//!   as strings (`"currency_id":"1"`). The values survive, only their JSON types change. (bexio's
//!   real `null`s where the documentation promises a number belong to records, not to answers:
//!   the generated data has them; a fault that blanks values at random per answer would destroy
//!   information no client could recover.)

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How often each fault happens (shares between 0 and 1).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaultPlan {
    /// Share of 429s.
    pub rate_limited: f64,
    /// Share of 5xx.
    pub server_error: f64,
    /// Share of slow answers.
    pub slow: f64,
    /// How slow.
    #[serde(serialize_with = "millis")]
    pub slow_for: Duration,
    /// Share of truncated bodies.
    pub truncate: f64,
    /// Share of answers with type drift.
    pub drift: f64,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// A fault plan that could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "bad fault spec {item:?}: {why} (expected e.g. \"429=0.05,5xx=0.02,slow=0.1:1500ms,truncate=0.01,drift=0.2\")"
)]
pub struct FaultSpecError {
    item: String,
    why: &'static str,
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> Self {
        FaultPlan {
            slow_for: Duration::from_secs(2),
            ..Default::default()
        }
    }

    /// Parses `kind=share[:param],…`; an empty string is no faults.
    pub fn parse(spec: &str) -> Result<FaultPlan, FaultSpecError> {
        let mut plan = FaultPlan::none();
        for item in spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "none")
        {
            let err = |why| FaultSpecError {
                item: item.to_string(),
                why,
            };
            let (kind, rest) = item.split_once('=').ok_or_else(|| err("missing '='"))?;
            let (share, param) = match rest.split_once(':') {
                Some((s, p)) => (s, Some(p)),
                None => (rest, None),
            };
            let share: f64 = share
                .trim()
                .parse()
                .map_err(|_| err("the share must be a number between 0 and 1"))?;
            if !(0.0..=1.0).contains(&share) {
                return Err(err("the share must be between 0 and 1"));
            }
            match kind.trim() {
                "429" => plan.rate_limited = share,
                "5xx" | "500" => plan.server_error = share,
                "slow" => {
                    plan.slow = share;
                    if let Some(p) = param {
                        let p = p.trim();
                        let d = if let Some(ms) = p.strip_suffix("ms") {
                            ms.parse::<u64>().map(Duration::from_millis)
                        } else {
                            p.trim_end_matches('s')
                                .parse::<u64>()
                                .map(Duration::from_secs)
                        };
                        plan.slow_for =
                            d.map_err(|_| err("slow takes a duration like 1500ms or 2s"))?;
                    }
                }
                "truncate" => plan.truncate = share,
                "drift" => plan.drift = share,
                _ => return Err(err("unknown fault kind (429, 5xx, slow, truncate, drift)")),
            }
        }
        Ok(plan)
    }

    /// Whether any fault is on.
    pub fn is_active(&self) -> bool {
        self.rate_limited + self.server_error + self.slow + self.truncate + self.drift > 0.0
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Answer 429 instead.
    pub rate_limited: bool,
    /// Answer this 5xx instead.
    pub server_error: Option<u16>,
    /// Wait first.
    pub delay: Option<Duration>,
    /// Cut the body at this share of its length.
    pub truncate: Option<f64>,
    /// Apply type drift (with this seed).
    pub drift: Option<u64>,
}

/// Draws decisions from a seeded generator, so a run with the same seed fails the same way.
pub struct Dice(ChaCha8Rng);

impl Dice {
    /// Seeded dice.
    pub fn new(seed: u64) -> Self {
        Dice(ChaCha8Rng::seed_from_u64(seed ^ 0xFA17))
    }

    /// Decides the faults of one request.
    pub fn roll(&mut self, plan: &FaultPlan) -> Decision {
        let mut d = Decision::default();
        if !plan.is_active() {
            return d;
        }
        let r = &mut self.0;
        if r.random_bool(plan.rate_limited) {
            d.rate_limited = true;
            return d;
        }
        if r.random_bool(plan.server_error) {
            d.server_error = Some(*[500u16, 502, 503].get(r.random_range(0..3)).unwrap_or(&500));
            return d;
        }
        if r.random_bool(plan.slow) {
            d.delay = Some(plan.slow_for);
        }
        if r.random_bool(plan.truncate) {
            d.truncate = Some(r.random_range(0.05..0.95));
        } else if r.random_bool(plan.drift) {
            d.drift = Some(r.random());
        }
        d
    }
}

/// Applies type drift to a JSON answer: `pos` numbers become strings, and about one numeric field
/// in eight is sent as a string.
pub fn drift(value: &mut serde_json::Value, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    walk(value, &mut rng);
}

fn walk(v: &mut serde_json::Value, rng: &mut ChaCha8Rng) {
    match v {
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, rng)),
        serde_json::Value::Object(map) => {
            for (k, field) in map.iter_mut() {
                if k == "pos"
                    && let serde_json::Value::Number(n) = field
                {
                    *field = serde_json::Value::String(n.to_string());
                    continue;
                }
                if let serde_json::Value::Number(n) = field
                    && k != "id"
                    && rng.random_bool(0.125)
                {
                    *field = serde_json::Value::String(n.to_string());
                    continue;
                }
                walk(field, rng);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_specs() {
        let p =
            FaultPlan::parse("429=0.05, 5xx=0.02,slow=0.1:1500ms,truncate=0.01,drift=0.2").unwrap();
        assert_eq!(p.rate_limited, 0.05);
        assert_eq!(p.slow_for, Duration::from_millis(1500));
        assert!(FaultPlan::parse("").unwrap() == FaultPlan::none());
        assert!(FaultPlan::parse("429=2").is_err());
        assert!(FaultPlan::parse("explode=0.1").is_err());
        assert!(FaultPlan::parse("slow=0.1:soon").is_err());
    }

    #[test]
    fn shares_are_respected() {
        let plan = FaultPlan::parse("5xx=0.25").unwrap();
        let mut dice = Dice::new(1);
        let n = (0..4000)
            .filter(|_| dice.roll(&plan).server_error.is_some())
            .count();
        assert!((800..1200).contains(&n), "{n} of 4000 at 25 %");
    }

    #[test]
    fn drift_turns_pos_into_strings() {
        let mut v =
            serde_json::json!({"id": 1, "positions": [{"id": 2, "pos": 1}, {"id": 3, "pos": 2}]});
        drift(&mut v, 9);
        assert_eq!(v["positions"][0]["pos"], serde_json::json!("1"));
        assert_eq!(v["id"], serde_json::json!(1));
        // Values survive: every number is still there, as a number or as its digits.
        let v = serde_json::json!({"a": 1, "b": 2.5, "c": [{"d": 3}], "e": null});
        for seed in 0..64 {
            let mut d = v.clone();
            drift(&mut d, seed);
            for (k, n) in [("a", "1"), ("b", "2.5")] {
                assert!(d[k].to_string().trim_matches('"') == n, "{k}: {}", d[k]);
            }
            assert!(d["e"].is_null());
        }
    }
}
