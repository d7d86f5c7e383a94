//! A one-pass reader for the commonest object of all: a bulk-export line or a
//! `get-repository-policy` file whose keys are `policyText`, `repositoryName`, `registryId` and
//! `region`, every value a string. The general route parses the object with serde_json into a
//! [`Probe`](super::common::Probe) (which scans the policy string to find its end); here one scan
//! finds the policy string's end and checks its escapes ([`string_end`]), the string is kept as
//! found ([`PolicyText::encoded`], read in place when judged: `policy::parse_text`), and the
//! record is made as `repository.rs` makes it. Anything else (another
//! key, a value of another type, an escape in a name, a `\u` escape, a repeated key, a syntax
//! error, an identity field the general route would refuse) gives `None`, and the general route
//! reads the object, messages included. `tests::quick_agrees_with_the_general_route` holds the
//! two to the same records.

use super::common::{At, is_account};
use super::kind::Shape;
use crate::audit::read_while_reading;
use crate::jsonscan::{checked_string_end as string_end, plain_string as plain, skip_ws};
use crate::record::{Body, PolicyText, RepoId, decode_literal};

/// What the reader makes of one object.
pub(crate) type Made = (Shape, RepoId, Body);

/// The record of `text` (one JSON object, JSON whitespace around it allowed), or `None` when it
/// is not of the common kind. `here`: the record is judged on this thread (a file's, or a line's
/// of a block of JSON Lines), so its policy may be read now (see `object`).
pub(crate) fn record(text: &str, at: At, here: bool) -> Option<Made> {
    let (made, end) = object(text, skip_ws(text.as_bytes(), 0), at, here)?;
    (skip_ws(text.as_bytes(), end) == text.len()).then_some(made)
}

/// The records of a bulk export held as one JSON array (`[{…}, {…}]`, JSON whitespace around
/// it allowed), numbered as the general route numbers them (`record N`): every element must be
/// of the common kind, else `None` and the general route reads the whole array (so a file that
/// is not JSON is still refused whole, with serde_json's message). Only documents held whole
/// come here (at most `read::MAX_WHOLE`); their records are kept until the array's end.
pub(crate) fn array(text: &str) -> Option<Vec<Made>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let mut made = Vec::new();
    loop {
        let (one, end) = object(
            text,
            skip_ws(b, i + 1),
            At::part("record", made.len()),
            false,
        )?;
        made.push(one);
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => {}
            b']' => break,
            _ => return None,
        }
    }
    (skip_ws(b, i + 1) == b.len()).then_some(made)
}

/// Whether `text` (JSON whitespace around it allowed) is a bare policy document that the general
/// route reads as one ([`super::document::PolicyDocument`]) without a message of its own: an
/// object whose keys are `Version`, `Id` and `Statement` (each once, `Statement` present; none
/// of them a field of [`Probe`](super::common::Probe) but `Statement`, so no other format
/// detects it), valid JSON throughout. The general route would parse it with serde_json into a
/// probe only to learn that; here one scan does (a `\u` escape, a nesting deeper than
/// [`DEPTH`], or anything else unusual gives `false`, and the general route reads it).
pub(crate) fn document(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return false;
    }
    i = skip_ws(b, i + 1);
    let mut seen = [false; 3];
    loop {
        let Some((key, next)) = plain(text, i) else {
            return false;
        };
        let slot = match key {
            "Version" => 0,
            "Id" => 1,
            "Statement" => 2,
            _ => return false,
        };
        if std::mem::replace(&mut seen[slot], true) {
            return false;
        }
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return false;
        }
        let Some(end) = value_end(b, skip_ws(b, i + 1)) else {
            return false;
        };
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => break,
            _ => return false,
        }
    }
    seen[2] && skip_ws(b, i + 1) == b.len()
}

/// How deep [`value_end`] follows arrays and objects (serde_json stops at 128).
const DEPTH: usize = 64;

