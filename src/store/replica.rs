//! The local replica: a machine-local copy of the central store's current generation, byte for
//! byte, so that `-LocalStore` reads work when the central store is unreachable or damaged.
//!
//! Its files are `partners.<n>.log` like the central store's, but `n` is a local counter, not the
//! generation (which the copied header states): a copy that cannot be extended (a new central
//! generation, a damaged copy, a PostgreSQL store rewritten whole) is written under the next
//! number and the older files are deleted. No file that another handle may hold open is ever
//! replaced, on any platform (on Windows a rename over an open file fails); readers move to the
//! highest number, as they move to a central store's newest generation.
//!
//! A refresh appends only what the central log gained since the last refresh (whole lines, so a
//! reader of the replica sees the state after some commit, never half of one), so its cost does
//! not grow with the list. What is reused is verified first: in full on the first refresh of a
//! process and on every explicit refresh, afterwards only when the file is not exactly as this
//! process left it. A replica that does not verify (a flipped bit, an edit, a partial write left
//! by a full disk) is replaced by a fresh copy. The replica is a cache: it is not fsynced.

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::SystemTime;

use super::files::{self, Access};
use super::log;
use super::view::FolderStamp;
use crate::error::{Error, Result};

/// What a refresh last left behind in this process: the replica file is trusted as unchanged
/// while its identity, length and modification time are these.
#[derive(Debug)]
pub struct Witness {
    seen: Seen,
    /// The replica folder's settled stamp, under its lock, when copy `number` was found to be the
    /// newest (see [`newest_copy`]).
    folder: Option<FolderStamp>,
    /// The copy, open for writing, kept for the next refresh, which uses it while the folder
    /// still shows `folder` (no name in it has changed, so the name still names this file). Only
    /// with a settled stamp: never on Windows, where an open handle would keep the copy from
    /// being replaced.
    file: Option<File>,
}

#[derive(Debug, PartialEq, Eq)]
struct Seen {
    /// The replica file's number, and the central generation it holds a copy of.
    number: u64,
    generation: u64,
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Seen {
    fn of(number: u64, generation: u64, meta: &fs::Metadata) -> Seen {
        Seen {
            number,
            generation,
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino())
            },
        }
    }
}

impl Witness {
    /// Copy `number` of `generation` as it is now (`meta`), open as `file` if it is to be kept.
    fn of(number: u64, generation: u64, meta: &fs::Metadata, folder: Option<FolderStamp>, file: Option<File>) -> Witness {
        Witness { seen: Seen::of(number, generation, meta), file: file.filter(|_| folder.is_some()), folder }
    }

    /// Whether `meta` is copy `number` of `generation` exactly as this process left it.
    fn describes(&self, number: u64, generation: u64, meta: &fs::Metadata) -> bool {
        self.seen == Seen::of(number, generation, meta)
    }
}

/// Bring the replica folder `dir` up to date with `len` bytes of the central generation
/// `generation` read through `source` (complete lines, already verified by the central view).
/// `store_id` is the central store's identity: a replica of another store is never overwritten.
/// `folder` is the folder's settled stamp, taken under its lock (see [`newest_copy`]).
#[allow(clippy::too_many_arguments)]
pub fn mirror(
    source: &mut File,
    source_path: &Path,
    len: u64,
    generation: u64,
    store_id: Option<&str>,
    dir: &Path,
    folder: Option<FolderStamp>,
    witness: &mut Option<Witness>,
) -> Result<()> {
    let (listed, number, newest) = newest_copy(dir, folder, witness.as_mut())?;
    let target = log::numbered_path(dir, number);
    let reusable = match newest {
        Some((mut replica, meta)) => {
            let unchanged = witness.as_ref().map_or(false, |w| w.describes(number, generation, &meta));
            let have = meta.len();
            if have <= len && (unchanged || same_prefix(&mut replica, &target, source, source_path, have)?) {
                Some((replica, have, unchanged))
            } else if have > len && central_holds(&mut replica, &target, source, source_path, have)? {
                // Another process of this machine committed later and mirrored first: the replica
                // is ahead of what this view read, not wrong. It is kept: replacing it would roll
                // it back (and on Windows fail while others have it open).
                Some((replica, have, false))
            } else {
                refuse_other_store(&mut replica, &target, store_id)?;
                None
            }
        }
        None => None,
    };
    match reusable {
        Some((mut replica, have, unchanged)) => {
            // A partial last line (an append cut short by a full disk or a crash) is cut back to
            // the last whole line, so that only whole, checked lines are ever appended. A copy
            // exactly as this process left it ends with one. (The replica's lock keeps other
            // processes of this library from changing its length meanwhile.)
            let had = have;
            let have = if unchanged { have } else { last_line_boundary(&mut replica, &target, have)? };
            if had != have {
                replica.set_len(have).map_err(|e| Error::io(&target, e))?;
            }
            if have < len {
                let tail = read_range(source, source_path, have, len)?;
                // Only checked lines are copied (the central view verified them; this verifies
                // that the bytes read now are still those).
                log::split_lines(source_path, have, &tail)?;
                if let Err(e) = files::write_at(&mut replica, have, &tail) {
                    // A full disk: cut what was written, so no partial line stays behind.
                    let _ = replica.set_len(have);
                    *witness = None;
                    return Err(Error::io(&target, e));
                }
            }
            let meta = replica.metadata().map_err(|e| Error::io(&target, e))?;
            *witness = Some(Witness::of(number, generation, &meta, folder, Some(replica)));
            if listed.len() > 1 {
                remove_other_copies(dir, number);
            }
        }
        None => {
            let bytes = read_range(source, source_path, 0, len)?;
            log::split_lines(source_path, 0, &bytes)?;
            write_new_copy(dir, &listed, generation, &bytes, witness)?;
        }
    }
    Ok(())
}

