//! The few facts about the running process that the standard library does not give: who it
//! runs as and on which machine, for the trust rule and the lock holder's note. The only
//! `unsafe` outside `ffi`: plain libc calls with no pointers kept.

/// The effective user id (Unix).
#[cfg(unix)]
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The user name, for messages: `$USER` / `%USERNAME%`, else the numeric id.
pub fn user_name() -> String {
    for var in ["USER", "USERNAME", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    #[cfg(unix)]
    return format!("uid {}", effective_uid());
    #[cfg(not(unix))]
    return "unknown user".into();
}

/// This machine's name, for messages.
pub fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
        // truncates, and the length is bounded below.
        let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) } == 0;
        if ok {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown host".into())
}
