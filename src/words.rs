//! The project's command-line splitters, both pure: [`split`] and
//! [`split_blanks`].
//!
//! [`split`]: the words of a `command` value, split as a POSIX shell splits
//! words, and nothing more: no shell is run, nothing is expanded. So
//! `sh -c 'exec foo --bar'` is three words, as an operator means it.
//!
//! - Blanks (space, tab) outside quotes separate words.
//! - `'...'`: everything inside is literal.
//! - `"..."`: literal, except that a backslash before `"`, `\`, `$` or a
//!   backquote stands for that character (elsewhere it stays itself).
//! - `\x` outside quotes is `x`, a blank included.
//! - Quoted and unquoted parts that touch make one word (`a'b c'd` is
//!   `ab cd`); `''` or `""` alone is an empty word.
//! - `$VAR`, `~`, `*`, `$(...)`, `#`, `;`, `|`, `>` are ordinary
//!   characters: to use the shell for them, run it (`sh -c '...'`).
//!
//! For the scanner's `command` key and `ready_check`, which the original
//! does not have. [`split_blanks`]: `supervise -f` keeps the original's
//! splitting on blanks only (quotes and backslashes are ordinary bytes),
//! on bytes, which need not be UTF-8.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Splits like the original `-f`: on spaces and tabs, no quoting.
pub fn split_blanks(command: &[u8]) -> Vec<OsString> {
    command
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|word| !word.is_empty())
        .map(|word| OsStr::from_bytes(word).to_owned())
        .collect()
}

/// Splits `text` into words, or says why it cannot be.
pub fn split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '\'' => {
                let part = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => part.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                let part = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => part.push(c),
                            Some(c) => {
                                part.push('\\');
                                part.push(c);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(c) => part.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("a backslash at the end escapes nothing".into()),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blanks_only_as_the_original_splits() {
        let table: &[(&[u8], &[&[u8]])] = &[
            (b"", &[]),
            (b" \t ", &[]),
            (b"a", &[b"a"]),
            (
                b" redis-server \t/etc/r.conf  ",
                &[b"redis-server", b"/etc/r.conf"],
            ),
            (b"sh -c 'a b'", &[b"sh", b"-c", b"'a", b"b'"]),
            (b"a\\ b \"c\"", &[b"a\\", b"b", b"\"c\""]),
            (b"a\nb", &[b"a\nb"]),
            (b"\xff \xfe\xfd", &[b"\xff", b"\xfe\xfd"]),
        ];
        for (command, words) in table {
            let got = split_blanks(command);
            let got: Vec<&[u8]> = got.iter().map(|w| w.as_bytes()).collect();
            assert_eq!(got, *words, "{command:?}");
        }
    }

    #[test]
    fn words_as_a_shell_splits_them() {
        let cases: &[(&str, &[&str])] = &[
            ("sleep 10", &["sleep", "10"]),
            ("  sleep \t 10  ", &["sleep", "10"]),
            ("sh -c 'exec foo --bar'", &["sh", "-c", "exec foo --bar"]),
            (r#"echo "a  b" c"#, &["echo", "a  b", "c"]),
            (r#"a'b c'd"#, &["ab cd"]),
            (r#"a"b"'c'\ d"#, &["abc d"]),
            ("'' \"\" x", &["", "", "x"]),
            (r"it\'s", &["it's"]),
            (r"'it'\''s'", &["it's"]),
            (
                r#""say \"hi\" \\ \$HOME \`x\` \n""#,
                &[r#"say "hi" \ $HOME `x` \n"#],
            ),
            (r#"'no \escapes "here"'"#, &[r#"no \escapes "here""#]),
            (
                "$HOME ~ * $(id) # ; | >",
                &["$HOME", "~", "*", "$(id)", "#", ";", "|", ">"],
            ),
            (r"a\\b", &[r"a\b"]),
            ("é 'ü ß'", &["é", "ü ß"]),
            ("", &[]),
            ("   ", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(
                split(text),
                Ok(expected.iter().map(|w| w.to_string()).collect()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn what_cannot_be_split() {
        let cases = [
            ("sh -c 'echo hi", "unterminated single quote"),
            ("echo \"hi", "unterminated double quote"),
            ("echo \"hi\\", "unterminated double quote"),
            ("x\\", "a backslash at the end escapes nothing"),
        ];
        for (text, message) in cases {
            assert_eq!(split(text), Err(message.to_owned()), "{text:?}");
        }
    }

    /// A word quoted for a shell: in single quotes, each `'` as `'\''`.
    fn quote(word: &str) -> String {
        format!("'{}'", word.replace('\'', r"'\''"))
    }

    proptest! {
        #[test]
        fn quoted_words_split_back_into_themselves(
            words in prop::collection::vec("[ -~\t]{0,12}", 0..6),
        ) {
            let text: Vec<String> = words.iter().map(|w| quote(w)).collect();
            prop_assert_eq!(split(&text.join(" ")), Ok(words));
        }

        #[test]
        fn any_text_splits_or_says_why_without_panic(text in "\\PC{0,40}") {
            let result = split(&text);
            if !text.contains(['\'', '"', '\\']) {
                let plain: Vec<String> =
                    text.split([' ', '\t']).filter(|w| !w.is_empty()).map(String::from).collect();
                prop_assert_eq!(result, Ok(plain));
            }
        }
    }
}
