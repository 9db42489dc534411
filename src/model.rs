//! The allowed-partner model: properties, defaults, limits, and the two kinds of input that
//! build or change a partner (a [`NewPartner`] request and a [`PartnerChanges`] change set).
//!
//! Everything crosses the C ABI as JSON with PowerShell's property names (PascalCase), so the
//! serde attributes here ARE the wire format.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::domain;
use crate::error::{Error, Result};
use crate::list_modifier::ListModifier;
use crate::negotiation::{self, Choice, Warning};

/// Default of ConnectionLimit (ours: Lync's docs give none).
pub const DEFAULT_CONNECTION_LIMIT: u32 = 20;
/// Longest Description, in characters (ours).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Most additional domains one partner may have (ours: keeps one record bounded).
pub const MAX_ADDITIONAL_DOMAINS: usize = 1000;

/// Enums whose names are matched case-insensitively on input and always written in one casing.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? } default $default:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }
        }
        impl Default for $name {
            fn default() -> Self { $name::$default }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        format!("'{}' is not a valid {}; valid values: {}", s, stringify!($name), names.join(", "))
                    })
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(de::Error::custom)
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// Trust level of the partner.
    PartnerType { Federated, PublicVerified, PublicUnverified } default PublicUnverified
);
named_enum!(
    /// Whether TLS must, may or cannot be used on server-to-server streams.
    TlsNegotiation { Required, Optional, NotSupported } default Required
);
named_enum!(
    /// Whether SASL EXTERNAL (certificate authentication, which needs TLS) must, may or cannot be used.
    SaslNegotiation { Required, Optional, NotSupported } default Required
);

/// One allowed partner, always valid and canonical once built by this crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Partner {
    pub identity: String,
    pub domain: String,
    pub additional_domains: Vec<String>,
    pub description: String,
    pub proxy_fqdn: String,
    pub partner_type: PartnerType,
    pub tls_negotiation: TlsNegotiation,
    pub sasl_negotiation: SaslNegotiation,
    pub support_dialback_negotiation: bool,
    pub enable_keep_alive: bool,
    pub connection_limit: u32,
    /// The store revision at which this partner was last written; 0 for an object that was never
    /// stored (New -InMemory). Set -Instance uses it to refuse stale objects (ours: no lost updates).
    #[serde(default)]
    pub revision: u64,
}

impl Partner {
    /// A partner with every default of SPEC.md for an already canonical identity.
    pub fn with_defaults(identity: String) -> Partner {
        Partner {
            domain: identity.clone(),
            identity,
            additional_domains: Vec::new(),
            description: String::new(),
            proxy_fqdn: String::new(),
            partner_type: PartnerType::default(),
            tls_negotiation: TlsNegotiation::default(),
            sasl_negotiation: SaslNegotiation::default(),
            support_dialback_negotiation: true,
            enable_keep_alive: true,
            connection_limit: DEFAULT_CONNECTION_LIMIT,
            revision: 0,
        }
    }

    /// Every domain this partner claims: the primary first, then the additional ones.
    pub fn claimed_domains(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.identity.as_str()).chain(self.additional_domains.iter().map(String::as_str))
    }

    /// Re-validate a partner that came from outside (an instance for Set -Instance) and bring it
    /// to canonical form. Returns the negotiation warnings, as for a request that chose every
    /// setting (the whole object was given).
    pub fn normalize(&mut self) -> Result<Vec<Warning>> {
        let identity = canonical_domain("Identity", &self.identity)?;
        let domain = canonical_domain("Domain", &self.domain)?;
        if identity != domain {
            return Err(Error::value(
                "Domain",
                format!("Domain '{}' must equal Identity '{}'", self.domain, self.identity),
            ));
        }
        self.identity = identity;
        self.domain = domain;
        let additional = std::mem::take(&mut self.additional_domains);
        self.additional_domains = ListModifier::Replace(additional).apply(&[], &self.identity)?;
        self.finish(Choice::Chosen)
    }

    /// Validate the fields that are not the key, and the negotiation combination (warnings only
    /// for settings the request chose: see [`negotiation`]).
    fn finish(&mut self, choice: Choice) -> Result<Vec<Warning>> {
        self.description = check_description(&self.description)?;
        self.proxy_fqdn = if self.proxy_fqdn.is_empty() {
            String::new()
        } else {
            canonical_domain("ProxyFqdn", &self.proxy_fqdn)?
        };
        if self.connection_limit == 0 {
            return Err(Error::value("ConnectionLimit", "must be at least 1 (0 would block the partner; remove it instead)"));
        }
        negotiation::check(self, choice)
    }
}

