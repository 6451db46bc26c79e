//! Progress bars on a terminal, one per company and stream; nothing elsewhere.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;

use bexio_bi_sync::{Progress, Silent};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Bars for a terminal.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<(String, String), ProgressBar>>,
}

impl Bars {
    /// Bars when stderr is a terminal and `quiet` is off; silence otherwise.
    pub fn for_terminal(quiet: bool) -> Arc<dyn Progress> {
        if quiet || !std::io::stderr().is_terminal() {
            return Arc::new(Silent);
        }
        Arc::new(Bars {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
        })
    }
}

impl Progress for Bars {
    fn start(&self, tenant: &str, stream: &str, total: Option<u64>) {
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{prefix:>24} {bar:30} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix:>24} {spinner} {pos} records {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let bar = self
            .multi
            .add(bar.with_prefix(format!("{tenant} {stream}")));
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert((tenant.to_owned(), stream.to_owned()), bar);
        }
    }

    fn advance(&self, tenant: &str, stream: &str, records: u64) {
        if let Ok(bars) = self.bars.lock()
            && let Some(b) = bars.get(&(tenant.to_owned(), stream.to_owned()))
        {
            b.inc(records);
        }
    }

    fn finish(&self, tenant: &str, stream: &str) {
        if let Ok(mut bars) = self.bars.lock()
            && let Some(b) = bars.remove(&(tenant.to_owned(), stream.to_owned()))
        {
            b.finish_and_clear();
        }
    }
}
