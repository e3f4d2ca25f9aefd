//! `<contact:info>`: the full contact for its sponsor or a holder of its
//! authInfo. The authInfo itself is never returned (RFC 9154).

use crate::error::EppError;
use crate::flows::auth::auth_alive_matches;
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    Contact, ContactInfo, ContactInfoData, OffendingValue, ResData, ResponseExtension, Status, Text,
};

/// Answers a contact info.
///
/// # Errors
/// - 2303: no such contact.
/// - 2201: another registrar's contact, asked without authInfo.
/// - 2202: a wrong authInfo.
pub fn run(ctx: &FlowCtx<'_>, cmd: &ContactInfo) -> Result<Outcome, EppError> {
    let contact = ctx.store.contact(&cmd.id)?.ok_or_else(|| {
        EppError::DoesNotExist(
            Text::new(
                format!("the contact {} does not exist", cmd.id),
                format!("le contact {} n'existe pas", cmd.id),
            ),
            Some(OffendingValue::Element {
                ns: "contact",
                name: "id",
                text: cmd.id.clone(),
            }),
        )
    })?;
    if contact.sponsor != ctx.registrar {
        match &cmd.auth {
            None => {
                return Err(EppError::Authorization(Text::new(
                    "this contact is sponsored by another registrar; its authInfo is needed to read it",
                    "ce contact relève d'un autre prestataire ; son authInfo est nécessaire pour le lire",
                )));
            }
            Some(auth)
                if auth_alive_matches(
                    contact.auth.as_ref(),
                    &auth.password,
                    ctx.now,
                    ctx.settings.authinfo.ttl_days,
                ) => {}
            Some(_) => {
                return Err(EppError::InvalidAuthInfo(Text::new(
                    "the authInfo does not match this contact",
                    "l'authInfo ne correspond pas à ce contact",
                )));
            }
        }
    }
    let linked = ctx.store.contact_linked(&contact.id)?;
    let identity = contact.identity.clone();
    let mut outcome = Outcome::ok(ResData::ContactInfo(Box::new(view(contact, linked))));
    outcome
        .extensions
        .push(ResponseExtension::MaContactInfo(identity));
    Ok(outcome)
}

fn view(c: Contact, linked: bool) -> ContactInfoData {
    let mut statuses = c.statuses;
    if statuses.is_empty() {
        statuses.push(Status::Ok);
    }
    if linked {
        statuses.push(Status::Linked);
    }
    statuses.sort();
    ContactInfoData {
        id: c.id,
        roid: c.roid,
        statuses,
        postal: c.postal,
        voice: c.voice,
        fax: c.fax,
        email: c.email,
        sponsor: c.sponsor,
        created_by: c.created_by,
        created: c.created,
        updated_by: c.updated_by,
        updated: c.updated,
        transferred: c.transferred,
        disclose: c.disclose,
    }
}
