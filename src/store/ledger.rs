//! The `ledger` tree (R23): each registrar's prepaid balance and its
//! lines, a charge debited in the transaction of the change it pays for.

use super::change::{Tx, abort, encode_in_tx};
use super::kv::TxResult;
use super::{Conflict, Store, StoreError, codec, keys, kv};
use crate::model::{Audit, LedgerEntry};
use crate::policy::billing::{R23CannotPay, r23_can_pay};

/// A charge to a registrar's prepaid balance (R23).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The registrar.
    pub registrar: String,
    /// The cost in centimes (positive).
    pub amount: i64,
    /// What it pays for.
    pub description: String,
    /// Whether the balance may go below zero (the tacit renewal, R10).
    pub allow_negative: bool,
}

/// The ledger write of a charge, prepared outside the transaction.
pub(super) struct LedgerWrite {
    registrar: String,
    amount: i64,
    allow_negative: bool,
    entry_key: Vec<u8>,
    entry: LedgerEntry,
}

impl LedgerWrite {
    pub(super) fn prepare(
        store: &Store,
        charge: &Charge,
        audit: &Audit,
    ) -> Result<Self, StoreError> {
        let seq = store.engine()?.generate_id()?;
        Ok(Self {
            registrar: charge.registrar.clone(),
            amount: charge.amount,
            allow_negative: charge.allow_negative,
            entry_key: keys::ledger_entry(&charge.registrar, seq),
            entry: LedgerEntry {
                at: audit.at,
                amount: -charge.amount,
                balance: 0,
                description: charge.description.clone(),
                sv_trid: audit.sv_trid.clone(),
            },
        })
    }

    /// Debits the balance and writes the ledger line, or aborts when the
    /// balance cannot pay ([`r23_can_pay`] decides, inside the transaction).
    pub(super) fn apply(&self, ledger: &Tx) -> TxResult<()> {
        let key = keys::balance(&self.registrar);
        let balance = read_i64(ledger.get(&key)?.as_deref());
        if let Err(R23CannotPay { balance, price }) =
            r23_can_pay(balance, self.amount, self.allow_negative)
        {
            return abort(Conflict::InsufficientFunds { balance, price });
        }
        let after = balance - self.amount;
        ledger.insert(key, after.to_be_bytes())?;
        let mut entry = self.entry.clone();
        entry.balance = after;
        ledger.insert(self.entry_key.as_slice(), encode_in_tx(&entry)?)?;
        Ok(())
    }
}

fn read_i64(v: Option<&[u8]>) -> i64 {
    v.and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(i64::from_be_bytes)
        .unwrap_or(0)
}

impl Store {
    /// A registrar's balance, in centimes.
    ///
    /// # Errors
    /// Storage errors.
    pub fn balance(&self, registrar: &str) -> Result<i64, StoreError> {
        Ok(read_i64(
            self.engine()?
                .ledger
                .get(keys::balance(registrar))?
                .as_deref(),
        ))
    }

    /// Credits a registrar's balance (a positive ledger line); returns the new balance.
    ///
    /// # Errors
    /// Storage errors.
    pub fn credit(
        &self,
        registrar: &str,
        amount: i64,
        description: &str,
        audit: &Audit,
    ) -> Result<i64, StoreError> {
        let _write = self.write_gate()?;
        let charge = Charge {
            registrar: registrar.to_owned(),
            amount: -amount,
            description: description.to_owned(),
            allow_negative: true,
        };
        let lw = LedgerWrite::prepare(self, &charge, audit)?;
        let result = kv::transaction([&self.engine()?.ledger], |[ledger]| lw.apply(ledger));
        match result {
            Ok(()) => self.balance(registrar),
            Err(e) => Err(self.tx_failed(e)),
        }
    }

    /// A registrar's ledger, oldest first.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn ledger(&self, registrar: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.engine()?
            .ledger
            .scan_prefix(keys::registrar_seq(registrar))
            .values()
            .map(|v| codec::decode("ledger", &v?))
            .collect()
    }

    /// The newest ledger entry of `registrar` paying for the change
    /// `sv_trid` (read newest first, so a recent change is found at once).
    ///
    /// # Errors
    /// Storage failures.
    pub fn ledger_entry_for(
        &self,
        registrar: &str,
        sv_trid: &str,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        for value in self
            .engine()?
            .ledger
            .scan_prefix_rev(keys::registrar_seq(registrar))
            .values()
        {
            let entry: LedgerEntry = codec::decode("ledger", &value?)?;
            if entry.sv_trid == sv_trid {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }
}
