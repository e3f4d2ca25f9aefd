//! Object statuses of RFC 5731–5733 and RFC 3915.

use serde::{Deserialize, Serialize};

/// A status value as written in `<domain:status s="…"/>` (and host/contact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Status {
    Ok,
    Inactive,
    Linked,
    ClientDeleteProhibited,
    ClientHold,
    ClientRenewProhibited,
    ClientTransferProhibited,
    ClientUpdateProhibited,
    ServerDeleteProhibited,
    ServerHold,
    ServerRenewProhibited,
    ServerTransferProhibited,
    ServerUpdateProhibited,
    PendingCreate,
    PendingDelete,
    PendingRenew,
    PendingTransfer,
    PendingUpdate,
}

impl Status {
    /// Every status, in the order responses list them.
    pub const ALL: [Status; 18] = [
        Status::Ok,
        Status::Inactive,
        Status::Linked,
        Status::ClientDeleteProhibited,
        Status::ClientHold,
        Status::ClientRenewProhibited,
        Status::ClientTransferProhibited,
        Status::ClientUpdateProhibited,
        Status::ServerDeleteProhibited,
        Status::ServerHold,
        Status::ServerRenewProhibited,
        Status::ServerTransferProhibited,
        Status::ServerUpdateProhibited,
        Status::PendingCreate,
        Status::PendingDelete,
        Status::PendingRenew,
        Status::PendingTransfer,
        Status::PendingUpdate,
    ];

    /// The status as written in XML.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Inactive => "inactive",
            Status::Linked => "linked",
            Status::ClientDeleteProhibited => "clientDeleteProhibited",
            Status::ClientHold => "clientHold",
            Status::ClientRenewProhibited => "clientRenewProhibited",
            Status::ClientTransferProhibited => "clientTransferProhibited",
            Status::ClientUpdateProhibited => "clientUpdateProhibited",
            Status::ServerDeleteProhibited => "serverDeleteProhibited",
            Status::ServerHold => "serverHold",
            Status::ServerRenewProhibited => "serverRenewProhibited",
            Status::ServerTransferProhibited => "serverTransferProhibited",
            Status::ServerUpdateProhibited => "serverUpdateProhibited",
            Status::PendingCreate => "pendingCreate",
            Status::PendingDelete => "pendingDelete",
            Status::PendingRenew => "pendingRenew",
            Status::PendingTransfer => "pendingTransfer",
            Status::PendingUpdate => "pendingUpdate",
        }
    }

    /// Parses a status value as written in XML.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A `client*` status, set and cleared by the sponsoring registrar.
    pub fn is_client_settable(self) -> bool {
        self.as_str().starts_with("client")
    }

    /// A `server*` status, set and cleared by the registry only.
    pub fn is_server(self) -> bool {
        self.as_str().starts_with("server")
    }
}
