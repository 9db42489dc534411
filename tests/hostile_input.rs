//! Hostile input through the C ABI, exactly as a C caller would send it: raw pointers, NULLs,
//! bytes that are not UTF-8, multi-megabyte strings, malformed and deeply nested JSON, wrong JSON
//! types, control and bidi characters, confusable domains, out-of-range numbers, DNS edge cases,
//! bad wildcard filters and bad list modifiers.
//!
//! Every case names the function, its arguments and the exact `xmppfed_result` expected. For every
//! case the runner checks:
//! 1. the exact result code, and never `XMPPFED_RESULT_PANIC`;
//! 2. on failure: the out-pointer still holds its sentinel, `xmppfed_last_error_message()` is
//!    non-NULL, valid UTF-8 and free of raw control / bidi characters; on success: the out-pointer
//!    was written, the text is freed with `xmppfed_string_free` and the last error is NULL;
//! 3. the central and replica folders are byte-for-byte unchanged after every failing case (and
//!    after every successful read-only case);
//! 4. optional extra checks on the output (success) or on the message (failure), and time limits.
//!
//! Cases marked `SPEC-CHECK` record what the library does where the documents leave room (see the
//! comment on each). Comments marked `Regression` name library bugs this corpus found and that
//! were fixed; their cases keep them fixed.
//!
//! Run: `cargo --config build/debian-crates.toml test --release --test hostile_input -- --nocapture`

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};
use std::fs;
use std::path::{Path, PathBuf};
use std::ptr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use xmppfed::ffi::*;

type R = xmppfed_result;

const MB10: usize = 10 * 1024 * 1024;
const SENTINEL: usize = 0x5EED_0BA0;

// ---------------------------------------------------------------------------------------------
// The shape of a case
// ---------------------------------------------------------------------------------------------

/// A `const char *` argument: NULL, or these bytes followed by a NUL.
enum Arg {
    Null,
    Bytes(Vec<u8>),
}

fn s(text: impl AsRef<str>) -> Arg {
    Arg::Bytes(text.as_ref().as_bytes().to_vec())
}

fn raw(bytes: &[u8]) -> Arg {
    Arg::Bytes(bytes.to_vec())
}

fn null() -> Arg {
    Arg::Null
}

impl Arg {
    fn into_c(self) -> Option<CString> {
        match self {
            Arg::Null => None,
            Arg::Bytes(b) => Some(CString::new(b).expect("test inputs contain no NUL byte")),
        }
    }
}

fn cptr(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// The `xmppfed_store *` argument.
#[derive(Clone, Copy)]
enum St {
    Null,
    Live,
}

/// The `*_out` argument.
#[derive(Clone, Copy, PartialEq)]
enum Out {
    Given,
    Null,
}
use Out::Given;
const NO_OUT: Out = Out::Null;

enum Call {
    Open(Arg, Arg, Out),
    /// Open, then list the central store (problems of the central store are reported there, not
    /// at open, so that the replica stays usable).
    OpenList(Arg, Arg),
    Paths(St, Out),
    New(St, Arg, bool, Out),
    Get(St, Arg, bool, Out),
    List(St, Arg, bool, Out),
    Set(St, Arg, Arg, Out),
    SetInstance(St, Arg, bool, Out),
    Remove(St, Arg, Out),
    Replicate(St),
    Explain(St, Arg, bool, Out),
    History(St, Arg, Out),
    /// Export (store, format, filter, local).
    Export(St, Arg, Arg, bool, Out),
    /// Import (store, input, options); `true`: apply, `false`: the preview.
    Import(St, Arg, Arg, bool, Out),
}

impl Call {
    fn function(&self) -> &'static str {
        match self {
            Call::Open(..) => "xmppfed_store_open",
            Call::OpenList(..) => "xmppfed_store_open + xmppfed_partner_list",
            Call::Paths(..) => "xmppfed_store_paths",
            Call::New(..) => "xmppfed_partner_new",
            Call::Get(..) => "xmppfed_partner_get",
            Call::List(..) => "xmppfed_partner_list",
            Call::Set(..) => "xmppfed_partner_set",
            Call::SetInstance(..) => "xmppfed_partner_set_instance",
            Call::Remove(..) => "xmppfed_partner_remove",
            Call::Replicate(..) => "xmppfed_store_replicate",
            Call::Explain(..) => "xmppfed_partner_explain",
            Call::History(..) => "xmppfed_store_history",
            Call::Export(..) => "xmppfed_store_export",
            Call::Import(.., true, _) => "xmppfed_store_import",
            Call::Import(.., false, _) => "xmppfed_store_import_preview",
        }
    }

    /// Whether success may legitimately change the store folders.
    fn may_write(&self) -> bool {
        matches!(self, Call::New(_, _, false, _) | Call::Set(..) | Call::SetInstance(..) | Call::Remove(..) | Call::Replicate(..) | Call::Import(.., true, _))
    }
}

type Check = Box<dyn Fn(&str) -> Result<(), String>>;

struct Case {
    cat: &'static str,
    name: String,
    call: Call,
    expect: R,
    /// Applied to the output text on success, or to the error message on failure.
    check: Option<Check>,
    within: Option<Duration>,
}

struct Corpus {
    cases: Vec<Case>,
    cat: &'static str,
}

impl Corpus {
    fn cat(&mut self, cat: &'static str) {
        self.cat = cat;
    }
    fn add(&mut self, name: impl Into<String>, call: Call, expect: R) -> &mut Case {
        self.cases.push(Case { cat: self.cat, name: name.into(), call, expect, check: None, within: None });
        self.cases.last_mut().unwrap()
    }
    /// Add with an extra check.
    fn addc(&mut self, name: impl Into<String>, call: Call, expect: R, f: impl Fn(&str) -> Result<(), String> + 'static) {
        let c = self.add(name, call, expect);
        c.check = Some(Box::new(f));
    }
    fn addt(&mut self, name: impl Into<String>, call: Call, expect: R, limit: Duration) -> &mut Case {
        let c = self.add(name, call, expect);
        c.within = Some(limit);
        c
    }
}

// ---------------------------------------------------------------------------------------------
// Output checks
// ---------------------------------------------------------------------------------------------

fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("output is not JSON ({e}): {}", preview(text)))
}

/// The output is a JSON array of `n` partners.
fn list_len(n: usize) -> impl Fn(&str) -> Result<(), String> {
    move |text| {
        let v = parse(text)?;
        let len = v.as_array().ok_or("output is not an array")?.len();
        if len == n {
            Ok(())
        } else {
            Err(format!("expected {n} partners, got {len}"))
        }
    }
}

/// The output is a partner (Get) or an outcome (New) whose Identity is `id`.
fn identity(id: &'static str) -> impl Fn(&str) -> Result<(), String> {
    move |text| {
        let v = parse(text)?;
        let p = if v.get("Partner").is_some() { &v["Partner"] } else { &v };
        match p["Identity"].as_str() {
            Some(got) if got == id => Ok(()),
            other => Err(format!("expected Identity {id:?}, got {other:?}")),
        }
    }
}

/// The output is an outcome whose partner has `field` equal to `value`.
fn field(name: &'static str, value: Value) -> impl Fn(&str) -> Result<(), String> {
    move |text| {
        let v = parse(text)?;
        let got = &v["Partner"][name];
        if *got == value {
            Ok(())
        } else {
            Err(format!("expected Partner.{name} = {value}, got {got}"))
        }
    }
}

fn additional_count(n: usize) -> impl Fn(&str) -> Result<(), String> {
    move |text| {
        let v = parse(text)?;
        let len = v["Partner"]["AdditionalDomains"].as_array().map_or(usize::MAX, |a| a.len());
        if len == n {
            Ok(())
        } else {
            Err(format!("expected {n} additional domains, got {len}"))
        }
    }
}

/// The output is an explanation (xmppfed_partner_explain) with `Allowed` and `Partner` as given.
fn explained(allowed: bool, partner: Option<&'static str>) -> impl Fn(&str) -> Result<(), String> {
    move |text| {
        let v = parse(text)?;
        let got = (v["Allowed"].as_bool(), v["Partner"].as_str());
        if got == (Some(allowed), partner) {
            Ok(())
        } else {
            Err(format!("expected Allowed {allowed} by {partner:?}, got {got:?}: {}", preview(text)))
        }
    }
}

/// The (error) text contains `needle`.
fn contains(needle: &'static str) -> impl Fn(&str) -> Result<(), String> {
    move |text| {
        if text.contains(needle) {
            Ok(())
        } else {
            Err(format!("expected the text to contain {needle:?}: {}", preview(text)))
        }
    }
}

