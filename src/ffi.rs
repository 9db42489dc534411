//! The C ABI: the only module with `unsafe` and `extern "C"`. It translates and nothing more.
//!
//! Conventions (every function):
//! - Returns an `xmppfed_result`; `XMPPFED_RESULT_OK` is 0. The numbers are stable and never reused.
//! - Runs inside a panic boundary: a bug returns `XMPPFED_RESULT_PANIC`, it never unwinds into C.
//! - Checks every pointer for NULL and every string for UTF-8, with a specific code for each.
//! - Outputs come last, as `*_out` pointers, and are written only on success.
//! - Text the library allocates (`char *` outputs) is freed with `xmppfed_string_free`, never `free`.
//! - After a failure, `xmppfed_last_error_message` describes it, on the calling thread.
//! - Partners, change sets and outcomes cross as UTF-8 JSON with PowerShell's property names.

#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Mutex;

use crate::error::Error;
use crate::model::{NewPartner, Partner, PartnerChanges};
use crate::store::{Environment, Source, Store, StoreOptions, Write};

/// The ABI version. Raised whenever a function's signature or meaning changes incompatibly.
pub const XMPPFED_ABI_VERSION: u32 = 3;

/// Largest JSON document accepted from a caller (4 MiB): far above any valid partner.
pub const XMPPFED_MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

/// The layout of partner records (the pages of `xmppfed_partner_list_pages`, the output of
/// `xmppfed_partner_get_records`): their first field (`records::FORMAT`).
pub const XMPPFED_RECORDS_FORMAT: u32 = 1;

/// The largest import input accepted (`xmppfed_store_import`), in bytes: a whole list of
/// 1,000,000 partners exported as JSON is about 300 MB.
pub const XMPPFED_MAX_IMPORT_BYTES: usize = 512 * 1024 * 1024;

/// Result codes. Stable: a number is never reused for another meaning.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum xmppfed_result {
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// JSON that is not well-formed (syntax, truncation, nesting deeper than 128).
    JsonSyntax = 3,
    /// Well-formed JSON of the wrong shape: wrong type, unknown or missing field, number out of range.
    JsonShape = 4,
    /// A domain (Identity, Domain, AdditionalDomains, ProxyFqdn) that is not a valid DNS name.
    InvalidDomain = 5,
    /// A property value outside its allowed range or form.
    InvalidValue = 6,
    /// A rejected TLS / SASL / dialback combination.
    InvalidNegotiation = 7,
    /// A wildcard filter that is not a valid pattern.
    InvalidFilter = 8,
    /// New with an identity that exists.
    AlreadyExists = 9,
    /// No partner has that identity.
    NotFound = 10,
    /// A domain already belongs to another partner.
    DomainConflict = 11,
    /// Set with an instance that changed in the store after it was read.
    StaleInstance = 12,
    /// The store could not be read or written (missing folder, permissions, disk full).
    StoreIo = 13,
    /// A store file is damaged; nothing was changed.
    StoreCorrupt = 14,
    /// A store file of a newer format version than this library.
    StoreVersion = 15,
    /// Another process held the store lock longer than the lock timeout.
    StoreLocked = 16,
    /// No default store location is known (no home folder); give a path.
    NoStoreLocation = 17,
    /// An input larger than the library accepts (see XMPPFED_MAX_JSON_BYTES).
    InputTooLarge = 18,
    /// A store folder or file that other users could have written, or a symbolic link or
    /// special file where a store file belongs; nothing was read from it or written to it.
    StoreUntrusted = 19,
    /// The central store is not the store this handle or this machine's replica knew (replaced,
    /// rolled back, or missing from its folder); nothing was read from it as the truth or written.
    StoreMismatch = 20,
    /// An import's store changed after its difference was computed; nothing was imported.
    StoreChanged = 21,
    /// An import with input items that cannot be imported; nothing was imported.
    ImportRejected = 22,
    /// An internal error (a bug) was caught at the boundary. The handle may still be used.
    Panic = 100,
}

impl xmppfed_result {
    const ALL: [xmppfed_result; 24] = [
        Self::Ok,
        Self::NullArgument,
        Self::InvalidUtf8,
        Self::JsonSyntax,
        Self::JsonShape,
        Self::InvalidDomain,
        Self::InvalidValue,
        Self::InvalidNegotiation,
        Self::InvalidFilter,
        Self::AlreadyExists,
        Self::NotFound,
        Self::DomainConflict,
        Self::StaleInstance,
        Self::StoreIo,
        Self::StoreCorrupt,
        Self::StoreVersion,
        Self::StoreLocked,
        Self::NoStoreLocation,
        Self::InputTooLarge,
        Self::StoreUntrusted,
        Self::StoreMismatch,
        Self::StoreChanged,
        Self::ImportRejected,
        Self::Panic,
    ];

