//! The `meta` tree's counters and marks: svTRIDs (the boot number), roids
//! and their base, the zone serials, whether the reserved list was seeded.

use std::sync::atomic::Ordering;

use super::{Store, StoreError, keys};

impl Store {
    /// A new server transaction id, unique forever: the process's boot number
    /// (persisted) and a sequence within it.
    pub fn next_sv_trid(&self) -> String {
        let seq = self.inner.sv_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("MA-{}-{seq}", self.inner.boot)
    }

    /// A new repository object id with the given suffix, e.g. `D12-MA`.
    ///
    /// # Errors
    /// Storage errors.
    pub fn next_roid(&self, kind: char) -> Result<String, StoreError> {
        let id = self.engine()?.generate_id()?;
        let base = self.inner.roid_base.load(Ordering::Relaxed);
        Ok(format!("{kind}{}-MA", id.saturating_add(base)))
    }

    /// Makes every roid [`Self::next_roid`] gives from now on number more
    /// than `above` (after an import of objects with roids of this form).
    ///
    /// # Errors
    /// Storage errors.
    pub fn reserve_roids_up_to(&self, above: u64) -> Result<(), StoreError> {
        let wanted = above.saturating_add(1);
        if self.inner.roid_base.fetch_max(wanted, Ordering::Relaxed) < wanted {
            let base = self.inner.roid_base.load(Ordering::Relaxed);
            self.engine()?
                .meta
                .insert(keys::META_ROID_BASE, base.to_be_bytes())?;
        }
        Ok(())
    }

    /// Whether the shipped reserved list was loaded into this store.
    ///
    /// # Errors
    /// Storage errors.
    pub fn terms_seeded(&self) -> Result<bool, StoreError> {
        self.engine()?.meta.contains_key(keys::META_TERMS_SEEDED)
    }

    /// Records that the shipped reserved list was loaded.
    ///
    /// # Errors
    /// Storage errors.
    pub fn mark_terms_seeded(&self) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        self.engine()?.meta.insert(keys::META_TERMS_SEEDED, [1])?;
        Ok(())
    }

    /// The SOA serial of the next export of `zone`: `candidate`, or one more
    /// than the last one recorded when that is not lower; recorded at once,
    /// so serials only ever increase.
    ///
    /// # Errors
    /// Storage errors.
    pub fn zone_serial_next(&self, zone: &str, candidate: u32) -> Result<u32, StoreError> {
        let _write = self.write_gate()?;
        let next = |last: Option<&[u8]>| match last.and_then(|v| <[u8; 4]>::try_from(v).ok()) {
            Some(last) if u32::from_be_bytes(last) >= candidate => {
                u32::from_be_bytes(last).wrapping_add(1)
            }
            _ => candidate,
        };
        let stored = self
            .engine()?
            .meta
            .update_and_fetch(keys::zone_serial(zone), |last| {
                Some(next(last).to_be_bytes().to_vec())
            })?;
        Ok(stored
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map_or(candidate, u32::from_be_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_roids_stay_above_reserved_ones_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            store.reserve_roids_up_to(5000).unwrap();
            store.reserve_roids_up_to(10).unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let roid = store.next_roid('D').unwrap();
        let n: u64 = roid
            .trim_start_matches('D')
            .trim_end_matches("-MA")
            .parse()
            .unwrap();
        assert!(n > 5000, "{roid}");
    }

    #[test]
    fn sv_trids_are_never_reused_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path(), 1 << 20).unwrap().next_sv_trid();
        let second = Store::open(dir.path(), 1 << 20).unwrap().next_sv_trid();
        assert_ne!(first, second);
    }
}
