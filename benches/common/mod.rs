//! What the benchmark programs share: timing and statistics, formatting, the C ABI called as a
//! C program would, and the partners they store.
#![allow(dead_code)] // each benchmark uses part of it

use std::ffi::{c_char, CStr, CString};
use std::path::Path;
use std::ptr;
use std::time::Instant;

use xmppfed::ffi::{
    xmppfed_last_error_message, xmppfed_result, xmppfed_store, xmppfed_store_close, xmppfed_store_open, xmppfed_store_replicate,
    xmppfed_string_free,
};
use xmppfed::model::Partner;

// ---------------------------------------------------------------------------------------------
// Timing and statistics

#[derive(Clone, Copy)]
pub struct T {
    pub wall: f64,
    pub cpu: f64,
}

pub fn thread_cpu() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

pub fn time<R>(f: impl FnOnce() -> R) -> (T, R) {
    let c0 = thread_cpu();
    let start = Instant::now();
    let r = f();
    let wall = start.elapsed().as_secs_f64();
    (T { wall, cpu: thread_cpu() - c0 }, r)
}

#[derive(Clone, Default)]
pub struct Samples {
    pub wall: Vec<f64>,
    pub cpu: Vec<f64>,
}

impl Samples {
    pub fn one(t: T) -> Samples {
        let mut s = Samples::default();
        s.push(t);
        s
    }
    pub fn push(&mut self, t: T) {
        self.wall.push(t.wall);
        self.cpu.push(t.cpu);
    }
    pub fn median(&self) -> f64 {
        median_of(&self.wall)
    }
    pub fn cpu_median(&self) -> f64 {
        median_of(&self.cpu)
    }
    pub fn p90(&self) -> f64 {
        let mut v = self.wall.clone();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let rank = ((0.9 * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }
    pub fn n(&self) -> usize {
        self.wall.len()
    }
}

pub fn median_of(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

pub fn fmt_time(s: f64) -> String {
    if s.is_nan() {
        "–".into()
    } else if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.2} s", s)
    }
}

pub fn fmt_bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    } else if b >= 1 << 10 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{} B", b)
    }
}

pub fn fmt_n(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A small deterministic generator (xorshift64*), so runs pick the same identities.
pub struct Rng(pub u64);
impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545F4914F6CDD1D) % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// The C ABI, called as a C program would

pub fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub fn check(r: xmppfed_result, what: &str) {
    if r != xmppfed_result::Ok {
        let msg = unsafe {
            let m = xmppfed_last_error_message();
            if m.is_null() {
                "(no message)".to_string()
            } else {
                CStr::from_ptr(m).to_string_lossy().into_owned()
            }
        };
        panic!("{what}: {r:?}: {msg}");
    }
}

pub struct Handle(pub *mut xmppfed_store);

impl Handle {
    pub fn open(central: &Path, replica: &Path) -> Handle {
        let c = cstr(central.to_str().unwrap());
        let r = cstr(replica.to_str().unwrap());
        let mut h: *mut xmppfed_store = ptr::null_mut();
        check(unsafe { xmppfed_store_open(c.as_ptr(), r.as_ptr(), &mut h) }, "open");
        Handle(h)
    }
    pub fn replicate(&self) {
        check(unsafe { xmppfed_store_replicate(self.0) }, "replicate");
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { xmppfed_store_close(self.0) }
    }
}

/// Call an export that returns one library string and free it, as a C caller would; returns
/// the string's length.
pub fn call_out(what: &str, f: impl FnOnce(*mut *mut c_char) -> xmppfed_result) -> usize {
    let mut out: *mut c_char = ptr::null_mut();
    check(f(&mut out), what);
    let len = unsafe { CStr::from_ptr(out).to_bytes().len() };
    unsafe { xmppfed_string_free(out) };
    len
}

/// Call an export that returns one library string; returns a copy of it.
pub fn call_text(what: &str, f: impl FnOnce(*mut *mut c_char) -> xmppfed_result) -> String {
    let mut out: *mut c_char = ptr::null_mut();
    check(f(&mut out), what);
    let text = unsafe { CStr::from_ptr(out).to_str().unwrap().to_owned() };
    unsafe { xmppfed_string_free(out) };
    text
}

/// The reads' baseline: encode a value as the library does for a C caller (serde_json to a
/// CString handed out and freed).
pub fn encode_only<V: serde::Serialize>(value: &V) -> usize {
    let s = CString::new(serde_json::to_string(value).unwrap()).unwrap();
    let len = s.as_bytes().len();
    drop(unsafe { CString::from_raw(s.into_raw()) });
    len
}

// ---------------------------------------------------------------------------------------------
// Fixtures

pub fn identity(i: usize) -> String {
    format!("p{i}.example.org")
}

/// Every pre-populated partner has one additional domain and a description, so a log line is
/// about the size the issue names (~350-400 bytes).
pub fn partner(i: usize, revision: u64) -> Partner {
    let id = identity(i);
    let mut p = Partner::with_defaults(id.clone());
    p.additional_domains = vec![format!("chat.{id}")];
    p.description = format!("benchmark partner number {i:06}");
    p.revision = revision;
    p
}
