//! Element tree → typed [`Request`]. Structure the schemas do not allow is a
//! 2001; values of the wrong form 2005 or 2004; verbs and objects the server
//! does not serve 2000/2101/2307; extensions it does not serve 2103. This
//! file owns the frame and `<command>` level: the root, the clTRID, the verb
//! and the object it names; each object's commands, the session commands and
//! the extensions have a file of their own.

mod children;
mod contact;
mod domain;
mod extensions;
mod host;
mod session;

use super::dom::{Element, XmlLimits, parse_document};
use super::ns::Ns;
use crate::error::EppError;
use crate::model::{Command, ObjectKind, Request, Text};
use children::{Children, no_children, order_error, token, wrong_ns};
use contact::{parse_contact_create, parse_contact_info, parse_contact_update};
use domain::{
    parse_domain_create, parse_domain_info, parse_domain_renew, parse_domain_update, parse_transfer,
};
use extensions::apply_extensions;
use host::{parse_host_create, parse_host_update};
use session::{check_login_placeholders, parse_login, parse_poll};

pub use session::LOGIN_SECURITY_SENTINEL;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthInfo, ContactTransfer, TransferOp};

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
