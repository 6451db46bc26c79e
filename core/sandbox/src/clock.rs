//! Simulated time: real time multiplied by a time scale.
//!
//! With scale 1 the sandbox runs on the wall clock, like bexio: rate-limit windows are the calendar
//! minute and `ratelimit-reset` counts the seconds to its end. With scale 60 a simulated minute
//! passes every real second, so a test can sync through hours of rate-limited traffic in minutes;
//! the headers then count *real* seconds (what a client must actually wait), and `/_sandbox/stats`
//! reports how much simulated time went by.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A clock that runs `scale` times faster than the wall clock, starting at the wall-clock time of
/// its creation.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    started: Instant,
    start_unix: f64,
    scale: f64,
}

impl SimClock {
    /// A clock at `scale` × real speed (values below 0.001 are raised to it).
    pub fn new(scale: f64) -> Self {
        let start_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        SimClock {
            started: Instant::now(),
            start_unix,
            scale: scale.max(0.001),
        }
    }

    /// The speed-up over real time.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Simulated seconds since the Unix epoch.
    pub fn now(&self) -> f64 {
        self.start_unix + self.elapsed()
    }

    /// Simulated seconds since the clock started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * self.scale
    }

    /// Converts a simulated duration to real seconds.
    pub fn to_real(&self, simulated_secs: f64) -> f64 {
        simulated_secs / self.scale
    }
}

impl Default for SimClock {
    fn default() -> Self {
        SimClock::new(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster() {
        let c = SimClock::new(600.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(
            c.elapsed() >= 11.0,
            "20 ms at ×600 is at least 12 simulated seconds"
        );
        assert!((c.to_real(60.0) - 0.1).abs() < 1e-9);
    }
}
