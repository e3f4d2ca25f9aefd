//! The load generator's run: reaches the server, prepares the contacts and
//! domains a scenario needs, runs the measured phase on every session at
//! once and gathers the report.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::report::{self, Report, Setup, Stats};
use super::setup::{
    Target, create_for_setup, expect_success, first_answering, for_each_session, identities,
    open_sessions, warm_up,
};
use super::workload::{Kind, Plan, command_loop, login_loop, storm};
use super::{BenchArgs, BenchError, Scenario, commands, random_tag, read_file};
use crate::epp_client::{self, logout_xml, random_password};

pub(super) async fn run(args: &BenchArgs) -> Result<Report, BenchError> {
    let mut rng = StdRng::from_entropy();
    let mix = args.mix.clone();
    let prefix = match &args.prefix {
        Some(p) => p.clone(),
        None => format!("bench-{}-", random_tag(&mut rng, 6)),
    };
    let zone = args.zone.clone();
    let extension = match &args.contact_extension {
        Some(path) => Some(read_file(path)?.trim().to_owned()),
        None => None,
    };
    if args.scenario == Scenario::Storm && (args.count.is_some() || args.duration.is_some()) {
        return Err(BenchError::Usage(
            "storm makes one login per session: --count and --duration do not apply".into(),
        ));
    }
    let identities = identities(args)?;
    let server_name = args.server_name.as_deref().unwrap_or(&args.host);
    let target = Target {
        addr: String::new(),
        name: epp_client::server_name(server_name)?,
        identities,
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let (target, server) = first_answering(args, target, args.scenario != Scenario::Storm).await?;
    let target = Arc::new(target);
    let sessions = args.sessions as usize;
    let registrars = u32::try_from(target.identities.len()).unwrap_or(u32::MAX);
    let first_clid = target.identity(0).clid.clone();

    if args.scenario == Scenario::Storm {
        let empty = report::empty_histogram()?;
        let (stats, summary, elapsed) = storm(target, sessions, &empty).await;
        let mut report = Report::new(
            args.scenario.name(),
            &server,
            &first_clid,
            args.sessions,
            elapsed,
            &stats,
            Setup::default(),
        );
        report.registrars = registrars;
        report.storm = Some(summary);
        return Ok(report);
    }

    let setup_started = Instant::now();
    let mut setup = Setup::default();
    let mut conns = Vec::new();
    if args.scenario == Scenario::Login {
        // The password of every registrar is verified once before
        // anything is measured, not only the first one's.
        warm_up(&target).await?;
    } else {
        conns = open_sessions(&target, sessions).await?;
    }
    let needs_info = match args.scenario {
        Scenario::Info => true,
        Scenario::Mix => mix.has(Kind::Info),
        _ => false,
    };
    let needs_creates = match args.scenario {
        Scenario::Create => true,
        Scenario::Mix => mix.has(Kind::Create),
        _ => false,
    };
    let mut names = Vec::new();
    if needs_info && let Some(path) = &args.names {
        names = read_file(path)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(BenchError::Usage(format!(
                "--names {}: no name in the file",
                path.display()
            )));
        }
        setup.names_read = names.len() as u64;
    }
    let needs_contacts = needs_creates || (needs_info && names.is_empty() && args.domains > 0);
    let mut contacts = Vec::new();
    if needs_contacts {
        let run_tag = random_tag(&mut rng, 6);
        contacts = (0..sessions).map(|s| format!("b{run_tag}k{s}")).collect();
        tracing::info!(contacts = contacts.len(), "creating contacts");
        let ids = contacts.clone();
        let ext = extension.clone();
        conns = for_each_session(conns, move |s, mut conn| {
            let id = ids[s].clone();
            let ext = ext.clone();
            async move {
                let xml = commands::contact_create(
                    &id,
                    &random_password(),
                    ext.as_deref(),
                    &epp_client::unique_cl_trid("bench-contact"),
                );
                let r = expect_success(&mut conn, &xml, &format!("contact create {id}")).await;
                (conn, r)
            }
        })
        .await?;
        setup.contacts = contacts.len() as u64;
    }
    if needs_info && names.is_empty() {
        if args.domains == 0 {
            return Err(BenchError::Usage(
                "info needs names: --domains N (N > 0) or --names FILE".into(),
            ));
        }
        names = (0..args.domains)
            .map(|n| format!("{prefix}i{n}.{zone}"))
            .collect();
        tracing::info!(domains = names.len(), "creating domains to query");
        let all = Arc::new(names.clone());
        let ids = contacts.clone();
        let prep_target = target.clone();
        conns = for_each_session(conns, move |s, mut conn| {
            let all = all.clone();
            let contact = ids[s].clone();
            let target = prep_target.clone();
            async move {
                let auth = random_password();
                for name in all.iter().skip(s).step_by(sessions) {
                    if let Err(e) =
                        create_for_setup(&target, s, &mut conn, name, &contact, &auth).await
                    {
                        return (conn, Err(e));
                    }
                }
                (conn, Ok(()))
            }
        })
        .await?;
        setup.domains = names.len() as u64;
    }
    setup.secs = setup_started.elapsed().as_secs_f64();

    let duration = match args.count {
        Some(_) => None,
        None => Some(args.duration.unwrap_or(10.0)),
    };
    let empty = report::empty_histogram()?;
    let started = Instant::now();
    let plan = Arc::new(Plan {
        scenario: args.scenario,
        mix,
        prefix,
        zone,
        check_names: args.check_names as usize,
        sessions,
        names,
        contacts,
        next_domain: AtomicU64::new(0),
        left: args.count.map(AtomicU64::new),
        deadline: duration.map(|secs| started + Duration::from_secs_f64(secs)),
    });
    let mut tasks = tokio::task::JoinSet::new();
    if args.scenario == Scenario::Login {
        for s in 0..sessions {
            tasks.spawn(login_loop(
                s,
                target.clone(),
                plan.clone(),
                Stats::new(&empty),
            ));
        }
    } else {
        for (s, conn) in conns.into_iter().enumerate() {
            tasks.spawn(command_loop(
                s,
                conn,
                target.clone(),
                plan.clone(),
                Stats::new(&empty),
            ));
        }
    }
    let mut stats = Stats::new(&empty);
    let mut open = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok((session_stats, conn)) = done {
            stats.merge(&session_stats);
            open.extend(conn);
        }
    }
    let elapsed = started.elapsed();
    for mut conn in open {
        let _ = conn.transact(&logout_xml()).await;
    }
    let mut report = Report::new(
        args.scenario.name(),
        &server,
        &first_clid,
        args.sessions,
        elapsed,
        &stats,
        setup,
    );
    report.registrars = registrars;
    Ok(report)
}