/// The index after the JSON value that starts at `i`, when it is valid JSON as serde_json reads
/// it (strings without `\u` escapes, at most [`DEPTH`] levels); else `None`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    // Bit `d` of `arrays`: the container at depth `d` is an array (else an object).
    let (mut depth, mut arrays) = (0usize, 0u64);
    let mut i = i;
    loop {
        // A value starts at `i`.
        match *b.get(i)? {
            open @ (b'{' | b'[') => {
                i = skip_ws(b, i + 1);
                // `}` and `]` come two after their openers in ASCII.
                if b.get(i) == Some(&(open + 2)) {
                    i += 1;
                } else {
                    depth += 1;
                    if depth > DEPTH {
                        return None;
                    }
                    let bit = 1 << (depth - 1);
                    if open == b'[' {
                        arrays |= bit;
                    } else {
                        arrays &= !bit;
                        i = key_end(b, i)?;
                    }
                    continue;
                }
            }
            b'"' => i = string_end(b, i)?,
            b't' => i = literal_end(b, i, b"true")?,
            b'f' => i = literal_end(b, i, b"false")?,
            b'n' => i = literal_end(b, i, b"null")?,
            b'-' | b'0'..=b'9' => i = number_end(b, i)?,
            _ => return None,
        }
        // After a value: the next one of its container, or the container's end.
        loop {
            if depth == 0 {
                return Some(i);
            }
            i = skip_ws(b, i);
            let array = arrays & 1 << (depth - 1) != 0;
            match (*b.get(i)?, array) {
                (b',', true) => {
                    i = skip_ws(b, i + 1);
                    break;
                }
                (b',', false) => {
                    i = key_end(b, skip_ws(b, i + 1))?;
                    break;
                }
                (b']', true) | (b'}', false) => {
                    i += 1;
                    depth -= 1;
                }
                _ => return None,
            }
        }
    }
}

/// After an object's key at `i` and its colon: where its value starts.
fn key_end(b: &[u8], i: usize) -> Option<usize> {
    let i = skip_ws(b, string_end(b, i)?);
    (b.get(i) == Some(&b':')).then(|| skip_ws(b, i + 1))
}

fn literal_end(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    b.get(i..)?.starts_with(word).then(|| i + word.len())
}

/// The index after the number at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
/// (RFC 8259, section 6), and no digit straight after it.
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: usize| i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return None;
        }
        i = end;
    }
    // `01` is no number (serde_json: "invalid number"), nor is `1.5.`'s tail read here.
    (!b.get(i).is_some_and(u8::is_ascii_digit)).then_some(i)
}

