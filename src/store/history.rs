//! A folder store's history file: `history.<generation>.log`, written by the compaction that
//! starts the generation, before it publishes `partners.<generation>.log`. It holds the history
//! entries ([`crate::history::HistoryEntry`]) of earlier generations that are still retained,
//! in the log's line format (checksummed lines, a header naming the store and generation); the
//! generation's own commits carry the rest. Never read by Get: the list's reads do not pay for the
//! history. Not copied to replicas: history is read from the central store.

use std::path::{Path, PathBuf};

use super::files::{self, Access};
use super::log::{self, Header};
use super::trust::{self, Sharing};
use crate::error::{Error, Result};

pub const PREFIX: &str = "history.";

pub fn file_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("{PREFIX}{generation}.log"))
}

/// The generation a history file name stands for.
pub fn generation_of(file_name: &str) -> Option<u64> {
    let n = file_name.strip_prefix(PREFIX)?.strip_suffix(".log")?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// A history file read whole and checked, its entry lines left in place: their payloads are
/// parsed where they lie, and compaction copies the lines it keeps as they are, checksums and all.
pub struct HistoryFile {
    bytes: Vec<u8>,
    /// Where each entry line's payload lies in `bytes`, in file order.
    payloads: Vec<std::ops::Range<usize>>,
}

impl HistoryFile {
    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    /// The JSON payload of entry `i`.
    pub fn payload(&self, i: usize) -> &[u8] {
        &self.bytes[self.payloads[i].clone()]
    }

    /// Entry `i` and every entry after it, framed as in the file (checksum, payload, newline).
    pub fn framed_from(&self, i: usize) -> &[u8] {
        &self.bytes[self.payloads[i].start - log::FRAME_PREFIX_LEN..]
    }
}

/// The history file of the generation `of`, checked (header, every line's checksum); none if it
/// has no file (its first generation, a store of format 2, or a compaction from one). A file of
/// another store or generation in its place is damage.
pub fn read_file(dir: &Path, of: &Header, sharing: Sharing) -> Result<Option<HistoryFile>> {
    let path = file_path(dir, of.generation);
    let Some((mut file, meta)) = files::open_existing(&path, Access::Read)? else { return Ok(None) };
    trust::check_file(&path, &meta, sharing)?;
    let bytes = files::read_from(&mut file, &path, 0)?;
    let chunk = log::split_lines(&path, 0, &bytes)?;
    if chunk.torn_tail {
        // Published whole by a rename: an incomplete line is damage here, not a write in progress.
        return Err(Error::corrupt(&path, "the file ends in the middle of a line"));
    }
    let Some(first) = chunk.lines.first() else {
        return Err(Error::corrupt(&path, "the file has no header"));
    };
    let header = log::parse_header(&path, first)?;
    if header.store_id != of.store_id || header.generation != of.generation {
        return Err(Error::corrupt(&path, format!("the header names generation {} of another store or generation", header.generation)));
    }
    let base = bytes.as_ptr() as usize;
    let payloads = chunk.lines[1..].iter().map(|l| (l.as_ptr() as usize - base)..(l.as_ptr() as usize - base + l.len())).collect();
    Ok(Some(HistoryFile { bytes, payloads }))
}

/// The revision of an entry line, read without the rest of it.
pub fn revision_of(line: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Revision {
        revision: u64,
    }
    serde_json::from_slice::<Revision>(line).ok().map(|r| r.revision)
}
