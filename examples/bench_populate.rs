//! Bench-only helper for the PowerShell benchmark (`powershell/bench/`): makes large stores and
//! CSV files fast, without N commits (100,000 commits of the cmdlets would take minutes).
//!
//!     cargo run --release --example bench_populate -- store <central-dir> <count>
//!     cargo run --release --example bench_populate -- csv <file> <count> <name-prefix>
//!
//! `store` writes generation 1 of the log (`partners.1.log`) in its documented format (header
//! line + one `Put` record per partner, through `xmppfed::store::log`), as `benches/store.rs`
//! does, with the same fixture: partner `i` is `p<i>.example.org` with one additional domain and
//! a description (a log line of ~390 bytes). `csv` writes the rows Export-Csv writes for such
//! partners (same columns, same quoting), named `<name-prefix><i>.example.org`, for Import-Csv.
//! Never used by the product or its tests.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use xmppfed::model::Partner;
use xmppfed::store::log::{encode_line, generation_path, header_line, new_store_id, Header, Record};

fn partner(name: String, i: usize, revision: u64) -> Partner {
    let mut p = Partner::with_defaults(name.clone());
    p.additional_domains = vec![format!("chat.{name}")];
    p.description = format!("benchmark partner number {i:06}");
    p.revision = revision;
    p
}

fn write_store(central: &Path, n: usize) {
    fs::create_dir_all(central).expect("create the store folder");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(central, fs::Permissions::from_mode(0o700)).expect("chmod 700 the store folder");
    }
    let store_id = new_store_id().expect("a random store id");
    let mut bytes = header_line(&Header { version: xmppfed::store::log::FORMAT_VERSION, store_id: Some(store_id), generation: 1, seq: 0 });
    for i in 0..n {
        let seq = i as u64 + 1;
        bytes.extend(encode_line(&Record::put(seq, partner(format!("p{i}.example.org"), i, seq))));
    }
    let path = generation_path(central, 1);
    let mut f = File::create(&path).expect("create the log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600)).expect("chmod 600 the log");
    }
    f.write_all(&bytes).expect("write the log");
    f.sync_all().expect("fsync the log");
    println!("{} partners, {} bytes: {}", n, bytes.len(), path.display());
}

fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

fn write_csv(file: &Path, n: usize, prefix: &str) {
    let mut out = BufWriter::new(File::create(file).expect("create the CSV file"));
    let columns = [
        "Identity",
        "Domain",
        "AdditionalDomains",
        "Description",
        "ProxyFqdn",
        "PartnerType",
        "TlsNegotiation",
        "SaslNegotiation",
        "SupportDialbackNegotiation",
        "EnableKeepAlive",
        "ConnectionLimit",
        "Revision",
    ];
    let header: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
    writeln!(out, "{}", header.join(",")).unwrap();
    for i in 0..n {
        let p = partner(format!("{prefix}{i}.example.org"), i, i as u64 + 1);
        // The text forms Export-Csv writes: enum names, True/False, domains joined by ';'.
        let json = serde_json::to_value(&p).unwrap();
        let text = |key: &str| match &json[key] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(true) => "True".into(),
            serde_json::Value::Bool(false) => "False".into(),
            serde_json::Value::Array(items) => {
                items.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect::<Vec<_>>().join(";")
            }
            other => other.to_string(),
        };
        let row: Vec<String> = columns.iter().map(|c| quoted(&text(c))).collect();
        writeln!(out, "{}", row.join(",")).unwrap();
    }
    out.flush().unwrap();
    println!("{} rows: {}", n, file.display());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_populate store <central-dir> <count> | csv <file> <count> <name-prefix>";
    let count = |s: &String| s.parse::<usize>().expect(usage);
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["store", dir, _] => write_store(Path::new(dir), count(&args[2])),
        ["csv", file, _, prefix] => write_csv(Path::new(file), count(&args[2]), prefix),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
