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

/// A way two servers can authenticate each other on a server-to-server stream, in the order a
/// connection tries them (see [`methods`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    /// SASL EXTERNAL with certificates, inside TLS.
    SaslOverTls,
    /// Server dialback (XEP-0220) on a TLS-protected stream.
    TlsDialback,
    /// Server dialback on a plain TCP stream, without TLS.
    TcpDialback,
}

impl Method {
    /// The method in an admin's words.
    pub fn describe(self) -> &'static str {
        match self {
            Method::SaslOverTls => "SASL EXTERNAL over TLS",
            Method::TlsDialback => "dialback over TLS",
            Method::TcpDialback => "dialback over TCP without TLS",
        }
    }
}

/// The methods a stream with a partner of these settings tries, in order, or why none can
/// succeed (ours, read from the documented matrix and its warnings):
/// - SASL EXTERNAL over TLS when neither TLS nor SASL is NotSupported;
/// - dialback over TLS when dialback is on, TLS is not NotSupported and SASL is not Required (a
///   TLS stream with SASL Required authenticates with SASL only: the matrix's DialbackNotUsed);
/// - dialback over plain TCP when dialback is on and TLS is not Required (SASL needs TLS, so a
///   stream without TLS can only use dialback: the matrix's SaslWithoutRequiredTls).
///
/// Every accepted combination leaves at least one method; the rejected ones (dialback off while
/// TLS or SASL is NotSupported) leave none, and the error is the reason.
pub fn methods(p: &Partner) -> std::result::Result<Vec<Method>, String> {
    let tls = p.tls_negotiation;
    let sasl = p.sasl_negotiation;
    let dialback = p.support_dialback_negotiation;
    let mut methods = Vec::new();
    if tls != TlsNegotiation::NotSupported && sasl != SaslNegotiation::NotSupported {
        methods.push(Method::SaslOverTls);
    }
    if dialback && tls != TlsNegotiation::NotSupported && sasl != SaslNegotiation::Required {
        methods.push(Method::TlsDialback);
    }
    if dialback && tls != TlsNegotiation::Required {
        methods.push(Method::TcpDialback);
    }
    if methods.is_empty() {
        // Only a rejected combination gets here; `check` words the reason.
        return Err(match check(p, Choice::Untouched) {
            Err(Error::InvalidNegotiation { problem, .. }) => problem,
            _ => format!("TlsNegotiation {tls}, SaslNegotiation {sasl} and SupportDialbackNegotiation {dialback} leave no way to authenticate"),
        });
    }
    Ok(methods)
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

    /// The methods of every cell of the matrix: accepted cells have at least one, in order;
    /// rejected cells have none, with check()'s reason.
    #[test]
    fn methods_of_the_whole_matrix() {
        use Method::{SaslOverTls as Sasl, TcpDialback as Tcp, TlsDialback as TlsDb};
        use T::*;
        let rows: &[(T, S, bool, Option<&[Method]>)] = &[
            (Required, S::Required, true, Some(&[Sasl])),
            (Required, S::Required, false, Some(&[Sasl])),
            (Required, S::Optional, true, Some(&[Sasl, TlsDb])),
            (Required, S::Optional, false, Some(&[Sasl])),
            (Required, S::NotSupported, true, Some(&[TlsDb])),
            (Required, S::NotSupported, false, None),
            (Optional, S::Required, true, Some(&[Sasl, Tcp])),
            (Optional, S::Required, false, Some(&[Sasl])),
            (Optional, S::Optional, true, Some(&[Sasl, TlsDb, Tcp])),
            (Optional, S::Optional, false, Some(&[Sasl])),
            (Optional, S::NotSupported, true, Some(&[TlsDb, Tcp])),
            (Optional, S::NotSupported, false, None),
            (NotSupported, S::Required, true, Some(&[Tcp])),
            (NotSupported, S::Required, false, None),
            (NotSupported, S::Optional, true, Some(&[Tcp])),
            (NotSupported, S::Optional, false, None),
            (NotSupported, S::NotSupported, true, Some(&[Tcp])),
            (NotSupported, S::NotSupported, false, None),
        ];
        for (tls, sasl, dialback, expected) in rows {
            let p = partner(*tls, *sasl, *dialback);
            let got = methods(&p);
            match expected {
                Some(m) => assert_eq!(got.as_deref(), Ok(*m), "TLS {tls} SASL {sasl} dialback {dialback}"),
                None => {
                    let reason = got.expect_err("a rejected combination has no method");
                    assert!(reason.contains("NotSupported") && reason.contains("SupportDialbackNegotiation is False"), "{reason}");
                }
            }
            // The matrix and the methods agree: exactly the rejected cells have no method.
            assert_eq!(check(&p, Choice::Untouched).is_err(), expected.is_none(), "TLS {tls} SASL {sasl} dialback {dialback}");
        }
    }
}
