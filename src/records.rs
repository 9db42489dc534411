//! Partners as binary records: the pages of `xmppfed_partner_list_pages` and the output of
//! `xmppfed_partner_get_records`, for callers that build an object per partner and for whom
//! decoding JSON costs more than the rest of the list (the PowerShell module: measured, decoding
//! the JSON array took longer per partner than writing the object to the pipeline). JSON stays
//! the format of every other call, and of the list for everyone else.
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
//! A list is handed out in pages ([`Pages`]), each page records of its own (the format, the
//! page's count, its records): a reader decodes a page with the code it decodes a get with.
//!
//! An enum is the position of its name in the order the names are declared (and listed in error
//! messages): PartnerType 0 Federated, 1 PublicVerified, 2 PublicUnverified; TlsNegotiation and
//! SaslNegotiation 0 Required, 1 Optional, 2 NotSupported.

use std::sync::Arc;

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

/// Encodes `partners` as they come (no list of them first), in one buffer: one partner (a get).
pub fn encode<'a>(partners: &mut dyn Iterator<Item = &'a Partner>) -> Result<Vec<u8>, TooLarge> {
    // Sized for the partners the iterator promises: a fixed large buffer made every get ask
    // malloc for a block it first had to consolidate its free lists for.
    let mut out = Vec::with_capacity(8 + partners.size_hint().0.saturating_mul(TYPICAL_RECORD_BYTES));
    encode_into(&mut out, partners, usize::MAX)?;
    Ok(out)
}

/// Writes the records of `partners` into `out` (cleared first), taking partners from the
/// iterator only while `out` holds fewer than `page_bytes` bytes: a page ends with the record
/// that reaches that size, and the iterator keeps every partner not yet written. Returns how
/// many partners were written.
fn encode_into<'a>(out: &mut Vec<u8>, partners: &mut dyn Iterator<Item = &'a Partner>, page_bytes: usize) -> Result<u32, TooLarge> {
    out.clear();
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // the count, written once known
    let mut count: u32 = 0;
    while out.len() < page_bytes {
        let Some(p) = partners.next() else { break };
        count = count.checked_add(1).ok_or(TooLarge("more than 4,294,967,295 partners"))?;
        out.extend_from_slice(&p.revision.to_le_bytes());
        out.extend_from_slice(&p.connection_limit.to_le_bytes());
        out.push(code(crate::PartnerType::ALL, &p.partner_type));
        out.push(code(crate::TlsNegotiation::ALL, &p.tls_negotiation));
        out.push(code(crate::SaslNegotiation::ALL, &p.sasl_negotiation));
        out.push(if p.support_dialback_negotiation { DIALBACK } else { 0 } | if p.enable_keep_alive { KEEP_ALIVE } else { 0 });
        for text in [&p.identity, &p.domain, &p.description, &p.proxy_fqdn] {
            put_text(out, text)?;
        }
        put_len(out, p.additional_domains.len())?;
        for domain in &p.additional_domains {
            put_text(out, domain)?;
        }
    }
    out[4..8].copy_from_slice(&count.to_le_bytes());
    Ok(count)
}

/// The size a page of [`Pages`] reaches before it ends: small enough to stay in the CPU's cache
/// between the encoder writing it and the caller decoding it. One buffer for the whole list
/// was measured in the PowerShell module at 100,000 partners: a fresh 12.8 MB allocation per
/// list, whose page faults were 29% of the library's time and whose first partner reached the
/// pipeline only after the last was encoded.
pub const PAGE_BYTES: usize = 64 * 1024;

/// A list handed out page by page (`xmppfed_partner_list_pages`): the partners of one read,
/// shared with the store (a snapshot: later commits do not change it), encoded a page at a
/// time into one buffer that every page reuses.
pub struct Pages {
    partners: std::vec::IntoIter<Arc<Partner>>,
    count: usize,
    page: Vec<u8>,
}

