//! Element tree → typed [`Request`]. Structure the schemas do not allow is a
//! 2001; values of the wrong form 2005 or 2004; verbs and objects the server
//! does not serve 2000/2101/2307; extensions it does not serve 2103.

use std::net::IpAddr;

use super::dom::{Element, XmlLimits, parse_document};
use super::ns::Ns;
use crate::error::EppError;
use crate::model::{
    AuthInfo, Command, ContactCreate, ContactInfo, ContactRole, ContactTransfer, ContactUpdate,
    Disclose, DomainCreate, DomainDelta, DomainInfo, DomainRenew, DomainTransfer, DomainUpdate,
    DsData, FeeQuery, HostCreate, HostUpdate, HostsFilter, IdentityDoc, IdentityKind, Login,
    ObjectKind, OffendingValue, PeriodSpec, Phone, PostalChange, PostalInfo, PostalType, Request,
    RestoreOp, SecDnsUpdate, Status, Text, TransferOp, UserAgent,
};

/// A request that could not be parsed, with the clTRID when it could be read.
#[derive(Debug)]
pub struct ParseFailure {
    /// Why.
    pub error: EppError,
    /// The client's transaction id, to echo.
    pub cl_trid: Option<String>,
}

/// Parses one frame.
///
/// # Errors
/// The result code the RFC gives for the fault, with the clTRID when it was readable.
pub fn parse_request(bytes: &[u8], limits: XmlLimits) -> Result<Request, ParseFailure> {
    let root = parse_document(bytes, limits).map_err(|error| ParseFailure {
        error,
        cl_trid: None,
    })?;
    if !root.is(&Ns::Epp, "epp") {
        return Err(ParseFailure {
            error: EppError::syntax(
                format!(
                    "the root element must be <epp> in namespace {}, not <{}> in {:?}",
                    super::ns::EPP,
                    root.name,
                    root.ns.uri()
                ),
                format!(
                    "l'élément racine doit être <epp> dans l'espace de noms {}, et non <{}> dans {:?}",
                    super::ns::EPP,
                    root.name,
                    root.ns.uri()
                ),
            ),
            cl_trid: None,
        });
    }
    let [body] = root.children.as_slice() else {
        return Err(ParseFailure {
            error: EppError::syntax(
                "<epp> must hold exactly one element",
                "<epp> doit contenir exactement un élément",
            ),
            cl_trid: None,
        });
    };
    if body.ns != Ns::Epp {
        return Err(ParseFailure {
            error: wrong_ns(body),
            cl_trid: None,
        });
    }
    match body.name.as_str() {
        "hello" => {
            if !body.children.is_empty() || !body.text().is_empty() {
                return Err(ParseFailure {
                    error: EppError::syntax("<hello> must be empty", "<hello> doit être vide"),
                    cl_trid: None,
                });
            }
            Ok(Request {
                command: Command::Hello,
                cl_trid: None,
            })
        }
        "command" => {
            let cl_trid = cl_trid(body);
            match parse_command(body) {
                Ok(command) => match cl_trid {
                    Ok(cl_trid) => Ok(Request { command, cl_trid }),
                    Err(error) => Err(ParseFailure {
                        error,
                        cl_trid: None,
                    }),
                },
                Err(error) => Err(ParseFailure {
                    error,
                    cl_trid: cl_trid.ok().flatten(),
                }),
            }
        }
        "extension" => Err(ParseFailure {
            error: EppError::UnimplementedCommand(Text::new(
                "protocol extension commands (<epp><extension>) are not served",
                "les commandes d'extension du protocole (<epp><extension>) ne sont pas prises en charge",
            )),
            cl_trid: None,
        }),
        "greeting" | "response" => Err(ParseFailure {
            error: EppError::syntax(
                format!("<{}> is sent by servers, not clients", body.name),
                format!(
                    "<{}> est envoyé par les serveurs, pas par les clients",
                    body.name
                ),
            ),
            cl_trid: None,
        }),
        other => Err(ParseFailure {
            error: EppError::syntax(
                format!("<{other}> is not an EPP element"),
                format!("<{other}> n'est pas un élément EPP"),
            ),
            cl_trid: None,
        }),
    }
}

fn wrong_ns(el: &Element) -> EppError {
    EppError::syntax(
        format!(
            "element <{}> is in namespace {:?}, where the schema expects another",
            el.name,
            el.ns.uri()
        ),
        format!(
            "l'élément <{}> est dans l'espace de noms {:?}, où le schéma en attend un autre",
            el.name,
            el.ns.uri()
        ),
    )
}

fn cl_trid(command: &Element) -> Result<Option<String>, EppError> {
    match command.children.iter().find(|c| c.is(&Ns::Epp, "clTRID")) {
        None => Ok(None),
        Some(el) => {
            let value = el.text();
            if (3..=64).contains(&value.chars().count()) {
                Ok(Some(value.to_owned()))
            } else {
                Err(EppError::syntax(
                    "<clTRID> must be 3 to 64 characters",
                    "<clTRID> doit compter de 3 à 64 caractères",
                ))
            }
        }
    }
}

fn parse_command(command: &Element) -> Result<Command, EppError> {
    let mut verb: Option<&Element> = None;
    let mut extension: Option<&Element> = None;
    for (i, child) in command.children.iter().enumerate() {
        if child.ns != Ns::Epp {
            return Err(wrong_ns(child));
        }
        match child.name.as_str() {
            "clTRID" => {
                if i + 1 != command.children.len() {
                    return Err(order_error(command, "clTRID"));
                }
            }
            "extension" => {
                if verb.is_none() || extension.is_some() {
                    return Err(order_error(command, "extension"));
                }
                extension = Some(child);
            }
            _ if verb.is_some() => {
                return Err(EppError::syntax(
                    "<command> must hold exactly one command",
                    "<command> doit contenir exactement une commande",
                ));
            }
            _ => verb = Some(child),
        }
    }
    let verb = verb.ok_or_else(|| {
        EppError::syntax(
            "<command> holds no command",
            "<command> ne contient aucune commande",
        )
    })?;
    let mut parsed = match verb.name.as_str() {
        "login" => parse_login(verb).map(Command::Login),
        "logout" => {
            no_children(verb)?;
            Ok(Command::Logout)
        }
        "check" | "info" | "create" | "update" | "delete" | "renew" => parse_object_command(verb),
        "transfer" => parse_transfer(verb),
        "poll" => parse_poll(verb),
        other => Err(EppError::UnknownCommand(Text::new(
            format!("<{other}> is not an EPP command"),
            format!("<{other}> n'est pas une commande EPP"),
        ))),
    }?;
    if let Some(ext) = extension {
        apply_extensions(&mut parsed, ext)?;
    }
    if let Command::Login(login) = &parsed {
        check_login_placeholders(login)?;
    }
    Ok(parsed)
}

fn parse_poll(verb: &Element) -> Result<Command, EppError> {
    no_children(verb)?;
    match (verb.attr("op"), verb.attr("msgID")) {
        (Some("req"), None) => Ok(Command::PollRequest),
        (Some("ack"), Some(id)) if !id.trim().is_empty() => {
            Ok(Command::PollAck(id.trim().to_owned()))
        }
        (Some("ack"), _) => Err(EppError::syntax(
            "<poll op=\"ack\"> needs a msgID",
            "<poll op=\"ack\"> exige un msgID",
        )),
        (Some("req"), Some(_)) => Err(EppError::syntax(
            "<poll op=\"req\"> takes no msgID",
            "<poll op=\"req\"> ne prend pas de msgID",
        )),
        _ => Err(EppError::syntax(
            "<poll> needs op=\"req\" or op=\"ack\"",
            "<poll> exige op=\"req\" ou op=\"ack\"",
        )),
    }
}

