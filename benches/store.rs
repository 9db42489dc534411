//! Store benchmarks through the C ABI (harness = false; no criterion).
//!
//! Run: `bash scripts/bench.sh` (or `cargo bench --bench store`, adding
//! `--config build/debian-crates.toml` offline). Prints a markdown report on stdout, progress on
//! stderr. Every figure is a median (and p90) over repeated runs; every ratio is against a
//! baseline measured in the same run, interleaved with the measurement, because the machine is
//! shared and noisy. Each sample records wall time and the calling thread's CPU time
//! (CLOCK_THREAD_CPUTIME_ID): time spent waiting for the disk or for a CPU is in the first only.
//!
//! Per store size N (default 100, 10,000 and 100,000 partners):
//! - commit: one durable create / set / remove through `xmppfed_partner_*`, each next to the
//!   physical floor (one `write` of one log line's bytes + `fdatasync`, on an already open
//!   O_APPEND file in the same folder), order alternating between cycles.
//! - replica: the incremental refresh one commit causes (measured on a second handle whose replica
//!   is one line behind), the full copy a first commit on a machine makes, and the commit that
//!   triggers compaction.
//! - open: `xmppfed_store_open` with the page cache warm, and cold (the log evicted with
//!   posix_fadvise(DONTNEED) first); close.
//! - reads: get by identity and list by filter, including JSON encoding and
//!   `xmppfed_string_free`; the baseline is encoding the same result alone (serde_json + CString +
//!   free), i.e. what any C-ABI read returning JSON pays at least.
//! - memory (largest N): VmHWM / VmRSS of a fresh child process that opens the store and lists.
//!
//! The store is pre-populated by writing `partners.1.log` in its documented format (header line +
//! one `Put` record per partner, `xmppfed::store::log::{header_line, encode_line}`), not by N
//! commits.
//!
//! Knobs (environment): XMPPFED_BENCH_SIZES=100,10000,100000 · XMPPFED_BENCH_COMMITS=150 (cycles of
//! create+set+remove per size) · XMPPFED_BENCH_DIR=<parent of the temp folder> (default: the
//! system temp dir) · XMPPFED_BENCH_PROFILE=open|get|filter|list-all|commit|compact (repeat one
//! operation on the largest size, for `perf record` / callgrind; XMPPFED_BENCH_PROFILE_SECONDS).

mod common;

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::ptr;
use std::time::Instant;

use common::*;
use xmppfed::ffi::{xmppfed_partner_get, xmppfed_partner_list, xmppfed_partner_new, xmppfed_partner_remove, xmppfed_partner_set};
use xmppfed::model::Partner;
use xmppfed::store::log::{current_file, encode_line, generation_path, header_line, Header, Record};

const CHILD_ENV: &str = "XMPPFED_BENCH_MEMORY_CHILD";
const FILTERS: [&str; 2] = ["*7.example.org", "p1234*"];

/// Write generation 1 of the log (`central/partners.1.log`) for `n` partners directly in the
/// documented format, durably, followed by `extra` rewrites of partner 0 (history that compaction
/// would drop).
fn build_store(central: &Path, n: usize, extra: usize) -> u64 {
    let mut bytes = header_line(&Header { version: xmppfed::store::log::FORMAT_VERSION, store_id: Some("be0c4be0c4be0c4be0c4be0c4be0c4b".into()), generation: 1, seq: 0 });
    for i in 0..n {
        let seq = i as u64 + 1;
        bytes.extend(encode_line(&Record::put(seq, partner(i, seq))));
    }
    for k in 0..extra {
        let seq = (n + k) as u64 + 1;
        bytes.extend(encode_line(&Record::put(seq, partner(0, seq))));
    }
    let mut f = File::create(generation_path(central, 1)).unwrap();
    f.write_all(&bytes).unwrap();
    f.sync_all().unwrap();
    bytes.len() as u64
}

/// Drop a file's pages from the page cache (made clean first).
fn evict(path: &Path) {
    let f = File::open(path).unwrap();
    f.sync_all().unwrap();
    let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0, "posix_fadvise");
}

/// Write back everything dirty on the file system holding `dir`, so that earlier bulk writes
/// (building a store, full replica copies) are not paid for by the next measured fsync.
fn settle(dir: &Path) {
    let d = File::open(dir).unwrap();
    unsafe { libc::syncfs(d.as_raw_fd()) };
}

