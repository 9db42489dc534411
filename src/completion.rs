//! Tab completion of partner identities (`-Identity` and `-Filter` of the cmdlets): the identities
//! that begin with what the admin has typed so far.
//!
//! The typed text is a literal prefix, compared case-insensitively with the canonical identity
//! (lowercase, Unicode labels); wildcard characters in it are plain characters, which no identity
//! holds. Results are sorted by identity and capped, so a completion menu stays short and fast
//! however large the list is.

use crate::error::{Error, Result};
use crate::store::{Source, Store};

/// Longest prefix accepted: no identity is longer than a domain input may be.
pub const MAX_PREFIX_BYTES: usize = crate::domain::MAX_INPUT_BYTES;

/// The identities that begin with `prefix` (case-insensitively), sorted, at most `max`: a range
/// lookup in the store's sorted map, so it costs O(log n + max) however large the list is.
pub fn complete_identities(store: &mut Store, prefix: &str, max: usize, source: Source) -> Result<Vec<String>> {
    if prefix.len() > MAX_PREFIX_BYTES {
        return Err(Error::value(
            "prefix",
            format!("is {} bytes long; at most {} are accepted (no identity is longer)", prefix.len(), MAX_PREFIX_BYTES),
        ));
    }
    store.identities_starting_with(prefix, max, source)
}
