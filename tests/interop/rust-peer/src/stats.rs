//! Latency and rate arithmetic for the bench subcommands, kept apart from the I/O so that it
//! can be tested exactly.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct LatencySummary {
    pub min_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

impl LatencySummary {
    /// Nearest-rank percentiles (the smallest sample with at least p% of samples at or below
    /// it), so every reported value is one that was actually observed.
    pub fn from_samples(mut samples_us: Vec<u64>) -> Option<Self> {
        if samples_us.is_empty() {
            return None;
        }
        samples_us.sort_unstable();
        let total: u128 = samples_us.iter().map(|&s| u128::from(s)).sum();
        Some(LatencySummary {
            min_us: samples_us[0],
            p50_us: nearest_rank(&samples_us, 50),
            p99_us: nearest_rank(&samples_us, 99),
            max_us: samples_us[samples_us.len() - 1],
            mean_us: total as f64 / samples_us.len() as f64,
        })
    }
}

fn nearest_rank(sorted: &[u64], percent: usize) -> u64 {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// The one-line bench report. `rate_events` is how many messages the elapsed time covers
/// (see the callers for why that differs between produce and consume); rates are null when
/// they are undefined rather than a misleading 0 or infinity.
pub fn bench_report(
    mode: &str,
    count: u64,
    size: u64,
    seconds: f64,
    rate_events: u64,
    latency: Option<&LatencySummary>,
) -> Value {
    let (msgs_per_sec, mb_per_sec) = if seconds > 0.0 && rate_events > 0 {
        let msgs = rate_events as f64 / seconds;
        (json!(msgs), json!(msgs * size as f64 / 1_000_000.0))
    } else {
        (Value::Null, Value::Null)
    };
    json!({
        "mode": mode,
        "count": count,
        "size": size,
        "seconds": seconds,
        "msgs_per_sec": msgs_per_sec,
        "mb_per_sec": mb_per_sec,
        "p50_us": latency.map(|l| l.p50_us),
        "p99_us": latency.map(|l| l.p99_us),
        "min_us": latency.map(|l| l.min_us),
        "max_us": latency.map(|l| l.max_us),
        "mean_us": latency.map(|l| l.mean_us),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_samples_gives_no_summary() {
        assert_eq!(LatencySummary::from_samples(Vec::new()), None);
    }

    #[test]
    fn single_sample_is_every_percentile() {
        let s = LatencySummary::from_samples(vec![17]).unwrap();
        assert_eq!((s.min_us, s.p50_us, s.p99_us, s.max_us), (17, 17, 17, 17));
        assert_eq!(s.mean_us, 17.0);
    }

    #[test]
    fn nearest_rank_on_one_hundred_samples() {
        // 1..=100 shuffled: p50 is the 50th smallest, p99 the 99th.
        let samples: Vec<u64> = (1..=100u64).map(|i| (i * 37) % 101).collect();
        let s = LatencySummary::from_samples(samples).unwrap();
        assert_eq!((s.min_us, s.p50_us, s.p99_us, s.max_us), (1, 50, 99, 100));
        assert_eq!(s.mean_us, 50.5);
    }

    #[test]
    fn p99_of_ten_samples_is_the_largest() {
        let s = LatencySummary::from_samples((1..=10).collect()).unwrap();
        assert_eq!((s.p50_us, s.p99_us), (5, 10));
    }

    #[test]
    fn report_computes_rates_in_decimal_megabytes() {
        let latency = LatencySummary::from_samples(vec![100, 200]).unwrap();
        let report = bench_report("produce", 2_000, 1_000, 2.0, 2_000, Some(&latency));
        assert_eq!(report["msgs_per_sec"], 1_000.0);
        assert_eq!(report["mb_per_sec"], 1.0);
        assert_eq!(report["p50_us"], 100);
        assert_eq!(report["p99_us"], 200);
        assert_eq!(report["mode"], "produce");
    }

    #[test]
    fn report_rates_are_null_without_elapsed_time() {
        let report = bench_report("consume", 1, 10, 0.0, 0, None);
        assert!(report["msgs_per_sec"].is_null());
        assert!(report["mb_per_sec"].is_null());
        assert!(report["p50_us"].is_null());
    }
}
