//! Records for the store's unit tests.

use crate::model::{Audit, Contact, Domain, Host};

pub(super) fn audit() -> Audit {
    Audit {
        at: chrono::Utc::now(),
        who: "operator:test".into(),
        command: "admin:import".into(),
        cl_trid: None,
        sv_trid: "MA-1-1".into(),
        request: None,
    }
}

pub(super) fn contact(id: &str) -> Contact {
    Contact {
        id: id.into(),
        roid: format!("C{id}-MA"),
        postal: Vec::new(),
        voice: None,
        fax: None,
        email: "x@example.ma".into(),
        statuses: Vec::new(),
        sponsor: "reg1".into(),
        created_by: "reg1".into(),
        created: chrono::Utc::now(),
        updated_by: None,
        updated: None,
        transferred: None,
        auth: None,
        disclose: None,
        identity: None,
        transfer: None,
    }
}

pub(super) fn host(name: &str, superordinate: Option<&str>) -> Host {
    Host {
        name: name.into(),
        roid: "H1-MA".into(),
        addrs: Vec::new(),
        statuses: Vec::new(),
        superordinate: superordinate.map(str::to_owned),
        sponsor: "reg1".into(),
        created_by: "reg1".into(),
        created: chrono::Utc::now(),
        updated_by: None,
        updated: None,
        transferred: None,
    }
}

pub(super) fn domain(name: &str, registrant: &str, ns: &[&str]) -> Domain {
    Domain {
        name: name.into(),
        roid: "D1-MA".into(),
        registrant: registrant.into(),
        contacts: Vec::new(),
        nameservers: ns.iter().map(|n| (*n).to_owned()).collect(),
        statuses: Vec::new(),
        sponsor: "reg1".into(),
        created_by: "reg1".into(),
        created: chrono::Utc::now(),
        updated_by: None,
        updated: None,
        expires: chrono::Utc::now(),
        transferred: None,
        auth: None,
        subordinate_hosts: Vec::new(),
        ds_data: Vec::new(),
        proof_ref: None,
        transfer: None,
        pending_owner: None,
        deleted: None,
        identity_hold: false,
        dispute: None,
        incomplete: None,
    }
}