fn preview(text: &str) -> String {
    let p: String = text.chars().take(300).collect();
    format!("{p:?}{}", if text.len() > 300 { "..." } else { "" })
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

// ---------------------------------------------------------------------------------------------
// Store snapshots
// ---------------------------------------------------------------------------------------------

/// Every file (with its bytes) and folder under the given folders.
type Snapshot = BTreeMap<PathBuf, Option<Vec<u8>>>;

fn snapshot(roots: &[&Path]) -> Snapshot {
    fn walk(dir: &Path, out: &mut Snapshot) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                out.insert(path.clone(), None);
                walk(&path, out);
            } else if path.file_name().map_or(false, |n| n == "partners.lock") {
                // The lock holder's note says who took the lock last; a refused change may have
                // taken it (rules that need the store's state are decided under the lock).
                out.insert(path.clone(), Some(b"(the lock holder's note)".to_vec()));
            } else {
                out.insert(path.clone(), Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Snapshot::new();
    for r in roots {
        walk(r, &mut out);
    }
    out
}

fn diff(a: &Snapshot, b: &Snapshot) -> String {
    let mut d = Vec::new();
    for (p, v) in a {
        match b.get(p) {
            None => d.push(format!("removed {}", p.display())),
            Some(w) if w != v => d.push(format!("changed {}", p.display())),
            _ => {}
        }
    }
    for p in b.keys() {
        if !a.contains_key(p) {
            d.push(format!("added {}", p.display()));
        }
    }
    d.join(", ")
}

// ---------------------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------------------

struct Env {
    store: *mut xmppfed_store,
    central: PathBuf,
    replica: PathBuf,
}

struct Observed {
    code: R,
    /// The text written through the out-pointer (success with an out-pointer).
    output: Option<String>,
    /// Problems with the out-pointer protocol.
    problems: Vec<String>,
    message: Option<String>,
}

fn last_error() -> Result<Option<String>, String> {
    let p = xmppfed_last_error_message();
    if p.is_null() {
        return Ok(None);
    }
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map(|s| Some(s.to_owned()))
        .map_err(|_| "last error message is not valid UTF-8".to_string())
}

/// Call the function; then read the last error, check the out-pointer, take and free the output.
unsafe fn execute(call: Call, env: &Env) -> Observed {
    let store_of = |st: St| match st {
        St::Null => ptr::null_mut(),
        St::Live => env.store,
    };
    let mut problems = Vec::new();
    let mut text_out: *mut c_char = SENTINEL as *mut c_char;
    let text_slot: *mut *mut c_char = &mut text_out;
    let slot = |o: Out| if o == Given { text_slot } else { ptr::null_mut() };
    let text_given: bool;

    let code = match call {
        Call::Open(central, replica, out) => {
            let (c, r) = (central.into_c(), replica.into_c());
            let mut handle: *mut xmppfed_store = SENTINEL as *mut xmppfed_store;
            let code = xmppfed_store_open(cptr(&c), cptr(&r), if out == Given { &mut handle } else { ptr::null_mut() });
            text_given = false;
            if out == Given {
                if code == R::Ok {
                    if handle.is_null() || handle as usize == SENTINEL {
                        problems.push("store_out not written on success".into());
                    } else {
                        let msg = last_error();
                        xmppfed_store_close(handle);
                        if !matches!(msg, Ok(None)) {
                            problems.push("last error not NULL after success".into());
                        }
                    }
                } else if handle as usize != SENTINEL {
                    problems.push("store_out was written although the call failed".into());
                }
            }
            code
        }
        Call::OpenList(central, replica) => {
            let (c, r) = (central.into_c(), replica.into_c());
            let mut handle: *mut xmppfed_store = ptr::null_mut();
            text_given = false;
            let code = xmppfed_store_open(cptr(&c), cptr(&r), &mut handle);
            if code != R::Ok {
                problems.push(format!("open failed with {code:?}; central problems belong to the operations"));
                code
            } else {
                let mut out: *mut c_char = ptr::null_mut();
                let code = xmppfed_partner_list(handle, ptr::null(), false, &mut out);
                xmppfed_string_free(out);
                // Closing does not touch the last error, which the harness reads next.
                xmppfed_store_close(handle);
                code
            }
        }
        Call::Paths(st, out) => {
            text_given = out == Given;
            xmppfed_store_paths(store_of(st), slot(out))
        }
        Call::New(st, json, in_memory, out) => {
            text_given = out == Given;
            let j = json.into_c();
            xmppfed_partner_new(store_of(st), cptr(&j), in_memory, slot(out))
        }
        Call::Get(st, id, local, out) => {
            text_given = out == Given;
            let i = id.into_c();
            xmppfed_partner_get(store_of(st), cptr(&i), local, slot(out))
        }
        Call::Explain(st, domain, local, out) => {
            text_given = out == Given;
            let d = domain.into_c();
            xmppfed_partner_explain(store_of(st), cptr(&d), local, slot(out))
        }
        Call::List(st, filter, local, out) => {
            text_given = out == Given;
            let f = filter.into_c();
            xmppfed_partner_list(store_of(st), cptr(&f), local, slot(out))
        }
        Call::Set(st, id, changes, out) => {
            text_given = out == Given;
            let (i, c) = (id.into_c(), changes.into_c());
            xmppfed_partner_set(store_of(st), cptr(&i), cptr(&c), slot(out))
        }
        Call::SetInstance(st, json, force, out) => {
            text_given = out == Given;
            let j = json.into_c();
            xmppfed_partner_set_instance(store_of(st), cptr(&j), std::ptr::null(), force, slot(out))
        }
        Call::Remove(st, id, out) => {
            text_given = out == Given;
            let i = id.into_c();
            xmppfed_partner_remove(store_of(st), cptr(&i), slot(out))
        }
        Call::Replicate(st) => {
            text_given = false;
            xmppfed_store_replicate(store_of(st))
        }
        Call::History(st, query, out) => {
            text_given = out == Given;
            let q = query.into_c();
            xmppfed_store_history(store_of(st), cptr(&q), slot(out))
        }
        Call::Export(st, format, filter, local, out) => {
            text_given = out == Given;
            let (f, w) = (format.into_c(), filter.into_c());
            xmppfed_store_export(store_of(st), cptr(&f), cptr(&w), local, slot(out))
        }
        Call::Import(st, input, options, apply, out) => {
            text_given = out == Given;
            let (i, o) = (input.into_c(), options.into_c());
            if apply {
                xmppfed_store_import(store_of(st), cptr(&i), cptr(&o), slot(out))
            } else {
                xmppfed_store_import_preview(store_of(st), cptr(&i), cptr(&o), slot(out))
            }
        }
    };

    // Read the message before any further library call.
    let message = match last_error() {
        Ok(m) => m,
        Err(e) => {
            problems.push(e);
            Some(String::new())
        }
    };
    if code == R::Ok && message.is_some() {
        problems.push("last error is not NULL after success".into());
    }
    if code != R::Ok {
        match &message {
            None => problems.push("last error is NULL after a failure".into()),
            Some(m) => {
                if let Some(c) = m.chars().find(|&c| c.is_control() || is_bidi(c)) {
                    problems.push(format!("error message contains the raw character U+{:04X}: {}", c as u32, preview(m)));
                }
                if m.is_empty() {
                    problems.push("error message is empty".into());
                }
            }
        }
    }

    let mut output = None;
    if text_given {
        if code == R::Ok {
            if text_out.is_null() || text_out as usize == SENTINEL {
                problems.push("out-pointer not written on success".into());
            } else {
                match CStr::from_ptr(text_out).to_str() {
                    Ok(t) => output = Some(t.to_owned()),
                    Err(_) => problems.push("output is not valid UTF-8".into()),
                }
                xmppfed_string_free(text_out);
            }
        } else if text_out as usize != SENTINEL {
            problems.push("out-pointer was written although the call failed".into());
        }
    }
    Observed { code, output, problems, message }
}

fn code_name(code: R) -> String {
    let p = xmppfed_result_name(code as i32);
    if p.is_null() {
        format!("{}", code as i32)
    } else {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

fn short_name(name: &str) -> String {
    let p: String = name.chars().take(90).collect();
    let p = format!("{p:?}");
    if name.chars().count() > 90 {
        format!("{p}...")
    } else {
        p
    }
}

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

unsafe fn must(code: R, what: &str) {
    if code != R::Ok {
        panic!("setup: {what} failed with {}: {:?}", code_name(code), last_error());
    }
}

unsafe fn new_stored(store: *mut xmppfed_store, json: &str) {
    let j = CString::new(json).unwrap();
    let mut out: *mut c_char = ptr::null_mut();
    must(xmppfed_partner_new(store, j.as_ptr(), false, &mut out), json);
    xmppfed_string_free(out);
}

unsafe fn get_json(store: *mut xmppfed_store, id: &str) -> Value {
    let i = CString::new(id).unwrap();
    let mut out: *mut c_char = ptr::null_mut();
    must(xmppfed_partner_get(store, i.as_ptr(), false, &mut out), id);
    let v = serde_json::from_str(CStr::from_ptr(out).to_str().unwrap()).unwrap();
    xmppfed_string_free(out);
    v
}

/// The five partners of the setup phase, sorted by identity.
const SETUP_PARTNERS: usize = 5;

#[test]
fn hostile_input_through_the_c_abi() {
    let root = tempfile::tempdir().unwrap();
    let central = root.path().join("central");
    let replica = root.path().join("replica");
    fs::create_dir(&central).unwrap();
    // NULL paths in xmppfed_store_open fall back to these (never to the user's real store).
    std::env::set_var("XMPPFED_STORE", &central);
    std::env::set_var("XMPPFED_REPLICA", &replica);
    std::env::remove_var("XMPPFED_LOCK_TIMEOUT_MS");

    let (c, r) = (CString::new(central.to_str().unwrap()).unwrap(), CString::new(replica.to_str().unwrap()).unwrap());
    let mut store: *mut xmppfed_store = ptr::null_mut();
    unsafe {
        must(xmppfed_store_open(c.as_ptr(), r.as_ptr(), &mut store), "open");
        new_stored(store, r#"{"Identity":"contoso.com","AdditionalDomains":["sip.contoso.com"],"Description":"setup"}"#);
        new_stored(store, r#"{"Identity":"fabrikam.com"}"#);
        new_stored(store, r#"{"Identity":"Bücher.example"}"#);
        new_stored(store, r#"{"Identity":"apple.com"}"#);
        let many: Vec<String> = (0..1000).map(|i| format!("d{i}.many.example")).collect();
        new_stored(store, &json!({"Identity": "many.example", "AdditionalDomains": many}).to_string());
        must(xmppfed_store_replicate(store), "replicate");
    }
    let contoso = unsafe { get_json(store, "contoso.com") };
    let env = Env { store, central: central.clone(), replica: replica.clone() };

    let corpus = build_corpus(&env, &contoso);
    let mut baseline = snapshot(&[&env.central, &env.replica]);
    assert!(baseline.keys().any(|p| p.to_string_lossy().ends_with(".log") && p.starts_with(&env.replica)), "setup created the replica");

    let total = corpus.len();
    let (mut passed, mut panics) = (0usize, 0usize);
    let mut store_unchanged = true;
    let mut failures: Vec<String> = Vec::new();
    let mut per_cat: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();

    for (n, case) in corpus.into_iter().enumerate() {
        let Case { cat, name, call, expect, check, within } = case;
        let function = call.function();
        let may_write = call.may_write();
        let started = Instant::now();
        let obs = unsafe { execute(call, &env) };
        let elapsed = started.elapsed();

        let mut problems = obs.problems;
        if obs.code == R::Panic {
            panics += 1;
            problems.push(format!("PANIC: {:?}", obs.message));
        }
        if obs.code != expect {
            problems.push(format!(
                "expected {}, got {}{}",
                code_name(expect),
                code_name(obs.code),
                obs.message.as_deref().map(|m| format!(" ({})", preview(m))).unwrap_or_default()
            ));
        }
        if let Some(limit) = within {
            if elapsed > limit {
                problems.push(format!("took {elapsed:?}, limit {limit:?}"));
            }
        }
        if let Some(check) = &check {
            let subject = if obs.code == R::Ok { obs.output.as_deref() } else { obs.message.as_deref() };
            if let Some(text) = subject {
                if obs.code == expect {
                    if let Err(e) = check(text) {
                        problems.push(e);
                    }
                }
            }
        }
        // Byte-for-byte: every failure, and every success of a read-only call.
        let now = snapshot(&[&env.central, &env.replica]);
        if now != baseline {
            if obs.code != R::Ok || !may_write {
                store_unchanged = false;
                problems.push(format!("store folders changed: {}", diff(&baseline, &now)));
            }
            baseline = now;
        }

        let entry = per_cat.entry(cat).or_default();
        entry.0 += 1;
        let verdict = if problems.is_empty() {
            passed += 1;
            entry.1 += 1;
            "ok  "
        } else {
            "FAIL"
        };
        println!(
            "{verdict} #{n:03} [{cat}] {function}({}) -> {} ({} ms)",
            short_name(&name),
            code_name(obs.code),
            elapsed.as_millis()
        );
        for p in &problems {
            println!("       {p}");
        }
        if !problems.is_empty() {
            failures.push(format!("#{n:03} [{cat}] {function}({}): {}", short_name(&name), problems.join("; ")));
        }
    }

    // NULL is accepted and ignored by the two void functions; the handle still works afterwards.
    unsafe {
        xmppfed_string_free(ptr::null_mut());
        xmppfed_store_close(ptr::null_mut());
        assert!(xmppfed_result_name(99).is_null());
        assert!(xmppfed_result_name(-1).is_null());
        assert!(xmppfed_result_name(i32::MIN).is_null());
        let mut out: *mut c_char = ptr::null_mut();
        let f = CString::new("*").unwrap();
        assert_eq!(xmppfed_partner_list(env.store, f.as_ptr(), false, &mut out), R::Ok);
        let listed: Value = serde_json::from_str(CStr::from_ptr(out).to_str().unwrap()).unwrap();
        xmppfed_string_free(out);
        assert_eq!(listed.as_array().unwrap().len(), SETUP_PARTNERS, "the setup partners are all still there");
        xmppfed_store_close(env.store);
    }

    println!();
    for (cat, (n, ok)) in &per_cat {
        println!("  {cat:<10} {ok:>4}/{n:<4} passed");
    }
    if !failures.is_empty() {
        println!("\nFailures:");
        for f in &failures {
            println!("  {f}");
        }
    }
    println!(
        "hostile input: cases={total} passed={passed} panics={panics} store_unchanged={}",
        if store_unchanged { "yes" } else { "no" }
    );
    assert!(total >= 200, "the corpus has at least 200 cases");
    assert_eq!(panics, 0, "no case may end in XMPPFED_RESULT_PANIC");
    assert!(store_unchanged, "no failing case may change the store");
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

/// Invalid UTF-8 byte sequences, each with a name.
const BAD_UTF8: &[(&str, &[u8])] = &[
    ("overlong '/' C0 AF", b"\xC0\xAF"),
    ("overlong NUL C0 80", b"\xC0\x80"),
    ("overlong C1 BF", b"\xC1\xBF"),
    ("overlong 3-byte E0 80 AF", b"\xE0\x80\xAF"),
    ("overlong 4-byte F0 80 80 AF", b"\xF0\x80\x80\xAF"),
    ("lone continuation 80", b"\x80"),
    ("lone continuation BF", b"\xBF"),
    ("surrogate D800 ED A0 80", b"\xED\xA0\x80"),
    ("surrogate DFFF ED BF BF", b"\xED\xBF\xBF"),
    ("surrogate pair as CESU-8", b"\xED\xA0\xBD\xED\xB8\x80"),
    ("byte FF", b"\xFF"),
    ("byte FE", b"\xFE"),
    ("truncated 2-byte C3", b"\xC3"),
    ("truncated 3-byte E2 82", b"\xE2\x82"),
    ("truncated 4-byte F0 9F 98", b"\xF0\x9F\x98"),
    ("above U+10FFFF F4 90 80 80", b"\xF4\x90\x80\x80"),
    ("F5 lead byte", b"\xF5\x80\x80\x80"),
    ("Latin-1 e-acute E9", b"caf\xE9"),
];

fn with_bad(prefix: &str, bad: &[u8], suffix: &str) -> Arg {
    let mut v = prefix.as_bytes().to_vec();
    v.extend_from_slice(bad);
    v.extend_from_slice(suffix.as_bytes());
    Arg::Bytes(v)
}

fn build_corpus(env: &Env, contoso: &Value) -> Vec<Case> {
    use Call::*;
    use St::Live;
    let mut k = Corpus { cases: Vec::new(), cat: "" };
    let central = env.central.to_str().unwrap().to_owned();
    let replica = env.replica.to_str().unwrap().to_owned();
    let ok_new = r#"{"Identity":"fresh.example"}"#;
    let contoso_instance = contoso.to_string();
    let instance = |f: &dyn Fn(&mut Value)| {
        let mut v = contoso.clone();
        f(&mut v);
        v.to_string()
    };
    // Helper: an in-memory New of {"Identity":"a.example", <extra>}.
    let mem = |extra: &str| s(format!(r#"{{"Identity":"a.example",{extra}}}"#));
    let ms = Duration::from_millis;

    // ------------------------------------------------------------------------------------------
    k.cat("null");
    // xmppfed_store_open: NULL paths mean "$XMPPFED_STORE / $XMPPFED_REPLICA" (set to our folders).
    k.add("NULL, NULL, &out (env paths)", Open(null(), null(), Given), R::Ok);
    k.add("NULL central, replica, &out", Open(null(), s(&replica), Given), R::Ok);
    k.add("central, NULL replica, &out", Open(s(&central), null(), Given), R::Ok);
    k.add("central, replica, NULL out", Open(s(&central), s(&replica), NO_OUT), R::NullArgument);
    k.add("NULL, NULL, NULL out", Open(null(), null(), NO_OUT), R::NullArgument);
    // The out-pointer is checked before the strings.
    k.add("bad-UTF-8 central, NULL out", Open(raw(b"/tmp/\xFF"), null(), NO_OUT), R::NullArgument);
    // xmppfed_store_paths
    k.add("NULL store, &out", Paths(St::Null, Given), R::NullArgument);
    k.add("store, NULL out", Paths(Live, NO_OUT), R::NullArgument);
    k.add("NULL store, NULL out", Paths(St::Null, NO_OUT), R::NullArgument);
    k.addc("store, &out", Paths(Live, Given), R::Ok, contains("\"Central\""));
    // xmppfed_partner_new
    k.add("NULL store, valid json, stored", New(St::Null, s(ok_new), false, Given), R::NullArgument);
    k.addc("NULL store, valid json, in_memory", New(St::Null, s(ok_new), true, Given), R::Ok, identity("fresh.example"));
    k.add("store, NULL json, stored", New(Live, null(), false, Given), R::NullArgument);
    k.add("store, NULL json, in_memory", New(Live, null(), true, Given), R::NullArgument);
    k.add("NULL store, NULL json, in_memory", New(St::Null, null(), true, Given), R::NullArgument);
    k.add("store, valid json, stored, NULL out (must not create)", New(Live, s(ok_new), false, NO_OUT), R::NullArgument);
    k.add("store, valid json, in_memory, NULL out", New(Live, s(ok_new), true, NO_OUT), R::NullArgument);
    k.add("NULL, NULL, NULL out", New(St::Null, null(), false, NO_OUT), R::NullArgument);
    // SPEC-CHECK: the JSON is parsed before the store pointer is looked at (order not documented).
    // A stored New needs a store: the NULL is reported before the JSON is read.
    k.add("NULL store, malformed json, stored", New(St::Null, s("{"), false, Given), R::NullArgument);
    // xmppfed_partner_get
    k.add("NULL store, identity", Get(St::Null, s("contoso.com"), false, Given), R::NullArgument);
    k.add("NULL store, identity, local", Get(St::Null, s("contoso.com"), true, Given), R::NullArgument);
    k.add("store, NULL identity", Get(Live, null(), false, Given), R::NullArgument);
    k.add("store, NULL identity, local", Get(Live, null(), true, Given), R::NullArgument);
    k.add("store, identity, NULL out", Get(Live, s("contoso.com"), false, NO_OUT), R::NullArgument);
    k.add("store, bad-UTF-8 identity, NULL out", Get(Live, raw(b"\xFF"), false, NO_OUT), R::NullArgument);
    k.add("NULL, NULL, NULL out", Get(St::Null, null(), false, NO_OUT), R::NullArgument);
    // xmppfed_partner_list: a NULL filter means every partner.
    k.add("NULL store, NULL filter", List(St::Null, null(), false, Given), R::NullArgument);
    k.add("NULL store, filter", List(St::Null, s("*"), true, Given), R::NullArgument);
    k.addc("store, NULL filter", List(Live, null(), false, Given), R::Ok, list_len(SETUP_PARTNERS));
    k.addc("store, NULL filter, local", List(Live, null(), true, Given), R::Ok, list_len(SETUP_PARTNERS));
    k.add("store, filter, NULL out", List(Live, s("*"), false, NO_OUT), R::NullArgument);
    k.add("store, NULL filter, NULL out", List(Live, null(), false, NO_OUT), R::NullArgument);
    // xmppfed_partner_set
    k.add("NULL store", Set(St::Null, s("contoso.com"), s("{}"), Given), R::NullArgument);
    k.add("NULL identity", Set(Live, null(), s("{}"), Given), R::NullArgument);
    k.add("NULL changes", Set(Live, s("contoso.com"), null(), Given), R::NullArgument);
    k.add("valid change, NULL out (must not change)", Set(Live, s("contoso.com"), s(r#"{"Description":"changed"}"#), NO_OUT), R::NullArgument);
    k.add("NULL, NULL, NULL, NULL", Set(St::Null, null(), null(), NO_OUT), R::NullArgument);
    // xmppfed_partner_set_instance
    k.add("NULL store", SetInstance(St::Null, s(&contoso_instance), false, Given), R::NullArgument);
    k.add("NULL store, force", SetInstance(St::Null, s(&contoso_instance), true, Given), R::NullArgument);
    k.add("NULL instance", SetInstance(Live, null(), false, Given), R::NullArgument);
    k.add("valid instance, force, NULL out (must not write)", SetInstance(Live, s(&contoso_instance), true, NO_OUT), R::NullArgument);
    k.add("NULL, NULL, NULL", SetInstance(St::Null, null(), true, NO_OUT), R::NullArgument);
    // xmppfed_partner_remove
    k.add("NULL store", Remove(St::Null, s("contoso.com"), Given), R::NullArgument);
    k.add("NULL identity", Remove(Live, null(), Given), R::NullArgument);
    k.add("identity, NULL out (must not remove)", Remove(Live, s("contoso.com"), NO_OUT), R::NullArgument);
    k.add("NULL, NULL, NULL", Remove(St::Null, null(), NO_OUT), R::NullArgument);
    // xmppfed_store_replicate
    k.add("NULL store", Replicate(St::Null), R::NullArgument);

    // ------------------------------------------------------------------------------------------
    k.cat("utf8");
    for (name, bad) in BAD_UTF8 {
        k.add(format!("get identity: {name}"), Get(Live, with_bad("conto", bad, "so.com"), false, Given), R::InvalidUtf8);
    }
    for (name, bad) in &BAD_UTF8[..8] {
        k.add(format!("list filter: {name}"), List(Live, with_bad("*", bad, "*"), false, Given), R::InvalidUtf8);
    }
    for (name, bad) in &BAD_UTF8[5..12] {
        k.add(format!("new json, in Identity: {name}"), New(Live, with_bad(r#"{"Identity":"a"#, bad, r#".com"}"#), false, Given), R::InvalidUtf8);
    }
    k.add("new in_memory json, in Description: ED A0 80", New(St::Null, with_bad(r#"{"Identity":"a.com","Description":""#, b"\xED\xA0\x80", r#""}"#), true, Given), R::InvalidUtf8);
    k.add("new json, in a key: C0 AF", New(Live, with_bad(r#"{"Ident"#, b"\xC0\xAF", r#"ity":"a.com"}"#), false, Given), R::InvalidUtf8);
    k.add("new json, outside strings: FF", New(Live, with_bad(r#"{"Identity":"a.com"}"#, b"\xFF", ""), false, Given), R::InvalidUtf8);
    k.add("new json, lone FF", New(Live, raw(b"\xFF"), true, Given), R::InvalidUtf8);
    // UTF-16LE text as C sees it: the string ends at the first 0x00 byte.
    k.add("new json, UTF-16LE BOM + '{' (cut at its NUL)", New(Live, raw(b"\xFF\xFE{"), true, Given), R::InvalidUtf8);
    k.add("set identity: ED A0 80", Set(Live, with_bad("contoso", b"\xED\xA0\x80", ".com"), s("{}"), Given), R::InvalidUtf8);
    k.add("set identity: truncated E2 82", Set(Live, with_bad("contoso.com", b"\xE2\x82", ""), s("{}"), Given), R::InvalidUtf8);
    k.add("set identity: 80", Set(Live, with_bad("", b"\x80", "contoso.com"), s(r#"{"Description":"x"}"#), Given), R::InvalidUtf8);
    k.add("set changes, in Description: C0 80", Set(Live, s("contoso.com"), with_bad(r#"{"Description":"a"#, b"\xC0\x80", r#""}"#), Given), R::InvalidUtf8);
    k.add("set changes, in AdditionalDomains: F0 9F 98", Set(Live, s("contoso.com"), with_bad(r#"{"AdditionalDomains":{"Add":"x"#, b"\xF0\x9F\x98", r#".com"}}"#), Given), R::InvalidUtf8);
    k.add("set changes, key: FE", Set(Live, s("contoso.com"), with_bad(r#"{""#, b"\xFE", r#"":1}"#), Given), R::InvalidUtf8);
    k.add("set_instance, in Identity: ED BF BF", SetInstance(Live, s(contoso_instance.replacen("contoso.com", "contoso.c\u{FFFD}m", 1)).map_bytes(|b| replace_bytes(b, "\u{FFFD}".as_bytes(), b"\xED\xBF\xBF")), true, Given), R::InvalidUtf8);
    k.add("set_instance, trailing FF", SetInstance(Live, with_bad(&contoso_instance, b"\xFF", ""), true, Given), R::InvalidUtf8);
    k.add("set_instance, leading 80", SetInstance(Live, with_bad("", b"\x80", &contoso_instance), false, Given), R::InvalidUtf8);
    k.add("remove identity: FF", Remove(Live, with_bad("contoso.com", b"\xFF", ""), Given), R::InvalidUtf8);
    k.add("remove identity: overlong '.'", Remove(Live, with_bad("contoso", b"\xC0\xAE", "com"), Given), R::InvalidUtf8);
    k.add("remove identity: surrogate", Remove(Live, with_bad("", b"\xED\xA0\x80", ""), Given), R::InvalidUtf8);
    for (name, bad) in &BAD_UTF8[..4] {
        k.add(format!("open central: {name}"), Open(with_bad(&format!("{central}/"), bad, ""), s(&replica), Given), R::InvalidUtf8);
    }
    k.add("open central = existing folder + FF (never reaches the file system)", Open(with_bad(&central, b"\xFF", ""), s(&replica), Given), R::InvalidUtf8);
    k.add("open replica: ED A0 80", Open(s(&central), with_bad(&format!("{replica}/"), b"\xED\xA0\x80", ""), Given), R::InvalidUtf8);
    k.add("open replica: FF", Open(s(&central), with_bad("", b"\xFF", ""), Given), R::InvalidUtf8);
    k.add("open replica: truncated", Open(null(), with_bad("/tmp/x", b"\xF0\x9F", ""), Given), R::InvalidUtf8);
    k.addt("10 MB JSON with FF at the end (UTF-8 checked before size)", New(Live, with_bad(&"x".repeat(MB10), b"\xFF", ""), true, Given), R::InvalidUtf8, ms(3000));
    k.addt("10 MB identity with FF at the end", Get(Live, with_bad(&"a".repeat(MB10), b"\xFF", ""), false, Given), R::InvalidUtf8, ms(3000));

    // ------------------------------------------------------------------------------------------
    k.cat("huge");
    let ten_a = "a".repeat(MB10);
    // Identities: rejected by the 1,024-byte pre-check, before any IDNA work.
    k.addt("get: 10 MB 'a'", Get(Live, s(&ten_a), false, Given), R::InvalidDomain, ms(2000));
    k.addt("get local: 10 MB 'a.'", Get(Live, s("a.".repeat(MB10 / 2)), true, Given), R::InvalidDomain, ms(2000));
    k.addt("get: 10 MB of 'é'", Get(Live, s("é".repeat(MB10 / 2)), false, Given), R::InvalidDomain, ms(2000));
    k.addt("get: 10 MB of ESC (message escapes 10M chars)", Get(Live, s("\u{1b}".repeat(MB10)), false, Given), R::InvalidDomain, ms(4000));
    k.addt("remove: 10 MB 'a'", Remove(Live, s(&ten_a), Given), R::InvalidDomain, ms(2000));
    k.addt("set: 10 MB identity", Set(Live, s(&ten_a), s("{}"), Given), R::InvalidDomain, ms(2000));
    k.add("get: 1,025 bytes", Get(Live, s(format!("{}.com", "a".repeat(1021))), false, Given), R::InvalidDomain);
    // Filters: longer than wildcard::MAX_PATTERN_BYTES (4,096) is refused before parsing.
    k.addt("list filter: 10 MB 'a'", List(Live, s(&ten_a), false, Given), R::InvalidFilter, ms(500));
    k.addt("list filter: 10 MB '*'", List(Live, s("*".repeat(MB10)), false, Given), R::InvalidFilter, ms(500));
    k.addt("list filter: 10 MB '?'", List(Live, s("?".repeat(MB10)), true, Given), R::InvalidFilter, ms(500));
    k.addt("list filter: 10 MB '*a'", List(Live, s("*a".repeat(MB10 / 2)), false, Given), R::InvalidFilter, ms(500));
    k.addt("list filter: 10 MB '`'", List(Live, s("`".repeat(MB10)), false, Given), R::InvalidFilter, ms(500));
    k.addt("list filter: 10 MB '[' (unterminated)", List(Live, s("[".repeat(MB10)), false, Given), R::InvalidFilter, ms(5000));
    k.addt("list filter: '[' + 10 MB 'a' (unterminated)", List(Live, s(format!("[{ten_a}")), false, Given), R::InvalidFilter, ms(5000));
    k.addt("list filter: 10 MB '[a-z]'", List(Live, s("[a-z]".repeat(MB10 / 5)), false, Given), R::InvalidFilter, ms(500));
    // JSON documents: over XMPPFED_MAX_JSON_BYTES is refused before parsing.
    let ten_json = format!(r#"{{"Identity":"a.com","Description":"{ten_a}"}}"#);
    k.addt("new in_memory: 10 MB JSON", New(St::Null, s(&ten_json), true, Given), R::InputTooLarge, ms(2000));
    k.addt("new stored: 10 MB JSON", New(Live, s(&ten_json), false, Given), R::InputTooLarge, ms(2000));
    k.addt("new: 10 MB of '['", New(Live, s("[".repeat(MB10)), false, Given), R::InputTooLarge, ms(2000));
    k.addt("set: 10 MB changes", Set(Live, s("contoso.com"), s(format!(r#"{{"Description":"{ten_a}"}}"#)), Given), R::InputTooLarge, ms(2000));
    k.addt("set_instance: 10 MB", SetInstance(Live, s(format!("{contoso_instance}{}", " ".repeat(MB10))), true, Given), R::InputTooLarge, ms(2000));
    let max = XMPPFED_MAX_JSON_BYTES;
    let pad = |doc: &str, len: usize| format!("{doc}{}", " ".repeat(len - doc.len()));
    k.add("new in_memory: valid JSON padded to exactly 4 MiB", New(St::Null, s(pad(ok_new, max)), true, Given), R::Ok);
    k.add("new in_memory: valid JSON padded to 4 MiB + 1", New(St::Null, s(pad(ok_new, max + 1)), true, Given), R::InputTooLarge);
    k.add("set: changes padded to 4 MiB + 1", Set(Live, s("contoso.com"), s(pad("{}", max + 1)), Given), R::InputTooLarge);
    // Under the limit: the field limits apply.
    let three = "x".repeat(3 * 1024 * 1024);
    k.addt("new in_memory: 3 MB Description", New(St::Null, mem(&format!(r#""Description":"{three}""#)), true, Given), R::InvalidValue, ms(2000));
    k.addt("new stored: 3 MB Description", New(Live, s(format!(r#"{{"Identity":"fresh.example","Description":"{three}"}}"#)), false, Given), R::InvalidValue, ms(2000));
    k.addt("set: 3 MB Description", Set(Live, s("contoso.com"), s(format!(r#"{{"Description":"{three}"}}"#)), Given), R::InvalidValue, ms(2000));
    k.addt("set_instance: 3 MB Description", SetInstance(Live, s(instance(&|v| v["Description"] = json!(three.clone()))), true, Given), R::InvalidValue, ms(2000));
    k.addt("new: 3 MB Identity", New(Live, s(format!(r#"{{"Identity":"{three}"}}"#)), false, Given), R::InvalidDomain, ms(2000));
    k.addt("new: 3 MB ProxyFqdn", New(St::Null, mem(&format!(r#""ProxyFqdn":"{three}""#)), true, Given), R::InvalidDomain, ms(2000));
    k.addt("new: 3 MB AdditionalDomains entry", New(St::Null, mem(&format!(r#""AdditionalDomains":["{three}"]"#)), true, Given), R::InvalidDomain, ms(2000));
    k.addt("new: 3 MB unknown field name", New(St::Null, s(format!(r#"{{"{three}":1}}"#)), true, Given), R::JsonShape, ms(2000));
    k.addt("new: 3 MB enum value", New(St::Null, mem(&format!(r#""PartnerType":"{three}""#)), true, Given), R::JsonShape, ms(2000));
    k.add("new: Description of 1,024 chars", New(St::Null, mem(&format!(r#""Description":"{}""#, "d".repeat(1024))), true, Given), R::Ok);
    k.add("new: Description of 1,025 chars", New(St::Null, mem(&format!(r#""Description":"{}""#, "d".repeat(1025))), true, Given), R::InvalidValue);
    k.add("new: Description of 1,024 emoji (4 bytes each)", New(St::Null, mem(&format!(r#""Description":"{}""#, "😀".repeat(1024))), true, Given), R::Ok);
    k.add("new: Description of 1,025 emoji", New(St::Null, mem(&format!(r#""Description":"{}""#, "😀".repeat(1025))), true, Given), R::InvalidValue);

    // ------------------------------------------------------------------------------------------
    k.cat("syntax");
    let malformed: &[(&str, &str)] = &[
        ("empty string", ""),
        ("whitespace only", " \t\r\n"),
        ("lone {", "{"),
        ("lone }", "}"),
        ("lone ]", "]"),
        ("truncated after value", r#"{"Identity":"a.com""#),
        ("truncated after comma", r#"{"Identity":"a.com","#),
        ("truncated after colon", r#"{"Identity":"#),
        ("truncated after key", r#"{"Identity""#),
        ("truncated inside string", r#"{"Identity":"a.co"#),
        ("truncated inside escape", r#"{"Identity":"a.com","Description":"\u00"#),
        ("trailing comma", r#"{"Identity":"a.com",}"#),
        ("leading comma", r#"{,"Identity":"a.com"}"#),
        ("missing comma", r#"{"Identity":"a.com" "Description":"x"}"#),
        ("missing colon", r#"{"Identity" "a.com"}"#),
        ("single quotes", r#"{'Identity':'a.com'}"#),
        ("unquoted key", r#"{Identity:"a.com"}"#),
        ("trailing garbage", r#"{"Identity":"a.com"} x"#),
        ("two documents", r#"{"Identity":"a.com"}{}"#),
        ("extra closing brace", r#"{"Identity":"a.com"}}"#),
        ("NaN", r#"{"Identity":"a.com","ConnectionLimit":NaN}"#),
        ("Infinity", r#"{"Identity":"a.com","ConnectionLimit":Infinity}"#),
        ("-Infinity", r#"{"Identity":"a.com","ConnectionLimit":-Infinity}"#),
        ("leading zero", r#"{"Identity":"a.com","ConnectionLimit":020}"#),
        ("leading plus", r#"{"Identity":"a.com","ConnectionLimit":+5}"#),
        ("hex number", r#"{"Identity":"a.com","ConnectionLimit":0x10}"#),
        ("bare decimal point", r#"{"Identity":"a.com","ConnectionLimit":.5}"#),
        ("dangling exponent", r#"{"Identity":"a.com","ConnectionLimit":1e}"#),
        ("block comment", r#"/* c */{"Identity":"a.com"}"#),
        ("line comment", "{\"Identity\":\"a.com\"} // c"),
        ("comment inside", r#"{"Identity":/*x*/"a.com"}"#),
        ("UTF-8 BOM", "\u{FEFF}{\"Identity\":\"a.com\"}"),
        ("True (capitalised)", r#"{"Identity":"a.com","EnableKeepAlive":True}"#),
        ("nul (truncated literal)", r#"{"Identity":nul}"#),
        ("lone high surrogate escape", r#"{"Identity":"a.com","Description":"\ud800"}"#),
        ("lone low surrogate escape", r#"{"Identity":"a.com","Description":"\udc00x"}"#),
        ("reversed surrogate pair escape", r#"{"Identity":"a.com","Description":"\udc00\ud800"}"#),
        ("invalid escape \\x", r#"{"Identity":"a.com","Description":"\x41"}"#),
        ("short \\u escape", r#"{"Identity":"a.com","Description":"\u12"}"#),
        ("raw control char U+0001 in string", "{\"Identity\":\"a.com\",\"Description\":\"a\u{1}b\"}"),
        ("raw ESC in string", "{\"Identity\":\"a.com\",\"Description\":\"\u{1b}[2J\"}"),
        ("raw tab in string", "{\"Identity\":\"a.com\",\"Description\":\"a\tb\"}"),
        ("raw newline in string", "{\"Identity\":\"a.com\",\"Description\":\"a\nb\"}"),
        ("key not a string", r#"{1:"a.com"}"#),
        ("unterminated array in AdditionalDomains", r#"{"Identity":"a.com","AdditionalDomains":["b.com""#),
    ];
    for (name, doc) in malformed {
        k.add(format!("new in_memory: {name}"), New(St::Null, s(doc), true, Given), R::JsonSyntax);
    }
    k.add("set: truncated changes", Set(Live, s("contoso.com"), s(r#"{"Description":"x""#), Given), R::JsonSyntax);
    k.add("set: single quotes", Set(Live, s("contoso.com"), s(r#"{'Description':'x'}"#), Given), R::JsonSyntax);
    k.add("set: NaN", Set(Live, s("contoso.com"), s(r#"{"ConnectionLimit":NaN}"#), Given), R::JsonSyntax);
    k.add("set: trailing garbage", Set(Live, s("contoso.com"), s(r#"{"Description":"x"}garbage"#), Given), R::JsonSyntax);
    k.add("set: empty string", Set(Live, s("contoso.com"), s(""), Given), R::JsonSyntax);
    k.add("set_instance: truncated by one byte", SetInstance(Live, s(&contoso_instance[..contoso_instance.len() - 1]), true, Given), R::JsonSyntax);
    k.add("set_instance: trailing comma", SetInstance(Live, s(contoso_instance.replacen('}', ",}", 1)), true, Given), R::JsonSyntax);
    k.add("set_instance: BOM", SetInstance(Live, s(format!("\u{FEFF}{contoso_instance}")), true, Given), R::JsonSyntax);
    // Deep nesting: over serde_json's limit of 128, refused without recursion to the bottom.
    let deep = |n: usize| "[".repeat(n);
    k.add("new: AdditionalDomains nested 100,000 '[' (unclosed)", New(Live, s(format!(r#"{{"Identity":"a.com","AdditionalDomains":{}"#, deep(100_000))), false, Given), R::JsonSyntax);
    k.add("new: AdditionalDomains nested 200 (balanced)", New(St::Null, mem(&format!(r#""AdditionalDomains":{}{}"#, deep(200), "]".repeat(200))), true, Given), R::JsonSyntax);
    k.add("new: AdditionalDomains.Add nested 100,000 '{\"a\":'", New(St::Null, mem(&format!(r#""AdditionalDomains":{{"Add":{}"#, r#"{"a":"#.repeat(100_000))), true, Given), R::JsonSyntax);
    k.add("set: AdditionalDomains nested 100,000 '['", Set(Live, s("contoso.com"), s(format!(r#"{{"AdditionalDomains":{}"#, deep(100_000))), Given), R::JsonSyntax);
    // Regression (fixed): at the top level (and in any field that is not AdditionalDomains), serde's derived
    // struct visitor accepts a JSON array and fails on the first element's type before the parser
    // ever sees the nesting or the missing closing brackets, so these come back as JSON_SHAPE.
    // The header reserves JSON_SHAPE for well-formed JSON; these are neither well-formed nor
    // within the nesting limit, so JSON_SYNTAX is the documented code.
    k.add("new: 100,000 '['", New(Live, s(deep(100_000)), false, Given), R::JsonSyntax);
    // Deep but well-formed JSON is not a syntax error: it is an array where an object belongs.
    k.add("new in_memory: 100,000 '[' then 100,000 ']'", New(St::Null, s(format!("{}{}", deep(100_000), "]".repeat(100_000))), true, Given), R::JsonShape);
    k.add("new: 100,000 '{\"a\":'", New(Live, s(r#"{"a":"#.repeat(100_000)), false, Given), R::JsonSyntax);
    // PartnerChanges starts with AdditionalDomains (a serde_json Value), so here the parser does
    // reach the nesting limit.
    k.add("set: 100,000 '[' (the first field is AdditionalDomains: recursion limit)", Set(Live, s("contoso.com"), s(deep(100_000)), Given), R::JsonSyntax);
    k.add("set_instance: 100,000 '['", SetInstance(Live, s(deep(100_000)), true, Given), R::JsonSyntax);
    // Regression (same cause, fixed): truncated / trailing-garbage documents whose first problem in document
    // order is a shape problem are reported as JSON_SHAPE although they are not well-formed.
    k.add("new: truncated after a wrong-typed value", New(St::Null, s(r#"{"Identity":42"#), true, Given), R::JsonSyntax);
    k.add("new: truncated after an unknown field", New(St::Null, s(r#"{"Colour":"red""#), true, Given), R::JsonSyntax);
    k.add("new: unknown field, then trailing garbage", New(St::Null, s(r#"{"Identity":"a.com","Colour":1} }{"#), true, Given), R::JsonSyntax);

    // ------------------------------------------------------------------------------------------
    k.cat("shape");
    let shape_cases: &[(&str, &str, R)] = &[
        ("Identity number", r#"{"Identity":42}"#, R::JsonShape),
        ("Identity float", r#"{"Identity":4.2}"#, R::JsonShape),
        ("Identity array", r#"{"Identity":["a.com"]}"#, R::JsonShape),
        ("Identity object", r#"{"Identity":{"a":"b"}}"#, R::JsonShape),
        ("Identity bool", r#"{"Identity":true}"#, R::JsonShape),
        // SPEC-CHECK: null for an optional New field means "not given", so this is "no Identity
        // and no Domain", an INVALID_VALUE (the same as {}), not a JSON_SHAPE.
        ("Identity null", r#"{"Identity":null}"#, R::InvalidValue),
        ("empty object", r#"{}"#, R::InvalidValue),
        ("Domain number", r#"{"Domain":1}"#, R::JsonShape),
        ("Domain array", r#"{"Domain":[]}"#, R::JsonShape),
        ("ConnectionLimit string", r#"{"Identity":"a.com","ConnectionLimit":"20"}"#, R::JsonShape),
        ("ConnectionLimit 20.0", r#"{"Identity":"a.com","ConnectionLimit":20.0}"#, R::JsonShape),
        ("ConnectionLimit 1.5", r#"{"Identity":"a.com","ConnectionLimit":1.5}"#, R::JsonShape),
        ("ConnectionLimit bool", r#"{"Identity":"a.com","ConnectionLimit":true}"#, R::JsonShape),
        ("ConnectionLimit array", r#"{"Identity":"a.com","ConnectionLimit":[20]}"#, R::JsonShape),
        ("PartnerType number", r#"{"Identity":"a.com","PartnerType":1}"#, R::JsonShape),
        ("PartnerType unknown name", r#"{"Identity":"a.com","PartnerType":"Trusted"}"#, R::JsonShape),
        ("PartnerType empty", r#"{"Identity":"a.com","PartnerType":""}"#, R::JsonShape),
        ("PartnerType padded", r#"{"Identity":"a.com","PartnerType":" Federated"}"#, R::JsonShape),
        ("PartnerType array", r#"{"Identity":"a.com","PartnerType":["Federated"]}"#, R::JsonShape),
        ("PartnerType with NUL escape", r#"{"Identity":"a.com","PartnerType":"Federated\u0000"}"#, R::JsonShape),
        ("PartnerType Turkish dotless i", r#"{"Identity":"a.com","PartnerType":"publıcverıfıed"}"#, R::JsonShape),
        ("TlsNegotiation 'Yes'", r#"{"Identity":"a.com","TlsNegotiation":"Yes"}"#, R::JsonShape),
        ("SaslNegotiation 0", r#"{"Identity":"a.com","SaslNegotiation":0}"#, R::JsonShape),
        ("SupportDialbackNegotiation \"true\"", r#"{"Identity":"a.com","SupportDialbackNegotiation":"true"}"#, R::JsonShape),
        ("SupportDialbackNegotiation 1", r#"{"Identity":"a.com","SupportDialbackNegotiation":1}"#, R::JsonShape),
        ("EnableKeepAlive \"false\"", r#"{"Identity":"a.com","EnableKeepAlive":"false"}"#, R::JsonShape),
        ("EnableKeepAlive 0", r#"{"Identity":"a.com","EnableKeepAlive":0}"#, R::JsonShape),
        ("Description number", r#"{"Identity":"a.com","Description":42}"#, R::JsonShape),
        ("Description array", r#"{"Identity":"a.com","Description":["x"]}"#, R::JsonShape),
        ("Description object", r#"{"Identity":"a.com","Description":{}}"#, R::JsonShape),
        ("ProxyFqdn bool", r#"{"Identity":"a.com","ProxyFqdn":false}"#, R::JsonShape),
        ("AdditionalDomains number", r#"{"Identity":"a.com","AdditionalDomains":42}"#, R::InvalidValue),
        ("AdditionalDomains numbers", r#"{"Identity":"a.com","AdditionalDomains":[1,2]}"#, R::InvalidValue),
        ("AdditionalDomains bool", r#"{"Identity":"a.com","AdditionalDomains":true}"#, R::InvalidValue),
        ("AdditionalDomains mixed list", r#"{"Identity":"a.com","AdditionalDomains":["b.com",1]}"#, R::InvalidValue),
        ("AdditionalDomains [null]", r#"{"Identity":"a.com","AdditionalDomains":[null]}"#, R::InvalidValue),
        ("AdditionalDomains nested list", r#"{"Identity":"a.com","AdditionalDomains":[["b.com"]]}"#, R::InvalidValue),
        // "" is the text form of an empty list (accepted); a text form with a bad part is not.
        ("AdditionalDomains text with a bad part", r#"{"Identity":"a.com","AdditionalDomains":"b.com;c .com"}"#, R::InvalidDomain),
        ("AdditionalDomains text of separators and a space", r#"{"Identity":"a.com","AdditionalDomains":"; ;b c"}"#, R::InvalidDomain),
        ("unknown field", r#"{"Identity":"a.com","Colour":"red"}"#, R::JsonShape),
        ("field in camelCase", r#"{"identity":"a.com"}"#, R::JsonShape),
        ("field in upper case", r#"{"IDENTITY":"a.com"}"#, R::JsonShape),
        ("field with trailing space", r#"{"Identity ":"a.com"}"#, R::JsonShape),
        ("field with escaped NUL", r#"{"Identity\u0000":"a.com"}"#, R::JsonShape),
        ("Revision is not a New field", r#"{"Identity":"a.com","Revision":1}"#, R::JsonShape),
        ("empty key", r#"{"":1,"Identity":"a.com"}"#, R::JsonShape),
        // serde rejects duplicate fields of a struct (observed: JSON_SHAPE, "duplicate field").
        ("duplicate Identity", r#"{"Identity":"a.com","Identity":"b.com"}"#, R::JsonShape),
        ("duplicate Description", r#"{"Identity":"a.com","Description":"x","Description":"y"}"#, R::JsonShape),
        ("duplicate ConnectionLimit", r#"{"Identity":"a.com","ConnectionLimit":1,"ConnectionLimit":2}"#, R::JsonShape),
        ("duplicate AdditionalDomains", r#"{"Identity":"a.com","AdditionalDomains":["b.com"],"AdditionalDomains":null}"#, R::JsonShape),
        ("top-level null", "null", R::JsonShape),
        ("top-level string", r#""a.com""#, R::JsonShape),
        ("top-level number", "42", R::JsonShape),
        ("top-level bool", "true", R::JsonShape),
        ("top-level empty array", "[]", R::JsonShape),
        ("top-level [\"a.com\"]", r#"["a.com"]"#, R::JsonShape),
        // Regression (fixed): serde's derived visitor also accepts a partner as a positional JSON array; the
        // wire format is an object with PowerShell's property names (header: "an object with
        // `Identity` or `Domain`"), so this must be JSON_SHAPE. Observed: OK.
        ("positional array of 11 values", r#"["a.com",null,null,null,null,null,null,null,null,null,null]"#, R::JsonShape),
        ("Identity and Domain differ", r#"{"Identity":"a.com","Domain":"b.com"}"#, R::InvalidValue),
        ("Identity and Domain with a different type", r#"{"Identity":"a.com","Domain":5}"#, R::JsonShape),
        ("TLS NotSupported, dialback off", r#"{"Identity":"a.com","TlsNegotiation":"NotSupported","SupportDialbackNegotiation":false}"#, R::InvalidNegotiation),
        ("SASL NotSupported, dialback off", r#"{"Identity":"a.com","SaslNegotiation":"notsupported","SupportDialbackNegotiation":false}"#, R::InvalidNegotiation),
    ];
    for (name, doc, code) in shape_cases {
        k.add(format!("new in_memory: {name}"), New(St::Null, s(doc), true, Given), *code);
    }
    // Successes that pin the lenient parts down.
    k.addc("new in_memory: enum in any case", New(St::Null, s(r#"{"Identity":"a.com","PartnerType":"FEDERATED","TlsNegotiation":"optional"}"#), true, Given), R::Ok, field("PartnerType", json!("Federated")));
    // SPEC-CHECK: null for an optional field is "not given" (the default).
    k.addc("new in_memory: ConnectionLimit null", New(St::Null, s(r#"{"Identity":"a.com","ConnectionLimit":null}"#), true, Given), R::Ok, field("ConnectionLimit", json!(20)));
    k.addc("new in_memory: Identity and equivalent Domain", New(St::Null, s(r#"{"Identity":"A.com.","Domain":"a.COM"}"#), true, Given), R::Ok, identity("a.com"));
    // Set: PartnerChanges has no key fields.
    let set_shape: &[(&str, &str, R)] = &[
        ("Identity in changes", r#"{"Identity":"x.com"}"#, R::JsonShape),
        ("Domain in changes", r#"{"Domain":"contoso.com"}"#, R::JsonShape),
        ("Revision in changes", r#"{"Revision":1}"#, R::JsonShape),
        ("unknown field", r#"{"Colour":"red"}"#, R::JsonShape),
        ("ConnectionLimit string", r#"{"ConnectionLimit":"5"}"#, R::JsonShape),
        ("EnableKeepAlive string", r#"{"EnableKeepAlive":"yes"}"#, R::JsonShape),
        ("duplicate field", r#"{"Description":"x","Description":"y"}"#, R::JsonShape),
        ("top-level array", r#"[]"#, R::JsonShape),
        ("top-level string", r#""Description""#, R::JsonShape),
        ("top-level null", "null", R::JsonShape),
        ("AdditionalDomains number", r#"{"AdditionalDomains":7}"#, R::InvalidValue),
        ("invalid negotiation", r#"{"TlsNegotiation":"NotSupported","SupportDialbackNegotiation":false}"#, R::InvalidNegotiation),
    ];
    for (name, doc, code) in set_shape {
        k.add(format!("set contoso.com: {name}"), Set(Live, s("contoso.com"), s(doc), Given), *code);
    }
    // Set -Instance takes a whole Partner: every field is required except Revision.
    let inst_shape: Vec<(&str, String, R)> = vec![
        ("Description missing", instance(&|v| drop(v.as_object_mut().unwrap().remove("Description"))), R::JsonShape),
        ("Identity missing", instance(&|v| drop(v.as_object_mut().unwrap().remove("Identity"))), R::JsonShape),
        ("Identity number", instance(&|v| v["Identity"] = json!(1)), R::JsonShape),
        ("Identity null", instance(&|v| v["Identity"] = Value::Null), R::JsonShape),
        ("AdditionalDomains null", instance(&|v| v["AdditionalDomains"] = Value::Null), R::JsonShape),
        ("AdditionalDomains as a modifier", instance(&|v| v["AdditionalDomains"] = json!({"Add": "x.com"})), R::JsonShape),
        ("AdditionalDomains string", instance(&|v| v["AdditionalDomains"] = json!("x.com")), R::JsonShape),
        ("unknown field", instance(&|v| v["Colour"] = json!("red")), R::JsonShape),
        ("Revision string", instance(&|v| v["Revision"] = json!("5")), R::JsonShape),
        ("PartnerType lowercase (accepted) but Domain differs", instance(&|v| {
            v["PartnerType"] = json!("federated");
            v["Domain"] = json!("other.com");
        }), R::InvalidValue),
        ("top-level array", "[]".to_string(), R::JsonShape),
        ("top-level object empty", "{}".to_string(), R::JsonShape),
    ];
    for (name, doc, code) in inst_shape {
        k.add(format!("set_instance: {name}"), SetInstance(Live, s(doc), true, Given), code);
    }
    // Regression (fixed): a positional array is accepted for a whole Partner as well. Revision 0 for an existing
    // identity, so the library (which parses it as contoso.com) answers ALREADY_EXISTS instead of
    // writing anything.
    k.add(
        "set_instance: positional array of 12 values",
        SetInstance(Live, s(r#"["contoso.com","contoso.com",[],"","","Federated","Required","Required",true,true,20,0]"#), false, Given),
        R::JsonShape,
    );

    // ------------------------------------------------------------------------------------------
    k.cat("control");
    let forbidden_escapes = [
        "\\u0000", "\\u0001", "\\u0007", "\\u0008", "\\u000b", "\\u000c", "\\u001b[2J", "\\u007f", "\\u0080", "\\u0085", "\\u009b31m", "\\u009f",
        "\\u202a", "\\u202b", "\\u202c", "\\u202d", "\\u202e", "\\u2066", "\\u2067", "\\u2068", "\\u2069", "\\u200e", "\\u200f", "\\u061c",
    ];
    for e in forbidden_escapes {
        k.add(format!("new in_memory: Description with {e}"), New(St::Null, mem(&format!(r#""Description":"x{e}y""#)), true, Given), R::InvalidValue);
    }
    // The same characters as raw UTF-8 inside the JSON string (legal JSON for >= U+007F).
    k.add("new: Description with raw DEL", New(St::Null, mem("\"Description\":\"a\u{7f}b\""), true, Given), R::InvalidValue);
    k.add("new: Description with raw U+0085", New(St::Null, mem("\"Description\":\"a\u{85}b\""), true, Given), R::InvalidValue);
    k.add("new: Description with raw U+202E", New(St::Null, mem("\"Description\":\"evil\u{202E}txt.exe\""), true, Given), R::InvalidValue);
    k.add("new: Description with raw U+2067", New(St::Null, mem("\"Description\":\"a\u{2067}b\""), true, Given), R::InvalidValue);
    k.add("set contoso.com: Description with \\u202e", Set(Live, s("contoso.com"), s(r#"{"Description":"\u202e"}"#), Given), R::InvalidValue);
    k.add("set contoso.com: Description with \\u001b", Set(Live, s("contoso.com"), s(r#"{"Description":"\u001b]0;pwned\u0007"}"#), Given), R::InvalidValue);
    k.add("set_instance: Description with \\u2066", SetInstance(Live, s(instance(&|v| v["Description"] = json!("a\u{2066}b"))), true, Given), R::InvalidValue);
    // Allowed in Description: tab and line breaks (SPEC), and format characters that are neither
    // Cc controls nor bidi controls.
    k.addc("new: Description with \\t \\n \\r", New(St::Null, mem(r#""Description":"a\tb\nc\r\n""#), true, Given), R::Ok, field("Description", json!("a\tb\nc\r\n")));
    // SPEC-CHECK: U+2028 / U+2029 (line/paragraph separators) are accepted like \n.
    k.add("new: Description with U+2028", New(St::Null, mem(r#""Description":"a\u2028b""#), true, Given), R::Ok);
    // SPEC-CHECK: zero-width space / BOM / soft hyphen are invisible but not forbidden by SPEC.
    k.add("new: Description with U+200B", New(St::Null, mem(r#""Description":"a\u200bb""#), true, Given), R::Ok);
    k.add("new: Description with U+FEFF", New(St::Null, mem(r#""Description":"a\ufeffb""#), true, Given), R::Ok);
    // Domains: control and bidi characters are refused wherever a domain goes.
    let domain_ctl = ["\\u0000", "\\u001b", "\\u007f", "\\u0085", "\\u009b", "\\u202e", "\\u2066", "\\u200e", "\\u200f", "\\u061c"];
    for e in domain_ctl {
        k.add(format!("new: Identity with {e}"), New(St::Null, s(format!(r#"{{"Identity":"a{e}b.com"}}"#)), true, Given), R::InvalidDomain);
    }
    k.add("new: ProxyFqdn with \\u202e", New(St::Null, mem(r#""ProxyFqdn":"moc.\u202eproxy.com""#), true, Given), R::InvalidDomain);
    k.add("new: AdditionalDomains with \\u2067", New(St::Null, mem(r#""AdditionalDomains":["b\u2067.com"]"#), true, Given), R::InvalidDomain);
    k.add("set: AdditionalDomains Add with \\u001b", Set(Live, s("contoso.com"), s(r#"{"AdditionalDomains":{"Add":"x\u001b.com"}}"#), Given), R::InvalidDomain);
    // Raw bytes in the identity argument; the message must show them escaped.
    k.addc("get: identity with raw ESC [2J", Get(Live, s("a\u{1b}[2J.com"), false, Given), R::InvalidDomain, contains("\\u{001b}"));
    k.addc("get: identity with raw U+202E", Get(Live, s("\u{202E}moc.elppa"), false, Given), R::InvalidDomain, contains("\\u{202e}"));
    k.addc("get: identity with raw U+2066", Get(Live, s("a\u{2066}.com"), true, Given), R::InvalidDomain, contains("\\u{2066}"));
    k.addc("get: identity with raw DEL", Get(Live, s("a\u{7f}.com"), false, Given), R::InvalidDomain, contains("\\u{007f}"));
    k.addc("get: identity with raw U+0001", Get(Live, s("a\u{1}.com"), false, Given), R::InvalidDomain, contains("\\u{0001}"));
    k.addc("get: identity with raw C1 CSI U+009B", Get(Live, s("a\u{9b}31m.com"), false, Given), R::InvalidDomain, contains("\\u{009b}"));
    k.addc("get: identity with raw U+200F", Get(Live, s("a\u{200F}.com"), false, Given), R::InvalidDomain, contains("\\u{200f}"));
    k.addc("get: identity with raw CR", Get(Live, s("contoso.com\rFAKE"), false, Given), R::InvalidDomain, contains("\\u{000d}"));
    k.addc("remove: identity with raw ESC", Remove(Live, s("contoso.com\u{1b}[1A"), Given), R::InvalidDomain, contains("\\u{001b}"));
    k.addc("set: identity with raw U+202E", Set(Live, s("contoso.com\u{202E}"), s("{}"), Given), R::InvalidDomain, contains("\\u{202e}"));
    // Filters accept any text; an invalid one is echoed escaped.
    k.addc("list: invalid filter with raw ESC", List(Live, s("\u{1b}[31m["), false, Given), R::InvalidFilter, contains("\\u{001b}"));
    k.addc("list: invalid filter with raw U+202E", List(Live, s("[\u{202E}"), false, Given), R::InvalidFilter, contains("\\u{202e}"));
    k.addc("list: valid filter with raw ESC", List(Live, s("\u{1b}*"), false, Given), R::Ok, list_len(0));
    // Paths: echoed in messages. A missing central folder no longer fails at open (the replica
    // must still answer), so these are damaged stores in folders whose names hold the characters.
    for (name, folder, escaped) in [("raw ESC", "nope\u{1b}[2J", "\\u{001b}"), ("raw U+202E", "\u{202E}gpj.exe", "\\u{202e}")] {
        let damaged = env.central.parent().unwrap().join(folder);
        // Control characters are illegal in Windows file names: no such folder can exist there, so
        // the path is reported as unreachable (StoreIo), still escaped.
        if cfg!(windows) && folder.chars().any(char::is_control) {
            assert!(fs::create_dir_all(&damaged).is_err(), "Windows accepted a control character in a folder name");
            k.addc(format!("open + list: a folder name with {name} (illegal on Windows)"), OpenList(s(damaged.to_str().unwrap()), s(&replica)), R::StoreIo, contains(escaped));
            continue;
        }
        fs::create_dir_all(&damaged).unwrap();
        fs::write(damaged.join("partners.1.log"), "not a store\n").unwrap();
        k.addc(format!("open + list: damaged store in a folder with {name}"), OpenList(s(damaged.to_str().unwrap()), s(&replica)), R::StoreCorrupt, contains(escaped));
    }

    // ------------------------------------------------------------------------------------------
    k.cat("homograph");
    // SPEC: "comparison is case-insensitive after IDNA mapping". Mapping (UTS 46) folds case,
    // width and compatibility forms and deletes "ignored" characters; it does not fold confusable
    // letters of other scripts, and SPEC has no mixed-script rule.
    // Mixed Latin + Cyrillic: a different (valid) domain; per SPEC, a spoofing risk to note.
    k.addc("new: 'аpple.com' (Cyrillic а + Latin)", New(St::Null, s(r#"{"Identity":"аpple.com"}"#), true, Given), R::Ok, identity("аpple.com"));
    k.add("get: 'аpple.com' (Cyrillic а) is not apple.com", Get(Live, s("аpple.com"), false, Given), R::NotFound);
    k.addc("new: all-Cyrillic 'аррӏе.com'", New(St::Null, s(r#"{"Identity":"аррӏе.com"}"#), true, Given), R::Ok, identity("аррӏе.com"));
    k.addc("new: its A-label 'xn--80ak6aa92e.com'", New(St::Null, s(r#"{"Identity":"xn--80ak6aa92e.com"}"#), true, Given), R::Ok, identity("аррӏе.com"));
    k.add("get: Greek omicron 'cοntoso.com'", Get(Live, s("cοntoso.com"), false, Given), R::NotFound);
    // Width and compatibility forms map to the ASCII name (same key).
    k.addc("get: full-width 'ａｐｐｌｅ．ｃｏｍ'", Get(Live, s("ａｐｐｌｅ．ｃｏｍ"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: full-width upper 'ＡＰＰＬＥ.com'", Get(Live, s("ＡＰＰＬＥ.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: math bold '𝐚𝐩𝐩𝐥𝐞.com'", Get(Live, s("𝐚𝐩𝐩𝐥𝐞.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: ideographic full stop 'apple。com'", Get(Live, s("apple\u{3002}com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: half-width ideographic full stop", Get(Live, s("apple\u{FF61}com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("new: Kelvin sign '\\u212Aelvin.com'", New(St::Null, s("{\"Identity\":\"\u{212A}elvin.com\"}"), true, Given), R::Ok, identity("kelvin.com"));
    // Soft hyphen is "ignored" in UTS 46: deleted by the mapping, so it names apple.com.
    k.addc("get: soft hyphen 'app\\u00ADle.com' maps to apple.com", Get(Live, s("app\u{AD}le.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("new: soft hyphen canonicalises away", New(St::Null, s("{\"Identity\":\"con\u{AD}toso-new.com\"}"), true, Given), R::Ok, identity("contoso-new.com"));
    k.add("new stored: 'con\\u00ADtoso.com' is contoso.com, which exists", New(Live, s("{\"Identity\":\"con\u{AD}toso.com\"}"), false, Given), R::AlreadyExists);
    // Zero-width joiner / non-joiner: kept by non-transitional processing, then refused (no
    // CONTEXTJ support in idna 0.3).
    k.add("get: ZWJ 'app\\u200Dle.com'", Get(Live, s("app\u{200D}le.com"), false, Given), R::InvalidDomain);
    k.add("get: ZWNJ 'app\\u200Cle.com'", Get(Live, s("app\u{200C}le.com"), false, Given), R::InvalidDomain);
    k.add("new: ZWNJ in Persian context 'ab\\u200Ccd.com'", New(St::Null, s("{\"Identity\":\"\u{645}\u{6cc}\u{200C}\u{62e}\u{648}\u{627}\u{647}\u{645}.com\"}"), true, Given), R::InvalidDomain);
    // Other invisible characters are "ignored" in the UTS 46 table, so the mapping deletes them
    // like the soft hyphen: they name apple.com itself, and no invisible character is ever stored.
    // Per SPEC (comparison after IDNA mapping).
    k.addc("get: zero-width space 'app\\u200Ble.com' maps to apple.com", Get(Live, s("app\u{200B}le.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: word joiner 'app\\u2060le.com' maps to apple.com", Get(Live, s("app\u{2060}le.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: BOM 'app\\uFEFFle.com' maps to apple.com", Get(Live, s("app\u{FEFF}le.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: variation selector 'apple\\uFE0F.com' maps to apple.com", Get(Live, s("apple\u{FE0F}.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("get: combining grapheme joiner 'app\\u034Fle.com' maps to apple.com", Get(Live, s("app\u{34F}le.com"), false, Given), R::Ok, identity("apple.com"));
    k.addc("new: zero-width space canonicalises away", New(St::Null, s("{\"Identity\":\"zero\u{200B}width.example\"}"), true, Given), R::Ok, identity("zerowidth.example"));
    // Invalid or fake xn-- labels.
    for (name, id) in [
        ("xn--a.com (invalid Punycode)", "xn--a.com"),
        ("xn--.com (empty Punycode)", "xn--.com"),
        ("xn--abc-.com (decodes to ASCII)", "xn--abc-.com"),
        ("XN--ABC-.com (decodes to ASCII, upper)", "XN--ABC-.com"),
        ("xn--zzzzzzzzzzzzzzzzzzzz.com (overflow)", "xn--zzzzzzzzzzzzzzzzzzzz.com"),
        ("xn--999999999999.com", "xn--999999999999.com"),
        ("xn----eha.com (U-label '-ü')", "xn----eha.com"),
        ("xn--bcher-kva-.com (trailing hyphen)", "xn--bcher-kva-.com"),
        ("xn--fa-hia.xn-- (empty TLD A-label)", "xn--fa-hia.xn--"),
    ] {
        k.add(format!("get: {name}"), Get(Live, s(id), false, Given), R::InvalidDomain);
    }
    // IDNA2008 (RFC 7622): the A-label of an emoji is not a valid domain.
    k.add("get: xn--ls8h.la (emoji A-label)", Get(Live, s("xn--ls8h.la"), false, Given), R::InvalidDomain);
    k.addc("get: 'XN--BCHER-KVA.example' is bücher.example", Get(Live, s("XN--BCHER-KVA.example"), false, Given), R::Ok, identity("bücher.example"));
    // Uppercase Unicode and normalisation.
    k.addc("get: 'BÜCHER.EXAMPLE'", Get(Live, s("BÜCHER.EXAMPLE"), false, Given), R::Ok, identity("bücher.example"));
    k.addc("get: decomposed 'bu\\u0308cher.example'", Get(Live, s("bu\u{308}cher.example"), true, Given), R::Ok, identity("bücher.example"));
    k.addc("new: 'ΣΊΣΥΦΟΣ.gr' lowercases (final sigma kept as σ/ς per UTS 46)", New(St::Null, s(r#"{"Identity":"ΣΊΣΥΦΟΣ.gr"}"#), true, Given), R::Ok, identity("σίσυφοσ.gr"));
    k.addc("new: 'İstanbul.com' (dotted capital I)", New(St::Null, s(r#"{"Identity":"İstanbul.com"}"#), true, Given), R::Ok, identity("i\u{307}stanbul.com"));
    k.addc("new: 'STRASSE.de' stays distinct from straße.de", New(St::Null, s(r#"{"Identity":"STRASSE.de"}"#), true, Given), R::Ok, identity("strasse.de"));
    k.addc("new: 'Straße.de' keeps ß (non-transitional)", New(St::Null, s(r#"{"Identity":"Straße.de"}"#), true, Given), R::Ok, identity("straße.de"));
    // Scripts, symbols, bidi.
    k.add("new: mixed LTR + RTL in one label 'a\\u05D0.com'", New(St::Null, s("{\"Identity\":\"a\u{5D0}.com\"}"), true, Given), R::InvalidDomain);
    k.add("new: RTL label then digit-leading label", New(St::Null, s("{\"Identity\":\"\u{5D0}\u{5D1}.1com\"}"), true, Given), R::InvalidDomain);
    k.addc("new: Hebrew label '\\u05D0\\u05D1.com'", New(St::Null, s("{\"Identity\":\"\u{5D0}\u{5D1}.com\"}"), true, Given), R::Ok, identity("\u{5D0}\u{5D1}.com"));
    k.add("new: combining mark first '\\u0301a.com'", New(St::Null, s("{\"Identity\":\"\u{301}a.com\"}"), true, Given), R::InvalidDomain);
    // IDNA2008 (RFC 7622) disallows symbols and emoji; the fraction and division slashes are
    // classic spoofs of '/' ("a⁄b.com" reads as "a/b.com").
    k.add("new: snowman '☃.com'", New(St::Null, s(r#"{"Identity":"☃.com"}"#), true, Given), R::InvalidDomain);
    k.add("new: emoji '😀.com'", New(St::Null, s(r#"{"Identity":"😀.com"}"#), true, Given), R::InvalidDomain);
    k.add("new: fraction slash 'a⁄b.com' U+2044", New(St::Null, s("{\"Identity\":\"a\u{2044}b.com\"}"), true, Given), R::InvalidDomain);
    k.add("new: division slash 'a∕b.com' U+2215", New(St::Null, s("{\"Identity\":\"a\u{2215}b.com\"}"), true, Given), R::InvalidDomain);
    k.add("new: full-width solidus 'a／b.com' (maps to '/')", New(St::Null, s("{\"Identity\":\"a\u{FF0F}b.com\"}"), true, Given), R::InvalidDomain);
    k.add("new: full-width colon 'a.com：5269' (maps to ':')", New(St::Null, s("{\"Identity\":\"a.com\u{FF1A}5269\"}"), true, Given), R::InvalidDomain);
    k.add("new: full-width commercial at 'user＠a.com'", New(St::Null, s("{\"Identity\":\"user\u{FF20}a.com\"}"), true, Given), R::InvalidDomain);

    // ------------------------------------------------------------------------------------------
    k.cat("range");
    let range_cases: &[(&str, &str, R)] = &[
        ("ConnectionLimit 0", r#""ConnectionLimit":0"#, R::InvalidValue),
        // serde_json reads -0 as the float -0.0, so it is a type error like 0.0, not the value 0.
        ("ConnectionLimit -0", r#""ConnectionLimit":-0"#, R::JsonShape),
        ("ConnectionLimit -1", r#""ConnectionLimit":-1"#, R::JsonShape),
        ("ConnectionLimit -4294967296", r#""ConnectionLimit":-4294967296"#, R::JsonShape),
        ("ConnectionLimit 4294967296 (2^32)", r#""ConnectionLimit":4294967296"#, R::JsonShape),
        ("ConnectionLimit 18446744073709551615 (u64::MAX)", r#""ConnectionLimit":18446744073709551615"#, R::JsonShape),
        ("ConnectionLimit 18446744073709551616 (2^64)", r#""ConnectionLimit":18446744073709551616"#, R::JsonShape),
        ("ConnectionLimit 1e10", r#""ConnectionLimit":1e10"#, R::JsonShape),
        ("ConnectionLimit 1E2", r#""ConnectionLimit":1E2"#, R::JsonShape),
        ("ConnectionLimit 1.5", r#""ConnectionLimit":1.5"#, R::JsonShape),
        ("ConnectionLimit 0.0", r#""ConnectionLimit":0.0"#, R::JsonShape),
        ("ConnectionLimit -1e-400 (underflows to -0.0)", r#""ConnectionLimit":-1e-400"#, R::JsonShape),
        // Regression (fixed): a number too large for f64 is well-formed JSON (RFC 8259 grammar) and "number out
        // of range" is listed under JSON_SHAPE in the header; serde_json classifies it as a syntax
        // error, so the library returns JSON_SYNTAX.
        ("ConnectionLimit 1e400", r#""ConnectionLimit":1e400"#, R::JsonShape),
        ("ConnectionLimit 400-digit integer", &*Box::leak(format!(r#""ConnectionLimit":1{}"#, "0".repeat(400)).into_boxed_str()), R::JsonShape),
    ];
    for (name, extra, code) in range_cases {
        k.add(format!("new in_memory: {name}"), New(St::Null, mem(extra), true, Given), *code);
    }
    k.addc("new in_memory: ConnectionLimit 4294967295", New(St::Null, mem(r#""ConnectionLimit":4294967295"#), true, Given), R::Ok, field("ConnectionLimit", json!(4294967295u32)));
    k.addc("new in_memory: ConnectionLimit 1", New(St::Null, mem(r#""ConnectionLimit":1"#), true, Given), R::Ok, field("ConnectionLimit", json!(1)));
    k.add("set contoso.com: ConnectionLimit 0", Set(Live, s("contoso.com"), s(r#"{"ConnectionLimit":0}"#), Given), R::InvalidValue);
    k.add("set contoso.com: ConnectionLimit -1", Set(Live, s("contoso.com"), s(r#"{"ConnectionLimit":-1}"#), Given), R::JsonShape);
    k.add("set contoso.com: ConnectionLimit 4294967296", Set(Live, s("contoso.com"), s(r#"{"ConnectionLimit":4294967296}"#), Given), R::JsonShape);
    k.add("set contoso.com: ConnectionLimit 1.5", Set(Live, s("contoso.com"), s(r#"{"ConnectionLimit":1.5}"#), Given), R::JsonShape);
    k.add("set_instance: ConnectionLimit 0", SetInstance(Live, s(instance(&|v| v["ConnectionLimit"] = json!(0))), true, Given), R::InvalidValue);
    k.add("set_instance: ConnectionLimit -1", SetInstance(Live, s(instance(&|v| v["ConnectionLimit"] = json!(-1))), true, Given), R::JsonShape);
    let rev = contoso["Revision"].as_u64().unwrap();
    let with_rev = |r: &str| contoso_instance.replacen(&format!("\"Revision\":{rev}"), &format!("\"Revision\":{r}"), 1);
    assert!(with_rev("X").contains("\"Revision\":X"), "Revision is in the instance JSON");
    k.add("set_instance: Revision -1", SetInstance(Live, s(with_rev("-1")), false, Given), R::JsonShape);
    k.add("set_instance: Revision 1.5", SetInstance(Live, s(with_rev("1.5")), false, Given), R::JsonShape);
    k.add("set_instance: Revision 18446744073709551616 (2^64)", SetInstance(Live, s(with_rev("18446744073709551616")), false, Given), R::JsonShape);
    k.add("set_instance: Revision 1e19", SetInstance(Live, s(with_rev("1e19")), false, Given), R::JsonShape);
    k.add("set_instance: Revision 1e400", SetInstance(Live, s(with_rev("1e400")), false, Given), R::JsonShape);
    k.add("set_instance: Revision \"1\"", SetInstance(Live, s(with_rev("\"1\"")), false, Given), R::JsonShape);
    k.add("set_instance: Revision null", SetInstance(Live, s(with_rev("null")), false, Given), R::JsonShape);
    k.add("set_instance: Revision u64::MAX on an existing partner", SetInstance(Live, s(with_rev("18446744073709551615")), false, Given), R::StaleInstance);
    k.add("set_instance: Revision + 1 on an existing partner", SetInstance(Live, s(with_rev(&(rev + 1).to_string())), false, Given), R::StaleInstance);
    k.add("set_instance: Revision 0 on an existing partner", SetInstance(Live, s(with_rev("0")), false, Given), R::AlreadyExists);
    k.add(
        "set_instance: Revision 5 on a missing partner",
        SetInstance(Live, s(instance(&|v| {
            v["Identity"] = json!("missing.example");
            v["Domain"] = json!("missing.example");
            v["AdditionalDomains"] = json!([]);
            v["Revision"] = json!(5);
        })), false, Given),
        R::NotFound,
    );

    // ------------------------------------------------------------------------------------------
    k.cat("domain");
    let l63 = "a".repeat(63);
    let name253 = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
    let name254 = format!("{l63}.{l63}.{l63}.{}", "b".repeat(62));
    let wide60: String = "ü".repeat(60);
    let domain_cases: Vec<(String, String, R)> = vec![
        ("63-octet label".into(), format!("{l63}.com"), R::Ok),
        ("64-octet label".into(), format!("{}.com", "a".repeat(64)), R::InvalidDomain),
        ("64-octet TLD".into(), format!("a.{}", "c".repeat(64)), R::InvalidDomain),
        ("60 x 'ü' (A-label > 63 octets)".into(), format!("{wide60}.com"), R::InvalidDomain),
        ("253-octet name".into(), name253.clone(), R::Ok),
        ("253-octet name + trailing dot".into(), format!("{name253}."), R::Ok),
        ("254-octet name".into(), name254.clone(), R::InvalidDomain),
        ("254-octet name + trailing dot".into(), format!("{name254}."), R::InvalidDomain),
        ("empty".into(), "".into(), R::InvalidDomain),
        ("single dot".into(), ".".into(), R::InvalidDomain),
        ("two dots".into(), "..".into(), R::InvalidDomain),
        ("two trailing dots".into(), "contoso.com..".into(), R::InvalidDomain),
        ("leading dot".into(), ".contoso.com".into(), R::InvalidDomain),
        ("empty inner label".into(), "contoso..com".into(), R::InvalidDomain),
        ("full-width trailing dot".into(), "contoso.com\u{FF0E}".into(), R::InvalidDomain),
        ("single label".into(), "localhost".into(), R::InvalidDomain),
        ("single label + dot".into(), "localhost.".into(), R::InvalidDomain),
        ("TLD only".into(), "com".into(), R::InvalidDomain),
        ("IPv4".into(), "10.0.0.1".into(), R::InvalidDomain),
        ("IPv4 + dot".into(), "10.0.0.1.".into(), R::InvalidDomain),
        ("IPv4 short form 127.1".into(), "127.1".into(), R::InvalidDomain),
        ("IPv4 octal 010.0.0.1".into(), "010.0.0.1".into(), R::InvalidDomain),
        ("five numeric labels".into(), "1.2.3.4.5".into(), R::InvalidDomain),
        ("hex IPv4 0x7f.0.0.1".into(), "0x7f.0.0.1".into(), R::InvalidDomain),
        ("bracketed IPv6".into(), "[::1]".into(), R::InvalidDomain),
        ("bare IPv6".into(), "2001:db8::1".into(), R::InvalidDomain),
        ("IPv6 with zone".into(), "fe80::1%eth0".into(), R::InvalidDomain),
        ("bracketed IPv4".into(), "[10.0.0.1]".into(), R::InvalidDomain),
        ("IPvFuture".into(), "[v1.x]".into(), R::InvalidDomain),
        ("wildcard label".into(), "*.contoso.com".into(), R::InvalidDomain),
        ("wildcard TLD".into(), "contoso.*".into(), R::InvalidDomain),
        ("question mark".into(), "con?oso.com".into(), R::InvalidDomain),
        ("star only".into(), "*".into(), R::InvalidDomain),
        ("character class".into(), "[a-z].com".into(), R::InvalidDomain),
        ("SRV-style underscores".into(), "_xmpp-server._tcp.contoso.com".into(), R::InvalidDomain),
        ("underscore".into(), "my_host.contoso.com".into(), R::InvalidDomain),
        ("leading hyphen".into(), "-contoso.com".into(), R::InvalidDomain),
        ("trailing hyphen".into(), "contoso-.com".into(), R::InvalidDomain),
        // SPEC-CHECK: SPEC's rule is "letters, digits and inner hyphens", which allows this
        // (an R-LDH label); UTS 46 CheckHyphens would refuse it, idna 0.3 only checks the ends.
        ("hyphens in positions 3-4".into(), "ab--cd.com".into(), R::Ok),
        ("hyphens in positions 2-3".into(), "a--bc.com".into(), R::Ok),
        ("numeric TLD".into(), "contoso.123".into(), R::InvalidDomain),
        ("numeric first label".into(), "123.com".into(), R::Ok),
        ("space".into(), "contoso .com".into(), R::InvalidDomain),
        ("tab".into(), "contoso\t.com".into(), R::InvalidDomain),
        ("no-break space".into(), "contoso\u{A0}.com".into(), R::InvalidDomain),
        ("ideographic space".into(), "contoso\u{3000}.com".into(), R::InvalidDomain),
        ("JID with localpart".into(), "user@contoso.com".into(), R::InvalidDomain),
        ("JID with resource".into(), "contoso.com/res".into(), R::InvalidDomain),
        ("port".into(), "contoso.com:5269".into(), R::InvalidDomain),
        ("URI".into(), "xmpp:contoso.com".into(), R::InvalidDomain),
        ("percent-encoding".into(), "contoso%2Ecom".into(), R::InvalidDomain),
        ("backslash".into(), "contoso\\.com".into(), R::InvalidDomain),
        ("quote".into(), "contoso\".com".into(), R::InvalidDomain),
    ];
    for (name, id, code) in &domain_cases {
        // New -InMemory gives the verdict without a store ...
        k.add(format!("new in_memory: {name}"), New(St::Null, s(json!({ "Identity": id }).to_string()), true, Given), *code);
        // ... and Get the same verdict on the key: a valid name that is not stored is NOT_FOUND.
        let get_code = if *code == R::Ok { R::NotFound } else { *code };
        k.add(format!("get: {name}"), Get(Live, s(id), false, Given), get_code);
    }
    k.addc("get: 'CONTOSO.COM.'", Get(Live, s("CONTOSO.COM."), false, Given), R::Ok, identity("contoso.com"));
    k.add("get: an additional domain is not an identity", Get(Live, s("sip.contoso.com"), false, Given), R::NotFound);
    k.add("remove: missing partner", Remove(Live, s("missing.example"), Given), R::NotFound);
    k.add("set: missing partner", Set(Live, s("missing.example"), s("{}"), Given), R::NotFound);
    k.add("new stored: existing identity in other case", New(Live, s(r#"{"Identity":"FABRIKAM.com."}"#), false, Given), R::AlreadyExists);
    k.add("new stored: identity that is another partner's additional domain", New(Live, s(r#"{"Identity":"sip.contoso.com"}"#), false, Given), R::DomainConflict);
    k.add("new stored: AdditionalDomains claimed by another partner", New(Live, s(r#"{"Identity":"fresh.example","AdditionalDomains":["D7.many.example"]}"#), false, Given), R::DomainConflict);
    k.add("new: ProxyFqdn IP literal", New(St::Null, mem(r#""ProxyFqdn":"10.0.0.1""#), true, Given), R::InvalidDomain);
    k.add("new: ProxyFqdn single label", New(St::Null, mem(r#""ProxyFqdn":"proxy""#), true, Given), R::InvalidDomain);
    k.add("new: ProxyFqdn wildcard", New(St::Null, mem(r#""ProxyFqdn":"*.proxy.com""#), true, Given), R::InvalidDomain);
    k.add("new: Domain (not Identity) with IP", New(St::Null, s(r#"{"Domain":"[::1]"}"#), true, Given), R::InvalidDomain);

    // ------------------------------------------------------------------------------------------
    k.cat("filter");
    let filter_cases: Vec<(String, String, R, Option<usize>)> = vec![
        ("unterminated class".into(), "[abc".into(), R::InvalidFilter, None),
        ("lone [".into(), "[".into(), R::InvalidFilter, None),
        ("empty class []".into(), "[]".into(), R::InvalidFilter, None),
        ("[ at the end".into(), "contoso[".into(), R::InvalidFilter, None),
        ("escaped ] leaves class open".into(), "[a`]".into(), R::InvalidFilter, None),
        ("backtick at the end of a class".into(), "[ab`".into(), R::InvalidFilter, None),
        ("reversed range z-a".into(), "[z-a]*".into(), R::InvalidFilter, None),
        ("reversed range 9-0".into(), "*[9-0]".into(), R::InvalidFilter, None),
        ("reversed range a-Z (0x61 > 0x5A)".into(), "[a-Z]*".into(), R::InvalidFilter, None),
        ("reversed non-ASCII range".into(), "[я-а]*".into(), R::InvalidFilter, None),
        ("second class unterminated".into(), "[a]*[b".into(), R::InvalidFilter, None),
        ("trailing backtick (a literal `)".into(), "contoso.com`".into(), R::Ok, Some(0)),
        ("only a backtick (the empty pattern)".into(), "`".into(), R::Ok, Some(0)),
        ("two backticks".into(), "``".into(), R::Ok, Some(0)),
        ("star then trailing backtick".into(), "*`".into(), R::Ok, Some(0)),
        ("escaped star".into(), "`*".into(), R::Ok, Some(0)),
        ("empty filter".into(), "".into(), R::Ok, Some(0)),
        ("4,096 '*' (the longest pattern)".into(), "*".repeat(4096), R::Ok, Some(SETUP_PARTNERS)),
        ("10,000 '*'".into(), "*".repeat(10_000), R::InvalidFilter, None),
        ("10,000 '?'".into(), "?".repeat(10_000), R::InvalidFilter, None),
        ("5,000 '*?'".into(), "*?".repeat(5_000), R::InvalidFilter, None),
        ("'*a' x 5,000 + 'b'".into(), format!("{}b", "*a".repeat(5_000)), R::InvalidFilter, None),
        ("'*' x 10,000 + '.com'".into(), format!("{}.com", "*".repeat(10_000)), R::InvalidFilter, None),
        ("upper-case '*.COM'".into(), "*.COM".into(), R::Ok, Some(3)),
        ("'B?CHER*'".into(), "B?CHER*".into(), R::Ok, Some(1)),
        ("range [a-c]*".into(), "[a-c]*".into(), R::Ok, Some(3)),
        ("']]' outside a class".into(), "]".into(), R::Ok, Some(0)),
        ("'[]]' (] as member)".into(), "[]]*".into(), R::Ok, Some(0)),
        ("'[!a]*' (no negation: ! or a)".into(), "[!a]*".into(), R::Ok, Some(1)),
        ("'[^a]*' (no negation: ^ or a)".into(), "[^a]*".into(), R::Ok, Some(1)),
        ("'[a-]*' (- as member)".into(), "[a-]*".into(), R::Ok, Some(1)),
        ("class with raw U+202E".into(), "[\u{202E}]*".into(), R::Ok, Some(0)),
        ("'*' then 1,000 classes".into(), format!("*{}", "[a-z]".repeat(1000)), R::InvalidFilter, None),
        ("1,000 nested-looking '['".into(), format!("{}]", "[".repeat(1000)), R::Ok, Some(0)),
    ];
    for (name, f, code, n) in filter_cases {
        let local = name.len() % 2 == 0;
        match n {
            Some(n) => k.addc(format!("list: {name}"), List(Live, s(f), local, Given), code, list_len(n)),
            None => {
                k.add(format!("list: {name}"), List(Live, s(f), local, Given), code);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    k.cat("modifier");
    let set_mods: Vec<(&str, String, R)> = vec![
        ("unknown key Append", r#"{"Append":"x.com"}"#.into(), R::InvalidValue),
        ("known and unknown key", r#"{"Add":"x.com","Colour":1}"#.into(), R::InvalidValue),
        ("empty key", r#"{"":"x.com"}"#.into(), R::InvalidValue),
        ("Add number", r#"{"Add":1}"#.into(), R::InvalidValue),
        ("Add [1]", r#"{"Add":[1]}"#.into(), R::InvalidValue),
        ("Add [null]", r#"{"Add":[null]}"#.into(), R::InvalidValue),
        ("Add object", r#"{"Add":{"x":1}}"#.into(), R::InvalidValue),
        ("Add bool", r#"{"Add":true}"#.into(), R::InvalidValue),
        ("Remove bool", r#"{"Remove":true}"#.into(), R::InvalidValue),
        ("Replace float", r#"{"Replace":1.5}"#.into(), R::InvalidValue),
        ("Replace nested list", r#"{"Replace":[["x.com"]]}"#.into(), R::InvalidValue),
        ("Add the primary domain", r#"{"Add":"contoso.com"}"#.into(), R::InvalidValue),
        ("Add the primary domain, other spelling", r#"{"Add":"CONTOSO.COM."}"#.into(), R::InvalidValue),
        ("Add the primary domain, full-width", r#"{"add":"ｃｏｎｔｏｓｏ.com"}"#.into(), R::InvalidValue),
        ("Add the primary domain, soft hyphen", "{\"ADD\":\"con\u{AD}toso.com\"}".into(), R::InvalidValue),
        ("Replace with the primary domain", r#"{"Replace":["contoso.com"]}"#.into(), R::InvalidValue),
        ("Add the primary after removing it", r#"{"Remove":"contoso.com","Add":"contoso.com"}"#.into(), R::InvalidValue),
        ("Add another partner's identity", r#"{"Add":"fabrikam.com"}"#.into(), R::DomainConflict),
        ("Add another partner's additional domain", r#"{"Add":["ok.contoso.com","d999.many.example"]}"#.into(), R::DomainConflict),
        ("Add an invalid domain", r#"{"Add":"bad..com"}"#.into(), R::InvalidDomain),
        ("Add an IP literal", r#"{"Add":["10.0.0.1"]}"#.into(), R::InvalidDomain),
        ("Remove a wildcard", r#"{"Remove":"*.com"}"#.into(), R::InvalidDomain),
        // "" is the text form of an empty list (removes nothing); a bad part of a text form is named.
        ("Remove a text form with a bad part", r#"{"Remove":"a.com;x y"}"#.into(), R::InvalidDomain),
        ("Add 1,001 new domains", json!({"AdditionalDomains": {"Add": (0..1001).map(|i| format!("n{i}.contoso.com")).collect::<Vec<_>>()}})["AdditionalDomains"].to_string(), R::InvalidValue),
        ("Replace with 1,001 domains, last invalid", json!((0..1001).map(|i| if i == 1000 { "bad_.com".to_string() } else { format!("n{i}.contoso.com") }).collect::<Vec<_>>()).to_string(), R::InvalidDomain),
    ];
    for (name, m, code) in &set_mods {
        k.add(format!("set contoso.com: {name}"), Set(Live, s("contoso.com"), s(format!(r#"{{"AdditionalDomains":{m}}}"#)), Given), *code);
    }
    k.add("set many.example (1,000 domains): Add one more", Set(Live, s("many.example"), s(r#"{"AdditionalDomains":{"Add":"one-more.many.example"}}"#), Given), R::InvalidValue);
    k.add("set many.example: Remove one, Add two", Set(Live, s("many.example"), s(r#"{"AdditionalDomains":{"Remove":"d0.many.example","Add":["x1.many.example","x2.many.example"]}}"#), Given), R::InvalidValue);
    k.add("set_instance contoso.com: AdditionalDomains holds the primary", SetInstance(Live, s(instance(&|v| v["AdditionalDomains"] = json!(["contoso.com"]))), true, Given), R::InvalidValue);
    k.add("set_instance contoso.com: AdditionalDomains claimed elsewhere", SetInstance(Live, s(instance(&|v| v["AdditionalDomains"] = json!(["apple.com"]))), true, Given), R::DomainConflict);
    let thousand: Vec<String> = (0..1000).map(|i| format!("m{i}.a.example")).collect();
    let mut thousand_one = thousand.clone();
    thousand_one.push("m1000.a.example".into());
    let mut thousand_dup = thousand.clone();
    thousand_dup.push("M0.A.EXAMPLE.".into());
    k.addc("new in_memory: 1,000 domains", New(St::Null, s(json!({"Identity":"a.example","AdditionalDomains":thousand}).to_string()), true, Given), R::Ok, additional_count(1000));
    k.add("new in_memory: 1,001 domains", New(St::Null, s(json!({"Identity":"a.example","AdditionalDomains":thousand_one}).to_string()), true, Given), R::InvalidValue);
    k.addc("new in_memory: 1,001 entries, 1,000 distinct", New(St::Null, s(json!({"Identity":"a.example","AdditionalDomains":thousand_dup}).to_string()), true, Given), R::Ok, additional_count(1000));
    k.add("new in_memory: 100,000 domains", New(St::Null, s(json!({"Identity":"a.example","AdditionalDomains":(0..100_000).map(|i| format!("m{i}.a.example")).collect::<Vec<_>>()}).to_string()), true, Given), R::InvalidValue);
    k.add("new in_memory: AdditionalDomains holds the primary", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":["A.Example"]}"#), true, Given), R::InvalidValue);
    k.add("new in_memory: Add of the primary (modifier on New)", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":{"Add":"a.example."}}"#), true, Given), R::InvalidValue);
    k.add("new in_memory: unknown modifier key", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":{"Insert":"b.example"}}"#), true, Given), R::InvalidValue);
    k.addc("new in_memory: modifier with Add", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":{"Add":["B.example","b.example."]}}"#), true, Given), R::Ok, additional_count(1));
    k.addc("new in_memory: modifier {} (no change)", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":{}}"#), true, Given), R::Ok, additional_count(0));
    k.addc("new in_memory: Remove of a missing domain is ignored", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":{"Remove":"zz.example"}}"#), true, Given), R::Ok, additional_count(0));
    // A key given twice, exactly or in another casing, is ambiguous (PowerShell refuses duplicate
    // hashtable keys): refused rather than one value silently dropped. (Regression, fixed.)
    k.add("new in_memory: modifier with 'Add' twice", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":{"Add":"x.example","Add":"y.example"}}"#), true, Given), R::InvalidValue);
    k.add("new in_memory: modifier with 'Add' and 'add'", New(St::Null, s(r#"{"Identity":"a.example","AdditionalDomains":{"Add":"x.example","add":"y.example"}}"#), true, Given), R::InvalidValue);

    // Explaining a remote domain: the same domain rules as Get, read-only, with its own arguments.
    k.cat("explain");
    k.add("explain: NULL store", Explain(St::Null, s("contoso.com"), false, Given), R::NullArgument);
    k.add("explain: NULL domain", Explain(Live, null(), false, Given), R::NullArgument);
    k.add("explain: NULL domain, local", Explain(Live, null(), true, Given), R::NullArgument);
    k.add("explain: NULL out", Explain(Live, s("contoso.com"), false, NO_OUT), R::NullArgument);
    k.add("explain: bad UTF-8", Explain(Live, with_bad("conto", b"\xC3\x28", "so.com"), false, Given), R::InvalidUtf8);
    k.add("explain: lone surrogate bytes", Explain(Live, with_bad("a", b"\xED\xA0\x80", ".com"), true, Given), R::InvalidUtf8);
    k.addt("explain: 10 MB 'a.'", Explain(Live, s("a.".repeat(MB10 / 2)), false, Given), R::InvalidDomain, ms(2000));
    k.addt("explain: 10 MB of ESC (message escapes 10M chars)", Explain(Live, s("\u{1b}".repeat(MB10)), true, Given), R::InvalidDomain, ms(4000));
    k.add("explain: empty", Explain(Live, s(""), false, Given), R::InvalidDomain);
    k.add("explain: wildcard", Explain(Live, s("*.contoso.com"), false, Given), R::InvalidDomain);
    k.add("explain: IPv6 literal", Explain(Live, s("[::1]"), false, Given), R::InvalidDomain);
    k.addc("explain: raw ESC [2J", Explain(Live, s("a\u{1b}[2J.com"), false, Given), R::InvalidDomain, contains("\\u{001b}"));
    k.addc("explain: raw U+202E", Explain(Live, s("\u{202E}moc.elppa"), false, Given), R::InvalidDomain, contains("\\u{202e}"));
    k.addc("explain: 'Domain' names the field as New -Domain does", Explain(Live, s("not a domain"), false, Given), R::InvalidDomain, contains("Domain 'not a domain' is not a valid domain"));
    k.addc("explain: Cyrillic 'аpple.com' is not apple.com", Explain(Live, s("аpple.com"), false, Given), R::Ok, explained(false, None));
    k.addc("explain: full-width 'ａｐｐｌｅ．ｃｏｍ' is apple.com", Explain(Live, s("ａｐｐｌｅ．ｃｏｍ"), false, Given), R::Ok, explained(true, Some("apple.com")));
    k.addc("explain: 'APPLE.com.' from the replica", Explain(Live, s("APPLE.com."), true, Given), R::Ok, explained(true, Some("apple.com")));
    k.addc("explain: a subdomain of apple.com is not covered", Explain(Live, s("deep.sub.apple.com"), false, Given), R::Ok, explained(false, None));

    // History, export and import: read-only unless an import applies, and an import that fails
    // changes nothing (the runner compares the folders byte for byte).
    k.cat("history/export/import");
    k.add("history: NULL store", History(St::Null, null(), Given), R::NullArgument);
    k.add("history: NULL out", History(Live, null(), NO_OUT), R::NullArgument);
    k.add("history: NULL query is everything", History(Live, null(), Given), R::Ok);
    k.add("history: bad UTF-8 query", History(Live, with_bad(r#"{"Identity":""#, b"\xC3\x28", r#""}"#), Given), R::InvalidUtf8);
    k.add("history: query not JSON", History(Live, s("{"), Given), R::JsonSyntax);
    k.add("history: unknown query field", History(Live, s(r#"{"Who":"me"}"#), Given), R::JsonShape);
    k.add("history: First is negative", History(Live, s(r#"{"First":-1}"#), Given), R::JsonShape);
    k.addc("history: After is not a time", History(Live, s(r#"{"After":"2026-13-01T00:00:00Z"}"#), Given), R::InvalidValue, contains("After"));
    k.addc("history: Before with ESC", History(Live, s(r#"{"Before":"\u001b[2J"}"#), Given), R::InvalidValue, contains("\\u{001b}"));
    k.add("history: bad wildcard", History(Live, s(r#"{"Identity":"[a"}"#), Given), R::InvalidFilter);
    k.addt("history: 4 MB + 1 query", History(Live, s(format!(r#"{{"Identity":"{}"}}"#, "a".repeat(4 * 1024 * 1024))), Given), R::InputTooLarge, ms(2000));
    k.add("export: NULL store", Export(St::Null, s("Json"), null(), false, Given), R::NullArgument);
    k.add("export: NULL format", Export(Live, null(), null(), false, Given), R::NullArgument);
    k.add("export: NULL out", Export(Live, s("Json"), null(), false, NO_OUT), R::NullArgument);
    k.addc("export: unknown format", Export(Live, s("xml"), null(), false, Given), R::InvalidValue, contains("Format"));
    k.add("export: format with bad UTF-8", Export(Live, raw(b"Js\xFFon"), null(), false, Given), R::InvalidUtf8);
    k.add("export: bad filter", Export(Live, s("csv"), s("[a"), false, Given), R::InvalidFilter);
    k.addc("export: CSV from the replica", Export(Live, s("CSV"), null(), true, Given), R::Ok, contains("Identity,Domain,AdditionalDomains"));
    k.add("import: NULL store", Import(St::Null, s("[]"), null(), true, Given), R::NullArgument);
    k.add("import: NULL input", Import(Live, null(), null(), true, Given), R::NullArgument);
    k.add("import: NULL out", Import(Live, s("[]"), null(), true, NO_OUT), R::NullArgument);
    k.add("import: input with bad UTF-8", Import(Live, with_bad(r#"[{"Identity":"a"#, b"\xC3\x28", r#".com"}]"#), null(), true, Given), R::InvalidUtf8);
    k.add("import: input not JSON", Import(Live, s("[{"), null(), true, Given), R::JsonSyntax);
    k.add("import: input an object", Import(Live, s(r#"{"Identity":"a.com"}"#), null(), false, Given), R::JsonShape);
    k.add("import: input an array of numbers", Import(Live, s("[1,2]"), null(), true, Given), R::JsonShape);
    k.add("import: nested 100,000 deep", Import(Live, s(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))), null(), false, Given), R::JsonSyntax);
    k.add("import: unknown option", Import(Live, s("[]"), s(r#"{"Mode":"Mirror"}"#), true, Given), R::JsonShape);
    k.add("import: unknown format option", Import(Live, s("[]"), s(r#"{"Format":"Xml"}"#), true, Given), R::JsonShape);
    k.addc("import: CSV with an unclosed quote", Import(Live, s("Identity\n\"a.com\n"), s(r#"{"Format":"Csv"}"#), false, Given), R::InvalidValue, contains("line 2"));
    k.addc("import: CSV with a short row", Import(Live, s("Identity,Description\na.com\n"), s(r#"{"Format":"Csv"}"#), true, Given), R::InvalidValue, contains("line 2"));
    k.addc("import: a bad domain rejects everything", Import(Live, s(r#"[{"Identity":"new.example"},{"Identity":"bad domain"}]"#), null(), true, Given), R::ImportRejected, contains("position 2"));
    k.addc("import: the preview lists the rejection", Import(Live, s(r#"[{"Identity":"new.example"},{"Identity":"x\u001b[2J.com"}]"#), null(), false, Given), R::Ok, |text| {
        contains(r#""ErrorId":"InvalidDomain""#)(text)?;
        if text.contains("\\u001b") { Err(format!("a raw ESC is in the plan: {}", preview(text))) } else { contains("\\\\u{001b}")(text) }
    });
    k.addc("import: the rejection's reason escapes ESC", Import(Live, s(r#"[{"Identity":"x\u001b[2J.com"}]"#), null(), true, Given), R::ImportRejected, contains("\\u{001b}"));
    k.add("import: a stale ExpectedRevision", Import(Live, s(r#"[{"Identity":"new.example"}]"#), s(r#"{"ExpectedRevision":0}"#), true, Given), R::StoreChanged);
    k.add("import: RemoveMissing of an empty list, previewed", Import(Live, s("[]"), s(r#"{"RemoveMissing":true}"#), false, Given), R::Ok);
    k.addt("import: 10 MB of one string", Import(Live, s(format!(r#"[{{"Identity":"{}"}}]"#, "a".repeat(MB10))), null(), true, Given), R::ImportRejected, ms(4000));

    k.cases
}

// ---------------------------------------------------------------------------------------------
// Small helpers used by the corpus
// ---------------------------------------------------------------------------------------------

trait MapBytes {
    fn map_bytes(self, f: impl FnOnce(Vec<u8>) -> Vec<u8>) -> Arg;
}

impl MapBytes for Arg {
    fn map_bytes(self, f: impl FnOnce(Vec<u8>) -> Vec<u8>) -> Arg {
        match self {
            Arg::Null => Arg::Null,
            Arg::Bytes(b) => Arg::Bytes(f(b)),
        }
    }
}

fn replace_bytes(haystack: Vec<u8>, needle: &[u8], with: &[u8]) -> Vec<u8> {
    let pos = haystack.windows(needle.len()).position(|w| w == needle).expect("needle present");
    let mut out = haystack[..pos].to_vec();
    out.extend_from_slice(with);
    out.extend_from_slice(&haystack[pos + needle.len()..]);
    out
}
