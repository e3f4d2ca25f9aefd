//! The workloads: the command kinds and the `mix` weights, the plan the
//! sessions share, the loop each measured session runs (commands, or whole
//! connections in the `login` scenario) and the `storm` scenario.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::report::{Stats, StormSummary};
use super::setup::{SessionError, Target};
use super::{Scenario, commands};
use crate::epp_client::{self, Connection, logout_xml, random_password, result_code};

/// One command kind of the measured phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Check,
    Info,
    Create,
    Poll,
    Login,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Info => "info",
            Kind::Create => "create",
            Kind::Poll => "poll",
            Kind::Login => "login",
        }
    }
}

/// The weights of the `mix` scenario (`check=70,info=20,…`), as
/// cumulative thresholds.
#[derive(Debug, Clone)]
pub struct Mix {
    steps: Vec<(u32, Kind)>,
    total: u32,
}

impl Mix {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        let mut total = 0u32;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || format!("{part:?} is not KIND=WEIGHT");
            let (kind, weight) = part.split_once('=').ok_or_else(bad)?;
            let kind = match kind.trim() {
                "check" => Kind::Check,
                "info" => Kind::Info,
                "create" => Kind::Create,
                "poll" => Kind::Poll,
                other => {
                    return Err(format!(
                        "unknown command {other:?} (check, info, create, poll)"
                    ));
                }
            };
            let weight: u32 = weight.trim().parse().map_err(|_| bad())?;
            if weight > 0 {
                total = total.saturating_add(weight);
                steps.push((total, kind));
            }
        }
        if total == 0 {
            return Err("no command has a weight".into());
        }
        Ok(Self { steps, total })
    }

    pub(super) fn pick(&self, rng: &mut StdRng) -> Kind {
        let roll = rng.gen_range(0..self.total);
        self.steps
            .iter()
            .find(|(upto, _)| roll < *upto)
            .map(|(_, kind)| *kind)
            .unwrap_or(Kind::Check)
    }

    pub(super) fn has(&self, kind: Kind) -> bool {
        self.steps.iter().any(|(_, k)| *k == kind)
    }
}

/// Everything the sessions share during the measured phase.
pub(super) struct Plan {
    pub(super) scenario: Scenario,
    pub(super) mix: Mix,
    pub(super) prefix: String,
    pub(super) zone: String,
    pub(super) check_names: usize,
    /// Concurrent sessions.
    pub(super) sessions: usize,
    /// Names to `info`, round-robin.
    pub(super) names: Vec<String>,
    /// Each session's registrant contact, when creates are sent.
    pub(super) contacts: Vec<String>,
    /// The next number of a created domain's name.
    pub(super) next_domain: AtomicU64,
    /// Commands left to send in `--count` mode.
    pub(super) left: Option<AtomicU64>,
    /// The end of the measured phase in `--duration` mode.
    pub(super) deadline: Option<Instant>,
}