fn parse_transfer(verb: &Element) -> Result<Command, EppError> {
    let op = match verb.attr("op") {
        Some("request") => TransferOp::Request,
        Some("query") => TransferOp::Query,
        Some("approve") => TransferOp::Approve,
        Some("reject") => TransferOp::Reject,
        Some("cancel") => TransferOp::Cancel,
        _ => {
            return Err(EppError::syntax(
                "<transfer> needs op=\"request\", \"query\", \"approve\", \"reject\" or \"cancel\"",
                "<transfer> exige op=\"request\", \"query\", \"approve\", \"reject\" ou \"cancel\"",
            ));
        }
    };
    let [object] = verb.children.as_slice() else {
        return Err(EppError::syntax(
            "<transfer> must hold exactly one object element",
            "<transfer> doit contenir exactement un élément d'objet",
        ));
    };
    match &object.ns {
        Ns::Domain if object.name == "transfer" => {}
        Ns::Contact if object.name == "transfer" => {
            let mut c = Children::of(object, Ns::Contact);
            let id = token(c.required("id")?, 3, 16)?;
            let auth = c
                .optional("authInfo")
                .map(|a| parse_auth_info(a, Ns::Contact))
                .transpose()?;
            c.end()?;
            return Ok(Command::ContactTransfer(ContactTransfer {
                op,
                id,
                auth,
                reject_reason: None,
            }));
        }
        Ns::Epp | Ns::None | Ns::Domain | Ns::Contact | Ns::Host => {
            return Err(EppError::syntax(
                format!("<transfer> cannot hold <{}>", object.display_name()),
                format!("<transfer> ne peut contenir <{}>", object.display_name()),
            ));
        }
        other => {
            return Err(EppError::UnimplementedObject(Text::new(
                format!("the object service {} is not served", other.uri()),
                format!(
                    "le service d'objet {} n'est pas pris en charge",
                    other.uri()
                ),
            )));
        }
    }
    let mut c = Children::of(object, Ns::Domain);
    let name = token(c.required("name")?, 1, 255)?;
    let period = c.optional("period").map(parse_period).transpose()?;
    let auth = c
        .optional("authInfo")
        .map(|a| parse_auth_info(a, Ns::Domain))
        .transpose()?;
    c.end()?;
    Ok(Command::DomainTransfer(DomainTransfer {
        op,
        name,
        period,
        auth,
        reject_reason: None,
    }))
}

fn order_error(parent: &Element, child: &str) -> EppError {
    EppError::syntax(
        format!("<{child}> is out of place in <{}>", parent.name),
        format!("<{child}> est mal placé dans <{}>", parent.name),
    )
}

fn no_children(el: &Element) -> Result<(), EppError> {
    if el.children.is_empty() && el.text().is_empty() {
        Ok(())
    } else {
        Err(EppError::syntax(
            format!("<{}> must be empty", el.name),
            format!("<{}> doit être vide", el.name),
        ))
    }
}

/// Walks an element's children in schema order.
struct Children<'a> {
    parent: &'a Element,
    ns: Ns,
    pos: usize,
}

impl<'a> Children<'a> {
    fn of(parent: &'a Element, ns: Ns) -> Self {
        Self { parent, ns, pos: 0 }
    }

    fn peek_is(&self, name: &str) -> bool {
        self.parent
            .children
            .get(self.pos)
            .is_some_and(|c| c.is(&self.ns, name))
    }

    fn optional(&mut self, name: &str) -> Option<&'a Element> {
        if self.peek_is(name) {
            self.pos += 1;
            self.parent.children.get(self.pos - 1)
        } else {
            None
        }
    }

    fn required(&mut self, name: &str) -> Result<&'a Element, EppError> {
        self.optional(name).ok_or_else(|| self.expected(name))
    }

    fn many(&mut self, name: &str) -> Vec<&'a Element> {
        let mut out = Vec::new();
        while let Some(el) = self.optional(name) {
            out.push(el);
        }
        out
    }

    fn expected(&self, name: &str) -> EppError {
        let found = self.parent.children.get(self.pos);
        let prefix = Element {
            ns: self.ns.clone(),
            name: name.into(),
            attrs: vec![],
            text: String::new(),
            children: vec![],
        }
        .display_name();
        match found {
            Some(f) => EppError::syntax(
                format!(
                    "<{}> expects <{prefix}> where <{}> stands",
                    self.parent.display_name(),
                    f.display_name()
                ),
                format!(
                    "<{}> attend <{prefix}> à la place de <{}>",
                    self.parent.display_name(),
                    f.display_name()
                ),
            ),
            None => EppError::syntax(
                format!("<{}> lacks <{prefix}>", self.parent.display_name()),
                format!("il manque <{prefix}> dans <{}>", self.parent.display_name()),
            ),
        }
    }

    fn end(&self) -> Result<(), EppError> {
        match self.parent.children.get(self.pos) {
            None => Ok(()),
            Some(extra) => Err(EppError::syntax(
                format!(
                    "<{}> is not allowed here in <{}>",
                    extra.display_name(),
                    self.parent.display_name()
                ),
                format!(
                    "<{}> n'est pas permis ici dans <{}>",
                    extra.display_name(),
                    self.parent.display_name()
                ),
            )),
        }
    }
}

fn parse_login(login: &Element) -> Result<Login, EppError> {
    let mut c = Children::of(login, Ns::Epp);
    let cl_id = token(c.required("clID")?, 3, 16)?;
    let password = token(c.required("pw")?, 6, 16)?;
    let new_password = c.optional("newPW").map(|e| token(e, 6, 16)).transpose()?;
    let options = c.required("options")?;
    let svcs = c.required("svcs")?;
    c.end()?;
    let mut o = Children::of(options, Ns::Epp);
    let version = o.required("version")?.text().to_owned();
    let lang = o.required("lang")?.text().to_owned();
    o.end()?;
    let mut s = Children::of(svcs, Ns::Epp);
    let obj_uris: Vec<String> = s
        .many("objURI")
        .into_iter()
        .map(|e| e.text().to_owned())
        .collect();
    if obj_uris.is_empty() {
        return Err(s.expected("objURI"));
    }
    let mut ext_uris = Vec::new();
    if let Some(ext) = s.optional("svcExtension") {
        let mut e = Children::of(ext, Ns::Epp);
        ext_uris = e
            .many("extURI")
            .into_iter()
            .map(|e| e.text().to_owned())
            .collect();
        if ext_uris.is_empty() {
            return Err(e.expected("extURI"));
        }
        e.end()?;
    }
    s.end()?;
    Ok(Login {
        cl_id,
        password,
        new_password,
        version,
        lang,
        obj_uris,
        ext_uris,
        user_agent: None,
    })
}

/// The value RFC 8807 puts in `<pw>` or `<newPW>` when the password
/// travels in `<loginSec:pw>` or `<loginSec:newPW>`.
pub const LOGIN_SECURITY_SENTINEL: &str = "[LOGIN-SECURITY]";

