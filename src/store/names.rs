//! The `names` tree: reserved (R4) and blocked (R5) labels and allocation
//! tokens (R4), each written with its history record.

use super::{Store, StoreError, codec, keys, kv};
use crate::model::{AllocationToken, Audit};

impl Store {
    /// The category of a reserved label (R4).
    ///
    /// # Errors
    /// Storage errors.
    pub fn reserved(&self, label: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .engine()?
            .names
            .get(keys::reserved(label))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Reserves a label in a category (R4), with its history record.
    ///
    /// # Errors
    /// Storage errors.
    pub fn put_reserved(
        &self,
        label: &str,
        category: &str,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let after = serde_json::json!({ "category": category }).to_string();
        self.names_change(
            keys::reserved(label),
            Some(category.as_bytes().to_vec()),
            ("reserved", label, Some(after)),
            audit,
        )
        .map(|_| ())
    }

    /// Removes a reserved label; whether it was there.
    ///
    /// # Errors
    /// Storage errors.
    pub fn remove_reserved(&self, label: &str, audit: &Audit) -> Result<bool, StoreError> {
        self.names_change(
            keys::reserved(label),
            None,
            ("reserved", label, None),
            audit,
        )
    }

    /// The reason a label is blocked (R5).
    ///
    /// # Errors
    /// Storage errors.
    pub fn blocked(&self, label: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .engine()?
            .names
            .get(keys::blocked(label))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Blocks a label with a reason (R5), with its history record.
    ///
    /// # Errors
    /// Storage errors.
    pub fn put_blocked(&self, label: &str, reason: &str, audit: &Audit) -> Result<(), StoreError> {
        let after = serde_json::json!({ "reason": reason }).to_string();
        self.names_change(
            keys::blocked(label),
            Some(reason.as_bytes().to_vec()),
            ("blocked", label, Some(after)),
            audit,
        )
        .map(|_| ())
    }

    /// Unblocks a label; whether it was blocked.
    ///
    /// # Errors
    /// Storage errors.
    pub fn remove_blocked(&self, label: &str, audit: &Audit) -> Result<bool, StoreError> {
        self.names_change(keys::blocked(label), None, ("blocked", label, None), audit)
    }

    /// Writes (`Some`) or removes (`None`) one entry of the names tree with
    /// the history record of `(kind, name, after)` in the same transaction;
    /// whether the entry was there before.
    fn names_change(
        &self,
        key: Vec<u8>,
        value: Option<Vec<u8>>,
        (kind, name, after): (&str, &str, Option<String>),
        audit: &Audit,
    ) -> Result<bool, StoreError> {
        let _write = self.write_gate()?;
        let hw = self.history_write(audit, kind, name, after)?;
        let i = self.engine()?;
        let result = kv::transaction([&i.names, &i.history], |[names, history]| {
            let before = names.take(key.as_slice())?;
            if let Some(v) = &value {
                names.insert(key.as_slice(), v.as_slice())?;
            }
            if value.is_some() || before.is_some() {
                hw.apply(history)?;
            }
            Ok(before.is_some())
        });
        result.map_err(|e| self.tx_failed(e))
    }
    /// Every reserved (`reserved = true`) or blocked label with its category or reason.
    ///
    /// # Errors
    /// Storage errors.
    pub fn terms(&self, reserved: bool) -> Result<Vec<(String, String)>, StoreError> {
        let tag = if reserved {
            keys::RESERVED
        } else {
            keys::BLOCKED
        };
        self.engine()?
            .names
            .scan_prefix([tag])
            .map(|kv| {
                let (k, v) = kv?;
                Ok((
                    String::from_utf8_lossy(keys::term_text(&k)).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                ))
            })
            .collect()
    }

    /// Records an allocation token (R4), with its history record.
    ///
    /// # Errors
    /// Storage errors.
    pub fn put_token(&self, token: &AllocationToken, audit: &Audit) -> Result<(), StoreError> {
        let after = serde_json::json!({
            "name": token.name,
            "issued": token.issued.to_rfc3339(),
            "issued_by": token.issued_by,
            "used": token.used.map(|u| u.to_rfc3339()),
        })
        .to_string();
        self.names_change(
            keys::token(&token.token),
            Some(codec::encode(token)?),
            ("token", &token.token, Some(after)),
            audit,
        )
        .map(|_| ())
    }
    /// An allocation token.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn token(&self, token: &str) -> Result<Option<AllocationToken>, StoreError> {
        codec::get(&self.engine()?.names, "names", &keys::token(token))
    }

    /// Every allocation token.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn tokens(&self) -> Result<Vec<AllocationToken>, StoreError> {
        self.engine()?
            .names
            .scan_prefix([keys::TOKEN])
            .values()
            .map(|v| codec::decode("names", &v?))
            .collect()
    }
}
