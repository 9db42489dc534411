//! The on-disk format of a store: a log of generations, one file each.
//!
//! `partners.<generation>.log` holds one generation. Every line is `<crc32 as 8 hex digits> <json>\n`.
//! The first line is a header naming the format, its version, the store's identity (`StoreId`,
//! random, fixed for the store's whole life), the generation number and the last commit number
//! before the generation began. Every other line is one committed change. A commit is one `write`
//! of one whole line followed by `fdatasync`, so a commit is atomic and durable, and its cost does
//! not depend on how many partners exist.
//!
//! Compaction writes generation N+1 under a new name and then deletes generation N: no file that
//! another handle may hold open is ever replaced. Readers move to the highest generation.
//!
//! A crash can leave at most one incomplete line at the end: bytes after the last newline.
//! Readers ignore such a tail (it was never acknowledged); the next writer cuts it off before
//! appending. A complete (newline-terminated) line that fails its checksum is damage wherever it
//! is, the last line included, and is reported, never skipped or cut.
//!
//! Format version 1 (a single `partners.log`, no store identity) is still read, as generation 0;
//! the first commit rewrites it as generation 1.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Partner;

pub const FORMAT_NAME: &str = "xmppfed-log";
/// 3: commits carry who made them, when, and each partner as it was before (the history), and
/// one commit may hold many changes (an import). 2: generations and a store identity.
pub const FORMAT_VERSION: u64 = 3;
/// The single log file of format version 1.
pub const V1_FILE: &str = "partners.log";

/// The file of one generation in a store folder.
pub fn generation_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("partners.{generation}.log"))
}

/// The generation a file name stands for: `partners.<n>.log` (n >= 1), or 0 for a version-1 log.
pub fn generation_of(file_name: &str) -> Option<u64> {
    if file_name == V1_FILE {
        return Some(0);
    }
    let n = file_name.strip_prefix("partners.")?.strip_suffix(".log")?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The generations present in a store folder, highest first.
pub fn generations(dir: &Path) -> Result<Vec<u64>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if let Some(g) = entry.file_name().to_str().and_then(generation_of) {
            found.push(g);
        }
    }
    found.sort_unstable_by(|a, b| b.cmp(a));
    Ok(found)
}

/// The file of the newest generation in a store folder, if there is one.
pub fn current_file(dir: &Path) -> Result<Option<PathBuf>> {
    Ok(generations(dir)?.first().map(|&g| numbered_path(dir, g)))
}

/// The file named by `number` as [`generations`] lists it: `partners.<number>.log`, or for 0
/// the version-1 `partners.log`.
pub fn numbered_path(dir: &Path, number: u64) -> PathBuf {
    if number == 0 {
        dir.join(V1_FILE)
    } else {
        generation_path(dir, number)
    }
}

/// The first line of every generation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The format version the file was written in (a writer moves a store of an older version to
    /// the current one by compaction before it appends).
    pub version: u64,
    /// The store's identity; `None` only for a version-1 log, which had none.
    pub store_id: Option<String>,
    pub generation: u64,
    /// The last commit number when the generation began, so numbering continues across them.
    pub seq: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireHeader {
    format: String,
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    store_id: Option<String>,
    /// A number since version 2; version 1 wrote a string here.
    generation: serde_json::Value,
    #[serde(default)]
    seq: u64,
}

/// One line of the log after the header. `Seq` numbers commits; a partner's `Revision` is the
/// `Seq` that wrote it.
///
/// On disk, a commit (format 3) is `{"Seq":n,"At":..,"User":..,"Machine":..,"Operation":..,
/// "Changes":[{"Put":{partner},"Before":{partner}|null}, {"Remove":"identity","Before":{..}}]}`:
/// every change of the commit (one, or a whole import) with who made it, when, and each partner
/// as it was before, which is what the history shows. A compaction's snapshot of a partner, and a
/// commit of format 1 or 2, is `{"Seq":n,"Put":{partner}}` or `{"Seq":n,"Remove":"identity"}`.
#[derive(Debug, Clone)]
pub struct Record {
    pub seq: u64,
    pub changes: Vec<Change>,
    /// Who made the commit and what was there before; `None` for a snapshot line, and in records
    /// read back for the state (which needs only the changes: see [`parse_record`]).
    pub commit: Option<Commit>,
}