/// `<loginSec:loginSec>` (RFC 8807) in a login: the user agent, and the
/// password and new password of any length, which replace the
/// `[LOGIN-SECURITY]` placeholders of `<pw>` and `<newPW>`.
fn apply_login_security(login: &mut Login, el: &Element) -> Result<(), EppError> {
    let mut ch = Children::of(el, Ns::LoginSec);
    let user_agent = ch.optional("userAgent");
    let password = ch.optional("pw").map(long_password).transpose()?;
    let new_password = ch.optional("newPW").map(long_password).transpose()?;
    ch.end()?;
    if user_agent.is_none() && password.is_none() && new_password.is_none() {
        return Err(EppError::syntax(
            "<loginSec:loginSec> must hold <loginSec:userAgent>, <loginSec:pw> or <loginSec:newPW>",
            "<loginSec:loginSec> doit contenir <loginSec:userAgent>, <loginSec:pw> ou <loginSec:newPW>",
        ));
    }
    if let Some(agent) = user_agent {
        let mut a = Children::of(agent, Ns::LoginSec);
        let mut part = |name| a.optional(name).map(|e| e.text().to_owned());
        let (app, tech, os) = (part("app"), part("tech"), part("os"));
        a.end()?;
        if app.is_none() && tech.is_none() && os.is_none() {
            return Err(EppError::syntax(
                "<loginSec:userAgent> must hold <loginSec:app>, <loginSec:tech> or <loginSec:os>",
                "<loginSec:userAgent> doit contenir <loginSec:app>, <loginSec:tech> ou <loginSec:os>",
            ));
        }
        login.user_agent = Some(UserAgent { app, tech, os });
    }
    if let Some(password) = password {
        if login.password != LOGIN_SECURITY_SENTINEL {
            return Err(placeholder_expected("pw"));
        }
        login.password = password;
    }
    if let Some(new_password) = new_password {
        if login.new_password.as_deref() != Some(LOGIN_SECURITY_SENTINEL) {
            return Err(placeholder_expected("newPW"));
        }
        login.new_password = Some(new_password);
    }
    Ok(())
}

/// A `<pw>` or `<newPW>` still holding the placeholder after the
/// extension was applied: its `<loginSec:…>` counterpart is missing.
fn check_login_placeholders(login: &Login) -> Result<(), EppError> {
    for (element, value) in [
        ("pw", Some(login.password.as_str())),
        ("newPW", login.new_password.as_deref()),
    ] {
        if value == Some(LOGIN_SECURITY_SENTINEL) {
            return Err(EppError::MissingParameter(Text::new(
                format!(
                    "<{element}> holds {LOGIN_SECURITY_SENTINEL} but the login has no <loginSec:{element}>"
                ),
                format!(
                    "<{element}> contient {LOGIN_SECURITY_SENTINEL} mais la connexion n'a pas de <loginSec:{element}>"
                ),
            )));
        }
    }
    Ok(())
}

fn placeholder_expected(element: &str) -> EppError {
    EppError::Policy(
        Text::new(
            format!(
                "<loginSec:{element}> is given, so <{element}> must hold {LOGIN_SECURITY_SENTINEL} (RFC 8807)"
            ),
            format!(
                "<loginSec:{element}> est donné, donc <{element}> doit contenir {LOGIN_SECURITY_SENTINEL} (RFC 8807)"
            ),
        ),
        None,
    )
}

/// A `<loginSec:pw>` or `<loginSec:newPW>`: a schema `token` of at least 6
/// characters, with no upper bound of its own (the frame and value limits
/// bound it).
fn long_password(el: &Element) -> Result<String, EppError> {
    token(el, 6, usize::MAX)
}

/// A schema `token` of `min..=max` characters; 2001 otherwise.
fn token(el: &Element, min: usize, max: usize) -> Result<String, EppError> {
    let value = el.text();
    let n = value.chars().count();
    if n < min || n > max {
        return Err(EppError::syntax(
            format!(
                "<{}> must be {min} to {max} characters, not {n}",
                el.display_name()
            ),
            format!(
                "<{}> doit compter de {min} à {max} caractères, et non {n}",
                el.display_name()
            ),
        ));
    }
    Ok(value.to_owned())
}

/// The quota mapping: `<info><quota:info/></info>`, and nothing else.
fn parse_quota_command(verb: &Element, object: &Element) -> Result<Command, EppError> {
    if verb.name != "info" {
        return Err(EppError::UnimplementedCommand(Text::new(
            format!("<{}> is not served for quotas: use <info>", verb.name),
            format!(
                "<{}> n'est pas pris en charge pour les quotas : utilisez <info>",
                verb.name
            ),
        )));
    }
    if object.name != "info" {
        return Err(EppError::syntax(
            format!(
                "<info> holds <{}>, expected <quota:info>",
                object.display_name()
            ),
            format!(
                "<info> contient <{}>, <quota:info> était attendu",
                object.display_name()
            ),
        ));
    }
    no_children(object)?;
    Ok(Command::QuotaInfo)
}

fn parse_object_command(verb: &Element) -> Result<Command, EppError> {
    let [object] = verb.children.as_slice() else {
        return Err(EppError::syntax(
            format!("<{}> must hold exactly one object element", verb.name),
            format!(
                "<{}> doit contenir exactement un élément d'objet",
                verb.name
            ),
        ));
    };
    let kind = match &object.ns {
        Ns::Domain => ObjectKind::Domain,
        Ns::Contact => ObjectKind::Contact,
        Ns::Host => ObjectKind::Host,
        Ns::Quota => return parse_quota_command(verb, object),
        Ns::Epp | Ns::None => return Err(wrong_ns(object)),
        other => {
            return Err(EppError::UnimplementedObject(Text::new(
                format!("the object service {} is not served", other.uri()),
                format!(
                    "le service d'objet {} n'est pas pris en charge",
                    other.uri()
                ),
            )));
        }
    };
    if object.name != verb.name {
        return Err(EppError::syntax(
            format!(
                "<{}> holds <{}>, expected <{}:{}>",
                verb.name,
                object.display_name(),
                kind.as_str(),
                verb.name
            ),
            format!(
                "<{}> contient <{}>, <{}:{}> était attendu",
                verb.name,
                object.display_name(),
                kind.as_str(),
                verb.name
            ),
        ));
    }
    match (verb.name.as_str(), kind) {
        ("check", _) => parse_check(object, kind),
        ("info", ObjectKind::Domain) => parse_domain_info(object).map(Command::DomainInfo),
        ("info", ObjectKind::Contact) => parse_contact_info(object).map(Command::ContactInfo),
        ("info", ObjectKind::Host) => {
            let mut c = Children::of(object, Ns::Host);
            let name = token(c.required("name")?, 1, 255)?;
            c.end()?;
            Ok(Command::HostInfo(name))
        }
        ("create", ObjectKind::Domain) => parse_domain_create(object).map(Command::DomainCreate),
        ("create", ObjectKind::Contact) => parse_contact_create(object).map(Command::ContactCreate),
        ("create", ObjectKind::Host) => parse_host_create(object).map(Command::HostCreate),
        ("update", ObjectKind::Domain) => {
            parse_domain_update(object).map(|u| Command::DomainUpdate(Box::new(u)))
        }
        ("update", ObjectKind::Contact) => {
            parse_contact_update(object).map(|u| Command::ContactUpdate(Box::new(u)))
        }
        ("update", ObjectKind::Host) => parse_host_update(object).map(Command::HostUpdate),
        ("delete", kind) => {
            let (ns, field, min) = match kind {
                ObjectKind::Domain => (Ns::Domain, "name", 1),
                ObjectKind::Contact => (Ns::Contact, "id", 3),
                ObjectKind::Host => (Ns::Host, "name", 1),
            };
            let mut c = Children::of(object, ns);
            let value = token(c.required(field)?, min, if min == 3 { 16 } else { 255 })?;
            c.end()?;
            Ok(match kind {
                ObjectKind::Domain => Command::DomainDelete(value),
                ObjectKind::Contact => Command::ContactDelete(value),
                ObjectKind::Host => Command::HostDelete(value),
            })
        }
        ("renew", ObjectKind::Domain) => parse_domain_renew(object).map(Command::DomainRenew),
        (verb, kind) => Err(EppError::syntax(
            format!("{} objects have no <{verb}> command", kind.as_str()),
            format!(
                "les objets {} n'ont pas de commande <{verb}>",
                kind.as_str()
            ),
        )),
    }
}

