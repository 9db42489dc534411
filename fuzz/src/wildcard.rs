//! `wildcard` target: parse and is_match never panic, and matching obeys simple laws.
//! Input: pattern, then texts, separated by NUL bytes (without a text: the pattern and a
//! fixed domain are used as texts).

use xmppfed::wildcard::{WildcardError, WildcardPattern, MAX_PATTERN_BYTES};

use crate::check;

const MAX_TEXTS: usize = 8;

pub fn run(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0).map(|p| String::from_utf8_lossy(p).into_owned());
    let pattern = parts.next().unwrap_or_default();
    let mut texts: Vec<String> = parts.take(MAX_TEXTS).collect();
    if texts.is_empty() {
        texts = vec![pattern.clone(), "sip.contoso.com".to_owned()];
    }

    for t in &texts {
        check_escaped(t);
    }
    let p = match WildcardPattern::parse(&pattern) {
        Ok(p) => p,
        Err(WildcardError::TooLong { bytes, max }) => {
            check!(pattern.len() > MAX_PATTERN_BYTES && bytes == pattern.len() && max == MAX_PATTERN_BYTES, "TooLong for {} bytes", pattern.len());
            return;
        }
        Err(_) => {
            check!(pattern.len() <= MAX_PATTERN_BYTES, "a {}-byte pattern was parsed before its length was checked", pattern.len());
            return;
        }
    };
    for t in &texts {
        check_laws(&pattern, &p, t);
    }
}

fn escape(s: &str) -> String {
    s.chars().flat_map(|c| ['`', c]).collect()
}

fn swap_ascii_case(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect()
}

/// A derived pattern that must parse; `None` when it is over the length limit (checked to be
/// the reason it is refused).
fn parse(pattern: &str) -> Option<WildcardPattern> {
    match WildcardPattern::parse(pattern) {
        Ok(p) => Some(p),
        Err(WildcardError::TooLong { .. }) if pattern.len() > MAX_PATTERN_BYTES => None,
        Err(e) => panic!("invariant violated: {pattern:?} must parse: {e}"),
    }
}

/// Every character escaped is a literal pattern that matches exactly the text.
fn check_escaped(t: &str) {
    let e = escape(t);
    let Some(p) = parse(&e) else { return };
    check!(p.is_match(t), "escaped {e:?} does not match {t:?}");
    check!(!p.is_match(&format!("{t}x")), "escaped {e:?} matches {t:?} + 'x'");
    if let Some((i, _)) = t.char_indices().last() {
        check!(!p.is_match(&t[..i]), "escaped {e:?} matches a prefix of {t:?}");
    }
}

fn check_laws(pattern: &str, p: &WildcardPattern, t: &str) {
    let m = p.is_match(t);

    // Matching ignores ASCII case.
    let swapped = swap_ascii_case(t);
    check!(p.is_match(&swapped) == m, "{pattern:?}: {t:?} -> {m}, {swapped:?} -> {}", !m);

    // A leading star only adds matches (the lone backtick is the special empty pattern).
    if pattern != "`" {
        let star = format!("*{pattern}");
        if let (true, Some(sp)) = (m, parse(&star)) {
            check!(sp.is_match(t), "{pattern:?} matches {t:?} but {star:?} does not");
            check!(sp.is_match(&format!("x{t}")), "{pattern:?} matches {t:?} but {star:?} does not match 'x' + it");
        }
    }
    // A trailing star only adds matches, unless the pattern ends with a lone (odd) backtick,
    // which the star would turn into an escape.
    let trailing_backticks = pattern.chars().rev().take_while(|&c| c == '`').count();
    let star = format!("{pattern}*");
    if let (true, true, Some(sp)) = (trailing_backticks % 2 == 0, m, parse(&star)) {
        check!(sp.is_match(&format!("{t}y")), "{pattern:?} matches {t:?} but {star:?} does not match it + 'y'");
    }

    // '?' matches exactly one character.
    let n = t.chars().count();
    if n < MAX_PATTERN_BYTES {
        let q = "?".repeat(n);
        check!(parse(&q).unwrap().is_match(t), "{} '?' do not match {t:?}", n);
        check!(!parse(&format!("{q}?")).unwrap().is_match(t), "{} '?' match {t:?}", n + 1);
    }
    check!(parse("*").unwrap().is_match(t), "'*' does not match {t:?}");
}
