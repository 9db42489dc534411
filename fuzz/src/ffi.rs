//! `ffi` target: sequences of C ABI calls against a fresh temporary store.
//!
//! Input: operations separated by NUL bytes (a C string cannot hold NUL anyway). The first byte
//! of an operation picks it, the rest is its argument:
//!
//! | byte | call                                                                        |
//! |------|-----------------------------------------------------------------------------|
//! | `N`  | `xmppfed_partner_new(NULL, json, in_memory=true)`, then Set -Instance of the result into the store |
//! | `S`  | `xmppfed_partner_new(store, json, in_memory=false)`                          |
//! | `U`  | `xmppfed_partner_set(store, identity, json)`; argument `identity\njson` (no `\n`: identity `contoso.com`) |
//! | `I`  | `xmppfed_partner_set_instance(store, json, force=false)`                     |
//! | `F`  | `xmppfed_partner_set_instance(store, json, force=true)`                      |
//! | `L`  | `xmppfed_partner_list(store, filter, central)`                               |
//! | `R`  | `xmppfed_partner_list(store, filter, local replica)`                         |
//! | `G`  | `xmppfed_partner_get(store, identity)`, then Set -Instance of it unchanged   |
//! | `D`  | `xmppfed_partner_remove(store, identity)` (an outcome, as for every writer)   |
//! | `O`  | replace the central log with the argument's lines (each framed with its correct CRC, unless it starts with `#`) and reopen |
//! | `M`  | `xmppfed_store_import(store, json)`; an argument starting with `!` removes missing partners |
//! | `V`  | `xmppfed_store_import(store, csv)` (`{"Format":"Csv"}`); `!` as for `M`      |
//! | `H`  | `xmppfed_store_history(store, query)` (empty argument: NULL query)           |
//! | `E`  | export as JSON and as CSV, and import each back with RemoveMissing: nothing may change |
//!
//! Any other first byte picks an operation by its value modulo 14. Every input starts from the
//! same store: `contoso.com` (additional domain `sip.contoso.com`) and `fabrikam.com`.
//!
//! Checked after every call: the result is never `XMPPFED_RESULT_PANIC` and always a known code;
//! the last-error message is set exactly on failure; outputs are written exactly on success and
//! are JSON; returned partners are canonical and valid (their domains are fixed points of
//! `canonicalize`, re-normalizing changes nothing); what a write returned is what Get reads back;
//! List results match their filter and are sorted. An import that succeeds left the store as its
//! plan says (and one that fails left it as it was); a history is newest first. After the sequence: central and replica agree,
//! and no domain belongs to two partners.

use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use xmppfed::ffi::*;
use xmppfed::model::{Partner, SaslNegotiation, TlsNegotiation};
use xmppfed::wildcard::WildcardPattern;

use crate::check;

const MAX_OPS: usize = 24;
/// The template store's log: generation 1, as the library writes a new store.
const LOG_FILE: &str = "partners.1.log";

struct Dirs {
    central: PathBuf,
    replica: PathBuf,
    /// The starting store's log, copied into `central` (and `replica`) before every input.
    template: Vec<u8>,
}

fn dirs() -> &'static Dirs {
    static DIRS: OnceLock<Dirs> = OnceLock::new();
    DIRS.get_or_init(|| {
        let base = std::env::var_os("XMPPFED_FUZZ_TMP").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let root = base.join(format!("xmppfed-fuzz-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let template_central = root.join("template-central");
        let template_replica = root.join("template-replica");
        fs::create_dir_all(&template_central).expect("create the fuzz temp folder");
        let store = Handle::open(&template_central, &template_replica);
        for json in [
            r#"{"Identity":"contoso.com","AdditionalDomains":["sip.contoso.com"]}"#,
            r#"{"Identity":"fabrikam.com","PartnerType":"Federated","SupportDialbackNegotiation":false}"#,
        ] {
            let (rc, _) = store.call_out(|out| unsafe { xmppfed_partner_new(store.ptr, cstr(json.as_bytes()).as_ptr(), false, out) });
            assert_eq!(rc, xmppfed_result::Ok, "seeding the template store: {}", last_error());
        }
        drop(store);
        let template = fs::read(template_central.join(LOG_FILE)).expect("template log");
        Dirs { central: root.join("central"), replica: root.join("replica"), template }
    })
}

/// Reset the store folders to the template.
fn reset(d: &Dirs) {
    for dir in [&d.central, &d.replica] {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).expect("create store folder");
        fs::write(dir.join(LOG_FILE), &d.template).expect("write template log");
    }
}