    /// The stable name, used by callers as an error id (e.g. PowerShell's FullyQualifiedErrorId).
    fn name(self) -> &'static CStr {
        let bytes: &'static [u8] = match self {
            Self::Ok => b"Ok\0",
            Self::NullArgument => b"NullArgument\0",
            Self::InvalidUtf8 => b"InvalidUtf8\0",
            Self::JsonSyntax => b"JsonSyntax\0",
            Self::JsonShape => b"JsonShape\0",
            Self::InvalidDomain => b"InvalidDomain\0",
            Self::InvalidValue => b"InvalidValue\0",
            Self::InvalidNegotiation => b"InvalidNegotiation\0",
            Self::InvalidFilter => b"InvalidFilter\0",
            Self::AlreadyExists => b"AlreadyExists\0",
            Self::NotFound => b"NotFound\0",
            Self::DomainConflict => b"DomainConflict\0",
            Self::StaleInstance => b"StaleInstance\0",
            Self::StoreIo => b"StoreIo\0",
            Self::StoreCorrupt => b"StoreCorrupt\0",
            Self::StoreVersion => b"StoreVersion\0",
            Self::StoreLocked => b"StoreLocked\0",
            Self::NoStoreLocation => b"NoStoreLocation\0",
            Self::InputTooLarge => b"InputTooLarge\0",
            Self::StoreUntrusted => b"StoreUntrusted\0",
            Self::StoreMismatch => b"StoreMismatch\0",
            Self::StoreChanged => b"StoreChanged\0",
            Self::ImportRejected => b"ImportRejected\0",
            Self::Panic => b"Panic\0",
        };
        CStr::from_bytes_with_nul(bytes).expect("names are NUL-terminated")
    }

    fn of(error: &Error) -> xmppfed_result {
        match error {
            Error::JsonSyntax(_) => Self::JsonSyntax,
            Error::JsonShape(_) => Self::JsonShape,
            Error::InvalidDomain { .. } => Self::InvalidDomain,
            Error::InvalidValue { .. } => Self::InvalidValue,
            Error::InvalidNegotiation { .. } => Self::InvalidNegotiation,
            Error::InvalidFilter { .. } => Self::InvalidFilter,
            Error::AlreadyExists(_) => Self::AlreadyExists,
            Error::NotFound(_) => Self::NotFound,
            Error::DomainConflict { .. } => Self::DomainConflict,
            Error::StaleInstance { .. } => Self::StaleInstance,
            Error::StoreIo { .. } | Error::StoreUnreachable { .. } | Error::NoReplica { .. } => Self::StoreIo,
            Error::StoreCorrupt { .. } => Self::StoreCorrupt,
            Error::StoreVersion { .. } => Self::StoreVersion,
            Error::StoreLocked { .. } => Self::StoreLocked,
            Error::NoStoreLocation(_) => Self::NoStoreLocation,
            Error::StoreUntrusted { .. } => Self::StoreUntrusted,
            Error::StoreMismatch { .. } => Self::StoreMismatch,
            Error::StoreChanged { .. } => Self::StoreChanged,
            Error::ImportRejected { .. } => Self::ImportRejected,
        }
    }
}

/// The stable name of the code an error maps to (the error id callers see).
pub fn error_id(error: &Error) -> &'static str {
    xmppfed_result::of(error).name().to_str().expect("names are ASCII")
}

/// An open store: the central store folder and this machine's replica of it.
/// Opaque to C. Safe to use from several threads at once (calls on one handle are serialised).
pub struct xmppfed_store {
    inner: Mutex<Store>,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = RefCell::new(None);
}

/// A failure inside the boundary: the code and the text for `xmppfed_last_error_message`.
struct Failure(xmppfed_result, String);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(xmppfed_result::of(&e), e.to_string())
    }
}

type Outcome<T> = Result<T, Failure>;

/// The panic boundary and error bookkeeping shared by every export.
fn boundary(body: impl FnOnce() -> Outcome<()>) -> xmppfed_result {
    set_last_error(None);
    let (code, message) = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return xmppfed_result::Ok,
        Ok(Err(Failure(code, message))) => (code, message),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            (xmppfed_result::Panic, format!("internal error (please report it): {what}"))
        }
    };
    set_last_error(Some(message));
    code
}

fn set_last_error(message: Option<String>) {
    let text = message.map(|m| CString::new(printable(&m)).expect("printable() removes NUL"));
    LAST_ERROR.with(|slot| *slot.borrow_mut() = text);
}

