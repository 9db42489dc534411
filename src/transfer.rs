//! The whole list in and out (Export-/Import-CsXmppAllowedPartner).
//!
//! Export writes every partner, sorted by identity, in a stable form meant for diffs and version
//! control: canonical JSON (an array, one partner per line, properties in Get's order, no
//! `Revision`, which changes at every write and would make every export differ) or CSV (one
//! column per property, `AdditionalDomains` as `a.com;b.com`).
//!
//! Import reads such a file (or the same objects from a pipeline) and computes the difference
//! against the store: added, changed (with the properties that differ), removed (only with
//! `RemoveMissing`: make the store equal to the input), unchanged, and rejected (with the reason).
//! Each input item describes a whole partner, with New's defaults for what it leaves out. Applying
//! the difference is one commit ([`crate::store::Store::import`]): all of it or nothing, refused
//! while anything is rejected or if the store moved on from the revision the difference was
//! computed against.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::history::{property_changes, PropertyChange};
use crate::model::{named_enum, NewPartner, Partner};
use crate::negotiation::Warning;
use crate::store::state::State;

/// The columns of a CSV export, in Get's order; also every property name an import accepts.
pub const COLUMNS: [&str; 11] = [
    "Identity",
    "Domain",
    "AdditionalDomains",
    "Description",
    "ProxyFqdn",
    "PartnerType",
    "TlsNegotiation",
    "SaslNegotiation",
    "SupportDialbackNegotiation",
    "EnableKeepAlive",
    "ConnectionLimit",
];

named_enum!(
    /// How an exported or imported list is written: the same names, matched case-insensitively,
    /// for Export's `format` argument and Import's `Format` option.
    Format { Json, Csv } default Json
);

/// The exported text of `partners` (already sorted by identity).
pub fn export<'a>(partners: impl Iterator<Item = &'a Partner>, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Json => {
            out.push('[');
            let mut first = true;
            for p in partners {
                out.push_str(if first { "\n  " } else { ",\n  " });
                first = false;
                out.push_str(&serde_json::to_string(&exported(p)).expect("partners serialize"));
            }
            out.push_str(if first { "]\n" } else { "\n]\n" });
        }
        Format::Csv => {
            crate::csv::write_record(&mut out, COLUMNS);
            for p in partners {
                let row = property_texts(p, ";");
                crate::csv::write_record(&mut out, row.iter().map(String::as_str));
            }
        }
    }
    out
}

/// A partner as exported: every property but `Revision`, in Get's order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Exported<'a> {
    identity: &'a str,
    domain: &'a str,
    additional_domains: &'a [String],
    description: &'a str,
    proxy_fqdn: &'a str,
    partner_type: crate::model::PartnerType,
    tls_negotiation: crate::model::TlsNegotiation,
    sasl_negotiation: crate::model::SaslNegotiation,
    support_dialback_negotiation: bool,
    enable_keep_alive: bool,
    connection_limit: u32,
}

fn exported(p: &Partner) -> Exported<'_> {
    Exported {
        identity: &p.identity,
        domain: &p.domain,
        additional_domains: &p.additional_domains,
        description: &p.description,
        proxy_fqdn: &p.proxy_fqdn,
        partner_type: p.partner_type,
        tls_negotiation: p.tls_negotiation,
        sasl_negotiation: p.sasl_negotiation,
        support_dialback_negotiation: p.support_dialback_negotiation,
        enable_keep_alive: p.enable_keep_alive,
        connection_limit: p.connection_limit,
    }
}

/// Every property of a partner as text, in the order of [`COLUMNS`], lists joined with
/// `list_separator`: a CSV row (`;`), and what the history compares and shows (`, `).
pub fn property_texts(p: &Partner, list_separator: &str) -> [String; 11] {
    [
        p.identity.clone(),
        p.domain.clone(),
        p.additional_domains.join(list_separator),
        p.description.clone(),
        p.proxy_fqdn.clone(),
        p.partner_type.to_string(),
        p.tls_negotiation.to_string(),
        p.sasl_negotiation.to_string(),
        p.support_dialback_negotiation.to_string(),
        p.enable_keep_alive.to_string(),
        p.connection_limit.to_string(),
    ]
}

