//! The session commands: `<login>` with its RFC 8807 login security
//! extension, and `<poll>`.

use super::super::dom::Element;
use super::super::ns::Ns;
use super::children::{Children, no_children, token};
use crate::error::EppError;
use crate::model::{Command, Login, Text, UserAgent};

pub(super) fn parse_poll(verb: &Element) -> Result<Command, EppError> {
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

pub(super) fn parse_login(login: &Element) -> Result<Login, EppError> {
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
pub(super) fn apply_login_security(login: &mut Login, el: &Element) -> Result<(), EppError> {
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
pub(super) fn check_login_placeholders(login: &Login) -> Result<(), EppError> {
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
