//! AdditionalDomains changes with PowerShell's PSListModifier semantics, decided here once so a C
//! or Python caller gets exactly what `Set-CsXmppAllowedPartner -AdditionalDomains @{Add=..}` does.
//!
//! Wire forms (JSON): a string or an array replaces the list; `null` clears it; an object with any
//! of the keys `Add`, `Remove`, `Replace` (case-insensitive, like a PowerShell hashtable; each a
//! string or an array) modifies it. Any other key is an error.
//!
//! Any domain item may also be the text form of a list, as Export-Csv writes it and Import-Csv
//! reads it back: domains separated by `;` (spaces around them ignored), where an empty text names
//! no domain. A domain can hold neither `;` nor be empty, so this reading is never ambiguous.
//!
//! A value of the wrong form (an unknown key, a number where a domain belongs) is well-formed JSON
//! that the admin typed as a parameter value, so it is reported as an `InvalidValue` of
//! `AdditionalDomains` in the admin's terms, not as a JSON shape error with a line and column.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{canonical_domain, MAX_ADDITIONAL_DOMAINS};

const FIELD: &str = "AdditionalDomains";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListModifier {
    /// A plain value or list: the new list.
    Replace(Vec<String>),
    /// `$null`: no additional domains.
    Clear,
    /// A PSListModifier: a non-empty `replace` wins; otherwise remove, then add (like PowerShell's
    /// PSListModifier.ApplyTo, where an empty Replace changes nothing).
    Modify {
        add: Vec<String>,
        remove: Vec<String>,
        replace: Vec<String>,
    },
    /// A value of the wrong form, kept until it is applied so that it is reported as a problem
    /// with AdditionalDomains (see the module comment).
    Invalid(String),
}

impl ListModifier {
    /// Apply to `current` for the partner whose primary domain is `primary`. Every domain named is
    /// validated (a typo in Remove is an error, not a silent no-op); the result holds canonical,
    /// distinct domains in first-seen order and never the primary domain.
    pub fn apply(&self, current: &[String], primary: &str) -> Result<Vec<String>> {
        let (keep, remove, add): (&[String], &[String], &[String]) = match self {
            ListModifier::Clear => (&[], &[], &[]),
            ListModifier::Replace(items) => (&[], &[], items),
            ListModifier::Modify { replace, .. } if !replace.is_empty() => (&[], &[], replace),
            ListModifier::Modify { add, remove, .. } => (current, remove, add),
            ListModifier::Invalid(problem) => return Err(Error::value(FIELD, problem.clone())),
        };
        let canonical = |items: &[String]| -> Result<Vec<String>> {
            items.iter().flat_map(|item| domains_in(item)).map(|d| canonical_domain(FIELD, d)).collect()
        };
        let remove = canonical(remove)?;
        let remove: std::collections::HashSet<String> = remove.into_iter().collect();
        let mut result: Vec<String> = canonical(keep)?.into_iter().filter(|d| !remove.contains(d)).collect();
        // A set beside the list: a list of many thousand names must not cost their square.
        let mut seen: std::collections::HashSet<String> = result.iter().cloned().collect();
        for domain in canonical(add)? {
            if domain == primary {
                return Err(Error::value(
                    FIELD,
                    format!("'{domain}' is the partner's primary domain; it cannot also be an additional domain"),
                ));
            }
            if seen.insert(domain.clone()) {
                result.push(domain);
            }
        }
        if result.len() > MAX_ADDITIONAL_DOMAINS {
            return Err(Error::value(
                FIELD,
                format!("{} domains given; a partner may have at most {}", result.len(), MAX_ADDITIONAL_DOMAINS),
            ));
        }
        Ok(result)
    }

    /// A value of the wrong form is refused before anything else is looked at (no store access).
    pub fn check_form(&self) -> Result<()> {
        match self {
            ListModifier::Invalid(problem) => Err(Error::value(FIELD, problem.clone())),
            _ => Ok(()),
        }
    }

    /// For change sets: an absent field is "no change" (`None`), an explicit `null` is `Clear`.
    pub fn deserialize_nullable<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<ListModifier>, D::Error> {
        ListModifier::deserialize(d).map(Some)
    }
}

/// The domains one item names: itself, or for the text form of a list (`a.com;b.com`, or an empty
/// text) its parts. An item without `;` is left as it is, so that its problems (spaces, say) are
/// reported by the domain check.
fn domains_in(item: &str) -> Vec<&str> {
    if item.contains(';') || item.trim().is_empty() {
        item.split(';').map(str::trim).filter(|part| !part.is_empty()).collect()
    } else {
        vec![item]
    }
}

