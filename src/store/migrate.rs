//! Upgrades of an older store format to [`super::FORMAT_VERSION`], run by
//! [`super::Store::open`] before anything else reads the store. Each step
//! rewrites only the records whose shape changed, in one batch per tree.

use serde::{Deserialize, Serialize};

use super::{StoreError, codec};
use crate::model::{Registrar, RegistrarAddress, RegistrarState, Timestamp};

/// The oldest format [`upgrade`] reads.
pub const OLDEST_READABLE: u32 = 2;

/// A registrar as format 2 stored it: without `password_set`.
#[derive(Serialize, Deserialize)]
struct RegistrarV2 {
    id: String,
    name: String,
    password_hash: String,
    cert_fingerprints: Vec<String>,
    ip_allow: Vec<ipnet::IpNet>,
    session_limit: Option<u32>,
    state: RegistrarState,
    email: Option<String>,
    created: Timestamp,
    address: Option<RegistrarAddress>,
}

/// Brings the store `db`, at format `found`, to the current format.
///
/// # Errors
/// A record that does not decode in the format it claims; storage errors.
pub fn upgrade(db: &sled::Db, found: u32) -> Result<(), StoreError> {
    if found == 2 {
        registrars_get_password_set(db)?;
    }
    Ok(())
}

/// Format 2 → 3: a registrar records when its password was set; an
/// existing one counts from the registrar's creation.
fn registrars_get_password_set(db: &sled::Db) -> Result<(), StoreError> {
    let tree = db.open_tree("registrars")?;
    let mut batch = sled::Batch::default();
    for entry in tree.iter() {
        let (key, value) = entry?;
        let old: RegistrarV2 = codec::decode("registrars", &value)?;
        let new = Registrar {
            id: old.id,
            name: old.name,
            password_hash: old.password_hash,
            cert_fingerprints: old.cert_fingerprints,
            ip_allow: old.ip_allow,
            session_limit: old.session_limit,
            state: old.state,
            email: old.email,
            password_set: old.created,
            created: old.created,
            address: old.address,
        };
        batch.insert(key, codec::encode(&new)?);
    }
    tree.apply_batch(batch)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::{FORMAT_VERSION, Store};

    #[test]
    fn a_format_2_store_opens_with_its_registrars_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let created = chrono::Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert("format_version", &2u32.to_be_bytes())
                .unwrap();
            let old = RegistrarV2 {
                id: "old1".into(),
                name: "Old registrar".into(),
                password_hash: "$argon2id$placeholder".into(),
                cert_fingerprints: vec!["ab".into()],
                ip_allow: Vec::new(),
                session_limit: Some(4),
                state: RegistrarState::Active,
                email: None,
                created,
                address: None,
            };
            db.open_tree("registrars")
                .unwrap()
                .insert("old1", codec::encode(&old).unwrap())
                .unwrap();
            db.flush().unwrap();
        }
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let r = store.registrar("old1").unwrap().unwrap();
        assert_eq!(r.password_set, created);
        assert_eq!(r.session_limit, Some(4));
        assert_eq!(r.cert_fingerprints, ["ab"]);
        let version = store
            .engine()
            .unwrap()
            .meta
            .get("format_version")
            .unwrap()
            .unwrap();
        assert_eq!(version.as_ref(), FORMAT_VERSION.to_be_bytes());
        drop(store);
        // Opening again finds the current format and changes nothing.
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(store.registrar("old1").unwrap().unwrap(), r);
    }

    #[test]
    fn a_format_older_than_2_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert("format_version", &1u32.to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        assert!(matches!(
            Store::open(dir.path(), 1 << 20),
            Err(StoreError::Version { found: 1, .. })
        ));
    }
}
