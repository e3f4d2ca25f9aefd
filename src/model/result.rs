//! RFC 5730 §3 result codes and their standard messages in English and French.

use super::Lang;

/// Every result code of RFC 5730 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ResultCode {
    Success = 1000,
    SuccessPending = 1001,
    SuccessNoMessages = 1300,
    SuccessAckToDequeue = 1301,
    SuccessEndingSession = 1500,
    UnknownCommand = 2000,
    CommandSyntaxError = 2001,
    CommandUseError = 2002,
    RequiredParameterMissing = 2003,
    ParameterValueRangeError = 2004,
    ParameterValueSyntaxError = 2005,
    UnimplementedProtocolVersion = 2100,
    UnimplementedCommand = 2101,
    UnimplementedOption = 2102,
    UnimplementedExtension = 2103,
    BillingFailure = 2104,
    ObjectNotEligibleForRenewal = 2105,
    ObjectNotEligibleForTransfer = 2106,
    AuthenticationError = 2200,
    AuthorizationError = 2201,
    InvalidAuthorizationInformation = 2202,
    ObjectPendingTransfer = 2300,
    ObjectNotPendingTransfer = 2301,
    ObjectExists = 2302,
    ObjectDoesNotExist = 2303,
    ObjectStatusProhibitsOperation = 2304,
    ObjectAssociationProhibitsOperation = 2305,
    ParameterValuePolicyError = 2306,
    UnimplementedObjectService = 2307,
    DataManagementPolicyViolation = 2308,
    CommandFailed = 2400,
    CommandFailedServerClosingConnection = 2500,
    AuthenticationErrorServerClosingConnection = 2501,
    SessionLimitExceededServerClosingConnection = 2502,
}

impl ResultCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Whether the code reports success (1xxx).
    pub fn is_success(self) -> bool {
        self.code() < 2000
    }

    /// Whether the server closes the connection after this response (25xx, 1500).
    pub fn closes_session(self) -> bool {
        matches!(
            self,
            ResultCode::SuccessEndingSession
                | ResultCode::CommandFailedServerClosingConnection
                | ResultCode::AuthenticationErrorServerClosingConnection
                | ResultCode::SessionLimitExceededServerClosingConnection
        )
    }

    /// The standard message of the code in `lang`.
    pub fn message(self, lang: Lang) -> &'static str {
        let (en, fr) = self.messages();
        match lang {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    fn messages(self) -> (&'static str, &'static str) {
        use ResultCode::*;
        match self {
            Success => (
                "Command completed successfully",
                "Commande exécutée avec succès",
            ),
            SuccessPending => (
                "Command completed successfully; action pending",
                "Commande exécutée avec succès ; action en attente",
            ),
            SuccessNoMessages => (
                "Command completed successfully; no messages",
                "Commande exécutée avec succès ; aucun message",
            ),
            SuccessAckToDequeue => (
                "Command completed successfully; ack to dequeue",
                "Commande exécutée avec succès ; acquitter pour retirer le message",
            ),
            SuccessEndingSession => (
                "Command completed successfully; ending session",
                "Commande exécutée avec succès ; fin de la session",
            ),
            UnknownCommand => ("Unknown command", "Commande inconnue"),
            CommandSyntaxError => ("Command syntax error", "Erreur de syntaxe de la commande"),
            CommandUseError => ("Command use error", "Erreur d'utilisation de la commande"),
            RequiredParameterMissing => (
                "Required parameter missing",
                "Paramètre obligatoire manquant",
            ),
            ParameterValueRangeError => (
                "Parameter value range error",
                "Valeur de paramètre hors limites",
            ),
            ParameterValueSyntaxError => (
                "Parameter value syntax error",
                "Erreur de syntaxe d'une valeur de paramètre",
            ),
            UnimplementedProtocolVersion => (
                "Unimplemented protocol version",
                "Version du protocole non prise en charge",
            ),
            UnimplementedCommand => ("Unimplemented command", "Commande non prise en charge"),
            UnimplementedOption => ("Unimplemented option", "Option non prise en charge"),
            UnimplementedExtension => ("Unimplemented extension", "Extension non prise en charge"),
            BillingFailure => ("Billing failure", "Échec de facturation"),
            ObjectNotEligibleForRenewal => (
                "Object is not eligible for renewal",
                "L'objet ne peut pas être renouvelé",
            ),
            ObjectNotEligibleForTransfer => (
                "Object is not eligible for transfer",
                "L'objet ne peut pas être transféré",
            ),
            AuthenticationError => ("Authentication error", "Erreur d'authentification"),
            AuthorizationError => ("Authorization error", "Erreur d'autorisation"),
            InvalidAuthorizationInformation => (
                "Invalid authorization information",
                "Information d'autorisation invalide",
            ),
            ObjectPendingTransfer => ("Object pending transfer", "Objet en attente de transfert"),
            ObjectNotPendingTransfer => (
                "Object not pending transfer",
                "L'objet n'est pas en attente de transfert",
            ),
            ObjectExists => ("Object exists", "L'objet existe déjà"),
            ObjectDoesNotExist => ("Object does not exist", "L'objet n'existe pas"),
            ObjectStatusProhibitsOperation => (
                "Object status prohibits operation",
                "Le statut de l'objet interdit l'opération",
            ),
            ObjectAssociationProhibitsOperation => (
                "Object association prohibits operation",
                "Une association de l'objet interdit l'opération",
            ),
            ParameterValuePolicyError => (
                "Parameter value policy error",
                "Valeur de paramètre contraire à la politique",
            ),
            UnimplementedObjectService => (
                "Unimplemented object service",
                "Service d'objet non pris en charge",
            ),
            DataManagementPolicyViolation => (
                "Data management policy violation",
                "Violation de la politique de gestion des données",
            ),
            CommandFailed => ("Command failed", "Échec de la commande"),
            CommandFailedServerClosingConnection => (
                "Command failed; server closing connection",
                "Échec de la commande ; le serveur ferme la connexion",
            ),
            AuthenticationErrorServerClosingConnection => (
                "Authentication error; server closing connection",
                "Erreur d'authentification ; le serveur ferme la connexion",
            ),
            SessionLimitExceededServerClosingConnection => (
                "Session limit exceeded; server closing connection",
                "Limite de sessions atteinte ; le serveur ferme la connexion",
            ),
        }
    }
}