fn parse_check(object: &Element, kind: ObjectKind) -> Result<Command, EppError> {
    let (ns, field, min, max) = match kind {
        ObjectKind::Domain => (Ns::Domain, "name", 1, 255),
        ObjectKind::Contact => (Ns::Contact, "id", 3, 16),
        ObjectKind::Host => (Ns::Host, "name", 1, 255),
    };
    let mut c = Children::of(object, ns);
    let items = c.many(field);
    if items.is_empty() {
        return Err(c.expected(field));
    }
    c.end()?;
    let names = items
        .into_iter()
        .map(|e| token(e, min, max))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Command::Check(kind, names))
}

fn parse_auth_info(el: &Element, ns: Ns) -> Result<AuthInfo, EppError> {
    let mut c = Children::of(el, ns.clone());
    if let Some(pw) = c.optional("pw") {
        c.end()?;
        return Ok(AuthInfo {
            password: pw.text.clone(),
            roid: pw.attr("roid").map(str::to_owned),
        });
    }
    if c.peek_is("ext") {
        return Err(EppError::UnimplementedOption(Text::new(
            "only password authInfo (<pw>) is served",
            "seul l'authInfo par mot de passe (<pw>) est pris en charge",
        )));
    }
    Err(c.expected("pw"))
}

fn parse_domain_info(object: &Element) -> Result<DomainInfo, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let name_el = c.required("name")?;
    let name = token(name_el, 1, 255)?;
    let hosts = match name_el.attr("hosts") {
        None | Some("all") => HostsFilter::All,
        Some("del") => HostsFilter::Del,
        Some("sub") => HostsFilter::Sub,
        Some("none") => HostsFilter::None,
        Some(other) => {
            return Err(EppError::syntax(
                format!("hosts=\"{other}\" is not one of all, del, sub, none"),
                format!("hosts=\"{other}\" n'est pas l'une des valeurs all, del, sub, none"),
            ));
        }
    };
    let auth = c
        .optional("authInfo")
        .map(|a| parse_auth_info(a, Ns::Domain))
        .transpose()?;
    c.end()?;
    Ok(DomainInfo { name, hosts, auth })
}

fn parse_period(el: &Element) -> Result<PeriodSpec, EppError> {
    let months = match el.attr("unit") {
        Some("y") => false,
        Some("m") => true,
        _ => {
            return Err(EppError::syntax(
                "<domain:period> needs unit=\"y\" or unit=\"m\"",
                "<domain:period> exige unit=\"y\" ou unit=\"m\"",
            ));
        }
    };
    let text = el.text();
    // Out-of-range whole numbers are left to R7 (2004); anything else is a 2001.
    let value: u32 = text
        .parse()
        .ok()
        .filter(|_| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            EppError::syntax(
                format!("<domain:period> must be a whole number, not {text:?}"),
                format!("<domain:period> doit être un nombre entier, et non {text:?}"),
            )
        })?;
    Ok(PeriodSpec { value, months })
}

fn parse_domain_create(object: &Element) -> Result<DomainCreate, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let name = token(c.required("name")?, 1, 255)?;
    let period = c.optional("period").map(parse_period).transpose()?;
    let mut nameservers = Vec::new();
    let mut host_attr_used = false;
    if let Some(ns) = c.optional("ns") {
        let mut n = Children::of(ns, Ns::Domain);
        let objs = n.many("hostObj");
        if objs.is_empty() {
            let attrs = n.many("hostAttr");
            if attrs.is_empty() {
                return Err(n.expected("hostObj"));
            }
            host_attr_used = true;
        }
        n.end()?;
        nameservers = objs
            .into_iter()
            .map(|e| token(e, 1, 255))
            .collect::<Result<_, _>>()?;
    }
    let registrant = c
        .optional("registrant")
        .map(|e| token(e, 3, 16))
        .transpose()?;
    let mut contacts = Vec::new();
    for el in c.many("contact") {
        let role = el
            .attr("type")
            .and_then(ContactRole::parse)
            .ok_or_else(|| {
                EppError::syntax(
                    "<domain:contact> needs type=\"admin\", \"tech\" or \"billing\"",
                    "<domain:contact> exige type=\"admin\", \"tech\" ou \"billing\"",
                )
            })?;
        contacts.push((role, token(el, 3, 16)?));
    }
    let auth = parse_auth_info(c.required("authInfo")?, Ns::Domain)?;
    c.end()?;
    Ok(DomainCreate {
        name,
        period,
        nameservers,
        host_attr_used,
        registrant,
        contacts,
        auth_password: auth.password,
        ds_data: Vec::new(),
        proof_ref: None,
        allocation_token: None,
    })
}

fn parse_contact_info(object: &Element) -> Result<ContactInfo, EppError> {
    let mut c = Children::of(object, Ns::Contact);
    let id = token(c.required("id")?, 3, 16)?;
    let auth = c
        .optional("authInfo")
        .map(|a| parse_auth_info(a, Ns::Contact))
        .transpose()?;
    c.end()?;
    Ok(ContactInfo { id, auth })
}

fn value_syntax(
    ns: &'static str,
    name: &'static str,
    text: &str,
    en: String,
    fr: String,
) -> EppError {
    EppError::ValueSyntax(
        Text::new(en, fr),
        Some(OffendingValue::Element {
            ns,
            name,
            text: text.to_owned(),
        }),
    )
}

/// The `type` attribute of a postal info or of a disclose element: `int` or `loc`.
fn postal_type(el: &Element) -> Result<PostalType, EppError> {
    match el.attr("type") {
        Some("int") => Ok(PostalType::Int),
        Some("loc") => Ok(PostalType::Loc),
        _ => Err(EppError::syntax(
            format!("<{}> needs type=\"int\" or type=\"loc\"", el.display_name()),
            format!("<{}> exige type=\"int\" ou type=\"loc\"", el.display_name()),
        )),
    }
}

fn parse_postal_info(el: &Element) -> Result<PostalInfo, EppError> {
    let kind = postal_type(el)?;
    let mut c = Children::of(el, Ns::Contact);
    let name = token(c.required("name")?, 1, 255)?;
    let org = c.optional("org").map(|e| token(e, 1, 255)).transpose()?;
    let addr = c.required("addr")?;
    c.end()?;
    let mut a = Children::of(addr, Ns::Contact);
    let street = a
        .many("street")
        .into_iter()
        .map(|e| token(e, 1, 255))
        .collect::<Result<Vec<_>, _>>()?;
    if street.len() > 3 {
        return Err(EppError::syntax(
            "<contact:addr> allows at most 3 <contact:street>",
            "<contact:addr> permet au plus 3 <contact:street>",
        ));
    }
    let city = token(a.required("city")?, 1, 255)?;
    let sp = a.optional("sp").map(|e| token(e, 1, 255)).transpose()?;
    let pc = a.optional("pc").map(|e| token(e, 1, 16)).transpose()?;
    let cc_el = a.required("cc")?;
    a.end()?;
    let cc = cc_el.text();
    if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(value_syntax(
            "contact",
            "cc",
            cc,
            format!("{cc:?} is not a two-letter ISO 3166 country code"),
            format!("{cc:?} n'est pas un code pays ISO 3166 à deux lettres"),
        ));
    }
    let info = PostalInfo {
        kind,
        name,
        org,
        street,
        city,
        sp,
        pc,
        cc: cc.to_ascii_uppercase(),
    };
    if kind == PostalType::Int {
        let ascii = |s: &str| s.is_ascii();
        let all_ascii = ascii(&info.name)
            && info.org.as_deref().is_none_or(ascii)
            && info.street.iter().all(|s| ascii(s))
            && ascii(&info.city)
            && info.sp.as_deref().is_none_or(ascii)
            && info.pc.as_deref().is_none_or(ascii);
        if !all_ascii {
            return Err(value_syntax(
                "contact",
                "postalInfo",
                "int",
                "postalInfo type=\"int\" takes 7-bit ASCII only; use type=\"loc\" for other characters".into(),
                "postalInfo type=\"int\" n'accepte que l'ASCII 7 bits ; utilisez type=\"loc\" pour les autres caractères".into(),
            ));
        }
    }
    Ok(info)
}

