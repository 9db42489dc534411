//! The PostgreSQL central store through the C ABI (harness = false), against a running server:
//! `bash scripts/bench.sh postgres` starts a throwaway cluster (scripts/postgres.sh, fsync on)
//! and runs this with its connection string in `XMPPFED_TEST_POSTGRES`. Prints a markdown report
//! on stdout, progress on stderr.
//!
//! Per store size N (default 100, 10,000 and 100,000 partners; a database of its own each,
//! pre-populated with N partners by bulk SQL in the schema's documented layout, then checkpointed):
//! - commit: one durable create / set / remove through `xmppfed_partner_*`, each paired with the
//!   floor: a bare single-row INSERT + COMMIT (`BEGIN`; `INSERT` of one row holding a record of the
//!   same size as the commit's log row; `COMMIT`) through the same client (libpq, the library's own
//!   wrapper) on the same server, in another table of the same database. Order alternates per
//!   cycle. A commit includes the refresh of this machine's replica (not optional).
//! - reads: get by identity (nothing changed since the last read: one round trip to learn that)
//!   against a bare single-row `SELECT partner::text ... WHERE identity = $1` on the same client;
//!   list all and open (a new handle loading the whole state) against a bare `SELECT` of every
//!   partner row as text; a filter (`*7.example.org`) for its absolute cost.
//! Every ratio is against the baseline sampled next to it in the same run (ratio of medians, and
//! the median of the per-pair ratios). No figure is asserted.
//!
//! Knobs: XMPPFED_BENCH_SIZES=100,10000,100000 · XMPPFED_BENCH_COMMITS=100 (cycles per size) ·
//! XMPPFED_BENCH_READS=200 (samples per read) · XMPPFED_BENCH_DIR (parent of the replicas' folder).

mod common;

use std::ffi::CString;
use std::path::PathBuf;
use std::ptr;

use common::*;
use xmppfed::ffi::{
    xmppfed_partner_get, xmppfed_partner_list, xmppfed_partner_new, xmppfed_partner_remove, xmppfed_partner_set,
    xmppfed_store_initialize,
};
use xmppfed::store::pq::{self, Conn, Conninfo};

/// How many partners go into one bulk INSERT while a store is populated.
const BATCH: usize = 5_000;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map(|s| s.parse().unwrap_or_else(|_| panic!("{name}: a number"))).unwrap_or(default)
}

fn connect(conninfo: &str) -> Conn {
    let info: Conninfo = pq::parse_conninfo(conninfo).unwrap();
    Conn::connect(&info, &[("application_name", "xmppfed-bench")]).unwrap_or_else(|e| panic!("connect: {}", e.message))
}

fn exec(conn: &mut Conn, sql: &str, params: &[Option<&str>]) -> pq::Rows {
    conn.exec(sql, params).unwrap_or_else(|e| panic!("{sql}: {}", e.message))
}

/// A store's database: schema made by `xmppfed_store_initialize`, `n` partners (each with one
/// additional domain and a description, as in the folder benchmark) written by bulk SQL as
/// commits 1..=n, then VACUUM ANALYZE and a CHECKPOINT, so that the set-up's writes are not
/// paid for by the first measured commits.
fn populate(conninfo: &str, replica: &std::path::Path, n: usize) {
    {
        let h = open_store(conninfo, replica);
        call_out("initialize", |o| unsafe { xmppfed_store_initialize(h.0, o) });
    }
    let mut conn = connect(conninfo);
    for start in (0..n).step_by(BATCH) {
        let batch: Vec<_> = (start..(start + BATCH).min(n)).map(|i| partner(i, i as u64 + 1)).collect();
        let json = serde_json::to_string(&batch).unwrap();
        exec(&mut conn, "BEGIN", &[]);
        exec(
            &mut conn,
            "INSERT INTO xmppfed_partners (identity, revision, partner)
             SELECT p->>'Identity', (p->>'Revision')::bigint, p FROM jsonb_array_elements($1::jsonb) p",
            &[Some(&json)],
        );
        exec(
            &mut conn,
            "INSERT INTO xmppfed_domains (domain, identity)
             SELECT d, p->>'Identity' FROM jsonb_array_elements($1::jsonb) p
             CROSS JOIN LATERAL jsonb_array_elements_text(jsonb_build_array(p->'Identity') || (p->'AdditionalDomains')) d",
            &[Some(&json)],
        );
        exec(
            &mut conn,
            "INSERT INTO xmppfed_log (seq, change)
             SELECT (p->>'Revision')::bigint, jsonb_build_object('Seq', (p->>'Revision')::bigint, 'Put', p)
             FROM jsonb_array_elements($1::jsonb) p",
            &[Some(&json)],
        );
        exec(&mut conn, "COMMIT", &[]);
    }
    exec(&mut conn, "UPDATE xmppfed_head SET seq = $1::bigint", &[Some(&n.to_string())]);
    exec(&mut conn, "VACUUM ANALYZE", &[]);
    exec(&mut conn, "CHECKPOINT", &[]);
}

