//! The date dimension: one row per company and day, with ISO weeks, quarters and the company's
//! bexio business year.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Date32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;
use chrono::{Datelike, NaiveDate};

use crate::catalog::DIM_DATE;
use crate::keys::key;

const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// A business year of a company (bexio `/3.0/accounting/business_years`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessYear {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

impl BusinessYear {
    /// `2025` for a calendar business year, `2024/25` for one that spans two years.
    pub fn label(&self) -> String {
        if self.start.year() == self.end.year() {
            self.start.year().to_string()
        } else {
            format!("{}/{:02}", self.start.year(), self.end.year() % 100)
        }
    }
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// The `dim_date` rows of one company from `from` to `to` (both included).
pub fn date_dimension(
    tenant: &str,
    from: NaiveDate,
    to: NaiveDate,
    years: &[BusinessYear],
) -> Result<RecordBatch, ArrowError> {
    let n = (to - from).num_days().max(-1) as usize + 1;
    let mut date_key = StringBuilder::with_capacity(n, n * 24);
    let mut tenant_col = StringBuilder::with_capacity(n, n * tenant.len());
    let mut date = Date32Builder::with_capacity(n);
    let mut year = Int64Builder::with_capacity(n);
    let mut quarter = Int64Builder::with_capacity(n);
    let mut month = Int64Builder::with_capacity(n);
    let mut month_name = StringBuilder::with_capacity(n, n * 8);
    let mut day = Int64Builder::with_capacity(n);
    let mut iso_year = Int64Builder::with_capacity(n);
    let mut iso_week = Int64Builder::with_capacity(n);
    let mut weekday = Int64Builder::with_capacity(n);
    let mut weekend = BooleanBuilder::with_capacity(n);
    let mut by = StringBuilder::with_capacity(n, n * 7);
    let mut by_start = Date32Builder::with_capacity(n);
    for d in from.iter_days().take_while(|d| *d <= to) {
        date_key.append_value(key(tenant, d));
        tenant_col.append_value(tenant);
        date.append_value(days_since_epoch(d));
        year.append_value(i64::from(d.year()));
        quarter.append_value(i64::from(d.month0() / 3 + 1));
        month.append_value(i64::from(d.month()));
        month_name.append_value(MONTHS_DE[d.month0() as usize]);
        day.append_value(i64::from(d.day()));
        let iso = d.iso_week();
        iso_year.append_value(i64::from(iso.year()));
        iso_week.append_value(i64::from(iso.week()));
        let wd = d.weekday().number_from_monday();
        weekday.append_value(i64::from(wd));
        weekend.append_value(wd >= 6);
        match years.iter().find(|y| y.start <= d && d <= y.end) {
            Some(y) => {
                by.append_value(y.label());
                by_start.append_value(days_since_epoch(y.start));
            }
            None => {
                by.append_null();
                by_start.append_null();
            }
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(date_key.finish()),
        Arc::new(tenant_col.finish()),
        Arc::new(date.finish()),
        Arc::new(year.finish()),
        Arc::new(quarter.finish()),
        Arc::new(month.finish()),
        Arc::new(month_name.finish()),
        Arc::new(day.finish()),
        Arc::new(iso_year.finish()),
        Arc::new(iso_week.finish()),
        Arc::new(weekday.finish()),
        Arc::new(weekend.finish()),
        Arc::new(by.finish()),
        Arc::new(by_start.finish()),
    ];
    RecordBatch::try_new(DIM_DATE.schema(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn iso_weeks_quarters_and_business_years() {
        let years = [BusinessYear {
            start: ymd(2024, 7, 1),
            end: ymd(2025, 6, 30),
        }];
        let b = date_dimension("t1", ymd(2024, 12, 28), ymd(2025, 1, 6), &years).expect("batch");
        assert_eq!(b.num_rows(), 10);
        let col = |name: &str| b.column(DIM_DATE.index_of(name).expect("column")).clone();
        let iso_week = col("iso_week");
        let iso_week = iso_week.as_primitive::<Int64Type>();
        let iso_year = col("iso_year");
        let iso_year = iso_year.as_primitive::<Int64Type>();
        // 2024-12-30 (Monday) is in ISO week 1 of 2025.
        assert_eq!((iso_year.value(2), iso_week.value(2)), (2025, 1));
        assert_eq!((iso_year.value(0), iso_week.value(0)), (2024, 52));
        let quarter = col("quarter");
        assert_eq!(quarter.as_primitive::<Int64Type>().value(9), 1);
        let by = col("business_year");
        assert_eq!(by.as_string::<i32>().value(0), "2024/25");
        let key = col("date_key");
        assert_eq!(key.as_string::<i32>().value(0), "t1:2024-12-28");
        let weekend = col("is_weekend");
        assert!(weekend.as_boolean().value(0), "2024-12-28 is a Saturday");
    }

    #[test]
    fn days_outside_business_years_have_none() {
        let b = date_dimension("t", ymd(2020, 1, 1), ymd(2020, 1, 1), &[]).expect("batch");
        assert!(
            b.column(DIM_DATE.index_of("business_year").expect("col"))
                .is_null(0)
        );
    }
}
