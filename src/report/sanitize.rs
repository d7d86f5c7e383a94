//! The one sanitiser for text that comes from the input (paths, names, messages quoting them),
//! used by every report that shows it to a person: `scan`'s and `gitpod`'s table and Markdown,
//! `explain` and `fix`.
//!
//! - `clean` (terminal): control characters (ESC and the C1 controls among them) and the
//!   bidirectional controls that reorder what a reader sees ("Trojan Source") are dropped, so a
//!   crafted name can neither move the cursor, recolour the terminal, nor hide text.
//! - [`markdown`] (a Markdown table cell or list item): the same, line breaks and tabs become
//!   spaces, and every character that Markdown, GFM tables, HTML or mentions give a meaning is
//!   backslash-escaped, so input can neither break a table nor inject a link, an image, HTML or
//!   a mention.

/// Characters a report never shows from the input.
pub(crate) fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Input-derived text made safe for a terminal.
pub(crate) fn clean(s: &str) -> String {
    s.chars().filter(|c| !is_hidden(*c)).collect()
}

/// Input-derived text made inert for a Markdown table cell or list item (CommonMark lets any ASCII
/// punctuation be escaped, and GitHub, GitLab and Jira honour it). `-`, `+`, `=` and `.` only
/// mean something at the start of a line, where input text never is. `{`/`}` are GitLab's inline
/// diff, `$` its math, `@` a mention, `~` strikethrough, `!` an image, `(`/`)` a link target.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_hidden(c) => {}
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '!'
            | '|' | '~' | '&' | '@' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_cannot_break_a_table_or_inject_markup() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(
            markdown("[x](http://evil) <img src=x> @team ![i](y)"),
            "\\[x\\]\\(http://evil\\) \\<img src=x\\> \\@team \\!\\[i\\]\\(y\\)"
        );
        assert_eq!(markdown("line\nbreak\u{1b}[31m"), "line break\\[31m");
        assert_eq!(
            markdown("`code` **b** # h"),
            "\\`code\\` \\*\\*b\\*\\* \\# h"
        );
        assert_eq!(markdown("rtl\u{202e}x"), "rtlx");
    }

    #[test]
    fn clean_strips_escape_sequences_and_controls() {
        assert_eq!(clean("repo\u{1b}[31mred\r\n\u{9b}x"), "repo[31mredx");
        assert_eq!(clean("abc\u{202e}fed\u{2066}"), "abcfed");
    }
}
