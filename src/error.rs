//! `EppError`, every way a command can fail, and its one exhaustive mapping
//! to an RFC 5730 result code. The session turns an `Err` into a response.
//! Also [`error_line`], how the operator's tools print an error and its
//! causes.

use crate::model::{OffendingValue, ResultCode, Text};

/// A command's failure. Each variant maps to exactly one result code in
/// [`EppError::result_code`]; the `Text`s say why in both session languages.
#[derive(Debug, thiserror::Error)]
pub enum EppError {
    /// 2000: an element under `<command>` that EPP does not define.
    #[error("unknown command: {0}")]
    UnknownCommand(Text),
    /// 2001: malformed XML or a structure the schema does not allow.
    #[error("syntax: {0}")]
    Syntax(Text),
    /// 2002: a command in the wrong session state.
    #[error("use: {0}")]
    Use(Text),
    /// 2003: a required parameter is missing.
    #[error("missing parameter: {0}")]
    MissingParameter(Text),
    /// 2004: a value outside its range.
    #[error("value range: {0}")]
    ValueRange(Text, Option<OffendingValue>),
    /// 2005: a value of the wrong syntax.
    #[error("value syntax: {0}")]
    ValueSyntax(Text, Option<OffendingValue>),
    /// 2100: a protocol version other than 1.0.
    #[error("unimplemented protocol version")]
    UnimplementedVersion(Text),
    /// 2101: a command EPP defines but this server does not serve.
    #[error("unimplemented command: {0}")]
    UnimplementedCommand(Text),
    /// 2102: an option this server does not serve (e.g. a language).
    #[error("unimplemented option: {0}")]
    UnimplementedOption(Text),
    /// 2103: an extension this server does not serve.
    #[error("unimplemented extension: {0}")]
    UnimplementedExtension(Text),
    /// 2104: the registrar's balance cannot pay (R23).
    #[error("billing: {0}")]
    Billing(Text),
    /// 2106: the object cannot be transferred (e.g. to its own sponsor).
    #[error("not eligible for transfer: {0}")]
    NotEligibleForTransfer(Text),
    /// 2300: a transfer is pending already.
    #[error("pending transfer: {0}")]
    PendingTransfer(Text),
    /// 2301: no transfer is pending.
    #[error("not pending transfer: {0}")]
    NotPendingTransfer(Text),
    /// 2200: wrong credentials.
    #[error("authentication failed: {0}")]
    Authentication(Text),
    /// 2201: the registrar may not act on this object.
    #[error("authorization: {0}")]
    Authorization(Text),
    /// 2202: a wrong authInfo.
    #[error("invalid authorization information")]
    InvalidAuthInfo(Text),
    /// 2302: the object exists already.
    #[error("exists: {0}")]
    Exists(Text, Option<OffendingValue>),
    /// 2303: the object (or one it references) does not exist.
    #[error("does not exist: {0}")]
    DoesNotExist(Text, Option<OffendingValue>),
    /// 2304: a status forbids the operation.
    #[error("status prohibits: {0}")]
    StatusProhibits(Text),
    /// 2305: an association forbids the operation.
    #[error("association prohibits: {0}")]
    AssociationProhibits(Text),
    /// 2306: a charter rule refuses the value.
    #[error("policy: {0}")]
    Policy(Text, Option<OffendingValue>),
    /// 2307: an object service this server does not serve.
    #[error("unimplemented object service: {0}")]
    UnimplementedObject(Text),
    /// 2400: an internal failure; details are logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
    /// 2400 with a reason: the store takes no writes for now (a full or
    /// failing disk); nothing was changed.
    #[error("store unavailable: {0}")]
    StoreUnavailable(Text),
    /// A change was committed but could not be made durable, so whether it
    /// survives is unknown. No answer may say "failed": the session closes
    /// without answering (RFC 5730 §2.1: the client then queries). Mapped
    /// to 2500 for completeness; never sent.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// 2500: the server must close the connection (e.g. an unreadable frame).
    #[error("closing: {0}")]
    Closing(Text),
    /// 2501: too many failed logins; the connection closes.
    #[error("authentication failed, closing: {0}")]
    AuthenticationClosing(Text),
    /// 2502: the registrar's session limit is reached; the connection closes.
    #[error("session limit: {0}")]
    SessionLimit(Text),
}

