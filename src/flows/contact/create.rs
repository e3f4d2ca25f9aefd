//! `<contact:create>`: a new contact, sponsored by the creating registrar.

use crate::error::EppError;
use crate::flows::auth::new_auth_info;
use crate::flows::{FlowCtx, Outcome};
use crate::model::{Contact, ContactCreate, Identity, OffendingValue, ResData, Text, Verification};
use crate::policy;

/// Creates a contact.
///
/// # Errors
/// - 2302: the id is taken.
/// - 2005: a malformed id; an identity number that does not fit its type (R15).
pub async fn run(ctx: &FlowCtx<'_>, cmd: ContactCreate) -> Result<Outcome, EppError> {
    if !cmd
        .id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(EppError::ValueSyntax(
            Text::new(
                format!(
                    "the contact id {:?} may use only letters, digits, '-', '_' and '.'",
                    cmd.id
                ),
                format!(
                    "l'identifiant de contact {:?} ne peut contenir que lettres, chiffres, '-', '_' et '.'",
                    cmd.id
                ),
            ),
            Some(OffendingValue::Element {
                ns: "contact",
                name: "id",
                text: cmd.id,
            }),
        ));
    }
    let identity = match &cmd.identity {
        Some(doc) => Some(Identity {
            kind: doc.kind,
            number: policy::r15_identity_document(doc)?,
            verification: Verification::Submitted,
            since: ctx.now,
            note: None,
        }),
        None => None,
    };
    let contact = Contact {
        roid: ctx.store.next_roid('C')?,
        id: cmd.id,
        postal: cmd.postal,
        voice: cmd.voice,
        fax: cmd.fax,
        email: cmd.email,
        statuses: Vec::new(),
        sponsor: ctx.registrar.to_owned(),
        created_by: ctx.registrar.to_owned(),
        created: ctx.now,
        updated_by: None,
        updated: None,
        transferred: None,
        auth: new_auth_info(ctx, &cmd.auth_password)?,
        disclose: cmd.disclose,
        identity,
        transfer: None,
    };
    match ctx.store.create_contact(&contact, &ctx.audit())? {
        Ok(()) => {}
        Err(_) => {
            return Err(EppError::Exists(
                Text::new(
                    format!("the contact {} exists already", contact.id),
                    format!("le contact {} existe déjà", contact.id),
                ),
                Some(OffendingValue::Element {
                    ns: "contact",
                    name: "id",
                    text: contact.id,
                }),
            ));
        }
    }
    ctx.store.durable().await?;
    Ok(Outcome::ok(ResData::ContactCreate {
        id: contact.id,
        created: contact.created,
    }))
}
