//! The host commands: `<host:create>` and `<host:update>`, with their
//! addresses.

use std::net::IpAddr;

use super::super::dom::Element;
use super::super::ns::Ns;
use super::children::{Children, parse_status, token, value_syntax};
use crate::error::EppError;
use crate::model::{HostCreate, HostUpdate, Status};

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

pub(super) fn parse_host_update(object: &Element) -> Result<HostUpdate, EppError> {
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

pub(super) fn parse_host_create(object: &Element) -> Result<HostCreate, EppError> {
    let mut c = Children::of(object, Ns::Host);
    let name = token(c.required("name")?, 1, 255)?;
    let addrs = parse_host_addrs(c.many("addr"))?;
    c.end()?;
    Ok(HostCreate { name, addrs })
}
