//! `admin registrar …`: adding registrars, their state, credentials,
//! certificates, addresses and session limits, and the listing of one or
//! all of them. The balance and ledger commands are in [`super::billing`].

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::{Ctx, billing, operator_audit};
use crate::flows::login::hash_password;
use crate::model::{Registrar, RegistrarState};
use crate::store::Store;

/// A postal address on the command line.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AddressArgs {
    /// A street line (1 to 3).
    #[arg(long = "street")]
    street: Vec<String>,
    /// City.
    #[arg(long)]
    city: Option<String>,
    /// State or province.
    #[arg(long)]
    sp: Option<String>,
    /// Postal code.
    #[arg(long)]
    pc: Option<String>,
    /// ISO 3166 country code, e.g. MA.
    #[arg(long)]
    cc: Option<String>,
}

impl AddressArgs {
    /// The address, `None` when none is given; an incomplete one is refused.
    fn parse(&self) -> anyhow::Result<Option<crate::model::RegistrarAddress>> {
        if self.street.is_empty() && self.city.is_none() && self.cc.is_none() {
            return Ok(None);
        }
        if !(1..=3).contains(&self.street.len()) {
            bail!("an address has 1 to 3 --street lines");
        }
        let city = self.city.clone().context("an address needs --city")?;
        let cc = self.cc.as_deref().context("an address needs --cc")?;
        if cc.len() != 2 || !cc.chars().all(|c| c.is_ascii_alphabetic()) {
            bail!("--cc is a two-letter ISO 3166 code, not {cc:?}");
        }
        Ok(Some(crate::model::RegistrarAddress {
            street: self.street.clone(),
            city,
            sp: self.sp.clone(),
            pc: self.pc.clone(),
            cc: cc.to_ascii_uppercase(),
        }))
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistrarCommand {
    /// Add a registrar.
    Add {
        /// Its EPP clID (3–16 characters).
        clid: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its EPP password (6–128 characters; over 16 it is sent with RFC 8807); read from stdin with --password-stdin.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// A client certificate (PEM) it may present (repeatable).
        #[arg(long = "cert")]
        certs: Vec<PathBuf>,
        /// Its contact e-mail.
        #[arg(long)]
        email: Option<String>,
        /// Concurrent sessions allowed (default: the configured one).
        #[arg(long)]
        session_limit: Option<u32>,
        /// An address or network it may connect from (repeatable; none means any).
        #[arg(long = "allow")]
        ip_allow: Vec<ipnet::IpNet>,
        /// Its postal address (escrow deposits need one).
        #[command(flatten)]
        address: AddressArgs,
    },
    /// Set a registrar's postal address (data escrow, RFC 9022, requires one).
    Address {
        /// The clID.
        clid: String,
        /// The address.
        #[command(flatten)]
        address: AddressArgs,
    },
    /// Set the addresses a registrar may connect from (none: any address).
    Allow {
        /// The clID.
        clid: String,
        /// Addresses or networks, e.g. 192.0.2.0/24 or 2001:db8::1/128.
        nets: Vec<ipnet::IpNet>,
    },
    /// List registrars.
    List,
    /// Everything about one registrar: state, contact, certificates,
    /// addresses, session limit, balance, domains, queued poll messages.
    Show {
        /// The clID.
        clid: String,
    },
    /// Set a registrar's limit of concurrent EPP sessions (no value: the
    /// configured default).
    Limit {
        /// The clID.
        clid: String,
        /// Sessions allowed at once.
        sessions: Option<u32>,
    },
    /// Suspend a registrar: it cannot log in until activated again.
    Suspend {
        /// The clID.
        clid: String,
    },
    /// Terminate a registrar (R19): it cannot log in; its domains stay
    /// until their expiry, then are deleted unless moved.
    Terminate {
        /// The clID.
        clid: String,
    },
    /// Make a suspended (or terminated) registrar active again.
    Activate {
        /// The clID.
        clid: String,
    },
    /// Move every domain of a registrar to another (R19); both get poll messages.
    Move {
        /// The registrar losing the domains.
        from: String,
        /// The registrar gaining them.
        to: String,
    },
    /// Credit a registrar's prepaid balance (R23).
    Credit {
        /// The clID.
        clid: String,
        /// The amount, e.g. 1000.00.
        amount: f64,
        /// What it is (payment reference).
        #[arg(long, default_value = "credit")]
        note: String,
    },
    /// Show a registrar's balance (R23).
    Balance {
        /// The clID.
        clid: String,
    },
    /// List a registrar's ledger: every charge and credit (R23).
    Ledger {
        /// The clID.
        clid: String,
    },
    /// Set a registrar's EPP password.
    Passwd {
        /// The clID.
        clid: String,
        /// The new password (6–128 characters; over 16 it is sent with RFC 8807).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// A registrar's client certificates.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CertCommand {
    /// Record a client certificate (PEM) for the registrar.
    Add {
        /// The clID.
        clid: String,
        /// The certificate file.
        file: PathBuf,
    },
    /// Forget a certificate, by SHA-256 fingerprint.
    Remove {
        /// The clID.
        clid: String,
        /// The fingerprint (hex).
        fingerprint: String,
    },
    /// List the registrar's certificate fingerprints.
    List {
        /// The clID.
        clid: String,
    },
}

/// The longest registrar password the registry sets: passphrases fit.
const MAX_PASSWORD_CHARS: usize = 128;

fn read_password(ctx: &mut Ctx<'_>, flag: &Option<String>, stdin: bool) -> anyhow::Result<String> {
    let password = match (flag, stdin) {
        (Some(p), _) => p.clone(),
        (None, true) => ctx
            .stdin
            .as_deref()
            .and_then(|text| text.lines().next())
            .context("--password-stdin: nothing on standard input")?
            .to_owned(),
        (None, false) => bail!("give the password with --password or --password-stdin"),
    };
    let n = password.chars().count();
    if !(6..=MAX_PASSWORD_CHARS).contains(&n) {
        bail!("an EPP password has 6 to {MAX_PASSWORD_CHARS} characters, not {n}");
    }
    if password.trim() != password
        || password.contains("  ")
        || password.contains(['\t', '\r', '\n'])
    {
        bail!(
            "an EPP password is an XML token: no space at either end, no run of spaces, no tab or line break"
        );
    }
    if n > 16 {
        say_err!(
            ctx,
            "note: a password over 16 characters is sent in <loginSec:pw> (RFC 8807 login security)"
        );
    }
    Ok(password)
}

fn cert_fingerprint(file: &std::path::Path) -> anyhow::Result<String> {
    let certs = crate::transport::load_certs(file)?;
    let first = certs
        .first()
        .with_context(|| format!("{} holds no certificate", file.display()))?;
    Ok(crate::transport::fingerprint(first.as_ref()))
}

pub(super) fn registrar(store: &Store, clid: &str) -> anyhow::Result<Registrar> {
    store
        .registrar(clid)?
        .with_context(|| format!("no registrar {clid}"))
}

/// Runs one `admin registrar …` command.
pub(super) async fn run(ctx: &mut Ctx<'_>, command: &RegistrarCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    match command {
        RegistrarCommand::Add {
            clid,
            name,
            password,
            password_stdin,
            certs,
            email,
            session_limit,
            ip_allow,
            address,
        } => {
            let address = address.parse()?;
            if !(3..=16).contains(&clid.chars().count())
                || !clid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!("a clID has 3 to 16 letters, digits, '-' or '_'");
            }
            if store.registrar(clid)?.is_some() {
                bail!("registrar {clid} exists already");
            }
            if let Some(email) = email
                && let Err(why) = crate::policy::email::check_email(email)
            {
                bail!("--email {email:?} is not an e-mail address: {}", why.en);
            }
            let password = read_password(ctx, password, *password_stdin)?;
            let fingerprints = certs
                .iter()
                .map(|f| cert_fingerprint(&ctx.path(f)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let r = Registrar {
                id: clid.clone(),
                name: name.clone(),
                password_hash: hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?,
                cert_fingerprints: fingerprints,
                ip_allow: ip_allow.clone(),
                session_limit: *session_limit,
                state: RegistrarState::Active,
                email: email.clone(),
                created: ctx.now,
                address,
                password_set: ctx.now,
            };
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-add"))?;
            store.flush_now()?;
            say!(ctx, "registrar {clid} added");
        }
        RegistrarCommand::Allow { clid, nets } => {
            let mut r = registrar(store, clid)?;
            r.ip_allow.clone_from(nets);
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-allow"))?;
            store.flush_now()?;
            if nets.is_empty() {
                say!(ctx, "{clid} may connect from any address");
            } else {
                let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
                say!(ctx, "{clid} may connect from {}", list.join(", "));
            }
        }
        RegistrarCommand::Suspend { clid }
        | RegistrarCommand::Terminate { clid }
        | RegistrarCommand::Activate { clid } => {
            let state = match command {
                RegistrarCommand::Suspend { .. } => RegistrarState::Suspended,
                RegistrarCommand::Terminate { .. } => RegistrarState::Terminated,
                _ => RegistrarState::Active,
            };
            let audit = operator_audit(
                ctx,
                &format!("admin:registrar-{}", format!("{state:?}").to_lowercase()),
            );
            crate::flows::registrar::set_state(store, clid, state, &audit)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.flush_now()?;
            say!(ctx, "{clid} is now {}", format!("{state:?}").to_lowercase());
        }
        RegistrarCommand::Move { from, to } => {
            let now = ctx.now;
            let moved = crate::flows::registrar::move_domains(store, from, to, now, &ctx.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(ctx, "{moved} domains moved from {from} to {to}");
        }
        RegistrarCommand::Credit { clid, amount, note } => {
            billing::credit(ctx, clid, *amount, note)?;
        }
        RegistrarCommand::Balance { clid } => billing::balance(ctx, clid)?,
        RegistrarCommand::Ledger { clid } => billing::ledger(ctx, clid)?,
        RegistrarCommand::List => {
            let all = store.registrars()?;
            if ctx.json {
                let rows: Vec<serde_json::Value> = all
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "clid": r.id,
                            "name": r.name,
                            "state": format!("{:?}", r.state).to_lowercase(),
                            "certificates": r.cert_fingerprints,
                            "ip_allow": r.ip_allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
                            "session_limit": r.session_limit,
                            "email": r.email,
                            "created": r.created.to_rfc3339(),
                        })
                    })
                    .collect();
                ctx.write_json(&rows)?;
            } else {
                say!(ctx, "{:<16} {:<10} {:>5}  NAME", "CLID", "STATE", "CERTS");
                for r in &all {
                    say!(
                        ctx,
                        "{:<16} {:<10} {:>5}  {}",
                        r.id,
                        format!("{:?}", r.state).to_lowercase(),
                        r.cert_fingerprints.len(),
                        r.name
                    );
                }
            }
        }
        RegistrarCommand::Show { clid } => {
            let r = registrar(store, clid)?;
            let balance = store.balance(clid)?;
            let domains = store.domains_of(clid)?.len();
            let queued = store.poll_count(clid)?;
            let currency = &ctx.settings.billing.currency;
            let limit = r
                .session_limit
                .unwrap_or(ctx.settings.limits.default_session_limit);
            if ctx.json {
                ctx.write_json(&serde_json::json!({
                    "clid": r.id,
                    "name": r.name,
                    "state": format!("{:?}", r.state).to_lowercase(),
                    "email": r.email,
                    "created": r.created.to_rfc3339(),
                    "certificates": r.cert_fingerprints,
                    "ip_allow": r.ip_allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "session_limit": limit,
                    "balance": crate::config::format_amount(balance),
                    "currency": currency,
                    "domains": domains,
                    "poll_queue": queued,
                    "address": r.address,
                }))?;
            } else {
                say!(ctx, "clID           {}", r.id);
                say!(ctx, "name           {}", r.name);
                say!(
                    ctx,
                    "state          {}",
                    format!("{:?}", r.state).to_lowercase()
                );
                say!(ctx, "email          {}", r.email.as_deref().unwrap_or("-"));
                say!(
                    ctx,
                    "created        {}",
                    r.created.format("%Y-%m-%d %H:%M UTC")
                );
                say!(ctx, "sessions       {limit} at once");
                let nets: Vec<String> = r.ip_allow.iter().map(ToString::to_string).collect();
                say!(
                    ctx,
                    "addresses      {}",
                    if nets.is_empty() {
                        "any".to_owned()
                    } else {
                        nets.join(", ")
                    }
                );
                say!(
                    ctx,
                    "balance        {} {currency}",
                    crate::config::format_amount(balance)
                );
                say!(ctx, "domains        {domains}");
                say!(ctx, "poll queue     {queued}");
                let address = match &r.address {
                    Some(a) => format!(
                        "{}, {}{} {}",
                        a.street.join(", "),
                        a.pc.as_deref()
                            .map(|pc| format!("{pc} "))
                            .unwrap_or_default(),
                        a.city,
                        a.cc
                    ),
                    None => "- (escrow deposits need one)".to_owned(),
                };
                say!(ctx, "address        {address}");
                for fp in &r.cert_fingerprints {
                    say!(ctx, "certificate    {fp}");
                }
            }
        }
        RegistrarCommand::Address { clid, address } => {
            let mut r = registrar(store, clid)?;
            r.address = Some(
                address
                    .parse()?
                    .context("give the address: --street, --city, --cc")?,
            );
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-address"))?;
            store.flush_now()?;
            say!(ctx, "address of {clid} recorded");
        }
        RegistrarCommand::Limit { clid, sessions } => {
            let mut r = registrar(store, clid)?;
            if *sessions == Some(0) {
                bail!("a registrar needs at least one session; suspend it instead");
            }
            r.session_limit = *sessions;
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-limit"))?;
            store.flush_now()?;
            let limit = r
                .session_limit
                .unwrap_or(ctx.settings.limits.default_session_limit);
            say!(ctx, "{clid} may open {limit} sessions at once");
        }
        RegistrarCommand::Passwd {
            clid,
            password,
            password_stdin,
        } => {
            let mut r = registrar(store, clid)?;
            let password = read_password(ctx, password, *password_stdin)?;
            r.password_hash = hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            r.password_set = ctx.now;
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-passwd"))?;
            store.flush_now()?;
            say!(ctx, "password of {clid} changed");
        }
        RegistrarCommand::Cert { command } => match command {
            CertCommand::Add { clid, file } => {
                let mut r = registrar(store, clid)?;
                let fp = cert_fingerprint(&ctx.path(file))?;
                if r.cert_fingerprints.contains(&fp) {
                    bail!("that certificate is recorded for {clid} already");
                }
                r.cert_fingerprints.push(fp.clone());
                store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-cert-add"))?;
                store.flush_now()?;
                say!(ctx, "certificate {fp} recorded for {clid}");
            }
            CertCommand::Remove { clid, fingerprint } => {
                let mut r = registrar(store, clid)?;
                let before = r.cert_fingerprints.len();
                r.cert_fingerprints
                    .retain(|f| !f.eq_ignore_ascii_case(fingerprint));
                if r.cert_fingerprints.len() == before {
                    bail!("{clid} has no certificate {fingerprint}");
                }
                store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-cert-remove"))?;
                store.flush_now()?;
                say!(ctx, "certificate {fingerprint} removed from {clid}");
            }
            CertCommand::List { clid } => {
                let r = registrar(store, clid)?;
                if ctx.json {
                    ctx.write_json(&r.cert_fingerprints)?;
                } else {
                    for fp in &r.cert_fingerprints {
                        say!(ctx, "{fp}");
                    }
                }
            }
        },
    }
    Ok(())
}
