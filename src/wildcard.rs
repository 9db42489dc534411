//! PowerShell wildcard patterns, as used by `Get-CsXmppAllowedPartner -Filter`.
//!
//! The semantics follow `System.Management.Automation.WildcardPattern` with
//! `WildcardOptions.IgnoreCase`, matched against the whole string (like `-like`), so that a
//! filter behaves the same whether PowerShell or this library evaluates it. Edge cases were
//! checked against PowerShell's parser (`WildcardPatternParser.Parse` in engine/regex.cs):
//!
//! * `` ` `` escapes the next character, inside or outside a class; escaping an ordinary
//!   character just yields that character (`` `a `` is `a`), and ``` `` ``` is a literal backtick.
//! * A trailing lone backtick is a literal backtick (`abc`` ` `` matches ``abc` ``), except that
//!   the pattern consisting of only `` ` `` is the empty pattern (PowerShell keeps this for
//!   Windows 7 compatibility), which matches only the empty string.
//! * `]` outside a class is an ordinary character.
//! * `[` opens a class that ends at the next unescaped `]`; a `]` directly after the `[` is a
//!   member, not the end, so `[]]` matches `]` and `[]` is an unterminated class. There is no
//!   nesting (`[` inside a class is a member) and no negation (`[!a]` and `[^a]` are sets
//!   containing `!`/`^`).
//! * An unterminated class is an error, as PowerShell throws `WildcardPatternException`.
//! * Inside a class, `x-y` is a range when an unescaped `-` has a member on each side;
//!   otherwise `-` is a member (`[a-]`, `[-a]`, `` [a`-c] ``). A range whose start is after its
//!   end (`[z-a]`) is an error, as in PowerShell.
//!
//! Where we differ, on purpose: PowerShell compares with the current culture and works on
//! UTF-16 code units; we compare Unicode scalar values with simple lowercase mapping, so `?`
//! matches one character even outside the Basic Multilingual Plane, and results do not depend
//! on the machine's locale.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WildcardError {
    /// Patterns are matched against domains of at most 253 octets; a far longer pattern is a
    /// mistake, and bounding it bounds the matcher's memory and time.
    #[error("the pattern is {bytes} bytes long; at most {max} are allowed")]
    TooLong { bytes: usize, max: usize },

    /// `position` is the zero-based character index of the `[` that is never closed.
    #[error("the character class opened at position {position} is not closed with ']'")]
    UnterminatedClass { position: usize },

    /// `position` is the zero-based character index of the range's first character.
    #[error("the range '{start}-{end}' at position {position} is reversed (its start comes after its end)")]
    ReversedRange {
        position: usize,
        start: char,
        end: char,
    },
}

/// Longest pattern accepted (ours).
pub const MAX_PATTERN_BYTES: usize = 4096;

