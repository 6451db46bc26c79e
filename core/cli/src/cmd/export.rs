//! `bexio-bi export`: the stored tables of each company, streamed batch by batch to several
//! exporters at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use bexio_bi_export::dispatch::{Dispatch, Outcome};
use bexio_bi_export::registry::{Granted, PluginsConfig, check_grant};
use bexio_bi_export::{Batch, Linked, OpenRequest, TracingHost};
use clap::Args as ClapArgs;

use super::UsageError;
use super::plugins::{load, plugins_toml, registry};
use super::tables::{pick, tenants};

/// Options of `bexio-bi export`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:
  bexio-bi export --to parquet                   every company's latest data as Parquet
  bexio-bi export --to parquet,csv --out /srv/bi  two formats in one pass over the data
  bexio-bi export --tables invoices,contacts --version before-closing
  bexio-bi export                                the plugins enabled with `bexio-bi plugins enable`

Files go to <out>/<company>/<plugin>/ (or where plugins.toml grants the plugin to write).
Exit codes: 0 every exporter finished, 1 one failed (the others finished), 2 wrong command line.")]
pub struct Args {
    /// Plugins to export to, comma-separated (default: those enabled in plugins.toml).
    #[arg(long, value_delimiter = ',', value_name = "PLUGIN[,PLUGIN…]")]
    pub to: Vec<String>,
    /// Where the files go.
    #[arg(long, default_value = "exports")]
    pub out: PathBuf,
    /// The version to export (an id, a tag, `latest`, `latest~1`; default: the latest).
    #[arg(long)]
    pub version: Option<String>,
    /// Tables to export, comma-separated (`invoices` is short for `fact_invoice`; default: all).
    #[arg(long, value_delimiter = ',')]
    pub tables: Vec<String>,
    /// The company (default: every company stored).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// A plugin ready to run: loaded, its grants checked.
pub(super) struct Prepared {
    pub name: String,
    pub linked: Arc<dyn Linked>,
    pub accept: bexio_bi_export::manifest::Tables,
    pub granted: Granted,
}

/// Loads the plugins called `names` and checks what each asks for against its grant: a refused
/// plugin stops everything here, before anything runs.
pub(super) fn prepare(names: &[String], grants: &PluginsConfig) -> anyhow::Result<Vec<Prepared>> {
    let registry = registry()?;
    let mut prepared = Vec::new();
    for name in names {
        let entry = registry.get(name).map_err(|e| UsageError(e.to_string()))?;
        let grant = grants.grant(name);
        let linked = load(entry, &grant.network)?;
        let granted =
            check_grant(&entry.manifest, linked.info(), &grant, None).map_err(|e| match e {
                e @ bexio_bi_export::ExportError::Config { .. } => {
                    anyhow::Error::from(UsageError(format!("{e} (in plugins.toml)")))
                }
                e => e.into(),
            })?;
        prepared.push(Prepared {
            name: name.clone(),
            accept: entry.manifest.tables.clone(),
            linked,
            granted,
        });
    }
    Ok(prepared)
}

/// What one plugin made of one company's export.
pub(super) struct Done {
    pub plugin: String,
    pub dir: PathBuf,
    pub outcome: Outcome,
}

/// Streams `tables` of one version once, to every plugin at the same time. Each writes into
/// `<out>/<tenant>/<plugin>` unless its grant names its directory.
pub(super) fn export_version(
    snap: &bexio_bi_store::Snapshot,
    tables: &[String],
    plugins: &[Prepared],
    out: &Path,
    secrets: &BTreeMap<String, String>,
    progress: &dyn bexio_bi_sync::Progress,
) -> anyhow::Result<Vec<Done>> {
    let tenant = snap.manifest().tenant.clone();
    let schemas: Vec<(String, arrow_schema::SchemaRef)> = tables
        .iter()
        .map(|t| Ok((t.clone(), announced(schema_of(snap, t)?, snap, t))))
        .collect::<anyhow::Result<_>>()?;
    let mut sessions = Vec::new();
    let mut done = Vec::new();
    let mut dirs = Vec::new();
    for p in plugins {
        let mine: Vec<(String, arrow_schema::SchemaRef)> = schemas
            .iter()
            .filter(|(t, _)| {
                p.accept.accepts(t)
                    && (p.linked.info().tables.is_empty() || p.linked.info().tables.contains(t))
            })
            .cloned()
            .collect();
        let dir = match &p.granted.out {
            Some(o) => PathBuf::from(o.display().to_string().replace("{tenant}", &tenant)),
            None => out.join(&tenant).join(&p.name),
        };
        let host = TracingHost {
            plugin: p.name.clone(),
            secrets: p
                .granted
                .secrets
                .iter()
                .filter_map(|s| secrets.get(s).map(|v| (s.clone(), v.clone())))
                .collect(),
            work_dir: crate::home::data_dir()
                .ok()
                .map(|d| d.join("plugin-work").join(&p.name)),
        };
        let request = OpenRequest {
            config: p.granted.config.clone(),
            tables: mine.clone(),
            out_dir: dir.clone(),
            host: Arc::new(host),
            limits: p.granted.limits,
        };
        match p.linked.open(&request) {
            Ok(s) => {
                sessions.push((
                    p.name.clone(),
                    s,
                    mine.into_iter().map(|(t, _)| t).collect(),
                ));
                dirs.push(dir);
            }
            Err(e) => done.push(Done {
                plugin: p.name.clone(),
                dir,
                outcome: Outcome {
                    name: p.name.clone(),
                    result: Err(e),
                    seconds: 0.0,
                },
            }),
        }
    }
    let mut dispatch = Dispatch::with_tables(sessions);
    let total: u64 = snap
        .manifest()
        .tables
        .iter()
        .filter(|t| tables.contains(&t.name))
        .map(|t| t.rows)
        .sum();
    progress.start(&tenant, "export", Some(total));
    'tables: for t in tables {
        for b in snap.read(t)? {
            let b = b?;
            progress.advance(&tenant, "export", b.num_rows() as u64);
            if dispatch.send(Batch::new(t, b)) == 0 {
                break 'tables;
            }
        }
    }
    progress.finish(&tenant, "export");
    for (outcome, dir) in dispatch.finish().into_iter().zip(dirs) {
        done.push(Done {
            plugin: outcome.name.clone(),
            dir,
            outcome,
        });
    }
    Ok(done)
}