/// The object that starts at `i` (its `{`): what it makes and the index after its `}`.
fn object(text: &str, mut i: usize, at: At, here: bool) -> Option<(Made, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut policy: Option<Body> = None;
    let (mut name, mut registry, mut region): (Option<&str>, Option<&str>, Option<&str>) =
        (None, None, None);
    loop {
        let (key, next) = plain(text, skip_ws(b, i))?;
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        // A repeated key is an error of the general route (the probe refuses it).
        let slot = match key {
            "policyText" => {
                if policy.is_some() {
                    return None;
                }
                // A document is kept as its literal, read in place when judged
                // (`policy::parse_text`); anything else (a blank string, a `\u` escape) is
                // decoded here, as `common::policy_body` does. `document` is what
                // `common::lazy_literal` asks, but for the `\u` escape, which `string_end`
                // refuses.
                let document = b.get(i) == Some(&b'"') && b.get(skip_ws(b, i + 1)) == Some(&b'{');
                // Where policies are seldom found in the verdict cache, the policy of a record
                // judged on this thread is read now, which finds the literal's end too (see
                // `audit::read_while_reading`). Not one judged on another worker (an array's
                // element), which would then free what this one made (slower in the allocator,
                // and cold in its caches: the distinct JSON Lines scan took 30 % longer so when
                // its lines were read on one thread, though it ran 7 % fewer instructions).
                let early = document && here && read_while_reading::on();
                match early
                    .then(|| crate::policy::read_in_literal(text, i + 1))
                    .flatten()
                {
                    Some((read, end)) => {
                        policy = Some(Body::Policy(
                            PolicyText::encoded(&text[i..end]).with_read(read),
                        ));
                        i = end;
                    }
                    None => {
                        let end = string_end(b, i)?;
                        let literal = &text[i..end];
                        policy = Some(if document {
                            Body::Policy(PolicyText::encoded(literal))
                        } else {
                            let (tagged, _) = decode_literal(literal.as_bytes(), Some(b'P'))?;
                            // As `common::policy_body`: a blank string is no policy.
                            if tagged[1..].trim().is_empty() {
                                Body::NoPolicy
                            } else {
                                Body::Policy(PolicyText::decoded(tagged))
                            }
                        });
                        i = end;
                    }
                }
                None
            }
            "repositoryName" => Some(&mut name),
            "registryId" => Some(&mut registry),
            "region" => Some(&mut region),
            _ => return None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                return None;
            }
            let (value, next) = plain(text, i)?;
            *slot = Some(value);
            i = next;
        }
        i = skip_ws(b, i);
        match b.get(i)? {
            b',' => i += 1,
            b'}' => break,
            _ => return None,
        }
    }
    let end = i + 1;
    let (Some(name), Some(body)) = (name, policy) else {
        return None;
    };
    // As `repository.rs` (`common::account_field`): "" is an unknown registry; anything but 12
    // digits is refused there, with its message.
    let registry = match registry {
        None | Some("") => None,
        Some(id) if is_account(id) => Some(id.to_owned()),
        Some(_) => return None,
    };
    let shape = match at {
        At::File => Shape::GetRepositoryPolicy,
        At::Part { .. } => Shape::Bulk,
    };
    let repo = RepoId {
        registry,
        region: region.map(str::to_owned),
        repository: Some(name.to_owned()),
        arn: None,
        name_from_path: false,
    };
    Some(((shape, repo, body), end))
}

#[cfg(test)]
mod tests {
    use super::{array, record};
    use crate::input::common::{At, Ctx, Probe};
    use crate::input::kind::Shape;
    use crate::input::shape;
    use crate::record::{Body, RepoId};
    use serde_json::value::RawValue;

    type Records = Vec<(u64, Shape, RepoId, Body)>;

    /// What the general route (the probe and the dispatcher) makes of `text`.
    fn general(text: &str, at: At) -> Option<Records> {
        let probe = serde_json::from_str::<Probe>(text).ok()?;
        let ctx = Ctx {
            label: None,
            json_lines: false,
            judged_here: false,
        };
        let mut records = Vec::new();
        shape::object(&probe, text, at, &ctx, &mut |n, s, r, b| {
            records.push((n, s, r, b));
        })
        .ok()?;
        Some(records)
    }

    /// Where the one-pass reader gives a record, the general route gives exactly that record.
    fn agrees(text: &str) -> bool {
        let mut taken = false;
        for at in [At::File, At::part("line", 6)] {
            if let Some((s, r, b)) = record(text, at, matches!(at, At::File)) {
                taken = true;
                let expected = general(text, at);
                assert_eq!(
                    expected,
                    Some(vec![(at.number(), s, r, b)]),
                    "{text:?} {at:?}"
                );
            }
        }
        taken
    }

    const LINE: &str = r#"{"policyText":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":[\"ecr:BatchGetImage\"]}]}","region":"us-west-2","registryId":"222233334444","repositoryName":"tools/app"}"#;

    #[test]
    fn quick_reads_the_common_objects() {
        for text in [
            LINE,
            "{\n  \"registryId\": \"222233334444\",\n  \"repositoryName\": \"app\",\n  \"policyText\": \"{\\n  \\\"Version\\\": \\\"2012-10-17\\\"\\n}\"\n}\n",
            r#"{"repositoryName":"a","policyText":"   "}"#,
            r#"{"repositoryName":"a","policyText":""}"#,
            r#"{"repositoryName":"","policyText":"x","registryId":""}"#,
            r#"{"repositoryName":"a","policyText":"\t{}\/\\","region":""}"#,
        ] {
            assert!(agrees(text), "not taken: {text}");
        }
    }