struct Handle {
    ptr: *mut xmppfed_store,
}

impl Handle {
    fn open(central: &Path, replica: &Path) -> Handle {
        Self::try_open(central, replica).unwrap_or_else(|rc| panic!("opening a valid store failed: {rc:?}: {}", last_error()))
    }

    fn try_open(central: &Path, replica: &Path) -> Result<Handle, xmppfed_result> {
        let c = cstr(central.to_str().unwrap().as_bytes());
        let r = cstr(replica.to_str().unwrap().as_bytes());
        let mut ptr: *mut xmppfed_store = std::ptr::null_mut();
        let rc = unsafe { xmppfed_store_open(c.as_ptr(), r.as_ptr(), &mut ptr) };
        check_code(rc, "xmppfed_store_open");
        check!((rc == xmppfed_result::Ok) == !ptr.is_null(), "store_open {rc:?} but handle {ptr:?}");
        if rc == xmppfed_result::Ok {
            Ok(Handle { ptr })
        } else {
            Err(rc)
        }
    }

    /// Call an export with a `char **` out argument; check the output contract; return the text.
    fn call_out(&self, f: impl FnOnce(*mut *mut c_char) -> xmppfed_result) -> (xmppfed_result, Option<String>) {
        let mut out: *mut c_char = std::ptr::null_mut();
        let rc = f(&mut out);
        check_code(rc, "call");
        if rc != xmppfed_result::Ok {
            check!(out.is_null(), "failure {rc:?} wrote an output");
            return (rc, None);
        }
        check!(!out.is_null(), "success without an output");
        let text = unsafe { CStr::from_ptr(out) }.to_str().map(str::to_owned);
        unsafe { xmppfed_string_free(out) };
        let text = text.unwrap_or_else(|e| panic!("invariant violated: output is not UTF-8: {e}"));
        (rc, Some(text))
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { xmppfed_store_close(self.ptr) };
    }
}

fn cstr(bytes: &[u8]) -> CString {
    CString::new(bytes).expect("operations are split on NUL")
}

