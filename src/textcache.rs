//! A bounded cache keyed by text, shared by the scan's workers: what the audit remembers of the
//! policy texts it has judged. Estates apply a few templated policies to thousands of
//! repositories, so most records repeat a text already judged.
//!
//! - Keyed by the whole text, compared byte for byte on a hit: a verdict is never taken from a
//!   different text, however the hashes fall.
//! - A text is kept only the second time it is seen (a set of hashes remembers the first time):
//!   the texts seen once — most of the distinct texts of an estate — are neither copied nor
//!   kept with what was made of them, and do not push out the ones that repeat. The look-up
//!   notes the first sight under the same lock, so a text seen once costs one lock, not two.
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
    /// Look-ups of a text seen before (hits included), and of a text seen the first time: how
    /// much this shard's texts repeat.
    repeats: u32,
    firsts: u32,
}

impl<V> Default for Shard<V> {
    fn default() -> Self {
        Shard {
            current: FxHashMap::default(),
            old: FxHashMap::default(),
            bytes: 0,
            seen: FxHashSet::default(),
            repeats: 0,
            firsts: 0,
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

    /// What the cache holds for `text`, noting a text not kept as seen (see [`Lookup`]).
    pub fn get(&self, h: Hashed, text: &str) -> Lookup<V> {
        let mut shard = self.shard(h);
        match shard.current.get(&h.0) {
            Some((t, v)) if **t == *text => {
                let found = v.clone();
                shard.repeated();
                return Lookup::Hit(found);
            }
            Some(_) => {}
            None => {
                if let Some((t, v)) = shard.old.remove(&h.0) {
                    if *t == *text {
                        let found = v.clone();
                        shard.keep(h, t, v, self.shard_bytes);
                        shard.repeated();
                        return Lookup::Hit(found);
                    }
                }
            }
        }
        if shard.seen.remove(&h.0) {
            shard.repeated();
            return Lookup::Keep;
        }
        shard.firsts = shard.firsts.saturating_add(1);
        // While the shard has never filled up, a text is kept the first time too if the texts
        // so far mostly come back (a templated estate: its repeats are hits from the second
        // sight on); where they mostly differ, the first sight is only noted.
        let room = shard.old.is_empty() && shard.bytes + text.len() <= self.shard_bytes;
        if room && shard.repeats >= shard.firsts / 2 {
            return Lookup::Keep;
        }
        if shard.seen.len() * 64 >= self.shard_bytes {
            shard.seen.clear();
        }
        shard.seen.insert(h.0);
        Lookup::Skip
    }

    /// Keeps `value` for `text`, for which [`Self::get`] said [`Lookup::Keep`].
    pub fn keep(&self, h: Hashed, text: &str, value: V) {
        self.shard(h).keep(h, text.into(), value, self.shard_bytes);
    }
}

/// What [`TextCache::get`] found for a text.
pub enum Lookup<V> {
    /// The value kept for it.
    Hit(V),
    /// Nothing: what is made for the text should be kept ([`TextCache::keep`]). The text was
    /// seen before, or it is new while the cache has room and the texts so far mostly repeat.
    Keep,
    /// Nothing, and what is made for the text is not kept: the first time it is seen (or the
    /// first since the set of seen texts started afresh), in an estate whose texts mostly
    /// differ or once the cache has filled up. The next time, it is kept.
    Skip,
}

impl<V> Shard<V> {
    fn repeated(&mut self) {
        self.repeats += 1;
        if self.repeats == u32::MAX / 2 {
            // Halved together, the proportion stays.
            self.repeats /= 2;
            self.firsts /= 2;
        }
    }

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

    /// What a worker does with a text: the value kept, or `v` made for it (and kept when the
    /// cache says so).
    fn see(c: &TextCache<u32>, text: &str, v: u32) -> Option<u32> {
        let h = TextCache::<u32>::hash(text);
        match c.get(h, text) {
            Lookup::Hit(found) => return Some(found),
            Lookup::Keep => c.keep(h, text, v),
            Lookup::Skip => {}
        }
        None
    }

    fn held(c: &TextCache<u32>) -> usize {
        c.shards
            .iter()
            .map(|s| {
                let s = s.lock().expect("no panic");
                s.current.len() + s.old.len()
            })
            .sum()
    }

    #[test]
    fn where_texts_mostly_differ_a_text_is_kept_the_second_time_it_is_seen() {
        let c = TextCache::new(1 << 20);
        for i in 0..1_000u32 {
            see(&c, &format!("distinct {i}"), i);
        }
        let before = held(&c);
        assert!(
            before <= 16,
            "at most each shard's very first text: {before}"
        );
        assert_eq!(see(&c, "a", 1), None);
        assert_eq!(
            held(&c),
            before,
            "seen once: nothing kept, however much room there is"
        );
        assert_eq!(
            see(&c, "a", 1),
            None,
            "the second time is made afresh, and kept"
        );
        assert_eq!(held(&c), before + 1);
        assert_eq!(see(&c, "a", 9), Some(1), "the third time is a hit");
    }

    #[test]
    fn where_texts_mostly_repeat_a_new_text_is_kept_at_once_while_there_is_room() {
        let c = TextCache::new(1 << 20);
        for i in 0..1_000u32 {
            let t = format!("template {}", i % 50);
            see(&c, &t, i % 50);
        }
        assert_eq!(see(&c, "a", 1), None);
        assert_eq!(see(&c, "a", 9), Some(1), "kept the first time");
    }

    #[test]
    fn once_full_a_text_is_still_kept_the_second_time_it_is_seen() {
        let c = TextCache::new(16 * 64);
        // Fill every shard (each holds 64 bytes a generation) with texts that come back.
        for i in 0..2_000u32 {
            let t = format!("filler {i:>10}");
            see(&c, &t, i);
            see(&c, &t, i);
        }
        assert_eq!(see(&c, "b", 2), None, "seen once");
        assert_eq!(see(&c, "b", 2), None, "seen twice: kept now");
        assert_eq!(see(&c, "b", 3), Some(2));
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
                        if let Some(v) = see(c, &text, n) {
                            assert_eq!(v, n, "{text}");
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn a_hash_collision_is_a_miss_not_another_texts_value() {
        let c = TextCache::new(1 << 20);
        see(&c, "a", 1);
        see(&c, "a", 1);
        // The same hash with another text: a forged hash stands for a collision.
        assert!(!matches!(
            c.get(TextCache::<u32>::hash("a"), "b"),
            Lookup::Hit(_)
        ));
        assert_eq!(see(&c, "a", 9), Some(1));
    }

    #[test]
    fn the_cache_stays_within_its_bound_and_keeps_what_is_used() {
        // 16 shards of 64 bytes a generation.
        let c = TextCache::new(16 * 64);
        let hot = "hot text that is used all the time";
        see(&c, hot, 7);
        see(&c, hot, 7);
        for i in 0..10_000u32 {
            let t = format!("cold text number {i:>20}");
            see(&c, &t, i);
            see(&c, &t, i);
            assert_eq!(see(&c, hot, 8), Some(7), "after {i} cold texts");
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