/// Reads every wire form directly (not through `serde_json::Value`, which would merge a key
/// given twice and so drop one of the admin's values without a word).
struct ListModifierVisitor;

impl<'de> de::Visitor<'de> for ListModifierVisitor {
    type Value = ListModifier;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a domain, a list of domains, null, or an object with Add, Remove or Replace")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<ListModifier, E> {
        Ok(ListModifier::Clear)
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<ListModifier, E> {
        Ok(ListModifier::Clear)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<ListModifier, E> {
        Ok(ListModifier::Replace(vec![s.to_owned()]))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> std::result::Result<ListModifier, A::Error> {
        let items = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(string_list(items, "the list").map_or_else(ListModifier::Invalid, ListModifier::Replace))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<ListModifier, E> {
        Ok(invalid_form("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<ListModifier, E> {
        Ok(invalid_form("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<ListModifier, E> {
        Ok(invalid_form("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<ListModifier, E> {
        Ok(invalid_form("a number"))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<ListModifier, A::Error> {
        let (mut add, mut remove, mut replace) = (None, None, None);
        // The first problem is kept, but the whole object is still read so the document stays
        // well-formed JSON to the parser.
        let mut problem: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Value>()?;
            if problem.is_some() {
                continue;
            }
            let slot = match key.to_ascii_lowercase().as_str() {
                "add" => &mut add,
                "remove" => &mut remove,
                "replace" => &mut replace,
                _ => {
                    problem = Some(format!("'{key}' is not a list modifier key; use Add, Remove or Replace (e.g. @{{Add='a.example.com'}})"));
                    continue;
                }
            };
            match string_list(value, &format!("the value of '{key}'")) {
                // Hashtable keys are case-insensitive: "Add" twice, or "Add" and "add", is ambiguous.
                Ok(items) => {
                    if slot.replace(items).is_some() {
                        problem = Some(format!("the list modifier key '{key}' is given more than once"));
                    }
                }
                Err(p) => problem = Some(p),
            }
        }
        if let Some(problem) = problem {
            return Ok(ListModifier::Invalid(problem));
        }
        Ok(ListModifier::Modify {
            add: add.unwrap_or_default(),
            remove: remove.unwrap_or_default(),
            replace: replace.unwrap_or_default(),
        })
    }
}

impl<'de> Deserialize<'de> for ListModifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ListModifierVisitor)
    }
}

fn invalid_form(found: &str) -> ListModifier {
    ListModifier::Invalid(format!("expected a domain, a list of domains, or a list modifier (Add, Remove, Replace); found {found}"))
}

/// A string, an array of strings, or null (an empty list).
fn string_list(value: Value, what: &str) -> std::result::Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(format!("{what} holds {} where a domain name belongs", json_kind(&other))),
            })
            .collect(),
        other => Err(format!("{what} is {}; give a domain name or a list of them", json_kind(&other))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ListModifier {
        serde_json::from_str(json).unwrap()
    }

    fn apply(json: &str, current: &[&str]) -> Result<Vec<String>> {
        let current: Vec<String> = current.iter().map(|s| s.to_string()).collect();
        parse(json).apply(&current, "contoso.com")
    }

    #[test]
    fn plain_value_or_list_replaces() {
        assert_eq!(apply(r#""Research.Fabrikam2.com""#, &["x.com"]).unwrap(), vec!["research.fabrikam2.com"]);
        assert_eq!(apply(r#"["a.com","B.com","b.com."]"#, &["x.com"]).unwrap(), vec!["a.com", "b.com"]);
    }

    #[test]
    fn the_text_form_of_a_list_names_each_domain() {
        assert_eq!(apply(r#""a.com;B.com""#, &["x.com"]).unwrap(), vec!["a.com", "b.com"]);
        assert_eq!(apply(r#"["a.com; b.com ;", "c.com"]"#, &[]).unwrap(), vec!["a.com", "b.com", "c.com"]);
        assert_eq!(apply(r#"{"Add":"c.com;d.com","Remove":"a.com;x.com"}"#, &["a.com", "b.com"]).unwrap(), vec!["b.com", "c.com", "d.com"]);
        // An empty text (an exported empty list) is an empty list.
        assert_eq!(apply(r#""""#, &["x.com"]).unwrap(), Vec::<String>::new());
        assert_eq!(apply(r#"[" "]"#, &["x.com"]).unwrap(), Vec::<String>::new());
        // Each part is still checked, and an item without ';' keeps its spaces (an error).
        assert!(matches!(apply(r#""a.com;not ok""#, &[]), Err(Error::InvalidDomain { ref value, .. }) if value == "not ok"));
        assert!(matches!(apply(r#"" a.com""#, &[]), Err(Error::InvalidDomain { .. })));
        assert!(matches!(apply(r#""contoso.com;b.com""#, &[]), Err(Error::InvalidValue { .. })));
    }

    #[test]
    fn null_clears() {
        assert_eq!(apply("null", &["x.com"]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn add_appends_without_duplicates() {
        assert_eq!(apply(r#"{"Add":"na.contoso2.com"}"#, &["eu.contoso2.com"]).unwrap(), vec!["eu.contoso2.com", "na.contoso2.com"]);
        assert_eq!(apply(r#"{"add":["EU.contoso2.com"]}"#, &["eu.contoso2.com"]).unwrap(), vec!["eu.contoso2.com"]);
    }

    #[test]
    fn remove_ignores_missing_items() {
        assert_eq!(apply(r#"{"Remove":"europe.contoso2.com"}"#, &["europe.contoso2.com", "na.contoso2.com"]).unwrap(), vec!["na.contoso2.com"]);
        assert_eq!(apply(r#"{"Remove":"nothere.com"}"#, &["a.com"]).unwrap(), vec!["a.com"]);
    }

    #[test]
    fn remove_then_add() {
        assert_eq!(apply(r#"{"Add":"a.com","Remove":"a.com"}"#, &["a.com", "b.com"]).unwrap(), vec!["b.com", "a.com"]);
        assert_eq!(apply(r#"{"Add":"c.com","Remove":"a.com"}"#, &["a.com", "b.com"]).unwrap(), vec!["b.com", "c.com"]);
    }

    #[test]
    fn non_empty_replace_wins_and_empty_replace_changes_nothing() {
        assert_eq!(apply(r#"{"Replace":"z.com","Add":"c.com","Remove":"a.com"}"#, &["a.com"]).unwrap(), vec!["z.com"]);
        assert_eq!(apply(r#"{"Replace":[]}"#, &["a.com"]).unwrap(), vec!["a.com"]);
    }

    #[test]
    fn primary_domain_and_bad_domains_are_errors() {
        assert!(matches!(apply(r#"{"Add":"Contoso.com"}"#, &[]), Err(Error::InvalidValue { field: "AdditionalDomains", .. })));
        assert!(matches!(apply(r#"["ok.com","bad..com"]"#, &[]), Err(Error::InvalidDomain { field: "AdditionalDomains", .. })));
        assert!(matches!(apply(r#"{"Remove":"*.com"}"#, &["a.com"]), Err(Error::InvalidDomain { .. })));
    }

    /// The problem `apply` reports for a value of the wrong form.
    fn problem(json: &str) -> String {
        match apply(json, &["a.com"]) {
            Err(Error::InvalidValue { field: "AdditionalDomains", problem }) => problem,
            other => panic!("{json}: expected an InvalidValue of AdditionalDomains, got {other:?}"),
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_invalid_values_in_the_admins_terms() {
        let p = problem(r#"{"Append":"a.com"}"#);
        assert!(p.contains("'Append' is not a list modifier key") && !p.contains("line"), "{p}");
        assert!(problem(r#"[1]"#).contains("holds a number"));
        assert!(problem(r#"{"Add":"a.com","add":"b.com"}"#).contains("more than once"));
        assert!(problem(r#"{"Add":"a.com","Add":"b.com"}"#).contains("more than once"));
        assert!(problem(r#"true"#).contains("found a boolean"));
        assert!(problem(r#"{"Add":{"x":1}}"#).contains("'Add' is an object"));
        // The rest of the document is still read as JSON: a syntax error stays a syntax error.
        assert!(serde_json::from_str::<ListModifier>(r#"{"Append":"a.com","#).is_err());
    }

    #[test]
    fn too_many_domains_is_an_error() {
        let many: Vec<String> = (0..=MAX_ADDITIONAL_DOMAINS).map(|i| format!("d{i}.example.org")).collect();
        let err = ListModifier::Replace(many).apply(&[], "contoso.com").unwrap_err();
        assert!(matches!(err, Error::InvalidValue { field: "AdditionalDomains", .. }));
    }
}
