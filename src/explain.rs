//! Explaining a remote domain (`Test-CsXmppAllowedPartner`, `xmppfed_partner_explain`): whether
//! the list allows it, by which partner and how, the negotiation methods a stream with it tries,
//! and the near misses that make an admin think a domain is allowed when it is not.
//!
//! Decisions (ours):
//! - The input is validated and canonicalised as New's `-Domain` is, with the same errors; the
//!   A-label and U-label forms of a name are one domain, so either form finds the partner.
//! - A domain is allowed only if a partner claims exactly it, as its primary domain or an
//!   additional domain. Subdomains are never covered implicitly.
//! - The methods come from [`negotiation::methods`]; the warnings are those of the partner's
//!   combination ([`negotiation::check`] as for settings the admin chose: this is an explanation,
//!   so the defaults' DialbackNotUsed is stated too).
//! - Near misses of a domain that is not allowed, as hints: every ancestor domain that a partner
//!   claims (nearest first), domains of partners below it (a parent is not covered by its
//!   subdomains either; at most [`MAX_SUBDOMAIN_HINTS`], sorted), and a partner's ProxyFqdn (a
//!   server name, not a domain of the partner). Siblings (`eu.` when `us.` is claimed) are not
//!   hinted: sharing a parent says nothing about belonging to one partner.
//!   Finding subdomains and proxies reads every partner, so a domain that is not allowed costs
//!   O(partners); an allowed one costs a few map lookups.

use serde::Serialize;

use crate::domain;
use crate::error::Result;
use crate::model::{canonical_domain, Partner, PartnerType, SaslNegotiation, TlsNegotiation};
use crate::negotiation::{self, Choice, Method, Warning};
use crate::store::state::State;

/// At most this many hints about partners' domains below the explained one.
pub const MAX_SUBDOMAIN_HINTS: usize = 10;

pub const HINT_SUBDOMAIN_OF_PARTNER: &str = "SubdomainOfPartnerDomain";
pub const HINT_PARENT_OF_PARTNER: &str = "ParentOfPartnerDomain";
pub const HINT_PROXY_OF_PARTNER: &str = "ProxyFqdnOfPartner";
pub const HINT_OTHER_FORM: &str = "SameDomainOtherForm";

/// How a partner covers the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Coverage {
    /// The partner's Identity (primary domain).
    PrimaryDomain,
    /// One of the partner's AdditionalDomains.
    AdditionalDomain,
    /// No partner claims the domain.
    NotCovered,
}

/// A near miss, or a note on the form of the name, with a stable id for callers to key on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Hint {
    pub id: &'static str,
    pub message: String,
    /// The partner the hint is about, if any.
    pub partner: Option<String>,
    /// The command that would allow the domain through that partner, if there is one.
    pub fix: Option<String>,
}

/// What the list says about one remote domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Explanation {
    /// The domain as given.
    pub input: String,
    /// The canonical domain (lowercase, U-labels), as the list stores domains.
    pub domain: String,
    /// The same domain in A-label (ASCII) form, as DNS and certificates spell it.
    pub ascii_domain: String,
    pub allowed: bool,
    /// The Identity of the partner that claims the domain.
    pub partner: Option<String>,
    pub covered_as: Coverage,
    /// The partner's settings (absent when the domain is not allowed).
    pub partner_type: Option<PartnerType>,
    pub tls_negotiation: Option<TlsNegotiation>,
    pub sasl_negotiation: Option<SaslNegotiation>,
    pub support_dialback_negotiation: Option<bool>,
    /// The methods a stream with the domain tries, in order; empty if none can succeed.
    pub methods: Vec<Method>,
    /// Why no method can succeed, when `methods` is empty.
    pub no_method_reason: Option<String>,
    /// The warnings of the partner's negotiation combination.
    pub warnings: Vec<Warning>,
    pub hints: Vec<Hint>,
    /// One sentence saying all of the above.
    pub summary: String,
    /// The store revision the answer was read at.
    pub store_revision: u64,
}

/// Validate `input` as a domain, with New's `-Domain` errors, before any store is read.
pub fn canonical_input(input: &str) -> Result<String> {
    canonical_domain("Domain", input)
}

