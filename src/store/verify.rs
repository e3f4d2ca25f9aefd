//! `admin store verify` and `serve --check`: every record of every tree is
//! read back (sled checks each page's CRC as it loads it from disk) and the
//! registry's own records are decoded; then the history chain is walked.

use super::{ChainCheck, Store, StoreError, codec};
use crate::model::{Contact, Domain, Host, Registrar};

/// What a full check of the store found.
#[derive(Debug)]
pub struct StoreCheck {
    /// Trees read.
    pub trees: usize,
    /// Records read.
    pub records: u64,
    /// Records or pages that could not be read or decoded, with where.
    pub problems: Vec<String>,
    /// The history chain.
    pub history: ChainCheck,
}

impl StoreCheck {
    /// Whether nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty() && matches!(self.history, ChainCheck::Intact { .. })
    }
}

/// Problems listed in full; past this many only counted.
const MAX_LISTED: usize = 20;

impl Store {
    /// Reads every record of every tree and walks the history chain.
    ///
    /// # Errors
    /// The store is unavailable (being reopened).
    pub fn verify(&self) -> Result<StoreCheck, StoreError> {
        let engine = self.engine()?;
        let mut check = StoreCheck {
            trees: 0,
            records: 0,
            problems: Vec::new(),
            history: ChainCheck::Intact { records: 0 },
        };
        let mut unlisted = 0usize;
        let mut problem = |check: &mut StoreCheck, text: String| {
            if check.problems.len() < MAX_LISTED {
                check.problems.push(text);
            } else {
                unlisted += 1;
            }
        };
        for (label, tree) in engine.trees() {
            check.trees += 1;
            for entry in tree.iter() {
                let (key, value) = match entry {
                    Ok(kv) => kv,
                    Err(e) => {
                        problem(&mut check, format!("tree {label}: {e}"));
                        // The iteration cannot go past a page it cannot read.
                        break;
                    }
                };
                check.records += 1;
                let decoded = match label {
                    "registrars" => codec::decode::<Registrar>("registrars", &value).map(drop),
                    "domains" => codec::decode::<Domain>("domains", &value).map(drop),
                    "contacts" => codec::decode::<Contact>("contacts", &value).map(drop),
                    "hosts" => codec::decode::<Host>("hosts", &value).map(drop),
                    _ => Ok(()),
                };
                if let Err(e) = decoded {
                    problem(
                        &mut check,
                        format!("tree {label}, key {}: {e}", String::from_utf8_lossy(&key)),
                    );
                }
            }
        }
        drop(engine);
        if unlisted > 0 {
            check.problems.push(format!("… and {unlisted} more"));
        }
        check.history = match self.verify_history() {
            Ok(history) => history,
            Err(e) => ChainCheck::Broken {
                place: 0,
                reason: e.to_string(),
            },
        };
        Ok(check)
    }
}
