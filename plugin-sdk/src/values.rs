//! Reading values out of Arrow arrays the way exporters need them.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_schema::{DataType, TimeUnit};

/// The timestamp at `row` in microseconds since 1970-01-01 UTC, whatever the column's unit
/// (seconds and milliseconds saturate at the ends of `i64`, nanoseconds are truncated); `None`
/// for NULL or when `array` does not hold timestamps.
pub fn timestamp_micros(array: &dyn Array, row: usize) -> Option<i64> {
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        DataType::Timestamp(TimeUnit::Millisecond, _) => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .saturating_mul(1_000),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            array.as_primitive::<TimestampMicrosecondType>().value(row)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            array.as_primitive::<TimestampNanosecondType>().value(row) / 1_000
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int64Array, TimestampMillisecondArray, TimestampNanosecondArray};

    use super::*;

    #[test]
    fn every_unit_becomes_microseconds() {
        let ms = TimestampMillisecondArray::from(vec![Some(1_500), None]);
        assert_eq!(timestamp_micros(&ms, 0), Some(1_500_000));
        assert_eq!(timestamp_micros(&ms, 1), None);
        let ns = TimestampNanosecondArray::from(vec![1_999]);
        assert_eq!(timestamp_micros(&ns, 0), Some(1));
        assert_eq!(timestamp_micros(&Int64Array::from(vec![1]), 0), None);
    }
}
