//! A small safe wrapper over libpq (through `pq-sys`): the only `unsafe` of the PostgreSQL store.
//!
//! What it offers: parse a connection string ([`parse_conninfo`]), connect ([`Conn::connect`]),
//! run one statement with text parameters ([`Conn::exec`]) and read its rows as text ([`Rows`]).
//! libpq does the rest of what DBAs expect: TLS (`sslmode=verify-full`), SCRAM, GSSAPI, password
//! files (`~/.pgpass`, `passfile=`) and service files (`service=`), and the `PG*` variables.
//!
//! Secrets: the caller's connection string is handed to libpq and otherwise kept only to be
//! removed from messages. Nothing here builds text from the connection string except
//! [`Conninfo::display`], which leaves out every secret keyword.
//!
//! Safety, in one place: every libpq object is owned by exactly one Rust value (`Conn` owns a
//! `PGconn`, `Rows` a `PGresult`, `parse_conninfo` frees its option array before it returns) and
//! released in `Drop`. Strings from libpq are copied (or borrowed for no longer than their owner)
//! before the owner goes. A `Conn` is used by one thread at a time (`&mut self`), which is what
//! libpq requires of a connection; it may move between threads (`Send`), which libpq allows.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::ptr::{self, NonNull};

use pq_sys as pq;

/// Keywords whose values are secrets: never shown, removed from every message.
const SECRET_KEYWORDS: &[&str] = &["password", "sslpassword"];

/// An error from libpq or the server, with any secret of the connection string removed.
#[derive(Debug, Clone)]
pub struct PqError {
    /// The SQLSTATE code (`40001`, `23505`, ...), if the server sent one.
    pub sqlstate: Option<String>,
    pub message: String,
    /// The connection is gone (server stopped, network down, failover): drop it and reconnect.
    pub connection_lost: bool,
}

/// A parsed connection string: the keywords it sets (libpq's own parser, so every form libpq
/// takes is accepted: `postgresql://` URIs and `key=value` lists).
#[derive(Clone)]
pub struct Conninfo {
    text: String,
    set: Vec<(String, String)>,
}

impl std::fmt::Debug for Conninfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

/// Parse `text` with libpq's parser. The error names the problem without the text itself (libpq's
/// own message quotes fragments of the string, which may be part of a password).
pub fn parse_conninfo(text: &str) -> Result<Conninfo, String> {
    let c_text = CString::new(text).map_err(|_| "the connection string contains a NUL character".to_owned())?;
    let mut errmsg: *mut c_char = ptr::null_mut();
    // SAFETY: `c_text` is a valid C string; libpq returns an array it allocated (freed below with
    // PQconninfoFree) or NULL with `errmsg` set to a string it allocated (freed with PQfreemem).
    let options = unsafe { pq::PQconninfoParse(c_text.as_ptr(), &mut errmsg) };
    if options.is_null() {
        let message = if errmsg.is_null() {
            "out of memory".to_owned()
        } else {
            // SAFETY: a NUL-terminated string from libpq, copied before it is freed.
            let m = unsafe { CStr::from_ptr(errmsg) }.to_string_lossy().into_owned();
            unsafe { pq::PQfreemem(errmsg.cast::<c_void>()) };
            m
        };
        return Err(without_quoted(message.trim()));
    }
    let mut set = Vec::new();
    // SAFETY: the array ends with an entry whose keyword is NULL; every non-NULL string in it is a
    // valid C string that lives until PQconninfoFree.
    unsafe {
        let mut entry = options;
        while !(*entry).keyword.is_null() {
            if !(*entry).val.is_null() {
                let key = CStr::from_ptr((*entry).keyword).to_string_lossy().into_owned();
                let value = CStr::from_ptr((*entry).val).to_string_lossy().into_owned();
                set.push((key, value));
            }
            entry = entry.add(1);
        }
        pq::PQconninfoFree(options);
    }
    Ok(Conninfo { text: text.to_owned(), set })
}

/// libpq's parse errors quote the offending fragment (`missing "=" after "..."`): the fragment
/// may be part of a password, so every quoted part is replaced.
fn without_quoted(message: &str) -> String {
    let mut out = String::new();
    for (i, part) in message.split('"').enumerate() {
        out.push_str(if i % 2 == 1 { "\"…\"" } else { part });
    }
    out
}