/// The physical floor of one commit: append one line's bytes to an open file, fdatasync.
struct Floor {
    file: File,
    line: Vec<u8>,
}

impl Floor {
    fn new(dir: &Path, len: usize) -> Floor {
        let file = OpenOptions::new().create(true).append(true).open(dir.join("floor.dat")).unwrap();
        let mut line = vec![b'x'; len - 1];
        line.push(b'\n');
        Floor { file, line }
    }
    fn once(&mut self) -> T {
        time(|| {
            self.file.write_all(&self.line).unwrap();
            self.file.sync_data().unwrap();
        })
        .0
    }
}

// ---------------------------------------------------------------------------------------------
// One store size

struct Row {
    n: usize,
    what: String,
    samples: Samples,
    baseline: Option<(String, Samples)>,
    /// Median of per-pair ratios (each sample / the baseline sample taken next to it).
    paired_ratio: Option<f64>,
    target: String,
    verdict: String,
    note: String,
}

impl Row {
    fn new(n: usize, what: impl Into<String>, samples: Samples) -> Row {
        Row {
            n,
            what: what.into(),
            samples,
            baseline: None,
            paired_ratio: None,
            target: String::new(),
            verdict: String::new(),
            note: String::new(),
        }
    }
    /// A target on the wall-time median (`limit` in seconds).
    fn under(mut self, label: &str, limit: f64) -> Row {
        self.target = label.into();
        let (wall, cpu) = (self.samples.median(), self.samples.cpu_median());
        self.verdict = if wall < limit {
            "met".into()
        } else if cpu < limit {
            "**not met** (CPU time meets it)".into()
        } else {
            "**not met**".into()
        };
        self
    }
    fn against(mut self, name: impl Into<String>, baseline: Samples, pairs: &[f64]) -> Row {
        self.baseline = Some((name.into(), baseline));
        if !pairs.is_empty() {
            self.paired_ratio = Some(median_of(pairs));
        }
        self
    }
    fn ratio(&self) -> Option<f64> {
        self.baseline.as_ref().map(|(_, b)| self.samples.median() / b.median())
    }
    fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }
}

struct SizeResult {
    n: usize,
    file_bytes: u64,
    line_bytes: usize,
    rows: Vec<Row>,
    /// (operation, ratio of medians, median of paired ratios, median of paired excess in seconds)
    commits: Vec<(String, f64, f64, f64)>,
}

/// Time `op` and `base` alternately (`runs` of each after `warm` unrecorded ones); returns both
/// sample sets and the per-pair ratios.
fn interleave(
    runs: usize,
    warm: usize,
    mut op: impl FnMut() -> T,
    mut base: impl FnMut() -> T,
) -> (Samples, Samples, Vec<f64>) {
    let (mut a, mut b, mut pairs) = (Samples::default(), Samples::default(), Vec::new());
    for r in 0..warm + runs {
        let (x, y) = if r % 2 == 0 {
            let x = op();
            (x, base())
        } else {
            let y = base();
            (op(), y)
        };
        if r >= warm {
            a.push(x);
            b.push(y);
            pairs.push(x.wall / y.wall);
        }
    }
    (a, b, pairs)
}