impl Record {
    /// A snapshot line: `partner` as it is, written at its own revision.
    pub fn put(seq: u64, partner: Partner) -> Record {
        Record { seq, changes: vec![Change::Put(partner)], commit: None }
    }
}

#[derive(Debug, Clone)]
pub enum Change {
    Put(Partner),
    Remove(String),
}

impl Change {
    pub fn identity(&self) -> &str {
        match self {
            Change::Put(p) => &p.identity,
            Change::Remove(id) => id,
        }
    }
}

/// Who made a commit, when and how, and each changed partner as it was before (in the order of
/// the changes; `None`: it did not exist).
#[derive(Debug, Clone)]
pub struct Commit {
    pub details: CommitDetails,
    pub before: Vec<Option<Partner>>,
}

/// The part of a commit that the history shows for each of its changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommitDetails {
    /// UTC, RFC 3339 (`2026-11-30T15:04:05Z`).
    pub at: String,
    /// The operating-system user who made the change.
    pub user: String,
    pub machine: String,
    pub operation: crate::history::Operation,
}

/// The on-disk shape of a line. Plain structs rather than `#[serde(flatten)]`, which would make
/// serde buffer every record through its generic content type: loading a large store is mostly
/// parsing, so this keeps opening a store fast. `B` is what a change's `Before` is read as:
/// skipped for the state, a partner for the history.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, bound(deserialize = "P: Deserialize<'de>, B: Deserialize<'de>"))]
struct WireRecord<P, B> {
    seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    put: Option<P>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remove: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    machine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operation: Option<crate::history::Operation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changes: Option<Vec<WireChange<P, B>>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, bound(deserialize = "P: Deserialize<'de>, B: Deserialize<'de>"))]
struct WireChange<P, B> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    put: Option<P>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remove: Option<String>,
    /// Always written with a commit (`null`: the partner did not exist).
    #[serde(default)]
    before: Option<B>,
}

fn one_change<P>(put: Option<P>, remove: Option<String>) -> std::result::Result<(Option<P>, Option<String>), &'static str> {
    match (put, remove) {
        (Some(p), None) => Ok((Some(p), None)),
        (None, Some(id)) => Ok((None, Some(id))),
        _ => Err("a change holds exactly one of Put and Remove"),
    }
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let wire_change = |c: &'_ Change, before: Option<&'_ Partner>| match c {
            Change::Put(p) => WireChange { put: Some(p.clone()), remove: None, before: before.cloned() },
            Change::Remove(id) => WireChange { put: None, remove: Some(id.clone()), before: before.cloned() },
        };
        let wire: WireRecord<Partner, Partner> = match &self.commit {
            None => {
                assert_eq!(self.changes.len(), 1, "a line without commit details holds one change");
                let WireChange { put, remove, .. } = wire_change(&self.changes[0], None);
                WireRecord { seq: self.seq, put, remove, at: None, user: None, machine: None, operation: None, changes: None }
            }
            Some(commit) => WireRecord {
                seq: self.seq,
                put: None,
                remove: None,
                at: Some(commit.details.at.clone()),
                user: Some(commit.details.user.clone()),
                machine: Some(commit.details.machine.clone()),
                operation: Some(commit.details.operation),
                changes: Some(self.changes.iter().zip(&commit.before).map(|(c, b)| wire_change(c, b.as_ref())).collect()),
            },
        };
        wire.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Record {
    /// For the state: the changes only (a commit's details and `Before` are skipped unread).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{Error as _, IgnoredAny};
        let wire = WireRecord::<Partner, IgnoredAny>::deserialize(d)?;
        let change = |put, remove| match one_change(put, remove).map_err(D::Error::custom)? {
            (Some(p), None) => Ok(Change::Put(p)),
            (None, Some(id)) => Ok(Change::Remove(id)),
            _ => unreachable!("one_change returns exactly one"),
        };
        let changes = match wire.changes {
            None if wire.at.is_none() && wire.user.is_none() && wire.machine.is_none() && wire.operation.is_none() => {
                vec![change(wire.put, wire.remove)?]
            }
            Some(list) if wire.put.is_none() && wire.remove.is_none() && wire.at.is_some() && wire.operation.is_some() && !list.is_empty() => {
                list.into_iter().map(|c| change(c.put, c.remove)).collect::<std::result::Result<_, _>>()?
            }
            _ => return Err(D::Error::custom("a record is either one Put or Remove, or a commit with its details and Changes")),
        };
        Ok(Record { seq: wire.seq, changes, commit: None })
    }
}

