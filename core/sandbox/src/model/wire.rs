//! Encodings of bexio's three API generations, as serde helpers.
//!
//! bexio writes the same kind of value differently per generation: v2 money is a JSON string with a
//! fixed number of decimals (`"19.150000"`), v3/v4 money is a JSON number; v2 timestamps are naive
//! Europe/Zurich local time (`"2026-06-18 14:49:05"`), v3 timestamps are ISO 8601 with the Zurich
//! offset (`"2026-06-18T13:57:27+02:00"`) and v4 list stamps are UTC without a colon in the offset
//! (`"2019-03-23T09:53:49+0000"`). Records keep exact values (`Decimal`, [`Stamp`]) and choose the
//! encoding with `#[serde(with = ...)]`, so a value is never rounded through `f64` while stored.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Zurich;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, seconds since the Unix epoch (UTC). Rendered per API generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Stamp(pub i64);

impl Stamp {
    /// The moment as a UTC date-time.
    pub fn utc(self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.0, 0).single().unwrap_or_default()
    }

    /// `YYYY-MM-DD HH:MM:SS` in Europe/Zurich local time, as bexio's 2.0 routes write it.
    pub fn v2(self) -> String {
        self.utc()
            .with_timezone(&Zurich)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// ISO 8601 with the Zurich offset (`+01:00`/`+02:00`), as bexio's 3.0 routes write it.
    pub fn v3(self) -> String {
        self.utc()
            .with_timezone(&Zurich)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// ISO 8601 in UTC with `+0000`, as bexio's 4.0 lists write it.
    pub fn v4(self) -> String {
        self.utc().format("%Y-%m-%dT%H:%M:%S+0000").to_string()
    }

    /// Parses a v2 Zurich local timestamp (`YYYY-MM-DD HH:MM:SS`).
    pub fn parse_v2(s: &str) -> Option<Stamp> {
        let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
        let local = Zurich.from_local_datetime(&naive).earliest()?;
        Some(Stamp(local.timestamp()))
    }

    /// Parses any of the three generations' renderings (and plain RFC 3339).
    pub fn parse_any(s: &str) -> Option<Stamp> {
        if let Some(st) = Stamp::parse_v2(s) {
            return Some(st);
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(Stamp(dt.timestamp()));
        }
        DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
            .ok()
            .map(|dt| Stamp(dt.timestamp()))
    }
}

/// A decimal with exactly `dp` decimals, rounded half away from zero (bexio's rounding).
pub fn fixed(v: &Decimal, dp: u32) -> String {
    let r = v.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{:.*}", dp as usize, r)
}

fn de_error<E: serde::de::Error>(what: &str, got: &str) -> E {
    E::custom(format!("expected {what}, got {got:?}"))
}

macro_rules! stamp_codec {
    ($name:ident, $render:ident, $doc:literal) => {
        #[doc = $doc]
        pub mod $name {
            use super::*;
            /// Serializes the stamp in this generation's form.
            pub fn serialize<S: Serializer>(v: &Stamp, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&v.$render())
            }
            /// Parses the stamp from this generation's form (or any other).
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
                let raw = String::deserialize(d)?;
                Stamp::parse_any(&raw).ok_or_else(|| de_error("a timestamp", &raw))
            }
            /// The same for optional stamps (`null` when absent).
            pub mod opt {
                use super::*;
                /// Serializes an optional stamp.
                pub fn serialize<S: Serializer>(
                    v: &Option<Stamp>,
                    s: S,
                ) -> Result<S::Ok, S::Error> {
                    match v {
                        Some(v) => s.serialize_str(&v.$render()),
                        None => s.serialize_none(),
                    }
                }
                /// Parses an optional stamp.
                pub fn deserialize<'de, D: Deserializer<'de>>(
                    d: D,
                ) -> Result<Option<Stamp>, D::Error> {
                    match Option::<String>::deserialize(d)? {
                        None => Ok(None),
                        Some(raw) => Stamp::parse_any(&raw)
                            .map(Some)
                            .ok_or_else(|| de_error("a timestamp", &raw)),
                    }
                }
            }
        }
    };
}

stamp_codec!(
    ts_v2,
    v2,
    "v2 timestamps: `YYYY-MM-DD HH:MM:SS`, Europe/Zurich."
);
stamp_codec!(ts_v3, v3, "v3 timestamps: ISO 8601 with the Zurich offset.");
stamp_codec!(ts_v4, v4, "v4 timestamps: ISO 8601 UTC with `+0000`.");

/// Parses a decimal from a JSON string or number.
fn decimal_from_value<E: serde::de::Error>(v: serde_json::Value) -> Result<Decimal, E> {
    match v {
        serde_json::Value::String(s) => s
            .trim()
            .parse::<Decimal>()
            .map_err(|_| de_error("a decimal", &s)),
        serde_json::Value::Number(n) => {
            let s = n.to_string();
            s.parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(&s))
                .map_err(|_| de_error("a decimal", &s))
        }
        other => Err(de_error("a decimal", &other.to_string())),
    }
}

