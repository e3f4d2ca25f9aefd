//! What a load run measured: per-command-kind counts, failures by result
//! code or transport error, and latency histograms; merged into a
//! [`Report`] printed as a table or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The highest latency a histogram holds, in microseconds (one hour); a
/// longer one is recorded as this.
const HIGHEST_MICROS: u64 = 3_600_000_000;

/// An empty latency histogram in microseconds, three significant digits.
///
/// # Errors
/// Never with these bounds; the histogram crate's error otherwise.
pub fn empty_histogram() -> Result<Histogram<u64>, hdrhistogram::CreationError> {
    Histogram::new_with_bounds(1, HIGHEST_MICROS, 3)
}

/// The measurements of one kind of command.
#[derive(Clone)]
pub struct KindStats {
    /// Commands attempted.
    pub count: u64,
    /// Failures by label: a result code (`"2302"`) or a transport error
    /// (`"io"`, `"timeout"`, `"closed"`, `"connect"`, `"handshake"`).
    pub errors: BTreeMap<String, u64>,
    /// Latency of every command answered, successful or not, in microseconds.
    pub latency: Histogram<u64>,
}

impl KindStats {
    fn new(empty: &Histogram<u64>) -> Self {
        Self {
            count: 0,
            errors: BTreeMap::new(),
            latency: empty.clone(),
        }
    }

    fn failed(&mut self, label: &str) {
        match self.errors.get_mut(label) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(label.to_owned(), 1);
            }
        }
    }

    fn merge(&mut self, other: &KindStats) {
        self.count += other.count;
        for (label, n) in &other.errors {
            *self.errors.entry(label.clone()).or_insert(0) += n;
        }
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }

    fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The measurements of one session, or of a whole run once merged, by
/// command kind.
#[derive(Clone)]
pub struct Stats {
    empty: Histogram<u64>,
    kinds: BTreeMap<&'static str, KindStats>,
}

impl Stats {
    /// No measurement yet.
    pub fn new(empty: &Histogram<u64>) -> Self {
        Self {
            empty: empty.clone(),
            kinds: BTreeMap::new(),
        }
    }

    fn kind(&mut self, kind: &'static str) -> &mut KindStats {
        let empty = &self.empty;
        self.kinds
            .entry(kind)
            .or_insert_with(|| KindStats::new(empty))
    }

    /// A command answered with `code` after `elapsed`.
    pub fn answered(&mut self, kind: &'static str, elapsed: Duration, code: Option<u16>) {
        let k = self.kind(kind);
        k.count += 1;
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(HIGHEST_MICROS);
        k.latency.saturating_record(micros.max(1));
        match code {
            Some(code) if (1000..2000).contains(&code) => {}
            Some(code) => k.failed(&code.to_string()),
            None => k.failed("no result code"),
        }
    }

    /// A command that got no answer (`label` says why).
    pub fn lost(&mut self, kind: &'static str, label: &str) {
        let k = self.kind(kind);
        k.count += 1;
        k.failed(label);
    }

    /// Adds another session's measurements.
    pub fn merge(&mut self, other: &Stats) {
        for (kind, stats) in &other.kinds {
            self.kind(kind).merge(stats);
        }
    }

    /// Commands attempted, every kind together.
    pub fn count(&self) -> u64 {
        self.kinds.values().map(|k| k.count).sum()
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// The slowest command.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Self {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        })
    }
}

/// One line of the report: a command kind, or every kind together.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// Commands attempted.
    pub count: u64,
    /// Commands answered with a 1xxx result code.
    pub ok: u64,
    /// Commands that failed: another result code, or no answer.
    pub errors: u64,
    /// Failures by result code or transport error.
    pub errors_by_code: BTreeMap<String, u64>,
    /// Commands attempted per second of the measured phase.
    pub commands_per_sec: f64,
    /// Latency of the commands answered; absent when none was.
    pub latency_ms: Option<Latency>,
}

