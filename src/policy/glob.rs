//! IAM wildcard patterns (`*` any run of characters, `?` exactly one): matching a known string,
//! and deciding a string of which only a prefix is known (the puller's role name, a repository's
//! unknown region or name). No regex: a pattern is simulated as a set of positions.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

/// How a pattern relates to every string `prefix + tail` with an unknown, non-empty `tail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extension {
    /// No completion matches.
    None,
    /// Some completions match, others do not.
    Some,
    /// Every completion matches.
    Every,
}

/// The set of pattern positions (byte offsets) reached after consuming some text. Patterns up to
/// 255 bytes stay on the stack; longer ones (rare) spill to the heap.
struct Positions {
    inline: [u64; 4],
    heap: Vec<u64>,
}

impl Positions {
    fn new(len: usize) -> Self {
        let words = len / 64 + 1;
        Positions {
            inline: [0; 4],
            heap: if words > 4 {
                vec![0; words]
            } else {
                Vec::new()
            },
        }
    }

    fn words(&self) -> &[u64] {
        if self.heap.is_empty() {
            &self.inline
        } else {
            &self.heap
        }
    }

    fn words_mut(&mut self) -> &mut [u64] {
        if self.heap.is_empty() {
            &mut self.inline
        } else {
            &mut self.heap
        }
    }

    fn insert(&mut self, i: usize) {
        self.words_mut()[i / 64] |= 1 << (i % 64);
    }

    fn contains(&self, i: usize) -> bool {
        self.words()[i / 64] & (1 << (i % 64)) != 0
    }

    fn clear(&mut self) {
        self.words_mut().iter_mut().for_each(|w| *w = 0);
    }

    fn is_empty(&self) -> bool {
        self.words().iter().all(|w| *w == 0)
    }

    /// The positions in increasing order, found by their bits (a loop over every position of
    /// the pattern for every character of the text cost the most of deciding a prefix).
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words().iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + bit)
            })
        })
    }
}

/// Adds position `i` and, because `*` may match nothing, every position after a run of stars.
fn add_closed(set: &mut Positions, pat: &[u8], mut i: usize) {
    loop {
        set.insert(i);
        if i < pat.len() && pat[i] == b'*' {
            i += 1;
        } else {
            break;
        }
    }
}

/// The positions of `pat` reachable after consuming all of `text`. `fold` compares ASCII letters
/// case-insensitively (action names); ARNs and StringLike compare exactly.
fn run(pat: &str, text: impl Iterator<Item = char>, fold: bool) -> Positions {
    run_from(pat, 0, text, fold)
}

/// [`run`] from pattern position `start` (a text that matched `pat[..start]`, which holds no
/// wildcard, leaves exactly that position).
fn run_from(pat: &str, start: usize, text: impl Iterator<Item = char>, fold: bool) -> Positions {
    let p = pat.as_bytes();
    let mut cur = Positions::new(p.len());
    let mut next = Positions::new(p.len());
    add_closed(&mut cur, p, start);
    let mut buf = [0u8; 4];
    for c in text {
        let cb = c.encode_utf8(&mut buf).as_bytes();
        next.clear();
        for i in cur.iter() {
            if i == p.len() {
                continue;
            }
            match p[i] {
                b'*' => add_closed(&mut next, p, i),
                b'?' => add_closed(&mut next, p, i + 1),
                _ => {
                    let end = i + cb.len();
                    if end <= p.len() {
                        let lit = &p[i..end];
                        let same = if fold {
                            lit.eq_ignore_ascii_case(cb)
                        } else {
                            lit == cb
                        };
                        if same {
                            add_closed(&mut next, p, end);
                        }
                    }
                }
            }
        }
        std::mem::swap(&mut cur, &mut next);
        if cur.is_empty() {
            break;
        }
    }
    cur
}

fn has_wildcard(pat: &str) -> bool {
    pat.bytes().any(|b| b == b'*' || b == b'?')
}

