//! `domain` target: canonicalize never panics, and what it accepts is a fixed point.

use xmppfed::domain::{canonicalize, to_ascii, MAX_INPUT_BYTES};

use crate::check;

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(canonical) = canonicalize(&text) else { return };
    check_canonical(&text, &canonical);
}

/// Invariants of an accepted domain `canonical`, the canonical form of `input`.
pub fn check_canonical(input: &str, canonical: &str) {
    check!(!canonical.is_empty(), "{input:?} -> empty");
    check!(!canonical.bytes().any(|b| b.is_ascii_uppercase()), "{input:?} -> {canonical:?} has ASCII uppercase");
    check!(!canonical.ends_with('.'), "{input:?} -> {canonical:?} ends with a dot");
    check!(!canonical.chars().any(|c| c.is_whitespace() || c.is_control() || c == '*' || c == '?'), "{input:?} -> {canonical:?}");
    check!(canonical.contains('.'), "{input:?} -> {canonical:?} is a single label");

    // Idempotent: the canonical form is its own canonical form.
    let again = canonicalize(canonical);
    check!(again.as_deref() == Ok(canonical), "not idempotent: {input:?} -> {canonical:?} -> {again:?}");

    // The A-label form is the same domain, and within DNS limits.
    let ascii = to_ascii(canonical);
    check!(ascii.is_ascii(), "to_ascii({canonical:?}) = {ascii:?} is not ASCII");
    check!(ascii.len() <= 253, "to_ascii({canonical:?}) = {ascii:?} is {} octets", ascii.len());
    check!(ascii.split('.').all(|l| !l.is_empty() && l.len() <= 63), "to_ascii({canonical:?}) = {ascii:?} has a bad label");
    let from_ascii = canonicalize(&ascii);
    check!(from_ascii.as_deref() == Ok(canonical), "A-label differs: {input:?} -> {canonical:?} -> {ascii:?} -> {from_ascii:?}");

    // Spellings that name the same domain: ASCII case and one trailing dot.
    let upper = canonical.to_ascii_uppercase();
    let from_upper = canonicalize(&upper);
    check!(from_upper.as_deref() == Ok(canonical), "case-sensitive: {input:?} -> {canonical:?}; {upper:?} -> {from_upper:?}");
    let upper_ascii = ascii.to_ascii_uppercase();
    let from_upper_ascii = canonicalize(&upper_ascii);
    check!(from_upper_ascii.as_deref() == Ok(canonical), "case-sensitive A-label: {canonical:?}; {upper_ascii:?} -> {from_upper_ascii:?}");
    if canonical.len() < MAX_INPUT_BYTES {
        let dotted = format!("{canonical}.");
        let from_dotted = canonicalize(&dotted);
        check!(from_dotted.as_deref() == Ok(canonical), "trailing dot: {canonical:?}; {dotted:?} -> {from_dotted:?}");
    }
}