/// Explain `input`, already canonical as `domain` (see [`canonical_input`]), against `state`.
pub(crate) fn explain(input: &str, domain: String, state: &State) -> Explanation {
    let ascii_domain = domain::to_ascii(&domain);
    let mut hints = Vec::new();
    let owner = state.owner_of(&domain);
    if ascii_domain != domain {
        hints.push(other_form_hint(&domain, &ascii_domain, owner));
    }
    let Some(partner) = owner else {
        hints.extend(near_misses(&domain, state));
        let summary = format!(
            "{domain} is not allowed: no partner claims it{}",
            if hints.iter().any(|h| h.partner.is_some()) { " (see Hints for near misses)" } else { "" }
        );
        return Explanation {
            input: input.to_owned(),
            domain: domain.clone(),
            ascii_domain,
            allowed: false,
            partner: None,
            covered_as: Coverage::NotCovered,
            partner_type: None,
            tls_negotiation: None,
            sasl_negotiation: None,
            support_dialback_negotiation: None,
            methods: Vec::new(),
            no_method_reason: Some(format!("{domain} is not on the allowed-partner list, so streams with it are refused")),
            warnings: Vec::new(),
            hints,
            summary,
            store_revision: state.seq,
        };
    };

    let covered_as = if partner.identity == domain { Coverage::PrimaryDomain } else { Coverage::AdditionalDomain };
    let how = match covered_as {
        Coverage::PrimaryDomain => format!("the primary domain of partner {}", partner.identity),
        _ => format!("an additional domain of partner {}", partner.identity),
    };
    let (methods, no_method_reason) = match negotiation::methods(partner) {
        Ok(m) => (m, None),
        Err(reason) => (Vec::new(), Some(reason)),
    };
    // A stored partner's combination is valid, so check() only words its warnings.
    let warnings = negotiation::check(partner, Choice::Chosen).unwrap_or_default();
    let tried = match &no_method_reason {
        None => format!("tried in order: {}", methods.iter().map(|m| m.describe()).collect::<Vec<_>>().join(", then ")),
        Some(reason) => format!("but no method can succeed: {reason}"),
    };
    Explanation {
        input: input.to_owned(),
        summary: format!("{domain} is allowed as {how}; {tried}"),
        domain,
        ascii_domain,
        allowed: true,
        partner: Some(partner.identity.clone()),
        covered_as,
        partner_type: Some(partner.partner_type),
        tls_negotiation: Some(partner.tls_negotiation),
        sasl_negotiation: Some(partner.sasl_negotiation),
        support_dialback_negotiation: Some(partner.support_dialback_negotiation),
        methods,
        no_method_reason,
        warnings,
        hints,
        store_revision: state.seq,
    }
}

fn other_form_hint(domain: &str, ascii: &str, owner: Option<&Partner>) -> Hint {
    let whose = owner.map_or(String::new(), |p| format!("; partner {} covers both", p.identity));
    Hint {
        id: HINT_OTHER_FORM,
        message: format!("{ascii} is the A-label (ASCII) form of {domain}: the same domain in either form{whose}"),
        partner: owner.map(|p| p.identity.clone()),
        fix: None,
    }
}

/// How `partner` claims `claimed`, in words.
fn claim(partner: &Partner, claimed: &str) -> String {
    if partner.identity == claimed {
        format!("the primary domain of partner {}", partner.identity)
    } else {
        format!("an additional domain of partner {}", partner.identity)
    }
}

fn add_command(partner: &Partner, domain: &str) -> String {
    format!("Set-CsXmppAllowedPartner -Identity {} -AdditionalDomains @{{Add='{domain}'}}", partner.identity)
}

