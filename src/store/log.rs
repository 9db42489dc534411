//! The on-disk format: one append-only log file per store.
//!
//! Every line is `<crc32 as 8 hex digits> <json>\n`. The first line is a header naming the format,
//! its version and a generation id (new each time the file is rewritten by compaction). Every
//! other line is one committed change. A commit is one `write` of one whole line followed by
//! `fdatasync`, so a commit is atomic and durable, and its cost does not depend on how many
//! partners exist.
//!
//! A crash can leave at most one incomplete line at the end (no newline, or a checksum that does
//! not match). Readers ignore such a tail (it was never acknowledged); the next writer truncates
//! it before appending. A bad line anywhere else is damage and is reported, never skipped.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Partner;

pub const FORMAT_NAME: &str = "xmppfed-log";
pub const FORMAT_VERSION: u64 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Header {
    pub format: String,
    pub version: u64,
    pub generation: String,
    /// The last commit number when the file was written, so numbering continues after a rewrite.
    #[serde(default)]
    pub seq: u64,
}

/// One committed change. `Seq` numbers commits; a partner's `Revision` is the `Seq` that wrote it.
/// On disk: `{"Seq":n,"Put":{partner}}` or `{"Seq":n,"Remove":"identity"}`.
#[derive(Debug, Clone)]
pub struct Record {
    pub seq: u64,
    pub change: Change,
}

#[derive(Debug, Clone)]
pub enum Change {
    Put(Partner),
    Remove(String),
}

/// The on-disk shape of a record. A plain struct rather than `#[serde(flatten)]`, which would
/// make serde buffer every record through its generic content type: loading a large store is
/// mostly parsing, so this keeps opening a store fast.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, bound(deserialize = "P: Deserialize<'de>"))]
struct WireRecord<P> {
    seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    put: Option<P>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remove: Option<String>,
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (put, remove) = match &self.change {
            Change::Put(p) => (Some(p), None),
            Change::Remove(id) => (None, Some(id.clone())),
        };
        WireRecord { seq: self.seq, put, remove }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let wire = WireRecord::<Partner>::deserialize(d)?;
        let change = match (wire.put, wire.remove) {
            (Some(p), None) => Change::Put(p),
            (None, Some(id)) => Change::Remove(id),
            _ => return Err(serde::de::Error::custom("a record holds exactly one of Put and Remove")),
        };
        Ok(Record { seq: wire.seq, change })
    }
}

/// Frame a JSON value as one log line.
pub fn encode_line<T: Serialize>(value: &T) -> Vec<u8> {
    let json = serde_json::to_vec(value).expect("store records always serialize");
    let mut line = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    line.extend_from_slice(&json);
    line.push(b'\n');
    line
}

/// What reading a stretch of the log found.
pub struct Chunk<'a> {
    /// The JSON payloads of complete, checked lines.
    pub lines: Vec<&'a [u8]>,
    /// Bytes consumed: up to the end of the last complete line.
    pub consumed: u64,
    /// An incomplete or unchecked last line follows `consumed` (a write in progress or a crash).
    pub torn_tail: bool,
}

/// Split `bytes` (starting at file offset `base`) into checked lines. A bad line that is not the
/// last one is damage.
pub fn split_lines<'a>(path: &Path, base: u64, bytes: &'a [u8]) -> Result<Chunk<'a>> {
    let mut lines = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let Some(nl) = bytes[pos..].iter().position(|&b| b == b'\n') else {
            return Ok(Chunk { lines, consumed: pos as u64, torn_tail: true });
        };
        let line = &bytes[pos..pos + nl];
        let next = pos + nl + 1;
        match check_line(line) {
            Some(payload) => lines.push(payload),
            None if next == bytes.len() => return Ok(Chunk { lines, consumed: pos as u64, torn_tail: true }),
            None => {
                return Err(Error::corrupt(
                    path,
                    format!("the line at byte offset {} fails its checksum", base + pos as u64),
                ))
            }
        }
        pos = next;
    }
    Ok(Chunk { lines, consumed: pos as u64, torn_tail: false })
}

fn check_line(line: &[u8]) -> Option<&[u8]> {
    if line.len() < 10 || line[8] != b' ' {
        return None;
    }
    let crc = u32::from_str_radix(std::str::from_utf8(&line[..8]).ok()?, 16).ok()?;
    let payload = &line[9..];
    (crc32fast::hash(payload) == crc).then_some(payload)
}

pub fn parse_header(path: &Path, payload: &[u8]) -> Result<Header> {
    let header: Header = serde_json::from_slice(payload)
        .map_err(|e| Error::corrupt(path, format!("the header is not a store header ({e})")))?;
    if header.format != FORMAT_NAME {
        return Err(Error::corrupt(path, format!("the header names format '{}', not '{}'", header.format, FORMAT_NAME)));
    }
    if header.version > FORMAT_VERSION {
        return Err(Error::StoreVersion { path: path.to_owned(), found: header.version, supported: FORMAT_VERSION });
    }
    Ok(header)
}

