//! Reading fields of a bexio record leniently but never loosely: the type drift seen in real
//! answers is accepted (`"pos":"1"` for a number, money as a string or a number), anything else
//! is a [`FieldError`] that names the field and what was found.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::Zurich;
use rust_decimal::Decimal;

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

fn shown(raw: &str) -> String {
    if raw.len() > 60 {
        format!(
            "{}…",
            &raw[..raw.char_indices().nth(57).map_or(raw.len(), |(i, _)| i)]
        )
    } else {
        raw.to_owned()
    }
}

/// A JSON value as bexio wrote it, not parsed yet.
pub type Raw = serde_json::value::RawValue;

/// One JSON object from bexio, its fields still unparsed: a field is read only when a mapping
/// asks for it, and strings without escapes are never copied.
pub struct Rec<'a> {
    fields: Vec<(&'a str, &'a Raw)>,
}

/// The parts of a value: a JSON string's text (unescaped), or the literal of a number, boolean
/// or other value.
enum Scalar<'a> {
    Str(std::borrow::Cow<'a, str>),
    Lit(&'a str),
}

impl<'a> Rec<'a> {
    /// Reads the top level of an object (its values stay raw).
    pub fn parse(raw: &'a Raw) -> Result<Rec<'a>, FieldError> {
        let fields: Vec<(&'a str, &'a Raw)> = serde_json::from_str::<BorrowedObject<'a>>(raw.get())
            .map(|o| o.0)
            .map_err(|e| FieldError {
                field: "*".into(),
                expected: "a JSON object",
                found: format!("{} ({e})", shown(raw.get())),
            })?;
        Ok(Rec { fields })
    }

    fn raw(&self, field: &str) -> Option<&'a Raw> {
        self.fields
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| *v)
            .filter(|v| v.get() != "null")
    }

    fn err(&self, field: &str, expected: &'static str) -> FieldError {
        let found = self
            .fields
            .iter()
            .find(|(k, _)| *k == field)
            .map_or_else(|| "nothing".into(), |(_, v)| shown(v.get()));
        FieldError {
            field: field.to_owned(),
            expected,
            found,
        }
    }

    fn scalar(&self, field: &str) -> Result<Option<Scalar<'a>>, FieldError> {
        let Some(raw) = self.raw(field) else {
            return Ok(None);
        };
        let text = raw.get();
        if text.starts_with('"') {
            let s: std::borrow::Cow<'a, str> =
                serde_json::from_str(text).map_err(|_| self.err(field, "a string"))?;
            Ok(Some(Scalar::Str(s)))
        } else {
            Ok(Some(Scalar::Lit(text)))
        }
    }

    /// A nested object.
    pub fn obj(&self, field: &str) -> Option<Rec<'a>> {
        self.raw(field)
            .filter(|r| r.get().starts_with('{'))
            .and_then(|r| Rec::parse(r).ok())
    }

    /// The elements of an array field (none when absent or null).
    pub fn array(&self, field: &str) -> Result<Vec<&'a Raw>, FieldError> {
        match self.raw(field) {
            None => Ok(Vec::new()),
            Some(r) => serde_json::from_str::<Vec<&'a Raw>>(r.get())
                .map_err(|_| self.err(field, "an array")),
        }
    }

    /// Optional text; numbers are accepted and written out.
    pub fn text(&self, field: &str) -> Result<Option<String>, FieldError> {
        match self.scalar(field)? {
            None => Ok(None),
            Some(Scalar::Str(s)) => Ok(Some(s.into_owned())),
            Some(Scalar::Lit(l)) if l.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
                Ok(Some(l.to_owned()))
            }
            Some(Scalar::Lit(_)) => Err(self.err(field, "text")),
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
        match self.scalar(field)? {
            None => Ok(None),
            Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
            Some(Scalar::Str(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.err(field, "a whole number")),
            Some(Scalar::Lit(l)) => l
                .parse()
                .map(Some)
                .map_err(|_| self.err(field, "a whole number")),
        }
    }

    /// Required integer.
    pub fn req_int(&self, field: &str) -> Result<i64, FieldError> {
        self.int(field)?
            .ok_or_else(|| self.err(field, "a whole number"))
    }

    /// Optional exact decimal from a string or a number (read from its digits, never via a float).
    pub fn dec(&self, field: &str) -> Result<Option<Decimal>, FieldError> {
        let text = match self.scalar(field)? {
            None => return Ok(None),
            Some(Scalar::Str(s)) if s.trim().is_empty() => return Ok(None),
            Some(Scalar::Str(s)) => s.trim().to_owned(),
            Some(Scalar::Lit(l)) => l.to_owned(),
        };
        text.parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Some)
            .map_err(|_| self.err(field, "a decimal"))
    }

    /// Required exact decimal.
    pub fn req_dec(&self, field: &str) -> Result<Decimal, FieldError> {
        self.dec(field)?.ok_or_else(|| self.err(field, "a decimal"))
    }

    /// Optional boolean; `0`/`1` and `"true"`/`"false"` are accepted.
    pub fn bool(&self, field: &str) -> Result<Option<bool>, FieldError> {
        match self.scalar(field)? {
            None => Ok(None),
            Some(Scalar::Lit("true" | "1")) => Ok(Some(true)),
            Some(Scalar::Lit("false" | "0")) => Ok(Some(false)),
            Some(Scalar::Str(s)) if matches!(s.as_ref(), "true" | "1") => Ok(Some(true)),
            Some(Scalar::Str(s)) if matches!(s.as_ref(), "false" | "0") => Ok(Some(false)),
            Some(_) => Err(self.err(field, "true or false")),
        }
    }

    /// Optional calendar day (`YYYY-MM-DD`, or the date part of a timestamp).
    pub fn date(&self, field: &str) -> Result<Option<NaiveDate>, FieldError> {
        match self.scalar(field)? {
            None => Ok(None),
            Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
            Some(Scalar::Str(s)) => {
                let day = s.get(..10).unwrap_or(&s);
                NaiveDate::parse_from_str(day, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| self.err(field, "a date YYYY-MM-DD"))
            }
            Some(Scalar::Lit(_)) => Err(self.err(field, "a date YYYY-MM-DD")),
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
        match self.scalar(field)? {
            None => Ok(None),
            Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
            Some(Scalar::Str(s)) => parse_moment(&s)
                .map(|t| Some(t * 1_000_000))
                .ok_or_else(|| self.err(field, "a timestamp")),
            Some(Scalar::Lit(_)) => Err(self.err(field, "a timestamp")),
        }
    }

    /// The `id` as text, for rejects.
    pub fn id_text(&self) -> Option<String> {
        self.raw("id").map(|r| r.get().trim_matches('"').to_owned())
    }
}

