//! Generates the C header from `src/ffi.rs` with cbindgen into OUT_DIR. The checked-in copy,
//! `include/xmppfed.h`, is compared with it by `tests/header_is_current.rs`, so a stale header
//! fails the tests (refresh it with `XMPPFED_BLESS_HEADER=1 cargo test --test header_is_current`).

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml")).expect("cbindgen.toml is readable");
    cbindgen::Builder::new()
        // Parse only the ffi module: `with_crate` would run `cargo metadata`, which cannot see the
        // offline crate source our scripts pass with `--config`.
        .with_src(format!("{crate_dir}/src/ffi.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header from src/ffi.rs")
        .write_to_file(format!("{out_dir}/xmppfed.h"));
}