/// Error texts echo caller input; control and bidi characters are escaped so that a hostile
/// value cannot rewrite an admin's terminal or hide part of the message.
pub(crate) fn printable(text: &str) -> String {
    const MAX_CHARS: usize = 2000;
    let total = text.chars().count();
    let mut out: String = text
        .chars()
        .take(MAX_CHARS)
        .map(|c| {
            if c.is_control() || crate::model::is_bidi_control(c) {
                format!("\\u{{{:04x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect();
    // Errors echo the offending value; a 10 MB value must not become a 10 MB message.
    if total > MAX_CHARS {
        out.push_str(&format!("… [message shortened from {total} characters]"));
    }
    out
}

fn null(name: &str) -> Failure {
    Failure(xmppfed_result::NullArgument, format!("argument '{name}' is NULL"))
}

/// Borrow a required C string argument as UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives the call.
unsafe fn required_str<'a>(ptr: *const c_char, name: &str) -> Outcome<&'a str> {
    if ptr.is_null() {
        return Err(null(name));
    }
    CStr::from_ptr(ptr).to_str().map_err(|e| {
        Failure(xmppfed_result::InvalidUtf8, format!("argument '{name}' is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()))
    })
}

/// # Safety
/// As `required_str`; NULL means "not given".
unsafe fn optional_str<'a>(ptr: *const c_char, name: &str) -> Outcome<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        required_str(ptr, name).map(Some)
    }
}

/// # Safety
/// As `required_str`.
unsafe fn json_arg<T: serde::de::DeserializeOwned>(ptr: *const c_char, name: &str) -> Outcome<T> {
    let text = required_str(ptr, name)?;
    if text.len() > XMPPFED_MAX_JSON_BYTES {
        return Err(Failure(
            xmppfed_result::InputTooLarge,
            format!("argument '{name}' is {} bytes; at most {} are accepted", text.len(), XMPPFED_MAX_JSON_BYTES),
        ));
    }
    crate::json::parse_object(text).map_err(Failure::from)
}

/// # Safety
/// `out` is NULL or valid for one pointer write.
unsafe fn check_out<T>(out: *mut T, name: &str) -> Outcome<()> {
    if out.is_null() {
        Err(null(name))
    } else {
        Ok(())
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> CString {
    nul_terminated(serde_json::to_vec(value).expect("library values always serialize"))
}

/// A JSON array of `items`, encoded as they come (no list of them first).
fn json_array<T: serde::Serialize>(items: &mut dyn Iterator<Item = T>) -> CString {
    let mut text = Vec::with_capacity(4096);
    serde::Serializer::collect_seq(&mut serde_json::Serializer::new(&mut text), items).expect("library values always serialize");
    nul_terminated(text)
}

/// JSON text as the C string handed out, NUL-terminated in the buffer it was written to (no copy
/// to add the NUL).
fn nul_terminated(mut text: Vec<u8>) -> CString {
    text.push(0);
    // serde_json escapes control characters, so the only NUL is the one just pushed.
    CString::from_vec_with_nul(text).expect("JSON text has no NUL")
}

/// # Safety
/// `store` is NULL or a handle from `xmppfed_store_open` that has not been closed.
unsafe fn with_store<T>(store: *mut xmppfed_store, body: impl FnOnce(&mut Store) -> Result<T, Error>) -> Outcome<T> {
    let handle = store.as_ref().ok_or_else(|| null("store"))?;
    // A panic in an earlier call leaves the store usable: its in-memory state is refreshed from
    // the log, which is the truth, and every change is committed as one line or not at all.
    let mut guard = handle.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    body(&mut guard).map_err(Failure::from)
}

/// The ABI version of this library (`XMPPFED_ABI_VERSION`). Callers compare it with the version
/// they were built against and refuse a mismatch.
#[no_mangle]
pub extern "C" fn xmppfed_abi_version() -> u32 {
    XMPPFED_ABI_VERSION
}

/// The library version, e.g. "0.1.0". Static: do not free.
#[no_mangle]
pub extern "C" fn xmppfed_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The stable name of a result code (e.g. "NotFound"), or NULL for a number that is not a code.
/// Static: do not free.
#[no_mangle]
pub extern "C" fn xmppfed_result_name(result: i32) -> *const c_char {
    xmppfed_result::ALL
        .iter()
        .find(|r| **r as i32 == result)
        .map_or(std::ptr::null(), |r| r.name().as_ptr())
}

/// The text of the last failure on this thread, or NULL if the last call succeeded.
/// Owned by the library: valid until the next xmppfed call on this thread; do not free.
#[no_mangle]
pub extern "C" fn xmppfed_last_error_message() -> *const c_char {
    LAST_ERROR.with(|slot| slot.borrow().as_ref().map_or(std::ptr::null(), |s| s.as_ptr()))
}

/// Open a store. `central_dir`: the central store folder, or NULL for `$XMPPFED_STORE` or the
/// per-user default. `replica_dir`: the local replica folder, or NULL for `$XMPPFED_REPLICA` or
/// the default. On success `*store_out` owns a handle, to be released with `xmppfed_store_close`.
/// A damaged store or one of a future format fails here, naming the file.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `store_out` is valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_open(
    central_dir: *const c_char,
    replica_dir: *const c_char,
    store_out: *mut *mut xmppfed_store,
) -> xmppfed_result {
    boundary(|| open(central_dir, replica_dir, Environment::process(), store_out))
}

/// As `xmppfed_store_open`, but the `XMPPFED_*` settings (`XMPPFED_STORE`, `XMPPFED_REPLICA`,
/// `XMPPFED_LOCK_TIMEOUT_MS`) are read from `environment_json` instead of the process
/// environment: a JSON object of variable names to string values, e.g.
/// `{"XMPPFED_STORE":"/srv/xmppfed"}`; a variable it does not name is unset. For hosts whose
/// environment is not the process's (PowerShell on Linux keeps `$env:` in a managed copy).
/// The caller may pass every variable it has: only these names are read
/// (`xmppfed_environment_names` lists them).
///
/// # Safety
/// String arguments are NULL (except `environment_json`) or NUL-terminated; `store_out` is valid
/// for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_open_with_environment(
    central_dir: *const c_char,
    replica_dir: *const c_char,
    environment_json: *const c_char,
    store_out: *mut *mut xmppfed_store,
) -> xmppfed_result {
    boundary(|| {
        let vars: std::collections::HashMap<String, String> = json_arg(environment_json, "environment_json")?;
        open(central_dir, replica_dir, Environment::snapshot(vars), store_out)
    })
}

/// The names of the environment variables the library reads, as a JSON array of strings:
/// `["XMPPFED_STORE","XMPPFED_REPLICA","XMPPFED_LOCK_TIMEOUT_MS"]`. A host that passes its own
/// environment to `xmppfed_store_open_with_environment` needs to collect only these, and to watch
/// only these for changes. `*names_json_out` is owned by the caller: free it with
/// `xmppfed_string_free`. Thread-safe.
///
/// # Safety
/// `names_json_out` is valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_environment_names(names_json_out: *mut *mut c_char) -> xmppfed_result {
    boundary(|| {
        check_out(names_json_out, "names_json_out")?;
        *names_json_out = to_json(&crate::store::ENV_NAMES).into_raw();
        Ok(())
    })
}

/// # Safety
/// As `xmppfed_store_open`.
unsafe fn open(
    central_dir: *const c_char,
    replica_dir: *const c_char,
    environment: Environment,
    store_out: *mut *mut xmppfed_store,
) -> Outcome<()> {
    check_out(store_out, "store_out")?;
    let options = StoreOptions {
        central: optional_str(central_dir, "central_dir")?.map(PathBuf::from),
        replica: optional_str(replica_dir, "replica_dir")?.map(PathBuf::from),
        lock_timeout: None,
        environment,
    };
    let store = Store::open(options)?;
    *store_out = Box::into_raw(Box::new(xmppfed_store { inner: Mutex::new(store) }));
    Ok(())
}

/// Close a handle from `xmppfed_store_open`. NULL is accepted and ignored. The handle must not be
/// in use by another thread and must not be used again.
///
/// # Safety
/// `store` is NULL or a handle from `xmppfed_store_open` that has not been closed.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_close(store: *mut xmppfed_store) {
    if !store.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(store))));
    }
}