/// The history a log line holds: each change of a commit with its details, before and after;
/// nothing for a snapshot line or a commit of format 1 or 2 (which recorded no details).
pub fn parse_history(path: &Path, payload: &[u8]) -> Result<Vec<crate::history::HistoryEntry>> {
    let wire: WireRecord<Partner, Partner> =
        serde_json::from_slice(payload).map_err(|e| Error::corrupt(path, format!("a record cannot be read ({e})")))?;
    let (Some(changes), Some(at), Some(operation)) = (wire.changes, wire.at, wire.operation) else { return Ok(Vec::new()) };
    let details = CommitDetails { at, user: wire.user.unwrap_or_default(), machine: wire.machine.unwrap_or_default(), operation };
    let mut entries = Vec::with_capacity(changes.len());
    for c in changes {
        let (identity, after) = match one_change(c.put, c.remove).map_err(|e| Error::corrupt(path, e))? {
            (Some(p), _) => (p.identity.clone(), Some(p)),
            (None, Some(id)) => (id, None),
            _ => unreachable!("one_change returns exactly one"),
        };
        entries.push(crate::history::HistoryEntry { revision: wire.seq, details: details.clone(), identity, before: c.before, after });
    }
    Ok(entries)
}

/// Frame a JSON value as one log line.
pub fn encode_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = Vec::new();
    encode_line_into(&mut line, value);
    line
}

/// Append a JSON value to `out` as one log line. The value is written in place after room for
/// its checksum, which is filled in once the payload is there: no payload copy, no allocation
/// per line (a compaction writes one line per partner into one buffer).
pub fn encode_line_into<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    out.extend_from_slice(&[b' '; FRAME_PREFIX_LEN]);
    serde_json::to_writer(&mut *out, value).expect("store records always serialize");
    seal(out, start);
}

/// Frame a JSON payload (one line, checked) as one log line.
pub fn frame(json: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(json.len() + FRAME_PREFIX_LEN + 1);
    frame_into(&mut line, json);
    line
}

/// Frame a JSON payload (one line, checked) as one log line, appended to `out`.
pub fn frame_into(out: &mut Vec<u8>, json: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&[b' '; FRAME_PREFIX_LEN]);
    out.extend_from_slice(json);
    seal(out, start);
}

/// Fill in the checksum of the payload that follows the frame prefix at `start`, and end the line.
fn seal(out: &mut Vec<u8>, start: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let crc = crc32fast::hash(&out[start + FRAME_PREFIX_LEN..]);
    for (i, digit) in out[start..start + FRAME_PREFIX_LEN - 1].iter_mut().enumerate() {
        *digit = HEX[(crc >> (28 - 4 * i)) as usize & 0xf];
    }
    out.push(b'\n');
}

/// What reading a stretch of the log found.
pub struct Chunk<'a> {
    /// The JSON payloads of complete, checked lines.
    pub lines: Vec<&'a [u8]>,
    /// Bytes consumed: up to the end of the last complete line.
    pub consumed: u64,
    /// Bytes after the last newline follow `consumed` (a write in progress or a crash).
    pub torn_tail: bool,
}

