//! The checks every kind of record shares: references to what is loaded or
//! stored, roids, dates, duplicates, identifiers, statuses and postal
//! information; and the comparison of a record with the stored object.

use serde::Serialize;

use super::{Checked, Done, Kind, Loader, rule};
use crate::model::{PostalInfo, PostalType, Status, Timestamp};
use crate::policy;

impl Loader<'_> {
    // ----- shared checks -----

    pub(super) fn registrar_known(&mut self, id: &str, role: &str) -> Checked<()> {
        if self.registrars.contains_key(id) || self.known_registrars.contains(id) {
            return Ok(());
        }
        if self.store.registrar(id)?.is_some() {
            self.known_registrars.insert(id.to_owned());
            return Ok(());
        }
        rule(format!("{role}: unknown registrar {id}"))
    }

    pub(super) fn contact_known(&self, id: &str, role: &str) -> Checked<()> {
        if self.contacts.contains_key(id) || self.store.contact_exists(id)? {
            return Ok(());
        }
        rule(format!("{role}: unknown contact {id}"))
    }

    pub(super) fn host_known(&self, name: &str) -> Checked<bool> {
        Ok(self.hosts.contains_key(name) || self.store.host_exists(name)?)
    }

    pub(super) fn roid(&mut self, roid: &str) -> Checked<()> {
        if roid.is_empty() {
            return Ok(());
        }
        if !roid_syntax(roid) {
            return rule(format!(
                "the roid {roid:?} is not of the form ID-REPOSITORY (RFC 5730 roidType)"
            ));
        }
        if let Some(n) = own_roid_number(roid) {
            self.max_roid = self.max_roid.max(n);
        }
        Ok(())
    }

    pub(super) fn dates(
        &self,
        created: Timestamp,
        updated: Option<Timestamp>,
        transferred: Option<Timestamp>,
    ) -> Checked<()> {
        if created > self.now {
            return rule(format!(
                "the creation date {} is in the future",
                day(created)
            ));
        }
        for (what, date) in [("update", updated), ("transfer", transferred)] {
            if let Some(date) = date
                && (date < created || date > self.now)
            {
                return rule(format!(
                    "the {what} date {} is not between the creation date {} and today",
                    day(date),
                    day(created)
                ));
            }
        }
        Ok(())
    }

    pub(super) fn duplicate(&self, kind: Kind, key: &str) -> Checked<()> {
        let first = match kind {
            Kind::Registrar => self.registrars.get(key).copied(),
            Kind::Contact => self.contacts.get(key).copied(),
            Kind::Host => self.hosts.get(key).copied(),
            Kind::Domain => self.domains.get(key).map(|(line, _)| *line),
        };
        match first {
            Some(line) => rule(format!("defined twice (first on line {line})")),
            None => Ok(()),
        }
    }

    pub(super) fn sponsor_index(&mut self, sponsor: &str) -> u32 {
        match self.sponsors.iter().position(|s| s == sponsor) {
            Some(i) => u32::try_from(i).unwrap_or(u32::MAX),
            None => {
                self.sponsors.push(sponsor.to_owned());
                u32::try_from(self.sponsors.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    // ----- registrars -----
}

/// `Unchanged` when the record is the stored object, else a refusal naming
/// the fields that differ.
pub(super) fn same_or_differs<T: Serialize + PartialEq>(record: &T, stored: &T) -> Checked<Done> {
    if record == stored {
        return Ok(Done::Unchanged);
    }
    let fields = differing_fields(record, stored);
    rule(format!(
        "exists already with other data ({}); not overwritten",
        if fields.is_empty() {
            "details".to_owned()
        } else {
            fields.join(", ")
        }
    ))
}

fn differing_fields<T: Serialize>(a: &T, b: &T) -> Vec<String> {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn day(t: Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// An EPP clID: 3 to 16 letters, digits, `-` or `_`.
pub(super) fn clid_syntax(id: &str, what: &str) -> Checked<()> {
    let n = id.chars().count();
    if (3..=16).contains(&n)
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        rule(format!(
            "{what} {id:?} is not a clID (3 to 16 letters, digits, '-' or '_')"
        ))
    }
}

/// The creating registrar: the sponsor when the record names none.
pub(super) fn creator(created_by: &mut String, sponsor: &str) -> Checked<()> {
    if created_by.is_empty() {
        sponsor.clone_into(created_by);
        return Ok(());
    }
    clid_syntax(created_by, "the creating registrar")
}

/// RFC 5730 `roidType`: `(\w|_){1,80}-\w{1,8}`.
fn roid_syntax(roid: &str) -> bool {
    let Some((id, repo)) = roid.rsplit_once('-') else {
        return false;
    };
    let word = |c: char| c.is_alphanumeric() || c == '_';
    (1..=80).contains(&id.chars().count())
        && id.chars().all(word)
        && (1..=8).contains(&repo.chars().count())
        && repo.chars().all(word)
}

/// The number of a roid of the form this registry gives (`D12-MA`).
fn own_roid_number(roid: &str) -> Option<u64> {
    let body = roid.strip_suffix("-MA")?;
    let mut chars = body.chars();
    chars.next().filter(char::is_ascii_uppercase)?;
    chars.as_str().parse().ok()
}

/// Contact and host statuses as stored: `ok` and `linked` are derived and
/// left out; `client*` and `server*` are kept; of the `pending*` ones only
/// `pendingTransfer`, with a pending transfer.
pub(super) fn object_statuses(statuses: &[Status], pending_transfer: bool) -> Checked<Vec<Status>> {
    let mut kept = Vec::with_capacity(statuses.len());
    for s in statuses {
        match s {
            Status::Ok | Status::Linked => {}
            Status::PendingTransfer if pending_transfer => kept.push(*s),
            s if s.is_client_settable() || s.is_server() => kept.push(*s),
            Status::Inactive => {
                return rule("the status inactive applies to domains only");
            }
            other => {
                return rule(format!(
                    "the status {} needs the action it waits for, which the record does not carry",
                    other.as_str()
                ));
            }
        }
    }
    kept.sort();
    kept.dedup();
    policy::statuses::verify_combination(&kept)?;
    if pending_transfer && !kept.contains(&Status::PendingTransfer) {
        kept.push(Status::PendingTransfer);
        kept.sort();
    }
    Ok(kept)
}

/// Domain statuses as stored: `ok` and `inactive` are derived and left out
/// (`ok` beside another status is refused, RFC 5731 §2.3); `pendingDelete`
/// needs a deletion date and `pendingTransfer` a pending transfer;
/// `pendingCreate` waits for the registry (R2); `pendingRenew` and
/// `pendingUpdate` wait for actions a record does not carry.
pub(super) fn domain_statuses(
    statuses: &[Status],
    deleted: bool,
    pending_transfer: bool,
) -> Checked<Vec<Status>> {
    let mut kept: Vec<Status> = Vec::with_capacity(statuses.len());
    if statuses.contains(&Status::Ok)
        && let Some(other) = statuses
            .iter()
            .find(|s| !matches!(s, Status::Ok | Status::Inactive))
    {
        return rule(format!(
            "RFC 5731 §2.3: ok cannot be combined with {}",
            other.as_str()
        ));
    }
    for s in statuses {
        match s {
            Status::Ok | Status::Inactive => {}
            Status::Linked => return rule("the status linked applies to contacts and hosts only"),
            Status::PendingDelete if !deleted => {
                return rule("pendingDelete needs the deletion date");
            }
            Status::PendingTransfer if !pending_transfer => {
                return rule("pendingTransfer needs the pending transfer");
            }
            Status::PendingRenew | Status::PendingUpdate => {
                return rule(format!(
                    "the status {} needs the action it waits for, which the record does not carry",
                    s.as_str()
                ));
            }
            s => kept.push(*s),
        }
    }
    if deleted {
        kept.push(Status::PendingDelete);
    }
    if pending_transfer {
        kept.push(Status::PendingTransfer);
    }
    kept.sort();
    kept.dedup();
    policy::statuses::verify_combination(&kept)?;
    Ok(kept)
}

/// RFC 5733 postal information: one or two (one `int`, one `loc`), fields
/// within their lengths, a two-letter country code (made upper case), and
/// 7-bit ASCII only in the `int` form.
pub(super) fn check_postal(postal: &mut [PostalInfo]) -> Checked<()> {
    if postal.is_empty() || postal.len() > 2 {
        return rule("a contact has one or two postal infos");
    }
    if postal.len() == 2 && postal[0].kind == postal[1].kind {
        return rule("the two postal infos must be one int and one loc");
    }
    for p in postal.iter_mut() {
        let within = |s: &str, max: usize| (1..=max).contains(&s.chars().count());
        if !within(&p.name, 255) || !within(&p.city, 255) {
            return rule("a postal info needs a name and a city of 1 to 255 characters");
        }
        if p.street.len() > 3 {
            return rule("an address has at most 3 street lines");
        }
        let optional_ok = p.org.as_deref().is_none_or(|s| within(s, 255))
            && p.sp.as_deref().is_none_or(|s| within(s, 255))
            && p.pc.as_deref().is_none_or(|s| within(s, 16))
            && p.street.iter().all(|s| within(s, 255));
        if !optional_ok {
            return rule("org, street and sp have 1 to 255 characters, the postal code 1 to 16");
        }
        if p.cc.len() != 2 || !p.cc.bytes().all(|b| b.is_ascii_alphabetic()) {
            return rule(format!(
                "{:?} is not a two-letter ISO 3166 country code",
                p.cc
            ));
        }
        p.cc.make_ascii_uppercase();
        if p.kind == PostalType::Int {
            let all_ascii = p.name.is_ascii()
                && p.org.as_deref().is_none_or(str::is_ascii)
                && p.street.iter().all(|s| s.is_ascii())
                && p.city.is_ascii()
                && p.sp.as_deref().is_none_or(str::is_ascii)
                && p.pc.as_deref().is_none_or(str::is_ascii);
            if !all_ascii {
                return rule(
                    "a postal info of type int takes 7-bit ASCII only; use loc for other characters",
                );
            }
        }
    }
    Ok(())
}

/// An E.164 number as EPP writes it: `+CCC.NNNNNNNNNNNNNN`.
pub fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(cc, n)| {
            (1..=3).contains(&cc.len())
                && (1..=14).contains(&n.len())
                && cc.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roids_follow_rfc5730_and_ours_are_numbered() {
        assert!(roid_syntax("D12-MA"));
        assert!(roid_syntax("Dexample1-TEST"));
        assert!(!roid_syntax("D12"));
        assert!(!roid_syntax("D 12-MA"));
        assert!(!roid_syntax("D12-TOOLONGREPO"));
        assert_eq!(own_roid_number("D12-MA"), Some(12));
        assert_eq!(own_roid_number("H7-MA"), Some(7));
        assert_eq!(own_roid_number("Dexample-MA"), None);
        assert_eq!(own_roid_number("D12-TEST"), None);
    }

    #[test]
    fn derived_statuses_are_left_out_and_pending_ones_need_their_action() {
        use Status::*;
        assert!(matches!(domain_statuses(&[Ok], false, false), Result::Ok(v) if v.is_empty()));
        assert!(domain_statuses(&[Ok, ClientHold], false, false).is_err());
        assert!(domain_statuses(&[PendingDelete], false, false).is_err());
        assert!(matches!(
            domain_statuses(&[ClientHold], true, false),
            Result::Ok(v) if v == vec![ClientHold, PendingDelete]
        ));
        assert!(domain_statuses(&[PendingRenew], false, false).is_err());
        assert!(matches!(object_statuses(&[Ok, Linked], false), Result::Ok(v) if v.is_empty()));
        assert!(object_statuses(&[PendingDelete], false).is_err());
    }
}
