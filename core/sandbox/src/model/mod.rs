//! bexio's records as the API sends them, and the tables that hold them.
//!
//! Each record type serializes to exactly the keys and JSON types of the real API (see
//! `wire` for the per-generation encodings); the sandbox stores these records directly, so what a
//! client reads is what the generator wrote. The [`Record`] trait gives the HTTP layer what it needs
//! for `order_by` and search without knowing any record type.

pub mod accounting;
pub mod contacts;
pub mod projects;
pub mod purchase;
pub mod sales;
pub mod system;
pub mod wire;

use std::borrow::Cow;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

/// A field value as search criteria and `order_by` compare it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// JSON null.
    Null,
    /// An integer (ids, status ids).
    Int(i64),
    /// An exact decimal (money, quantities).
    Dec(Decimal),
    /// Text, dates and timestamps in their wire form (which sorts chronologically).
    Str(Cow<'a, str>),
    /// A boolean.
    Bool(bool),
    /// A moment (seconds since the epoch); compared as time, whatever rendering the value uses.
    Time(i64),
}

impl<'a> From<wire::Stamp> for Scalar<'a> {
    fn from(v: wire::Stamp) -> Self {
        Scalar::Time(v.0)
    }
}

impl<'a> From<i64> for Scalar<'a> {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}
impl<'a> From<u64> for Scalar<'a> {
    fn from(v: u64) -> Self {
        Scalar::Int(v as i64)
    }
}
impl<'a> From<u32> for Scalar<'a> {
    fn from(v: u32) -> Self {
        Scalar::Int(i64::from(v))
    }
}
impl<'a> From<bool> for Scalar<'a> {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}
impl<'a> From<Decimal> for Scalar<'a> {
    fn from(v: Decimal) -> Self {
        Scalar::Dec(v)
    }
}
impl<'a> From<&'a str> for Scalar<'a> {
    fn from(v: &'a str) -> Self {
        Scalar::Str(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a String> for Scalar<'a> {
    fn from(v: &'a String) -> Self {
        Scalar::Str(Cow::Borrowed(v.as_str()))
    }
}
impl<'a> From<String> for Scalar<'a> {
    fn from(v: String) -> Self {
        Scalar::Str(Cow::Owned(v))
    }
}
impl<'a, T: Into<Scalar<'a>>> From<Option<T>> for Scalar<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Scalar::Null, Into::into)
    }
}

/// A record of a bexio resource: it has an id and named fields that can be compared.
pub trait Record: Send + Sync + 'static {
    /// The record's numeric id (v4 records with UUIDs use a hidden sequence number).
    fn id(&self) -> u64;
    /// The value of a searchable or sortable field, `None` when the record has no such field.
    fn field(&self, name: &str) -> Option<Scalar<'_>>;
}

/// Implements [`Record`] from a list of `"field" => expression` pairs.
#[macro_export]
macro_rules! record_fields {
    ($ty:ty, |$s:ident| id = $id:expr; $($name:literal => $val:expr),* $(,)?) => {
        impl $crate::model::Record for $ty {
            fn id(&self) -> u64 {
                let $s = self;
                $id
            }
            fn field(&self, name: &str) -> Option<$crate::model::Scalar<'_>> {
                let $s = self;
                match name {
                    $($name => Some($crate::model::Scalar::from($val)),)*
                    _ => None,
                }
            }
        }
    };
}

/// Records of one resource, ordered by id, with bexio's auto-increment ids.
#[derive(Debug, Clone)]
pub struct Table<T> {
    rows: BTreeMap<u64, T>,
    next_id: u64,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            next_id: 1,
        }
    }
}

impl<T: Record> Table<T> {
    /// An empty table whose first id is `first_id`.
    pub fn starting_at(first_id: u64) -> Self {
        Table {
            rows: BTreeMap::new(),
            next_id: first_id,
        }
    }
    /// The id the next inserted record gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }
    /// Reserves the next id.
    pub fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
    /// Inserts (or replaces) a record under its own id.
    pub fn insert(&mut self, row: T) {
        let id = row.id();
        self.next_id = self.next_id.max(id + 1);
        self.rows.insert(id, row);
    }
    /// The record with this id.
    pub fn get(&self, id: u64) -> Option<&T> {
        self.rows.get(&id)
    }
    /// The record with this id, for editing.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        self.rows.get_mut(&id)
    }
    /// Removes a record.
    pub fn remove(&mut self, id: u64) -> Option<T> {
        self.rows.remove(&id)
    }
    /// All records by ascending id.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.rows.values()
    }
    /// All records by ascending id, for editing.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        self.rows.values_mut()
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A `{id, name}` lookup record (salutations, titles, units, payment types, groups, sectors…).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Named {
    /// Id.
    pub id: u64,
    /// Display name.
    pub name: String,
}
record_fields!(Named, |s| id = s.id; "id" => s.id, "name" => &s.name);