/// Split `bytes` (starting at file offset `base`) into checked lines. Bytes after the last newline
/// are a torn tail; a complete line that fails its checksum is damage.
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
            // Complete lines are acknowledged commits: a bad one is damage, never a torn write.
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

/// What precedes a line's payload: its checksum in 8 hex digits and a space.
pub const FRAME_PREFIX_LEN: usize = 9;

fn check_line(line: &[u8]) -> Option<&[u8]> {
    if line.len() <= FRAME_PREFIX_LEN || line[FRAME_PREFIX_LEN - 1] != b' ' {
        return None;
    }
    let crc = u32::from_str_radix(std::str::from_utf8(&line[..FRAME_PREFIX_LEN - 1]).ok()?, 16).ok()?;
    let payload = &line[FRAME_PREFIX_LEN..];
    (crc32fast::hash(payload) == crc).then_some(payload)
}

pub fn parse_header(path: &Path, payload: &[u8]) -> Result<Header> {
    let wire: WireHeader = serde_json::from_slice(payload)
        .map_err(|e| Error::corrupt(path, format!("the header is not a store header ({e})")))?;
    if wire.format != FORMAT_NAME {
        return Err(Error::corrupt(path, format!("the header names format '{}', not '{}'", wire.format, FORMAT_NAME)));
    }
    if wire.version > FORMAT_VERSION {
        return Err(Error::StoreVersion { path: path.to_owned(), what: "format", found: wire.version, supported: FORMAT_VERSION });
    }
    let generation = match (wire.version, &wire.generation, &wire.store_id) {
        (0 | 1, serde_json::Value::String(_), None) => 0,
        (2 | 3, serde_json::Value::Number(n), Some(id)) if !id.is_empty() => {
            n.as_u64().filter(|g| *g >= 1).ok_or_else(|| Error::corrupt(path, "the header's Generation is not a generation number"))?
        }
        _ => return Err(Error::corrupt(path, format!("the header does not match format version {}", wire.version))),
    };
    Ok(Header { version: wire.version.max(1), store_id: wire.store_id, generation, seq: wire.seq })
}

pub fn parse_record(path: &Path, payload: &[u8]) -> Result<Record> {
    serde_json::from_slice(payload).map_err(|e| Error::corrupt(path, format!("a record cannot be read ({e})")))
}

pub fn header_line(header: &Header) -> Vec<u8> {
    encode_line(&WireHeader {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        store_id: header.store_id.clone(),
        generation: header.generation.into(),
        seq: header.seq,
    })
}