/// The folders a handle uses, as JSON `{"Central":"...","Replica":"..."}`.
/// `*paths_json_out` is owned by the caller: free it with `xmppfed_string_free`.
///
/// # Safety
/// `store` is a live handle; `paths_json_out` is valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_paths(store: *mut xmppfed_store, paths_json_out: *mut *mut c_char) -> xmppfed_result {
    boundary(|| {
        check_out(paths_json_out, "paths_json_out")?;
        let json = with_store(store, |s| {
            Ok(to_json(&serde_json::json!({
                "Central": s.central_dir().to_string_lossy(),
                "Replica": s.replica_dir().to_string_lossy(),
            })))
        })?;
        *paths_json_out = json.into_raw();
        Ok(())
    })
}

/// Create a partner (New). `partner_json`: an object with `Identity` or `Domain` and any other
/// properties (missing ones take their defaults); `AdditionalDomains` may be a list or a list
/// modifier. With `in_memory`, nothing is stored and `store` may be NULL: the validated object is
/// returned for a later `xmppfed_partner_set_instance`.
/// `*outcome_json_out` receives `{"Partner":{...},"Warnings":[{"Id":"...","Message":"..."}]}`,
/// owned by the caller (free with `xmppfed_string_free`).
///
/// # Safety
/// `store` is NULL or a live handle; `partner_json` is NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_new(
    store: *mut xmppfed_store,
    partner_json: *const c_char,
    in_memory: bool,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        if !in_memory && store.is_null() {
            return Err(null("store"));
        }
        let request: NewPartner = json_arg(partner_json, "partner_json")?;
        let outcome = if in_memory {
            Store::build(request)?
        } else {
            with_store(store, |s| s.write(Write::Create(request)))?
        };
        *outcome_json_out = to_json(&outcome).into_raw();
        Ok(())
    })
}

/// What `xmppfed_partner_new` would do now, without storing anything: the same checks against the
/// central store's current state (AlreadyExists, DomainConflict, every validation) and the same
/// outcome, with the revision the partner would get if nothing else were committed first. For a
/// dry run (`-WhatIf`) or a check before asking for confirmation; the real call decides again.
///
/// # Safety
/// `store` is a live handle; `partner_json` is NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_new_preview(
    store: *mut xmppfed_store,
    partner_json: *const c_char,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        let request: NewPartner = json_arg(partner_json, "partner_json")?;
        write_outcome(store, Write::Create(request), true, outcome_json_out)
    })
}

/// Read one partner (Get -Identity) from the central store, or from the local replica when
/// `local_store` is true. `*partner_json_out` receives the partner object, owned by the caller.
///
/// # Safety
/// `store` is a live handle; `identity` is NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_get(
    store: *mut xmppfed_store,
    identity: *const c_char,
    local_store: bool,
    partner_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(partner_json_out, "partner_json_out")?;
        let identity = required_str(identity, "identity")?;
        let partner = with_store(store, |s| s.get(identity, source(local_store)))?;
        *partner_json_out = to_json(&partner).into_raw();
        Ok(())
    })
}

/// List partners sorted by identity (Get, Get -Filter). `filter`: a PowerShell wildcard pattern
/// matched case-insensitively against the whole identity, or NULL for every partner.
/// `*partners_json_out` receives a JSON array, owned by the caller.
///
/// # Safety
/// `store` is a live handle; `filter` is NULL or NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_list(
    store: *mut xmppfed_store,
    filter: *const c_char,
    local_store: bool,
    partners_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(partners_json_out, "partners_json_out")?;
        let filter = optional_str(filter, "filter")?;
        let json = with_store(store, |s| s.list_with(filter, source(local_store), |partners| json_array(partners)))?;
        *partners_json_out = json.into_raw();
        Ok(())
    })
}

/// A list being read page by page (`xmppfed_partner_list_pages`): the partners of one read,
/// which commits made afterwards do not change. Used by one thread at a time; freed with
/// `xmppfed_partner_pages_free`. It does not refer to its store: it may outlive the handle.
pub struct xmppfed_partner_pages {
    inner: crate::records::Pages,
}

/// What `xmppfed_partner_list` lists, in the same order, as binary records instead of JSON, page
/// by page: for callers that build an object per partner, to whom decoding JSON costs more than
/// the rest of the list, and who want the first partner before the last is encoded. The
/// partners are those of the store at this call. `*pages_out` receives the pages (read them
/// with `xmppfed_partner_pages_next`, free them with `xmppfed_partner_pages_free`) and
/// `*count_out` how many partners they hold in all. As every output, both are written only on
/// success; a failure (a bad filter, an unreadable store) is reported here, not by a page.
///
/// A page's layout (little-endian, unaligned; its version is `XMPPFED_RECORDS_FORMAT`): u32
/// format, u32 count, then per partner: u64 Revision, u32 ConnectionLimit, u8 PartnerType
/// (0 Federated, 1 PublicVerified, 2 PublicUnverified), u8 TlsNegotiation and u8 SaslNegotiation
/// (0 Required, 1 Optional, 2 NotSupported), u8 flags (bit 0 SupportDialbackNegotiation, bit 1
/// EnableKeepAlive), the texts Identity, Domain, Description, ProxyFqdn, then u32 n and n texts
/// (AdditionalDomains); a text is a u32 length in bytes and that many bytes of UTF-8, without a
/// NUL.
///
/// # Safety
/// `store` is a live handle; `filter` is NULL or NUL-terminated; the out pointers are valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_list_pages(
    store: *mut xmppfed_store,
    filter: *const c_char,
    local_store: bool,
    pages_out: *mut *mut xmppfed_partner_pages,
    count_out: *mut usize,
) -> xmppfed_result {
    boundary(|| {
        check_out(pages_out, "pages_out")?;
        check_out(count_out, "count_out")?;
        let filter = optional_str(filter, "filter")?;
        let partners = with_store(store, |s| s.list_shared(filter, source(local_store)))?;
        let pages = crate::records::Pages::new(partners).map_err(too_large)?;
        *count_out = pages.count();
        *pages_out = Box::into_raw(Box::new(xmppfed_partner_pages { inner: pages }));
        Ok(())
    })
}

