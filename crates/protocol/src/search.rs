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
