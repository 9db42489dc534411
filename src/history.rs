//! The change history (Get-CsXmppAllowedPartnerHistory): who changed which partner, when, how,
//! and what changed (property: old → new).
//!
//! Every commit records its details ([`crate::store::log::CommitDetails`]: UTC time, the OS user
//! and machine, the operation) and each changed partner before and after it. The store keeps the
//! changes of the newest [`RETAINED_COMMITS`] commits (each commit whole, an import with all its
//! partners): a folder store carries them over at compaction, a PostgreSQL store deletes older log
//! rows at each commit. Nothing in the product rewrites or deletes an entry otherwise.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Partner;
use crate::store::log::CommitDetails;
use crate::transfer::{property_texts, COLUMNS};
use crate::wildcard::WildcardPattern;

/// How many of the newest commits the history keeps (every change in each of them).
pub const RETAINED_COMMITS: u64 = 10_000;

/// What a commit was made by: the cmdlet (or C function) that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// New-CsXmppAllowedPartner (or Set -Instance of an object never stored).
    Create,
    Set,
    Remove,
    /// Import-CsXmppAllowedPartner: one commit holding every change of the import.
    Import,
}

/// One partner's change in one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryEntry {
    /// The commit's number: the partner's `Revision` after the change.
    pub revision: u64,
    #[serde(flatten)]
    pub details: CommitDetails,
    pub identity: String,
    /// The partner before the change; `None`: it did not exist (created).
    pub before: Option<Partner>,
    /// The partner after the change; `None`: it was removed.
    pub after: Option<Partner>,
}

/// One property that a change altered, as text (lists joined with `, `).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PropertyChange {
    pub property: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// An entry as Get-CsXmppAllowedPartnerHistory shows it: the entry with what changed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryView {
    #[serde(flatten)]
    pub entry: HistoryEntry,
    pub changes: Vec<PropertyChange>,
}

/// The properties that differ between `before` and `after`, in the order Get shows them (a
/// creation or removal lists every property, with the missing side `None`). Identity is left out:
/// a change never alters it.
pub fn property_changes(before: Option<&Partner>, after: Option<&Partner>) -> Vec<PropertyChange> {
    let texts = |p: &Partner| property_texts(p, ", ");
    let (old, new) = (before.map(texts), after.map(texts));
    COLUMNS
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, property)| {
            let o = old.as_ref().map(|o| o[i].clone());
            let n = new.as_ref().map(|n| n[i].clone());
            (o != n).then_some(PropertyChange { property, old: o, new: n })
        })
        .collect()
}

/// What to list: all of the store's history, or one partner's (a wildcard pattern on Identity),
/// in a time window, newest first, at most `first` entries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct HistoryQuery {
    pub identity: Option<String>,
    /// Only changes at or after this time (RFC 3339, UTC or with an offset).
    pub after: Option<String>,
    /// Only changes at or before this time.
    pub before: Option<String>,
    pub first: Option<u64>,
}

/// A query checked and ready to match entries.
pub struct Filter {
    identity: Option<WildcardPattern>,
    after: Option<i64>,
    before: Option<i64>,
    pub first: Option<u64>,
}

impl HistoryQuery {
    pub fn filter(&self) -> Result<Filter> {
        let identity = match &self.identity {
            None => None,
            Some(text) => Some(
                WildcardPattern::parse(text)
                    .map_err(|problem| Error::InvalidFilter { pattern: text.clone(), problem })?,
            ),
        };
        let time = |field: &'static str, text: &Option<String>| {
            text.as_deref().map(|t| parse_time(t).ok_or_else(|| Error::value(field, format!("'{t}' is not a date and time (RFC 3339, e.g. 2026-11-30T15:04:05Z)")))).transpose()
        };
        Ok(Filter { identity, after: time("After", &self.after)?, before: time("Before", &self.before)?, first: self.first })
    }
}

impl Filter {
    pub fn matches(&self, e: &HistoryEntry) -> bool {
        if let Some(w) = &self.identity {
            if !w.is_match(&e.identity) {
                return false;
            }
        }
        if self.after.is_none() && self.before.is_none() {
            return true;
        }
        let Some(at) = parse_time(&e.details.at) else { return false };
        self.after.map_or(true, |a| at >= a) && self.before.map_or(true, |b| at <= b)
    }
}

/// Newest first, filtered, with what changed.
pub fn view(mut entries: Vec<HistoryEntry>, filter: &Filter) -> Vec<HistoryView> {
    entries.retain(|e| filter.matches(e));
    // Stable: the changes of one commit keep their order.
    entries.sort_by(|a, b| b.revision.cmp(&a.revision));
    if let Some(n) = filter.first {
        entries.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    entries
        .into_iter()
        .map(|entry| HistoryView { changes: property_changes(entry.before.as_ref(), entry.after.as_ref()), entry })
        .collect()
}

/// Seconds since the Unix epoch of an RFC 3339 time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`);
/// fractions of a second are dropped.
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant), the inverse of the store's `utc_text`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_utc_and_with_offsets() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-11-30T15:04:05Z"), Some(1_796_051_045));
        assert_eq!(parse_time("2026-11-30T16:04:05.123+01:00"), Some(1_796_051_045));
        assert_eq!(parse_time("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in ["", "2026-11-30", "2026-13-01T00:00:00Z", "2026-11-30T15:04:05", "2026-11-30T15:04:05+0100", "２026-11-30T15:04:05Z"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn changes_list_only_what_differs_and_everything_on_create_and_remove() {
        let a = Partner::with_defaults("a.com".into());
        let b = Partner { description: "x".into(), additional_domains: vec!["b.com".into(), "c.com".into()], ..a.clone() };
        let changed = property_changes(Some(&a), Some(&b));
        assert_eq!(changed.len(), 2);
        assert_eq!((changed[0].property, changed[0].old.as_deref(), changed[0].new.as_deref()), ("AdditionalDomains", Some(""), Some("b.com, c.com")));
        assert_eq!((changed[1].property, changed[1].new.as_deref()), ("Description", Some("x")));
        assert!(property_changes(Some(&a), Some(&a)).is_empty());
        let created = property_changes(None, Some(&a));
        assert!(created.iter().all(|c| c.old.is_none()) && created.iter().any(|c| c.property == "ConnectionLimit"));
        assert!(property_changes(Some(&a), None).iter().all(|c| c.new.is_none()));
    }
}