impl Conninfo {
    fn get(&self, key: &str) -> Option<&str> {
        self.set.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The connection as a `postgresql://` URI without any secret: what messages, status and
    /// `-Verbose` show (`postgresql://user@host:port/dbname`, plus `?service=...` if one is used).
    pub fn display(&self) -> String {
        let mut s = String::from("postgresql://");
        if let Some(user) = self.get("user") {
            s.push_str(user);
            s.push('@');
        }
        s.push_str(self.get("host").or_else(|| self.get("hostaddr")).unwrap_or(""));
        if let Some(port) = self.get("port") {
            s.push(':');
            s.push_str(port);
        }
        s.push('/');
        s.push_str(self.get("dbname").unwrap_or(""));
        let extras: Vec<String> = ["service", "sslmode"].iter().filter_map(|k| self.get(k).map(|v| format!("{k}={v}"))).collect();
        if !extras.is_empty() {
            s.push('?');
            s.push_str(&extras.join("&"));
        }
        s
    }

    /// `message` with every secret of this connection string replaced.
    pub fn scrub(&self, message: &str) -> String {
        let mut out = message.to_owned();
        for key in SECRET_KEYWORDS {
            if let Some(secret) = self.get(key).filter(|v| !v.is_empty()) {
                out = out.replace(secret, "********");
            }
        }
        out
    }
}

/// An open connection. Closed when dropped.
pub struct Conn {
    raw: NonNull<pq::PGconn>,
    info: Conninfo,
}

// SAFETY: libpq allows a connection to be used from any thread, one thread at a time; `Conn` is
// used only through `&mut self` (and dropped once).
unsafe impl Send for Conn {}

/// libpq prints server notices (`relation ... already exists, skipping`) to stderr by default:
/// a library must not write to its host's stderr.
extern "C" fn ignore_notice(_arg: *mut c_void, _message: *const c_char) {}

impl Conn {
    /// Connect with `info`, after the `defaults` (keyword, value) which the connection string
    /// overrides (e.g. a connect timeout, so that an unreachable server fails in bounded time).
    pub fn connect(info: &Conninfo, defaults: &[(&str, &str)]) -> Result<Conn, PqError> {
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for (k, v) in defaults {
            keys.push(CString::new(*k).expect("a keyword has no NUL"));
            values.push(CString::new(*v).expect("a default has no NUL"));
        }
        // Last, with expand_dbname: the caller's string (a URI or keyword list) overrides the
        // defaults before it.
        keys.push(CString::new("dbname").unwrap());
        values.push(CString::new(info.text.as_str()).map_err(|_| lost("the connection string contains a NUL character"))?);
        let mut key_ptrs: Vec<*const c_char> = keys.iter().map(|k| k.as_ptr()).collect();
        let mut value_ptrs: Vec<*const c_char> = values.iter().map(|v| v.as_ptr()).collect();
        key_ptrs.push(ptr::null());
        value_ptrs.push(ptr::null());
        // SAFETY: two NULL-terminated arrays of valid C strings that outlive the call.
        let raw = unsafe { pq::PQconnectdbParams(key_ptrs.as_ptr(), value_ptrs.as_ptr(), 1) };
        let raw = NonNull::new(raw).ok_or_else(|| lost("libpq could not allocate a connection (out of memory)"))?;
        let conn = Conn { raw, info: info.clone() };
        // SAFETY: a live connection.
        let status = unsafe { pq::PQstatus(conn.raw.as_ptr()) };
        if status != pq::CONNECTION_OK {
            return Err(PqError { sqlstate: None, message: conn.last_error(), connection_lost: true });
        }
        // SAFETY: a live connection and a function that ignores its arguments.
        unsafe { pq::PQsetNoticeProcessor(conn.raw.as_ptr(), Some(ignore_notice), ptr::null_mut()) };
        Ok(conn)
    }

    /// The connection's last error message, scrubbed.
    fn last_error(&self) -> String {
        // SAFETY: a live connection; the message is copied before any other libpq call.
        let m = unsafe { CStr::from_ptr(pq::PQerrorMessage(self.raw.as_ptr())) }.to_string_lossy().into_owned();
        self.info.scrub(m.trim())
    }

    fn is_bad(&self) -> bool {
        // SAFETY: a live connection.
        let status = unsafe { pq::PQstatus(self.raw.as_ptr()) };
        status == pq::CONNECTION_BAD
    }