/// The copies in the replica folder (their numbers, highest first), and the newest one's number
/// and file, open for writing, with its metadata (none in an empty folder).
///
/// The folder is listed unless its settled stamp under the lock (`folder`) is the one under
/// which this process last found its copy to be the newest (`witness`): creating or deleting
/// any name moves a folder's stamp, so no copy has appeared or gone since, and that copy is read
/// without listing the folder. (No stamp on Windows, which always lists.)
fn newest_copy(dir: &Path, folder: Option<FolderStamp>, witness: Option<&mut Witness>) -> Result<(Vec<u64>, u64, Option<(File, fs::Metadata)>)> {
    if let (Some(w), Some(stamp)) = (witness, folder) {
        if w.folder == Some(stamp) {
            let number = w.seen.number;
            let path = log::numbered_path(dir, number);
            if let Some(file) = w.file.take() {
                let meta = file.metadata().map_err(|e| Error::io(&path, e))?;
                return Ok((vec![number], number, Some((file, meta))));
            }
            if let Some(found) = files::open_existing(&path, Access::Write)? {
                return Ok((vec![number], number, Some(found)));
            }
        }
    }
    let listed = log::generations(dir)?;
    for &number in &listed {
        // A file deleted between the listing and the open is an older copy being cleared away.
        if let Some(found) = files::open_existing(&log::numbered_path(dir, number), Access::Write)? {
            return Ok((listed, number, Some(found)));
        }
    }
    Ok((listed, 1, None))
}

/// Write `bytes` as a new copy, numbered after the highest of the `listed` copies (1 in an empty
/// folder), and delete the older copies. (The folder's names change, so the witness keeps no
/// folder stamp: the next refresh lists the folder.)
fn write_new_copy(dir: &Path, listed: &[u64], generation: u64, bytes: &[u8], witness: &mut Option<Witness>) -> Result<()> {
    let number = listed.first().map_or(1, |highest| highest + 1);
    let target = log::numbered_path(dir, number);
    files::publish_new(&target, bytes, 0o600, None)?;
    let meta = fs::symlink_metadata(&target).map_err(|e| Error::io(&target, e))?;
    *witness = Some(Witness::of(number, generation, &meta, None, None));
    if !listed.is_empty() {
        remove_other_copies(dir, number);
    }
    Ok(())
}

/// Bring the replica folder `dir` up to date with a central store that is not a folder
/// (PostgreSQL): the same file format, written from records. `header` and `state` are the central
/// state as read now; `new_records` are the records applied since this process last left the
/// replica as `witness` says (`None`: unknown). With both, the records are appended; otherwise the
/// replica is rewritten whole (header plus one record per partner, like a compacted generation).
#[cfg(feature = "postgres")]
pub fn write_records(
    dir: &Path,
    folder: Option<FolderStamp>,
    header: &log::Header,
    state: &super::state::State,
    new_records: Option<&[log::Record]>,
    witness: &mut Option<Witness>,
) -> Result<()> {
    let (listed, number, newest) = newest_copy(dir, folder, witness.as_mut())?;
    let target = log::numbered_path(dir, number);
    if let (Some(records), Some(_), Some((mut replica, meta))) = (new_records, witness.as_ref(), newest) {
        if witness.as_ref().map_or(false, |w| w.describes(number, header.generation, &meta)) {
            let mut bytes = Vec::new();
            for r in records {
                log::encode_line_into(&mut bytes, r);
            }
            if let Err(e) = files::write_at(&mut replica, meta.len(), &bytes) {
                let _ = replica.set_len(meta.len());
                *witness = None;
                return Err(Error::io(&target, e));
            }
            let meta = replica.metadata().map_err(|e| Error::io(&target, e))?;
            *witness = Some(Witness::of(number, header.generation, &meta, folder, Some(replica)));
            return Ok(());
        }
    }
    if let Some((mut replica, _)) = files::open_existing(&target, Access::Read)? {
        refuse_other_store(&mut replica, &target, header.store_id.as_deref())?;
    }
    let mut bytes = log::header_line(header);
    for p in state.partners.values() {
        log::encode_line_into(&mut bytes, &log::Record::put(p.revision, p.clone()));
    }
    write_new_copy(dir, &listed, header.generation, &bytes, witness)
}

