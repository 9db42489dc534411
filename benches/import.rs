//! Import and export of the whole list through the C ABI (harness = false), on a folder store and,
//! when `XMPPFED_TEST_POSTGRES` names a server (`bash scripts/bench.sh import` starts one), on
//! PostgreSQL. Prints a markdown report on stdout, progress on stderr.
//!
//! Per size N (default 10,000 and 100,000; `XMPPFED_BENCH_SIZES`), each a median of
//! `XMPPFED_BENCH_REPEATS` (default 3) runs on fresh stores, interleaved with its baselines:
//! - import into an empty store (one commit of N partners), and again (all unchanged, nothing
//!   committed), and with 10% of the partners changed;
//! - export as JSON and CSV;
//! - baselines: the physical floor of one commit of that size (one `write` of the commit line's
//!   bytes + `fdatasync`), parsing the input JSON alone (serde_json to a `Value`), and one commit
//!   per partner (1,000 single creates, scaled to N) — what an import without a bulk commit costs.

mod common;

use std::ffi::c_char;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::ptr;

use common::*;
use xmppfed::ffi::{xmppfed_partner_new, xmppfed_store_export, xmppfed_store_import};
use xmppfed::transfer::{export, Format};

fn sizes() -> Vec<usize> {
    std::env::var("XMPPFED_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').map(|n| n.trim().parse().expect("XMPPFED_BENCH_SIZES: numbers")).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn repeats() -> usize {
    std::env::var("XMPPFED_BENCH_REPEATS").ok().and_then(|s| s.parse().ok()).unwrap_or(3)
}

/// The input of an import of N partners: the export of N benchmark partners, `changed` of them
/// with another description.
fn input(n: usize, changed: usize) -> String {
    let partners: Vec<_> = (0..n)
        .map(|i| {
            let mut p = partner(i, 0);
            if i < changed {
                p.description = format!("changed {i}");
            }
            p
        })
        .collect();
    export(partners.iter(), Format::Json)
}

fn import(h: &Handle, text: &std::ffi::CString) -> usize {
    call_out("import", |out| unsafe { xmppfed_store_import(h.0, text.as_ptr(), ptr::null(), out) })
}

/// Where a run's stores go: one kind of central store.
enum Kind {
    Folder(PathBuf),
    Postgres(String),
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Folder(_) => "folder",
            Kind::Postgres(_) => "PostgreSQL",
        }
    }

    /// A fresh, empty central store and a handle on it.
    fn fresh(&self, root: &Path, run: &str) -> Handle {
        let replica = root.join(format!("replica-{}-{run}", self.name()));
        match self {
            Kind::Folder(dir) => {
                let central = dir.join(format!("central-{run}"));
                std::fs::create_dir_all(&central).unwrap();
                Handle::open(&central, &replica)
            }
            Kind::Postgres(server) => {
                let name = format!("xb_import_{run}");
                let out = std::process::Command::new("psql").args(["-X", "-q", server, "-c", &format!("DROP DATABASE IF EXISTS {name}"), "-c", &format!("CREATE DATABASE {name}")]).output().unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                Handle::open(Path::new(&format!("{server} dbname={name}")), &replica)
            }
        }
    }
}

/// One write + fdatasync of `bytes` bytes on an open file in `dir`: what one durable commit of
/// that size costs at least.
fn floor(dir: &Path, bytes: usize) -> T {
    let path = dir.join("floor.bin");
    let mut f = OpenOptions::new().create(true).append(true).open(&path).unwrap();
    let data = vec![b'x'; bytes];
    let (t, _) = time(|| {
        f.write_all(&data).unwrap();
        f.sync_data().unwrap();
    });
    drop(f);
    std::fs::remove_file(&path).unwrap();
    t
}

fn main() {
    let root = tempfile::Builder::new().prefix("xmppfed-bench-import-").tempdir_in(std::env::var_os("XMPPFED_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir)).unwrap();
    let mut kinds = vec![Kind::Folder(root.path().to_owned())];
    if let Ok(server) = std::env::var("XMPPFED_TEST_POSTGRES") {
        kinds.push(Kind::Postgres(server));
    }
    println!("## Import and export (benches/import.rs)\n");
    println!("Medians of {} runs, wall time; ratios against baselines measured in the same run.\n", repeats());
    println!("| store | N | import (new) | ×floor | ×parse | import (unchanged) | import (10% changed) | export JSON | export CSV | one commit per partner (scaled) | ×import |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for kind in &kinds {
        for n in sizes() {
            eprintln!("{} N={n}", kind.name());
            let text = std::ffi::CString::new(input(n, 0)).unwrap();
            let changed = std::ffi::CString::new(input(n, n / 10)).unwrap();
            let (mut fresh, mut same, mut tenth, mut json, mut csv, mut floors, mut parse, mut single) =
                (Samples::default(), Samples::default(), Samples::default(), Samples::default(), Samples::default(), Samples::default(), Samples::default(), Samples::default());
            for r in 0..repeats() {
                let run = format!("{n}_{r}");
                let h = kind.fresh(root.path(), &run);
                let (t, _) = time(|| import(&h, &text));
                fresh.push(t);
                same.push(time(|| import(&h, &text)).0);
                tenth.push(time(|| import(&h, &changed)).0);
                let fmt = |f: &str| std::ffi::CString::new(f).unwrap();
                let (t, len) = time(|| call_out("export", |out: *mut *mut c_char| unsafe { xmppfed_store_export(h.0, fmt("Json").as_ptr(), ptr::null(), false, out) }));
                json.push(t);
                csv.push(time(|| call_out("export", |out: *mut *mut c_char| unsafe { xmppfed_store_export(h.0, fmt("Csv").as_ptr(), ptr::null(), false, out) })).0);
                floors.push(floor(root.path(), len + n * 120));
                parse.push(time(|| serde_json::from_str::<serde_json::Value>(text.to_str().unwrap()).unwrap()).0);
                // 1,000 single creates on a fresh store, scaled to N.
                let h1 = kind.fresh(root.path(), &format!("{run}_single"));
                let singles = 1000.min(n);
                let (t, _) = time(|| {
                    for i in 0..singles {
                        let json = std::ffi::CString::new(serde_json::json!({"Identity": identity(i), "AdditionalDomains": [format!("chat.{}", identity(i))]}).to_string()).unwrap();
                        call_out("new", |out| unsafe { xmppfed_partner_new(h1.0, json.as_ptr(), false, out) });
                    }
                });
                single.push(T { wall: t.wall * n as f64 / singles as f64, cpu: t.cpu * n as f64 / singles as f64 });
            }
            println!(
                "| {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {:.0} |",
                kind.name(),
                fmt_n(n),
                fmt_time(fresh.median()),
                fresh.median() / floors.median(),
                fresh.median() / parse.median(),
                fmt_time(same.median()),
                fmt_time(tenth.median()),
                fmt_time(json.median()),
                fmt_time(csv.median()),
                fmt_time(single.median()),
                single.median() / fresh.median(),
            );
        }
    }
}
