//! `@username` in a message body: which names a body mentions. The relay lists the members a
//! message mentions by this rule, and the desktop marks only the names in that list. A mention starts
//! a word, names 3–32 username characters (trailing `.` and `-` are punctuation, not name), and
//! is not inside `inline code` or a fenced code block.

use crate::limits::{MAX_MENTIONS, USERNAME_MAX_CHARS, USERNAME_MIN_CHARS};

/// The usernames `body` mentions, each once (first spelling kept), at most [`MAX_MENTIONS`].
pub fn candidates(body: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    let mut fenced = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Outside inline code: the even-numbered pieces between backticks.
        for (n, piece) in line.split('`').enumerate() {
            if n % 2 == 1 {
                continue;
            }
            for name in in_text(piece) {
                if found.len() == MAX_MENTIONS {
                    return found;
                }
                if !found.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                    found.push(name);
                }
            }
        }
    }
    found
}

fn in_text(text: &str) -> impl Iterator<Item = &str> {
    text.char_indices().filter_map(move |(i, c)| {
        if c != '@' {
            return None;
        }
        let starts_word = text[..i]
            .chars()
            .next_back()
            .is_none_or(|b| !b.is_alphanumeric());
        if !starts_word {
            return None;
        }
        let rest = &text[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches(['.', '-']);
        (USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS)
            .contains(&name.len())
            .then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_at_word_starts_once_each() {
        assert_eq!(
            candidates("hi @bob and @Carol., ask @bob again"),
            ["bob", "Carol"]
        );
        assert_eq!(candidates("@bob: see mail@bob.example"), ["bob"]);
        assert_eq!(
            candidates("@al is too short, @a-very-long-name-of-forty-chars-or-so too long"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn not_in_code() {
        assert_eq!(candidates("`@bob` and @carol"), ["carol"]);
        assert_eq!(candidates("```\n@bob\n```\n@dave"), ["dave"]);
    }

    #[test]
    fn bounded() {
        let many: String = (0..50).map(|i| format!("@user{i:02} ")).collect();
        assert_eq!(candidates(&many).len(), MAX_MENTIONS);
    }
}
