//! A small in-process cache bounded by entries and by bytes, with a time to live.
//!
//! Hand-rolled rather than a crate: the caches here hold a few thousand entries behind one
//! lock, and first-in-first-out eviction of the oldest entries is all they need. What
//! matters is that they never grow without bound and never drop everything at once (which
//! would let anyone flush them by filling them).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

pub(crate) struct BoundedCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    max_bytes: usize,
    entries: HashMap<K, (Instant, V, usize)>,
    /// Keys in insertion order: exactly the keys of `entries`.
    order: VecDeque<K>,
    bytes: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedCache<K, V> {
    pub(crate) fn new(ttl: Duration, max_entries: usize, max_bytes: usize) -> Self {
        Self { ttl, max_entries, max_bytes, entries: HashMap::new(), order: VecDeque::new(), bytes: 0 }
    }

    /// A live value.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let (at, value, _) = self.entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Stores `value`, which costs about `weight` bytes; evicts the oldest entries until
    /// both bounds hold. A value heavier than the whole budget is not kept.
    pub(crate) fn put(&mut self, key: K, value: V, weight: usize) {
        if weight > self.max_bytes {
            self.remove(&key);
            return;
        }
        match self.entries.get_mut(&key) {
            Some(entry) => {
                self.bytes = self.bytes - entry.2 + weight;
                *entry = (Instant::now(), value, weight);
            }
            None => {
                self.entries.insert(key.clone(), (Instant::now(), value, weight));
                self.order.push_back(key.clone());
                self.bytes += weight;
            }
        }
        while self.entries.len() > self.max_entries || self.bytes > self.max_bytes {
            let Some(oldest) = self.order.pop_front() else { break };
            if let Some((_, _, w)) = self.entries.remove(&oldest) {
                self.bytes -= w;
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &K) {
        if let Some((_, _, w)) = self.entries.remove(key) {
            self.bytes -= w;
            self.order.retain(|k| k != key);
        }
    }

    /// Drops the entries whose key matches.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.entries.retain(|k, _| keep(k));
        self.order.retain(|k| self.entries.contains_key(k));
        self.bytes = self.entries.values().map(|(_, _, w)| w).sum();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_entries_and_bytes_evicting_the_oldest() {
        let mut c = BoundedCache::new(Duration::from_secs(60), 3, 100);
        for k in 0..5 {
            c.put(k, k, 10);
        }
        assert_eq!((c.len(), c.bytes()), (3, 30));
        assert_eq!((c.get(&0), c.get(&1), c.get(&4)), (None, None, Some(4)));
        c.put(9, 9, 90);
        assert_eq!((c.len(), c.bytes()), (2, 100), "the byte budget evicts the oldest");
        c.put(4, 40, 5);
        assert_eq!((c.get(&4), c.bytes()), (Some(40), 95), "replacing reweighs in place");
        c.put(7, 7, 1000);
        assert_eq!(c.get(&7), None, "heavier than the budget: not kept");
        c.retain(|k| *k != 9);
        assert_eq!((c.len(), c.bytes()), (1, 5));
    }

    #[test]
    fn expired_entries_are_misses() {
        let mut c = BoundedCache::new(Duration::ZERO, 3, 100);
        c.put("a", 1, 1);
        assert_eq!(c.get(&"a"), None);
    }
}