    #[test]
    fn quick_leaves_the_rest_to_the_general_route() {
        for text in [
            r#"{"repositoryName":"a","policyText":"\u0041"}"#,
            r#"{"repositoryName":"a\"b","policyText":"{}"}"#,
            r#"{"repositoryName":"a","policyText":"{}","registryId":"123"}"#,
            r#"{"repositoryName":"a","policyText":"{}","registryId":222233334444}"#,
            r#"{"repositoryName":"a","policyText":"{}","region":null}"#,
            r#"{"repositoryName":"a","policyText":"{}","arn":"arn:aws:ecr:eu-west-1:444455556666:repository/app"}"#,
            r#"{"repositoryName":"a","policyText":"{}","repositoryName":"b"}"#,
            r#"{"repositoryName":"a","policyText":"{}","policyText":"{}"}"#,
            r#"{"repositoryName":"a","policyText":{"Version":"2012-10-17"}}"#,
            r#"{"repositoryName":"a","policyText":"{}",}"#,
            r#"{"repositoryName":"a","policyText":"{}"} x"#,
            r#"{"policyText":"{}","registryId":"222233334444"}"#,
            r#"{"repository\u004eame":"a","policyText":"{}"}"#,
            "{}",
            "",
        ] {
            assert!(!agrees(text), "taken: {text}");
        }
    }

    #[test]
    fn quick_agrees_with_the_general_route_on_every_small_change() {
        // Every one-byte deletion, and an insertion of each of a few bytes at every place, of
        // a line and of a get-repository-policy file: whatever the one-pass reader takes, the
        // general route reads the same.
        let file = "{\n  \"registryId\": \"222233334444\",\n  \"repositoryName\": \"app\",\n  \"policyText\": \"{\\n \\\"a\\\":\\t\\\"b\\/c\\\\\\\"}\"\n}\n";
        let mut taken = 0;
        for base in [LINE, file] {
            for i in 0..=base.len() {
                let mut variants = Vec::new();
                if i < base.len() {
                    variants.push(format!("{}{}", &base[..i], &base[i + 1..]));
                }
                for c in [
                    "\"", "\\", "{", "}", ":", ",", " ", "\n", "u", "1", "\u{1}", "é",
                ] {
                    variants.push(format!("{}{c}{}", &base[..i], &base[i..]));
                }
                for text in variants {
                    taken += usize::from(agrees(&text));
                }
            }
        }
        assert!(taken > 1000, "{taken}");
    }

    /// With policies read while their file or line is read (`audit::read_while_reading`; a line
    /// of a block of JSON Lines is judged where it is read), the reader still gives exactly the
    /// general route's records, numbered as a file's and as a line's, on every small change of a
    /// line and of a get-repository-policy file as ECR writes it; and the common ones come with
    /// their policy read.
    #[test]
    fn a_policy_read_with_its_file_leaves_the_record_as_it_was() {
        crate::audit::read_while_reading::force(Some(true));
        let file = "{\n  \"registryId\": \"222233334444\",\n  \"repositoryName\": \"app\",\n  \"policyText\": \"{\\n  \\\"Version\\\" : \\\"2012-10-17\\\",\\n  \\\"Statement\\\" : [ {\\n    \\\"Effect\\\" : \\\"Allow\\\",\\n    \\\"Principal\\\" : \\\"*\\\",\\n    \\\"Action\\\" : \\\"ecr:BatchGetImage\\\"\\n  } ]\\n}\"\n}\n";
        let (mut taken, mut read) = (0, 0);
        for base in [LINE, file] {
            for i in 0..=base.len() {
                let mut variants = Vec::new();
                if i < base.len() {
                    variants.push(format!("{}{}", &base[..i], &base[i + 1..]));
                }
                for c in ["\"", "\\", "}", " ", "\u{1}"] {
                    variants.push(format!("{}{c}{}", &base[..i], &base[i..]));
                }
                // A file's record, and a line's of a block of JSON Lines (judged where read).
                for (text, at) in variants
                    .iter()
                    .flat_map(|t| [(t, At::File), (t, At::part("line", 6))])
                {
                    let Some((s, r, mut b)) = record(text, at, true) else {
                        continue;
                    };
                    taken += 1;
                    if let Body::Policy(p) = &mut b {
                        read += usize::from(p.take_read().is_some());
                    }
                    let expected = general(text, at);
                    assert_eq!(expected, Some(vec![(at.number(), s, r, b)]), "{text:?}");
                }
            }
        }
        crate::audit::read_while_reading::force(None);
        assert!(taken > 1000 && read > 400, "{taken} {read}");
    }