impl Plan {
    /// Takes the right to send one more command.
    fn take(&self) -> bool {
        if let Some(deadline) = self.deadline
            && Instant::now() >= deadline
        {
            return false;
        }
        match &self.left {
            Some(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            None => true,
        }
    }
}

/// What one session of a storm saw.
struct StormSession {
    stats: Stats,
    /// When it started to connect.
    started: Instant,
    /// When its login was answered or failed.
    done: Instant,
    /// Whether it was logged in.
    served: bool,
    /// Whether its logout failed.
    logout_failed: bool,
}

/// The `storm` scenario: every session waits until all are ready, then
/// connects, handshakes and logs in at once; the logged-in ones stay
/// logged in until every login is answered, then log out. Gives the
/// logins' measurements, the summary, and the time from the first
/// connection to the last login answered.
pub(super) async fn storm(
    target: Arc<Target>,
    sessions: usize,
    empty: &hdrhistogram::Histogram<u64>,
) -> (Stats, StormSummary, Duration) {
    let ready = Arc::new(tokio::sync::Barrier::new(sessions + 1));
    let answered = Arc::new(tokio::sync::Barrier::new(sessions));
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..sessions {
        let target = target.clone();
        let ready = ready.clone();
        let answered = answered.clone();
        let mut stats = Stats::new(empty);
        tasks.spawn(async move {
            ready.wait().await;
            let started = Instant::now();
            let result = target.login(s).await;
            let done = Instant::now();
            let conn = match result {
                Ok((conn, code)) => {
                    stats.answered(Kind::Login.name(), done - started, Some(code));
                    Some(conn)
                }
                Err(SessionError::Refused(code, _)) => {
                    stats.answered(Kind::Login.name(), done - started, code.or(Some(2400)));
                    None
                }
                Err(e) => {
                    stats.lost(Kind::Login.name(), &e.label());
                    None
                }
            };
            answered.wait().await;
            let served = conn.is_some();
            let mut logout_failed = false;
            if let Some(mut conn) = conn {
                logout_failed = !matches!(
                    conn.transact(&logout_xml()).await.map(result_code),
                    Ok(Some(1500))
                );
            }
            StormSession {
                stats,
                started,
                done,
                served,
                logout_failed,
            }
        });
    }
    ready.wait().await;
    let mut stats = Stats::new(empty);
    let mut summary = StormSummary::default();
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    let mut last_served: Option<Instant> = None;
    while let Some(done) = tasks.join_next().await {
        let Ok(session) = done else {
            summary.refused += 1;
            continue;
        };
        stats.merge(&session.stats);
        first = Some(first.map_or(session.started, |f| f.min(session.started)));
        last = Some(last.map_or(session.done, |l| l.max(session.done)));
        if session.served {
            summary.served += 1;
            last_served = Some(last_served.map_or(session.done, |l| l.max(session.done)));
        } else {
            summary.refused += 1;
        }
        if session.logout_failed {
            summary.logout_failures += 1;
        }
    }
    let since_first = |t: Option<Instant>| match (first, t) {
        (Some(first), Some(t)) => t.saturating_duration_since(first),
        _ => Duration::ZERO,
    };
    summary.all_in_secs = last_served.map(|t| since_first(Some(t)).as_secs_f64());
    (stats, summary, since_first(last))
}

/// Consecutive failed reconnections after which a session gives up.
const MAX_RECONNECTS: u32 = 3;

/// One session of the measured phase: takes a command at a time until the
/// plan says stop. A command without an answer is counted, and the session
/// reconnects. Returns its measurements and its connection, if still open.
pub(super) async fn command_loop(
    s: usize,
    conn: Connection,
    target: Arc<Target>,
    plan: Arc<Plan>,
    mut stats: Stats,
) -> (Stats, Option<Connection>) {
    let mut rng = StdRng::from_entropy();
    let mut conn = Some(conn);
    let names_len = plan.names.len();
    // Sessions start spread over the names, then each goes round-robin.
    let mut cursor = (s * names_len)
        .checked_div(plan.sessions)
        .unwrap_or(0)
        .checked_rem(names_len)
        .unwrap_or(0);
    let auth = random_password();
    let mut check_batch: Vec<String> = Vec::with_capacity(plan.check_names);
    let mut failed_reconnects = 0;
    while plan.take() {
        let kind = match plan.scenario {
            Scenario::Check => Kind::Check,
            Scenario::Info => Kind::Info,
            Scenario::Create => Kind::Create,
            Scenario::Mix | Scenario::Login | Scenario::Storm => plan.mix.pick(&mut rng),
        };
        let cl_trid = epp_client::unique_cl_trid("b");
        let xml = match kind {
            Kind::Check => {
                check_batch.clear();
                for _ in 0..plan.check_names {
                    let n: u64 = rng.r#gen();
                    check_batch.push(format!("{}c{n:x}.{}", plan.prefix, plan.zone));
                }
                commands::domain_check(&check_batch, &cl_trid)
            }
            Kind::Info => {
                let name = &plan.names[cursor];
                cursor = (cursor + 1) % names_len.max(1);
                commands::domain_info(name, &cl_trid)
            }
            Kind::Create => {
                let n = plan.next_domain.fetch_add(1, Ordering::Relaxed);
                let name = format!("{}d{n}.{}", plan.prefix, plan.zone);
                commands::domain_create(&name, &plan.contacts[s], &auth, &cl_trid)
            }
            Kind::Poll | Kind::Login => commands::poll_req(&cl_trid),
        };
        let live = match conn.as_mut() {
            Some(live) => live,
            None => match target.session(s).await {
                Ok(fresh) => {
                    failed_reconnects = 0;
                    conn.insert(fresh)
                }
                Err(e) => {
                    stats.lost(kind.name(), &e.label());
                    failed_reconnects += 1;
                    if failed_reconnects >= MAX_RECONNECTS {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let t0 = Instant::now();
        match live.transact(&xml).await {
            Ok(response) => {
                let elapsed = t0.elapsed();
                stats.answered(kind.name(), elapsed, result_code(response));
            }
            Err(e) => {
                stats.lost(kind.name(), e.kind());
                conn = None;
            }
        }
    }
    (stats, conn)
}

/// One session of the `login` scenario: a whole connection per command.
pub(super) async fn login_loop(
    s: usize,
    target: Arc<Target>,
    plan: Arc<Plan>,
    mut stats: Stats,
) -> (Stats, Option<Connection>) {
    let logout = logout_xml();
    while plan.take() {
        let t0 = Instant::now();
        match target.session(s).await {
            Ok(mut conn) => match conn.transact(&logout).await {
                Ok(response) => {
                    let elapsed = t0.elapsed();
                    stats.answered(Kind::Login.name(), elapsed, result_code(response));
                }
                Err(e) => stats.lost(Kind::Login.name(), e.kind()),
            },
            Err(SessionError::Refused(code, _)) => {
                stats.answered(Kind::Login.name(), t0.elapsed(), code.or(Some(2400)));
            }
            Err(e) => stats.lost(Kind::Login.name(), &e.label()),
        }
    }
    (stats, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_weights_pick_in_proportion() {
        let mix = Mix::parse("check=70, info=20,create=5,poll=5,").unwrap();
        assert!(mix.has(Kind::Poll) && mix.total == 100);
        let mut rng = StdRng::seed_from_u64(7);
        let checks = (0..10_000)
            .filter(|_| mix.pick(&mut rng) == Kind::Check)
            .count();
        assert!((6500..7500).contains(&checks), "{checks}");
        let only = Mix::parse("info=1,create=0").unwrap();
        assert!(!only.has(Kind::Create));
        assert_eq!(only.pick(&mut rng), Kind::Info);
        for bad in ["", "check=0", "renew=5", "check", "check=x"] {
            assert!(Mix::parse(bad).is_err(), "{bad}");
        }
    }
}