/// The input of New: Identity or Domain (one is required), every other property optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct NewPartner {
    pub identity: Option<String>,
    pub domain: Option<String>,
    #[serde(default, deserialize_with = "ListModifier::deserialize_nullable")]
    pub additional_domains: Option<ListModifier>,
    pub description: Option<String>,
    pub proxy_fqdn: Option<String>,
    pub partner_type: Option<PartnerType>,
    pub tls_negotiation: Option<TlsNegotiation>,
    pub sasl_negotiation: Option<SaslNegotiation>,
    pub support_dialback_negotiation: Option<bool>,
    pub enable_keep_alive: Option<bool>,
    pub connection_limit: Option<u32>,
}

impl NewPartner {
    /// Build the partner with defaults for everything not given; returns it with its warnings.
    pub fn build(self) -> Result<(Partner, Vec<Warning>)> {
        let key = match (&self.identity, &self.domain) {
            (Some(i), Some(d)) => {
                let i = canonical_domain("Identity", i)?;
                if canonical_domain("Domain", d)? != i {
                    return Err(Error::value("Domain", "Identity and Domain name the same thing; give one of them"));
                }
                i
            }
            (Some(i), None) => canonical_domain("Identity", i)?,
            (None, Some(d)) => canonical_domain("Domain", d)?,
            (None, None) => return Err(Error::value("Identity", "an Identity or a Domain is required")),
        };
        let mut partner = Partner::with_defaults(key);
        let changes = PartnerChanges {
            additional_domains: self.additional_domains,
            description: self.description,
            proxy_fqdn: self.proxy_fqdn,
            partner_type: self.partner_type,
            tls_negotiation: self.tls_negotiation,
            sasl_negotiation: self.sasl_negotiation,
            support_dialback_negotiation: self.support_dialback_negotiation,
            enable_keep_alive: self.enable_keep_alive,
            connection_limit: self.connection_limit,
        };
        let warnings = changes.apply_to(&mut partner)?;
        Ok((partner, warnings))
    }
}

/// The input of Set -Identity: the properties to change; absent fields stay as they are.
/// `AdditionalDomains` takes a list (replace), `null` (clear) or a list modifier object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PartnerChanges {
    #[serde(default, deserialize_with = "ListModifier::deserialize_nullable")]
    pub additional_domains: Option<ListModifier>,
    pub description: Option<String>,
    pub proxy_fqdn: Option<String>,
    pub partner_type: Option<PartnerType>,
    pub tls_negotiation: Option<TlsNegotiation>,
    pub sasl_negotiation: Option<SaslNegotiation>,
    pub support_dialback_negotiation: Option<bool>,
    pub enable_keep_alive: Option<bool>,
    pub connection_limit: Option<u32>,
}

impl PartnerChanges {
    /// What can be checked without the partner: the form of the values given.
    pub fn check_form(&self) -> Result<()> {
        self.additional_domains.as_ref().map_or(Ok(()), ListModifier::check_form)
    }

    /// Apply the changes to `partner` and validate the result as a whole. On error `partner` may be
    /// partly changed, so callers apply to a copy. Negotiation warnings are returned only if the
    /// change set names TLS, SASL or dialback: a default or an unchanged value is not the
    /// admin's choice in this request (see [`negotiation`]).
    pub fn apply_to(self, partner: &mut Partner) -> Result<Vec<Warning>> {
        let choice = self.negotiation_choice();
        if let Some(m) = self.additional_domains {
            partner.additional_domains = m.apply(&partner.additional_domains, &partner.identity)?;
        }
        set(&mut partner.description, self.description);
        set(&mut partner.proxy_fqdn, self.proxy_fqdn);
        set(&mut partner.partner_type, self.partner_type);
        set(&mut partner.tls_negotiation, self.tls_negotiation);
        set(&mut partner.sasl_negotiation, self.sasl_negotiation);
        set(&mut partner.support_dialback_negotiation, self.support_dialback_negotiation);
        set(&mut partner.enable_keep_alive, self.enable_keep_alive);
        set(&mut partner.connection_limit, self.connection_limit);
        partner.finish(choice)
    }

    fn negotiation_choice(&self) -> Choice {
        if self.tls_negotiation.is_some() || self.sasl_negotiation.is_some() || self.support_dialback_negotiation.is_some() {
            Choice::Chosen
        } else {
            Choice::Untouched
        }
    }
}

/// A change set's field: absent means "keep the current value".
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

pub(crate) fn canonical_domain(field: &'static str, value: &str) -> Result<String> {
    domain::canonicalize(value).map_err(|problem| Error::InvalidDomain {
        field,
        value: value.to_owned(),
        problem,
    })
}