fn open_store(conninfo: &str, replica: &std::path::Path) -> Handle {
    let c = CString::new(conninfo).unwrap();
    let r = CString::new(replica.to_str().unwrap()).unwrap();
    let mut h = ptr::null_mut();
    check(unsafe { xmppfed::ffi::xmppfed_store_open(c.as_ptr(), r.as_ptr(), &mut h) }, "open");
    Handle(h)
}

/// The floor of one commit: a bare single-row INSERT + COMMIT through the same client.
struct Floor {
    conn: Conn,
    row: String,
}

impl Floor {
    fn new(conninfo: &str, row_bytes: usize) -> Floor {
        let mut conn = connect(conninfo);
        exec(&mut conn, "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, change jsonb NOT NULL)", &[]);
        // A JSON document of the size of one commit's log row.
        let row = format!("{{\"Seq\":0,\"Pad\":\"{}\"}}", "x".repeat(row_bytes.saturating_sub(20)));
        Floor { conn, row }
    }

    fn once(&mut self) -> T {
        let row = self.row.clone();
        time(|| {
            exec(&mut self.conn, "BEGIN", &[]);
            exec(&mut self.conn, "INSERT INTO bench_floor (change) VALUES ($1::jsonb)", &[Some(&row)]);
            exec(&mut self.conn, "COMMIT", &[]);
        })
        .0
    }
}

struct Pair {
    samples: Samples,
    baseline: Samples,
}

impl Pair {
    fn new() -> Pair {
        Pair { samples: Samples::default(), baseline: Samples::default() }
    }

    fn add(&mut self, sample: T, baseline: T) {
        self.samples.push(sample);
        self.baseline.push(baseline);
    }

    /// Ratio of medians / median of per-pair ratios.
    fn ratios(&self) -> String {
        let paired: Vec<f64> = self.samples.wall.iter().zip(&self.baseline.wall).map(|(s, b)| s / b).collect();
        format!("{:.2}× / {:.2}×", self.samples.median() / self.baseline.median(), median_of(&paired))
    }
}

struct SizeResult {
    n: usize,
    line_bytes: usize,
    commits: [Pair; 3],
    get: Pair,
    filter: Samples,
    list_all: Pair,
    open: Pair,
}

