//! Domain names of partners (Identity, AdditionalDomains, ProxyFqdn): validation and canonical form.
//!
//! A partner domain is an RFC 7622 domainpart restricted to what a federation peer can actually
//! be: a DNS host name (LDH labels once in A-label form, DNS length limits, at least two labels),
//! never an IP literal or a pattern. Two spellings that DNS and XMPP treat as the same domain
//! (`Contoso.COM.`, `contoso.com`; `xn--bcher-kva.example`, `Bücher.example`) must produce the
//! same canonical string, because the store uses it as a key and to detect domain conflicts.
//!
//! The canonical form is the lowercase U-label (Unicode, NFC) form: RFC 7622 §3.2 says A-labels
//! in a domainpart are converted to U-labels, so that is what XMPP software compares.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Inputs longer than this are rejected before any IDNA work. A valid name has at most 253
/// octets in A-label form, and a U-label needs at least one A-label octet per character, so
/// 4 bytes per octet is a generous bound that still makes a multi-megabyte input cheap to refuse.
pub const MAX_INPUT_BYTES: usize = 1024;

const MAX_LABEL_OCTETS: usize = 63;
const MAX_NAME_OCTETS: usize = 253;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the domain is empty")]
    Empty,

    #[error("the input is {bytes} bytes long; at most {max} bytes are accepted")]
    InputTooLong { bytes: usize, max: usize },

    #[error("it contains whitespace")]
    Whitespace,

    #[error("it contains a wildcard ('*' or '?'); a partner domain must be a literal name")]
    Wildcard,

    #[error("it is an IP address literal; a partner domain must be a DNS name")]
    IpLiteral,

    #[error("it contains the character {:?} (U+{:04X}), which is not allowed in a domain name", .ch, *.ch as u32)]
    InvalidCharacter { ch: char },

    #[error("it contains an empty label (two dots in a row, or a leading or extra trailing dot)")]
    EmptyLabel,

    #[error("label '{label}' is {octets} octets long; at most 63 are allowed")]
    LabelTooLong { label: String, octets: usize },

    #[error("it is {octets} octets long; at most 253 are allowed")]
    TooLong { octets: usize },

    #[error("label '{label}' begins or ends with a hyphen")]
    LeadingOrTrailingHyphen { label: String },

    #[error(
        "it has a single label; a partner domain needs at least two (for example contoso.com)"
    )]
    SingleLabel,

    #[error("its top-level label '{label}' is all digits")]
    NumericTopLevelLabel { label: String },

    #[error("it is not a valid internationalized domain name: {reason}")]
    Idna { reason: String },
}

/// Validate `input` and return its canonical form.
pub fn canonicalize(input: &str) -> Result<String, DomainError> {
    match plain_host_name(input) {
        Some(canonical) => Ok(canonical),
        None => canonicalize_idna(input),
    }
}

/// The canonical form of a plain ASCII host name that meets every rule below as it stands:
/// letters, digits, hyphens and dots only; two labels or more, each of 1-63 octets, none beginning
/// or ending with a hyphen or holding "--" as its third and fourth characters (which also rules out
/// `xn--` labels); at most 253 octets; a top-level label that is not all digits (so never an IP
/// address). For such a name every IDNA pass of [`canonicalize_idna`] only lowercases, so this is
/// its lowercase form, found without them. `None`: anything else, which takes the full path.
///
/// Why: nearly every identity an admin types has this form, and the full path (five IDNA passes)
/// was a quarter of a Get by identity's time in the library. The tests check this against the
/// full path.
fn plain_host_name(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    if bytes.len() > MAX_NAME_OCTETS {
        return None;
    }
    let mut labels = 0;
    let mut numeric_tld = false;
    for label in bytes.split(|&b| b == b'.') {
        let (first, last) = (*label.first()?, *label.last()?);
        let plain = label.len() <= MAX_LABEL_OCTETS
            && first != b'-'
            && last != b'-'
            && label.get(2..4) != Some(b"--")
            && label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
        if !plain {
            return None;
        }
        labels += 1;
        numeric_tld = label.iter().all(u8::is_ascii_digit);
    }
    (labels >= 2 && !numeric_tld).then(|| input.to_ascii_lowercase())
}