/// What to import and how.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ImportOptions {
    /// How the input text is written.
    #[serde(default)]
    pub format: Format,
    /// Remove the partners the input does not name: make the store equal to the input.
    #[serde(default)]
    pub remove_missing: bool,
    /// Apply only if the store is still at this revision (the one a shown difference was computed
    /// against); otherwise refused with `StoreChanged`.
    #[serde(default)]
    pub expected_revision: Option<u64>,
}

/// One input item after reading: its position (1-based item number, or CSV line) and the
/// partner it describes, or why it cannot be one.
struct Item {
    position: usize,
    identity: Option<String>,
    built: Result<(Partner, Vec<Warning>)>,
}

/// The input's items: a JSON array of objects, or CSV with a header row.
fn read_items(text: &str, format: Format, warnings: &mut Vec<Warning>) -> Result<Vec<Item>> {
    let objects: Vec<(usize, Map<String, Value>)> = match format {
        Format::Json => {
            let value: Value = serde_json::from_str(text).map_err(Error::from_json)?;
            let Value::Array(items) = value else {
                return Err(Error::JsonShape("the input is not a JSON array of partners".into()));
            };
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok((i + 1, m)),
                    other => Err(Error::JsonShape(format!("item {} is {}, not a partner object", i + 1, kind(&other)))),
                })
                .collect::<Result<_>>()?
        }
        Format::Csv => {
            let rows = crate::csv::parse(text).map_err(|problem| Error::value("Path", format!("the CSV cannot be read: {problem}")))?;
            let mut rows = rows.into_iter();
            // An empty text is not an empty list: with RemoveMissing it would empty the store (a
            // file cut short, a failed redirection). An empty list is a header row alone.
            let Some((_, header)) = rows.next() else {
                return Err(Error::value("Path", "the CSV is empty: it has no header row (an empty list is a header row alone)"));
            };
            if !header.iter().any(|h| h.eq_ignore_ascii_case("Identity") || h.eq_ignore_ascii_case("Domain")) {
                return Err(Error::value("Path", format!("the CSV's header row names no Identity or Domain column: {}", header.join(","))));
            }
            rows.map(|(line, fields)| {
                if fields.len() != header.len() {
                    return Err(Error::value("Path", format!("CSV line {line} has {} fields, the header {}", fields.len(), header.len())));
                }
                Ok((line, header.iter().cloned().zip(fields.into_iter().map(Value::String)).collect()))
            })
            .collect::<Result<_>>()?
        }
    };
    let mut ignored: BTreeMap<String, ()> = BTreeMap::new();
    let items = objects
        .into_iter()
        .map(|(position, object)| {
            let (request, identity) = request_of(object, &mut ignored);
            Item { position, identity, built: request.and_then(NewPartner::build) }
        })
        .collect();
    for name in ignored.keys() {
        warnings.push(Warning { id: "PropertyIgnored", message: format!("'{name}' is not a partner property; it was ignored") });
    }
    Ok(items)
}

