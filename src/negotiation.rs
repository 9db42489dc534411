//! The negotiation rules: which combinations of TLS, SASL and server dialback make sense.
//!
//! SASL here is SASL EXTERNAL with certificates, which can only run inside TLS; dialback
//! (XEP-0220) is the fallback when certificates cannot be used. Without dialback a stream needs
//! SASL, and SASL needs TLS, so turning dialback off while either is NotSupported leaves no way to
//! authenticate: that is rejected. Two other combinations work but not as an admin may think: they
//! are accepted and reported as warnings, returned as data so every caller can show them.
//!
//! A warning is about the admin's own choice: it is given only when the request set at least one
//! of TlsNegotiation, SaslNegotiation and SupportDialbackNegotiation (ours). The defaults (TLS and
//! SASL Required, dialback on) are themselves a warned combination; warning about them on every
//! New would teach admins to ignore warnings. Rejections apply whoever chose the values.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Partner, SaslNegotiation, TlsNegotiation};

/// A valid but questionable combination, with a stable id for callers to key on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Warning {
    pub id: &'static str,
    pub message: String,
}

pub const SASL_WITHOUT_REQUIRED_TLS: &str = "SaslWithoutRequiredTls";
pub const DIALBACK_UNUSED: &str = "DialbackNotUsed";

/// Whether a request chose the negotiation settings it produces, which decides whether a valid
/// but questionable combination is worth a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The request set at least one of TLS, SASL and dialback: warnings are given.
    Chosen,
    /// The request set none of them (defaults, or values kept from before): no warnings.
    Untouched,
}

/// Reject the invalid combinations; return the warnings of the accepted ones if `choice` is
/// [`Choice::Chosen`].
pub fn check(p: &Partner, choice: Choice) -> Result<Vec<Warning>> {
    let tls = p.tls_negotiation;
    let sasl = p.sasl_negotiation;
    let dialback = p.support_dialback_negotiation;

    if !dialback && (sasl == SaslNegotiation::NotSupported || tls == TlsNegotiation::NotSupported) {
        let missing = if tls == TlsNegotiation::NotSupported { "TLS" } else { "SASL" };
        return Err(Error::InvalidNegotiation {
            identity: p.identity.clone(),
            problem: format!(
                "SupportDialbackNegotiation is False while {missing} is NotSupported, so the servers would have no way to authenticate each other; enable dialback or allow {missing}"
            ),
        });
    }

    let mut warnings = Vec::new();
    if choice == Choice::Untouched {
        return Ok(warnings);
    }
    if sasl != SaslNegotiation::NotSupported && tls != TlsNegotiation::Required {
        warnings.push(Warning {
            id: SASL_WITHOUT_REQUIRED_TLS,
            message: format!(
                "{}: SaslNegotiation is {} but TlsNegotiation is {}; SASL needs TLS, so SASL will not be used when TLS is not negotiated",
                p.identity, sasl, tls
            ),
        });
    }
    if tls == TlsNegotiation::Required && sasl == SaslNegotiation::Required && dialback {
        warnings.push(Warning {
            id: DIALBACK_UNUSED,
            message: format!(
                "{}: TLS and SASL are both Required, so dialback negotiation will not be used even though SupportDialbackNegotiation is True",
                p.identity
            ),
        });
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SaslNegotiation as S, TlsNegotiation as T};

    fn partner(tls: T, sasl: S, dialback: bool) -> Partner {
        let mut p = Partner::with_defaults("contoso.com".into());
        p.tls_negotiation = tls;
        p.sasl_negotiation = sasl;
        p.support_dialback_negotiation = dialback;
        p
    }

    fn ids(r: Result<Vec<Warning>>) -> std::result::Result<Vec<&'static str>, ()> {
        r.map(|w| w.into_iter().map(|w| w.id).collect()).map_err(|_| ())
    }

    /// The whole 3 x 3 x 2 matrix, each cell stated explicitly.
    #[test]
    fn full_matrix() {
        use T::*;
        let rows: &[(T, S, bool, std::result::Result<&[&str], ()>)] = &[
            (Required, S::Required, true, Ok(&[DIALBACK_UNUSED])),
            (Required, S::Required, false, Ok(&[])),
            (Required, S::Optional, true, Ok(&[])),
            (Required, S::Optional, false, Ok(&[])),
            (Required, S::NotSupported, true, Ok(&[])),
            (Required, S::NotSupported, false, Err(())),
            (Optional, S::Required, true, Ok(&[SASL_WITHOUT_REQUIRED_TLS])),
            (Optional, S::Required, false, Ok(&[SASL_WITHOUT_REQUIRED_TLS])),
            (Optional, S::Optional, true, Ok(&[SASL_WITHOUT_REQUIRED_TLS])),
            (Optional, S::Optional, false, Ok(&[SASL_WITHOUT_REQUIRED_TLS])),
            (Optional, S::NotSupported, true, Ok(&[])),
            (Optional, S::NotSupported, false, Err(())),
            (NotSupported, S::Required, true, Ok(&[SASL_WITHOUT_REQUIRED_TLS])),
            (NotSupported, S::Required, false, Err(())),
            (NotSupported, S::Optional, true, Ok(&[SASL_WITHOUT_REQUIRED_TLS])),
            (NotSupported, S::Optional, false, Err(())),
            (NotSupported, S::NotSupported, true, Ok(&[])),
            (NotSupported, S::NotSupported, false, Err(())),
        ];
        for (tls, sasl, dialback, expected) in rows {
            let got = ids(check(&partner(*tls, *sasl, *dialback), Choice::Chosen));
            assert_eq!(got, expected.map(|e| e.to_vec()), "TLS {tls} SASL {sasl} dialback {dialback}");
            // Settings the request did not choose: the same rejections, never a warning.
            let untouched = ids(check(&partner(*tls, *sasl, *dialback), Choice::Untouched));
            assert_eq!(untouched, expected.map(|_| Vec::new()), "untouched: TLS {tls} SASL {sasl} dialback {dialback}");
        }
    }

    #[test]
    fn rejection_names_the_partner_and_the_missing_protocol() {
        let err = check(&partner(T::NotSupported, S::Required, false), Choice::Untouched).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("contoso.com") && text.contains("TLS is NotSupported"), "{text}");
    }
}