    /// Where the one-pass check takes a bare policy document, serde_json reads it as valid JSON
    /// and the general route makes the same record of it.
    fn agrees_on_document(text: &str) -> bool {
        if !super::document(text) {
            return false;
        }
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(),
            "not JSON: {text:?}"
        );
        let ctx = Ctx {
            label: None,
            json_lines: false,
            judged_here: false,
        };
        for at in [At::File, At::part("line", 6)] {
            let mut quick = Vec::new();
            crate::input::document::read_bare(text, at, &ctx, &mut |n, s, r, b| {
                quick.push((n, s, r, b));
            })
            .expect("a record");
            assert_eq!(general(text, at), Some(quick), "{text:?} {at:?}");
        }
        true
    }

    const DOCUMENT: &str = r#"{
  "Version": "2012-10-17",
  "Id": "p",
  "Statement": [{"Sid": "A\"\\\/\t", "Effect": "Allow", "Principal": {"AWS": ["111122223333"]}, "Action": "ecr:*", "Condition": {"NumericLessThan": {"s3:max-keys": [-0.5e+3, 10, 0]}, "Bool": {"aws:SecureTransport": true, "x": false, "y": null}}, "Resource": [], "NotResource": {}}]
}
"#;

    #[test]
    fn quick_document_reads_valid_documents_only() {
        for text in [
            DOCUMENT,
            r#"{"Statement":[]}"#,
            r#"{"Statement":null}"#,
            r#" {"Statement":{"a":[[[]]]},"Version":1.5E7} "#,
            r#"{"Id":"x","Statement":"text"}"#,
        ] {
            assert!(agrees_on_document(text), "not taken: {text}");
        }
        let deep = format!(r#"{{"Statement":{}1{}}}"#, "[".repeat(200), "]".repeat(200));
        for text in [
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":[],"Statement":[]}"#,
            r#"{"Statement":[],"Sid":"x"}"#,
            r#"{"Statement":[],"policyText":"x"}"#,
            r#"{"Statement":["\u0041"]}"#,
            r#"{"St\u0061tement":[]}"#,
            r#"{"Statement":[01]}"#,
            r#"{"Statement":[1.]}"#,
            r#"{"Statement":[1e]}"#,
            r#"{"Statement":[-]}"#,
            r#"{"Statement":[+1]}"#,
            r#"{"Statement":[1,]}"#,
            r#"{"Statement":{"a":1,}}"#,
            r#"{"Statement":{"a" 1}}"#,
            r#"{"Statement":[tru]}"#,
            r#"{"Statement":["a\qb"]}"#,
            "{\"Statement\":[\"a\u{1}b\"]}",
            r#"{"Statement":[]} x"#,
            r#"{"Statement":[]"#,
            r#"[{"Statement":[]}]"#,
            deep.as_str(),
        ] {
            assert!(!super::document(text), "taken: {text}");
        }
    }

    #[test]
    fn quick_document_agrees_with_the_general_route_on_every_small_change() {
        let mut taken = 0;
        for i in 0..=DOCUMENT.len() {
            let mut variants = Vec::new();
            if i < DOCUMENT.len() {
                variants.push(format!("{}{}", &DOCUMENT[..i], &DOCUMENT[i + 1..]));
            }
            for c in [
                "\"", "\\", "{", "}", "[", "]", ":", ",", " ", "\n", "u", "0", "1", "-", "+", ".",
                "e", "t", "n", "\u{1}", "\u{7f}", "é",
            ] {
                variants.push(format!("{}{c}{}", &DOCUMENT[..i], &DOCUMENT[i..]));
            }
            for text in variants {
                taken += usize::from(agrees_on_document(&text));
            }
        }
        assert!(taken > 1000, "{taken}");
    }

    /// With policies read while their file is read, a bare document gives the records it gave
    /// before (the same result, the same records), on every small change of valid documents;
    /// and the valid ones come with their policy read.
    #[test]
    fn a_bare_document_read_with_its_policy_gives_the_same_records() {
        let ctx = Ctx {
            label: Some("team/app"),
            json_lines: false,
            judged_here: false,
        };
        let records = |text: &str, early: bool| {
            crate::audit::read_while_reading::force(Some(early));
            let mut made = Vec::new();
            let result = shape::parse(text, &ctx, &mut |n, s, r, b| made.push((n, s, r, b)));
            crate::audit::read_while_reading::force(None);
            (result, made)
        };
        let docs = [
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"Pull\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"111122223333\"}, \"Action\": [\"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\"]}\n  ]\n}\n",
            r#"{"Id":"x","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},"Version":"2008-10-17"}"#,
        ];
        let (mut read, mut taken) = (0, 0);
        for doc in docs {
            for i in 0..=doc.len() {
                let mut variants = Vec::new();
                if i < doc.len() {
                    variants.push(format!("{}{}", &doc[..i], &doc[i + 1..]));
                }
                for c in ["\"", "\\", "{", "}", ",", " ", "1", "\u{1}", "\u{feff}"] {
                    variants.push(format!("{}{c}{}", &doc[..i], &doc[i..]));
                }
                for text in &variants {
                    let (result, mut made) = records(text, true);
                    for (_, _, _, b) in &mut made {
                        if let Body::Policy(p) = b {
                            read += usize::from(p.take_read().is_some());
                        }
                    }
                    taken += made.len();
                    assert_eq!((result, made), records(text, false), "{text:?}");
                }
            }
        }
        assert!(read > 100 && taken > read, "{read} {taken}");
    }

    /// Where the one-pass reader reads an array, serde_json reads it and the general route
    /// makes the same records of its elements.
    fn agrees_on_array(text: &str) -> bool {
        let Some(made) = array(text) else {
            return false;
        };
        let items: Vec<&RawValue> = serde_json::from_str(text).expect("an array serde_json reads");
        assert_eq!(made.len(), items.len(), "{text:?}");
        for (i, (one, raw)) in made.into_iter().zip(items).enumerate() {
            let at = At::part("record", i);
            let (s, r, b) = one;
            assert_eq!(
                general(raw.get(), at),
                Some(vec![(at.number(), s, r, b)]),
                "{text:?}"
            );
        }
        true
    }

    #[test]
    fn quick_array_agrees_with_the_general_route_on_every_small_change() {
        let base = format!(" [{LINE},\n {{\"repositoryName\":\"b\",\"policyText\":\"\"}} ]\n");
        assert!(agrees_on_array(&base));
        assert!(!agrees_on_array("[]"));
        assert!(!agrees_on_array(&format!("[{LINE},{{\"Statement\":[]}}]")));
        let mut taken = 0;
        for i in 0..=base.len() {
            if !base.is_char_boundary(i) {
                continue;
            }
            let mut variants = Vec::new();
            if i < base.len() {
                variants.push(format!("{}{}", &base[..i], &base[i + 1..]));
            }
            for c in ["[", "]", "{", "}", ",", "\"", " "] {
                variants.push(format!("{}{c}{}", &base[..i], &base[i..]));
            }
            for text in variants {
                taken += usize::from(agrees_on_array(&text));
            }
        }
        assert!(taken > 100, "{taken}");
    }
}