impl Line {
    fn of(k: &KindStats, secs: f64) -> Self {
        let errors = k.error_total();
        Self {
            count: k.count,
            ok: k.count.saturating_sub(errors),
            errors,
            errors_by_code: k.errors.clone(),
            commands_per_sec: if secs > 0.0 {
                k.count as f64 / secs
            } else {
                0.0
            },
            latency_ms: Latency::of(&k.latency),
        }
    }
}

/// What was prepared before the measured phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Setup {
    /// Contacts created.
    pub contacts: u64,
    /// Domains created for `info`.
    pub domains: u64,
    /// Names read from `--names`.
    pub names_read: u64,
    /// Seconds the preparation took.
    pub secs: f64,
}

/// What a `storm` adds: who was served.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StormSummary {
    /// Sessions logged in.
    pub served: u64,
    /// Sessions not logged in: a refusal or a transport failure (by code
    /// in `errors_by_code`).
    pub refused: u64,
    /// Seconds from the first connection to the last login served; absent
    /// when none was.
    pub all_in_secs: Option<f64>,
    /// Sessions served whose logout was not answered 1500.
    pub logout_failures: u64,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The scenario.
    pub scenario: String,
    /// The server address.
    pub server: String,
    /// The registrar, or the first of several.
    pub clid: String,
    /// How many registrars the sessions logged in as.
    pub registrars: u32,
    /// Concurrent sessions.
    pub sessions: u32,
    /// Seconds of the measured phase.
    pub elapsed_secs: f64,
    /// Every command kind together.
    #[serde(flatten)]
    pub total: Line,
    /// Each command kind.
    pub commands: BTreeMap<String, Line>,
    /// The preparation.
    pub setup: Setup,
    /// The `storm` scenario's outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storm: Option<StormSummary>,
}

impl Report {
    /// Builds the report of a run's merged measurements.
    pub fn new(
        scenario: &str,
        server: &str,
        clid: &str,
        sessions: u32,
        elapsed: Duration,
        stats: &Stats,
        setup: Setup,
    ) -> Self {
        let secs = elapsed.as_secs_f64();
        let mut all = KindStats::new(&stats.empty);
        let mut commands = BTreeMap::new();
        for (kind, k) in &stats.kinds {
            all.merge(k);
            commands.insert((*kind).to_owned(), Line::of(k, secs));
        }
        Self {
            scenario: scenario.to_owned(),
            server: server.to_owned(),
            clid: clid.to_owned(),
            registrars: 1,
            sessions,
            elapsed_secs: secs,
            total: Line::of(&all, secs),
            commands,
            setup,
            storm: None,
        }
    }

