//! The crate's one error type. Each variant carries the facts a caller needs to act on
//! (which domain, which field, which file), and maps to exactly one stable C result code
//! (`ffi::xmppfed_result`), which the .NET layer maps to an exception and an ErrorRecord.

use std::path::PathBuf;

use crate::domain::DomainError;
use crate::wildcard::WildcardError;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// JSON that is not well-formed (syntax error, truncated, nested too deeply).
    #[error("malformed JSON: {0}")]
    JsonSyntax(String),

    /// Well-formed JSON of the wrong shape: wrong type, unknown or missing field, number out of range.
    #[error("JSON does not match the expected shape: {0}")]
    JsonShape(String),

    #[error("{field} '{value}' is not a valid domain: {problem}")]
    InvalidDomain {
        field: &'static str,
        value: String,
        problem: DomainError,
    },

    /// A property value outside its allowed range or form (not a domain).
    #[error("{field}: {problem}")]
    InvalidValue { field: &'static str, problem: String },

    /// A documented invalid combination of TLS, SASL and dialback settings.
    #[error("invalid negotiation settings for '{identity}': {problem}")]
    InvalidNegotiation { identity: String, problem: String },

    #[error("invalid filter '{pattern}': {problem}")]
    InvalidFilter {
        pattern: String,
        problem: WildcardError,
    },

    #[error("an allowed partner with identity '{0}' already exists")]
    AlreadyExists(String),

    #[error("no allowed partner with identity '{0}' exists")]
    NotFound(String),

    /// One domain belongs to one partner only.
    #[error("domain '{domain}' is already claimed by allowed partner '{owner}'")]
    DomainConflict { domain: String, owner: String },

    /// Set -Instance with an object that changed in the store after it was read.
    #[error("allowed partner '{identity}' was changed in the store since it was read (read at revision {expected}, now {actual}); read it again or use -Force")]
    StaleInstance {
        identity: String,
        expected: u64,
        actual: u64,
    },

    /// A store folder that is not there: an unmounted share, a deleted or mistyped folder. Reported
    /// as such, never replaced by an empty list (maps to the StoreIo code).
    #[error("store folder '{}' does not exist or is not reachable (a share that is not mounted, or a mistyped path?); it is never created automatically", path.display())]
    StoreUnreachable { path: PathBuf },

    /// `-LocalStore` on a machine that has no replica yet (maps to the StoreIo code).
    #[error("this machine has no local replica at '{}' yet: refresh it with Invoke-CsXmppAllowedPartnerReplication (xmppfed_store_replicate), or make a change on this machine", path.display())]
    NoReplica { path: PathBuf },

    #[error("store I/O error on '{path}': {source}")]
    StoreIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A store file that exists but cannot be trusted. Never silently reset.
    #[error("store file '{path}' is damaged: {problem}")]
    StoreCorrupt { path: PathBuf, problem: String },

    /// A store written by a newer version of xmppfed than this library understands: a folder's
    /// log file of a newer format, or a database of a newer schema (`what`: "format" or "schema").
    #[error("store '{path}' has {what} version {found}, written by a newer xmppfed; this library reads up to version {supported}: use that newer version (nothing was read or written)")]
    StoreVersion {
        path: PathBuf,
        what: &'static str,
        found: u64,
        supported: u64,
    },

    /// `holder`: who holds the lock, as its note says (process, user, machine, since when).
    #[error("timed out after {waited_ms} ms waiting for the store lock of '{}': {holder}; it is released when that process finishes or dies (do not delete store files to break it)", path.display())]
    StoreLocked { path: PathBuf, waited_ms: u64, holder: String },

    /// A store folder or file that other users could have written (see `store::trust`), or a
    /// symbolic link or special file where a store file belongs. Nothing is read from it.
    #[error("store path '{}' is not trusted: {problem}. To fix: {fix}", path.display())]
    StoreUntrusted { path: PathBuf, problem: String, fix: String },

    /// The central store is not the one this handle or this machine's replica knew: replaced by
    /// another store, rolled back to an older copy, or gone from a folder that held it. Nothing
    /// is read from it as the truth, and nothing is written over it.
    #[error("store '{}' {problem}. {fix}", path.display())]
    StoreMismatch { path: PathBuf, problem: String, fix: String },

    #[error("no store location: {0}")]
    NoStoreLocation(String),

    /// An import applied against a store that moved on after its difference was computed (and
    /// shown, or confirmed).
    #[error("the store changed after the import's difference was computed (at revision {expected}, now at {actual}); nothing was imported: run the import again to see the difference as it is now")]
    StoreChanged { expected: u64, actual: u64 },

    /// An import with items that cannot be imported: an import is all or nothing.
    #[error("{count} input item(s) cannot be imported, so nothing was imported (an import is all or nothing); the first {first}. Run the import with -WhatIf to see every rejected item")]
    ImportRejected { count: usize, first: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::StoreIo {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Error::StoreCorrupt {
            path: path.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn untrusted(path: impl Into<PathBuf>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::StoreUntrusted { path: path.into(), problem: problem.into(), fix: fix.into() }
    }

    pub(crate) fn value(field: &'static str, problem: impl Into<String>) -> Self {
        Error::InvalidValue {
            field,
            problem: problem.into(),
        }
    }

    /// Classify a serde_json failure: syntax problems and shape problems get different codes.
    pub(crate) fn from_json(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => Error::JsonShape(e.to_string()),
            // serde_json calls a number beyond f64 a syntax error, but `1e400` is well-formed JSON.
            Category::Syntax if e.to_string().starts_with("number out of range") => Error::JsonShape(e.to_string()),
            Category::Syntax | Category::Eof | Category::Io => Error::JsonSyntax(e.to_string()),
        }
    }

    /// The identity or value the error is about, for the caller's error target.
    pub fn target(&self) -> Option<&str> {
        match self {
            Error::InvalidDomain { value, .. } => Some(value),
            Error::InvalidNegotiation { identity, .. } => Some(identity),
            Error::InvalidFilter { pattern, .. } => Some(pattern),
            Error::AlreadyExists(id) | Error::NotFound(id) => Some(id),
            Error::DomainConflict { domain, .. } => Some(domain),
            Error::StaleInstance { identity, .. } => Some(identity),
            _ => None,
        }
    }
}