fn parse_phone(el: &Element, name: &'static str) -> Result<Phone, EppError> {
    let number = el.text();
    let valid = number
        .strip_prefix('+')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(cc, n)| {
            (1..=3).contains(&cc.len())
                && (1..=14).contains(&n.len())
                && cc.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit())
        });
    if !valid {
        return Err(value_syntax(
            "contact",
            name,
            number,
            format!("{number:?} is not an E.164 number of the form +CCC.NNNNNNNNNNNNNN"),
            format!("{number:?} n'est pas un numéro E.164 de la forme +CCC.NNNNNNNNNNNNNN"),
        ));
    }
    Ok(Phone {
        number: number.to_owned(),
        ext: el.attr("x").filter(|x| !x.is_empty()).map(str::to_owned),
    })
}

fn parse_disclose(el: &Element) -> Result<Disclose, EppError> {
    let flag = match el.attr("flag") {
        Some("1") | Some("true") => true,
        Some("0") | Some("false") => false,
        _ => {
            return Err(EppError::syntax(
                "<contact:disclose> needs flag=\"0\" or flag=\"1\"",
                "<contact:disclose> exige flag=\"0\" ou flag=\"1\"",
            ));
        }
    };
    let mut c = Children::of(el, Ns::Contact);
    let mut d = Disclose {
        flag,
        ..Disclose::default()
    };
    d.name = c
        .many("name")
        .into_iter()
        .map(postal_type)
        .collect::<Result<_, _>>()?;
    d.org = c
        .many("org")
        .into_iter()
        .map(postal_type)
        .collect::<Result<_, _>>()?;
    d.addr = c
        .many("addr")
        .into_iter()
        .map(postal_type)
        .collect::<Result<_, _>>()?;
    d.voice = c.optional("voice").is_some();
    d.fax = c.optional("fax").is_some();
    d.email = c.optional("email").is_some();
    c.end()?;
    if d.name.len() > 2 || d.org.len() > 2 || d.addr.len() > 2 {
        return Err(EppError::syntax(
            "<contact:disclose> lists a field more than twice",
            "<contact:disclose> cite un champ plus de deux fois",
        ));
    }
    if d.name.is_empty() && d.org.is_empty() && d.addr.is_empty() && !d.voice && !d.fax && !d.email
    {
        return Err(EppError::syntax(
            "<contact:disclose> must name at least one field",
            "<contact:disclose> doit citer au moins un champ",
        ));
    }
    Ok(d)
}

fn parse_contact_create(object: &Element) -> Result<ContactCreate, EppError> {
    let mut c = Children::of(object, Ns::Contact);
    let id = token(c.required("id")?, 3, 16)?;
    let postal_els = c.many("postalInfo");
    if postal_els.is_empty() {
        return Err(c.expected("postalInfo"));
    }
    if postal_els.len() > 2 {
        return Err(EppError::syntax(
            "at most two <contact:postalInfo> are allowed",
            "au plus deux <contact:postalInfo> sont permis",
        ));
    }
    let postal = postal_els
        .into_iter()
        .map(parse_postal_info)
        .collect::<Result<Vec<_>, _>>()?;
    if postal.len() == 2 && postal[0].kind == postal[1].kind {
        return Err(EppError::syntax(
            "the two <contact:postalInfo> must be one int and one loc",
            "les deux <contact:postalInfo> doivent être un int et un loc",
        ));
    }
    let voice = c
        .optional("voice")
        .map(|e| parse_phone(e, "voice"))
        .transpose()?;
    let fax = c
        .optional("fax")
        .map(|e| parse_phone(e, "fax"))
        .transpose()?;
    let email_el = c.required("email")?;
    let email = email_el.text();
    check_email(email)?;
    let auth = parse_auth_info(c.required("authInfo")?, Ns::Contact)?;
    let disclose = c.optional("disclose").map(parse_disclose).transpose()?;
    c.end()?;
    Ok(ContactCreate {
        id,
        postal,
        voice,
        fax,
        email: email.to_owned(),
        auth_password: auth.password,
        disclose,
        identity: None,
    })
}

/// A contact's `<contact:email>` (RFC 5733 §2.6); 2005 with the reason
/// otherwise.
fn check_email(email: &str) -> Result<(), EppError> {
    crate::policy::email::check_email(email).map_err(|why| {
        value_syntax(
            "contact",
            "email",
            email,
            format!("{email:?} is not an e-mail address: {}", why.en),
            format!("{email:?} n'est pas une adresse électronique : {}", why.fr),
        )
    })
}

fn parse_status(el: &Element) -> Result<Status, EppError> {
    let s = el.attr("s").unwrap_or("");
    Status::parse(s).ok_or_else(|| {
        EppError::syntax(
            format!("s=\"{s}\" is not an EPP status value"),
            format!("s=\"{s}\" n'est pas une valeur de statut EPP"),
        )
    })
}

fn parse_domain_delta(el: &Element) -> Result<(DomainDelta, bool), EppError> {
    let mut c = Children::of(el, Ns::Domain);
    let mut delta = DomainDelta::default();
    let mut host_attr_used = false;
    if let Some(ns) = c.optional("ns") {
        let mut n = Children::of(ns, Ns::Domain);
        let objs = n.many("hostObj");
        if objs.is_empty() {
            if n.many("hostAttr").is_empty() {
                return Err(n.expected("hostObj"));
            }
            host_attr_used = true;
        }
        n.end()?;
        delta.nameservers = objs
            .into_iter()
            .map(|e| token(e, 1, 255))
            .collect::<Result<_, _>>()?;
    }
    for el in c.many("contact") {
        let role = el
            .attr("type")
            .and_then(ContactRole::parse)
            .ok_or_else(|| {
                EppError::syntax(
                    "<domain:contact> needs type=\"admin\", \"tech\" or \"billing\"",
                    "<domain:contact> exige type=\"admin\", \"tech\" ou \"billing\"",
                )
            })?;
        delta.contacts.push((role, token(el, 3, 16)?));
    }
    delta.statuses = c
        .many("status")
        .into_iter()
        .map(parse_status)
        .collect::<Result<_, _>>()?;
    c.end()?;
    Ok((delta, host_attr_used))
}

fn parse_domain_update(object: &Element) -> Result<DomainUpdate, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let mut u = DomainUpdate {
        name: token(c.required("name")?, 1, 255)?,
        ..DomainUpdate::default()
    };
    if let Some(add) = c.optional("add") {
        let (delta, attr) = parse_domain_delta(add)?;
        u.add = delta;
        u.host_attr_used |= attr;
    }
    if let Some(rem) = c.optional("rem") {
        let (delta, attr) = parse_domain_delta(rem)?;
        u.rem = delta;
        u.host_attr_used |= attr;
    }
    if let Some(chg) = c.optional("chg") {
        let mut ch = Children::of(chg, Ns::Domain);
        u.registrant = ch.optional("registrant").map(|e| e.text().to_owned());
        if let Some(auth) = ch.optional("authInfo") {
            let mut a = Children::of(auth, Ns::Domain);
            if let Some(pw) = a.optional("pw") {
                u.auth_password = Some(pw.text.clone());
            } else if a.optional("null").is_some() {
                u.auth_password = Some(String::new());
            } else if a.peek_is("ext") {
                return Err(EppError::UnimplementedOption(Text::new(
                    "only password authInfo (<pw>) is served",
                    "seul l'authInfo par mot de passe (<pw>) est pris en charge",
                )));
            } else {
                return Err(a.expected("pw"));
            }
            a.end()?;
        }
        ch.end()?;
    }
    c.end()?;
    Ok(u)
}