    /// The report as pretty-printed JSON.
    pub fn json(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as a table for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let who = match self.registrars {
            0 | 1 => self.clid.clone(),
            n => format!("{n} registrars ({} and others)", self.clid),
        };
        let _ = writeln!(
            out,
            "scenario {}: {} sessions to {} as {}, {:.2} s measured",
            self.scenario, self.sessions, self.server, who, self.elapsed_secs
        );
        if self.setup.contacts + self.setup.domains + self.setup.names_read > 0 {
            let _ = writeln!(
                out,
                "prepared: {} contacts, {} domains created, {} names read ({:.2} s)",
                self.setup.contacts, self.setup.domains, self.setup.names_read, self.setup.secs
            );
        }
        let _ = writeln!(
            out,
            "{:<8} {:>10} {:>8} {:>10} {:>8} {:>8} {:>8} {:>9}",
            "command", "count", "errors", "cmd/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        let mut row = |name: &str, line: &Line| {
            let (p50, p90, p99, max) = match &line.latency_ms {
                Some(l) => (
                    format!("{:.3}", l.p50),
                    format!("{:.3}", l.p90),
                    format!("{:.3}", l.p99),
                    format!("{:.3}", l.max),
                ),
                None => ("-".into(), "-".into(), "-".into(), "-".into()),
            };
            let _ = writeln!(
                out,
                "{:<8} {:>10} {:>8} {:>10.1} {:>8} {:>8} {:>8} {:>9}",
                name, line.count, line.errors, line.commands_per_sec, p50, p90, p99, max
            );
        };
        for (kind, line) in &self.commands {
            row(kind, line);
        }
        if self.commands.len() > 1 {
            row("total", &self.total);
        }
        if !self.total.errors_by_code.is_empty() {
            let list: Vec<String> = self
                .total
                .errors_by_code
                .iter()
                .map(|(code, n)| format!("{code}: {n}"))
                .collect();
            let _ = writeln!(out, "errors by code: {}", list.join(", "));
        }
        if let Some(storm) = &self.storm {
            let all_in = match storm.all_in_secs {
                Some(secs) => format!("{secs:.3} s"),
                None => "-".into(),
            };
            let _ = writeln!(
                out,
                "storm: {} served, {} refused; all served in after {all_in}; {} logouts failed",
                storm.served, storm.refused, storm.logout_failures
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_merge_and_report_ordered_percentiles_and_errors_by_code() {
        let empty = empty_histogram().unwrap();
        let mut a = Stats::new(&empty);
        let mut b = Stats::new(&empty);
        for i in 1..=100u64 {
            a.answered("check", Duration::from_micros(i * 10), Some(1000));
        }
        b.answered("check", Duration::from_millis(5), Some(2302));
        b.lost("info", "timeout");
        b.answered("info", Duration::from_micros(300), Some(1000));
        a.merge(&b);
        assert_eq!(a.count(), 103);
        let r = Report::new(
            "mix",
            "127.0.0.1:700",
            "r",
            2,
            Duration::from_secs(2),
            &a,
            Setup::default(),
        );
        assert_eq!(r.total.count, 103);
        assert_eq!(r.total.errors, 2);
        assert_eq!(r.total.ok, 101);
        assert_eq!(r.total.errors_by_code.get("2302"), Some(&1));
        assert_eq!(r.total.errors_by_code.get("timeout"), Some(&1));
        assert!((r.total.commands_per_sec - 51.5).abs() < 1e-9);
        let l = r.commands["check"].latency_ms.clone().unwrap();
        assert!(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max);
        assert!((l.max - 5.0).abs() < 0.01);
        let table = r.table();
        assert!(table.contains("total") && table.contains("2302: 1"));
        let json: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(json["count"], 103);
        assert_eq!(json["commands"]["info"]["errors"], 1);
        assert_eq!(json["registrars"], 1);
        assert!(json.get("storm").is_none(), "{json}");
    }

    #[test]
    fn a_storm_reports_who_was_served() {
        let empty = empty_histogram().unwrap();
        let mut stats = Stats::new(&empty);
        for _ in 0..8 {
            stats.answered("login", Duration::from_millis(40), Some(1000));
        }
        stats.answered("login", Duration::from_millis(45), Some(2502));
        stats.lost("login", "handshake");
        let mut r = Report::new(
            "storm",
            "127.0.0.1:700",
            "r001",
            10,
            Duration::from_millis(500),
            &stats,
            Setup::default(),
        );
        r.registrars = 5;
        r.storm = Some(StormSummary {
            served: 8,
            refused: 2,
            all_in_secs: Some(0.45),
            logout_failures: 0,
        });
        let table = r.table();
        assert!(
            table.contains("as 5 registrars (r001 and others)"),
            "{table}"
        );
        assert!(table.contains("storm: 8 served, 2 refused; all served in after 0.450 s"));
        assert!(table.contains("2502: 1, handshake: 1"), "{table}");
        let json: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(json["storm"]["served"], 8);
        assert_eq!(json["storm"]["refused"], 2);
        assert_eq!(json["errors_by_code"]["2502"], 1);
        assert_eq!(json["registrars"], 5);
    }
}