/// The next page of `pages`: `*records_out` points to the records of at least one partner (the
/// layout of `xmppfed_partner_list_pages`), about 64 KiB of them, and `*records_len_out` is their
/// length in bytes; after the last page, `*records_out` is NULL and `*records_len_out` 0. The
/// page belongs to `pages` and is valid until the next call on them or their free: read it,
/// never free it. The counts of the pages add up to the count the list gave.
///
/// # Safety
/// `pages` is NULL or live pages, used by no other thread during the call; the out pointers
/// are valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_pages_next(
    pages: *mut xmppfed_partner_pages,
    records_out: *mut *const u8,
    records_len_out: *mut usize,
) -> xmppfed_result {
    boundary(|| {
        check_out(records_out, "records_out")?;
        check_out(records_len_out, "records_len_out")?;
        let pages = pages.as_mut().ok_or_else(|| null("pages"))?;
        let page = pages.inner.next_page().map_err(too_large)?;
        *records_out = if page.is_empty() { std::ptr::null() } else { page.as_ptr() };
        *records_len_out = page.len();
        Ok(())
    })
}

/// Free pages from `xmppfed_partner_list_pages` (read to the end or not). NULL is ignored.
///
/// # Safety
/// `pages` is NULL or live pages, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_pages_free(pages: *mut xmppfed_partner_pages) {
    if !pages.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(pages))));
    }
}

/// What `xmppfed_partner_get` reads, as one page of `xmppfed_partner_list_pages` (a count of
/// 1 and that partner's record), with the same errors (`XMPPFED_RESULT_NOT_FOUND` for a missing
/// partner). Free the buffer with `xmppfed_bytes_free(records, len)`; as every output, both are
/// written only on success.
///
/// # Safety
/// `store` is a live handle; `identity` is NUL-terminated; the out pointers are valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_get_records(
    store: *mut xmppfed_store,
    identity: *const c_char,
    local_store: bool,
    records_out: *mut *mut u8,
    records_len_out: *mut usize,
) -> xmppfed_result {
    boundary(|| {
        check_records_out(records_out, records_len_out)?;
        let identity = required_str(identity, "identity")?;
        let records = with_store(store, |s| s.get_with(identity, source(local_store), |p| crate::records::encode(&mut std::iter::once(p))))?;
        hand_out_records(records, records_out, records_len_out)
    })
}

/// # Safety
/// As `check_out`, for both outputs of a records call.
unsafe fn check_records_out(records_out: *mut *mut u8, records_len_out: *mut usize) -> Outcome<()> {
    check_out(records_out, "records_out")?;
    check_out(records_len_out, "records_len_out")
}

fn too_large(crate::records::TooLarge(what): crate::records::TooLarge) -> Failure {
    Failure(xmppfed_result::InputTooLarge, format!("the partners cannot be written as records: {what}"))
}

/// Hands encoded records to the caller (freed with `xmppfed_bytes_free`), or refuses a list the
/// layout cannot hold.
///
/// # Safety
/// Both out pointers are valid.
unsafe fn hand_out_records(
    records: Result<Vec<u8>, crate::records::TooLarge>,
    records_out: *mut *mut u8,
    records_len_out: *mut usize,
) -> Outcome<()> {
    let records = records.map_err(too_large)?;
    let len = records.len();
    *records_out = Box::into_raw(records.into_boxed_slice()).cast::<u8>();
    *records_len_out = len;
    Ok(())
}

/// Complete an identity (tab completion of `-Identity`): the identities that begin with `prefix`,
/// compared case-insensitively and literally (`*` or `?` in it are plain characters), sorted, at
/// most `max` of them (0 gives an empty list); from the local replica when `local_store` is true.
/// `*identities_json_out` receives a JSON array of strings, owned by the caller (free with
/// `xmppfed_string_free`). A prefix longer than any identity can be is `XMPPFED_RESULT_INVALID_VALUE`.
///
/// # Safety
/// `store` is a live handle; `prefix` is NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_complete(
    store: *mut xmppfed_store,
    prefix: *const c_char,
    max: usize,
    local_store: bool,
    identities_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(identities_json_out, "identities_json_out")?;
        let prefix = required_str(prefix, "prefix")?;
        let identities = with_store(store, |s| crate::completion::complete_identities(s, prefix, max, source(local_store)))?;
        *identities_json_out = to_json(&identities).into_raw();
        Ok(())
    })
}