/// Runs the export.
pub async fn run(args: Args) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || export(args)).await?
}

fn export(args: Args) -> anyhow::Result<()> {
    let grants = PluginsConfig::load(&plugins_toml()?)?;
    let names = if args.to.is_empty() {
        grants.enabled()
    } else {
        args.to.clone()
    };
    if names.is_empty() {
        return Err(UsageError(
            "no plugin to export to: pass --to parquet (see `bexio-bi plugins list`) or enable one with `bexio-bi plugins enable parquet`".into(),
        )
        .into());
    }
    let prepared = prepare(&names, &grants)?;
    let store = super::tables::store()?;
    let secrets = if prepared.iter().any(|p| !p.granted.secrets.is_empty()) {
        let home = crate::home::data_dir()?;
        let keys = store.keyring().context("the store is not encrypted")?;
        crate::config::Secrets::load(&home, keys)?.plugins
    } else {
        Default::default()
    };
    let progress = crate::progress::Bars::for_terminal(args.json);
    let mut report = Vec::new();
    let mut failed = 0;
    for tenant in tenants(&store, args.tenant.as_ref())? {
        let Some(snap) = pick(&store, &tenant, args.version.as_deref())? else {
            continue;
        };
        let stored: Vec<String> = snap
            .manifest()
            .tables
            .iter()
            .map(|t| t.name.clone())
            .collect();
        let tables: Vec<String> = if args.tables.is_empty() {
            stored.clone()
        } else {
            args.tables
                .iter()
                .map(|t| {
                    super::plugins::table_name(t, &stored).ok_or_else(|| {
                        UsageError(format!("no table {t:?} (stored: {})", stored.join(", ")))
                    })
                })
                .collect::<Result<_, _>>()?
        };
        let started = std::time::Instant::now();
        let done = export_version(
            &snap,
            &tables,
            &prepared,
            &args.out,
            &secrets,
            progress.as_ref(),
        )?;
        tracing::info!(
            tenant,
            seconds = started.elapsed().as_secs_f64(),
            "exported"
        );
        for Done {
            plugin,
            dir,
            outcome: o,
        } in done
        {
            match &o.result {
                Ok(s) if !args.json => {
                    println!(
                        "{tenant} → {plugin}: {} rows, {} files into {} ({:.2} s)",
                        s.total_rows(),
                        s.files.len(),
                        dir.display(),
                        o.seconds
                    );
                    for n in &s.notes {
                        println!("    {n}");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {tenant} → {plugin}: {e}");
                }
            }
            report.push(serde_json::json!({
                "tenant": tenant, "version": snap.manifest().id, "plugin": plugin,
                "out": dir, "seconds": o.seconds,
                "summary": o.result.as_ref().ok(),
                "error": o.result.as_ref().err().map(|e| e.to_string()),
            }));
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "exports": report }))?
        );
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} exports failed (the others finished; see above)",
            report.len()
        );
    }
    Ok(())
}

