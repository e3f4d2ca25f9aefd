//! `client …`: a small EPP client over TLS with a registrar's certificate:
//! check, info or create a domain, or send an XML file, and print the
//! response. Exit code 0 when every result code is 1xxx, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::epp_client::{self, Connection, Xml, login_xml, logout_xml, random_password};
use crate::xml::ns;

/// `client` options.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Server as host:port.
    #[arg(long, default_value = "localhost:7700")]
    server: String,
    /// Registrar clID.
    #[arg(long, default_value = "demo1")]
    clid: String,
    /// Registrar password.
    #[arg(long, default_value = "demo1-pass", env = "MA_REGISTRY_PASSWORD")]
    password: String,
    /// Client certificate (PEM); default certs/<clid>.pem.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Client key (PEM); default certs/<clid>.key.
    #[arg(long)]
    key: Option<PathBuf>,
    /// CA that signed the server certificate.
    #[arg(long, default_value = "certs/ca.pem")]
    ca: PathBuf,
    /// Session language (en or fr).
    #[arg(long, default_value = "en")]
    lang: String,
    /// Print each response as its whole XML document, indented, instead of
    /// a summary.
    #[arg(long)]
    xml: bool,
    #[command(subcommand)]
    command: ClientCommand,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Check the availability of names.
    Check {
        /// Names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Show a domain.
    Info {
        /// The name.
        name: String,
    },
    /// Register a domain. Without --registrant, first creates a contact for it.
    Create {
        /// The name.
        name: String,
        /// Registration period in years.
        #[arg(long, default_value_t = 1)]
        years: u32,
        /// Registrant contact id (must exist).
        #[arg(long)]
        registrant: Option<String>,
    },
    /// Send the commands of one or more XML files, each a whole <epp> document.
    Send {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn domain_cmd(verb: &str, inner: impl FnOnce(&mut Xml)) -> Vec<u8> {
    Xml::new().command(
        |x| {
            x.open(verb, &[])
                .open(&format!("domain:{verb}"), &[("xmlns:domain", ns::DOMAIN)]);
            inner(x);
            x.close(&format!("domain:{verb}")).close(verb);
        },
        &epp_client::unique_cl_trid("cli-cmd"),
    )
}

fn contact_create_xml(id: &str) -> Vec<u8> {
    Xml::new().command(
        |x| {
            x.open("create", &[])
                .open("contact:create", &[("xmlns:contact", ns::CONTACT)])
                .leaf("contact:id", &[], id)
                .open("contact:postalInfo", &[("type", "loc")])
                .leaf("contact:name", &[], "Titulaire de démonstration")
                .open("contact:addr", &[])
                .leaf("contact:street", &[], "Avenue Mohammed V")
                .leaf("contact:city", &[], "Rabat")
                .leaf("contact:pc", &[], "10000")
                .leaf("contact:cc", &[], "MA")
                .close("contact:addr")
                .close("contact:postalInfo")
                .leaf("contact:voice", &[], "+212.537000000")
                .leaf("contact:email", &[], "titulaire@example.ma")
                .open("contact:authInfo", &[])
                .leaf("contact:pw", &[], &random_password())
                .close("contact:authInfo")
                .close("contact:create")
                .close("create")
                // R15: a registrant needs an identity document on record.
                .open("extension", &[])
                .open("ma:create", &[("xmlns:ma", ns::MA)])
                .open("ma:identity", &[])
                .leaf("ma:type", &[], "cin")
                .leaf("ma:number", &[], "BE123456")
                .close("ma:identity")
                .close("ma:create")
                .close("extension");
        },
        &epp_client::unique_cl_trid("cli-contact"),
    )
}

async fn open(args: &ClientArgs) -> anyhow::Result<Connection> {
    let cert = args
        .cert
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("certs/{}.pem", args.clid)));
    let key = args
        .key
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("certs/{}.key", args.clid)));
    let config = epp_client::tls_config(&args.ca, &cert, &key)?;
    let host = args
        .server
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&args.server);
    let name = epp_client::server_name(host)?;
    Ok(Connection::open(
        &args.server,
        name,
        Arc::new(config),
        Duration::from_secs(30),
    )
    .await?)
}

async fn transact(conn: &mut Connection, xml: &[u8]) -> anyhow::Result<String> {
    Ok(String::from_utf8_lossy(conn.transact(xml).await?).into_owned())
}

fn result_code(xml: &str) -> u16 {
    epp_client::result_code(xml.as_bytes()).unwrap_or(2400)
}

pub fn run(args: &ClientArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let mut conn = open(args).await?;
        let login = transact(
            &mut conn,
            &login_xml(&args.clid, &args.password, &args.lang, &[ns::MA.to_owned()]),
        )
        .await?;
        let show = |response: &str| {
            if args.xml {
                println!("{}", super::summary::indented(response.as_bytes()));
            } else {
                print!("{}", super::summary::summary(response.as_bytes()));
            }
        };
        if result_code(&login) >= 2000 {
            show(&login);
            bail!("login failed");
        }
        let mut worst = 1000;
        let mut send = async |conn: &mut Connection, xml: Vec<u8>| -> anyhow::Result<()> {
            let response = transact(conn, &xml).await?;
            show(&response);
            worst = worst.max(result_code(&response));
            Ok(())
        };
        match &args.command {
            ClientCommand::Check { names } => {
                let xml = domain_cmd("check", |x| {
                    for n in names {
                        x.leaf("domain:name", &[], n);
                    }
                });
                send(&mut conn, xml).await?;
            }
            ClientCommand::Info { name } => {
                let xml = domain_cmd("info", |x| {
                    x.leaf("domain:name", &[("hosts", "all")], name);
                });
                send(&mut conn, xml).await?;
            }
            ClientCommand::Create {
                name,
                years,
                registrant,
            } => {
                let registrant = match registrant {
                    Some(id) => id.clone(),
                    None => {
                        let id = format!(
                            "C{}",
                            &random_password().replace(['!', '+', '-'], "x")[..10]
                        );
                        send(&mut conn, contact_create_xml(&id)).await?;
                        id
                    }
                };
                let years = years.to_string();
                let password = random_password();
                let xml = domain_cmd("create", |x| {
                    x.leaf("domain:name", &[], name)
                        .leaf("domain:period", &[("unit", "y")], &years)
                        .leaf("domain:registrant", &[], &registrant)
                        .leaf("domain:contact", &[("type", "admin")], &registrant)
                        .leaf("domain:contact", &[("type", "tech")], &registrant)
                        .open("domain:authInfo", &[])
                        .leaf("domain:pw", &[], &password)
                        .close("domain:authInfo");
                });
                send(&mut conn, xml).await?;
            }
            ClientCommand::Send { files } => {
                for file in files {
                    let xml = std::fs::read(file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    send(&mut conn, xml).await?;
                }
            }
        }
        let _ = conn.transact(&logout_xml()).await;
        Ok(if worst < 2000 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