/// Explain a remote domain (Test-CsXmppAllowedPartner): whether the list allows it, which
/// partner covers it and how, that partner's negotiation settings, the methods a stream with it
/// tries in order, the warnings, and near misses. Read from the central store, or from the local
/// replica when `local_store` is true. A `domain` that is not a valid domain name is
/// `XMPPFED_RESULT_INVALID_DOMAIN` with New's message for `Domain`; a domain the list does not
/// allow is a success with `"Allowed":false`.
/// `*explanation_json_out` receives `{"Input":"...","Domain":"...","AsciiDomain":"...",
/// "Allowed":bool,"Partner":"..."|null,"CoveredAs":"PrimaryDomain"|"AdditionalDomain"|"NotCovered",
/// "PartnerType","TlsNegotiation","SaslNegotiation","SupportDialbackNegotiation" (null when not
/// allowed),"Methods":["SaslOverTls"|"TlsDialback"|"TcpDialback",...],"NoMethodReason":"..."|null,
/// "Warnings":[{"Id","Message"}],"Hints":[{"Id","Message","Partner","Fix"}],"Summary":"...",
/// "StoreRevision":n}`, owned by the caller (free with `xmppfed_string_free`).
///
/// # Safety
/// `store` is a live handle; `domain` is NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_explain(
    store: *mut xmppfed_store,
    domain: *const c_char,
    local_store: bool,
    explanation_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(explanation_json_out, "explanation_json_out")?;
        let domain = required_str(domain, "domain")?;
        let explanation = with_store(store, |s| s.explain(domain, source(local_store)))?;
        *explanation_json_out = to_json(&explanation).into_raw();
        Ok(())
    })
}

/// Change a partner (Set -Identity). `changes_json`: an object with the properties to change
/// (not Identity/Domain); `AdditionalDomains` takes a list (replace), null (clear) or
/// `{"Add":..,"Remove":..,"Replace":..}`. `*outcome_json_out` as for `xmppfed_partner_new`.
///
/// # Safety
/// `store` is a live handle; strings are NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_set(
    store: *mut xmppfed_store,
    identity: *const c_char,
    changes_json: *const c_char,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        let identity = required_str(identity, "identity")?.to_owned();
        let changes: PartnerChanges = json_arg(changes_json, "changes_json")?;
        write_outcome(store, Write::Set { identity, changes }, false, outcome_json_out)
    })
}

/// What `xmppfed_partner_set` would do now, without storing anything (see
/// `xmppfed_partner_new_preview`).
///
/// # Safety
/// As `xmppfed_partner_set`.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_set_preview(
    store: *mut xmppfed_store,
    identity: *const c_char,
    changes_json: *const c_char,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        let identity = required_str(identity, "identity")?.to_owned();
        let changes: PartnerChanges = json_arg(changes_json, "changes_json")?;
        write_outcome(store, Write::Set { identity, changes }, true, outcome_json_out)
    })
}

/// Write a whole partner object (Set -Instance). `changes_json`: NULL, or a change set as for
/// `xmppfed_partner_set` applied to the instance before it is written (Set's property parameters
/// given with -Instance). An object with `Revision` 0 (from New in memory) is created; one read
/// from the store is refused with `XMPPFED_RESULT_STALE_INSTANCE` if the store changed it since
/// (`XMPPFED_RESULT_NOT_FOUND` if it was removed since), unless `force`.
/// `*outcome_json_out` as for `xmppfed_partner_new`.
///
/// # Safety
/// `store` is a live handle; `instance_json` is NUL-terminated; `changes_json` is NULL or
/// NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_set_instance(
    store: *mut xmppfed_store,
    instance_json: *const c_char,
    changes_json: *const c_char,
    force: bool,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        let change = set_instance_args(instance_json, changes_json, force)?;
        write_outcome(store, change, false, outcome_json_out)
    })
}

/// What `xmppfed_partner_set_instance` would do now, without storing anything (see
/// `xmppfed_partner_new_preview`).
///
/// # Safety
/// As `xmppfed_partner_set_instance`.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_set_instance_preview(
    store: *mut xmppfed_store,
    instance_json: *const c_char,
    changes_json: *const c_char,
    force: bool,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        let change = set_instance_args(instance_json, changes_json, force)?;
        write_outcome(store, change, true, outcome_json_out)
    })
}

/// # Safety
/// As `xmppfed_partner_set_instance`.
unsafe fn set_instance_args(instance_json: *const c_char, changes_json: *const c_char, force: bool) -> Outcome<Write> {
    let instance: Partner = json_arg(instance_json, "instance_json")?;
    let changes: PartnerChanges = if changes_json.is_null() { PartnerChanges::default() } else { json_arg(changes_json, "changes_json")? };
    Ok(Write::SetInstance { instance, changes, force })
}

/// Remove a partner. `*outcome_json_out` receives `{"Partner":{the removed partner},"Warnings":[...]}`
/// (warnings about what followed the commit, e.g. a replica that could not be refreshed), owned
/// by the caller.
///
/// # Safety
/// `store` is a live handle; `identity` is NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_remove(
    store: *mut xmppfed_store,
    identity: *const c_char,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        let identity = required_str(identity, "identity")?.to_owned();
        write_outcome(store, Write::Remove(identity), false, outcome_json_out)
    })
}

/// What `xmppfed_partner_remove` would do now, without removing anything (see
/// `xmppfed_partner_new_preview`): NotFound for a missing identity, else the partner.
///
/// # Safety
/// As `xmppfed_partner_remove`.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_partner_remove_preview(
    store: *mut xmppfed_store,
    identity: *const c_char,
    outcome_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(outcome_json_out, "outcome_json_out")?;
        let identity = required_str(identity, "identity")?.to_owned();
        write_outcome(store, Write::Remove(identity), true, outcome_json_out)
    })
}

/// Commit (or preview) a change and hand its outcome to the caller.
///
/// # Safety
/// `store` as for `with_store`; `out` was checked with `check_out`.
unsafe fn write_outcome(store: *mut xmppfed_store, change: Write, preview: bool, out: *mut *mut c_char) -> Outcome<()> {
    let outcome = with_store(store, |s| if preview { s.preview(change) } else { s.write(change) })?;
    *out = to_json(&outcome).into_raw();
    Ok(())
}

/// Refresh this machine's replica from the central store now (it is also refreshed after every
/// commit made through this library).
///
/// # Safety
/// `store` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_replicate(store: *mut xmppfed_store) -> xmppfed_result {
    boundary(|| with_store(store, |s| s.replicate()))
}

