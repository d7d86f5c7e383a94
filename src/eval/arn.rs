//! ARNs matched part by part as `ArnLike` does: the six colon-separated parts each matched with
//! `*`/`?`, never across a colon. A part may be only partly known (a repository's region, the
//! puller's role name), which makes the answer three-valued.

use crate::policy::glob::{self, Extension};

use super::tri::Tri;

/// One part of a target ARN: a known `head`, then a known or unknown `tail`.
#[derive(Clone, Copy, Debug)]
pub struct Part<'a> {
    pub head: &'a str,
    pub tail: Tail<'a>,
}

#[derive(Clone, Copy, Debug)]
pub enum Tail<'a> {
    Known(&'a str),
    /// Some non-empty string we do not know.
    Unknown,
}

impl<'a> Part<'a> {
    pub fn known(s: &'a str) -> Part<'a> {
        Part {
            head: s,
            tail: Tail::Known(""),
        }
    }

    /// A wholly unknown part (a region or account not given by the input).
    pub fn unknown() -> Part<'a> {
        Part {
            head: "",
            tail: Tail::Unknown,
        }
    }

    pub fn option(s: Option<&'a str>) -> Part<'a> {
        s.map_or(Part::unknown(), Part::known)
    }
}

/// A glob part against a target part: exact, or decided over every unknown tail.
pub fn part(pat: &str, target: Part<'_>) -> Tri {
    match target.tail {
        Tail::Known("") => glob::matches(pat, target.head, false).into(),
        Tail::Known(tail) => {
            glob::matches_chars(pat, target.head.chars().chain(tail.chars()), false).into()
        }
        Tail::Unknown => match glob::extension_cached(pat, target.head, false, true) {
            Extension::Every => Tri::True,
            Extension::Some => Tri::Unknown,
            Extension::None => Tri::False,
        },
    }
}

/// `ArnLike` of `pattern` against a target of six parts; a pattern without six parts matches
/// nothing.
pub fn like(pattern: &str, target: &[Part<'_>; 6]) -> Tri {
    let Some(pats) = six(pattern) else {
        return Tri::False;
    };
    let mut acc = Tri::True;
    for (p, t) in pats.into_iter().zip(target) {
        acc = acc.and(part(p, *t));
        if acc == Tri::False {
            return acc;
        }
    }
    acc
}

/// Splits a known ARN into six parts; `None` if it has fewer.
pub fn split(arn: &str) -> Option<[Part<'_>; 6]> {
    Some(six(arn)?.map(Part::known))
}

/// The six colon-separated parts of `text` as `splitn(6, ':')` gives them (the last holds any
/// further colons); `None` with fewer than five colons. This runs for every principal and ARN
/// condition value of every judged statement.
pub fn six(text: &str) -> Option<[&str; 6]> {
    let ([a, b, c, d, e], rest) = colons::<5>(text)?;
    Some([a, b, c, d, e, rest])
}

/// The first `N` colon-separated parts of `text` and what follows the `N`th colon; `None` with
/// fewer colons.
pub fn colons<const N: usize>(text: &str) -> Option<([&str; N], &str)> {
    // One pass over the bytes: ARNs are tens of bytes, where a `memchr` call per part costs
    // more than it saves.
    let mut parts = [""; N];
    let (mut n, mut start) = (0, 0);
    for (i, b) in text.bytes().enumerate() {
        if b == b':' {
            parts[n] = &text[start..i];
            n += 1;
            start = i + 1;
            if n == N {
                return Some((parts, &text[start..]));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn six_parts_are_those_of_splitn(text in "[a:*/]{0,12}") {
            let by_splitn: Vec<&str> = text.splitn(6, ':').collect();
            match six(&text) {
                Some(parts) => prop_assert_eq!(parts.to_vec(), by_splitn),
                None => prop_assert!(by_splitn.len() < 6),
            }
        }
    }

    fn role_of(account: &str) -> [Part<'_>; 6] {
        [
            Part::known("arn"),
            Part::known("aws"),
            Part::known("iam"),
            Part::known(""),
            Part::known(account),
            Part {
                head: "role/",
                tail: Tail::Unknown,
            },
        ]
    }

    #[test]
    fn parts_do_not_match_across_colons() {
        let t = split("arn:aws:ecr:us-east-1:111122223333:repository/app").expect("six parts");
        assert_eq!(like("arn:aws:ecr:*:*:repository/*", &t), Tri::True);
        assert_eq!(like("arn:aws:ecr:*", &t), Tri::False);
        assert_eq!(
            like("arn:aws:ecr:us-east-?:111122223333:repository/app", &t),
            Tri::True
        );
        assert_eq!(like("arn:aws:s3:*:*:*", &t), Tri::False);
    }

    #[test]
    fn unknown_tail_is_decided_in_three_values() {
        let t = role_of("111122223333");
        assert_eq!(like("arn:aws:iam::111122223333:role/*", &t), Tri::True);
        assert_eq!(like("arn:aws:iam::111122223333:*", &t), Tri::True);
        assert_eq!(
            like("arn:aws:iam::111122223333:role/gitpod-*", &t),
            Tri::Unknown
        );
        assert_eq!(like("arn:aws:iam::111122223333:root", &t), Tri::False);
        assert_eq!(like("arn:aws:iam::444455556666:role/*", &t), Tri::False);
    }
}
