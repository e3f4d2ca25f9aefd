//! The `registrars` tree: registrar records, written with their history.

use std::sync::atomic::Ordering;

use super::{Store, StoreError, codec, kv};
use crate::model::{Audit, Registrar};

impl Store {
    /// A registrar by clID.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn registrar(&self, id: &str) -> Result<Option<Registrar>, StoreError> {
        codec::get(&self.engine()?.registrars, "registrars", id.as_bytes())
    }

    /// Writes a registrar, with its history record (R24) in the same transaction.
    ///
    /// # Errors
    /// Storage errors.
    pub fn put_registrar(&self, r: &Registrar, audit: &Audit) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        let value = codec::encode(r)?;
        let hw = self.history_write(audit, "registrar", &r.id, registrar_snapshot(r))?;
        let i = self.engine()?;
        let result = kv::transaction([&i.registrars, &i.history], |[registrars, history]| {
            registrars.insert(r.id.as_bytes(), value.as_slice())?;
            hw.apply(history)?;
            Ok(())
        });
        // Nothing in it aborts: the only failures are storage errors.
        let _never_aborted = self.settle(result)?;
        self.inner.registrars_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// A number that changes whenever a registrar is written: a session
    /// re-reads its registrar only when it moved.
    pub fn registrars_epoch(&self) -> u64 {
        self.inner.registrars_epoch.load(Ordering::Acquire)
    }

    /// Every registrar, by clID.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn registrars(&self) -> Result<Vec<Registrar>, StoreError> {
        self.engine()?
            .registrars
            .iter()
            .values()
            .map(|v| codec::decode("registrars", &v?))
            .collect()
    }
}

/// A registrar as its history shows it: never its password hash.
fn registrar_snapshot(r: &Registrar) -> Option<String> {
    Some(
        serde_json::json!({
            "clid": r.id,
            "name": r.name,
            "state": format!("{:?}", r.state).to_lowercase(),
            "email": r.email,
            "certificates": r.cert_fingerprints,
            "ip_allow": r.ip_allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "session_limit": r.session_limit,
            "address": r.address,
        })
        .to_string(),
    )
}