pub fn parse_record(path: &Path, payload: &[u8]) -> Result<Record> {
    serde_json::from_slice(payload).map_err(|e| Error::corrupt(path, format!("a record cannot be read ({e})")))
}

/// A store file that does not exist is a fresh store, unless its whole folder is gone: then the
/// store is unreachable (an unmounted share, a deleted folder), never silently empty.
pub fn check_folder_reachable(file: &Path) -> Result<()> {
    require_folder(file.parent().unwrap_or(Path::new(".")))
}

/// The folder must exist: a missing one is reported as unreachable, by its own name.
pub fn require_folder(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::StoreUnreachable { path: dir.to_owned() })
    }
}

/// Read `path` from `offset` to its current end.
pub fn read_from(file: &mut File, path: &Path, offset: u64) -> Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// A new generation id: unique enough to tell two rewrites of one file apart.
pub fn new_generation() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:x}-{:x}", nanos, std::process::id())
}

pub fn header_line(generation: &str, seq: u64) -> Vec<u8> {
    encode_line(&Header { format: FORMAT_NAME.into(), version: FORMAT_VERSION, generation: generation.into(), seq })
}

/// Owner-only permissions for everything the store creates (ours: the list is security policy).
pub fn create_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

pub fn create_dir_private(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| Error::io(dir, e))
}

/// Write `contents` to `path` atomically: a temporary file, fsync, rename, fsync of the folder.
/// Readers see the old file or the new one, never a mix.
pub fn write_atomically(path: &Path, contents: &[u8], durable: bool) -> Result<()> {
    let tmp: PathBuf = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = create_options().open(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(contents).map_err(|e| Error::io(&tmp, e))?;
        if durable {
            f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        }
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        if durable {
            sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Make a rename durable. Only meaningful (and only possible) on Unix.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_detect_damage() {
        let p = Path::new("x.log");
        let mut bytes = header_line("g1", 0);
        bytes.extend(encode_line(&serde_json::json!({"Seq":1,"Remove":"a.com"})));
        let chunk = split_lines(p, 0, &bytes).unwrap();
        assert_eq!(chunk.lines.len(), 2);
        let record = parse_record(p, chunk.lines[1]).unwrap();
        assert!(matches!(record, Record { seq: 1, change: Change::Remove(ref id) } if id == "a.com"));
        assert_eq!(chunk.consumed, bytes.len() as u64);
        assert!(!chunk.torn_tail);

        // An incomplete last line is a torn tail, not damage.
        let mut torn = bytes.clone();
        torn.extend_from_slice(b"0000abcd {\"Seq\":2");
        let chunk = split_lines(p, 0, &torn).unwrap();
        assert_eq!((chunk.lines.len(), chunk.consumed, chunk.torn_tail), (2, bytes.len() as u64, true));

        // A flipped byte in a middle line is damage, named with its offset.
        let mut bad = bytes.clone();
        let second = header_line("g1", 0).len() + 12;
        bad[second] ^= 0x01;
        bad.extend(encode_line(&serde_json::json!({"Seq":2,"Remove":"b.com"})));
        let err = split_lines(p, 0, &bad).err().expect("damage must be reported");
        assert!(err.to_string().contains("byte offset"), "{err}");
    }

    #[test]
    fn records_hold_exactly_one_change() {
        let p = Path::new("x.log");
        let put = Record { seq: 7, change: Change::Put(Partner::with_defaults("a.com".into())) };
        let json = serde_json::to_string(&put).unwrap();
        assert!(json.starts_with(r#"{"Seq":7,"Put":{"Identity":"a.com""#), "{json}");
        assert!(parse_record(p, json.as_bytes()).is_ok());
        for bad in [r#"{"Seq":1}"#, r#"{"Seq":1,"Remove":"a.com","Put":null,"Extra":1}"#, r#"{"Seq":1,"Remove":"a.com","Put":{}}"#] {
            assert!(matches!(parse_record(p, bad.as_bytes()), Err(Error::StoreCorrupt { .. })), "{bad}");
        }
    }

    #[test]
    fn future_versions_are_refused_by_number() {
        let payload = br#"{"Format":"xmppfed-log","Version":7,"Generation":"g"}"#;
        assert!(matches!(parse_header(Path::new("x"), payload), Err(Error::StoreVersion { found: 7, .. })));
        let payload = br#"{"Format":"other","Version":1,"Generation":"g"}"#;
        assert!(matches!(parse_header(Path::new("x"), payload), Err(Error::StoreCorrupt { .. })));
    }
}