fn bench_size(root: &Path, n: usize, cycles: usize) -> SizeResult {
    let base = root.join(format!("n{n}"));
    let central = base.join("central");
    let replica = base.join("replica");
    let replica_b = base.join("replica-b");
    fs::create_dir_all(&central).unwrap();
    let (build_t, file_bytes) = time(|| build_store(&central, n, 0));
    eprintln!("[n={n}] built partners.1.log: {} in {}", fmt_bytes(file_bytes), fmt_time(build_t.wall));
    let log_path = generation_path(&central, 1);
    let line_bytes = encode_line(&Record::put(n as u64 + 1, partner(n, n as u64 + 1))).len();
    let mut rows = Vec::new();

    // Open: warm (page cache) and cold (log evicted), alternating; close after each.
    let open_runs = if n >= 100_000 {
        7
    } else if n >= 10_000 {
        15
    } else {
        51
    };
    let (mut warm, mut cold, mut close) = (Samples::default(), Samples::default(), Samples::default());
    for _ in 0..open_runs {
        let (t, h) = time(|| Handle::open(&central, &replica));
        warm.push(t);
        close.push(time(|| drop(h)).0);
        evict(&log_path);
        let (t, h) = time(|| Handle::open(&central, &replica));
        cold.push(t);
        close.push(time(|| drop(h)).0);
    }
    rows.push(Row::new(n, "open (log in page cache)", warm).note("reads and parses every record"));
    rows.push(
        Row::new(n, "open (log evicted: posix_fadvise DONTNEED)", cold).note("the VM host may still cache the disk"),
    );
    rows.push(Row::new(n, "close", close).note("frees the in-memory state"));
    eprintln!("[n={n}] open done");

    // The first commit through a handle creates its replica by a full copy.
    let a = Handle::open(&central, &replica);
    settle(&central);
    let first_json = cstr(&format!(r#"{{"Identity":"first.example.org","Description":"{}"}}"#, "d".repeat(60)));
    let (first_t, _) =
        time(|| call_out("first commit", |o| unsafe { xmppfed_partner_new(a.0, first_json.as_ptr(), false, o) }));
    let first_id = cstr("first.example.org");
    call_out("remove first", |o| unsafe { xmppfed_partner_remove(a.0, first_id.as_ptr(), o) });
    rows.push(
        Row::new(n, "first commit through a handle (creates its replica: full copy)", Samples::one(first_t))
            .note("one sample; the replica is written, not fsynced"),
    );

    // The full copy alone: a second handle replicating a store it has never copied.
    let b = Handle::open(&central, &replica_b);
    let mut full = Samples::default();
    for _ in 0..3 {
        if let Some(copy) = current_file(&replica_b).ok().flatten() {
            let _ = fs::remove_file(copy);
        }
        full.push(time(|| b.replicate()).0);
    }
    rows.push(
        Row::new(n, "replica full copy (first commit on a machine, or after a compaction)", full)
            .note("xmppfed_store_replicate with no replica file"),
    );

    // Commits next to the floor. Each cycle creates, sets and removes one new partner, so the
    // store keeps N partners; after each commit, handle b (one line behind) refreshes its replica,
    // which is the incremental refresh every commit includes.
    settle(&central);
    let mut floor = Floor::new(&central, line_bytes);
    let warmup = 3;
    let names = ["create", "set", "remove"];
    let mut ops: [Samples; 3] = Default::default();
    let mut floors: [Samples; 3] = Default::default();
    let mut pairs: [Vec<f64>; 3] = Default::default();
    let mut excess: [Vec<f64>; 3] = Default::default();
    let mut replica_inc = Samples::default();
    for k in 0..(warmup + cycles) {
        let id = format!("bench{k}.example.org");
        let new_json = cstr(&format!(
            r#"{{"Identity":"{id}","AdditionalDomains":["chat.{id}"],"Description":"benchmark partner created {k:06}"}}"#
        ));
        let set_json = cstr(&format!(r#"{{"Description":"benchmark partner changed {k:06}"}}"#));
        let id_c = cstr(&id);
        for i in 0..3 {
            let op = || {
                time(|| match i {
                    0 => call_out("create", |o| unsafe { xmppfed_partner_new(a.0, new_json.as_ptr(), false, o) }),
                    1 => call_out("set", |o| unsafe { xmppfed_partner_set(a.0, id_c.as_ptr(), set_json.as_ptr(), o) }),
                    _ => call_out("remove", |o| unsafe { xmppfed_partner_remove(a.0, id_c.as_ptr(), o) }),
                })
                .0
            };
            let (c, f) = if k % 2 == 0 {
                let f = floor.once();
                (op(), f)
            } else {
                let c = op();
                (c, floor.once())
            };
            let (r, _) = time(|| b.replicate());
            if k >= warmup {
                ops[i].push(c);
                floors[i].push(f);
                pairs[i].push(c.wall / f.wall);
                excess[i].push(c.wall - f.wall);
                replica_inc.push(r);
            }
        }
    }
    eprintln!("[n={n}] commits done");
    let mut commits = Vec::new();
    for i in 0..3 {
        let row = Row::new(n, format!("commit: {} (C ABI, durable)", names[i]), ops[i].clone()).against(
            format!("append {line_bytes} B + fdatasync"),
            floors[i].clone(),
            &pairs[i],
        );
        let ratio = row.ratio().unwrap();
        let mut row = row;
        row.target = "≤ 2.0× floor".into();
        row.verdict = if ratio <= 2.0 { "met".into() } else { "**not met**".into() };
        commits.push((names[i].to_string(), ratio, row.paired_ratio.unwrap(), median_of(&excess[i])));
        rows.push(row);
    }
    let mut all_floors = Samples::default();
    for f in &floors {
        all_floors.wall.extend(&f.wall);
        all_floors.cpu.extend(&f.cpu);
    }
    rows.push(
        Row::new(n, "floor: append one line + fdatasync (all of the above)", all_floors)
            .note("an open O_APPEND file in the same folder"),
    );
    rows.push(
        Row::new(n, "replica refresh on demand (reads the central log whole, verifies the replica, appends)", replica_inc)
            .note("xmppfed_store_replicate one line behind; a commit's own refresh is incremental and is inside the commit rows"),
    );

    // A get on handle b right after handle a committed (b first reads the one new line).
    {
        let probe = cstr(&identity(n / 2));
        let mut s = Samples::default();
        for k in 0..(cycles / 4).max(5) {
            let id = format!("foreign{k}.example.org");
            let j = cstr(&format!(r#"{{"Identity":"{id}"}}"#));
            let id_c = cstr(&id);
            call_out("create", |o| unsafe { xmppfed_partner_new(a.0, j.as_ptr(), false, o) });
            s.push(time(|| call_out("get", |o| unsafe { xmppfed_partner_get(b.0, probe.as_ptr(), false, o) })).0);
            call_out("remove", |o| unsafe { xmppfed_partner_remove(a.0, id_c.as_ptr(), o) });
            s.push(time(|| call_out("get", |o| unsafe { xmppfed_partner_get(b.0, probe.as_ptr(), false, o) })).0);
        }
        rows.push(
            Row::new(n, "get by identity, right after another handle committed", s).note("reads the new line first"),
        );
    }

    // Reads on an unchanged store, each against encoding the same result alone.
    let mut rng = Rng(0x9E3779B97F4A7C15 ^ n as u64);
    let picks: Vec<usize> = (0..2000).map(|_| rng.below(n)).collect();
    let ids: Vec<CString> = picks.iter().map(|&i| cstr(&identity(i))).collect();
    let partners: Vec<Partner> = ids
        .iter()
        .map(|id| {
            serde_json::from_str(&call_text("get", |o| unsafe { xmppfed_partner_get(a.0, id.as_ptr(), false, o) }))
                .unwrap()
        })
        .collect();
    for (local, label) in [(false, "central"), (true, "local replica")] {
        let mut j = 0;
        let mut k = 0;
        let (s, base, pairs) = interleave(
            ids.len(),
            100,
            || {
                j = (j + 1) % ids.len();
                let id = &ids[j];
                time(|| call_out("get", |o| unsafe { xmppfed_partner_get(a.0, id.as_ptr(), local, o) })).0
            },
            || {
                k = (k + 1) % partners.len();
                let p = &partners[k];
                time(|| encode_only(p)).0
            },
        );
        rows.push(
            Row::new(n, format!("get by identity ({label}), nothing changed"), s)
                .against("encode that partner only", base, &pairs)
                .under("< 20 µs", 20e-6),
        );
    }
    let list_runs = if n >= 100_000 {
        31
    } else if n >= 10_000 {
        101
    } else {
        1001
    };
    for filter in FILTERS {
        let f = cstr(filter);
        let result: Vec<Partner> =
            serde_json::from_str(&call_text("list", |o| unsafe { xmppfed_partner_list(a.0, f.as_ptr(), false, o) }))
                .unwrap();
        let (s, base, pairs) = interleave(
            list_runs,
            2,
            || time(|| call_out("list", |o| unsafe { xmppfed_partner_list(a.0, f.as_ptr(), false, o) })).0,
            || time(|| encode_only(&result)).0,
        );
        rows.push(
            Row::new(n, format!("list -Filter '{filter}' (central)"), s)
                .against("encode the matches only", base, &pairs)
                .under("< 50 ms", 50e-3)
                .note(format!("{} matches, JSON {}", fmt_n(result.len()), fmt_bytes(encode_only(&result) as u64))),
        );
    }
    {
        let all: Vec<Partner> =
            serde_json::from_str(&call_text("list", |o| unsafe { xmppfed_partner_list(a.0, ptr::null(), false, o) }))
                .unwrap();
        let (s, base, pairs) = interleave(
            (list_runs / 3).max(3),
            1,
            || time(|| call_out("list", |o| unsafe { xmppfed_partner_list(a.0, ptr::null(), false, o) })).0,
            || time(|| encode_only(&all)).0,
        );
        rows.push(
            Row::new(n, "list, no filter (every partner)", s)
                .against("encode them only", base, &pairs)
                .note(format!("JSON {}", fmt_bytes(encode_only(&all) as u64))),
        );
    }
    eprintln!("[n={n}] reads done");
    drop(a);
    drop(b);

    // The commit that triggers compaction: a log holding N partners and N + 1000 superseded
    // records (records = 2N + 1000), so the next `set` crosses `records > 2 * partners + 1000`.
    {
        let cbase = root.join(format!("compact{n}"));
        let ccentral = cbase.join("central");
        fs::create_dir_all(&ccentral).unwrap();
        build_store(&ccentral, n, n + 1000);
        let h = Handle::open(&ccentral, &cbase.join("replica"));
        h.replicate(); // the replica exists, as on a machine that has committed before
        settle(&ccentral);
        let id1 = cstr(&identity(1));
        let id2 = cstr(&identity(2));
        let j = cstr(r#"{"Description":"compaction probe"}"#);
        let log = generation_path(&ccentral, 1);
        let before = fs::metadata(&log).unwrap().len();
        let mut floor = Floor::new(&ccentral, line_bytes);
        let mut fl = Samples::one(floor.once());
        let (t, _) = time(|| call_out("set", |o| unsafe { xmppfed_partner_set(h.0, id1.as_ptr(), j.as_ptr(), o) }));
        // Compaction wrote generation 2 and deleted generation 1.
        let after = fs::metadata(generation_path(&ccentral, 2)).unwrap().len();
        assert!(after < before && !log.exists(), "the probe commit did not compact ({before} -> {after} bytes)");
        fl.push(floor.once());
        let (t2, _) = time(|| call_out("set", |o| unsafe { xmppfed_partner_set(h.0, id2.as_ptr(), j.as_ptr(), o) }));
        rows.push(
            Row::new(n, "commit that triggers compaction (1 in ~N+1000 commits)", Samples::one(t))
                .against(format!("append {line_bytes} B + fdatasync"), fl, &[])
                .note(format!(
                    "one sample; log {} → {}; the next commit took {}",
                    fmt_bytes(before),
                    fmt_bytes(after),
                    fmt_time(t2.wall)
                )),
        );
        drop(h);
        let _ = fs::remove_dir_all(&cbase);
    }
    eprintln!("[n={n}] compaction done");
    let _ = fs::remove_dir_all(&base);
    SizeResult { n, file_bytes, line_bytes, rows, commits }
}

// ---------------------------------------------------------------------------------------------
// Memory, in a fresh process

fn status_kib(field: &str) -> u64 {
    let s = fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Child: open the store, list, report VmHWM and VmRSS (KiB) after each step.
fn memory_child(central: &Path, replica: &Path) {
    let mut out = Vec::new();
    let mut mark = || {
        out.push(status_kib("VmHWM:"));
        out.push(status_kib("VmRSS:"));
    };
    mark(); // baseline
    let h = Handle::open(central, replica);
    mark(); // open
    let f = cstr(FILTERS[0]);
    call_out("list", |o| unsafe { xmppfed_partner_list(h.0, f.as_ptr(), false, o) });
    mark(); // + filtered list
    call_out("list", |o| unsafe { xmppfed_partner_list(h.0, ptr::null(), false, o) });
    mark(); // + full list
    unsafe { libc::malloc_trim(0) }; // freed heap back to the OS: what remains is live
    mark();
    h.replicate();
    let id = cstr(&identity(1));
    call_out("get", |o| unsafe { xmppfed_partner_get(h.0, id.as_ptr(), true, o) }); // loads the replica's state
    unsafe { libc::malloc_trim(0) };
    mark();
    println!("MEM {}", out.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "));
}

struct Memory {
    n: usize,
    file_bytes: u64,
    /// Pairs (VmHWM, VmRSS) in KiB: baseline, open, +filter list, +full list, trimmed, +replica.
    kib: Vec<u64>,
}

fn measure_memory(root: &Path, n: usize) -> Memory {
    let base = root.join(format!("mem{n}"));
    let central = base.join("central");
    fs::create_dir_all(&central).unwrap();
    let file_bytes = build_store(&central, n, 0);
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, format!("{}\n{}", central.display(), base.join("replica").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "memory child failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("MEM ")).expect("memory child output");
    let kib = line.split_whitespace().skip(1).map(|v| v.parse().unwrap()).collect();
    let _ = fs::remove_dir_all(&base);
    Memory { n, file_bytes, kib }
}

// ---------------------------------------------------------------------------------------------
// Profiling mode

/// Repeat one operation on a store of `n` partners for a while, so that `perf record` or
/// callgrind see little else.
fn profile_mode(what: &str, root: &Path, n: usize) {
    let central = root.join("central");
    let replica = root.join("replica");
    fs::create_dir_all(&central).unwrap();
    let extra = if what == "compact" { n + 1000 } else { 0 };
    build_store(&central, n, extra);
    let a = Handle::open(&central, &replica);
    if what == "compact" {
        a.replicate();
    }
    let seconds: f64 = std::env::var("XMPPFED_BENCH_PROFILE_SECONDS").ok().map(|s| s.parse().unwrap()).unwrap_or(10.0);
    let f = cstr(FILTERS[0]);
    let id = cstr(&identity(n / 2));
    let started = Instant::now();
    let mut runs = 0u64;
    while runs == 0 || started.elapsed().as_secs_f64() < seconds {
        match what {
            "open" => drop(Handle::open(&central, &replica)),
            "get" => drop(call_out("get", |o| unsafe { xmppfed_partner_get(a.0, id.as_ptr(), false, o) })),
            "filter" => drop(call_out("list", |o| unsafe { xmppfed_partner_list(a.0, f.as_ptr(), false, o) })),
            "list-all" => drop(call_out("list", |o| unsafe { xmppfed_partner_list(a.0, ptr::null(), false, o) })),
            "commit" => {
                let j = cstr(&format!(r#"{{"Identity":"prof{runs}.example.org"}}"#));
                call_out("create", |o| unsafe { xmppfed_partner_new(a.0, j.as_ptr(), false, o) });
            }
            "compact" => {
                let j = cstr(r#"{"Description":"compaction probe"}"#);
                call_out("set", |o| unsafe { xmppfed_partner_set(a.0, id.as_ptr(), j.as_ptr(), o) });
                break;
            }
            other => panic!("unknown XMPPFED_BENCH_PROFILE '{other}'"),
        }
        runs += 1;
    }
    let runs = runs.max(1);
    eprintln!("{what}: {runs} runs, {} each", fmt_time(started.elapsed().as_secs_f64() / runs as f64));
}

// ---------------------------------------------------------------------------------------------

fn machine(root: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    lines.push(format!("- CPUs (nproc): {cpus} — {model}"));
    if let Ok(out) = Command::new("df").arg("-T").arg(root).output() {
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(l) = text.lines().nth(1) {
            let f: Vec<&str> = l.split_whitespace().collect();
            lines.push(format!(
                "- temp folder: `{}` on `{}` ({}, mounted on `{}`)",
                root.display(),
                f[0],
                f[1],
                f.last().unwrap()
            ));
        }
    }
    if let Ok(k) = fs::read_to_string("/proc/sys/kernel/osrelease") {
        lines.push(format!("- kernel: {}", k.trim()));
    }
    if let Ok(l) = fs::read_to_string("/proc/loadavg") {
        lines.push(format!(
            "- load average at the end of the run (1, 5, 15 min): {}",
            l.split_whitespace().take(3).collect::<Vec<_>>().join(", ")
        ));
    }
    lines
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let mut parts = spec.lines();
        let central = PathBuf::from(parts.next().unwrap());
        let replica = PathBuf::from(parts.next().unwrap());
        memory_child(&central, &replica);
        return;
    }
    let sizes: Vec<usize> = std::env::var("XMPPFED_BENCH_SIZES")
        .unwrap_or_else(|_| "100,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("XMPPFED_BENCH_SIZES: numbers"))
        .collect();
    let largest = *sizes.iter().max().unwrap();
    let cycles: usize = std::env::var("XMPPFED_BENCH_COMMITS").ok().map(|s| s.parse().unwrap()).unwrap_or(150);
    let parent = std::env::var_os("XMPPFED_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::Builder::new().prefix("xmppfed-bench-").tempdir_in(&parent).unwrap();
    let root = tmp.path().to_path_buf();
    if let Ok(what) = std::env::var("XMPPFED_BENCH_PROFILE") {
        profile_mode(&what, &root, largest);
        return;
    }
    let started = Instant::now();
    let results: Vec<SizeResult> = sizes.iter().map(|&n| bench_size(&root, n, cycles)).collect();
    let mem = measure_memory(&root, largest);
    let total = started.elapsed().as_secs_f64();

    println!("## Results\n");
    for l in machine(&root) {
        println!("{l}");
    }
    println!("- {cycles} commit cycles (create + set + remove) per size after 3 warm-up cycles");
    println!("- benchmark wall time (without the build): {}\n", fmt_time(total));

    println!("### Store files\n");
    println!("| N | partners.log | bytes per partner | one Put line |");
    println!("|---:|---:|---:|---:|");
    for r in &results {
        println!(
            "| {} | {} | {} | {} B |",
            fmt_n(r.n),
            fmt_bytes(r.file_bytes),
            r.file_bytes / r.n.max(1) as u64,
            r.line_bytes
        );
    }

    println!("\n### Commit cost against the floor (target ≤ 2.0×, flat in N)\n");
    println!("Ratio of medians / median of per-pair ratios / median of per-pair excess (commit − its floor).\n");
    print!("| operation |");
    for r in &results {
        print!(" N = {} |", fmt_n(r.n));
    }
    println!();
    print!("|---|");
    for _ in &results {
        print!("---:|");
    }
    println!();
    for (i, name) in ["create", "set", "remove"].iter().enumerate() {
        print!("| {name} |");
        for r in &results {
            let (_, ratio, paired, excess) = &r.commits[i];
            print!(" {ratio:.2}× / {paired:.2}× / {} |", fmt_time(*excess));
        }
        println!();
    }

    println!("\n### Timings\n");
    println!("Wall time median and p90 over the runs; CPU = the calling thread's CPU time (median). The baseline runs interleaved with the measurement.\n");
    println!("| N | measurement | runs | median | p90 | CPU | baseline (same run) | baseline median | ratio of medians | median of paired ratios | target | verdict | note |");
    println!("|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|---|");
    for r in &results {
        for row in &r.rows {
            let (bl, blm) = match &row.baseline {
                Some((name, s)) => (name.clone(), fmt_time(s.median())),
                None => (String::new(), String::new()),
            };
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                fmt_n(row.n),
                row.what,
                row.samples.n(),
                fmt_time(row.samples.median()),
                fmt_time(row.samples.p90()),
                fmt_time(row.samples.cpu_median()),
                bl,
                blm,
                row.ratio().map(|x| format!("{x:.2}×")).unwrap_or_default(),
                row.paired_ratio.map(|p| format!("{p:.2}×")).unwrap_or_default(),
                row.target,
                row.verdict,
                row.note
            );
        }
    }

    let k = &mem.kib;
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let step = |i: usize| (mib(k[2 * i] - k[0]), mib(k[2 * i + 1].saturating_sub(k[1])));
    println!("\n### Memory of a fresh process holding N = {} partners\n", fmt_n(mem.n));
    println!("| step | VmHWM (peak) − baseline | VmRSS − baseline |");
    println!("|---|---:|---:|");
    println!("| baseline before open (absolute) | {} | {} |", mib(k[0]), mib(k[1]));
    let labels = [
        "open".to_string(),
        format!("+ one list `-Filter '{}'`", FILTERS[0]),
        "+ one full list (no filter)".to_string(),
        "+ malloc_trim(0): the live heap".to_string(),
        "+ one `-LocalStore` get (replica state loaded too), malloc_trim(0)".to_string(),
    ];
    for (i, label) in labels.iter().enumerate() {
        let (h, r) = step(i + 1);
        println!("| {label} | {h} | {r} |");
    }
    let per = |kib: u64| (kib * 1024) as f64 / mem.n as f64;
    println!(
        "\nOn disk: partners.log {} ({} bytes, {:.0} B per partner; the replica is a byte copy of the same size). \
         After open + one list: peak {:.1}× the file ({:.0} B per partner), resident {:.1}× ({:.0} B per partner), live heap after malloc_trim {:.1}× ({:.0} B per partner).",
        fmt_bytes(mem.file_bytes),
        mem.file_bytes,
        mem.file_bytes as f64 / mem.n as f64,
        ((k[4] - k[0]) * 1024) as f64 / mem.file_bytes as f64,
        per(k[4] - k[0]),
        ((k[5] - k[1]) * 1024) as f64 / mem.file_bytes as f64,
        per(k[5] - k[1]),
        ((k[9] - k[1]) * 1024) as f64 / mem.file_bytes as f64,
        per(k[9] - k[1]),
    );
}