/// New's request for one input object. Property names match case-insensitively; `Revision` is
/// ignored silently (Get's objects carry it), other unknown names are noted in `ignored`. Text
/// values (CSV, Import-Csv objects) stand for booleans and numbers too; an empty text is a
/// property not given (New's default).
fn request_of(object: Map<String, Value>, ignored: &mut BTreeMap<String, ()>) -> (Result<NewPartner>, Option<String>) {
    // The identity the item names, for its rejection: read first, whatever the order of the
    // properties (a problem found in an earlier one must still name the partner).
    let identity = ["Identity", "Domain"].iter().find_map(|key| {
        object.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).and_then(|(_, v)| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    });
    let mut known = Map::new();
    for (name, value) in object {
        let Some(column) = COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(&name)) else {
            if !name.eq_ignore_ascii_case("Revision") {
                ignored.insert(name, ());
            }
            continue;
        };
        // A number or a Boolean stands for its text, as a CSV cell or an Import-Csv property
        // would give it (ConvertFrom-Json gives numbers; Description 5 is the text "5").
        let text = match value {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(other),
        };
        let value = match text {
            Err(other) => other,
            Ok(s) if s.trim().is_empty() && *column != "AdditionalDomains" => continue,
            Ok(s) => match *column {
                "SupportDialbackNegotiation" | "EnableKeepAlive" => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "$true" | "1" | "yes" => Value::Bool(true),
                    "false" | "$false" | "0" | "no" => Value::Bool(false),
                    _ => return (Err(Error::value(column, format!("'{s}' is not True or False"))), identity),
                },
                "ConnectionLimit" => match s.trim().parse::<u32>() {
                    Ok(n) => Value::from(n),
                    Err(_) => return (Err(Error::value(column, format!("'{s}' is not a whole number from 1 to {}", u32::MAX))), identity),
                },
                _ => Value::String(s),
            },
        };
        known.insert(column.to_string(), value);
    }
    let whole = Value::Object(known);
    let request = NewPartner::deserialize(&whole).map_err(|e| {
        // serde's message does not say which property it is about: find it, and name it.
        for (name, value) in whole.as_object().into_iter().flatten() {
            let alone = Value::Object(Map::from_iter([(name.clone(), value.clone())]));
            if let (Err(problem), Some(column)) = (NewPartner::deserialize(&alone), COLUMNS.iter().find(|c| **c == name)) {
                return Error::value(column, problem.to_string());
            }
        }
        Error::from_json(e)
    });
    (request, identity)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A partner whose properties the import changes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangedPartner {
    pub identity: String,
    pub before: Partner,
    pub after: Partner,
    pub changes: Vec<PropertyChange>,
}

/// An input item that cannot be imported, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rejection {
    /// The item's number in a JSON array or pipeline (from 1), or its line in a CSV file.
    pub position: usize,
    /// The identity the item names, as written (if it names one).
    pub identity: Option<String>,
    /// The error id a New of this item would fail with (e.g. InvalidDomain, DomainConflict).
    pub error_id: &'static str,
    pub reason: String,
}

/// The difference between the input and the store, and whether it was applied.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportPlan {
    /// The store revision the difference was computed against.
    pub base_revision: u64,
    pub added: Vec<Partner>,
    pub changed: Vec<ChangedPartner>,
    pub removed: Vec<Partner>,
    pub unchanged: Vec<String>,
    pub rejected: Vec<Rejection>,
    pub remove_missing: bool,
    /// The commit that applied it; `None`: previewed, or nothing to change.
    pub committed_revision: Option<u64>,
    pub warnings: Vec<Warning>,
}

impl ImportPlan {
    pub fn change_count(&self) -> usize {
        self.added.len() + self.changed.len() + self.removed.len()
    }
}

/// Read the input; errors here are about the input as a whole (not JSON, a CSV that cannot be
/// read), before the store is touched.
pub struct ImportInput {
    items: Vec<Item>,
    warnings: Vec<Warning>,
    pub options: ImportOptions,
}

impl ImportInput {
    pub fn read(text: &str, options: ImportOptions) -> Result<ImportInput> {
        let mut warnings = Vec::new();
        let items = read_items(text, options.format, &mut warnings)?;
        Ok(ImportInput { items, warnings, options })
    }

