//! The in-memory picture of a store: partners sorted by identity, and which partner owns each
//! domain (one domain, one partner). Updated record by record, so keeping up with a log costs
//! only the new records.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::log::{Change, Record};
use crate::error::{Error, Result};
use crate::model::Partner;
use crate::wildcard::WildcardPattern;

#[derive(Debug, Default, Clone)]
pub struct State {
    pub partners: Partners,
    owners: HashMap<String, String>,
    /// The last commit applied.
    pub seq: u64,
    /// Change records in the log since its last rewrite (drives compaction).
    pub records: u64,
}

impl State {
    /// Apply one log line: every change of a commit, in order (an import removes partners before
    /// it gives their domains to others). `records` counts changes, so that compaction follows
    /// the log's size.
    pub fn apply(&mut self, record: Record) {
        let count = record.changes.len() as u64;
        for change in record.changes {
            match change {
                Change::Put(partner) => {
                    self.release(&partner.identity);
                    for d in partner.claimed_domains() {
                        self.owners.insert(d.to_owned(), partner.identity.clone());
                    }
                    self.partners.insert(partner);
                }
                Change::Remove(identity) => self.release(&identity),
            }
        }
        self.seq = self.seq.max(record.seq);
        self.records += count;
    }

    /// Forget `identity` and the domains it owns. Only domains it still owns: within one commit
    /// (an import) a domain may have moved to a partner written before this one.
    fn release(&mut self, identity: &str) {
        if let Some(old) = self.partners.remove(identity) {
            for d in old.claimed_domains() {
                if self.owners.get(d).map_or(false, |owner| owner == identity) {
                    self.owners.remove(d);
                }
            }
        }
    }

    /// The partner that claims `domain` (canonical) as its primary or an additional domain.
    pub fn owner_of(&self, domain: &str) -> Option<&Partner> {
        self.owners.get(domain).and_then(|identity| self.partners.get(identity))
    }

    /// One domain belongs to one partner: refuse `partner` if another partner claims any of its domains.
    pub fn check_conflicts(&self, partner: &Partner) -> Result<()> {
        for d in partner.claimed_domains() {
            if let Some(owner) = self.owners.get(d) {
                if owner != &partner.identity {
                    return Err(Error::DomainConflict { domain: d.to_owned(), owner: owner.clone() });
                }
            }
        }
        Ok(())
    }
}

/// The partners by identity: in order for lists, exports and completion, and hashed for the
/// lookups of Get and of every write. A sorted map alone costs a lookup one string comparison
/// per level of the tree, each a cache miss once the caller's own work has evicted the tree
/// (`perf` of a PowerShell Get loop at 10,000 partners: about 1 µs of each call). Both maps share
/// each identity and each partner.
#[derive(Debug, Default, Clone)]
pub struct Partners {
    sorted: BTreeMap<Arc<str>, Arc<Partner>>,
    by_identity: HashMap<Arc<str>, Arc<Partner>>,
}

impl Partners {
    pub fn get(&self, identity: &str) -> Option<&Partner> {
        self.by_identity.get(identity).map(|p| &**p)
    }

    pub fn contains_key(&self, identity: &str) -> bool {
        self.by_identity.contains_key(identity)
    }

    pub fn len(&self) -> usize {
        self.by_identity.len()
    }

    /// Every partner, sorted by identity.
    pub fn values(&self) -> impl Iterator<Item = &Partner> {
        self.sorted.values().map(|p| &**p)
    }

