//! Exact decimals for Arrow: a value fits its column's scale exactly, or it is an error — never a
//! silent rounding. bexio sends money as strings with up to six decimals (v2) or as JSON numbers
//! (v3/v4); both arrive here as [`Decimal`].

use rust_decimal::Decimal;

use crate::catalog::ColumnType;

/// A value that does not fit a decimal column exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecimalError {
    /// More decimals than the column keeps (would need rounding).
    #[error("{value} has more than {scale} decimals")]
    Inexact {
        /// The value.
        value: Decimal,
        /// The column's scale.
        scale: u32,
    },
    /// Too many digits for the column's precision.
    #[error("{value} does not fit in {precision} digits")]
    Overflow {
        /// The value.
        value: Decimal,
        /// The column's precision.
        precision: u8,
    },
    /// The column is not a decimal column.
    #[error("not a decimal column")]
    NotDecimal,
}

/// `(precision, scale)` of a decimal column type.
pub fn precision_scale(ty: ColumnType) -> Option<(u8, u32)> {
    match ty.arrow() {
        arrow_schema::DataType::Decimal128(p, s) => Some((p, s as u32)),
        _ => None,
    }
}

/// The unscaled `i128` of `value` at the column's scale, if it fits exactly.
pub fn to_i128(value: Decimal, ty: ColumnType) -> Result<i128, DecimalError> {
    let (precision, scale) = precision_scale(ty).ok_or(DecimalError::NotDecimal)?;
    let normalized = value.normalize();
    if normalized.scale() > scale {
        return Err(DecimalError::Inexact { value, scale });
    }
    let mut rescaled = normalized;
    rescaled.rescale(scale);
    let unscaled = rescaled.mantissa();
    let limit = 10i128.pow(u32::from(precision));
    if unscaled.abs() >= limit {
        return Err(DecimalError::Overflow { value, precision });
    }
    Ok(unscaled)
}

/// The decimal an unscaled `i128` stands for at the column's scale.
pub fn from_i128(unscaled: i128, ty: ColumnType) -> Result<Decimal, DecimalError> {
    let (_, scale) = precision_scale(ty).ok_or(DecimalError::NotDecimal)?;
    Decimal::try_from_i128_with_scale(unscaled, scale).map_err(|_| DecimalError::Overflow {
        value: Decimal::MAX,
        precision: 38,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn exact_values_round_trip() {
        for (v, ty) in [
            ("19.150000", ColumnType::Money),
            ("1.3706", ColumnType::Money4),
            ("3.560000", ColumnType::Quantity),
            ("-0.02", ColumnType::Money),
        ] {
            let raw = to_i128(d(v), ty).expect("fits");
            assert_eq!(from_i128(raw, ty).expect("back"), d(v));
        }
        assert_eq!(to_i128(d("19.15"), ColumnType::Money), Ok(1915));
        assert_eq!(to_i128(d("8.1"), ColumnType::Percent), Ok(81_000));
    }

    #[test]
    fn never_rounds_and_never_wraps() {
        assert!(matches!(
            to_i128(d("1.3706"), ColumnType::Money),
            Err(DecimalError::Inexact { .. })
        ));
        assert!(matches!(
            to_i128(d("12345678901234567.00"), ColumnType::Money),
            Err(DecimalError::Overflow { .. })
        ));
        assert_eq!(
            to_i128(d("1"), ColumnType::Text),
            Err(DecimalError::NotDecimal)
        );
    }
}