#[derive(Debug, Clone)]
pub struct WildcardPattern {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Any sequence of characters; consecutive stars are merged, which changes no match.
    Star,
    Any,
    /// Stored case-folded, so matching folds only the text.
    Literal(char),
    Class(Class),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Class {
    /// Case-folded.
    members: Vec<char>,
    /// As written: folding the ends of a range does not give a range (`[Z-a]`).
    ranges: Vec<(char, char)>,
}

impl Class {
    fn contains(&self, ch: char, folded: char) -> bool {
        if self.members.contains(&folded) {
            return true;
        }
        // A range matches if any case variant of the character lies in it, so `[A-C]` matches
        // `b` and `[a-c]` matches `B`; upper(lower(c)) covers characters such as the Kelvin sign
        // whose lowercase is an ordinary letter.
        let variants = [ch, folded, simple_upper(ch), simple_upper(folded)];
        self.ranges
            .iter()
            .any(|&(lo, hi)| variants.iter().any(|v| (lo..=hi).contains(v)))
    }
}

impl WildcardPattern {
    pub fn parse(pattern: &str) -> Result<Self, WildcardError> {
        if pattern.len() > MAX_PATTERN_BYTES {
            return Err(WildcardError::TooLong { bytes: pattern.len(), max: MAX_PATTERN_BYTES });
        }
        if pattern == "`" {
            return Ok(WildcardPattern { tokens: Vec::new() });
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '`' => {
                    // `get` is None only for a trailing backtick, which stands for itself.
                    let ch = chars.get(i + 1).copied().unwrap_or('`');
                    tokens.push(Token::Literal(fold(ch)));
                    i += 2;
                }
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                    i += 1;
                }
                '?' => {
                    tokens.push(Token::Any);
                    i += 1;
                }
                '[' => {
                    let (class, next) = parse_class(&chars, i)?;
                    tokens.push(Token::Class(class));
                    i = next;
                }
                ch => {
                    tokens.push(Token::Literal(fold(ch)));
                    i += 1;
                }
            }
        }
        Ok(WildcardPattern { tokens })
    }

    /// What every match begins with once folded: the literal characters before the first
    /// wildcard (`*`, `?` or a class), folded as matching folds them. A text whose characters
    /// are all folded already (a canonical identity) matches only if it begins with this, so a
    /// list can start there in a sorted map instead of reading every identity.
    pub fn literal_prefix(&self) -> String {
        self.tokens.iter().map_while(|t| if let Token::Literal(c) = t { Some(*c) } else { None }).collect()
    }

    pub fn is_match(&self, text: &str) -> bool {
        let tokens = &self.tokens;
        // Every token other than Star consumes exactly one character, so it suffices to
        // remember the most recent star: on a mismatch, let that star swallow one more
        // character and retry from just after it. Backtracking to an earlier star can never
        // help, because the later star can absorb anything the earlier one would have. This
        // bounds the work by O(text * pattern) with no recursion. Positions are byte offsets
        // into `text`, decoded as needed: a filter runs over every partner, so no allocation.
        let (mut t, mut p) = (0, 0);
        let mut resume: Option<(usize, usize)> = None;
        while let Some(ch) = text[t..].chars().next() {
            let step = match tokens.get(p) {
                Some(Token::Star) => {
                    resume = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Some(Token::Any) => true,
                Some(Token::Literal(lit)) => *lit == fold(ch),
                Some(Token::Class(class)) => class.contains(ch, fold(ch)),
                None => false,
            };
            if step {
                p += 1;
                t += ch.len_utf8();
            } else if let Some((star_p, star_t)) = resume {
                // star_t <= t < text.len(), so a character starts at star_t.
                let swallowed = text[star_t..].chars().next().map_or(1, char::len_utf8);
                resume = Some((star_p, star_t + swallowed));
                p = star_p;
                t = star_t + swallowed;
            } else {
                return false;
            }
        }
        tokens[p..].iter().all(|tok| *tok == Token::Star)
    }
}

/// Parses the class whose `[` is at `open`; returns it and the index after its `]`.
fn parse_class(chars: &[char], open: usize) -> Result<(Class, usize), WildcardError> {
    // (character, index in the pattern, whether it can act as a range operator)
    let mut items: Vec<(char, usize, bool)> = Vec::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => return Err(WildcardError::UnterminatedClass { position: open }),
            Some(']') if i > open + 1 => {
                i += 1;
                break;
            }
            Some('`') => match chars.get(i + 1) {
                Some(&ch) => {
                    items.push((ch, i + 1, false));
                    i += 2;
                }
                // A backtick as the last character leaves the class open.
                None => return Err(WildcardError::UnterminatedClass { position: open }),
            },
            Some(&ch) => {
                items.push((ch, i, ch == '-'));
                i += 1;
            }
        }
    }

    let mut class = Class::default();
    let mut k = 0;
    while k < items.len() {
        match (items.get(k + 1), items.get(k + 2)) {
            (Some(&(_, _, true)), Some(&(end, _, _))) => {
                let (start, position, _) = items[k];
                if start > end {
                    return Err(WildcardError::ReversedRange {
                        position,
                        start,
                        end,
                    });
                }
                class.ranges.push((start, end));
                k += 3;
            }
            _ => {
                class.members.push(fold(items[k].0));
                k += 1;
            }
        }
    }
    Ok((class, i))
}

/// Unicode simple lowercase mapping. `char::to_lowercase` gives the full mapping, which differs
/// only for U+0130 (İ -> i + U+0307); its first character is the simple mapping.
fn fold(ch: char) -> char {
    if ch.is_ascii() {
        ch.to_ascii_lowercase()
    } else {
        ch.to_lowercase().next().unwrap_or(ch)
    }
}