/// The top level of an object, its values borrowed unparsed, in order.
struct BorrowedObject<'a>(Vec<(&'a str, &'a Raw)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for BorrowedObject<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = BorrowedObject<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                let mut fields = Vec::with_capacity(m.size_hint().unwrap_or(48));
                while let Some((k, v)) = m.next_entry::<&'de str, &'de Raw>()? {
                    fields.push((k, v));
                }
                Ok(BorrowedObject(fields))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
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

    fn raw(json: &str) -> Box<Raw> {
        Raw::from_string(json.to_owned()).expect("raw")
    }

    #[test]
    fn reads_every_generation_s_encodings() {
        let b = raw(
            r#"{"a":"19.150000","b":328.25,"c":"1","d":null,"e":"2026-06-18 14:49:05","f":"2026-06-18T14:49:05+02:00","g":"2026-06-18T12:49:05+0000","h":"","i":"Z\u00fcrich","j":1e2}"#,
        );
        let r = Rec::parse(&b).unwrap();
        assert_eq!(r.dec("a").unwrap(), Some("19.15".parse().unwrap()));
        assert_eq!(r.dec("b").unwrap(), Some("328.25".parse().unwrap()));
        assert_eq!(r.dec("j").unwrap(), Some("100".parse().unwrap()));
        assert_eq!(r.int("c").unwrap(), Some(1));
        assert_eq!(r.int("d").unwrap(), None);
        let t = r.micros("e").unwrap();
        assert_eq!(t, r.micros("f").unwrap());
        assert_eq!(t, r.micros("g").unwrap());
        assert_eq!(t, Some(1_781_786_945_000_000));
        assert_eq!(r.text_nonempty("h").unwrap(), None);
        assert_eq!(r.text("i").unwrap().as_deref(), Some("Zürich"));
    }

    #[test]
    fn names_the_field_when_it_cannot() {
        let b = raw(r#"{"total":"abc","id":{"x":1}}"#);
        let r = Rec::parse(&b).unwrap();
        let e = r.dec("total").unwrap_err();
        assert_eq!(e.field, "total");
        assert!(e.to_string().contains("\"abc\""), "{e}");
        assert!(r.req_int("id").is_err());
        assert!(
            r.req_text("missing")
                .unwrap_err()
                .to_string()
                .contains("nothing")
        );
        assert!(Rec::parse(&raw("[1,2]")).is_err());
    }
}
