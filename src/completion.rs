//! Tab completion of partner identities (`-Identity` and `-Filter` of the cmdlets): the identities
//! that begin with what the admin has typed so far.
//!
//! The typed text is a literal prefix, compared case-insensitively with the canonical identity
//! (lowercase, Unicode labels); wildcard characters in it are plain characters, which no identity
//! holds. Results are sorted by identity and capped, so a completion menu stays short and fast
//! however large the list is.

use crate::error::{Error, Result};
use crate::store::{Source, Store};

/// Longest prefix accepted: no identity is longer than a domain input may be.
pub const MAX_PREFIX_BYTES: usize = crate::domain::MAX_INPUT_BYTES;

/// The identities that begin with `prefix` (case-insensitively), sorted, at most `max`.
///
/// For now this asks [`Store::list`] with the prefix as an escaped wildcard pattern (`` `c`o`n* ``),
/// which tests every identity: the store's state is private to the store module. A prefix lookup
/// in the store's sorted map (a range from the prefix) would cost O(log n + max) instead.
pub fn complete_identities(store: &mut Store, prefix: &str, max: usize, source: Source) -> Result<Vec<String>> {
    if prefix.len() > MAX_PREFIX_BYTES {
        return Err(Error::value(
            "prefix",
            format!("is {} bytes long; at most {} are accepted (no identity is longer)", prefix.len(), MAX_PREFIX_BYTES),
        ));
    }
    if max == 0 {
        return Ok(Vec::new());
    }
    let partners = store.list(Some(&prefix_pattern(prefix)), source)?;
    Ok(partners.into_iter().take(max).map(|p| p.identity).collect())
}

/// A wildcard pattern matching exactly the strings that begin with `prefix`: every character
/// escaped (`` `x `` is `x` in PowerShell's wildcard language), then `*`.
fn prefix_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() * 2 + 1);
    for c in prefix.chars() {
        pattern.push('`');
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wildcard::WildcardPattern;

    #[test]
    fn the_pattern_matches_exactly_the_strings_with_the_prefix() {
        for (prefix, yes, no) in [
            ("con", "contoso.com", "acon.com"),
            ("CON", "contoso.com", "cantoso.com"),
            ("", "anything.com", "\u{0}never-a-miss"),
            ("*", "*.com", "a.com"),
            ("[a-c]", "[a-c].x", "b.x"),
            ("a`b", "a`b.com", "ab.com"),
            ("b\u{fc}", "b\u{fc}cher.de", "bucher.de"),
        ] {
            let pattern = WildcardPattern::parse(&prefix_pattern(prefix)).unwrap();
            assert!(pattern.is_match(yes), "{prefix:?} should match {yes:?}");
            if !prefix.is_empty() {
                assert!(!pattern.is_match(no), "{prefix:?} should not match {no:?}");
            }
        }
    }

    #[test]
    fn the_longest_prefix_still_makes_a_valid_pattern() {
        let prefix = "\u{10ffff}".repeat(MAX_PREFIX_BYTES / 4);
        assert!(WildcardPattern::parse(&prefix_pattern(&prefix)).is_ok());
        let prefix = "a".repeat(MAX_PREFIX_BYTES);
        assert!(WildcardPattern::parse(&prefix_pattern(&prefix)).is_ok());
    }
}