/// Unicode simple uppercase mapping; where the full mapping expands (ß -> SS), the simple
/// mapping is the character itself.
fn simple_upper(ch: char) -> char {
    let mut upper = ch.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => ch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_patterns_are_refused_before_parsing() {
        assert!(WildcardPattern::parse(&"*".repeat(MAX_PATTERN_BYTES)).is_ok());
        assert_eq!(
            WildcardPattern::parse(&"*".repeat(MAX_PATTERN_BYTES + 1)).unwrap_err(),
            WildcardError::TooLong { bytes: MAX_PATTERN_BYTES + 1, max: MAX_PATTERN_BYTES }
        );
    }
    use proptest::prelude::*;

    fn matches(pattern: &str, text: &str) -> bool {
        WildcardPattern::parse(pattern)
            .unwrap_or_else(|e| panic!("{pattern:?}: {e}"))
            .is_match(text)
    }

    fn escape(s: &str) -> String {
        s.chars().flat_map(|c| ['`', c]).collect()
    }

    #[test]
    fn the_literal_prefix_ends_at_the_first_wildcard_and_is_folded() {
        for (pattern, prefix) in [
            ("Contoso*", "contoso"),
            ("contoso.com", "contoso.com"),
            ("c?ntoso*", "c"),
            ("[cd]*", ""),
            ("*.com", ""),
            ("a`*b*", "a*b"),
            ("A`[B]x*", "a[b]x"),
            ("BÜCHER*", "bücher"),
            ("`", ""),
            ("", ""),
        ] {
            assert_eq!(WildcardPattern::parse(pattern).unwrap().literal_prefix(), prefix, "{pattern}");
        }
    }

    #[test]
    fn star_and_question_mark() {
        assert!(matches("*", ""));
        assert!(matches("*", "anything"));
        assert!(matches("*.contoso.com", "sip.contoso.com"));
        assert!(!matches("*.contoso.com", "contoso.com"));
        assert!(matches("contoso*", "contoso"));
        assert!(matches("c*o*o", "contoso"));
        assert!(!matches("c*o*x", "contoso"));
        assert!(matches("?", "a"));
        assert!(!matches("?", ""));
        assert!(!matches("?", "ab"));
        assert!(matches("con?oso.com", "contoso.com"));
        assert!(matches("**a**", "a"));
        assert!(matches("*?", "x"));
        assert!(!matches("*?", ""));
    }

    #[test]
    fn matches_the_whole_string() {
        assert!(!matches("contoso", "contoso.com"));
        assert!(!matches("contoso", "my.contoso"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
    }

    #[test]
    fn ignores_case() {
        assert!(matches("CONTOSO.com", "contoso.COM"));
        assert!(matches("bücher*", "BÜCHER.example"));
        assert!(matches("σ", "Σ"));
        assert!(matches("İ", "i"));
        // Kelvin sign lowercases to k.
        assert!(matches("k", "\u{212A}"));
        assert!(matches("[k]", "\u{212A}"));
    }

    #[test]
    fn classes_and_ranges() {
        assert!(matches("[abc]x", "bx"));
        assert!(!matches("[abc]x", "dx"));
        assert!(matches("[a-c]", "b"));
        assert!(!matches("[a-c]", "d"));
        assert!(matches("[a-cx]", "x"));
        assert!(matches("[a-cx]", "a"));
        assert!(!matches("[a-cx]", "y"));
        assert!(matches("[A-C]", "b"));
        assert!(matches("[a-c]", "B"));
        assert!(matches("[0-9][0-9]", "42"));
        assert!(!matches("[0-9]", "a"));
        assert!(matches("[\u{212A}]", "K"));
        assert!(matches("[J-L]", "\u{212A}"));
    }

    #[test]
    fn hyphen_at_class_edges_is_a_member() {
        assert!(matches("[a-]", "-"));
        assert!(matches("[a-]", "a"));
        assert!(!matches("[a-]", "b"));
        assert!(matches("[-a]", "-"));
        assert!(matches("[a`-c]", "-"));
        assert!(!matches("[a`-c]", "b"));
        // A range, then '-' and 'e' as members.
        assert!(matches("[a-c-e]", "-"));
        assert!(matches("[a-c-e]", "e"));
        assert!(!matches("[a-c-e]", "d"));
        // Range from '-' to '/' covers '.'.
        assert!(matches("[--/]", "."));
    }

    #[test]
    fn brackets_inside_and_outside_classes() {
        // ']' directly after '[' is a member.
        assert!(matches("[]]", "]"));
        assert!(matches("[]a]", "a"));
        assert!(!matches("[]a]", "b"));
        // '[' inside a class is a member; no nesting.
        assert!(matches("[a[]", "["));
        // No negation.
        assert!(matches("[!a]", "!"));
        assert!(!matches("[!a]", "b"));
        assert!(matches("[^a]", "^"));
        // ']' outside a class is literal.
        assert!(matches("a]", "a]"));
        assert!(matches("]", "]"));
    }

    #[test]
    fn backtick_escapes() {
        assert!(matches("`*", "*"));
        assert!(!matches("`*", "x"));
        assert!(matches("a`?", "a?"));
        assert!(!matches("a`?", "ab"));
        assert!(matches("`[a]", "[a]"));
        assert!(!matches("`[a]", "a"));
        assert!(matches("``", "`"));
        assert!(matches("`a", "a"));
        assert!(matches("[`]]", "]"));
        assert!(matches("[``]", "`"));
        assert!(!matches("[``]", "]"));
        assert!(matches("[a`-]", "-"));
    }

    #[test]
    fn trailing_backtick() {
        assert!(matches("abc`", "abc`"));
        assert!(!matches("abc`", "abc"));
        assert!(matches("``", "`"));
        // The lone-backtick pattern is the empty pattern.
        assert!(matches("`", ""));
        assert!(!matches("`", "`"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            WildcardPattern::parse("ab[cd").unwrap_err(),
            WildcardError::UnterminatedClass { position: 2 }
        );
        assert_eq!(
            WildcardPattern::parse("[]").unwrap_err(),
            WildcardError::UnterminatedClass { position: 0 }
        );
        assert_eq!(
            WildcardPattern::parse("x[").unwrap_err(),
            WildcardError::UnterminatedClass { position: 1 }
        );
        assert_eq!(
            WildcardPattern::parse("[a`]").unwrap_err(),
            WildcardError::UnterminatedClass { position: 0 }
        );
        assert_eq!(
            WildcardPattern::parse("[ab`").unwrap_err(),
            WildcardError::UnterminatedClass { position: 0 }
        );
        assert_eq!(
            WildcardPattern::parse("é[z-a]").unwrap_err(),
            WildcardError::ReversedRange {
                position: 2,
                start: 'z',
                end: 'a'
            }
        );
        // Escaped '[' does not open a class.
        assert!(WildcardPattern::parse("`[abc").is_ok());
        assert!(WildcardPattern::parse("[a-a]").is_ok());
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = WildcardPattern::parse("*a*a*a*a*a*a*a*a*a*a*b").unwrap();
        let started = std::time::Instant::now();
        assert!(!pattern.is_match(&"a".repeat(253)));
        assert!(!pattern.is_match(&"a".repeat(20_000)));
        assert!(pattern.is_match(&format!("{}b", "a".repeat(20_000))));
        // Exponential backtracking would take far longer than this even for the 253-char text.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// Straightforward dynamic programming over (token, position) for cross-checking.
    fn reference_match(pattern: &WildcardPattern, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let toks = &pattern.tokens;
        // can[p][t]: tokens[p..] match text[t..]
        let mut can = vec![vec![false; text.len() + 1]; toks.len() + 1];
        can[toks.len()][text.len()] = true;
        for p in (0..toks.len()).rev() {
            for t in (0..=text.len()).rev() {
                can[p][t] = match &toks[p] {
                    Token::Star => can[p + 1][t] || (t < text.len() && can[p][t + 1]),
                    Token::Any => t < text.len() && can[p + 1][t + 1],
                    Token::Literal(c) => t < text.len() && fold(text[t]) == *c && can[p + 1][t + 1],
                    Token::Class(cl) => {
                        t < text.len() && cl.contains(text[t], fold(text[t])) && can[p + 1][t + 1]
                    }
                };
            }
        }
        can[0][0]
    }

    proptest! {
        #[test]
        fn parse_never_panics(pattern in any::<String>(), text in any::<String>()) {
            if let Ok(p) = WildcardPattern::parse(&pattern) {
                let _ = p.is_match(&text);
            }
        }

        #[test]
        fn parse_never_panics_on_special_heavy_input(pattern in "[ab*?`\\[\\]\\-]{0,16}") {
            let _ = WildcardPattern::parse(&pattern);
        }

        #[test]
        fn escaped_text_matches_itself_exactly(
            s in prop_oneof![any::<String>(), "[a-zA-ZäÄßσΣЖж*?`\\[\\]\\-]{0,20}"]
        ) {
            let p = WildcardPattern::parse(&escape(&s)).unwrap();
            prop_assert!(p.is_match(&s));
            // Swap ASCII case, lowercase everything else.
            let flipped: String = s
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else if c.is_ascii() {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_lowercase().next().unwrap_or(c)
                    }
                })
                .collect();
            prop_assert!(p.is_match(&flipped));
            let upper: String = s.chars().map(simple_upper).collect();
            prop_assert!(p.is_match(&upper) || s.chars().any(|c| fold(simple_upper(c)) != fold(c)));
            let longer = format!("{s}x");
            prop_assert!(!p.is_match(&longer));
            if let Some((i, _)) = s.char_indices().last() {
                prop_assert!(!p.is_match(&s[..i]));
            }
        }

        #[test]
        fn matcher_agrees_with_reference(
            pattern in "[ab*?`\\[\\]\\-]{0,10}",
            text in "[abAB\\-\\[\\]`]{0,10}",
        ) {
            if let Ok(p) = WildcardPattern::parse(&pattern) {
                prop_assert_eq!(p.is_match(&text), reference_match(&p, &text));
            }
        }
    }
}
