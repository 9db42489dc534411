//! Partners as binary records: the output of `xmppfed_partner_list_records`, for callers that
//! build an object per partner and for whom decoding JSON costs more than the rest of the list
//! (the PowerShell module: measured, decoding the JSON array took longer per partner than writing
//! the object to the pipeline). JSON stays the format of every other call, and of the list for
//! everyone else.
//!
//! The layout (every integer little-endian, no padding, no alignment):
//!
//! ```text
//! records  = u32 FORMAT (= 1), u32 count, record * count
//! record   = u64 Revision, u32 ConnectionLimit,
//!            u8 PartnerType, u8 TlsNegotiation, u8 SaslNegotiation,
//!            u8 flags (bit 0 SupportDialbackNegotiation, bit 1 EnableKeepAlive; others 0),
//!            text Identity, text Domain, text Description, text ProxyFqdn,
//!            u32 n, text * n (AdditionalDomains, in order)
//! text     = u32 length in bytes, UTF-8 bytes (no NUL)
//! ```
//!
//! An enum is the position of its name in the order the names are declared (and listed in error
//! messages): PartnerType 0 Federated, 1 PublicVerified, 2 PublicUnverified; TlsNegotiation and
//! SaslNegotiation 0 Required, 1 Optional, 2 NotSupported.

use crate::model::Partner;

/// The layout's version, the records' first field; a new layout gets a new number.
pub const FORMAT: u32 = 1;

const DIALBACK: u8 = 1;
const KEEP_ALIVE: u8 = 2;

/// Position of `value` in `all` (the enum's declaration order).
fn code<T: PartialEq>(all: &[T], value: &T) -> u8 {
    all.iter().position(|v| v == value).expect("ALL lists every variant") as u8
}

/// A list the layout cannot hold: a count or a length beyond 32 bits. The model's limits keep
/// every partner far below that, so a list would have to hold billions of partners; it is
/// refused rather than cut.
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge(pub &'static str);

/// About the size of one partner's record with short texts, for sizing the buffer up front.
const TYPICAL_RECORD_BYTES: usize = 128;

/// Encodes `partners` as they come (no list of them first), in one buffer.
pub fn encode<'a>(partners: &mut dyn Iterator<Item = &'a Partner>) -> Result<Vec<u8>, TooLarge> {
    // Sized for the partners the iterator promises (a whole list; one for a get): a fixed large
    // buffer made every get ask malloc for a block it first had to consolidate its free lists for.
    let mut out = Vec::with_capacity(8 + partners.size_hint().0.saturating_mul(TYPICAL_RECORD_BYTES));
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // the count, written once known
    let mut count: u32 = 0;
    for p in partners {
        count = count.checked_add(1).ok_or(TooLarge("more than 4,294,967,295 partners"))?;
        out.extend_from_slice(&p.revision.to_le_bytes());
        out.extend_from_slice(&p.connection_limit.to_le_bytes());
        out.push(code(crate::PartnerType::ALL, &p.partner_type));
        out.push(code(crate::TlsNegotiation::ALL, &p.tls_negotiation));
        out.push(code(crate::SaslNegotiation::ALL, &p.sasl_negotiation));
        out.push(if p.support_dialback_negotiation { DIALBACK } else { 0 } | if p.enable_keep_alive { KEEP_ALIVE } else { 0 });
        for text in [&p.identity, &p.domain, &p.description, &p.proxy_fqdn] {
            put_text(&mut out, text)?;
        }
        put_len(&mut out, p.additional_domains.len())?;
        for domain in &p.additional_domains {
            put_text(&mut out, domain)?;
        }
    }
    out[4..8].copy_from_slice(&count.to_le_bytes());
    Ok(out)
}

fn put_text(out: &mut Vec<u8>, text: &str) -> Result<(), TooLarge> {
    put_len(out, text.len())?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn put_len(out: &mut Vec<u8>, len: usize) -> Result<(), TooLarge> {
    let len = u32::try_from(len).map_err(|_| TooLarge("a value of 4 GiB or more"))?;
    out.extend_from_slice(&len.to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PartnerType, SaslNegotiation, TlsNegotiation};

    #[test]
    fn an_empty_list_is_the_format_and_a_zero_count() {
        let bytes = encode(&mut std::iter::empty()).unwrap();
        assert_eq!(bytes, [1, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_record_holds_every_field_in_the_documented_order() {
        let mut p = Partner::with_defaults("café.example".to_string());
        p.additional_domains = vec!["a.example".into(), "b.example".into()];
        p.description = "d".into();
        p.proxy_fqdn = "proxy.example".into();
        p.partner_type = PartnerType::PublicVerified;
        p.tls_negotiation = TlsNegotiation::NotSupported;
        p.sasl_negotiation = SaslNegotiation::Optional;
        p.support_dialback_negotiation = true;
        p.enable_keep_alive = false;
        p.connection_limit = 0x0102_0304;
        p.revision = 0x1122_3344_5566_7788;
        let bytes = encode(&mut [&p, &Partner::with_defaults("z.example".into())].into_iter()).unwrap();

        let mut r = Cursor { bytes: &bytes, at: 0 };
        assert_eq!((r.u32(), r.u32()), (FORMAT, 2));
        assert_eq!(r.take(8), &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(r.u32(), 0x0102_0304);
        assert_eq!(r.take(4), &[1, 2, 1, DIALBACK]);
        let texts: Vec<String> = (0..4).map(|_| r.text()).collect();
        assert_eq!(texts, ["café.example", "café.example", "d", "proxy.example"]);
        let n = r.u32();
        let domains: Vec<String> = (0..n).map(|_| r.text()).collect();
        assert_eq!(domains, ["a.example", "b.example"]);
        // The second record: the defaults (PublicUnverified, Required, Required, both flags).
        r.take(12);
        assert_eq!(r.take(4), &[2, 0, 0, DIALBACK | KEEP_ALIVE]);
    }

    /// Reads a record field by field, as the test expects the layout.
    struct Cursor<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl<'a> Cursor<'a> {
        fn take(&mut self, len: usize) -> &'a [u8] {
            let taken = &self.bytes[self.at..self.at + len];
            self.at += len;
            taken
        }

        fn u32(&mut self) -> u32 {
            u32::from_le_bytes(self.take(4).try_into().unwrap())
        }

        fn text(&mut self) -> String {
            let len = self.u32() as usize;
            std::str::from_utf8(self.take(len)).unwrap().to_string()
        }
    }

    #[test]
    fn enum_codes_follow_the_declared_order_of_the_names() {
        assert_eq!(PartnerType::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(), ["Federated", "PublicVerified", "PublicUnverified"]);
        for all in [TlsNegotiation::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(), SaslNegotiation::ALL.iter().map(|v| v.as_str()).collect()] {
            assert_eq!(all, ["Required", "Optional", "NotSupported"]);
        }
    }
}
