//! How a `search` query reads (docs/protocol.md, "search"): the one rule relay and client share.

/// The query's whitespace-separated terms, each once, in order. A message matches when its
/// current text contains every term, ignoring case.
pub fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for term in query.split_whitespace() {
        if !terms.iter().any(|t| t == term) {
            terms.push(term.to_owned());
        }
    }
    terms
}

/// A term as a SQL `LIKE` pattern matching it anywhere (`%term%`, with `\` as the escape: `%`,
/// `_` and `\` in the term stand for themselves). The relay's stores and the client's cache
/// match short terms, or all terms where no index helps, with it.
pub fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Terms as one SQLite FTS5 query over a trigram index: each a quoted string (a substring,
/// any punctuation in it literal), all required.
pub fn fts5_match<S: AsRef<str>>(terms: &[S]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.as_ref().replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_like_pattern_takes_wildcards_literally() {
        assert_eq!(like_pattern("ok"), "%ok%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn an_fts5_match_quotes_each_term() {
        assert_eq!(fts5_match(&["abc"]), "\"abc\"");
        assert_eq!(
            fts5_match(&["a\"b c", "東京都"]),
            "\"a\"\"b c\" AND \"東京都\""
        );
    }
}