/// Free text, but nothing that can corrupt an admin's terminal or disguise text: no control
/// characters other than tab and line breaks, no bidirectional overrides or isolates (ours).
fn check_description(text: &str) -> Result<String> {
    let chars = text.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(Error::value(
            "Description",
            format!("is {} characters long; at most {} are allowed", chars, MAX_DESCRIPTION_CHARS),
        ));
    }
    if let Some(c) = text.chars().find(|&c| is_forbidden_in_text(c)) {
        return Err(Error::value(
            "Description",
            format!("contains the control or bidirectional-formatting character U+{:04X}", c as u32),
        ));
    }
    Ok(text.to_owned())
}

fn is_forbidden_in_text(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || is_bidi_control(c)
}

/// The bidirectional marks, embeddings, overrides and isolates: invisible characters that
/// reorder the text around them, so they can make a value read as something it is not.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(json: &str) -> Result<(Partner, Vec<Warning>)> {
        serde_json::from_str::<NewPartner>(json).map_err(Error::from_json)?.build()
    }

    #[test]
    fn defaults_follow_the_spec() {
        let (p, _) = new(r#"{"Identity":"Contoso.COM"}"#).unwrap();
        assert_eq!(p.identity, "contoso.com");
        assert_eq!(p.domain, "contoso.com");
        assert!(p.additional_domains.is_empty());
        assert_eq!(p.description, "");
        assert_eq!(p.proxy_fqdn, "");
        assert_eq!(p.partner_type, PartnerType::PublicUnverified);
        assert_eq!(p.tls_negotiation, TlsNegotiation::Required);
        assert_eq!(p.sasl_negotiation, SaslNegotiation::Required);
        assert!(p.support_dialback_negotiation);
        assert!(p.enable_keep_alive);
        assert_eq!(p.connection_limit, 20);
        assert_eq!(p.revision, 0);
    }

    #[test]
    fn domain_parameter_is_the_same_key() {
        let (p, _) = new(r#"{"Domain":"fabrikam.com"}"#).unwrap();
        assert_eq!(p.identity, "fabrikam.com");
        assert!(matches!(new(r#"{"Identity":"a.com","Domain":"b.com"}"#), Err(Error::InvalidValue { field: "Domain", .. })));
        assert!(new(r#"{"Identity":"a.com","Domain":"A.com."}"#).is_ok());
        assert!(matches!(new(r#"{}"#), Err(Error::InvalidValue { field: "Identity", .. })));
    }

    #[test]
    fn enum_names_are_case_insensitive_and_written_canonically() {
        let (p, _) = new(r#"{"Identity":"a.com","PartnerType":"publicverified","TlsNegotiation":"OPTIONAL","SaslNegotiation":"optional"}"#).unwrap();
        assert_eq!(p.partner_type, PartnerType::PublicVerified);
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains(r#""PartnerType":"PublicVerified""#), "{json}");
        assert!(json.contains(r#""TlsNegotiation":"Optional""#), "{json}");
        assert!(matches!(new(r#"{"Identity":"a.com","PartnerType":"Trusted"}"#), Err(Error::JsonShape(m)) if m.contains("valid values")));
    }

    #[test]
    fn limits_are_errors_not_truncations() {
        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
        let err = new(&format!(r#"{{"Identity":"a.com","Description":"{long}"}}"#)).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { field: "Description", .. }));
        let ok = "é".repeat(MAX_DESCRIPTION_CHARS);
        assert_eq!(new(&format!(r#"{{"Identity":"a.com","Description":"{ok}"}}"#)).unwrap().0.description, ok);
        assert!(matches!(new(r#"{"Identity":"a.com","ConnectionLimit":0}"#), Err(Error::InvalidValue { field: "ConnectionLimit", .. })));
        assert!(matches!(new(r#"{"Identity":"a.com","ConnectionLimit":4294967296}"#), Err(Error::JsonShape(_))));
        assert!(matches!(new(r#"{"Identity":"a.com","ConnectionLimit":-1}"#), Err(Error::JsonShape(_))));
    }

    #[test]
    fn description_rejects_controls_and_bidi_overrides() {
        assert!(new(r#"{"Identity":"a.com","Description":"call\tus\nat 555"}"#).is_ok());
        for bad in [r#"\u0007"#, r#"\u001b[2J"#, r#"\u202e"#, r#"\u2066"#, r#"\u0085"#] {
            let err = new(&format!(r#"{{"Identity":"a.com","Description":"x{bad}"}}"#)).unwrap_err();
            assert!(matches!(err, Error::InvalidValue { field: "Description", .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_shape_errors() {
        assert!(matches!(new(r#"{"Identity":"a.com","Colour":"red"}"#), Err(Error::JsonShape(_))));
        assert!(matches!(new(r#"{"Identity":42}"#), Err(Error::JsonShape(_))));
        assert!(matches!(new(r#"{"Identity":"a.com""#), Err(Error::JsonSyntax(_))));
    }

    #[test]
    fn proxy_fqdn_is_a_validated_domain() {
        let (p, _) = new(r#"{"Identity":"a.com","ProxyFqdn":"Proxy.A.com."}"#).unwrap();
        assert_eq!(p.proxy_fqdn, "proxy.a.com");
        assert!(matches!(new(r#"{"Identity":"a.com","ProxyFqdn":"proxy a"}"#), Err(Error::InvalidDomain { field: "ProxyFqdn", .. })));
    }

    #[test]
    fn changes_apply_and_revalidate_the_whole() {
        let (mut p, _) = new(r#"{"Identity":"a.com"}"#).unwrap();
        let ch: PartnerChanges = serde_json::from_str(r#"{"SupportDialbackNegotiation":false,"AdditionalDomains":["B.com"]}"#).unwrap();
        ch.apply_to(&mut p).unwrap();
        assert!(!p.support_dialback_negotiation);
        assert_eq!(p.additional_domains, vec!["b.com"]);
        let ch: PartnerChanges = serde_json::from_str(r#"{"TlsNegotiation":"NotSupported"}"#).unwrap();
        assert!(matches!(ch.apply_to(&mut p.clone()), Err(Error::InvalidNegotiation { .. })));
        let ch: PartnerChanges = serde_json::from_str(r#"{"AdditionalDomains":null}"#).unwrap();
        ch.apply_to(&mut p).unwrap();
        assert!(p.additional_domains.is_empty());
    }

    fn warning_ids(warnings: &[Warning]) -> Vec<&'static str> {
        warnings.iter().map(|w| w.id).collect()
    }

    #[test]
    fn the_defaults_alone_draw_no_warning() {
        let (p, warnings) = new(r#"{"Identity":"a.com","Description":"x","PartnerType":"Federated"}"#).unwrap();
        assert_eq!((p.tls_negotiation, p.sasl_negotiation, p.support_dialback_negotiation), (TlsNegotiation::Required, SaslNegotiation::Required, true));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_chosen_setting_that_produces_a_warned_combination_draws_the_warning() {
        for chosen in [r#""TlsNegotiation":"Required""#, r#""SaslNegotiation":"required""#, r#""SupportDialbackNegotiation":true"#] {
            let (_, warnings) = new(&format!(r#"{{"Identity":"a.com",{chosen}}}"#)).unwrap();
            assert_eq!(warning_ids(&warnings), vec![negotiation::DIALBACK_UNUSED], "{chosen}");
        }
        let (_, warnings) = new(r#"{"Identity":"a.com","TlsNegotiation":"Optional"}"#).unwrap();
        assert_eq!(warning_ids(&warnings), vec![negotiation::SASL_WITHOUT_REQUIRED_TLS]);
    }

    #[test]
    fn a_change_set_warns_only_when_it_names_a_negotiation_setting() {
        let (mut p, _) = new(r#"{"Identity":"a.com","TlsNegotiation":"Optional"}"#).unwrap();
        // The partner keeps a warned combination; a change elsewhere does not repeat the warning.
        let ch: PartnerChanges = serde_json::from_str(r#"{"Description":"new"}"#).unwrap();
        assert!(ch.apply_to(&mut p).unwrap().is_empty());
        let ch: PartnerChanges = serde_json::from_str(r#"{"SaslNegotiation":"Optional"}"#).unwrap();
        assert_eq!(warning_ids(&ch.apply_to(&mut p).unwrap()), vec![negotiation::SASL_WITHOUT_REQUIRED_TLS]);
        // Rejections do not depend on who chose: an untouched invalid result is still refused.
        let mut bad = p.clone();
        bad.support_dialback_negotiation = false;
        bad.tls_negotiation = TlsNegotiation::NotSupported;
        let ch: PartnerChanges = serde_json::from_str(r#"{"Description":"again"}"#).unwrap();
        assert!(matches!(ch.apply_to(&mut bad), Err(Error::InvalidNegotiation { .. })));
    }

    #[test]
    fn instance_normalization_checks_every_field() {
        let (p, _) = new(r#"{"Identity":"a.com"}"#).unwrap();
        let mut raw = p.clone();
        raw.identity = "A.COM.".into();
        raw.domain = "a.com".into();
        raw.additional_domains = vec!["B.com".into(), "b.COM".into()];
        raw.normalize().unwrap();
        assert_eq!(raw.identity, "a.com");
        assert_eq!(raw.additional_domains, vec!["b.com"]);
        let mut bad = p;
        bad.domain = "other.com".into();
        assert!(bad.normalize().is_err());
    }
}