fn bench_size(server: &str, root: &std::path::Path, n: usize, cycles: usize, reads: usize) -> SizeResult {
    let db = format!("xmppfed_bench_{n}_{}", std::process::id());
    let mut admin = connect(server);
    exec(&mut admin, &format!("DROP DATABASE IF EXISTS {db}"), &[]);
    exec(&mut admin, &format!("CREATE DATABASE {db}"), &[]);
    let conninfo = format!("{server} dbname={db}");
    let replica = root.join(format!("replica-{n}"));
    eprintln!("N = {n}: populating");
    populate(&conninfo, &replica, n);
    let line_bytes = serde_json::to_string(&serde_json::json!({ "Seq": n + 1, "Put": partner(n, n as u64 + 1) })).unwrap().len();

    eprintln!("N = {n}: commits");
    let h = open_store(&conninfo, &replica);
    let mut floor = Floor::new(&conninfo, line_bytes);
    let mut commits = [Pair::new(), Pair::new(), Pair::new()];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    for c in 0..cycles + 3 {
        let id = format!("bench{c}.example.net");
        let new = CString::new(format!(r#"{{"Identity":"{id}","Description":"benchmark partner number {c:06}","AdditionalDomains":["chat.{id}"]}}"#)).unwrap();
        let set = CString::new(r#"{"Description":"changed by the benchmark"}"#).unwrap();
        let cid = CString::new(id).unwrap();
        let ops: [&dyn Fn() -> T; 3] = [
            &|| time(|| call_out("new", |o| unsafe { xmppfed_partner_new(h.0, new.as_ptr(), false, o) })).0,
            &|| time(|| call_out("set", |o| unsafe { xmppfed_partner_set(h.0, cid.as_ptr(), set.as_ptr(), o) })).0,
            &|| time(|| call_out("remove", |o| unsafe { xmppfed_partner_remove(h.0, cid.as_ptr(), o) })).0,
        ];
        for (k, op) in ops.iter().enumerate() {
            let (sample, base) = if (c + k) % 2 == 0 {
                let s = op();
                (s, floor.once())
            } else {
                let b = floor.once();
                (op(), b)
            };
            if c >= 3 {
                commits[k].add(sample, base);
            }
        }
    }

    eprintln!("N = {n}: reads");
    let mut probe = connect(&conninfo);
    let mut get = Pair::new();
    let mut list_all = Pair::new();
    let mut open = Pair::new();
    let mut filter = Samples::default();
    let pattern = CString::new("*7.example.org").unwrap();
    let select_one = |probe: &mut Conn, id: &str| {
        time(|| {
            let rows = exec(probe, "SELECT partner::text FROM xmppfed_partners WHERE identity = $1", &[Some(id)]);
            rows.get(0, 0).map(str::len)
        })
        .0
    };
    let select_all = |probe: &mut Conn| {
        time(|| {
            let rows = exec(probe, "SELECT partner::text FROM xmppfed_partners", &[]);
            (0..rows.len()).map(|i| rows.get(i, 0).map_or(0, str::len)).sum::<usize>()
        })
        .0
    };
    for r in 0..reads {
        let id = identity(rng.below(n));
        let cid = CString::new(id.clone()).unwrap();
        let g = time(|| call_out("get", |o| unsafe { xmppfed_partner_get(h.0, cid.as_ptr(), false, o) })).0;
        get.add(g, select_one(&mut probe, &id));
        // The whole list and a whole load cost up to seconds at 100,000: fewer samples.
        if r < reads / 10 {
            filter.push(time(|| call_out("filter", |o| unsafe { xmppfed_partner_list(h.0, pattern.as_ptr(), false, o) })).0);
            let all = time(|| call_out("list", |o| unsafe { xmppfed_partner_list(h.0, ptr::null(), false, o) })).0;
            list_all.add(all, select_all(&mut probe));
            let o = time(|| drop(open_store(&conninfo, &root.join(format!("replica-{n}-open")))) ).0;
            open.add(o, select_all(&mut probe));
        }
    }
    drop(h);
    drop(floor);
    drop(probe);
    exec(&mut admin, &format!("DROP DATABASE {db}"), &[]);
    SizeResult { n, line_bytes, commits, get, filter, list_all, open }
}

fn main() {
    let server = std::env::var("XMPPFED_TEST_POSTGRES").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| {
        panic!("XMPPFED_TEST_POSTGRES is not set: run `bash scripts/bench.sh postgres`, which starts a throwaway cluster")
    });
    let sizes: Vec<usize> = std::env::var("XMPPFED_BENCH_SIZES")
        .unwrap_or_else(|_| "100,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("XMPPFED_BENCH_SIZES: numbers"))
        .collect();
    let cycles = env_number("XMPPFED_BENCH_COMMITS", 100);
    let reads = env_number("XMPPFED_BENCH_READS", 200);
    let parent = std::env::var_os("XMPPFED_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::Builder::new().prefix("xmppfed-bench-pg-").tempdir_in(&parent).unwrap();
    let started = std::time::Instant::now();
    let results: Vec<SizeResult> = sizes.iter().map(|&n| bench_size(&server, tmp.path(), n, cycles, reads)).collect();
    let mut admin = connect(&server);
    let version = exec(&mut admin, "SHOW server_version", &[]).get(0, 0).unwrap_or("?").to_owned();
    let settings: Vec<String> = ["fsync", "synchronous_commit", "wal_sync_method", "full_page_writes"]
        .iter()
        .map(|s| format!("{s}={}", exec(&mut admin, &format!("SHOW {s}"), &[]).get(0, 0).unwrap_or("?")))
        .collect();

    println!("## Results (PostgreSQL central store)\n");
    println!("- server: PostgreSQL {version} on 127.0.0.1 (TCP, SCRAM), {}", settings.join(", "));
    println!("- {cycles} commit cycles (create + set + remove) per size after 3 warm-up cycles; {reads} gets, {} of each other read", reads / 10);
    println!("- benchmark wall time (without the build): {}\n", fmt_time(started.elapsed().as_secs_f64()));

    println!("### Commit against the floor (a bare single-row INSERT + COMMIT, same client, same server)\n");
    println!("Median (p90) wall time; ratio of medians / median of per-pair ratios.\n");
    println!("| N | log row | floor | create | set | remove | create ratio | set ratio | remove ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        let mut floor = Samples::default();
        for p in &r.commits {
            for (w, c) in p.baseline.wall.iter().zip(&p.baseline.cpu) {
                floor.push(T { wall: *w, cpu: *c });
            }
        }
        let cell = |s: &Samples| format!("{} ({})", fmt_time(s.median()), fmt_time(s.p90()));
        println!(
            "| {} | {} B | {} | {} | {} | {} | {} | {} | {} |",
            fmt_n(r.n),
            r.line_bytes,
            cell(&floor),
            cell(&r.commits[0].samples),
            cell(&r.commits[1].samples),
            cell(&r.commits[2].samples),
            r.commits[0].ratios(),
            r.commits[1].ratios(),
            r.commits[2].ratios()
        );
    }

    println!("\n### Reads\n");
    println!("Median (p90) wall time; baselines are bare statements on the same client: get against `SELECT partner::text ... WHERE identity = $1`, list all and open against `SELECT partner::text FROM xmppfed_partners` (every row as text).\n");
    println!("| N | get | vs single-row SELECT | filter `*7.example.org` | list all | vs SELECT all | open (whole load) | vs SELECT all |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        let cell = |s: &Samples| format!("{} ({})", fmt_time(s.median()), fmt_time(s.p90()));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            fmt_n(r.n),
            cell(&r.get.samples),
            r.get.ratios(),
            cell(&r.filter),
            cell(&r.list_all.samples),
            r.list_all.ratios(),
            cell(&r.open.samples),
            r.open.ratios()
        );
    }
}
