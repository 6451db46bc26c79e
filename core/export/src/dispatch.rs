//! One stream of batches, fanned out to several exporters at once.
//!
//! Each exporter runs on its own thread behind a bounded channel: a slow exporter holds the
//! reader back (back-pressure) instead of letting batches pile up in memory. Each batch is
//! shared, not copied, and its IPC encoding is made once for all WebAssembly exporters. An
//! exporter that fails is aborted and dropped from the run; the others go on. Every exporter
//! gets its own outcome.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use bexio_bi_plugin_sdk::Summary;

use crate::{Batch, ExportError, Session};

/// Batches in flight per exporter.
const IN_FLIGHT: usize = 4;

/// What one exporter made of the run.
#[derive(Debug)]
pub struct Outcome {
    /// The exporter's name.
    pub name: String,
    /// Its summary, or why it failed.
    pub result: Result<Summary, ExportError>,
    /// Seconds from the first batch to its end.
    pub seconds: f64,
}

struct Worker {
    name: String,
    /// The tables it takes (`None`: all).
    tables: Option<Vec<String>>,
    tx: Option<SyncSender<Arc<Batch>>>,
    thread: std::thread::JoinHandle<(Result<Summary, ExportError>, f64)>,
}

fn work(
    mut session: Box<dyn Session>,
    rx: Receiver<Arc<Batch>>,
) -> (Result<Summary, ExportError>, f64) {
    let started = Instant::now();
    for batch in rx.iter() {
        if let Err(e) = session.write(&batch) {
            // Dropping `rx` (returning) tells the reader to stop sending to this one.
            session.abort();
            return (Err(e), started.elapsed().as_secs_f64());
        }
    }
    (session.finish(), started.elapsed().as_secs_f64())
}

/// Fans batches out to sessions, each on its own thread.
pub struct Dispatch {
    workers: Vec<Worker>,
}

impl Dispatch {
    /// Starts one thread per session.
    pub fn start(sessions: Vec<(String, Box<dyn Session>)>) -> Dispatch {
        Dispatch::spawn(sessions.into_iter().map(|(n, s)| (n, s, None)).collect())
    }

    /// Starts one thread per session, each taking only the batches of its tables.
    pub fn with_tables(sessions: Vec<(String, Box<dyn Session>, Vec<String>)>) -> Dispatch {
        Dispatch::spawn(
            sessions
                .into_iter()
                .map(|(n, s, t)| (n, s, Some(t)))
                .collect(),
        )
    }

    #[allow(clippy::type_complexity)]
    fn spawn(sessions: Vec<(String, Box<dyn Session>, Option<Vec<String>>)>) -> Dispatch {
        let workers = sessions
            .into_iter()
            .map(|(name, session, tables)| {
                let (tx, rx) = sync_channel(IN_FLIGHT);
                let thread = std::thread::Builder::new()
                    .name(format!("export-{name}"))
                    .spawn(move || work(session, rx))
                    .expect("a thread per exporter");
                Worker {
                    name,
                    tables,
                    tx: Some(tx),
                    thread,
                }
            })
            .collect();
        Dispatch { workers }
    }

    /// Sends a batch to every exporter still running (waiting for room: back-pressure).
    /// Returns how many are still running.
    pub fn send(&mut self, batch: Batch) -> usize {
        let batch = Arc::new(batch);
        for w in &mut self.workers {
            if w.tables
                .as_ref()
                .is_some_and(|t| !t.iter().any(|t| **t == *batch.table))
            {
                continue;
            }
            if let Some(tx) = &w.tx
                && tx.send(Arc::clone(&batch)).is_err()
            {
                // The exporter stopped (it failed): no more batches for it.
                w.tx = None;
            }
        }
        self.running()
    }

    /// Exporters still taking batches.
    pub fn running(&self) -> usize {
        self.workers.iter().filter(|w| w.tx.is_some()).count()
    }

    /// Ends the stream: each exporter finishes (or has failed); one outcome each, in the
    /// order they were started.
    pub fn finish(self) -> Vec<Outcome> {
        self.workers
            .into_iter()
            .map(|mut w| {
                drop(w.tx.take());
                let (result, seconds) = w.thread.join().unwrap_or_else(|p| {
                    let message = p
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".into());
                    (
                        Err(ExportError::Crashed {
                            plugin: w.name.clone(),
                            message,
                        }),
                        0.0,
                    )
                });
                Outcome {
                    name: w.name,
                    result,
                    seconds,
                }
            })
            .collect()
    }
}