/// A new store identity: 128 random bits from the operating system (never the clock or the pid,
/// which repeat across machines, containers and frozen clocks).
pub fn new_store_id() -> Result<String> {
    super::files::random_hex(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header { version: FORMAT_VERSION, store_id: Some("0123456789abcdef0123456789abcdef".into()), generation: 3, seq: 41 }
    }

    /// The frame as the format defines it: eight lowercase hex digits of the payload's CRC-32,
    /// a space, the payload, a newline.
    fn framed(payload: &[u8]) -> Vec<u8> {
        [format!("{:08x} ", crc32fast::hash(payload)).as_bytes(), payload, b"\n"].concat()
    }

    #[test]
    fn lines_are_framed_as_the_format_defines_them_and_appended_in_place() {
        let mut leading_zero = None;
        for i in 0..64u32 {
            let value = serde_json::json!({"Seq": i, "Remove": format!("p{i}.example.com")});
            let payload = serde_json::to_vec(&value).unwrap();
            assert_eq!(encode_line(&value), framed(&payload));
            if crc32fast::hash(&payload) < 0x1000_0000 {
                leading_zero = Some(payload);
            }
        }
        let payload = leading_zero.expect("one of 64 checksums starts with a zero digit");
        assert_eq!(encode_line(&serde_json::from_slice::<serde_json::Value>(&payload).unwrap()), framed(&payload));
        let mut out = b"before\n".to_vec();
        assert_eq!(frame(b"{\"Seq\":7}"), framed(b"{\"Seq\":7}"));
        frame_into(&mut out, b"{\"Seq\":7}");
        encode_line_into(&mut out, &serde_json::json!({"Seq": 8}));
        assert_eq!(out, [&b"before\n"[..], &framed(b"{\"Seq\":7}"), &framed(b"{\"Seq\":8}")].concat());
    }

    #[test]
    fn lines_round_trip_and_detect_damage() {
        let p = Path::new("x.log");
        let mut bytes = header_line(&header());
        bytes.extend(encode_line(&serde_json::json!({"Seq":1,"Remove":"a.com"})));
        let chunk = split_lines(p, 0, &bytes).unwrap();
        assert_eq!(chunk.lines.len(), 2);
        let record = parse_record(p, chunk.lines[1]).unwrap();
        assert!(matches!(&record.changes[..], [Change::Remove(id)] if id == "a.com") && record.seq == 1);
        assert_eq!(chunk.consumed, bytes.len() as u64);
        assert!(!chunk.torn_tail);

        // An incomplete last line is a torn tail, not damage.
        let mut torn = bytes.clone();
        torn.extend_from_slice(b"0000abcd {\"Seq\":2");
        let chunk = split_lines(p, 0, &torn).unwrap();
        assert_eq!((chunk.lines.len(), chunk.consumed, chunk.torn_tail), (2, bytes.len() as u64, true));

        // A flipped byte in a middle line is damage, named with its offset.
        let mut bad = bytes.clone();
        let second = header_line(&header()).len() + 12;
        bad[second] ^= 0x01;
        bad.extend(encode_line(&serde_json::json!({"Seq":2,"Remove":"b.com"})));
        let err = split_lines(p, 0, &bad).err().expect("damage must be reported");
        assert!(err.to_string().contains("byte offset"), "{err}");
    }

    #[test]
    fn a_bad_complete_last_line_is_damage_not_a_torn_write() {
        let p = Path::new("x.log");
        let mut bytes = header_line(&header());
        let record = encode_line(&serde_json::json!({"Seq":42,"Remove":"a.com"}));
        let at = bytes.len();
        bytes.extend(&record);
        bytes[at + 20] ^= 0x04;
        let err = split_lines(p, 0, &bytes).err().expect("an acknowledged line must not vanish");
        assert!(err.to_string().contains(&format!("byte offset {at}")), "{err}");
        // Without its newline the same bytes are a write that never finished.
        let chunk = split_lines(p, 0, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!((chunk.lines.len(), chunk.consumed, chunk.torn_tail), (1, at as u64, true));
    }

    #[test]
    fn headers_of_both_versions_and_file_names() {
        let p = Path::new("x");
        let line = header_line(&header());
        let chunk = split_lines(p, 0, &line).unwrap();
        assert_eq!(parse_header(p, chunk.lines[0]).unwrap(), header());
        let v1 = br#"{"Format":"xmppfed-log","Version":1,"Generation":"17a-2f","Seq":9}"#;
        assert_eq!(parse_header(p, v1).unwrap(), Header { version: 1, store_id: None, generation: 0, seq: 9 });
        for bad in [
            &br#"{"Format":"xmppfed-log","Version":2,"Generation":"x","StoreId":"ab"}"#[..],
            br#"{"Format":"xmppfed-log","Version":2,"Generation":0,"StoreId":"ab"}"#,
            br#"{"Format":"xmppfed-log","Version":2,"Generation":4}"#,
            br#"{"Format":"xmppfed-log","Version":1,"Generation":4,"StoreId":"ab"}"#,
        ] {
            assert!(matches!(parse_header(p, bad), Err(Error::StoreCorrupt { .. })), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(generation_path(p, 12), Path::new("x/partners.12.log"));
        assert_eq!(generation_of("partners.12.log"), Some(12));
        assert_eq!(generation_of("partners.log"), Some(0));
        for other in ["partners.0.log", "partners.012.log", "partners..log", "partners.1.log.tmp-ab", "partners.lock", "partners.-1.log"] {
            assert_eq!(generation_of(other), None, "{other}");
        }
    }

    #[test]
    fn records_hold_exactly_one_change() {
        let p = Path::new("x.log");
        let put = Record::put(7, Partner::with_defaults("a.com".into()));
        let json = serde_json::to_string(&put).unwrap();
        assert!(json.starts_with(r#"{"Seq":7,"Put":{"Identity":"a.com""#), "{json}");
        assert!(parse_record(p, json.as_bytes()).is_ok());
        assert!(parse_history(p, json.as_bytes()).unwrap().is_empty(), "a snapshot line is no history");
        for bad in [
            r#"{"Seq":1}"#,
            r#"{"Seq":1,"Remove":"a.com","Put":null,"Extra":1}"#,
            r#"{"Seq":1,"Remove":"a.com","Put":{}}"#,
            r#"{"Seq":1,"Changes":[]}"#,
            r#"{"Seq":1,"At":"2026-11-30T00:00:00Z","Operation":"Import","Changes":[]}"#,
            r#"{"Seq":1,"At":"2026-11-30T00:00:00Z","Operation":"Remove","Changes":[{"Before":null}]}"#,
            r#"{"Seq":1,"Remove":"a.com","At":"2026-11-30T00:00:00Z"}"#,
        ] {
            assert!(matches!(parse_record(p, bad.as_bytes()), Err(Error::StoreCorrupt { .. })), "{bad}");
        }
    }

    #[test]
    fn a_commit_holds_its_details_and_every_change_with_its_before() {
        use crate::history::Operation;
        let p = Path::new("x.log");
        let old = Partner::with_defaults("a.com".into());
        let new = Partner { description: "new".into(), revision: 9, ..old.clone() };
        let details = CommitDetails { at: "2026-11-30T15:04:05Z".into(), user: "ann".into(), machine: "pc1".into(), operation: Operation::Import };
        let record = Record {
            seq: 9,
            changes: vec![Change::Put(new.clone()), Change::Remove("b.com".into())],
            commit: Some(Commit { details: details.clone(), before: vec![Some(old.clone()), Some(Partner::with_defaults("b.com".into()))] }),
        };
        let line = encode_line(&record);
        let payload = &split_lines(p, 0, &line).unwrap().lines[0];
        let read = parse_record(p, payload).unwrap();
        assert_eq!(read.seq, 9);
        assert!(matches!(&read.changes[..], [Change::Put(x), Change::Remove(y)] if *x == new && y == "b.com"));
        let history = parse_history(p, payload).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!((history[0].revision, &history[0].details, history[0].identity.as_str()), (9, &details, "a.com"));
        assert_eq!((history[0].before.as_ref(), history[0].after.as_ref()), (Some(&old), Some(&new)));
        assert_eq!((history[1].identity.as_str(), history[1].after.is_none()), ("b.com", true));
    }

    #[test]
    fn future_versions_are_refused_by_number() {
        let payload = br#"{"Format":"xmppfed-log","Version":7,"Generation":"g"}"#;
        assert!(matches!(parse_header(Path::new("x"), payload), Err(Error::StoreVersion { found: 7, .. })));
        let payload = br#"{"Format":"xmppfed-log","Version":4,"Generation":2,"StoreId":"x"}"#;
        assert!(matches!(parse_header(Path::new("x"), payload), Err(Error::StoreVersion { found: 4, supported: 3, .. })));
        let payload = br#"{"Format":"other","Version":1,"Generation":"g"}"#;
        assert!(matches!(parse_header(Path::new("x"), payload), Err(Error::StoreCorrupt { .. })));
    }
}
