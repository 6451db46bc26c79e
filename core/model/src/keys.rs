//! Keys that join facts to dimensions across companies.
//!
//! bexio ids are unique only within a company, and a fiduciary loads many companies into one
//! model. A key is therefore `<tenant>:<id>` — one text column that BI tools can relate on.

use std::fmt::Display;

/// The key of a record: `<tenant>:<id>`.
pub fn key(tenant: &str, id: impl Display) -> String {
    format!("{tenant}:{id}")
}

/// Splits a key into tenant and id.
pub fn split(key: &str) -> Option<(&str, &str)> {
    key.split_once(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_across_companies() {
        assert_ne!(key("q69vysq7fkzl", 1), key("a1b2c3d4e5f6", 1));
        assert_eq!(
            split(&key("q69vysq7fkzl", 42)),
            Some(("q69vysq7fkzl", "42"))
        );
        assert_eq!(key("t", "2025-11-28"), "t:2025-11-28");
    }
}