fn parse_domain_renew(object: &Element) -> Result<DomainRenew, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let name = token(c.required("name")?, 1, 255)?;
    let date_el = c.required("curExpDate")?;
    let current_expiry =
        chrono::NaiveDate::parse_from_str(date_el.text(), "%Y-%m-%d").map_err(|_| {
            EppError::syntax(
                format!(
                    "<domain:curExpDate> {:?} is not a date YYYY-MM-DD",
                    date_el.text()
                ),
                format!(
                    "<domain:curExpDate> {:?} n'est pas une date AAAA-MM-JJ",
                    date_el.text()
                ),
            )
        })?;
    let period = c.optional("period").map(parse_period).transpose()?;
    c.end()?;
    Ok(DomainRenew {
        name,
        current_expiry,
        period,
    })
}

fn parse_contact_update(object: &Element) -> Result<ContactUpdate, EppError> {
    let mut c = Children::of(object, Ns::Contact);
    let mut u = ContactUpdate {
        id: token(c.required("id")?, 3, 16)?,
        ..ContactUpdate::default()
    };
    let statuses = |el: &Element| -> Result<Vec<Status>, EppError> {
        let mut s = Children::of(el, Ns::Contact);
        let list = s.many("status");
        if list.is_empty() {
            return Err(s.expected("status"));
        }
        s.end()?;
        list.into_iter().map(parse_status).collect()
    };
    if let Some(add) = c.optional("add") {
        u.add_statuses = statuses(add)?;
    }
    if let Some(rem) = c.optional("rem") {
        u.rem_statuses = statuses(rem)?;
    }
    if let Some(chg) = c.optional("chg") {
        let mut ch = Children::of(chg, Ns::Contact);
        for p in ch.many("postalInfo") {
            u.postal.push(parse_postal_change(p)?);
        }
        if u.postal.len() == 2 && u.postal[0].kind == u.postal[1].kind {
            return Err(EppError::syntax(
                "the two <contact:postalInfo> must be one int and one loc",
                "les deux <contact:postalInfo> doivent être un int et un loc",
            ));
        }
        u.voice = ch
            .optional("voice")
            .map(|e| optional_phone(e, "voice"))
            .transpose()?;
        u.fax = ch
            .optional("fax")
            .map(|e| optional_phone(e, "fax"))
            .transpose()?;
        if let Some(email) = ch.optional("email") {
            let text = email.text();
            check_email(text)?;
            u.email = Some(text.to_owned());
        }
        if let Some(auth) = ch.optional("authInfo") {
            u.auth_password = Some(parse_auth_info(auth, Ns::Contact)?.password);
        }
        u.disclose = ch.optional("disclose").map(parse_disclose).transpose()?;
        ch.end()?;
    }
    c.end()?;
    Ok(u)
}

fn optional_phone(el: &Element, name: &'static str) -> Result<Option<Phone>, EppError> {
    if el.text().is_empty() {
        Ok(None)
    } else {
        parse_phone(el, name).map(Some)
    }
}

fn parse_postal_change(el: &Element) -> Result<PostalChange, EppError> {
    let kind = postal_type(el)?;
    let mut c = Children::of(el, Ns::Contact);
    let name = c.optional("name").map(|e| token(e, 1, 255)).transpose()?;
    let org = c
        .optional("org")
        .map(|e| {
            if e.text().is_empty() {
                Ok(None)
            } else {
                token(e, 1, 255).map(Some)
            }
        })
        .transpose()?;
    let addr_el = c.optional("addr");
    c.end()?;
    let addr = match addr_el {
        None => None,
        Some(addr) => {
            // Reuse the full postal-info parser on a synthetic element.
            let synthetic = Element {
                ns: Ns::Contact,
                name: "postalInfo".into(),
                attrs: vec![("type".into(), kind.as_str().into())],
                text: String::new(),
                children: vec![
                    Element {
                        ns: Ns::Contact,
                        name: "name".into(),
                        attrs: vec![],
                        text: "-".into(),
                        children: vec![],
                    },
                    addr.clone(),
                ],
            };
            Some(parse_postal_info(&synthetic)?)
        }
    };
    if let (PostalType::Int, Some(n)) = (kind, &name)
        && !n.is_ascii()
    {
        return Err(value_syntax(
            "contact",
            "postalInfo",
            "int",
            "postalInfo type=\"int\" takes 7-bit ASCII only".into(),
            "postalInfo type=\"int\" n'accepte que l'ASCII 7 bits".into(),
        ));
    }
    Ok(PostalChange {
        kind,
        name,
        org,
        addr,
    })
}

fn parse_host_addrs(list: Vec<&Element>) -> Result<Vec<IpAddr>, EppError> {
    let mut addrs = Vec::with_capacity(list.len());
    for el in list {
        let text = el.text();
        let want_v6 = match el.attr("ip") {
            None | Some("v4") => false,
            Some("v6") => true,
            Some(_) => {
                return Err(EppError::syntax(
                    "<host:addr> takes ip=\"v4\" or ip=\"v6\"",
                    "<host:addr> prend ip=\"v4\" ou ip=\"v6\"",
                ));
            }
        };
        let addr: IpAddr = text
            .parse()
            .ok()
            .filter(|a: &IpAddr| a.is_ipv6() == want_v6)
            .ok_or_else(|| {
                let v = if want_v6 { 6 } else { 4 };
                value_syntax(
                    "host",
                    "addr",
                    text,
                    format!("{text:?} is not an IPv{v} address"),
                    format!("{text:?} n'est pas une adresse IPv{v}"),
                )
            })?;
        addrs.push(addr);
    }
    Ok(addrs)
}

fn parse_host_update(object: &Element) -> Result<HostUpdate, EppError> {
    let mut c = Children::of(object, Ns::Host);
    let mut u = HostUpdate {
        name: token(c.required("name")?, 1, 255)?,
        ..HostUpdate::default()
    };
    let delta = |el: &Element| -> Result<(Vec<IpAddr>, Vec<Status>), EppError> {
        let mut d = Children::of(el, Ns::Host);
        let addrs = parse_host_addrs(d.many("addr"))?;
        let statuses = d
            .many("status")
            .into_iter()
            .map(parse_status)
            .collect::<Result<Vec<_>, _>>()?;
        d.end()?;
        if addrs.is_empty() && statuses.is_empty() {
            return Err(EppError::syntax(
                format!("<host:{}> must name an address or a status", el.name),
                format!("<host:{}> doit citer une adresse ou un statut", el.name),
            ));
        }
        Ok((addrs, statuses))
    };
    if let Some(add) = c.optional("add") {
        (u.add_addrs, u.add_statuses) = delta(add)?;
    }
    if let Some(rem) = c.optional("rem") {
        (u.rem_addrs, u.rem_statuses) = delta(rem)?;
    }
    if let Some(chg) = c.optional("chg") {
        let mut ch = Children::of(chg, Ns::Host);
        u.new_name = Some(token(ch.required("name")?, 1, 255)?);
        ch.end()?;
    }
    c.end()?;
    Ok(u)
}