    /// Run one statement with text parameters (`$1`, ...; `None` is SQL NULL) and text results.
    pub fn exec(&mut self, sql: &str, params: &[Option<&str>]) -> Result<Rows, PqError> {
        let c_sql = CString::new(sql).expect("SQL text has no NUL");
        let c_params = params
            .iter()
            .map(|p| p.map(CString::new).transpose())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| PqError { sqlstate: None, message: "a value contains a NUL character".into(), connection_lost: false })?;
        let ptrs: Vec<*const c_char> = c_params.iter().map(|p| p.as_ref().map_or(ptr::null(), |c| c.as_ptr())).collect();
        // SAFETY: a live connection; `ptrs` holds `params.len()` pointers, each NULL or a valid C
        // string in `c_params`, which outlives the call; NULL types, lengths and formats mean
        // "inferred, text".
        let raw = unsafe {
            pq::PQexecParams(
                self.raw.as_ptr(),
                c_sql.as_ptr(),
                ptrs.len() as c_int,
                ptr::null(),
                ptrs.as_ptr(),
                ptr::null(),
                ptr::null(),
                0,
            )
        };
        let Some(raw) = NonNull::new(raw) else {
            return Err(PqError { sqlstate: None, message: self.last_error(), connection_lost: true });
        };
        let rows = Rows { raw };
        // SAFETY: a live result.
        let status = unsafe { pq::PQresultStatus(rows.raw.as_ptr()) };
        if status == pq::PGRES_COMMAND_OK || status == pq::PGRES_TUPLES_OK {
            return Ok(rows);
        }
        // SAFETY: a live result; the strings are copied before it is cleared.
        let (sqlstate, message) = unsafe {
            let code = pq::PQresultErrorField(rows.raw.as_ptr(), b'C' as c_int);
            let code = (!code.is_null()).then(|| CStr::from_ptr(code).to_string_lossy().into_owned());
            let message = CStr::from_ptr(pq::PQresultErrorMessage(rows.raw.as_ptr())).to_string_lossy().into_owned();
            (code, message)
        };
        let message = if message.trim().is_empty() { self.last_error() } else { self.info.scrub(message.trim()) };
        // Class 08 (connection exception) and 57P01-57P03 (the server shutting down or not yet
        // accepting) mean: this connection is done, the next call connects again.
        let connection_lost = self.is_bad()
            || sqlstate.as_deref().map_or(false, |c| c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03"));
        Err(PqError { sqlstate, message, connection_lost })
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the connection is owned by this value and not used again.
        unsafe { pq::PQfinish(self.raw.as_ptr()) }
    }
}

fn lost(message: &str) -> PqError {
    PqError { sqlstate: None, message: message.to_owned(), connection_lost: true }
}

/// The rows of one statement, as text.
pub struct Rows {
    raw: NonNull<pq::PGresult>,
}

impl Rows {
    pub fn len(&self) -> usize {
        // SAFETY: a live result.
        unsafe { pq::PQntuples(self.raw.as_ptr()) }.max(0) as usize
    }

    /// The value at (`row`, `column`) as text, `None` for SQL NULL. Panics outside the result.
    pub fn get(&self, row: usize, column: usize) -> Option<&str> {
        assert!(row < self.len(), "row {row} is outside the result");
        // SAFETY: a live result; libpq checks the column (NULL/empty for an invalid one); the
        // returned string lives as long as the result, which `&self` borrows.
        unsafe {
            if pq::PQgetisnull(self.raw.as_ptr(), row as c_int, column as c_int) != 0 {
                return None;
            }
            let v = pq::PQgetvalue(self.raw.as_ptr(), row as c_int, column as c_int);
            (!v.is_null()).then(|| CStr::from_ptr(v).to_str().unwrap_or(""))
        }
    }
}

impl Drop for Rows {
    fn drop(&mut self) {
        // SAFETY: the result is owned by this value and not used again.
        unsafe { pq::PQclear(self.raw.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_messages_never_hold_the_password() {
        for text in ["host=db.example port=5433 dbname=fed user=admin password=s3cr3t-pw sslmode=verify-full", "postgresql://admin:s3cr3t-pw@db.example:5433/fed?sslmode=verify-full"] {
            let info = parse_conninfo(text).unwrap();
            assert_eq!(info.display(), "postgresql://admin@db.example:5433/fed?sslmode=verify-full");
            assert_eq!(info.scrub("failed for s3cr3t-pw"), "failed for ********");
        }
        let e = parse_conninfo("host=x password=s3cr3t junk").unwrap_err();
        assert!(!e.contains("s3cr3t") && !e.contains("junk"), "{e}");
    }
}
