//! A view of one log file that keeps an open handle up to date cheaply: when nothing changed, a
//! refresh is one `stat`; when other processes appended, it reads only the new bytes; only when
//! the file was replaced (compaction, or a replica rewrite) does it read everything again.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::PathBuf;

use super::log::{self, Header, Record};
use super::state::State;
use crate::error::{Error, Result};

/// Tells two files at one path apart (a rename replaces the file, not its contents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

fn file_id(meta: &fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        FileId(meta.dev(), meta.ino())
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::MetadataExt;
        FileId(meta.creation_time(), 0)
    }
}

pub struct LogView {
    pub path: PathBuf,
    reader: Option<File>,
    id: Option<FileId>,
    /// End of the last complete line read.
    offset: u64,
    pub header: Option<Header>,
    pub state: State,
    /// Whether an incomplete line follows `offset` (seen at the last refresh).
    torn_tail: bool,
}

impl LogView {
    pub fn new(path: PathBuf) -> LogView {
        LogView { path, reader: None, id: None, offset: 0, header: None, state: State::default(), torn_tail: false }
    }

    /// Bring the state up to date with the file.
    pub fn refresh(&mut self) -> Result<()> {
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return self.missing(),
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let id = file_id(&meta);
        if self.id != Some(id) || meta.len() < self.offset {
            return self.reload();
        }
        if meta.len() == self.offset {
            self.torn_tail = false;
            return Ok(());
        }
        let reader = self.reader.as_mut().expect("a loaded view has a reader");
        let bytes = log::read_from(reader, &self.path, self.offset)?;
        self.consume(&bytes)
    }

    fn missing(&mut self) -> Result<()> {
        log::check_folder_reachable(&self.path)?;
        if self.header.is_some() {
            // Never start empty behind the admin's back: the list existed a moment ago.
            return Err(Error::corrupt(&self.path, "the store file has disappeared since it was read"));
        }
        Ok(())
    }

    fn reload(&mut self) -> Result<()> {
        let mut file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        // The identity of the file actually read, not of whatever the path named a moment ago: a
        // compaction may rename a new file into place in between. Holding `file` open also keeps
        // its inode from being reused for another file while this view remembers it.
        let id = file_id(&file.metadata().map_err(|e| Error::io(&self.path, e))?);
        let bytes = log::read_from(&mut file, &self.path, 0)?;
        if bytes.is_empty() {
            return Err(Error::corrupt(&self.path, "the file is empty (a store file always starts with a header)"));
        }
        let chunk = log::split_lines(&self.path, 0, &bytes)?;
        let Some(first) = chunk.lines.first() else {
            return Err(Error::corrupt(&self.path, "the file ends before its header is complete"));
        };
        let header = log::parse_header(&self.path, first)?;
        let mut state = State::default();
        state.seq = header.seq;
        for payload in &chunk.lines[1..] {
            state.apply(log::parse_record(&self.path, payload)?);
        }
        self.header = Some(header);
        self.state = state;
        self.offset = chunk.consumed;
        self.torn_tail = chunk.torn_tail;
        self.reader = Some(file);
        self.id = Some(id);
        Ok(())
    }

    fn consume(&mut self, bytes: &[u8]) -> Result<()> {
        let chunk = log::split_lines(&self.path, self.offset, bytes)?;
        let records = chunk.lines.iter().map(|p| log::parse_record(&self.path, p)).collect::<Result<Vec<Record>>>()?;
        // Only now, with every new record readable, change the state: a reader never half-applies.
        for r in records {
            self.state.apply(r);
        }
        self.offset += chunk.consumed;
        self.torn_tail = chunk.torn_tail;
        Ok(())
    }

    /// For the writer holding the store lock: refresh, then cut off what a crashed writer left
    /// half-written, and create the file if the store is new.
    pub fn prepare_for_append(&mut self) -> Result<()> {
        self.refresh()?;
        if self.header.is_none() {
            let generation = log::new_generation();
            log::write_atomically(&self.path, &log::header_line(&generation, 0), true)?;
            return self.refresh();
        }
        if self.torn_tail {
            let f = OpenOptions::new().write(true).open(&self.path).map_err(|e| Error::io(&self.path, e))?;
            f.set_len(self.offset).map_err(|e| Error::io(&self.path, e))?;
            f.sync_all().map_err(|e| Error::io(&self.path, e))?;
            self.torn_tail = false;
        }
        Ok(())
    }

    /// Append one record durably (write + fdatasync) and apply it. Call after `prepare_for_append`
    /// under the store lock.
    pub fn append(&mut self, record: Record) -> Result<()> {
        let line = log::encode_line(&record);
        let mut f = OpenOptions::new().append(true).open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        if let Err(e) = f.write_all(&line).and_then(|_| f.sync_data()) {
            // Leave no partial line behind for the next reader (best effort; the next writer
            // would truncate it anyway).
            let _ = f.set_len(self.offset);
            return Err(Error::io(&self.path, e));
        }
        self.offset += line.len() as u64;
        self.state.apply(record);
        // Our own write must not look like a foreign change at the next refresh.
        if let Ok(meta) = f.metadata() {
            if self.id != Some(file_id(&meta)) {
                self.id = None;
            }
        }
        Ok(())
    }

    /// Rewrite the file as a header plus one record per partner, atomically (compaction). The
    /// state is already in memory, so the new file is not read back: only its identity is taken.
    pub fn rewrite(&mut self) -> Result<()> {
        let header = Header {
            format: log::FORMAT_NAME.into(),
            version: log::FORMAT_VERSION,
            generation: log::new_generation(),
            seq: self.state.seq,
        };
        let mut bytes = log::encode_line(&header);
        for p in self.state.partners.values() {
            bytes.extend(log::encode_line(&Record { seq: p.revision, change: log::Change::Put(p.clone()) }));
        }
        log::write_atomically(&self.path, &bytes, true)?;
        let reader = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let meta = reader.metadata().map_err(|e| Error::io(&self.path, e))?;
        self.id = Some(file_id(&meta));
        self.reader = Some(reader);
        self.offset = bytes.len() as u64;
        self.header = Some(header);
        self.torn_tail = false;
        self.state.records = self.state.partners.len() as u64;
        Ok(())
    }
}