fn unsigned<T: std::str::FromStr>(el: &Element) -> Result<T, EppError> {
    el.text().parse().map_err(|_| {
        EppError::syntax(
            format!(
                "<{}> {:?} is out of its type's range",
                el.display_name(),
                el.text()
            ),
            format!(
                "<{}> {:?} sort de l'intervalle de son type",
                el.display_name(),
                el.text()
            ),
        )
    })
}

fn parse_ds_data(el: &Element) -> Result<DsData, EppError> {
    let mut c = Children::of(el, Ns::SecDns);
    let key_tag: u16 = unsigned(c.required("keyTag")?)?;
    let alg: u8 = unsigned(c.required("alg")?)?;
    let digest_type: u8 = unsigned(c.required("digestType")?)?;
    let digest_el = c.required("digest")?;
    if c.optional("keyData").is_some() {
        // Optional key data alongside a DS record is accepted and not kept.
    }
    c.end()?;
    let digest = digest_el.text().to_ascii_uppercase();
    if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EppError::syntax(
            "<secDNS:digest> must be hexadecimal",
            "<secDNS:digest> doit être hexadécimal",
        ));
    }
    Ok(DsData {
        key_tag,
        alg,
        digest_type,
        digest,
    })
}

fn ds_list(parent: &Element) -> Result<Vec<DsData>, EppError> {
    let mut c = Children::of(parent, Ns::SecDns);
    let list = c.many("dsData");
    if list.is_empty() {
        if c.peek_is("keyData") {
            return Err(EppError::Policy(
                Text::new(
                    "RFC 5910: this registry serves the DS data interface; send <secDNS:dsData>, not <secDNS:keyData>",
                    "RFC 5910 : ce registre sert l'interface DS ; envoyez <secDNS:dsData>, pas <secDNS:keyData>",
                ),
                None,
            ));
        }
        return Err(c.expected("dsData"));
    }
    c.end()?;
    list.into_iter().map(parse_ds_data).collect()
}

fn no_max_sig_life() -> EppError {
    EppError::UnimplementedOption(Text::new(
        "<secDNS:maxSigLife> is not served",
        "<secDNS:maxSigLife> n'est pas pris en charge",
    ))
}

fn parse_secdns_create(el: &Element) -> Result<Vec<DsData>, EppError> {
    if el
        .children
        .first()
        .is_some_and(|c| c.is(&Ns::SecDns, "maxSigLife"))
    {
        return Err(no_max_sig_life());
    }
    ds_list(el)
}

fn parse_secdns_update(el: &Element) -> Result<SecDnsUpdate, EppError> {
    if matches!(el.attr("urgent"), Some("1") | Some("true")) {
        return Err(EppError::UnimplementedOption(Text::new(
            "urgent DNSSEC updates are not served",
            "les mises à jour DNSSEC urgentes ne sont pas prises en charge",
        )));
    }
    let mut c = Children::of(el, Ns::SecDns);
    let mut u = SecDnsUpdate::default();
    if let Some(rem) = c.optional("rem") {
        let mut r = Children::of(rem, Ns::SecDns);
        if let Some(all) = r.optional("all") {
            r.end()?;
            u.remove_all = match all.text() {
                "1" | "true" => true,
                "0" | "false" => false,
                other => {
                    return Err(EppError::syntax(
                        format!("<secDNS:all> {other:?} is not a boolean"),
                        format!("<secDNS:all> {other:?} n'est pas un booléen"),
                    ));
                }
            };
        } else {
            u.remove = ds_list(rem)?;
        }
    }
    if let Some(add) = c.optional("add") {
        u.add = ds_list(add)?;
    }
    if c.optional("chg").is_some() {
        return Err(no_max_sig_life());
    }
    c.end()?;
    if !u.remove_all && u.remove.is_empty() && u.add.is_empty() {
        return Err(EppError::syntax(
            "<secDNS:update> must add or remove something",
            "<secDNS:update> doit ajouter ou retirer quelque chose",
        ));
    }
    Ok(u)
}

fn parse_identity(el: &Element) -> Result<IdentityDoc, EppError> {
    let mut c = Children::of(el, Ns::Ma);
    let kind_el = c.required("type")?;
    let number = token(c.required("number")?, 1, 64)?;
    c.end()?;
    let kind = IdentityKind::parse(kind_el.text()).ok_or_else(|| {
        EppError::syntax(
            format!(
                "<ma:type> {:?} is not one of cin, residence, passport, rc, ice, other",
                kind_el.text()
            ),
            format!(
                "<ma:type> {:?} n'est pas l'un de cin, residence, passport, rc, ice, other",
                kind_el.text()
            ),
        )
    })?;
    Ok(IdentityDoc { kind, number })
}

fn parse_fee_check(el: &Element) -> Result<(Vec<FeeQuery>, Option<String>), EppError> {
    let mut c = Children::of(el, Ns::Fee);
    let currency = c.optional("currency").map(|e| e.text().to_owned());
    let commands = c.many("command");
    if commands.is_empty() {
        return Err(c.expected("command"));
    }
    c.end()?;
    let mut queries = Vec::with_capacity(commands.len());
    for command in commands {
        let name = match command.attr("name") {
            Some("create") => "create",
            Some("renew") => "renew",
            Some("restore") => "restore",
            Some("transfer") => "transfer",
            Some(other) => {
                return Err(EppError::UnimplementedOption(Text::new(
                    format!("fees are given for create, renew, restore and transfer, not {other}"),
                    format!(
                        "les frais sont donnés pour create, renew, restore et transfer, pas {other}"
                    ),
                )));
            }
            None => {
                return Err(EppError::syntax(
                    "<fee:command> needs a name",
                    "<fee:command> exige un nom",
                ));
            }
        };
        let mut p = Children::of(command, Ns::Fee);
        let period = p.optional("period").map(parse_period).transpose()?;
        p.end()?;
        let years = crate::policy::r7_period_years(period)?;
        queries.push(FeeQuery {
            command: name,
            years,
        });
    }
    Ok((queries, currency))
}

fn not_applicable(el: &Element) -> EppError {
    EppError::UnimplementedExtension(Text::new(
        format!(
            "the extension element <{}> of {} does not apply to this command",
            el.name,
            el.ns.uri()
        ),
        format!(
            "l'élément d'extension <{}> de {} ne s'applique pas à cette commande",
            el.name,
            el.ns.uri()
        ),
    ))
}

