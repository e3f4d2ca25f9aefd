//! `client …`: a small EPP client over TLS with a registrar's certificate:
//! check, info or create a domain, or send an XML file, and print the
//! response. Exit code 0 when every result code is 1xxx, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::transport::{self, crypto_provider};
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

struct Xml(Writer<Vec<u8>>);

impl Xml {
    fn new() -> Self {
        let mut x = Self(Writer::new_with_indent(Vec::new(), b' ', 2));
        x.ev(Event::Decl(BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            Some("no"),
        )));
        x
    }
    fn ev(&mut self, e: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.0.write_event(e);
    }
    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.ev(Event::Start(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ));
        self
    }
    fn close(&mut self, name: &str) -> &mut Self {
        self.ev(Event::End(BytesEnd::new(name)));
        self
    }
    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.open(name, attrs);
        self.ev(Event::Text(BytesText::new(text)));
        self.close(name)
    }
    fn command(body: impl FnOnce(&mut Xml), cl_trid: &str) -> Vec<u8> {
        let mut x = Xml::new();
        x.open("epp", &[("xmlns", ns::EPP)]).open("command", &[]);
        body(&mut x);
        x.leaf("clTRID", &[], cl_trid).close("command").close("epp");
        x.0.into_inner()
    }
}

fn login_xml(clid: &str, password: &str, lang: &str) -> Vec<u8> {
    Xml::command(
        |x| {
            x.open("login", &[])
                .leaf("clID", &[], clid)
                .leaf("pw", &[], password)
                .open("options", &[])
                .leaf("version", &[], "1.0")
                .leaf("lang", &[], lang)
                .close("options")
                .open("svcs", &[]);
            for uri in ns::OBJECT_URIS {
                x.leaf("objURI", &[], uri);
            }
            x.open("svcExtension", &[])
                .leaf("extURI", &[], ns::MA)
                .close("svcExtension");
            x.close("svcs").close("login");
        },
        "cli-login",
    )
}

fn domain_cmd(verb: &str, inner: impl FnOnce(&mut Xml)) -> Vec<u8> {
    Xml::command(
        |x| {
            x.open(verb, &[])
                .open(&format!("domain:{verb}"), &[("xmlns:domain", ns::DOMAIN)]);
            inner(x);
            x.close(&format!("domain:{verb}")).close(verb);
        },
        "cli-cmd",
    )
}

fn contact_create_xml(id: &str) -> Vec<u8> {
    Xml::command(
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
        "cli-contact",
    )
}

fn random_password() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| {
            let chars = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!+-";
            chars[rng.gen_range(0..chars.len())] as char
        })
        .collect()
}

struct Connection {
    tls: TlsStream<TcpStream>,
    buf: Vec<u8>,
}

impl Connection {
    async fn open(args: &ClientArgs) -> anyhow::Result<Self> {
        let cert = args
            .cert
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("certs/{}.pem", args.clid)));
        let key = args
            .key
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("certs/{}.key", args.clid)));
        let mut roots = RootCertStore::empty();
        for ca in transport::load_certs(&args.ca)? {
            roots.add(ca)?;
        }
        let config = ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(
                transport::load_certs(&cert)?,
                PrivateKeyDer::from_pem_file(&key)
                    .with_context(|| format!("cannot read {}", key.display()))?,
            )?;
        let host = args
            .server
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(&args.server)
            .trim_matches(['[', ']']);
        let tcp = TcpStream::connect(&args.server)
            .await
            .with_context(|| format!("cannot connect to {}", args.server))?;
        let name = ServerName::try_from(host.to_owned())?;
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .context("TLS handshake failed")?;
        let mut conn = Self {
            tls,
            buf: Vec::new(),
        };
        conn.receive().await?;
        Ok(conn)
    }

    async fn receive(&mut self) -> anyhow::Result<String> {
        let t = Duration::from_secs(30);
        if !transport::read_frame(&mut self.tls, &mut self.buf, 16 << 20, t, t).await? {
            bail!("the server closed the connection");
        }
        Ok(String::from_utf8_lossy(&self.buf).into_owned())
    }

    async fn transact(&mut self, xml: &[u8]) -> anyhow::Result<String> {
        transport::write_frame(&mut self.tls, xml, Duration::from_secs(30)).await?;
        self.receive().await
    }
}

fn result_code(xml: &str) -> u16 {
    xml.split("code=\"")
        .nth(1)
        .and_then(|s| s.get(..4))
        .and_then(|s| s.parse().ok())
        .unwrap_or(2400)
}

pub fn run(args: &ClientArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let mut conn = Connection::open(args).await?;
        let login = conn
            .transact(&login_xml(&args.clid, &args.password, &args.lang))
            .await?;
        if result_code(&login) >= 2000 {
            println!("{login}");
            bail!("login failed");
        }
        let mut worst = 1000;
        let mut send = async |conn: &mut Connection, xml: Vec<u8>| -> anyhow::Result<()> {
            let response = conn.transact(&xml).await?;
            println!("{response}");
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
        let logout = Xml::command(
            |x| {
                x.open("logout", &[]).close("logout");
            },
            "cli-logout",
        );
        let _ = conn.transact(&logout).await;
        Ok(if worst < 2000 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