/// [`canonicalize`] for any input: the checks that give each mistake its own error, then IDNA.
fn canonicalize_idna(input: &str) -> Result<String, DomainError> {
    precheck(input)?;
    // RFC 7622 §3.2: a final RFC 1034 dot (ASCII only) is stripped before anything else.
    let name = input.strip_suffix('.').unwrap_or(input);
    if let Some(ch) = name
        .chars()
        .find(|&c| c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
    {
        return Err(DomainError::InvalidCharacter { ch });
    }

    // First pass without the DNS-length and hyphen checks, so that those problems are reported
    // below with the label at fault rather than as an opaque IDNA failure. It still maps
    // (lowercases, NFC, full-width dots become ASCII dots), so the checks see the real labels.
    let ascii = lenient_idna()
        .to_ascii(name)
        .map_err(|e| idna_error(name, &e))?;
    let (unicode, _) = lenient_idna().to_unicode(&ascii);
    check_structure(&ascii, &unicode)?;
    if let Some(label) = fake_a_label(name) {
        return Err(DomainError::Idna {
            reason: format!(
                "'{label}' is an xn-- label that does not encode any non-ASCII character"
            ),
        });
    }

    let strict = strict_idna();
    match strict.to_ascii(name) {
        Ok(a) if a == ascii => {}
        Ok(_) => return Err(idna_reason("the A-label form is ambiguous")),
        Err(e) => return Err(idna_error(name, &e)),
    }
    let (unicode, result) = strict.to_unicode(&ascii);
    result.map_err(|e| idna_error(&ascii, &e))?;

    // idna 0.3 does not implement the CONTEXTJ rules (RFC 5892), so a joiner would be accepted
    // anywhere; an invisible character in a partner key is a spoofing risk, so refuse them.
    if let Some(ch) = unicode
        .chars()
        .find(|&c| c == '\u{200C}' || c == '\u{200D}')
    {
        return Err(DomainError::InvalidCharacter { ch });
    }
    // The canonical form must lead back to the same A-label, or canonicalize would not be
    // idempotent. No known input fails here once fake A-labels are refused; this keeps the
    // guarantee from resting on that analysis.
    match strict.to_ascii(&unicode) {
        Ok(again) if again == ascii => Ok(unicode),
        _ => Err(idna_reason(
            "an xn-- label does not round-trip to the same name",
        )),
    }
}

/// The A-label (ASCII) form of an already canonical domain, for display and DNS lookups.
/// Input that is not a valid domain comes back unchanged: callers only pass stored canonical
/// values, and a display helper must not fail.
pub fn to_ascii(canonical: &str) -> String {
    strict_idna()
        .to_ascii(canonical)
        .unwrap_or_else(|_| canonical.to_owned())
}

fn lenient_idna() -> idna::Config {
    idna::Config::default().use_std3_ascii_rules(true)
}

/// IDNA2008 rules (RFC 5891), which RFC 7622 builds on: symbols and emoji are not allowed in
/// domain names, even though UTS 46's transitional compatibility would map them.
fn strict_idna() -> idna::Config {
    lenient_idna().verify_dns_length(true).check_hyphens(true).use_idna_2008_rules(true)
}

/// Checks on the raw text, so that the common mistakes get a specific error (and a huge
/// input costs nothing) before IDNA processing.
fn precheck(input: &str) -> Result<(), DomainError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(DomainError::InputTooLong {
            bytes: input.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if input.is_empty() {
        return Err(DomainError::Empty);
    }
    // Whitespace before control characters: a pasted tab or newline is a whitespace mistake.
    if input.chars().any(char::is_whitespace) {
        return Err(DomainError::Whitespace);
    }
    if let Some(ch) = input.chars().find(|c| c.is_control()) {
        return Err(DomainError::InvalidCharacter { ch });
    }
    if input.contains(['*', '?']) {
        return Err(DomainError::Wildcard);
    }
    if is_ip_literal(input) {
        return Err(DomainError::IpLiteral);
    }
    Ok(())
}

fn is_ip_literal(input: &str) -> bool {
    // Any bracketed form is an RFC 7622 IP-literal (IPv6 or IPvFuture); none is acceptable.
    if input.starts_with('[') && input.ends_with(']') {
        return true;
    }
    // A zone index (fe80::1%eth0) is not part of Ipv6Addr's syntax but is still an address.
    let without_zone = input.split('%').next().unwrap_or(input);
    if without_zone.parse::<Ipv6Addr>().is_ok() {
        return true;
    }
    input
        .strip_suffix('.')
        .unwrap_or(input)
        .parse::<Ipv4Addr>()
        .is_ok()
}

/// DNS rules on the A-label form, which is what the limits are defined on. The hyphen rule also
/// applies to U-labels (UTS 46 V3), and is checked on both so that `-ü.com` gets the same error
/// as `-u.com`, naming the label as the user wrote it.
fn check_structure(ascii: &str, unicode: &str) -> Result<(), DomainError> {
    let labels: Vec<&str> = ascii.split('.').collect();
    for (label, u_label) in labels
        .iter()
        .zip(unicode.split('.').chain(std::iter::repeat("")))
    {
        if label.is_empty() {
            return Err(DomainError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_OCTETS {
            return Err(DomainError::LabelTooLong {
                label: (*label).to_owned(),
                octets: label.len(),
            });
        }
        // UTS 46 with STD3 rules should already guarantee LDH; this keeps the contract local.
        if let Some(ch) = label
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(DomainError::InvalidCharacter { ch });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainError::LeadingOrTrailingHyphen {
                label: (*label).to_owned(),
            });
        }
        if u_label.starts_with('-') || u_label.ends_with('-') {
            return Err(DomainError::LeadingOrTrailingHyphen {
                label: u_label.to_owned(),
            });
        }
    }
    if ascii.len() > MAX_NAME_OCTETS {
        return Err(DomainError::TooLong {
            octets: ascii.len(),
        });
    }
    let tld = labels[labels.len() - 1];
    if labels.len() < 2 {
        return Err(DomainError::SingleLabel);
    }
    // Otherwise 1.2.3.4.5 or 010.0.0.1 (which Ipv4Addr refuses) would pass as host names.
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::NumericTopLevelLabel {
            label: tld.to_owned(),
        });
    }
    Ok(())
}