/// The end of the last complete line among the first `len` bytes of `file`.
fn last_line_boundary(file: &mut File, path: &Path, len: u64) -> Result<u64> {
    // The usual case, a copy that ends with a whole line, costs a one-byte read, not a chunk.
    if len > 0 && files::read_at(file, path, len - 1, 1)? == b"\n" {
        return Ok(len);
    }
    const CHUNK: u64 = 1 << 16;
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let bytes = files::read_at(file, path, start, (end - start) as usize)?;
        if let Some(i) = bytes.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Whether the first `len` bytes of the replica equal the central file's, compared in chunks.
fn same_prefix(replica: &mut File, replica_path: &Path, source: &mut File, source_path: &Path, len: u64) -> Result<bool> {
    const CHUNK: usize = 1 << 16;
    replica.seek(SeekFrom::Start(0)).map_err(|e| Error::io(replica_path, e))?;
    source.seek(SeekFrom::Start(0)).map_err(|e| Error::io(source_path, e))?;
    let (mut a, mut b) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        replica.read_exact(&mut a[..n]).map_err(|e| Error::io(replica_path, e))?;
        source.read_exact(&mut b[..n]).map_err(|e| Error::io(source_path, e))?;
        if a[..n] != b[..n] {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

/// Whether the central file, read beyond what the view has read, holds the replica's `len` bytes
/// (false if it is shorter).
fn central_holds(replica: &mut File, replica_path: &Path, source: &mut File, source_path: &Path, len: u64) -> Result<bool> {
    match same_prefix(replica, replica_path, source, source_path, len) {
        Err(Error::StoreIo { path, source: e }) if e.kind() == ErrorKind::UnexpectedEof && path == source_path => Ok(false),
        other => other,
    }
}

/// A replica whose header names another store belongs to another store's configuration: two
/// stores configured with one replica folder must not silently serve each other's partners.
fn refuse_other_store(replica: &mut File, path: &Path, store_id: Option<&str>) -> Result<()> {
    let Some(first) = first_line(replica, path)? else { return Ok(()) };
    let Ok(chunk) = log::split_lines(path, 0, &first) else { return Ok(()) };
    let Some(payload) = chunk.lines.first() else { return Ok(()) };
    let Ok(header) = log::parse_header(path, payload) else { return Ok(()) };
    match (header.store_id.as_deref(), store_id) {
        (Some(theirs), Some(ours)) if theirs != ours => Err(Error::StoreMismatch {
            path: path.to_owned(),
            problem: format!("is a replica of store {theirs}, not of store {ours}: two stores are configured with one replica folder"),
            fix: "Give each store its own replica folder (XMPPFED_REPLICA), or delete this replica if its store is gone. Nothing was written.".into(),
        }),
        _ => Ok(()),
    }
}

fn first_line(f: &mut File, path: &Path) -> Result<Option<Vec<u8>>> {
    const MAX_HEADER: u64 = 64 * 1024;
    f.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::new();
    f.take(MAX_HEADER).read_to_end(&mut head).map_err(|e| Error::io(path, e))?;
    Ok(head.iter().position(|&b| b == b'\n').map(|i| head[..=i].to_vec()))
}

fn read_range(source: &mut File, path: &Path, from: u64, to: u64) -> Result<Vec<u8>> {
    let bytes = files::read_at(source, path, from, (to - from) as usize);
    match bytes {
        Err(Error::StoreIo { source: e, .. }) if e.kind() == ErrorKind::UnexpectedEof => {
            Err(Error::corrupt(path, "the file is shorter than what was read from it a moment ago"))
        }
        other => other,
    }
}

/// Other copies in the replica folder are older ones: delete them (best effort; on Windows one
/// that a reader holds open stays "delete pending" until it closes it, and readers skip it).
fn remove_other_copies(dir: &Path, keep: u64) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = match log::generation_of(name) {
            Some(g) => g != keep,
            None => name.starts_with("partners.") && name.contains(".log.tmp-"),
        };
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}