/// `schema` announcing what plugins may use beforehand: the stored row count of `table` (the
/// SDK's `Context::rows_hint`) and the star schema's keys (`KEY_METADATA` on the fields).
fn announced(
    schema: arrow_schema::SchemaRef,
    snap: &bexio_bi_store::Snapshot,
    table: &str,
) -> arrow_schema::SchemaRef {
    let Some(t) = snap.manifest().tables.iter().find(|t| t.name == table) else {
        return schema;
    };
    let mut metadata = schema.metadata().clone();
    metadata.insert(
        bexio_bi_export::ROWS_METADATA.to_owned(),
        t.rows.to_string(),
    );
    let mut schema = schema.as_ref().clone().with_metadata(metadata);
    // The star schema's keys, for targets that declare them (Tableau relationships, databases).
    if let Some(model) = bexio_bi_model::catalog::table(table) {
        let refs = bexio_bi_model::catalog::references(model);
        let fields: Vec<arrow_schema::Field> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let key = if i == 0 && model.kind != bexio_bi_model::catalog::Kind::Meta {
                    Some("primary".to_owned())
                } else {
                    refs.iter()
                        .find(|(c, _, _)| c == f.name())
                        .map(|(_, t, k)| format!("{}.{k}", t.name))
                };
                let mut f = f.as_ref().clone();
                if let Some(key) = key {
                    let mut m = f.metadata().clone();
                    m.insert(bexio_bi_export::KEY_METADATA.to_owned(), key);
                    f = f.with_metadata(m);
                }
                f
            })
            .collect();
        schema = arrow_schema::Schema::new_with_metadata(fields, schema.metadata().clone());
    }
    Arc::new(schema)
}

/// A stored table's schema: the star schema's, or (for a table the catalog does not know) its
/// first batch's.
fn schema_of(
    snap: &bexio_bi_store::Snapshot,
    table: &str,
) -> anyhow::Result<arrow_schema::SchemaRef> {
    if let Some(t) = bexio_bi_model::catalog::table(table) {
        return Ok(t.schema());
    }
    match snap.read(table)?.next() {
        Some(b) => Ok(b.with_context(|| format!("reading {table}"))?.schema()),
        None => Ok(Arc::new(arrow_schema::Schema::empty())),
    }
}