impl Pages {
    /// Refuses a list whose count the layout cannot hold, before any page is read.
    pub fn new(partners: Vec<Arc<Partner>>) -> Result<Pages, TooLarge> {
        let count = partners.len();
        u32::try_from(count).map_err(|_| TooLarge("more than 4,294,967,295 partners"))?;
        Ok(Pages { partners: partners.into_iter(), count, page: Vec::with_capacity(PAGE_BYTES + 2 * TYPICAL_RECORD_BYTES) })
    }

    /// How many partners the pages hold in all.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The next page: the records of at least one partner, about [`PAGE_BYTES`] of them; empty
    /// once every partner was handed out. Valid until the next call.
    pub fn next_page(&mut self) -> Result<&[u8], TooLarge> {
        if self.partners.len() == 0 {
            return Ok(&[]);
        }
        let written = encode_into(&mut self.page, &mut self.partners.as_slice().iter().map(|p| &**p), PAGE_BYTES)?;
        // Each page's partners are released once written: the snapshot and the records of a
        // list are never both held whole.
        self.partners.nth(written as usize - 1);
        Ok(&self.page)
    }
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

    fn shared(count: usize, description: &str) -> Vec<Arc<Partner>> {
        (0..count)
            .map(|i| {
                let mut p = Partner::with_defaults(format!("p{i:05}.example.org"));
                p.description = description.to_owned();
                p.revision = i as u64 + 1;
                Arc::new(p)
            })
            .collect()
    }

    /// Every page of `pages`, as (count, bytes), until the empty one.
    fn read_all(pages: &mut Pages) -> Vec<(u32, Vec<u8>)> {
        let mut all = Vec::new();
        loop {
            let page = pages.next_page().unwrap().to_vec();
            if page.is_empty() {
                return all;
            }
            let mut r = Cursor { bytes: &page, at: 0 };
            assert_eq!(r.u32(), FORMAT);
            all.push((r.u32(), page));
        }
    }

    #[test]
    fn pages_hold_every_partner_once_in_order_each_page_about_page_bytes() {
        let partners = shared(3000, "a description of some length");
        let whole = encode(&mut partners.iter().map(|p| &**p)).unwrap();
        let mut pages = Pages::new(partners).unwrap();
        assert_eq!(pages.count(), 3000);
        let all = read_all(&mut pages);
        assert!(all.len() > 3, "{} pages", all.len());
        assert_eq!(all.iter().map(|(count, _)| *count as usize).sum::<usize>(), 3000);
        // A page ends with the record that reaches PAGE_BYTES: never short of it but the last.
        for (_, page) in &all[..all.len() - 1] {
            assert!(page.len() >= PAGE_BYTES && page.len() < PAGE_BYTES + 128, "{}", page.len());
        }
        // The records of the pages, one after the other, are the records of the whole list.
        let joined: Vec<u8> = all.iter().flat_map(|(_, page)| page[8..].iter().copied()).collect();
        assert_eq!(joined, whole[8..]);
        // The end stays the end.
        assert!(pages.next_page().unwrap().is_empty());
    }

    #[test]
    fn a_partner_larger_than_a_page_is_a_page_of_its_own_and_an_empty_list_has_no_page() {
        let mut pages = Pages::new(shared(3, &"x".repeat(PAGE_BYTES * 2))).unwrap();
        assert_eq!(read_all(&mut pages).iter().map(|(count, _)| *count).collect::<Vec<_>>(), [1, 1, 1]);
        let mut none = Pages::new(Vec::new()).unwrap();
        assert_eq!(none.count(), 0);
        assert!(none.next_page().unwrap().is_empty());
    }

    #[test]
    fn pages_release_each_partner_once_it_is_written() {
        let partners = shared(2000, "");
        let first = Arc::clone(&partners[0]);
        let last = Arc::clone(&partners[1999]);
        let mut pages = Pages::new(partners).unwrap();
        assert_eq!((Arc::strong_count(&first), Arc::strong_count(&last)), (2, 2));
        pages.next_page().unwrap();
        assert_eq!((Arc::strong_count(&first), Arc::strong_count(&last)), (1, 2));
        drop(pages);
        assert_eq!(Arc::strong_count(&last), 1);
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