/// Whether `pat` matches all of `text`: the classic two-pointer match with backtracking to the
/// last `*` (linear in practice, no allocation). `?` consumes one whole character.
pub fn matches(pat: &str, text: &str, fold: bool) -> bool {
    if pat == "*" {
        return true;
    }
    let (p, t) = (pat.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // The last star seen and the text position its run currently ends at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let clen = char_len(t[ti]);
        let step = if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                b'?' => Some(clen),
                c if clen == 1 && (c == t[ti] || fold && c.eq_ignore_ascii_case(&t[ti])) => Some(1),
                _ if clen > 1 && p[pi..].starts_with(&t[ti..ti + clen]) => Some(clen),
                _ => None,
            }
        } else {
            None
        };
        match (step, star) {
            (Some(n), _) => {
                pi += if p[pi] == b'?' { 1 } else { n };
                ti += n;
            }
            (None, Some((sp, st))) => {
                // Let the last star absorb one more character and retry after it.
                let next = st + char_len(t[st]);
                star = Some((sp, next));
                pi = sp + 1;
                ti = next;
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}

/// Whether `pat` matches the text given as characters (a known head and tail, without building
/// the string).
pub fn matches_chars(pat: &str, text: impl Iterator<Item = char>, fold: bool) -> bool {
    pat == "*" || run(pat, text, fold).contains(pat.len())
}

/// The byte length of the UTF-8 character starting with `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Answers of [`extension`] by prefix, then pattern, then `fold` and `wild`.
type Extensions = FxHashMap<Box<str>, FxHashMap<Box<str>, [Option<Extension>; 4]>>;

thread_local! {
    /// The same few patterns (`arn:aws:iam::*:role/admin-*`) are asked about against the same
    /// few prefixes (the puller's role ARN) in document after document.
    static EXTENSIONS: RefCell<(Extensions, usize)> = RefCell::new((FxHashMap::default(), 0));
}

/// How many answers a worker remembers before it starts afresh.
const EXTENSIONS_KEPT: usize = 4096;

/// How many of its latest answers a worker compares directly before it looks in its table.
const RECENT: usize = 8;

/// The latest answers of [`extension_cached`]: pattern, prefix, `fold * 2 + wild`, answer.
type Recent = (
    [Option<(Box<str>, Box<str>, usize, Extension)>; RECENT],
    usize,
);

thread_local! {
    /// An estate asks about the same pattern (`arn:aws:iam::*:role/admin-*`) and the same few
    /// prefixes (the puller's role, an account's `iam` and `sts` ARNs) record after record:
    /// comparing them with the latest few answers costs less than hashing both strings for the
    /// table (a look-up there cost about 600 instructions).
    static RECENT_ANSWERS: RefCell<Recent> = RefCell::new((Default::default(), 0));
}

/// [`extension`], remembered by each worker (`tests::remembered_answers_are_the_answers`).
pub fn extension_cached(pat: &str, prefix: &str, fold: bool, wild: bool) -> Extension {
    let slot = usize::from(fold) * 2 + usize::from(wild);
    let recent = RECENT_ANSWERS.with_borrow(|(latest, _)| {
        latest.iter().flatten().find_map(|(p, x, s, e)| {
            (*s == slot && p.len() == pat.len() && **x == *prefix && **p == *pat).then_some(*e)
        })
    });
    if let Some(e) = recent {
        return e;
    }
    let e = extension_in_table(pat, prefix, fold, wild, slot);
    RECENT_ANSWERS.with_borrow_mut(|(latest, next)| {
        latest[*next] = Some((pat.into(), prefix.into(), slot, e));
        *next = (*next + 1) % RECENT;
    });
    e
}

/// [`extension`], remembered in the worker's table.
fn extension_in_table(pat: &str, prefix: &str, fold: bool, wild: bool, slot: usize) -> Extension {
    let known = EXTENSIONS.with_borrow(|(by_prefix, _)| {
        by_prefix
            .get(prefix)
            .and_then(|by_pat| by_pat.get(pat))
            .and_then(|answers| answers[slot])
    });
    if let Some(e) = known {
        return e;
    }
    let e = extension(pat, prefix, fold, wild);
    EXTENSIONS.with_borrow_mut(|(by_prefix, kept)| {
        if *kept >= EXTENSIONS_KEPT {
            by_prefix.clear();
            *kept = 0;
        }
        *kept += 1;
        let by_pat = match by_prefix.get_mut(prefix) {
            Some(m) => m,
            None => by_prefix.entry(prefix.into()).or_default(),
        };
        let answers = match by_pat.get_mut(pat) {
            Some(a) => a,
            None => by_pat.entry(pat.into()).or_default(),
        };
        answers[slot] = Some(e);
    });
    e
}

/// How `pat` relates to every string `prefix + tail`, `tail` unknown and non-empty.
/// With `wild` false the pattern is a literal (StringEquals against a partly known value).
pub fn extension(pat: &str, prefix: &str, fold: bool, wild: bool) -> Extension {
    if !wild || !has_wildcard(pat) {
        // A literal matches a completion only if it extends the prefix; never every completion.
        let starts = pat.len() > prefix.len()
            && pat.is_char_boundary(prefix.len())
            && if fold {
                pat[..prefix.len()].eq_ignore_ascii_case(prefix)
            } else {
                pat.starts_with(prefix)
            };
        return if starts {
            Extension::Some
        } else {
            Extension::None
        };
    }
    let p = pat.as_bytes();
    // Up to its first wildcard a pattern is a literal: the bytes it shares with the prefix are
    // compared at once (an ARN pattern and prefix share `arn:aws:iam::`), and the positions are
    // simulated only from there, from a character boundary of both.
    let literal = p
        .iter()
        .position(|b| *b == b'*' || *b == b'?')
        .unwrap_or(p.len());
    let mut k = p[..literal]
        .iter()
        .zip(prefix.as_bytes())
        .take_while(|(a, b)| {
            if fold {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        })
        .count();
    while !prefix.is_char_boundary(k) {
        k -= 1;
    }
    classify(p, &run_from(pat, k, prefix[k..].chars(), fold))
}

/// How the completions of a prefix relate to a pattern, from the positions the prefix reaches.
fn classify(p: &[u8], set: &Positions) -> Extension {
    let mut some = false;
    for i in set.iter() {
        if i < p.len() {
            // A non-empty rest of a pattern matches some non-empty string; a rest of stars
            // matches every one.
            some = true;
            if matches_every_nonempty(&p[i..]) {
                return Extension::Every;
            }
        }
    }
    if some {
        Extension::Some
    } else {
        Extension::None
    }
}

/// Whether a rest of pattern matches every non-empty string: only stars, or stars with a single
/// `?` (which the tail's first character always fills), as in `*`, `?*`, `*?`.
fn matches_every_nonempty(rest: &[u8]) -> bool {
    let marks = rest.iter().filter(|b| **b == b'?').count();
    let stars = rest.iter().filter(|b| **b == b'*').count();
    marks + stars == rest.len() && stars > 0 && marks <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_and_question_mark_one_character() {
        assert!(matches("ecr:Get*", "ecr:GetDownloadUrlForLayer", false));
        assert!(matches("ecr:Batch???Image", "ecr:BatchGetImage", false));
        assert!(!matches("ecr:Batch??Image", "ecr:BatchGetImage", false));
        assert!(matches("a*b*c", "axxbyyc", false));
        assert!(!matches("a*b*c", "axxbyy", false));
        assert!(matches("", "", false));
        assert!(!matches("", "x", false));
        assert!(matches("**", "", false));
    }

    #[test]
    fn backtracking_finds_a_later_alignment() {
        assert!(matches("*ab", "aab", false));
        assert!(matches("a*a*a", "aaaa", false));
        assert!(!matches("a*a*a", "aa", false));
        assert!(matches("*Layer*", "ecr:GetDownloadUrlForLayer", false));
        assert!(matches("ecr:*", "ecr:", false));
        assert!(!matches("?", "", false));
        assert!(matches_chars(
            "repo*/a?p",
            "repository/".chars().chain("app".chars()),
            false
        ));
    }

    #[test]
    fn question_mark_consumes_a_whole_multibyte_character() {
        assert!(matches("r?sum?", "résumé", false));
        assert!(matches("é*", "éa", false));
    }

    #[test]
    fn folding_is_ascii_case_insensitive() {
        assert!(matches("ECR:batchgetimage", "ecr:BatchGetImage", true));
        assert!(!matches("ECR:batchgetimage", "ecr:BatchGetImage", false));
    }

    #[test]
    fn remembered_answers_are_the_answers() {
        let prefixes = [
            "repository/",
            "arn:aws:iam::111122223333:role/",
            "ARN:AWS:IAM::1:ROLE/",
        ];
        let pats = [
            "repository/*",
            "repository/app",
            "arn:aws:iam::*:role/admin-*",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::111122223333:role/ci",
            "*",
            "x?*",
        ];
        // More questions than are kept, twice over: answers come from memory and afresh.
        for round in 0..3 {
            for i in 0..(EXTENSIONS_KEPT / 10) {
                for prefix in prefixes {
                    for pat in pats {
                        let pat = if i % 2 == 0 {
                            pat.to_owned()
                        } else {
                            format!("{pat}{i}")
                        };
                        for (fold, wild) in
                            [(false, false), (false, true), (true, false), (true, true)]
                        {
                            assert_eq!(
                                extension_cached(&pat, prefix, fold, wild),
                                extension(&pat, prefix, fold, wild),
                                "round {round}: {pat} {prefix} {fold} {wild}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn extension_decides_every_some_or_none() {
        let prefix = "repository/";
        assert_eq!(
            extension("repository/*", prefix, false, true),
            Extension::Every
        );
        assert_eq!(extension("*", prefix, false, true), Extension::Every);
        assert_eq!(
            extension("repository/app-*", prefix, false, true),
            Extension::Some
        );
        assert_eq!(
            extension("repository/app", prefix, false, true),
            Extension::Some
        );
        assert_eq!(
            extension("repository/", prefix, false, true),
            Extension::None
        );
        assert_eq!(extension("image/*", prefix, false, true), Extension::None);
        assert_eq!(extension("repo*", prefix, false, true), Extension::Every);
        // The unknown tail is never empty: one `?` beside a star always finds its character.
        for every in ["repository/?*", "repository/*?", "repository/*?*"] {
            assert_eq!(
                extension(every, prefix, false, true),
                Extension::Every,
                "{every}"
            );
        }
        for some in ["repository/?", "repository/??*", "repository/?*?"] {
            assert_eq!(
                extension(some, prefix, false, true),
                Extension::Some,
                "{some}"
            );
        }
        assert_eq!(extension("*", "", false, true), Extension::Every);
        assert_eq!(extension("us-*", "", false, true), Extension::Some);
        assert_eq!(
            extension("repository/a*", prefix, false, false),
            Extension::Some
        );
    }

    #[test]
    fn long_patterns_spill_to_the_heap() {
        let pat = format!("{}*", "a".repeat(300));
        assert!(matches(&pat, &"a".repeat(310), false));
        assert_eq!(
            extension(&pat, &"a".repeat(300), false, true),
            Extension::Every
        );
    }

    proptest::proptest! {
        #[test]
        fn the_literal_start_compared_at_once_decides_as_the_positions_do(
            pat in "(arn:aws:iam::|ab|é)?[ab*?é:]{0,8}",
            prefix in "(arn:aws:iam::|AB|ab|é)?[abé:]{0,6}",
            fold: bool,
        ) {
            let expected = if has_wildcard(&pat) {
                classify(pat.as_bytes(), &run(&pat, prefix.chars(), fold))
            } else {
                extension(&pat, &prefix, fold, false)
            };
            proptest::prop_assert_eq!(extension(&pat, &prefix, fold, true), expected);
        }

        #[test]
        fn two_pointer_match_agrees_with_position_sets(
            pat in "[ab*?é]{0,8}",
            text in "[abé]{0,10}",
            fold: bool,
        ) {
            proptest::prop_assert_eq!(
                matches(&pat, &text, fold),
                run(&pat, text.chars(), fold).contains(pat.len())
            );
        }
    }
}
