//! Numbers, dates and times as ASCII, written straight into a symbol's bytes.
//!
//! Most of a large table's distinct values are amounts, keys and timestamps, each formatted
//! once. `core::fmt` and chrono's calendar do that through dynamic dispatch and tables; these
//! helpers do it with a few integer operations and fixed-size stores, which matters most inside
//! the WebAssembly sandbox (no `memcpy` calls for a handful of bytes).

/// The two ASCII digits of every number below 100, in order.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Room for the longest `u64` (20 digits).
const MAX: usize = 20;

/// Writes the digits of `v` right-aligned into `dst`, which must be long enough; the bytes to
/// their left are left as they are.
#[inline]
fn right_aligned(dst: &mut [u8], mut v: u64) {
    let mut i = dst.len();
    while v >= 100 {
        let r = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        dst[i] = PAIRS[r];
        dst[i + 1] = PAIRS[r + 1];
    }
    if v >= 10 {
        let r = v as usize * 2;
        dst[i - 2] = PAIRS[r];
        dst[i - 1] = PAIRS[r + 1];
    } else {
        dst[i - 1] = b'0' + v as u8;
    }
}

/// Appends `v` in decimal.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    push_padded(out, v, n);
}

/// Appends `v` as exactly `width` digits, zero-padded (`width` ≤ 20 and `v` < 10^`width`).
#[inline]
pub fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    debug_assert!(width <= MAX && v.checked_ilog10().map_or(1, |l| l as usize + 1) <= width);
    let start = out.len();
    // A constant-size append (no `memset` call), then cut to the width.
    out.extend_from_slice(&[b'0'; MAX]);
    right_aligned(&mut out[start..start + width], v);
    out.truncate(start + width);
}

/// The two digits of `v` (`v` < 100).
#[inline]
pub fn two(v: u32) -> [u8; 2] {
    let r = (v % 100) as usize * 2;
    [PAIRS[r], PAIRS[r + 1]]
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01.
///
/// The civil-from-days computation over 400-year eras (Howard Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms"), exact for day counts within ±2^60.
pub fn civil(days: i64) -> (i64, u32, u32) {
    // Days since 0000-03-01, the start of an era with the leap day at its end.
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = era * 400 + yoe + i64::from(month <= 2);
    (year, month, day)
}

/// The day counts (since 1970-01-01) of 0000-01-01 through 9999-12-31: the dates
/// [`date`] writes.
pub const FOUR_DIGIT_YEARS: std::ops::RangeInclusive<i64> = -719_528..=2_932_896;

/// `YYYY-MM-DD` of the day `days` since 1970-01-01, when its year is within 0–9999.
#[inline]
pub fn date(days: i64) -> Option<[u8; 10]> {
    let (year, month, day) = civil(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let [c0, c1] = two((year / 100) as u32);
    let [y0, y1] = two((year % 100) as u32);
    let [m0, m1] = two(month);
    let [d0, d1] = two(day);
    Some([c0, c1, y0, y1, b'-', m0, m1, b'-', d0, d1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = b"x".to_vec();
        f(&mut out);
        String::from_utf8(out[1..].to_vec()).expect("ASCII")
    }

    #[test]
    fn numbers_are_written_as_std_writes_them() {
        let mut samples: Vec<u64> = (0..2_000).collect();
        for p in 1..20 {
            let t = 10u64.pow(p);
            samples.extend([t - 1, t, t + 1, t.saturating_mul(3).saturating_add(7)]);
        }
        samples.extend([u64::MAX, u64::MAX - 1, 1 << 53, (1 << 53) + 1]);
        for v in samples {
            assert_eq!(text(|o| push_u64(o, v)), v.to_string());
            let width = v.to_string().len().clamp(7, 20);
            assert_eq!(text(|o| push_padded(o, v, width)), format!("{v:0width$}"));
        }
        assert_eq!(text(|o| push_padded(o, 5, 2)), "05");
    }

    #[test]
    fn dates_and_times_match_chrono() {
        // Every day from 1600 to 2500, and around the ends of the four-digit years.
        let from = chrono::NaiveDate::from_ymd_opt(1600, 1, 1).expect("date");
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("date");
        let first = (from - epoch).num_days();
        let ends = [
            chrono::NaiveDate::from_ymd_opt(0, 1, 1).expect("date"),
            chrono::NaiveDate::from_ymd_opt(9999, 12, 31).expect("date"),
        ];
        let days =
            (first..first + 330_000)
                .chain(ends.iter().flat_map(|d| {
                    ((*d - epoch).num_days() - 400)..((*d - epoch).num_days() + 400)
                }));
        for d in days {
            let date = epoch + chrono::Duration::days(d);
            use chrono::Datelike;
            assert_eq!(
                civil(d),
                (i64::from(date.year()), date.month(), date.day()),
                "day {d}"
            );
            let written = super::date(d);
            assert_eq!(
                written.is_some(),
                (0..=9999).contains(&date.year()),
                "day {d}"
            );
            assert_eq!(written.is_some(), FOUR_DIGIT_YEARS.contains(&d), "day {d}");
            if let Some(text) = written {
                assert_eq!(std::str::from_utf8(&text).expect("ASCII"), date.to_string());
            }
        }
        for v in 0..100u32 {
            assert_eq!(two(v), *format!("{v:02}").as_bytes());
        }
    }
}
