//! The local replica: a machine-local copy of the central log, byte for byte, so that
//! `-LocalStore` reads work when the central store is unreachable.
//!
//! A refresh appends only what the central log gained since the last refresh (whole lines, so a
//! reader of the replica sees the state after some commit, never half of one), so its cost does
//! not grow with the list. When the central file was rewritten (a new generation) or the replica
//! looks damaged, the replica is replaced atomically by a full copy. The replica is a cache: it is
//! not fsynced; after a power loss it is recopied.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::log;
use crate::error::{Error, Result};

/// Bring the replica file at `replica` up to date with the central log at `central`.
pub fn mirror(central: &Path, replica: &Path) -> Result<()> {
    let mut source = match File::open(central) {
        Ok(f) => f,
        // A store nobody has written to yet: nothing to copy (if its folder is there at all).
        Err(e) if e.kind() == ErrorKind::NotFound => return log::check_folder_reachable(central),
        Err(e) => return Err(Error::io(central, e)),
    };
    // Everything is read through this one handle, so a concurrent compaction (which renames a
    // new file into place) cannot mix two generations.
    let header = first_line(&mut source, central)?;
    if let Some(have) = same_generation_length(replica, &header)? {
        let tail = log::read_from(&mut source, central, have)?;
        let complete = log::split_lines(central, have, &tail)?.consumed as usize;
        if complete > 0 {
            let mut f = OpenOptions::new().append(true).open(replica).map_err(|e| Error::io(replica, e))?;
            f.write_all(&tail[..complete]).map_err(|e| Error::io(replica, e))?;
        }
        return Ok(());
    }
    let all = log::read_from(&mut source, central, 0)?;
    let complete = log::split_lines(central, 0, &all)?.consumed as usize;
    log::write_atomically(replica, &all[..complete], false)
}

/// The replica's length if it holds a copy of the same central generation and ends on a whole line.
fn same_generation_length(replica: &Path, central_header: &[u8]) -> Result<Option<u64>> {
    let mut f = match File::open(replica) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(replica, e)),
    };
    let len = f.metadata().map_err(|e| Error::io(replica, e))?.len();
    if central_header.is_empty() || first_line(&mut f, replica)? != central_header {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(len - 1)).and_then(|_| f.read_exact(&mut last)).map_err(|e| Error::io(replica, e))?;
    Ok((last[0] == b'\n').then_some(len))
}

/// The first line of a file including its newline; empty if the file has no complete first line.
fn first_line(f: &mut File, path: &Path) -> Result<Vec<u8>> {
    const MAX_HEADER: usize = 64 * 1024;
    f.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, e))?;
    let mut line = Vec::new();
    let mut buf = [0u8; 512];
    while line.len() < MAX_HEADER {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(Vec::new());
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&buf[..=i]);
            return Ok(line);
        }
        line.extend_from_slice(&buf[..n]);
    }
    Ok(Vec::new())
}