/// A label that claims to be an A-label (`xn--` after UTS 46 mapping) but decodes to plain
/// ASCII, such as `xn--abc-` for `abc`. idna 0.3 silently accepts it; UTS 46 (since 15.1) and
/// IDNA2008 do not, and accepting it would give one partner key two unrelated-looking spellings.
fn fake_a_label(name: &str) -> Option<&str> {
    // The separators are the ones UTS 46 maps to '.'; the input has already been accepted by
    // the STD3 rules, so no other character can introduce a label boundary.
    name.split(['.', '\u{3002}', '\u{FF0E}', '\u{FF61}'])
        .find(|label| {
            // A leading 'a' stops the decoder from recognizing the prefix, so this yields the
            // mapped (lowercased, width-folded) label without Punycode decoding.
            let (guarded, _) = lenient_idna().to_unicode(&format!("a{label}"));
            let claims_a_label =
                matches!(guarded.strip_prefix('a'), Some(mapped) if mapped.starts_with("xn--"));
            claims_a_label && lenient_idna().to_unicode(label).0.is_ascii()
        })
}

fn idna_reason(reason: &str) -> DomainError {
    DomainError::Idna {
        reason: reason.to_owned(),
    }
}

/// idna 0.3's `Errors` is opaque except for its Debug output (`Errors { flag, flag }`), so the
/// flags are read from there; an unknown flag is passed through rather than lost.
fn idna_error(name: &str, errors: &idna::Errors) -> DomainError {
    let debug = format!("{:?}", errors);
    let flags: Vec<&str> = debug
        .trim_start_matches("Errors")
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();

    // Disallowed status is a per-character property of the UTS 46 table, so testing characters
    // one at a time finds the culprit exactly (ASCII ones were already reported by the caller).
    if flags
        .iter()
        .any(|f| f.starts_with("disallowed") || *f == "invalid_mapping")
    {
        let culprit = name.chars().filter(|c| !c.is_ascii()).find(|&c| {
            let mut buf = [0u8; 4];
            lenient_idna()
                .to_ascii(c.encode_utf8(&mut buf))
                .map_or_else(
                    |e| {
                        let d = format!("{:?}", e);
                        d.contains("disallowed") || d.contains("invalid_mapping")
                    },
                    |_| false,
                )
        });
        if let Some(ch) = culprit {
            return DomainError::InvalidCharacter { ch };
        }
    }

    let mut reasons: Vec<&str> = Vec::new();
    for flag in flags {
        let reason = match flag {
            "punycode" => "an xn-- label is not valid Punycode",
            "check_hyphens" => "a label begins or ends with a hyphen",
            "check_bidi" => "it breaks the rules for right-to-left text (RFC 5893)",
            "start_combining_mark" => "a label begins with a combining mark",
            "nfc" => "an xn-- label is not in Unicode normalization form C",
            "invalid_mapping"
            | "disallowed_by_std3_ascii_rules"
            | "disallowed_mapped_in_std3"
            | "disallowed_character"
            | "disallowed_in_idna_2008" => "it contains a character not allowed in domain names",
            "too_long_for_dns" => "a label or the whole name is too long for DNS",
            "too_short_for_dns" => "it contains an empty label",
            other => other,
        };
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    if reasons.is_empty() {
        reasons.push("rejected by UTS 46 processing");
    }
    DomainError::Idna {
        reason: reasons.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(input: &str) -> String {
        canonicalize(input).unwrap_or_else(|e| panic!("{input:?} rejected: {e}"))
    }

    fn err(input: &str) -> DomainError {
        match canonicalize(input) {
            Ok(c) => panic!("{input:?} accepted as {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn symbols_and_emoji_are_not_idna2008_domains() {
        for input in ["☃.com", "😀.com", "xn--ls8h.la", "a\u{2044}b.com", "a\u{2215}b.com"] {
            err(input);
        }
        assert_eq!(ok("bücher.example"), "bücher.example");
    }

    #[test]
    fn lowercases_and_strips_one_trailing_dot() {
        assert_eq!(ok("Contoso.COM"), "contoso.com");
        assert_eq!(ok("contoso.com."), "contoso.com");
        assert_eq!(ok("sip.Fabrikam-Corp.co.uk"), "sip.fabrikam-corp.co.uk");
        assert_eq!(err("contoso.com.."), DomainError::EmptyLabel);
    }

    #[test]
    fn a_label_and_u_label_are_the_same_domain() {
        assert_eq!(ok("xn--bcher-kva.example"), "bücher.example");
        assert_eq!(ok("Bücher.example"), "bücher.example");
        assert_eq!(ok("XN--BCHER-KVA.Example."), "bücher.example");
        assert_eq!(ok("BÜCHER.EXAMPLE"), "bücher.example");
        // Decomposed ü (u + U+0308) is normalized to NFC.
        assert_eq!(ok("bu\u{308}cher.example"), "bücher.example");
        // Full-width dot is a UTS 46 label separator.
        assert_eq!(ok("bücher\u{3002}example"), "bücher.example");
        assert_eq!(to_ascii("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(to_ascii("contoso.com"), "contoso.com");
    }

    #[test]
    fn deviation_characters_use_nontransitional_processing() {
        // ß stays ß (IDNA2008), rather than becoming "ss" as in transitional processing.
        assert_eq!(ok("faß.de"), "faß.de");
        assert_eq!(to_ascii("faß.de"), "xn--fa-hia.de");
        assert_eq!(ok("xn--fa-hia.de"), "faß.de");
    }

    #[test]
    fn rejects_empty_whitespace_and_wildcards() {
        assert_eq!(err(""), DomainError::Empty);
        assert_eq!(err("contoso .com"), DomainError::Whitespace);
        assert_eq!(err(" contoso.com"), DomainError::Whitespace);
        assert_eq!(err("contoso.com\n"), DomainError::Whitespace);
        assert_eq!(err("contoso\u{3000}com"), DomainError::Whitespace);
        assert_eq!(err("*.contoso.com"), DomainError::Wildcard);
        assert_eq!(err("contoso.c?m"), DomainError::Wildcard);
    }

    #[test]
    fn rejects_ip_literals() {
        for ip in [
            "10.0.0.1",
            "10.0.0.1.",
            "[::1]",
            "::1",
            "2001:db8::1",
            "fe80::1%eth0",
            "[10.0.0.1]",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(err(ip), DomainError::IpLiteral, "{ip}");
        }
        assert_eq!(
            err("1.2.3.4.5"),
            DomainError::NumericTopLevelLabel { label: "5".into() }
        );
        assert_eq!(
            err("010.0.0.1"),
            DomainError::NumericTopLevelLabel { label: "1".into() }
        );
        // A numeric label elsewhere is fine; only the top-level one is refused.
        assert_eq!(ok("123.example.com"), "123.example.com");
        assert_eq!(ok("10.0.0.1a"), "10.0.0.1a");
    }

    #[test]
    fn rejects_empty_labels() {
        for name in ["a..b", ".a.b", ".", "..", "a.b.."] {
            assert_eq!(err(name), DomainError::EmptyLabel, "{name}");
        }
        // A full-width dot produces a label separator after mapping, hence an empty label here.
        assert_eq!(err("a\u{FF0E}\u{FF0E}b"), DomainError::EmptyLabel);
    }

    #[test]
    fn rejects_characters_outside_ldh() {
        for (name, ch) in [
            ("my_host.contoso.com", '_'),
            ("user@contoso.com", '@'),
            ("contoso.com/path", '/'),
            ("contoso.com:5269", ':'),
            ("con\u{0}toso.com", '\u{0}'),
            ("con\u{7f}toso.com", '\u{7f}'),
            ("contoso!.com", '!'),
            // Full-width low line maps to '_', which STD3 rules refuse.
            ("my\u{FF3F}host.com", '\u{FF3F}'),
            ("zero\u{200D}width.com", '\u{200D}'),
            ("a\u{202E}b.com", '\u{202E}'),
        ] {
            assert_eq!(err(name), DomainError::InvalidCharacter { ch }, "{name:?}");
        }
    }

    #[test]
    fn rejects_hyphens_at_label_edges() {
        assert_eq!(
            err("-contoso.com"),
            DomainError::LeadingOrTrailingHyphen {
                label: "-contoso".into()
            }
        );
        assert_eq!(
            err("contoso-.com"),
            DomainError::LeadingOrTrailingHyphen {
                label: "contoso-".into()
            }
        );
        assert_eq!(ok("con-to-so.com"), "con-to-so.com");
        // Checked on the U-label too: the A-label xn----eha has no edge hyphen.
        assert_eq!(
            err("-ü.com"),
            DomainError::LeadingOrTrailingHyphen {
                label: "-ü".into()
            }
        );
        assert_eq!(
            err("xn----eha.com"),
            DomainError::LeadingOrTrailingHyphen {
                label: "-ü".into()
            }
        );
    }

    #[test]
    fn label_limit_is_63_octets_in_a_label_form() {
        let l63 = "a".repeat(63);
        assert_eq!(ok(&format!("{l63}.com")), format!("{l63}.com"));
        let l64 = "a".repeat(64);
        assert_eq!(
            err(&format!("{l64}.com")),
            DomainError::LabelTooLong {
                label: l64,
                octets: 64
            }
        );
        // 60 non-ASCII characters need at least 60 Punycode octets plus the "xn--" prefix.
        let wide: String = ('\u{E0}'..='\u{FF}')
            .filter(|c| *c != '\u{F7}')
            .cycle()
            .take(60)
            .collect();
        match err(&format!("{wide}.com")) {
            DomainError::LabelTooLong { label, octets } => {
                assert!(label.starts_with("xn--"));
                assert_eq!(octets, label.len());
                assert!(octets > 63);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn name_limit_is_253_octets_without_trailing_dot() {
        // 3 x 63 + 61 + 3 dots = 253.
        let l = "a".repeat(63);
        let name253 = format!("{l}.{l}.{l}.{}", "b".repeat(61));
        assert_eq!(name253.len(), 253);
        assert_eq!(ok(&name253), name253);
        assert_eq!(ok(&format!("{name253}.")), name253);
        let name254 = format!("{l}.{l}.{l}.{}", "b".repeat(62));
        assert_eq!(err(&name254), DomainError::TooLong { octets: 254 });
    }

    #[test]
    fn requires_two_labels() {
        assert_eq!(err("localhost"), DomainError::SingleLabel);
        assert_eq!(err("localhost."), DomainError::SingleLabel);
        assert_eq!(err("bücher"), DomainError::SingleLabel);
    }

    #[test]
    fn rejects_bad_idna() {
        // Invalid Punycode.
        assert!(matches!(err("xn--a.com"), DomainError::Idna { .. }));
        // Combining mark at label start.
        assert!(matches!(err("\u{301}a.com"), DomainError::Idna { .. }));
        // A-label whose U-label starts with a hyphen.
        // An xn-- label that decodes to ASCII only (the Punycode of "abc").
        assert!(matches!(err("xn--abc-.com"), DomainError::Idna { .. }));
        assert!(matches!(err("XN--ABC-.com"), DomainError::Idna { .. }));
        assert!(matches!(
            err("\u{FF58}\u{FF4E}--abc-.com"),
            DomainError::Idna { .. }
        ));
        // Mixed right-to-left and left-to-right within a label.
        assert!(matches!(err("a\u{5D0}.com"), DomainError::Idna { .. }));
    }

    #[test]
    fn huge_input_is_rejected_before_idna() {
        let huge = "a".repeat(10 * 1024 * 1024);
        let started = std::time::Instant::now();
        assert_eq!(
            err(&huge),
            DomainError::InputTooLong {
                bytes: huge.len(),
                max: MAX_INPUT_BYTES
            }
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        assert!(matches!(
            err(&"a".repeat(MAX_INPUT_BYTES + 1)),
            DomainError::InputTooLong { .. }
        ));
    }

    #[test]
    fn messages_name_the_fact() {
        let e = err("my_host.contoso.com");
        assert_eq!(
            e.to_string(),
            "it contains the character '_' (U+005F), which is not allowed in a domain name"
        );
        assert_eq!(
            err("con\u{0}toso.com").to_string(),
            "it contains the character '\\0' (U+0000), which is not allowed in a domain name"
        );
    }

    fn ldh_label() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?"
    }

    fn ldh_name() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(ldh_label(), 1..5),
            "[a-zA-Z][a-zA-Z0-9]{0,10}",
        )
            .prop_map(|(labels, tld)| format!("{}.{}", labels.join("."), tld))
    }

    proptest! {
        #[test]
        fn ldh_names_are_accepted_lowercased_and_idempotent(name in ldh_name(), dot in any::<bool>()) {
            let input = if dot { format!("{name}.") } else { name.clone() };
            let c = canonicalize(&input);
            // An "xn--" label must also be valid Punycode; everything else must pass.
            if !name.to_ascii_lowercase().split('.').any(|l| l.starts_with("xn--")) {
                prop_assert_eq!(c.clone(), Ok(name.to_ascii_lowercase()));
            }
            if let Ok(c) = c {
                prop_assert_eq!(canonicalize(&c), Ok(c.clone()));
                prop_assert_eq!(canonicalize(&to_ascii(&c)), Ok(c.clone()));
            }
        }

        #[test]
        fn unicode_names_are_idempotent_and_match_their_a_labels(
            labels in prop::collection::vec("[a-zA-Z0-9äöüßéçñÄÖÜÉΣσάжЖ\u{4E2D}\u{6587}-]{1,12}", 2..4)
        ) {
            let name = labels.join(".");
            if let Ok(c) = canonicalize(&name) {
                prop_assert_eq!(canonicalize(&c), Ok(c.clone()));
                let a = to_ascii(&c);
                prop_assert!(a.is_ascii());
                prop_assert!(a.len() <= 253);
                prop_assert_eq!(canonicalize(&a), Ok(c.clone()));
                prop_assert_eq!(c.to_lowercase(), c);
            }
        }

        #[test]
        fn plain_host_names_take_the_short_path(name in ldh_name()) {
            let plain = !name.to_ascii_lowercase().split('.').any(|l| l.get(2..4) == Some("--"));
            if plain && name.len() <= 253 {
                prop_assert_eq!(plain_host_name(&name), Some(name.to_ascii_lowercase()));
            }
        }

        #[test]
        fn arbitrary_input_never_panics(s in any::<String>()) {
            if let Ok(c) = canonicalize(&s) {
                prop_assert_eq!(canonicalize(&c), Ok(c.clone()));
            }
        }

        #[test]
        fn domain_like_input_never_panics(s in "[a-zA-Z0-9.\\-_xn\u{300}\u{5D0}\u{627}\u{200D}\u{3002}\u{FF0E}üß*\\[\\]:]{0,40}") {
            if let Ok(c) = canonicalize(&s) {
                prop_assert_eq!(canonicalize(&c), Ok(c.clone()));
                prop_assert!(to_ascii(&c).len() <= 253);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// The short path gives exactly what the full path gives, for every input it takes.
        #[test]
        fn the_short_path_agrees_with_idna(s in "[a-zA-Z0-9.\\-]{0,70}|([a-z0-9-]{1,64}\\.){1,5}[a-zA-Z0-9-]{1,64}|[a-z]{60,64}(\\.[a-z]{60,64}){3,4}|x[nN]--[a-z0-9-]{0,8}\\.[a-z]{1,3}") {
            if let Some(short) = plain_host_name(&s) {
                prop_assert_eq!(canonicalize_idna(&s), Ok(short));
            }
        }
    }

    #[test]
    fn the_short_path_takes_only_names_idna_leaves_as_they_are() {
        let label63 = "a".repeat(63);
        let longest = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61)); // 253 octets
        let taken = ["contoso.com", "Contoso.COM", "a.b", "1.2.3.com", "a-b.c-d.e", "ab-c--d.com", &longest];
        for name in taken {
            assert_eq!(plain_host_name(name), Some(name.to_ascii_lowercase()), "{name}");
            assert_eq!(canonicalize_idna(name), Ok(name.to_ascii_lowercase()), "{name}");
        }
        let too_long = format!("{longest}b");
        let label64 = format!("{}.com", "a".repeat(64));
        let left = [
            "", "com", "contoso.com.", ".contoso.com", "a..com", "-a.com", "a-.com", "ab--c.com", "xn--bcher-kva.example",
            "XN--abc.com", "1.2.3.4", "example.123", "a_b.com", "bücher.example", "a.com ", "*.com", &too_long, &label64,
        ];
        for name in left {
            assert_eq!(plain_host_name(name), None, "{name:?}");
        }
    }
}
