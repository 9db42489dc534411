//! Fuzz targets for xmppfed, one `extern "C"` function per target. `harness/entry.c` maps
//! libFuzzer's `LLVMFuzzerTestOneInput` onto one of them per binary (see scripts/fuzz.sh).
//!
//! A crash is: a panic (the profile uses `panic = "abort"`, so even a panic inside the C ABI's
//! `catch_unwind` boundary aborts with its message and location instead of turning into
//! `XMPPFED_RESULT_PANIC`), an overflow (`-Coverflow-checks`), or a failed invariant `check!`.

mod domain;
mod ffi;
mod wildcard;

/// Like `assert!`, but prints the input that broke the invariant before aborting.
macro_rules! check {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            panic!("invariant violated: {}: {}", stringify!($cond), format!($($fmt)+));
        }
    };
}
pub(crate) use check;

/// # Safety
/// `data` is valid for `size` bytes (libFuzzer's contract).
unsafe fn input<'a>(data: *const u8, size: usize) -> &'a [u8] {
    if size == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(data, size)
    }
}

/// Target `domain`: `xmppfed::domain::canonicalize` on arbitrary text.
///
/// # Safety
/// `data` is valid for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_fuzz_domain(data: *const u8, size: usize) -> i32 {
    domain::run(input(data, size));
    0
}

/// Target `wildcard`: `WildcardPattern::parse` and `is_match`. Input: pattern NUL text NUL text...
///
/// # Safety
/// `data` is valid for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_fuzz_wildcard(data: *const u8, size: usize) -> i32 {
    wildcard::run(input(data, size));
    0
}

/// Target `ffi`: sequences of C ABI calls (New in memory and in a store, Set, Set -Instance,
/// Get, List with filter, Remove, reopen on a given log) against a fresh temporary store.
///
/// # Safety
/// `data` is valid for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn xmppfed_fuzz_ffi(data: *const u8, size: usize) -> i32 {
    ffi::run(input(data, size));
    0
}
