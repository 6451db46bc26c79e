//! `bexio-bi diff`: what changed between two versions of a company's data.

use std::fmt::Write as _;

use bexio_bi_compare::{Diff, swiss};
use clap::Args as ClapArgs;

use super::UsageError;
use super::tables::{store, tenants};

/// Options of `diff`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Examples:\n  bexio-bi diff --tenant meier-it                  the last sync against the one before\n  bexio-bi diff v1.0-production latest --tenant meier-it\n  bexio-bi diff --tenant meier-it --json | jq .flags\n  bexio-bi diff --tenant meier-it --html changes.html"
)]
pub struct Args {
    /// The older version (id or tag); default: the one before the newer.
    pub from: Option<String>,
    /// The newer version (id, tag or `latest`); default: the current one.
    pub to: Option<String>,
    /// The company (needed when several are stored).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Machine-readable output: every changed invoice with its fields.
    #[arg(long)]
    pub json: bool,
    /// Also write the comparison as an HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

/// Runs `diff`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let store = store()?;
    let all = tenants(&store, args.tenant.as_ref())?;
    if all.len() > 1 && args.tenant.is_none() {
        return Err(UsageError(format!(
            "several companies are stored ({}): choose one with --tenant",
            all.join(", ")
        ))
        .into());
    }
    let tenant = &all[0];
    let to = store.version(tenant, args.to.as_deref().unwrap_or("latest"))?;
    let from = match &args.from {
        Some(v) => store.version(tenant, v)?,
        None => {
            let earlier: Vec<String> = store
                .versions(tenant)?
                .into_iter()
                .map(|m| m.id)
                .filter(|id| id.as_str() < to.manifest().id.as_str())
                .collect();
            let Some(id) = earlier.last() else {
                return Err(UsageError(format!(
                    "{tenant} has no version before {}: sync again to have two to compare",
                    to.manifest().id
                ))
                .into());
            };
            store.version(tenant, id)?
        }
    };
    let d = bexio_bi_compare::diff(&from, &to)?;
    super::audit::record(
        "diff",
        Some(tenant),
        Some(&format!("{} → {}", d.from, d.to)),
        serde_json::json!({
            "new_invoices": d.new_invoices.len(),
            "modified_invoices": d.modified_invoices.len(),
            "deleted_invoices": d.deleted_invoices.len(),
            "flags": d.flags.len(),
        }),
        Ok(()),
    )?;
    if let Some(path) = &args.html {
        std::fs::write(path, html(&d))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", text(&d));
    }
    Ok(())
}

/// The terminal view: a short box, then the details.
fn text(d: &Diff) -> String {
    let mut s = String::new();
    let head = d.headline();
    let width = head.chars().count().max(40) + 2;
    let title = format!(" {}: {} → {} ", d.tenant, d.from, d.to);
    let _ = writeln!(
        s,
        "┌{title}{}┐",
        "─".repeat(width.saturating_sub(title.chars().count()))
    );
    let _ = writeln!(s, "│ {head:<w$} │", w = width - 2);
    let _ = writeln!(s, "└{}┘", "─".repeat(width));
    for (code, a) in &d.invoiced {
        let _ = writeln!(
            s,
            "invoiced in {code}: {} → {} ({})",
            swiss(a.from, false),
            swiss(a.to, false),
            swiss(a.change, true)
        );
    }
    for f in &d.flags {
        let _ = writeln!(s, "⚠ {}", f.message);
    }
    let list = |s: &mut String, what: &str, items: &[bexio_bi_compare::InvoiceChange]| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(s, "{what}:");
        for i in items.iter().take(20) {
            let _ = write!(
                s,
                "  {} {} {} {}",
                i.document_nr.as_deref().unwrap_or("?"),
                i.status.as_deref().unwrap_or(""),
                i.currency.as_deref().unwrap_or(""),
                i.total.as_deref().unwrap_or("")
            );
            let changed: Vec<String> = i
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} → {}",
                        f.field,
                        f.old.as_deref().unwrap_or("∅"),
                        f.new.as_deref().unwrap_or("∅")
                    )
                })
                .collect();
            if !changed.is_empty() {
                let _ = write!(s, "  ({})", changed.join("; "));
            }
            let _ = writeln!(s);
        }
        if items.len() > 20 {
            let _ = writeln!(s, "  … and {} more (--json lists all)", items.len() - 20);
        }
    };
    list(&mut s, "new invoices", &d.new_invoices);
    list(&mut s, "modified invoices", &d.modified_invoices);
    list(&mut s, "deleted invoices", &d.deleted_invoices);
    let _ = writeln!(
        s,
        "tables (rows before → after: +added ~modified -removed):"
    );
    for (t, x) in &d.tables {
        if x.added + x.modified + x.removed == 0 && x.rows_from == x.rows_to {
            continue;
        }
        let _ = writeln!(
            s,
            "  {t:<22} {:>8} → {:<8} +{} ~{} -{}",
            x.rows_from, x.rows_to, x.added, x.modified, x.removed
        );
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained HTML page of the comparison.
fn html(d: &Diff) -> String {
    let mut s = String::from(
        "<!doctype html><html lang=\"de-CH\"><head><meta charset=\"utf-8\"><title>bexio-bi diff</title>\
         <style>body{font:14px system-ui;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}\
         .flag{color:#b00}</style></head><body>",
    );
    let _ = write!(
        s,
        "<h1>{}: {} → {}</h1><p><strong>{}</strong></p>",
        esc(&d.tenant),
        esc(&d.from),
        esc(&d.to),
        esc(&d.headline())
    );
    for f in &d.flags {
        let _ = write!(s, "<p class=\"flag\">⚠ {}</p>", esc(&f.message));
    }
    let _ = write!(
        s,
        "<h2>Invoices</h2><table><tr><th>change</th><th>number</th><th>status</th><th>total</th><th>fields</th></tr>"
    );
    for (what, items) in [
        ("new", &d.new_invoices),
        ("modified", &d.modified_invoices),
        ("deleted", &d.deleted_invoices),
    ] {
        for i in items {
            let fields: Vec<String> = i
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} → {}",
                        f.field,
                        f.old.as_deref().unwrap_or("∅"),
                        f.new.as_deref().unwrap_or("∅")
                    )
                })
                .collect();
            let _ = write!(
                s,
                "<tr><td>{what}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
                esc(i.document_nr.as_deref().unwrap_or("")),
                esc(i.status.as_deref().unwrap_or("")),
                esc(i.currency.as_deref().unwrap_or("")),
                esc(i.total.as_deref().unwrap_or("")),
                esc(&fields.join("; "))
            );
        }
    }
    s.push_str("</table><h2>Tables</h2><table><tr><th>table</th><th>before</th><th>after</th><th>added</th><th>modified</th><th>removed</th></tr>");
    for (t, x) in &d.tables {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(t),
            x.rows_from,
            x.rows_to,
            x.added,
            x.modified,
            x.removed
        );
    }
    s.push_str("</table></body></html>\n");
    s
}