    /// The difference against `state` (every partner's revision set to `seq`, the commit it would
    /// be written in).
    pub fn plan(&self, state: &State, seq: u64) -> ImportPlan {
        let mut rejected = Vec::new();
        let mut warnings = self.warnings.clone();
        let mut wanted: BTreeMap<String, (usize, Partner)> = BTreeMap::new();
        for item in &self.items {
            match &item.built {
                Err(e) => rejected.push(reject(item.position, item.identity.clone(), e)),
                Ok((p, _)) => {
                    if let Some((first, _)) = wanted.get(&p.identity) {
                        rejected.push(Rejection {
                            position: item.position,
                            identity: item.identity.as_deref().map(crate::ffi::printable),
                            error_id: "DuplicateIdentity",
                            reason: format!("allowed partner '{}' is also given at position {first}; each partner may appear once", p.identity),
                        });
                        continue;
                    }
                    wanted.insert(p.identity.clone(), (item.position, Partner { revision: seq, ..p.clone() }));
                }
            }
        }
        // One domain, one partner, in the store as it would be: the input's partners, plus the
        // store's partners the input leaves in place.
        // Two input items that claim one domain are both rejected: neither is more right.
        let mut owners: HashMap<&str, &str> = HashMap::new();
        let mut conflicts: BTreeMap<String, Rejection> = BTreeMap::new();
        for (identity, (position, p)) in &wanted {
            for d in p.claimed_domains() {
                if let Some(owner) = owners.insert(d, identity) {
                    conflicts.entry(identity.clone()).or_insert_with(|| conflict(*position, identity, d, owner, "also in the input"));
                    let owner_position = wanted[owner].0;
                    conflicts.entry(owner.to_owned()).or_insert_with(|| conflict(owner_position, owner, d, identity, "also in the input"));
                }
            }
        }
        if !self.options.remove_missing {
            for (identity, kept) in state.partners.iter().filter(|(id, _)| !wanted.contains_key(*id)) {
                for d in kept.claimed_domains() {
                    if let Some(claimant) = owners.get(d) {
                        let (position, _) = &wanted[*claimant];
                        conflicts.entry(claimant.to_string()).or_insert_with(|| conflict(*position, claimant, d, identity, "in the store, which the import leaves in place"));
                    }
                }
            }
        }
        for (identity, r) in conflicts {
            wanted.remove(&identity);
            rejected.push(r);
        }
        rejected.sort_by_key(|r| r.position);

        let (mut added, mut changed, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
        for (identity, (_, p)) in wanted.iter() {
            // The negotiation warnings of what the import writes, as New and Set give them: only
            // where the import chooses the settings (a file states every property, so "chosen"
            // means other than New's defaults for an added partner, other than the store's for a
            // changed one); an unchanged partner is not written and draws none.
            let settings = |q: &Partner| (q.tls_negotiation, q.sasl_negotiation, q.support_dialback_negotiation);
            let chosen = match state.partners.get(identity) {
                None => settings(p) != settings(&Partner::with_defaults(identity.clone())),
                Some(current) => settings(p) != settings(current),
            };
            if chosen {
                // Checked when the item was built: the combination is valid.
                warnings.extend(crate::negotiation::check(p, crate::negotiation::Choice::Chosen).unwrap_or_default());
            }
            match state.partners.get(identity) {
                None => added.push(p.clone()),
                Some(current) if Partner { revision: current.revision, ..p.clone() } == *current => unchanged.push(identity.clone()),
                Some(current) => changed.push(ChangedPartner {
                    identity: identity.clone(),
                    changes: property_changes(Some(current), Some(p)),
                    before: current.clone(),
                    after: p.clone(),
                }),
            }
        }
        let removed = if self.options.remove_missing {
            // Named in the input but rejected: neither kept as given nor removed.
            let named: std::collections::HashSet<String> =
                self.items.iter().filter_map(|i| i.built.as_ref().ok().map(|(p, _)| p.identity.clone())).collect();
            state.partners.values().filter(|p| !named.contains(&p.identity)).cloned().collect()
        } else {
            Vec::new()
        };
        ImportPlan {
            base_revision: state.seq,
            added,
            changed,
            removed,
            unchanged,
            rejected,
            remove_missing: self.options.remove_missing,
            committed_revision: None,
            warnings,
        }
    }
}

/// A rejection as shown to an admin: the input's text escaped as error messages are (a hostile
/// value cannot rewrite the terminal that shows the difference).
fn reject(position: usize, identity: Option<String>, e: &Error) -> Rejection {
    Rejection {
        position,
        identity: identity.map(|i| crate::ffi::printable(&i)),
        error_id: crate::ffi::error_id(e),
        reason: crate::ffi::printable(&e.to_string()),
    }
}

fn conflict(position: usize, claimant: &str, domain: &str, owner: &str, where_: &str) -> Rejection {
    Rejection {
        position,
        identity: Some(claimant.to_owned()),
        error_id: "DomainConflict",
        reason: format!("domain '{domain}' of '{claimant}' is also claimed by allowed partner '{owner}' ({where_}); one domain belongs to one partner"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::Record;

    fn state(partners: &[Partner]) -> State {
        let mut s = State::default();
        for (i, p) in partners.iter().enumerate() {
            s.apply(Record::put(i as u64 + 1, Partner { revision: i as u64 + 1, ..p.clone() }));
        }
        s
    }

    fn partner(id: &str, extra: &[&str]) -> Partner {
        Partner { additional_domains: extra.iter().map(|s| s.to_string()).collect(), ..Partner::with_defaults(id.into()) }
    }

    #[test]
    fn export_round_trips_through_import_as_unchanged_in_both_formats() {
        let mut b = partner("b.com", &["x.b.com", "y.b.com"]);
        b.description = "quote \" comma , newline\nend".into();
        let s = state(&[partner("a.com", &[]), b]);
        for format in [Format::Json, Format::Csv] {
            let text = export(s.partners.values(), format);
            let plan = ImportInput::read(&text, ImportOptions { format, remove_missing: true, ..Default::default() }).unwrap().plan(&s, 3);
            assert_eq!(plan.unchanged, vec!["a.com", "b.com"], "{format:?}: {text}");
            assert_eq!(plan.change_count() + plan.rejected.len(), 0, "{format:?}: {plan:?}");
        }
        let json = export(s.partners.values(), Format::Json);
        assert!(json.starts_with("[\n  {\"Identity\":\"a.com\",\"Domain\":\"a.com\",\"AdditionalDomains\":[]"), "{json}");
        assert!(!json.contains("Revision"));
        assert!(export(s.partners.values(), Format::Csv).contains("b.com,b.com,x.b.com;y.b.com,"));
    }

    #[test]
    fn the_difference_names_added_changed_removed_and_rejected() {
        let s = state(&[partner("keep.com", &["k.org"]), partner("change.com", &[]), partner("gone.com", &["g.org"])]);
        let input = r#"[
            {"Identity":"keep.com","AdditionalDomains":"k.org"},
            {"Identity":"change.com","ConnectionLimit":"40","Revision":7,"Notes":"x"},
            {"Identity":"new.com"},
            {"Identity":"bad domain"},
            {"Identity":"new.com"},
            {"Identity":"grab.com","AdditionalDomains":["g.org"]}
        ]"#;
        let plan = ImportInput::read(input, ImportOptions::default()).unwrap().plan(&s, 4);
        assert_eq!(plan.unchanged, vec!["keep.com"]);
        assert_eq!(plan.added.iter().map(|p| (p.identity.as_str(), p.revision)).collect::<Vec<_>>(), vec![("new.com", 4)]);
        assert_eq!(plan.changed.len(), 1);
        assert_eq!((plan.changed[0].changes[0].property, plan.changed[0].changes[0].new.as_deref()), ("ConnectionLimit", Some("40")));
        assert!(plan.removed.is_empty(), "nothing is removed without RemoveMissing");
        // grab.com claims a domain of gone.com, which a merge leaves in place.
        let rejected: Vec<_> = plan.rejected.iter().map(|r| (r.position, r.error_id)).collect();
        assert_eq!(rejected, vec![(4, "InvalidDomain"), (5, "DuplicateIdentity"), (6, "DomainConflict")]);
        assert!(plan.warnings.iter().any(|w| w.id == "PropertyIgnored" && w.message.contains("'Notes'")));
        let negotiation = ImportInput::read(r#"[{"Identity":"tls.com","TlsNegotiation":"Optional"}]"#, ImportOptions::default()).unwrap().plan(&s, 4);
        let messages: Vec<&str> = negotiation.warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(matches!(&messages[..], [m] if m.starts_with("tls.com: SaslNegotiation is Required") && !m.contains("tls.com: tls.com")), "{messages:?}");

        // Made equal to the input, gone.com goes and its domain is free for grab.com.
        let mirror = ImportInput::read(input, ImportOptions { remove_missing: true, ..Default::default() }).unwrap().plan(&s, 4);
        assert_eq!(mirror.removed.iter().map(|p| p.identity.as_str()).collect::<Vec<_>>(), vec!["gone.com"]);
        assert_eq!(mirror.rejected.iter().map(|r| r.position).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(mirror.added.len(), 2);

        // Two items claiming one domain: both are rejected.
        let twice = r#"[{"Identity":"a.com","AdditionalDomains":"x.org"},{"Identity":"b.com","AdditionalDomains":"x.org"}]"#;
        let plan = ImportInput::read(twice, ImportOptions::default()).unwrap().plan(&s, 4);
        assert_eq!(plan.rejected.iter().map(|r| (r.position, r.error_id)).collect::<Vec<_>>(), vec![(1, "DomainConflict"), (2, "DomainConflict")]);
    }

    #[test]
    fn a_domain_may_move_between_partners_within_one_import() {
        let s = state(&[partner("a.com", &["moving.org"]), partner("b.com", &[])]);
        let input = r#"[{"Identity":"a.com"},{"Identity":"b.com","AdditionalDomains":["moving.org"]}]"#;
        let plan = ImportInput::read(input, ImportOptions::default()).unwrap().plan(&s, 3);
        assert!(plan.rejected.is_empty(), "{:?}", plan.rejected);
        assert_eq!(plan.changed.len(), 2);
    }

    #[test]
    fn the_format_is_one_rule_for_export_and_import() {
        assert_eq!("csv".parse::<Format>(), Ok(Format::Csv));
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        assert_eq!("xml".parse::<Format>(), Err("'xml' is not a valid Format; valid values: Json, Csv".to_string()));
        let options: ImportOptions = crate::json::parse_object(r#"{"Format":"cSv","RemoveMissing":true}"#).unwrap();
        assert_eq!((options.format, options.remove_missing), (Format::Csv, true));
        for (text, mentions) in [(r#"{"Format":"xml"}"#, "'xml' is not a valid Format"), (r#"{"Format":null}"#, "null")] {
            match crate::json::parse_object::<ImportOptions>(text) {
                Err(Error::JsonShape(m)) => assert!(m.contains(mentions), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_input_as_a_whole_is_an_error_and_bad_values_are_rejections() {
        assert!(matches!(ImportInput::read("{}", ImportOptions::default()), Err(Error::JsonShape(_))));
        assert!(matches!(ImportInput::read("[1]", ImportOptions::default()), Err(Error::JsonShape(_))));
        assert!(matches!(ImportInput::read("[", ImportOptions::default()), Err(Error::JsonSyntax(_))));
        let csv = ImportOptions { format: Format::Csv, ..Default::default() };
        assert!(ImportInput::read("Identity,Description\na.com\n", csv.clone()).is_err());
        for empty in ["", "\u{feff}", "\r\n\n", "Name,Value\n", "Name,Value\nx,y\n"] {
            assert!(matches!(ImportInput::read(empty, csv.clone()), Err(Error::InvalidValue { .. })), "{empty:?}");
        }
        let header_only = ImportInput::read("identity,ConnectionLimit\r\n", csv.clone()).unwrap().plan(&State::default(), 1);
        assert_eq!(header_only.change_count() + header_only.rejected.len(), 0);
        let plan = ImportInput::read("Identity,EnableKeepAlive,ConnectionLimit\na.com,maybe,3\nb.com,false,x\nc.com,,\n", csv).unwrap().plan(&State::default(), 1);
        assert_eq!(plan.rejected.iter().map(|r| (r.position, r.error_id)).collect::<Vec<_>>(), vec![(2, "InvalidValue"), (3, "InvalidValue")]);
        // Named by the partner they describe, though the bad column comes first.
        assert_eq!(plan.rejected.iter().map(|r| r.identity.as_deref()).collect::<Vec<_>>(), vec![Some("a.com"), Some("b.com")]);
        let by_domain = ImportInput::read(r#"[{"domain":"d.com","ConnectionLimit":"x"},{"Identity":"","ConnectionLimit":0}]"#, ImportOptions::default()).unwrap().plan(&State::default(), 1);
        assert_eq!(by_domain.rejected.iter().map(|r| r.identity.as_deref()).collect::<Vec<_>>(), vec![Some("d.com"), None]);
        assert_eq!(plan.added.len(), 1);
        assert_eq!(plan.added[0].connection_limit, crate::model::DEFAULT_CONNECTION_LIMIT);
    }

    #[test]
    fn negotiation_warnings_name_the_partner_once_and_only_for_settings_the_import_chooses() {
        let s = state(&[partner("same.com", &[]), partner("optional.com", &[])]);
        // An export of the store (every property stated, the defaults among them) warns of nothing.
        let text = export(s.partners.values(), Format::Json);
        let plan = ImportInput::read(&text, ImportOptions::default()).unwrap().plan(&s, 3);
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        // Added with New's defaults stated: none; changed without touching negotiation: none;
        // negotiation changed, or added with other settings: the warning, naming the partner once.
        let input = r#"[
            {"Identity":"same.com","Description":"only this","TlsNegotiation":"Required","SaslNegotiation":"Required","SupportDialbackNegotiation":"true"},
            {"Identity":"optional.com","TlsNegotiation":"Optional","SaslNegotiation":"Optional"},
            {"Identity":"default.com","TlsNegotiation":"Required","SaslNegotiation":"Required","SupportDialbackNegotiation":true},
            {"Identity":"new.com","SaslNegotiation":"Optional","TlsNegotiation":"Optional"}
        ]"#;
        let plan = ImportInput::read(input, ImportOptions::default()).unwrap().plan(&s, 3);
        let warned: Vec<_> = plan.warnings.iter().map(|w| (w.id, w.message.as_str())).collect();
        assert_eq!(warned.len(), 2, "{warned:?}");
        for (w, identity) in warned.iter().zip(["new.com", "optional.com"]) {
            assert_eq!(w.0, crate::negotiation::SASL_WITHOUT_REQUIRED_TLS);
            assert!(w.1.starts_with(&format!("{identity}: SaslNegotiation")), "{}", w.1);
            assert_eq!(w.1.matches(identity).count(), 1, "{}", w.1);
        }
    }

    #[test]
    fn numbers_and_booleans_stand_for_their_text_and_a_wrong_value_names_its_property() {
        let input = r#"[
            {"Identity":"a.com","Description":5,"ConnectionLimit":40,"EnableKeepAlive":false,"SupportDialbackNegotiation":1},
            {"Identity":"b.com","PartnerType":2},
            {"Identity":"c.com","ConnectionLimit":true},
            {"Identity":"d.com","TlsNegotiation":["Required"]},
            {"Identity":7}
        ]"#;
        let plan = ImportInput::read(input, ImportOptions::default()).unwrap().plan(&State::default(), 1);
        // The rejections name their partner, whichever property comes first.
        assert_eq!(plan.rejected.iter().map(|r| r.identity.as_deref()).collect::<Vec<_>>(), vec![Some("b.com"), Some("c.com"), Some("d.com"), Some("7")]);
        let a = &plan.added[0];
        assert_eq!((a.description.as_str(), a.connection_limit, a.enable_keep_alive, a.support_dialback_negotiation), ("5", 40, false, true));
        let rejected: Vec<_> = plan.rejected.iter().map(|r| (r.position, r.error_id, r.reason.as_str())).collect();
        assert_eq!(rejected[0], (2, "InvalidValue", "PartnerType: '2' is not a valid PartnerType; valid values: Federated, PublicVerified, PublicUnverified"));
        assert_eq!(rejected[1], (3, "InvalidValue", "ConnectionLimit: 'true' is not a whole number from 1 to 4294967295"));
        assert_eq!((rejected[2].0, rejected[2].1), (4, "InvalidValue"));
        assert!(rejected[2].2.starts_with("TlsNegotiation: "), "{}", rejected[2].2);
        assert_eq!((rejected[3].0, rejected[3].1), (5, "InvalidDomain"));
    }
}
