//! The checked-in C header must be exactly what cbindgen generates from src/ffi.rs now.
//! Refresh it with: XMPPFED_BLESS_HEADER=1 cargo test --test header_is_current

#[test]
fn checked_in_header_matches_generated() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/xmppfed.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/xmppfed.h");
    if std::env::var_os("XMPPFED_BLESS_HEADER").is_some() {
        std::fs::write(path, generated).expect("write include/xmppfed.h");
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/xmppfed.h is stale: regenerate it with XMPPFED_BLESS_HEADER=1 cargo test --test header_is_current"
    );
}