impl EppError {
    /// The one mapping from errors to RFC 5730 result codes.
    pub fn result_code(&self) -> ResultCode {
        use EppError::*;
        match self {
            UnknownCommand(_) => ResultCode::UnknownCommand,
            Syntax(_) => ResultCode::CommandSyntaxError,
            Use(_) => ResultCode::CommandUseError,
            MissingParameter(_) => ResultCode::RequiredParameterMissing,
            ValueRange(..) => ResultCode::ParameterValueRangeError,
            ValueSyntax(..) => ResultCode::ParameterValueSyntaxError,
            UnimplementedVersion(_) => ResultCode::UnimplementedProtocolVersion,
            UnimplementedCommand(_) => ResultCode::UnimplementedCommand,
            UnimplementedOption(_) => ResultCode::UnimplementedOption,
            UnimplementedExtension(_) => ResultCode::UnimplementedExtension,
            Billing(_) => ResultCode::BillingFailure,
            NotEligibleForTransfer(_) => ResultCode::ObjectNotEligibleForTransfer,
            PendingTransfer(_) => ResultCode::ObjectPendingTransfer,
            NotPendingTransfer(_) => ResultCode::ObjectNotPendingTransfer,
            Authentication(_) => ResultCode::AuthenticationError,
            Authorization(_) => ResultCode::AuthorizationError,
            InvalidAuthInfo(_) => ResultCode::InvalidAuthorizationInformation,
            Exists(..) => ResultCode::ObjectExists,
            DoesNotExist(..) => ResultCode::ObjectDoesNotExist,
            StatusProhibits(_) => ResultCode::ObjectStatusProhibitsOperation,
            AssociationProhibits(_) => ResultCode::ObjectAssociationProhibitsOperation,
            Policy(..) => ResultCode::ParameterValuePolicyError,
            UnimplementedObject(_) => ResultCode::UnimplementedObjectService,
            Internal(_) | StoreUnavailable(_) => ResultCode::CommandFailed,
            Closing(_) | OutcomeUnknown(_) => ResultCode::CommandFailedServerClosingConnection,
            AuthenticationClosing(_) => ResultCode::AuthenticationErrorServerClosingConnection,
            SessionLimit(_) => ResultCode::SessionLimitExceededServerClosingConnection,
        }
    }

    /// The explanation sent to the client, if any (never for internal errors).
    pub fn reason(&self) -> Option<&Text> {
        use EppError::*;
        match self {
            UnknownCommand(t)
            | Syntax(t)
            | Use(t)
            | MissingParameter(t)
            | ValueRange(t, _)
            | ValueSyntax(t, _)
            | UnimplementedVersion(t)
            | UnimplementedCommand(t)
            | UnimplementedOption(t)
            | UnimplementedExtension(t)
            | Billing(t)
            | NotEligibleForTransfer(t)
            | PendingTransfer(t)
            | NotPendingTransfer(t)
            | Authentication(t)
            | Authorization(t)
            | InvalidAuthInfo(t)
            | Exists(t, _)
            | DoesNotExist(t, _)
            | StatusProhibits(t)
            | AssociationProhibits(t)
            | Policy(t, _)
            | UnimplementedObject(t)
            | StoreUnavailable(t)
            | Closing(t)
            | AuthenticationClosing(t)
            | SessionLimit(t) => Some(t),
            Internal(_) | OutcomeUnknown(_) => None,
        }
    }

    /// The client value the error points at, if any.
    pub fn offending_value(&self) -> Option<&OffendingValue> {
        use EppError::*;
        match self {
            ValueRange(_, v)
            | ValueSyntax(_, v)
            | Exists(_, v)
            | DoesNotExist(_, v)
            | Policy(_, v) => v.as_ref(),
            _ => None,
        }
    }

    /// Shorthand for a 2001 with a reason given in both languages.
    pub fn syntax(en: impl Into<String>, fr: impl Into<String>) -> Self {
        EppError::Syntax(Text::new(en, fr))
    }

    /// Shorthand for a 2003 naming the missing element.
    pub fn missing(element: &str) -> Self {
        EppError::MissingParameter(Text::new(
            format!("required element <{element}> is missing"),
            format!("l'élément obligatoire <{element}> est absent"),
        ))
    }
}

/// An error and its causes on one line, `outer: inner: …`, each said once:
/// a cause whose words the line holds already (an error that quotes its
/// source in its own message, as `thiserror`'s `{0}` does) is left out.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Quoting {
        #[error("storage error: {0}")]
        Io(#[from] std::io::Error),
    }

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::from_raw_os_error(13);
        let err = anyhow::Error::from(Quoting::from(io)).context("cannot open the store in data");
        let line = error_line(&err);
        assert_eq!(
            line,
            "cannot open the store in data: storage error: Permission denied (os error 13)"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_line(&plain), "outer: inner");
    }
}