/// Create the central store explicitly, or check that it is current (Initialize-CsXmppAllowedPartnerStore):
/// for a PostgreSQL database whose admins have no DDL rights, run once by a user who has them
/// (elsewhere the first operation creates the store). PostgreSQL: creates the schema in a database
/// that has none; a current schema is read whole. A folder: creates the folder (and missing
/// parents, private) if it does not exist, unless this machine's replica has seen a store there
/// (`XMPPFED_RESULT_STORE_MISMATCH`, nothing created); an existing folder is read whole. A newer
/// schema or format is `XMPPFED_RESULT_STORE_VERSION`.
/// `*result_json_out` receives `{"CentralStore":"...","Kind":"Folder"|"PostgreSQL",
/// "Action":"Created"|"Current","Version":n,"Warnings":[{"Id":"...","Message":"..."}]}` (Version:
/// the schema or log format version the store has now), owned by the caller (free with
/// `xmppfed_string_free`).
///
/// # Safety
/// `store` is a live handle; `result_json_out` is valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_initialize(store: *mut xmppfed_store, result_json_out: *mut *mut c_char) -> xmppfed_result {
    boundary(|| initialize(store, true, result_json_out))
}

/// What `xmppfed_store_initialize` would do now, creating nothing: the same result, with
/// `"Action":"Created"` for a store that would be created (for `-WhatIf`, and the check before
/// `-Confirm` asks). The same failures, except those of creating itself (e.g. no CREATE rights).
///
/// # Safety
/// As `xmppfed_store_initialize`.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_initialize_preview(store: *mut xmppfed_store, result_json_out: *mut *mut c_char) -> xmppfed_result {
    boundary(|| initialize(store, false, result_json_out))
}

/// # Safety
/// As `xmppfed_store_initialize`.
unsafe fn initialize(store: *mut xmppfed_store, apply: bool, out: *mut *mut c_char) -> Outcome<()> {
    check_out(out, "result_json_out")?;
    let result = with_store(store, |s| s.initialize(apply))?;
    *out = to_json(&result).into_raw();
    Ok(())
}

/// The change history (Get-CsXmppAllowedPartnerHistory): each partner change the central store
/// still holds (the newest 10,000 commits, each whole), newest first. `query_json`: NULL for
/// everything, or `{"Identity":"wildcard"|null,"After":"RFC 3339"|null,"Before":"RFC 3339"|null,
/// "First":n|null}` (times inclusive, UTC `Z` or with an offset).
/// `*history_json_out` receives a JSON array of `{"Revision":n,"At":"2026-11-30T15:04:05Z",
/// "User":"...","Machine":"...","Operation":"Create"|"Set"|"Remove"|"Import","Identity":"...",
/// "Before":{partner}|null,"After":{partner}|null,"Changes":[{"Property":"...","Old":"..."|null,
/// "New":"..."|null}]}`, owned by the caller (free with `xmppfed_string_free`).
///
/// # Safety
/// `store` is a live handle; `query_json` is NULL or NUL-terminated; the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_history(
    store: *mut xmppfed_store,
    query_json: *const c_char,
    history_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(history_json_out, "history_json_out")?;
        let query: crate::history::HistoryQuery = if query_json.is_null() { Default::default() } else { json_arg(query_json, "query_json")? };
        let history = with_store(store, |s| s.history(&query))?;
        *history_json_out = to_json(&history).into_raw();
        Ok(())
    })
}

/// The whole list as text (Export-CsXmppAllowedPartner), sorted by identity: `format` "Json" (an
/// array of partner objects, one per line, without Revision) or "Csv" (a header row, then one row
/// per partner, AdditionalDomains as `a.com;b.com`), case-insensitive. `filter` as for
/// `xmppfed_partner_list` (NULL: every partner); from the local replica when `local_store`.
/// `*text_out` receives the text, owned by the caller (free with `xmppfed_string_free`).
///
/// # Safety
/// `store` is a live handle; `format` is NUL-terminated, `filter` NULL or NUL-terminated; the out
/// pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_export(
    store: *mut xmppfed_store,
    format: *const c_char,
    filter: *const c_char,
    local_store: bool,
    text_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| {
        check_out(text_out, "text_out")?;
        let format = transfer_format(required_str(format, "format")?)?;
        let filter = optional_str(filter, "filter")?;
        let text = with_store(store, |s| s.export(filter, format, source(local_store)))?;
        // Partner values never hold NUL (descriptions refuse control characters).
        *text_out = CString::new(text).map_err(|_| Failure(xmppfed_result::Panic, "internal error: NUL in exported text".into()))?.into_raw();
        Ok(())
    })
}

/// Import the whole list (Import-CsXmppAllowedPartner) as one commit: `input` is the text of a
/// file as `xmppfed_store_export` writes it (or any JSON array of partner objects; in CSV any
/// subset of the columns), at most `XMPPFED_MAX_IMPORT_BYTES`; `options_json`: NULL or
/// `{"Format":"Json"|"Csv","RemoveMissing":bool,"ExpectedRevision":n|null}`. Each item is a whole
/// partner, with New's defaults for what it leaves out. The difference against the store is
/// applied as one commit (one fsync, one history entry per partner), or nothing is: items that
/// cannot be imported are `XMPPFED_RESULT_IMPORT_REJECTED`, and a store no longer at
/// `ExpectedRevision` (the revision a shown difference was computed against) is
/// `XMPPFED_RESULT_STORE_CHANGED`. An input that cannot be read as a whole (not a JSON array, a
/// broken CSV) fails before the store is touched. `*plan_json_out` receives `{"BaseRevision":n,
/// "Added":[partner],"Changed":[{"Identity","Before","After","Changes":[{"Property","Old","New"}]}],
/// "Removed":[partner],"Unchanged":["identity"],"Rejected":[{"Position":n,"Identity":"..."|null,
/// "ErrorId":"...","Reason":"..."}],"RemoveMissing":bool,"CommittedRevision":n|null,
/// "Warnings":[{"Id","Message"}]}` (CommittedRevision null: nothing to change), owned by the
/// caller (free with `xmppfed_string_free`).
///
/// # Safety
/// `store` is a live handle; `input` is NUL-terminated, `options_json` NULL or NUL-terminated;
/// the out pointer is valid.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_import(
    store: *mut xmppfed_store,
    input: *const c_char,
    options_json: *const c_char,
    plan_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| import(store, input, options_json, true, plan_json_out))
}