    /// The partners whose identity matches `pattern` (every partner for none), sorted by
    /// identity. A pattern that begins with literal characters reads only the identities that
    /// begin with them (a range of the sorted map: `-Filter 'contoso*'` costs the same with
    /// 100,000 partners as with 100), which is exact because identities are stored canonical,
    /// every character folded as the pattern folds them.
    pub fn matching<'a>(&'a self, pattern: Option<&'a WildcardPattern>) -> impl Iterator<Item = &'a Arc<Partner>> + 'a {
        let prefix = pattern.map(WildcardPattern::literal_prefix).unwrap_or_default();
        self.sorted
            .range::<str, _>((std::ops::Bound::Included(prefix.as_str()), std::ops::Bound::Unbounded))
            .take_while(move |(identity, _)| identity.starts_with(prefix.as_str()))
            .map(|(_, p)| p)
            .filter(move |p| pattern.map_or(true, |w| w.is_match(&p.identity)))
    }

    /// Every partner with its identity, sorted by identity.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Partner)> {
        self.sorted.iter().map(|(identity, p)| (&**identity, &**p))
    }

    /// The identities from `first` on, sorted (a range of the sorted map: O(log n) to start).
    pub fn identities_from<'a>(&'a self, first: &str) -> impl Iterator<Item = &'a str> {
        self.sorted.range::<str, _>((std::ops::Bound::Included(first), std::ops::Bound::Unbounded)).map(|(identity, _)| &**identity)
    }

    /// Put `partner` under its identity, replacing the partner there.
    fn insert(&mut self, partner: Partner) {
        let identity: Arc<str> = Arc::from(partner.identity.as_str());
        let partner = Arc::new(partner);
        self.sorted.insert(identity.clone(), partner.clone());
        self.by_identity.insert(identity, partner);
    }

    fn remove(&mut self, identity: &str) -> Option<Arc<Partner>> {
        self.sorted.remove(identity);
        self.by_identity.remove(identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(seq: u64, id: &str, extra: &[&str]) -> Record {
        let mut p = Partner::with_defaults(id.into());
        p.additional_domains = extra.iter().map(|s| s.to_string()).collect();
        p.revision = seq;
        Record::put(seq, p)
    }

    proptest::proptest! {
        /// Reading from the pattern's literal prefix in the sorted map lists exactly what
        /// matching every identity lists, for identities made canonical by the model.
        #[test]
        fn matching_from_the_literal_prefix_lists_what_a_scan_lists(
            names in proptest::collection::vec("[a-cA-C]{1,3}(\\.[a-cÜü]{1,2})?", 0..40),
            pattern in "[a-cA-CÜü.]{0,3}[*?]?(\\[[a-c]\\])?[a-c.]{0,2}\\*?",
        ) {
            let mut s = State::default();
            for (seq, name) in names.iter().enumerate() {
                if let Ok(partner) = (crate::model::NewPartner { identity: Some(name.clone()), ..Default::default() }).build() {
                    s.apply(Record::put(seq as u64 + 1, Partner { revision: seq as u64 + 1, ..partner.0 }));
                }
            }
            let w = WildcardPattern::parse(&pattern).unwrap();
            let ranged: Vec<&str> = s.partners.matching(Some(&w)).map(|p| p.identity.as_str()).collect();
            let scanned: Vec<&str> = s.partners.values().filter(|p| w.is_match(&p.identity)).map(|p| p.identity.as_str()).collect();
            proptest::prop_assert_eq!(ranged, scanned);
            proptest::prop_assert_eq!(s.partners.matching(None).count(), s.partners.len());
        }
    }

    #[test]
    fn ownership_follows_puts_and_removes() {
        let mut s = State::default();
        s.apply(put(1, "a.com", &["x.com"]));
        let rival = Partner { additional_domains: vec!["x.com".into()], ..Partner::with_defaults("b.com".into()) };
        assert!(matches!(s.check_conflicts(&rival), Err(Error::DomainConflict { ref domain, ref owner }) if domain == "x.com" && owner == "a.com"));
        // A partner may keep its own domains when it is rewritten.
        assert!(s.check_conflicts(&Partner { additional_domains: vec!["x.com".into()], ..Partner::with_defaults("a.com".into()) }).is_ok());
        // Dropping x.com from a.com frees it.
        s.apply(put(2, "a.com", &[]));
        assert!(s.check_conflicts(&rival).is_ok());
        // The primary domain of one partner cannot be another's additional domain.
        let grab = Partner { additional_domains: vec!["a.com".into()], ..Partner::with_defaults("c.com".into()) };
        assert!(s.check_conflicts(&grab).is_err());
        s.apply(Record { seq: 3, changes: vec![Change::Remove("a.com".into())], commit: None });
        assert!(s.check_conflicts(&grab).is_ok());
        assert_eq!((s.seq, s.records, s.partners.len()), (3, 3, 0));
    }

    #[test]
    fn a_domain_moved_within_one_commit_stays_owned_whatever_the_order_of_the_changes() {
        // b.com gives x.org to a.com in one commit, a.com written first: releasing b.com's old
        // record must not take x.org away from a.com.
        let mut s = State::default();
        s.apply(put(1, "a.com", &[]));
        s.apply(put(2, "b.com", &["x.org"]));
        let moved = |id: &str, extra: &[&str]| Partner { additional_domains: extra.iter().map(|d| d.to_string()).collect(), revision: 3, ..Partner::with_defaults(id.into()) };
        s.apply(Record { seq: 3, changes: vec![Change::Put(moved("a.com", &["x.org"])), Change::Put(moved("b.com", &[]))], commit: None });
        assert_eq!(s.owner_of("x.org").map(|p| p.identity.as_str()), Some("a.com"));
        let rival = Partner::with_defaults("x.org".into());
        assert!(matches!(s.check_conflicts(&rival), Err(Error::DomainConflict { ref owner, .. }) if owner == "a.com"));
        // And back, in the other order of the two changes.
        s.apply(Record { seq: 4, changes: vec![Change::Put(moved("b.com", &["x.org"])), Change::Put(moved("a.com", &[]))], commit: None });
        assert_eq!(s.owner_of("x.org").map(|p| p.identity.as_str()), Some("b.com"));
    }
}