/// Merges the `<extension>` elements into the command they extend.
fn apply_extensions(cmd: &mut Command, ext: &Element) -> Result<(), EppError> {
    let mut seen: Vec<(&Ns, &str)> = Vec::new();
    for el in &ext.children {
        if seen.contains(&(&el.ns, el.name.as_str())) {
            return Err(EppError::syntax(
                format!(
                    "the extension element <{}> appears twice",
                    el.display_name()
                ),
                format!(
                    "l'élément d'extension <{}> apparaît deux fois",
                    el.display_name()
                ),
            ));
        }
        seen.push((&el.ns, el.name.as_str()));
        match (&el.ns, el.name.as_str(), &mut *cmd) {
            (Ns::SecDns, "create", Command::DomainCreate(c)) => {
                c.ds_data = parse_secdns_create(el)?
            }
            (Ns::SecDns, "update", Command::DomainUpdate(u)) => {
                u.sec_dns = Some(parse_secdns_update(el)?)
            }
            (Ns::Ma, "create", Command::ContactCreate(c)) => {
                let mut ch = Children::of(el, Ns::Ma);
                c.identity = Some(parse_identity(ch.required("identity")?)?);
                ch.end()?;
            }
            (Ns::Ma, "update", Command::ContactUpdate(u)) => {
                let mut ch = Children::of(el, Ns::Ma);
                u.identity = ch.optional("identity").map(parse_identity).transpose()?;
                if ch.optional("proofRef").is_some() {
                    return Err(not_applicable(el));
                }
                ch.end()?;
            }
            (Ns::Ma, "update", Command::DomainUpdate(u)) => {
                let mut ch = Children::of(el, Ns::Ma);
                if ch.optional("identity").is_some() {
                    return Err(not_applicable(el));
                }
                u.proof_ref = ch
                    .optional("proofRef")
                    .map(|e| token(e, 1, 255))
                    .transpose()?;
                ch.end()?;
            }
            (Ns::Ma, "transferReject", Command::DomainTransfer(t))
                if t.op == TransferOp::Reject =>
            {
                t.reject_reason = Some(parse_transfer_reject(el)?);
            }
            (Ns::Ma, "transferReject", Command::ContactTransfer(t))
                if t.op == TransferOp::Reject =>
            {
                t.reject_reason = Some(parse_transfer_reject(el)?);
            }
            (Ns::Ma, "domainCreate", Command::DomainCreate(c)) => {
                let mut ch = Children::of(el, Ns::Ma);
                c.proof_ref = Some(token(ch.required("proofRef")?, 1, 255)?);
                ch.end()?;
            }
            (Ns::Rgp, "update", Command::DomainUpdate(u)) => {
                let mut ch = Children::of(el, Ns::Rgp);
                let restore = ch.required("restore")?;
                ch.end()?;
                u.restore = Some(match restore.attr("op") {
                    Some("request") => RestoreOp::Request,
                    Some("report") => RestoreOp::Report,
                    _ => {
                        return Err(EppError::syntax(
                            "<rgp:restore> needs op=\"request\" or op=\"report\"",
                            "<rgp:restore> exige op=\"request\" ou op=\"report\"",
                        ));
                    }
                });
            }
            (Ns::Fee, "check", Command::Check(ObjectKind::Domain, names)) => {
                let (queries, currency) = parse_fee_check(el)?;
                *cmd = Command::DomainCheckFee(std::mem::take(names), queries, currency);
            }
            (Ns::Fee, "create" | "renew" | "update", _) => {
                // The client's agreement to a fee: the server charges its own price.
            }
            (Ns::LoginSec, "loginSec", Command::Login(login)) => {
                apply_login_security(login, el)?;
            }
            (Ns::AllocationToken, "allocationToken", Command::DomainCreate(c)) => {
                c.allocation_token = Some(token(el, 1, 255)?);
            }
            (
                Ns::SecDns | Ns::Ma | Ns::Rgp | Ns::AllocationToken | Ns::Fee | Ns::LoginSec,
                _,
                _,
            ) => {
                return Err(not_applicable(el));
            }
            _ => {
                return Err(EppError::UnimplementedExtension(Text::new(
                    format!(
                        "the extension {} (<{}>) is not served",
                        el.ns.uri(),
                        el.name
                    ),
                    format!(
                        "l'extension {} (<{}>) n'est pas prise en charge",
                        el.ns.uri(),
                        el.name
                    ),
                )));
            }
        }
    }
    Ok(())
}

/// The reason of `<ma:transferReject>`.
fn parse_transfer_reject(el: &Element) -> Result<String, EppError> {
    let mut ch = Children::of(el, Ns::Ma);
    let reason = token(ch.required("reason")?, 1, 1000)?;
    ch.end()?;
    Ok(reason)
}

fn parse_host_create(object: &Element) -> Result<HostCreate, EppError> {
    let mut c = Children::of(object, Ns::Host);
    let name = token(c.required("name")?, 1, 255)?;
    let addrs = parse_host_addrs(c.many("addr"))?;
    c.end()?;
    Ok(HostCreate { name, addrs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<Request, ParseFailure> {
        parse_request(xml.as_bytes(), XmlLimits::default())
    }

    #[test]
    fn check_with_any_prefix() {
        let req = parse(
            r#"<x:epp xmlns:x="urn:ietf:params:xml:ns:epp-1.0"><x:command><x:check>
            <d:check xmlns:d="urn:ietf:params:xml:ns:domain-1.0"><d:name>a.ma</d:name><d:name>b.ma</d:name></d:check>
            </x:check><x:clTRID>ABC-1</x:clTRID></x:command></x:epp>"#,
        )
        .unwrap();
        assert_eq!(req.cl_trid.as_deref(), Some("ABC-1"));
        assert_eq!(
            req.command,
            Command::Check(ObjectKind::Domain, vec!["a.ma".into(), "b.ma".into()])
        );
    }

    #[test]
    fn unknown_verbs_objects_and_extensions() {
        let unknown = parse(r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><frobnicate/><clTRID>abc</clTRID></command></epp>"#).unwrap_err();
        assert_eq!(unknown.error.result_code().code(), 2000);
        assert_eq!(unknown.cl_trid.as_deref(), Some("abc"));
        let object = parse(r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><f:check xmlns:f="urn:example:foo"/></check></command></epp>"#).unwrap_err();
        assert_eq!(object.error.result_code().code(), 2307);
        let ext = parse(r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><host:check xmlns:host="urn:ietf:params:xml:ns:host-1.0"><host:name>ns.a.ma</host:name></host:check></check><extension><f:x xmlns:f="urn:example:foo"/></extension></command></epp>"#).unwrap_err();
        assert_eq!(ext.error.result_code().code(), 2103);
    }

    #[test]
    fn contact_transfer_with_auth_info_and_an_optional_reason() {
        let req = parse(
            r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><transfer op="request">
            <c:transfer xmlns:c="urn:ietf:params:xml:ns:contact-1.0"><c:id>cnt-1</c:id><c:authInfo><c:pw>Cnt-Auth-2024</c:pw></c:authInfo></c:transfer>
            </transfer><clTRID>ABC-2</clTRID></command></epp>"#,
        )
        .unwrap();
        assert_eq!(
            req.command,
            Command::ContactTransfer(ContactTransfer {
                op: TransferOp::Request,
                id: "cnt-1".into(),
                auth: Some(AuthInfo {
                    password: "Cnt-Auth-2024".into(),
                    roid: None,
                }),
                reject_reason: None,
            })
        );
        let req = parse(
            r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><transfer op="reject">
            <c:transfer xmlns:c="urn:ietf:params:xml:ns:contact-1.0"><c:id>cnt-1</c:id></c:transfer></transfer>
            <extension><ma:transferReject xmlns:ma="http://www.anrt.ma/epp/ma-1.0"><ma:reason>Non</ma:reason></ma:transferReject></extension>
            <clTRID>ABC-3</clTRID></command></epp>"#,
        )
        .unwrap();
        let Command::ContactTransfer(t) = req.command else {
            panic!("not a contact transfer: {:?}", req.command);
        };
        assert_eq!(
            (t.op, t.reject_reason.as_deref()),
            (TransferOp::Reject, Some("Non"))
        );
        let wrong = parse(
            r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><transfer op="approve">
            <c:transfer xmlns:c="urn:ietf:params:xml:ns:contact-1.0"><c:id>cnt-1</c:id></c:transfer></transfer>
            <extension><ma:transferReject xmlns:ma="http://www.anrt.ma/epp/ma-1.0"><ma:reason>Non</ma:reason></ma:transferReject></extension>
            <clTRID>ABC-4</clTRID></command></epp>"#,
        )
        .unwrap_err();
        assert_eq!(wrong.error.result_code().code(), 2103);
    }

    #[test]
    fn wrong_root_namespace_is_a_syntax_error() {
        let err =
            parse(r#"<epp xmlns="urn:ietf:params:xml:ns:epp-0.4"><hello/></epp>"#).unwrap_err();
        assert_eq!(err.error.result_code().code(), 2001);
    }
}
