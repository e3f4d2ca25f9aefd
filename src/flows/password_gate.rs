//! argon2 under a storm of logins. A registrar's sessions often log in
//! together (after a restart of the server or of the registrar's client),
//! and each of them would otherwise run its own argon2 on the blocking
//! pool: 19 MiB and tens of milliseconds of a core each, hundreds at once,
//! taking the cores from the TLS handshakes until clients time out. The
//! gate lets one verification per registrar and password run at a time
//! (the logins that arrive meanwhile with the same password wait, then find
//! its outcome in the password cache), and at most one argon2 per core at
//! once, in arrival order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedMutexGuard, Semaphore, SemaphorePermit};

/// The key of one verification: a keyed digest of the clID and the
/// password, never the password itself.
pub type VerificationKey = [u8; 32];

type Turns = Mutex<HashMap<VerificationKey, Arc<tokio::sync::Mutex<()>>>>;

/// One verification per key at a time, and a bounded number of argon2 runs.
pub struct PasswordGate {
    turns: Turns,
    argon2: Semaphore,
}

impl Default for PasswordGate {
    /// One argon2 at once per core.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    }
}

impl PasswordGate {
    /// A gate running at most `at_once` argon2 verifications at once
    /// (at least one).
    pub fn new(at_once: usize) -> Self {
        Self {
            turns: Mutex::new(HashMap::new()),
            argon2: Semaphore::new(at_once.max(1)),
        }
    }

    /// Waits until no other verification of `key` runs; the turn lasts
    /// until the returned value is dropped.
    pub async fn turn(&self, key: VerificationKey) -> Turn<'_> {
        let lock = match self.turns.lock() {
            Ok(mut turns) => Arc::clone(turns.entry(key).or_default()),
            // A poisoned map: no coalescing, each login verifies alone.
            Err(_) => Arc::new(tokio::sync::Mutex::new(())),
        };
        Turn {
            gate: self,
            key,
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Waits for one of the argon2 places, in arrival order; the place is
    /// taken until the returned permit is dropped.
    pub async fn argon2_place(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed: a permit always comes.
        self.argon2.acquire().await.ok()
    }

    /// Verifications waiting or running (for tests).
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.turns.lock().map_or(0, |t| t.len())
    }
}

/// The turn of one verification key.
pub struct Turn<'a> {
    gate: &'a PasswordGate,
    key: VerificationKey,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        if let Ok(mut turns) = self.gate.turns.lock() {
            // The map and this guard hold the lock; anyone else waiting
            // took a clone of it under the map's lock, so with nobody
            // waiting the entry can go.
            let idle = turns
                .get(&self.key)
                .is_some_and(|lock| Arc::ptr_eq(lock, OwnedMutexGuard::mutex(&guard)))
                && Arc::strong_count(OwnedMutexGuard::mutex(&guard)) == 2;
            if idle {
                turns.remove(&self.key);
            }
        }
        drop(guard);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_turn_per_key_at_once_and_the_map_empties() {
        let gate = Arc::new(PasswordGate::new(4));
        let running: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
        let most: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..12usize {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            // Three keys, four logins each.
            let k = n % 3;
            tasks.spawn(async move {
                let _turn = gate.turn([k as u8; 32]).await;
                let now = running[k].fetch_add(1, Ordering::SeqCst) + 1;
                most[k].fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                running[k].fetch_sub(1, Ordering::SeqCst);
            });
        }
        while tasks.join_next().await.is_some() {}
        for k in 0..3 {
            assert_eq!(most[k].load(Ordering::SeqCst), 1, "key {k}");
        }
        assert_eq!(gate.keys(), 0, "no turn is left behind");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn argon2_runs_are_bounded() {
        let gate = Arc::new(PasswordGate::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            tasks.spawn(async move {
                let _place = gate.argon2_place().await;
                tokio::task::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            });
        }
        while let Some(done) = tasks.join_next().await {
            assert!(done.unwrap().is_ok());
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
