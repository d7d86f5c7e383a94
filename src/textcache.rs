//! A bounded cache keyed by text, shared by the scan's workers: what the audit remembers of the
//! policy texts it has judged. Estates apply a few templated policies to thousands of
//! repositories, so most records repeat a text already judged.
//!
//! - Keyed by the whole text, compared byte for byte on a hit: a verdict is never taken from a
//!   different text, however the hashes fall.
//! - Once the cache has filled up, a text is kept only the second time it is seen (a set of
//!   hashes remembers the first time): the texts seen once — most of the distinct texts of an
//!   estate — do not push out the ones that repeat.
//! - Bounded by the bytes of text it holds, in two generations: when the current one is full it
//!   becomes the old one and the old one is dropped; a text found in the old generation moves
//!   back to the current one. The texts an estate keeps repeating stay.
//! - Sharded by hash, each shard behind its own lock, so workers seldom wait for each other.

use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::Mutex;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

const SHARDS: usize = 16;

pub struct TextCache<V> {
    shards: [Mutex<Shard<V>>; SHARDS],
    /// The bytes of text one generation of one shard holds.
    shard_bytes: usize,
}

struct Shard<V> {
    current: FxHashMap<u64, (Box<str>, V)>,
    old: FxHashMap<u64, (Box<str>, V)>,
    bytes: usize,
    /// Hashes of texts seen once and not kept (bounded like a generation).
    seen: FxHashSet<u64>,
}

impl<V> Default for Shard<V> {
    fn default() -> Self {
        Shard {
            current: FxHashMap::default(),
            old: FxHashMap::default(),
            bytes: 0,
            seen: FxHashSet::default(),
        }
    }
}

/// A text's hash, and which shard it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Hashed(u64);

impl<V: Clone> TextCache<V> {
    /// A cache holding at most about `2 * bytes` bytes of text (two generations).
    pub fn new(bytes: usize) -> Self {
        TextCache {
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
            shard_bytes: (bytes / SHARDS).max(1),
        }
    }

    pub fn hash(text: &str) -> Hashed {
        Hashed(BuildHasherDefault::<FxHasher>::default().hash_one(text))
    }

    fn shard(&self, h: Hashed) -> std::sync::MutexGuard<'_, Shard<V>> {
        let shard = &self.shards[(h.0 >> 60) as usize % SHARDS];
        // A worker that panicked while holding the lock left the shard consistent (every
        // change is one insert or one swap), so its contents can still be used.
        shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value kept for `text`, if any.
    pub fn get(&self, h: Hashed, text: &str) -> Option<V> {
        let mut shard = self.shard(h);
        if let Some((t, v)) = shard.current.get(&h.0) {
            return (**t == *text).then(|| v.clone());
        }
        let (t, v) = shard.old.remove(&h.0)?;
        if *t != *text {
            return None;
        }
        let found = v.clone();
        shard.keep(h, t, v, self.shard_bytes);
        Some(found)
    }

    /// Offers the value computed for `text`: kept while there is room, and once the cache has
    /// filled up, only if `text` was seen before.
    #[cfg(test)]
    pub fn offer(&self, h: Hashed, text: &str, value: V) {
        self.offer_with(h, text, || value);
    }

    /// Offers the value `make` makes for `text`, made only if it is kept (see [`Self::offer`]):
    /// once the cache has filled up, most texts of an estate whose policies differ are seen
    /// once and not kept, and making what would be kept (shared lists, a lock per owner) was
    /// wasted on them.
    pub fn offer_with(&self, h: Hashed, text: &str, make: impl FnOnce() -> V) {
        let mut shard = self.shard(h);
        // Until a shard first fills up there is room for every text; after, only for the texts
        // that come back.
        let room = shard.old.is_empty() && shard.bytes + text.len() <= self.shard_bytes;
        if shard.seen.remove(&h.0) || room {
            shard.keep(h, text.into(), make(), self.shard_bytes);
        } else {
            if shard.seen.len() * 64 >= self.shard_bytes {
                shard.seen.clear();
            }
            shard.seen.insert(h.0);
        }
    }
}

impl<V> Shard<V> {
    fn keep(&mut self, h: Hashed, text: Box<str>, value: V, limit: usize) {
        if self.bytes + text.len() > limit {
            self.old = std::mem::take(&mut self.current);
            self.bytes = 0;
        }
        self.bytes += text.len();
        self.current.insert(h.0, (text, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(c: &TextCache<u32>, text: &str) -> Option<u32> {
        c.get(TextCache::<u32>::hash(text), text)
    }

    fn offer(c: &TextCache<u32>, text: &str, v: u32) {
        c.offer(TextCache::<u32>::hash(text), text, v);
    }

    #[test]
    fn once_full_a_text_is_kept_the_second_time_it_is_offered() {
        let c = TextCache::new(16 * 64);
        offer(&c, "a", 1);
        assert_eq!(get(&c, "a"), Some(1), "kept at once while there is room");
        // Fill every shard (each holds 64 bytes a generation) with texts that come back.
        for i in 0..2_000u32 {
            let t = format!("filler {i:>10}");
            offer(&c, &t, i);
            offer(&c, &t, i);
        }
        offer(&c, "b", 2);
        assert_eq!(get(&c, "b"), None, "seen once, once full");
        offer(&c, "b", 2);
        assert_eq!(get(&c, "b"), Some(2), "seen twice");
        assert_eq!(get(&c, "c"), None);
    }

    #[test]
    fn workers_sharing_the_cache_only_ever_get_a_texts_own_value() {
        // Small enough to swap generations often while four workers read and write.
        let c: TextCache<u32> = TextCache::new(16 * 256);
        std::thread::scope(|s| {
            for w in 0..4u32 {
                let c = &c;
                s.spawn(move || {
                    for i in 0..20_000u32 {
                        let n = (i * 7 + w * 13) % 500;
                        let text = format!("policy text number {n}");
                        let h = TextCache::<u32>::hash(&text);
                        match c.get(h, &text) {
                            Some(v) => assert_eq!(v, n, "{text}"),
                            None => c.offer(h, &text, n),
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn a_hash_collision_is_a_miss_not_another_texts_value() {
        let c = TextCache::new(1 << 20);
        offer(&c, "a", 1);
        offer(&c, "a", 1);
        // The same hash with another text: a forged hash stands for a collision.
        assert_eq!(c.get(TextCache::<u32>::hash("a"), "b"), None);
        assert_eq!(get(&c, "a"), Some(1));
    }

    #[test]
    fn the_cache_stays_within_its_bound_and_keeps_what_is_used() {
        // 16 shards of 64 bytes a generation.
        let c = TextCache::new(16 * 64);
        let hot = "hot text that is used all the time";
        offer(&c, hot, 7);
        offer(&c, hot, 7);
        for i in 0..10_000u32 {
            let t = format!("cold text number {i:>20}");
            offer(&c, &t, i);
            offer(&c, &t, i);
            assert_eq!(get(&c, hot), Some(7), "after {i} cold texts");
        }
        for s in &c.shards {
            let s = s.lock().expect("no panic");
            let held: usize = s
                .current
                .values()
                .chain(s.old.values())
                .map(|(t, _)| t.len())
                .sum();
            assert!(held <= 2 * 64 + 64, "a shard holds {held} bytes");
        }
    }
}