/// The difference `xmppfed_store_import` would apply now, writing nothing (`-WhatIf`, and what
/// `-Confirm` shows): the same plan with `"CommittedRevision":null`, rejected items listed instead
/// of failing; its BaseRevision is what to pass as `ExpectedRevision` to apply exactly it.
///
/// # Safety
/// As `xmppfed_store_import`.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_import_preview(
    store: *mut xmppfed_store,
    input: *const c_char,
    options_json: *const c_char,
    plan_json_out: *mut *mut c_char,
) -> xmppfed_result {
    boundary(|| import(store, input, options_json, false, plan_json_out))
}

/// # Safety
/// As `xmppfed_store_import`.
unsafe fn import(store: *mut xmppfed_store, input: *const c_char, options_json: *const c_char, apply: bool, out: *mut *mut c_char) -> Outcome<()> {
    check_out(out, "plan_json_out")?;
    let text = required_str(input, "input")?;
    if text.len() > XMPPFED_MAX_IMPORT_BYTES {
        return Err(Failure(
            xmppfed_result::InputTooLarge,
            format!("argument 'input' is {} bytes; at most {} are accepted", text.len(), XMPPFED_MAX_IMPORT_BYTES),
        ));
    }
    let options: crate::transfer::ImportOptions = if options_json.is_null() { Default::default() } else { json_arg(options_json, "options_json")? };
    let plan = with_store(store, |s| s.import(text, options, apply))?;
    *out = to_json(&plan).into_raw();
    Ok(())
}

fn transfer_format(text: &str) -> Outcome<crate::transfer::Format> {
    text.parse().map_err(|problem| Error::value("Format", problem).into())
}

/// This machine's replica against the central store (Get-CsXmppAllowedPartnerReplicationStatus),
/// as JSON `{"CentralStore":"...","Replica":"...","StoreId":"..."|null,"CentralRevision":n|null,
/// "ReplicaRevision":n|null,"ReplicaUpdated":"2026-11-30T15:04:05Z"|null,"IsCurrent":bool,
/// "CentralError":"..."|null,"ReplicaError":"..."|null}`. A central store or replica that cannot be
/// read is described in the status (`*Error`), not reported as a failure.
/// `*status_json_out` is owned by the caller: free it with `xmppfed_string_free`.
///
/// # Safety
/// `store` is a live handle; `status_json_out` is valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_store_status(store: *mut xmppfed_store, status_json_out: *mut *mut c_char) -> xmppfed_result {
    boundary(|| {
        check_out(status_json_out, "status_json_out")?;
        let status = with_store(store, |s| Ok(s.status()))?;
        *status_json_out = to_json(&status).into_raw();
        Ok(())
    })
}

/// Free a string this library returned through a `*_out` argument. NULL is accepted and ignored.
/// Never pass a string from anywhere else, and never free a library string with `free`.
///
/// # Safety
/// `s` is NULL or a string from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(CString::from_raw(s))));
    }
}

/// Free a buffer this library returned with its length (`xmppfed_partner_get_records`). NULL is
/// accepted and ignored. Pass the length the library gave with it; never free such a buffer with
/// `free` or `xmppfed_string_free`.
///
/// # Safety
/// `bytes` is NULL or a buffer from this library of exactly `len` bytes that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_bytes_free(bytes: *mut u8, len: usize) {
    if !bytes.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(bytes, len)))));
    }
}

fn source(local_store: bool) -> Source {
    if local_store {
        Source::LocalReplica
    } else {
        Source::Central
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_the_records_layout_the_encoder_writes() {
        assert_eq!(XMPPFED_RECORDS_FORMAT, crate::records::FORMAT);
    }

    #[test]
    fn every_code_has_a_distinct_name_and_number() {
        let mut seen = std::collections::HashSet::new();
        for r in xmppfed_result::ALL {
            let name = unsafe { CStr::from_ptr(xmppfed_result_name(r as i32)) }.to_str().unwrap();
            assert_eq!(name, format!("{r:?}"));
            assert!(seen.insert(r as i32));
        }
        assert!(xmppfed_result_name(99).is_null());
    }

    #[test]
    fn messages_escape_control_and_bidi_characters() {
        assert_eq!(printable("a\u{1b}[2J\u{202e}b\0"), "a\\u{001b}[2J\\u{202e}b\\u{0000}");
    }

    #[test]
    fn long_messages_are_shortened_visibly() {
        let long = "x".repeat(10_000);
        let shown = printable(&long);
        assert!(shown.starts_with(&"x".repeat(2000)));
        assert!(shown.ends_with("[message shortened from 10000 characters]"), "{}", &shown[1990..]);
    }

    #[test]
    fn panics_become_a_code_and_a_message() {
        let code = boundary(|| panic!("boom"));
        assert_eq!(code, xmppfed_result::Panic);
        let msg = unsafe { CStr::from_ptr(xmppfed_last_error_message()) }.to_str().unwrap();
        assert!(msg.contains("boom"), "{msg}");
        assert_eq!(boundary(|| Ok(())), xmppfed_result::Ok);
        assert!(xmppfed_last_error_message().is_null());
    }
}
