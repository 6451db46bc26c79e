//! Reading fields of a bexio record leniently but never loosely: the type drift seen in real
//! answers is accepted (`"pos":"1"` for a number, money as a string or a number), anything else
//! is a [`FieldError`] that names the field and what was found.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::Zurich;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// A field that cannot be read as what the schema needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: expected {expected}, found {found}")]
pub struct FieldError {
    /// Field name.
    pub field: String,
    /// What was expected.
    pub expected: &'static str,
    /// What was there (shortened).
    pub found: String,
}

fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(57).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// One JSON object from bexio.
#[derive(Clone, Copy)]
pub struct Rec<'a>(pub &'a Map<String, Value>);

impl<'a> Rec<'a> {
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    fn err(&self, field: &str, expected: &'static str) -> FieldError {
        FieldError {
            field: field.to_owned(),
            expected,
            found: self.0.get(field).map_or_else(|| "nothing".into(), shown),
        }
    }

    /// A nested object.
    pub fn obj(&self, field: &str) -> Option<Rec<'a>> {
        self.get(field).and_then(Value::as_object).map(Rec)
    }

    /// The elements of an array field (none when absent or null).
    pub fn array(&self, field: &str) -> Result<&'a [Value], FieldError> {
        match self.get(field) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(self.err(field, "an array")),
        }
    }

    /// Optional text; numbers are accepted and written out.
    pub fn text(&self, field: &str) -> Result<Option<String>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self.err(field, "text")),
        }
    }

    /// Optional text where bexio's empty string means "none".
    pub fn text_nonempty(&self, field: &str) -> Result<Option<String>, FieldError> {
        Ok(self.text(field)?.filter(|s| !s.trim().is_empty()))
    }

    /// Required text.
    pub fn req_text(&self, field: &str) -> Result<String, FieldError> {
        self.text(field)?.ok_or_else(|| self.err(field, "text"))
    }

    /// Optional integer; numeric strings (`"1"`) are accepted, as bexio sends some.
    pub fn int(&self, field: &str) -> Result<Option<i64>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.err(field, "a whole number")),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.err(field, "a whole number")),
            Some(_) => Err(self.err(field, "a whole number")),
        }
    }

    /// Required integer.
    pub fn req_int(&self, field: &str) -> Result<i64, FieldError> {
        self.int(field)?
            .ok_or_else(|| self.err(field, "a whole number"))
    }

    /// Optional exact decimal from a string or a number.
    pub fn dec(&self, field: &str) -> Result<Option<Decimal>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.err(field, "a decimal")),
            Some(Value::Number(n)) => {
                let s = n.to_string();
                s.parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(&s))
                    .map(Some)
                    .map_err(|_| self.err(field, "a decimal"))
            }
            Some(_) => Err(self.err(field, "a decimal")),
        }
    }

    /// Required exact decimal.
    pub fn req_dec(&self, field: &str) -> Result<Decimal, FieldError> {
        self.dec(field)?.ok_or_else(|| self.err(field, "a decimal"))
    }

    /// Optional boolean; `0`/`1` and `"true"`/`"false"` are accepted.
    pub fn bool(&self, field: &str) -> Result<Option<bool>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::String(s)) if matches!(s.as_str(), "true" | "1") => Ok(Some(true)),
            Some(Value::String(s)) if matches!(s.as_str(), "false" | "0") => Ok(Some(false)),
            Some(_) => Err(self.err(field, "true or false")),
        }
    }

    /// Optional calendar day (`YYYY-MM-DD`, or the date part of a timestamp).
    pub fn date(&self, field: &str) -> Result<Option<NaiveDate>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => {
                let day = s.get(..10).unwrap_or(s);
                NaiveDate::parse_from_str(day, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| self.err(field, "a date YYYY-MM-DD"))
            }
            Some(_) => Err(self.err(field, "a date YYYY-MM-DD")),
        }
    }

    /// Required calendar day.
    pub fn req_date(&self, field: &str) -> Result<NaiveDate, FieldError> {
        self.date(field)?
            .ok_or_else(|| self.err(field, "a date YYYY-MM-DD"))
    }

    /// Optional moment as microseconds since the epoch (UTC). Reads bexio 2.0's naive
    /// `YYYY-MM-DD HH:MM:SS` as Europe/Zurich time, and 3.0/4.0's ISO 8601 forms.
    pub fn micros(&self, field: &str) -> Result<Option<i64>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_moment(s)
                .map(|t| Some(t * 1_000_000))
                .ok_or_else(|| self.err(field, "a timestamp")),
            Some(_) => Err(self.err(field, "a timestamp")),
        }
    }
}

/// Seconds since the epoch of any of bexio's timestamp forms.
pub fn parse_moment(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        // A time that does not exist (spring forward) is read as the moment after the gap;
        // one that exists twice (fall back) as its first occurrence.
        return Zurich
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                Zurich
                    .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.timestamp());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z") {
        return Some(t.timestamp());
    }
    // 4.0 bill details: no offset; bexio means UTC there.
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|n| n.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).expect("object")
    }

    #[test]
    fn reads_every_generation_s_encodings() {
        let m = rec(
            r#"{"a":"19.150000","b":328.25,"c":"1","d":null,"e":"2026-06-18 14:49:05","f":"2026-06-18T14:49:05+02:00","g":"2026-06-18T12:49:05+0000","h":""}"#,
        );
        let r = Rec(&m);
        assert_eq!(r.dec("a").unwrap(), Some("19.15".parse().unwrap()));
        assert_eq!(r.dec("b").unwrap(), Some("328.25".parse().unwrap()));
        assert_eq!(r.int("c").unwrap(), Some(1));
        assert_eq!(r.int("d").unwrap(), None);
        let t = r.micros("e").unwrap();
        assert_eq!(t, r.micros("f").unwrap());
        assert_eq!(t, r.micros("g").unwrap());
        assert_eq!(t, Some(1_781_786_945_000_000));
        assert_eq!(r.text_nonempty("h").unwrap(), None);
    }

    #[test]
    fn names_the_field_when_it_cannot() {
        let m = rec(r#"{"total":"abc","id":{"x":1}}"#);
        let e = Rec(&m).dec("total").unwrap_err();
        assert_eq!(e.field, "total");
        assert!(e.to_string().contains("\"abc\""), "{e}");
        assert!(Rec(&m).req_int("id").is_err());
        assert!(
            Rec(&m)
                .req_text("missing")
                .unwrap_err()
                .to_string()
                .contains("nothing")
        );
    }
}
