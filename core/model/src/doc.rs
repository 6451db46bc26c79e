//! `schema.md`, rendered from the catalog.

use std::fmt::Write;

use crate::catalog::{CATALOG, Kind};

/// The star schema as Markdown: one section per table with its grain, source and columns.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("# The bexio-bi star schema\n\n");
    out.push_str(
        "Generated from `core/model/src/catalog.rs` (do not edit by hand: run \
         `BEXIO_BI_BLESS=1 cargo test -p bexio-bi-model` after changing the catalog).\n\n",
    );
    out.push_str(
        "Every row carries its `tenant` (the bexio company id). Keys are text, `<tenant>:<id>`, so that one \
         model can hold many companies and BI tools relate tables on a single column. Money is exact \
         (decimal, never floating point); amounts in other currencies also appear in CHF, converted with \
         bexio's exchange rates. Timestamps are UTC; bexio's naive Europe/Zurich times are converted.\n\n",
    );
    for (kind, title) in [
        (Kind::Dimension, "Dimensions"),
        (Kind::Fact, "Facts"),
        (Kind::Meta, "Sync bookkeeping"),
    ] {
        let _ = writeln!(out, "## {title}\n");
        for t in CATALOG.iter().filter(|t| t.kind == kind) {
            let _ = writeln!(out, "### `{}`\n", t.name);
            let _ = writeln!(out, "Grain: {}.  \nFrom: {}.\n", t.grain, t.source);
            out.push_str("| column | type | required | meaning |\n|---|---|---|---|\n");
            for c in t.columns {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    c.name,
                    c.ty.label(),
                    if c.required { "yes" } else { "" },
                    c.doc
                );
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// `docs/schema.md` is what the catalog says; `BEXIO_BI_BLESS=1` rewrites it.
    #[test]
    fn schema_md_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md");
        let rendered = super::markdown();
        if std::env::var_os("BEXIO_BI_BLESS").is_some() {
            std::fs::write(path, &rendered).expect("write docs/schema.md");
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == rendered,
            "core/model/docs/schema.md is stale: run BEXIO_BI_BLESS=1 cargo test -p bexio-bi-model"
        );
    }
}