macro_rules! decimal_string_codec {
    ($name:ident, $dp:expr, $doc:literal) => {
        #[doc = $doc]
        pub mod $name {
            use super::*;
            /// Serializes as a string with a fixed number of decimals.
            pub fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&fixed(v, $dp))
            }
            /// Parses from a string or a number.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
                decimal_from_value(serde_json::Value::deserialize(d)?)
            }
            /// The same for optional values (`null` when absent).
            pub mod opt {
                use super::*;
                /// Serializes an optional decimal string.
                pub fn serialize<S: Serializer>(
                    v: &Option<Decimal>,
                    s: S,
                ) -> Result<S::Ok, S::Error> {
                    match v {
                        Some(v) => s.serialize_str(&fixed(v, $dp)),
                        None => s.serialize_none(),
                    }
                }
                /// Parses an optional decimal string.
                pub fn deserialize<'de, D: Deserializer<'de>>(
                    d: D,
                ) -> Result<Option<Decimal>, D::Error> {
                    match serde_json::Value::deserialize(d)? {
                        serde_json::Value::Null => Ok(None),
                        v => decimal_from_value(v).map(Some),
                    }
                }
            }
        }
    };
}

decimal_string_codec!(dec6, 6, "v2 money with six decimals (`\"19.150000\"`).");
decimal_string_codec!(
    dec4,
    4,
    "v2 money with four decimals (`\"1.3706\"`, payment values)."
);
decimal_string_codec!(
    dec2,
    2,
    "v2 amounts with two decimals (`\"230.00\"`, tax percentages `\"8.10\"`)."
);

/// v3/v4 money: a JSON number. Whole values are written as integers (`0`), others with their exact
/// decimal digits (`328.25`), as bexio does.
pub mod num {
    use super::*;
    /// Serializes a decimal as a JSON number without going through binary floating point where
    /// the value is whole; fractional values are written with their shortest exact digits.
    pub fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let v = v.normalize();
        if v.scale() == 0
            && let Ok(i) = i64::try_from(v.mantissa())
        {
            return s.serialize_i64(i);
        }
        // `f64` printing is shortest-round-trip, so the digits written are the decimal's own.
        let f: f64 = v.to_string().parse().map_err(serde::ser::Error::custom)?;
        s.serialize_f64(f)
    }
    /// Parses from a number or a numeric string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        decimal_from_value(serde_json::Value::deserialize(d)?)
    }
    /// The same for optional numbers.
    pub mod opt {
        use super::*;
        /// Serializes an optional decimal number.
        pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }
        /// Parses an optional decimal number.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            match serde_json::Value::deserialize(d)? {
                serde_json::Value::Null => Ok(None),
                v => decimal_from_value(v).map(Some),
            }
        }
    }
}

/// A deterministic UUID (v4 layout) from a namespace and a number, so that records keep their
/// `uuid` across runs with the same seed.
pub fn uuid_for(namespace: u64, n: u64) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    let a = splitmix(namespace ^ n.rotate_left(17));
    let b = splitmix(a ^ n);
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// SplitMix64: a tiny, well-mixed hash for deriving stable identifiers.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Serializes a value to a JSON string that bexio would send (`/` escaped as `\/` is not needed:
/// clients accept both, and the real API is inconsistent about it).
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn stamps_render_per_generation() {
        // 2026-06-18 12:49:05 UTC is 14:49:05 in Zurich (summer time).
        let st = Stamp(1_781_786_945);
        assert_eq!(st.v2(), "2026-06-18 14:49:05");
        assert_eq!(st.v3(), "2026-06-18T14:49:05+02:00");
        assert_eq!(st.v4(), "2026-06-18T12:49:05+0000");
        assert_eq!(Stamp::parse_v2("2026-06-18 14:49:05"), Some(st));
        assert_eq!(Stamp::parse_any("2026-06-18T14:49:05+02:00"), Some(st));
        assert_eq!(Stamp::parse_any("2026-06-18T12:49:05+0000"), Some(st));
    }

    #[derive(Serialize, Deserialize)]
    struct Money {
        #[serde(with = "dec6")]
        total: Decimal,
        #[serde(with = "dec4")]
        taxes: Decimal,
        #[serde(with = "num")]
        amount: Decimal,
        #[serde(with = "num")]
        whole: Decimal,
    }

    #[test]
    fn money_is_exact_in_every_encoding() {
        let m = Money {
            total: Decimal::from_str("19.15").unwrap(),
            taxes: Decimal::from_str("1.37056").unwrap(),
            amount: Decimal::from_str("328.25").unwrap(),
            whole: Decimal::from_str("100.00").unwrap(),
        };
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"total":"19.150000","taxes":"1.3706","amount":328.25,"whole":100}"#
        );
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back.amount, Decimal::from_str("328.25").unwrap());
        assert_eq!(back.total, Decimal::from_str("19.15").unwrap());
    }
}