/// The near misses of a domain no partner claims.
fn near_misses(domain: &str, state: &State) -> Vec<Hint> {
    let mut hints = Vec::new();
    // Ancestors with at least two labels, nearest first: a.b.example.com -> b.example.com, example.com.
    let mut rest = domain;
    while let Some((_, parent)) = rest.split_once('.') {
        if !parent.contains('.') {
            break;
        }
        if let Some(p) = state.owner_of(parent) {
            hints.push(Hint {
                id: HINT_SUBDOMAIN_OF_PARTNER,
                message: format!(
                    "{domain} is a subdomain of {parent}, {}; subdomains are not covered implicitly. If it belongs to that partner, add it: {}",
                    claim(p, parent),
                    add_command(p, domain)
                ),
                partner: Some(p.identity.clone()),
                fix: Some(add_command(p, domain)),
            });
        }
        rest = parent;
    }

    let suffix = format!(".{domain}");
    let mut below: Vec<(&str, &Partner)> = Vec::new();
    let mut proxies: Vec<&Partner> = Vec::new();
    for p in state.partners.values() {
        below.extend(p.claimed_domains().filter(|d| d.ends_with(&suffix)).map(|d| (d, p)));
        if p.proxy_fqdn == domain {
            proxies.push(p);
        }
    }
    below.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let total = below.len();
    for (i, (child, p)) in below.into_iter().take(MAX_SUBDOMAIN_HINTS).enumerate() {
        let more = if i + 1 == MAX_SUBDOMAIN_HINTS && total > MAX_SUBDOMAIN_HINTS {
            format!(" ({} more subdomains of {domain} are claimed; the first {MAX_SUBDOMAIN_HINTS} are shown)", total - MAX_SUBDOMAIN_HINTS)
        } else {
            String::new()
        };
        hints.push(Hint {
            id: HINT_PARENT_OF_PARTNER,
            message: format!(
                "{child} is {}, but a domain does not cover its parent {domain}. If {domain} belongs to that partner, add it: {}{more}",
                claim(p, child),
                add_command(p, domain)
            ),
            partner: Some(p.identity.clone()),
            fix: Some(add_command(p, domain)),
        });
    }
    for p in proxies {
        hints.push(Hint {
            id: HINT_PROXY_OF_PARTNER,
            message: format!(
                "{domain} is the ProxyFqdn of partner {} (the server its connections go through), not one of its domains; a proxy's name is not covered",
                p.identity
            ),
            partner: Some(p.identity.clone()),
            fix: None,
        });
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::model::{SaslNegotiation as S, TlsNegotiation as T};
    use crate::store::log::Record;

    fn state(partners: Vec<Partner>) -> State {
        let mut s = State::default();
        for (i, p) in partners.into_iter().enumerate() {
            s.apply(Record::put(i as u64 + 1, p));
        }
        s
    }

    fn partner(id: &str, extra: &[&str]) -> Partner {
        Partner { additional_domains: extra.iter().map(|d| d.to_string()).collect(), ..Partner::with_defaults(id.into()) }
    }

    fn explain_in(s: &State, input: &str) -> Explanation {
        explain(input, canonical_input(input).unwrap(), s)
    }

    fn ids(e: &Explanation) -> Vec<&str> {
        e.hints.iter().map(|h| h.id).collect()
    }

    #[test]
    fn a_primary_domain_is_allowed_with_the_partners_methods_and_warnings() {
        let s = state(vec![partner("contoso.com", &[])]);
        let e = explain_in(&s, "Contoso.COM.");
        assert_eq!((e.input.as_str(), e.domain.as_str(), e.allowed), ("Contoso.COM.", "contoso.com", true));
        assert_eq!((e.partner.as_deref(), e.covered_as), (Some("contoso.com"), Coverage::PrimaryDomain));
        assert_eq!((e.tls_negotiation, e.sasl_negotiation, e.support_dialback_negotiation), (Some(T::Required), Some(S::Required), Some(true)));
        assert_eq!(e.methods, vec![Method::SaslOverTls]);
        assert_eq!(e.no_method_reason, None);
        // The defaults' combination: dialback will not be used, and the explanation says so.
        assert_eq!(e.warnings.iter().map(|w| w.id).collect::<Vec<_>>(), vec![negotiation::DIALBACK_UNUSED]);
        assert!(e.hints.is_empty());
        assert_eq!(e.summary, "contoso.com is allowed as the primary domain of partner contoso.com; tried in order: SASL EXTERNAL over TLS");
        assert_eq!(e.store_revision, 1);
    }

    #[test]
    fn an_additional_domain_is_allowed_through_its_partner() {
        let mut p = partner("fabrikam.com", &["research.fabrikam2.com"]);
        p.tls_negotiation = T::Optional;
        p.sasl_negotiation = S::Optional;
        let s = state(vec![p, partner("contoso.com", &[])]);
        let e = explain_in(&s, "research.fabrikam2.com");
        assert!(e.allowed);
        assert_eq!((e.partner.as_deref(), e.covered_as), (Some("fabrikam.com"), Coverage::AdditionalDomain));
        assert_eq!(e.methods, vec![Method::SaslOverTls, Method::TlsDialback, Method::TcpDialback]);
        assert_eq!(e.warnings.iter().map(|w| w.id).collect::<Vec<_>>(), vec![negotiation::SASL_WITHOUT_REQUIRED_TLS]);
        assert!(e.summary.contains("an additional domain of partner fabrikam.com") && e.summary.contains("then dialback over TCP without TLS"), "{}", e.summary);
    }

    #[test]
    fn a_subdomain_is_not_covered_and_the_hint_names_the_partner_and_the_fix() {
        let s = state(vec![partner("fabrikam.com", &["fabrikam2.com"]), partner("eu.fabrikam2.com", &[])]);
        let e = explain_in(&s, "chat.eu.fabrikam2.com");
        assert!(!e.allowed);
        assert_eq!((e.partner.as_deref(), e.covered_as, e.methods.len()), (None, Coverage::NotCovered, 0));
        assert!(e.no_method_reason.as_deref().unwrap().contains("not on the allowed-partner list"));
        // Nearest ancestor first: eu.fabrikam2.com (a partner of its own), then fabrikam2.com (fabrikam.com's).
        assert_eq!(ids(&e), vec![HINT_SUBDOMAIN_OF_PARTNER, HINT_SUBDOMAIN_OF_PARTNER]);
        assert_eq!(e.hints[0].partner.as_deref(), Some("eu.fabrikam2.com"));
        assert_eq!(e.hints[1].partner.as_deref(), Some("fabrikam.com"));
        assert_eq!(e.hints[1].fix.as_deref(), Some("Set-CsXmppAllowedPartner -Identity fabrikam.com -AdditionalDomains @{Add='chat.eu.fabrikam2.com'}"));
        assert!(e.hints[1].message.contains("an additional domain of partner fabrikam.com") && e.hints[1].message.contains("not covered implicitly"), "{}", e.hints[1].message);
        assert!(e.summary.starts_with("chat.eu.fabrikam2.com is not allowed") && e.summary.contains("near misses"), "{}", e.summary);
    }

    #[test]
    fn a_parent_of_partner_domains_is_not_covered_either() {
        let s = state(vec![partner("chat.example.org", &[]), partner("other.com", &["im.example.org"]), partner("example.net", &[])]);
        let e = explain_in(&s, "example.org");
        assert!(!e.allowed);
        assert_eq!(ids(&e), vec![HINT_PARENT_OF_PARTNER, HINT_PARENT_OF_PARTNER]);
        assert_eq!(e.hints[0].partner.as_deref(), Some("chat.example.org"));
        assert_eq!(e.hints[1].partner.as_deref(), Some("other.com"));
        assert!(e.hints[1].message.starts_with("im.example.org is an additional domain of partner other.com"), "{}", e.hints[1].message);
        // A name that merely ends the same way is not a subdomain.
        let e = explain_in(&s, "ample.org");
        assert!(e.hints.is_empty(), "{:?}", e.hints);
    }

    #[test]
    fn subdomain_hints_are_capped_and_say_how_many_more() {
        let partners = (0..MAX_SUBDOMAIN_HINTS + 3).map(|i| partner(&format!("s{i:02}.example.org"), &[])).collect();
        let e = explain_in(&state(partners), "example.org");
        assert_eq!(e.hints.len(), MAX_SUBDOMAIN_HINTS);
        assert!(e.hints[0].message.starts_with("s00.example.org"));
        assert!(e.hints.last().unwrap().message.contains("3 more subdomains of example.org are claimed"), "{}", e.hints.last().unwrap().message);
    }

    #[test]
    fn a_partners_proxy_is_not_one_of_its_domains() {
        let mut p = partner("contoso.com", &[]);
        p.proxy_fqdn = "proxy.contoso.net".into();
        let e = explain_in(&state(vec![p]), "PROXY.contoso.net");
        assert_eq!(ids(&e), vec![HINT_PROXY_OF_PARTNER]);
        assert_eq!((e.hints[0].partner.as_deref(), e.hints[0].fix.as_deref()), (Some("contoso.com"), None));
    }

    #[test]
    fn a_label_and_u_label_forms_are_the_same_partner() {
        let s = state(vec![partner("bücher.example", &[])]);
        for input in ["xn--bcher-kva.example", "BÜCHER.example.", "bücher.example"] {
            let e = explain_in(&s, input);
            assert!(e.allowed, "{input}");
            assert_eq!((e.domain.as_str(), e.ascii_domain.as_str()), ("bücher.example", "xn--bcher-kva.example"));
            assert_eq!((e.partner.as_deref(), e.covered_as), (Some("bücher.example"), Coverage::PrimaryDomain));
            assert_eq!(ids(&e), vec![HINT_OTHER_FORM]);
            assert!(e.hints[0].message.contains("partner bücher.example covers both"), "{}", e.hints[0].message);
        }
        // Not allowed: the form note comes first, then the near misses.
        let e = explain_in(&s, "xn--caf-dma.bücher.example");
        assert_eq!(e.domain, "café.bücher.example");
        assert_eq!(ids(&e), vec![HINT_OTHER_FORM, HINT_SUBDOMAIN_OF_PARTNER]);
        assert_eq!(e.hints[0].partner, None);
    }

    /// 100,000 partners: a domain that is not allowed reads them all for near misses (printed
    /// with --nocapture); an allowed one is a lookup. Correctness is asserted, not timing.
    #[test]
    fn near_misses_among_100000_partners() {
        let mut partners: Vec<Partner> = (0..100_000).map(|i| partner(&format!("p{i:06}.example.org"), &[])).collect();
        partners.push(partner("deep.example.net", &["x.y.example.org"]));
        let s = state(partners);
        let started = std::time::Instant::now();
        let e = explain_in(&s, "y.example.org");
        let not_allowed = started.elapsed();
        assert_eq!(ids(&e), vec![HINT_PARENT_OF_PARTNER]);
        assert_eq!(e.hints[0].partner.as_deref(), Some("deep.example.net"));
        let e = explain_in(&s, "example.org");
        assert_eq!(e.hints.len(), MAX_SUBDOMAIN_HINTS);
        assert!(e.hints.last().unwrap().message.contains("99991 more subdomains"), "{}", e.hints.last().unwrap().message);
        let started = std::time::Instant::now();
        assert!(explain_in(&s, "p099999.example.org").allowed);
        println!("100,000 partners: not allowed {not_allowed:?}, allowed {:?}", started.elapsed());
    }

    #[test]
    fn an_unknown_domain_in_an_empty_list_has_no_hints() {
        let e = explain_in(&State::default(), "example.com");
        assert!(!e.allowed && e.hints.is_empty() && e.warnings.is_empty());
        assert_eq!(e.summary, "example.com is not allowed: no partner claims it");
        assert_eq!(e.store_revision, 0);
    }

    #[test]
    fn invalid_input_gets_news_domain_errors() {
        for bad in ["", "contoso", "*.contoso.com", "10.0.0.1", "con toso.com", "a..com"] {
            let err = canonical_input(bad).unwrap_err();
            let Error::InvalidDomain { field, ref value, .. } = err else { panic!("{bad}: {err}") };
            assert_eq!((field, value.as_str()), ("Domain", bad));
            // The same text as New -Domain gives.
            let new = crate::model::NewPartner { domain: Some(bad.into()), ..Default::default() }.build().unwrap_err();
            assert_eq!(err.to_string(), new.to_string());
        }
    }
}