fn last_error() -> String {
    let p = xmppfed_last_error_message();
    if p.is_null() {
        "(none)".into()
    } else {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The result contract shared by every call.
fn check_code(rc: xmppfed_result, what: &str) {
    let code = rc as i32;
    check!(rc != xmppfed_result::Panic, "{what} returned XMPPFED_RESULT_PANIC: {}", last_error());
    check!(!xmppfed_result_name(code).is_null(), "{what} returned unknown code {code}");
    let msg = xmppfed_last_error_message();
    if rc == xmppfed_result::Ok {
        check!(msg.is_null(), "{what} succeeded but set an error message: {}", last_error());
    } else {
        check!(!msg.is_null(), "{what} failed with {rc:?} but set no error message");
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invariant violated: output is not JSON ({e}): {text:?}"))
}

fn partner_of(v: &Value) -> Partner {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("invariant violated: output is not a Partner ({e}): {v}"))
}

fn is_canonical(domain: &str) -> bool {
    xmppfed::domain::canonicalize(domain).as_deref() == Ok(domain)
}

/// A partner as the library hands it out after validating it.
fn check_partner(p: &Partner) {
    check!(p.identity == p.domain, "Identity {:?} != Domain {:?}", p.identity, p.domain);
    for d in p.claimed_domains().chain((!p.proxy_fqdn.is_empty()).then_some(p.proxy_fqdn.as_str())) {
        check!(is_canonical(d), "domain {d:?} of {:?} is not canonical", p.identity);
        crate::domain::check_canonical(d, d);
    }
    let mut seen = std::collections::HashSet::new();
    for d in p.claimed_domains() {
        check!(seen.insert(d), "{:?} claims {d:?} twice", p.identity);
    }
    check!(p.additional_domains.len() <= xmppfed::model::MAX_ADDITIONAL_DOMAINS, "too many domains");
    check!(p.description.chars().count() <= xmppfed::model::MAX_DESCRIPTION_CHARS, "description too long");
    check!(p.connection_limit >= 1, "ConnectionLimit 0 accepted");
    if !p.support_dialback_negotiation {
        check!(
            p.tls_negotiation != TlsNegotiation::NotSupported && p.sasl_negotiation != SaslNegotiation::NotSupported,
            "no way to authenticate accepted: {p:?}"
        );
    }
    let mut again = p.clone();
    let r = again.normalize();
    check!(r.is_ok(), "a returned partner does not re-validate: {:?}: {p:?}", r.err());
    check!(&again == p, "re-normalizing changed a returned partner: {p:?} -> {again:?}");
}

/// An outcome JSON; its partner is checked when the store holds only what the library wrote (a
/// partner loaded from a hand-made log is trusted as it is, and Set re-validates only what it changes).
fn check_outcome(text: &str, trusted: bool) -> Partner {
    let v = json(text);
    check!(v["Warnings"].is_array(), "outcome without Warnings: {text}");
    for w in v["Warnings"].as_array().unwrap() {
        check!(w["Id"].is_string() && w["Message"].is_string(), "bad warning {w}");
    }
    let p = partner_of(&v["Partner"]);
    if trusted {
        check_partner(&p);
    }
    p
}

fn warned(text: &str, id: &str) -> bool {
    json(text)["Warnings"].as_array().map_or(false, |ws| ws.iter().any(|w| w["Id"] == id))
}

struct Session<'a> {
    dirs: &'a Dirs,
    store: Handle,
    /// The store holds only what the library itself wrote (no `O` operation succeeded).
    trusted: bool,
    /// The replica should equal the central store.
    replica_synced: bool,
}

impl Session<'_> {
    fn list(&self, filter: Option<&[u8]>, local: bool) -> (xmppfed_result, Option<Vec<Partner>>) {
        let filter = filter.map(cstr);
        let fptr = filter.as_ref().map_or(std::ptr::null(), |f| f.as_ptr());
        let (rc, out) = self.store.call_out(|out| unsafe { xmppfed_partner_list(self.store.ptr, fptr, local, out) });
        let partners = out.map(|text| {
            let v = json(&text);
            check!(v.is_array(), "list output is not an array: {text}");
            v.as_array().unwrap().iter().map(partner_of).collect::<Vec<_>>()
        });
        if let Some(ps) = &partners {
            for w in ps.windows(2) {
                check!(w[0].identity < w[1].identity, "list not sorted/unique: {:?} then {:?}", w[0].identity, w[1].identity);
            }
            if let Some(f) = &filter {
                let f = f.to_str().expect("a filter that was accepted is UTF-8");
                let pattern = WildcardPattern::parse(f).expect("a filter the store accepted parses");
                for p in ps {
                    check!(pattern.is_match(&p.identity), "list {f:?} returned {:?}", p.identity);
                }
            }
        }
        (rc, partners)
    }

    fn get(&self, identity: &str, local: bool) -> Option<Partner> {
        let id = cstr(identity.as_bytes());
        let (rc, out) = self.store.call_out(|out| unsafe { xmppfed_partner_get(self.store.ptr, id.as_ptr(), local, out) });
        check!(rc == xmppfed_result::Ok || rc == xmppfed_result::NotFound, "get {identity:?}: {rc:?}: {}", last_error());
        out.map(|t| partner_of(&json(&t)))
    }

    fn set_instance(&self, json: &[u8], force: bool) -> (xmppfed_result, Option<String>) {
        let j = cstr(json);
        self.store.call_out(|out| unsafe { xmppfed_partner_set_instance(self.store.ptr, j.as_ptr(), std::ptr::null(), force, out) })
    }

    /// After a successful write: the store holds exactly what the call returned.
    fn written(&mut self, outcome: &str) {
        let p = check_outcome(outcome, self.trusted);
        check!(p.revision > 0, "a stored partner has revision 0: {p:?}");
        if warned(outcome, "ReplicaNotRefreshed") {
            self.replica_synced = false;
        }
        let stored = self.get(&p.identity, false);
        check!(stored.as_ref() == Some(&p), "write returned {p:?} but Get reads {stored:?}");
    }

    fn op(&mut self, op: u8, arg: &[u8]) {
        let op = match op {
            b'N' | b'S' | b'U' | b'I' | b'F' | b'L' | b'R' | b'G' | b'D' | b'O' | b'M' | b'V' | b'H' | b'E' => op,
            other => b"NSUIFLRGDOMVHE"[other as usize % 14],
        };
        match op {
            b'N' => {
                let j = cstr(arg);
                let (rc, out) = self.store.call_out(|out| unsafe { xmppfed_partner_new(std::ptr::null_mut(), j.as_ptr(), true, out) });
                if let Some(text) = out {
                    let p = check_outcome(&text, true);
                    check!(p.revision == 0, "New -InMemory gave revision {}", p.revision);
                    // What New -InMemory validated, Set -Instance accepts (the store may still
                    // refuse it for what is in it).
                    let instance = serde_json::to_vec(&p).unwrap();
                    let (rc2, out2) = self.set_instance(&instance, false);
                    check!(
                        matches!(rc2, xmppfed_result::Ok | xmppfed_result::AlreadyExists | xmppfed_result::DomainConflict)
                            || !self.trusted,
                        "New -InMemory accepted {:?} as {p:?}, Set -Instance refused it: {rc2:?}: {}",
                        String::from_utf8_lossy(arg),
                        last_error()
                    );
                    if let Some(o) = out2 {
                        self.written(&o);
                    }
                } else {
                    let _ = rc;
                }
            }
            b'S' => {
                let j = cstr(arg);
                let (_, out) = self.store.call_out(|out| unsafe { xmppfed_partner_new(self.store.ptr, j.as_ptr(), false, out) });
                if let Some(o) = out {
                    self.written(&o);
                }
            }
            b'U' => {
                let (identity, changes) = match arg.iter().position(|&b| b == b'\n') {
                    Some(i) => (&arg[..i], &arg[i + 1..]),
                    None => (&b"contoso.com"[..], arg),
                };
                let (id, j) = (cstr(identity), cstr(changes));
                let (_, out) = self.store.call_out(|out| unsafe { xmppfed_partner_set(self.store.ptr, id.as_ptr(), j.as_ptr(), out) });
                if let Some(o) = out {
                    self.written(&o);
                }
            }
            b'I' | b'F' => {
                let (_, out) = self.set_instance(arg, op == b'F');
                if let Some(o) = out {
                    self.written(&o);
                }
            }
            b'L' | b'R' => {
                let local = op == b'R';
                let (rc, filtered) = self.list(Some(arg), local);
                if let Some(filtered) = filtered {
                    // The filtered list is the full list filtered.
                    let (rc_all, all) = self.list(None, local);
                    check!(rc_all == xmppfed_result::Ok, "list without filter failed after one with: {rc_all:?}");
                    let all = all.unwrap();
                    for p in &filtered {
                        check!(all.contains(p), "filtered list has {p:?}, full list does not");
                    }
                } else {
                    check!(
                        matches!(rc, xmppfed_result::InvalidFilter | xmppfed_result::InvalidUtf8) || !self.trusted,
                        "list failed: {rc:?}: {}",
                        last_error()
                    );
                }
            }
            b'G' => {
                let id = cstr(arg);
                let (rc, out) = self.store.call_out(|out| unsafe { xmppfed_partner_get(self.store.ptr, id.as_ptr(), false, out) });
                if let Some(text) = out {
                    let p = partner_of(&json(&text));
                    if self.trusted {
                        check_partner(&p);
                        // An object just read and written back unchanged is not stale.
                        let (rc2, out2) = self.set_instance(text.as_bytes(), false);
                        check!(rc2 == xmppfed_result::Ok, "Set -Instance of an unchanged Get result {p:?}: {rc2:?}: {}", last_error());
                        self.written(&out2.unwrap());
                    }
                } else if self.trusted {
                    check!(
                        matches!(rc, xmppfed_result::NotFound | xmppfed_result::InvalidDomain | xmppfed_result::InvalidUtf8),
                        "get failed: {rc:?}: {}",
                        last_error()
                    );
                }
            }
            b'D' => {
                let id = cstr(arg);
                let (_, out) = self.store.call_out(|out| unsafe { xmppfed_partner_remove(self.store.ptr, id.as_ptr(), out) });
                if let Some(text) = out {
                    // Remove answers like every writer: the partner as it was, and warnings.
                    let p = check_outcome(&text, self.trusted);
                    let after = self.get(&p.identity, false);
                    check!(after.is_none(), "removed {:?} but Get still finds {after:?}", p.identity);
                }
            }
            b'O' => self.reopen_with_log(arg),
            b'M' | b'V' => {
                let (remove_missing, input) = match arg.strip_prefix(b"!") {
                    Some(rest) => (true, rest),
                    None => (false, arg),
                };
                let format = if op == b'V' { "Csv" } else { "Json" };
                self.import(input, &format!(r#"{{"Format":"{format}","RemoveMissing":{remove_missing}}}"#));
            }
            b'H' => {
                let q = cstr(arg);
                let query = if arg.is_empty() { std::ptr::null() } else { q.as_ptr() };
                let (rc, out) = self.store.call_out(|out| unsafe { xmppfed_store_history(self.store.ptr, query, out) });
                if let Some(text) = out {
                    let entries = json(&text);
                    let revisions: Vec<u64> = entries.as_array().expect("history is an array").iter().map(|e| e["Revision"].as_u64().expect("a revision")).collect();
                    check!(revisions.windows(2).all(|w| w[0] >= w[1]), "history is not newest first: {revisions:?}");
                } else if self.trusted {
                    check!(
                        matches!(rc, xmppfed_result::JsonSyntax | xmppfed_result::JsonShape | xmppfed_result::InvalidValue | xmppfed_result::InvalidFilter | xmppfed_result::InvalidUtf8 | xmppfed_result::InputTooLarge),
                        "history failed: {rc:?}: {}",
                        last_error()
                    );
                }
            }
            b'E' => {
                for format in ["Json", "Csv"] {
                    let f = cstr(format.as_bytes());
                    let (rc, out) = self.store.call_out(|out| unsafe { xmppfed_store_export(self.store.ptr, f.as_ptr(), std::ptr::null(), false, out) });
                    let Some(text) = out else {
                        check!(!self.trusted, "export {format} failed: {rc:?}: {}", last_error());
                        return;
                    };
                    let plan = self.import(text.as_bytes(), &format!(r#"{{"Format":"{format}","RemoveMissing":true}}"#));
                    if self.trusted {
                        let plan = plan.unwrap_or_else(|| panic!("importing the store's own {format} export failed: {}", last_error()));
                        let changed = ["Added", "Changed", "Removed", "Rejected"].map(|k| plan[k].as_array().map_or(0, |a| a.len()));
                        check!(changed == [0; 4] && plan["CommittedRevision"].is_null(), "the store's own {format} export imports as a change: {plan}");
                    }
                }
            }
            _ => unreachable!(),
        }
    }

    /// Import `input` with `options`; after a success the store holds what the plan says, after a
    /// failure what it held before. Returns the plan.
    fn import(&mut self, input: &[u8], options: &str) -> Option<Value> {
        let before = self.list(None, false).1;
        let (i, o) = (cstr(input), cstr(options.as_bytes()));
        let (rc, out) = self.store.call_out(|out| unsafe { xmppfed_store_import(self.store.ptr, i.as_ptr(), o.as_ptr(), out) });
        let after = self.list(None, false).1;
        let Some(text) = out else {
            check!(after == before, "a failed import ({rc:?}) changed the store");
            if self.trusted {
                check!(
                    matches!(rc, xmppfed_result::JsonSyntax | xmppfed_result::JsonShape | xmppfed_result::InvalidValue | xmppfed_result::ImportRejected | xmppfed_result::InvalidUtf8),
                    "import failed: {rc:?}: {}",
                    last_error()
                );
            }
            return None;
        };
        let plan = json(&text);
        if warned(&text, "ReplicaNotRefreshed") {
            self.replica_synced = false;
        }
        if let (Some(before), Some(after)) = (before, after) {
            let revision = plan["CommittedRevision"].as_u64();
            let mut expected: std::collections::BTreeMap<String, Partner> = before.into_iter().map(|p| (p.identity.clone(), p)).collect();
            for p in plan["Removed"].as_array().unwrap() {
                expected.remove(p["Identity"].as_str().unwrap());
            }
            for p in plan["Added"].as_array().unwrap().iter().chain(plan["Changed"].as_array().unwrap().iter().map(|c| &c["After"])) {
                let p = partner_of(p);
                check!(Some(p.revision) == revision, "an imported partner has revision {} in commit {revision:?}", p.revision);
                if self.trusted {
                    check_partner(&p);
                }
                expected.insert(p.identity.clone(), p);
            }
            let expected: Vec<Partner> = expected.into_values().collect();
            check!(after == expected, "after the import the store holds {after:?}, its plan says {expected:?}");
        }
        Some(plan)
    }

    /// Replace the central log with `arg`'s lines and reopen the store on it.
    fn reopen_with_log(&mut self, arg: &[u8]) {
        let mut log = Vec::new();
        for line in arg.split(|&b| b == b'\n') {
            if let Some(raw) = line.strip_prefix(b"#") {
                log.extend_from_slice(raw);
            } else {
                log.extend_from_slice(format!("{:08x} ", crc32(line)).as_bytes());
                log.extend_from_slice(line);
            }
            log.push(b'\n');
        }
        // Close first: the old handle must not see the file change under it.
        self.store = Handle { ptr: std::ptr::null_mut() };
        fs::write(self.dirs.central.join(LOG_FILE), &log).expect("write log");
        // A damaged central store still opens (the replica must answer); reading it reports the
        // damage, or a store other than the one the replica knew, and nothing else.
        self.store = Handle::open(&self.dirs.central, &self.dirs.replica);
        self.trusted = false;
        self.replica_synced = false;
        let (rc, _) = self.list(None, false);
        if rc != xmppfed_result::Ok {
            check!(
                matches!(rc, xmppfed_result::StoreCorrupt | xmppfed_result::StoreVersion | xmppfed_result::StoreMismatch),
                "reading a damaged store: {rc:?}: {}",
                last_error()
            );
            // Back to the template, replica included: restoring an older central log under a
            // replica that has seen more is a rollback, which the library rightly refuses.
            self.store = Handle { ptr: std::ptr::null_mut() };
            reset(self.dirs);
            self.store = Handle::open(&self.dirs.central, &self.dirs.replica);
        }
    }

    /// Whole-store invariants after the sequence.
    fn finish(&mut self) {
        let (rc, central) = self.list(None, false);
        check!(rc == xmppfed_result::Ok, "final list failed: {rc:?}: {}", last_error());
        let central = central.unwrap();
        if self.trusted {
            let mut owner: HashMap<&str, &str> = HashMap::new();
            for p in &central {
                check_partner(p);
                for d in p.claimed_domains() {
                    let prev = owner.insert(d, &p.identity);
                    check!(prev.is_none(), "domain {d:?} belongs to {prev:?} and {:?}", p.identity);
                }
            }
        }
        if self.replica_synced {
            let (rc, replica) = self.list(None, true);
            check!(rc == xmppfed_result::Ok, "final replica list failed: {rc:?}: {}", last_error());
            check!(replica.as_ref() == Some(&central), "replica {replica:?} differs from central {central:?}");
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    // The same CRC-32 (IEEE) as the store; written out so the harness needs no extra crate.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

pub fn run(data: &[u8]) {
    let d = dirs();
    reset(d);
    let mut s = Session { dirs: d, store: Handle::open(&d.central, &d.replica), trusted: true, replica_synced: true };
    for chunk in data.split(|&b| b == 0).take(MAX_OPS) {
        if let Some((&op, arg)) = chunk.split_first() {
            s.op(op, arg);
        }
    }
    s.finish();
}
