//! Linux: lets the watch of [`super::watch`] tell that none of its descriptors became ready with
//! no system call at all. A one-shot `poll` of each descriptor is armed in an io_uring whose
//! rings are mapped into this process, set up so that the kernel marks the ring the moment a
//! descriptor becomes ready: "nothing happened" is then two loads from memory.
//!
//! The ring defers its work to the thread that set it up (`IORING_SETUP_DEFER_TASKRUN`, Linux
//! 6.1; with `SINGLE_ISSUER`, which it requires) and says so in its flags (`TASKRUN_FLAG`): when a
//! polled descriptor becomes ready, the wakeup, which runs inside the call that made the change
//! (a writer's `write`, `rename`, a `mount`), queues the poll's completion and sets
//! `IORING_SQ_TASKRUN` in the ring's shared flags with a full barrier, before that call returns.
//! Any thread that looks after the change was made sees the flag, however it learnt of the
//! change: reads are exactly as fresh as with a `poll` per read. Nothing else happens until the
//! ring's own thread enters the kernel for it: unlike the default mode, no thread is interrupted
//! while the ring is in use (checked: an `epoll_wait` on that thread ran to its timeout with the
//! flag set). Closing a ring is different: the kernel's teardown, 5-15 ms later, queues work on
//! the thread that set it up, which makes one wait of that thread that the kernel does not
//! restart (`epoll_wait`, `sigtimedwait`) return `EINTR`, as a signal would. So a ring is not
//! closed when its handle is: its thread removes its polls and keeps it for the next handle that
//! thread watches ([`SPARES`]), and spare rings are closed when the thread ends. A ring dropped on
//! another thread (its handle closed there, or the ring moving to a thread that reads) cannot be
//! kept, and is closed.
//!
//! Only the ring's thread can take the completions and arm the polls again, so after a change the
//! other threads ask the kernel as before until it does; a ring whose thread reads no more (or
//! ended) is set up again by a thread that asks [`MOVE_AFTER`] times in a row.
//!
//! The ring polls a `/proc/self/mounts` of its own: polling that file takes the change it reports
//! (the file remembers the mount table it last reported), so a ring sharing the watch's would
//! race with the watch's own `poll` for it; with its own, each sees every change after it was
//! opened.
//!
//! Where such a ring cannot be set up (Linux before 6.1, `kernel.io_uring_disabled`, a
//! container's seccomp filter), there is no ring and the watch polls as it always did.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

/// Reads in a row by one other thread, with the ring marked and not re-armed by its own thread,
/// after which that thread sets up a new ring for itself: soon enough that a host which moved its
/// work to another thread (or whose thread ended) gets the ring back, seldom enough that threads
/// taking turns on one handle do not rebuild it at every change (a rebuild costs about eight
/// system calls; a read that asks, one).
pub const MOVE_AFTER: u32 = 8;

/// Rings a thread keeps for its next watches (see the module's documentation): a handle closed
/// and another opened, or a few stores watched in turn, need no new ring.
const SPARES: usize = 4;

thread_local! {
    static SPARE: std::cell::RefCell<Vec<Uring>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What a completion was for: the `user_data` of its submission.
#[derive(Clone, Copy)]
enum Polled {
    Events = 1,
    Mounts = 2,
    /// The removal of an armed poll, when the ring is dropped.
    Removal = 3,
}

/// One watch's ring. A child of `fork` shares the mapping with its parent, and taking the
/// completions there would hide them from the parent: in a child the ring is only dropped.
pub struct PollRing {
    /// Taken out only when the ring is dropped, to be kept as a spare.
    uring: std::mem::ManuallyDrop<Uring>,
    /// The descriptors polled, by [`Polled`] kind: the watch's inotify queue, the ring's own
    /// mount table.
    events: RawFd,
    mounts: File,
    /// Which polls are armed and not yet completed.
    armed_events: bool,
    armed_mounts: bool,
    /// The thread (see [`super::sys::this_thread`]) that set the ring up: the only one the
    /// kernel lets submit to it and run its work.
    owner: u64,
    /// The last thread other than the owner that asked, and how many times in a row.
    other: (u64, u32),
    /// A submission was not wholly taken (see [`PollRing::submit`]).
    broken: bool,
}

/// An io_uring of four entries set up for [`PollRing`]: its descriptor and its mapped queues.
struct Uring {
    ring: OwnedFd,
    /// The single mapping of both rings (IORING_FEAT_SINGLE_MMAP), and its length.
    rings: *mut u8,
    rings_len: usize,
    sqes: *mut Sqe,
    sqes_len: usize,
    sq_tail: *const AtomicU32,
    sq_mask: u32,
    sq_array: *mut u32,
    sq_flags: *const AtomicU32,
    cq_head: *const AtomicU32,
    cq_tail: *const AtomicU32,
    cq_mask: u32,
    cqes: *const Cqe,
    /// The fork count (see [`super::sys::forks`]) when it was set up: a child's copy of a spare
    /// is its parent's ring.
    forks: u64,
}

// SAFETY: the mapping belongs to the ring's descriptor, not to a thread; the watch that holds the
// ring is only used by one thread at a time (the store's handle is `&mut`), and what only the
// owner may do is checked against the calling thread.
unsafe impl Send for PollRing {}

impl Drop for Uring {
    fn drop(&mut self) {
        // SAFETY: the mappings made in `set_up`, not used after this; the descriptor is closed by
        // OwnedFd.
        unsafe {
            libc::munmap(self.sqes.cast(), self.sqes_len);
            libc::munmap(self.rings.cast(), self.rings_len);
        }
    }
}

impl PollRing {
    /// A ring polling `events` (the inotify queue, for input) and the mount table (for any
    /// change from now on), owned by this thread; `None` where such a ring is refused. Nothing is
    /// armed until [`PollRing::arm`].
    pub fn new(events: RawFd) -> Option<PollRing> {
        let spare = SPARE.try_with(|spares| spares.borrow_mut().pop()).ok().flatten();
        let uring = match spare {
            Some(uring) if uring.forks == super::sys::forks() => uring,
            _ => Uring::set_up()?,
        };
        // Opened once a ring is there: where io_uring is refused, nothing is opened for nothing.
        let Ok(mounts) = File::open("/proc/self/mounts") else {
            keep_spare(uring);
            return None;
        };
        Some(PollRing {
            uring: std::mem::ManuallyDrop::new(uring),
            events,
            mounts,
            armed_events: false,
            armed_mounts: false,
            owner: super::sys::this_thread(),
            other: (0, 0),
            broken: false,
        })
    }
}

impl Uring {
    /// A new ring with the flags of the module's documentation; `None` where refused.
    fn set_up() -> Option<Uring> {
        // The poll mask's halves would need swapping on a big-endian kernel (liburing does).
        if cfg!(target_endian = "big") {
            return None;
        }
        // SAFETY: zeroed parameters are the documented request for a default ring.
        let mut params: Params = unsafe { std::mem::zeroed() };
        params.flags = SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_TASKRUN_FLAG;
        // SAFETY: plain system call with a valid parameter block; the descriptor is owned below.
        let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4u32, &mut params as *mut Params) };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor (close-on-exec) nothing else owns.
        let ring = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        if params.features & FEAT_SINGLE_MMAP == 0 {
            return None;
        }
        let sq_len = params.sq_off.array as usize + params.sq_entries as usize * 4;
        let cq_len = params.cq_off.cqes as usize + params.cq_entries as usize * std::mem::size_of::<Cqe>();
        let rings_len = sq_len.max(cq_len);
        let rings = map(&ring, rings_len, OFF_SQ_RING)?;
        let sqes_len = params.sq_entries as usize * std::mem::size_of::<Sqe>();
        let Some(sqes) = map(&ring, sqes_len, OFF_SQES) else {
            // SAFETY: the mapping made just above, not used after this.
            unsafe { libc::munmap(rings.cast(), rings_len) };
            return None;
        };
        // SAFETY: every offset is the kernel's own, inside the mapping of the length it implies.
        let at = |offset: u32| unsafe { rings.add(offset as usize) };
        // SAFETY: as above; the masks are written by the kernel before setup returns.
        let (sq_mask, cq_mask) = unsafe { (*at(params.sq_off.ring_mask).cast::<u32>(), *at(params.cq_off.ring_mask).cast::<u32>()) };
        Some(Uring {
            ring,
            rings,
            rings_len,
            sqes: sqes.cast(),
            sqes_len,
            sq_tail: at(params.sq_off.tail).cast(),
            sq_mask,
            sq_array: at(params.sq_off.array).cast(),
            sq_flags: at(params.sq_off.flags).cast(),
            cq_head: at(params.cq_off.head).cast(),
            cq_tail: at(params.cq_off.tail).cast(),
            cq_mask,
            cqes: at(params.cq_off.cqes).cast(),
            forks: super::sys::forks(),
        })
    }
}

impl PollRing {
    fn mine(&self) -> bool {
        self.owner == super::sys::this_thread() && self.in_parent()
    }

    fn in_parent(&self) -> bool {
        self.uring.forks == super::sys::forks()
    }

    /// Whether the kernel has neither queued a completion (the flag) nor posted one since the last
    /// were taken.
    fn quiet_ring(&self) -> bool {
        // SAFETY: pointers into the live mapping; the kernel sets the flag with a full barrier
        // (only while the ring's thread is not running its work, which needs `&mut self`) and
        // publishes the tail with release.
        unsafe {
            (*self.uring.sq_flags).load(Ordering::Acquire) & SQ_TASKRUN == 0
                && (*self.uring.cq_tail).load(Ordering::Acquire) == (*self.uring.cq_head).load(Ordering::Relaxed)
        }
    }

    /// Whether both polls are armed and neither descriptor has become ready since: the kernel has
    /// neither queued a completion (the flag) nor posted one. No system call; any thread. (A read
    /// vouched for ends another thread's run of reads that asked: see [`MOVE_AFTER`].)
    pub fn quiet(&mut self) -> bool {
        let quiet = self.armed_events && self.armed_mounts && self.in_parent() && self.quiet_ring();
        if quiet {
            self.other = (0, 0);
        }
        quiet
    }

    /// On the ring's thread: have the kernel post the completions it queued, and take every one
    /// posted (the polls that completed are no longer armed). What became ready is for the
    /// watch's own `poll` to tell. Returns false if the kernel refused a poll (other than
    /// cancelling it) or this call: the ring would fail at every read. Elsewhere: nothing.
    pub fn take(&mut self) -> bool {
        if !self.mine() {
            return true;
        }
        // SAFETY: pointers into the live mapping; plain system call on our own ring.
        unsafe {
            if (*self.uring.sq_flags).load(Ordering::Acquire) & SQ_TASKRUN != 0
                && libc::syscall(libc::SYS_io_uring_enter, self.uring.ring.as_raw_fd(), 0u32, 0u32, ENTER_GETEVENTS, std::ptr::null::<u8>(), 0usize) < 0
            {
                return false;
            }
        }
        let mut usable = true;
        // SAFETY: pointers into the live mapping; entries below the tail are complete (acquire).
        unsafe {
            let tail = (*self.uring.cq_tail).load(Ordering::Acquire);
            let mut head = (*self.uring.cq_head).load(Ordering::Relaxed);
            while head != tail {
                let cqe = self.uring.cqes.add((head & self.uring.cq_mask) as usize).read();
                // A removal finds no poll where one completed meanwhile: not a refusal.
                usable &= cqe.res >= 0 || cqe.res == -libc::ECANCELED || cqe.user_data == Polled::Removal as u64;
                if cqe.user_data == Polled::Events as u64 {
                    self.armed_events = false;
                } else if cqe.user_data == Polled::Mounts as u64 {
                    self.armed_mounts = false;
                }
                head = head.wrapping_add(1);
            }
            (*self.uring.cq_head).store(head, Ordering::Release);
        }
        usable
    }

    /// Whether this thread, not the ring's, should set up a new ring for itself (see
    /// [`MOVE_AFTER`]); counts its asking.
    pub fn should_move(&mut self) -> bool {
        let me = super::sys::this_thread();
        if me == self.owner {
            self.other = (0, 0);
            return false;
        }
        self.other = if self.other.0 == me { (me, self.other.1 + 1) } else { (me, 1) };
        self.other.1 >= MOVE_AFTER
    }

    /// On the ring's thread, after [`PollRing::take`]: arm the polls that are not armed. A poll
    /// armed on a descriptor that is ready already completes at once, so whatever became ready
    /// before this call shows too. False if the kernel refused: the ring cannot be relied on.
    /// Elsewhere: nothing (the kernel lets only the ring's thread submit).
    pub fn arm(&mut self) -> bool {
        if !self.mine() {
            return true;
        }
        let mut polls = Vec::with_capacity(2);
        if !self.armed_events {
            polls.push(Sqe::poll(self.events, libc::POLLIN, Polled::Events));
        }
        if !self.armed_mounts {
            polls.push(Sqe::poll(self.mounts.as_raw_fd(), libc::POLLPRI, Polled::Mounts));
        }
        let accepted = self.submit(&polls);
        for sqe in &polls[..accepted] {
            if sqe.user_data == Polled::Events as u64 {
                self.armed_events = true;
            } else {
                self.armed_mounts = true;
            }
        }
        accepted == polls.len()
    }

    /// Submit `sqes` (at most the four entries of the ring) and run the ring's queued work; how
    /// many the kernel took. Entries it did not take would be taken by the next submission in
    /// their place: the ring is then `broken` and submits nothing more.
    fn submit(&mut self, sqes: &[Sqe]) -> usize {
        if sqes.is_empty() || self.broken {
            return 0;
        }
        // SAFETY: pointers into the live mappings; every earlier entry was taken by the kernel
        // (a ring where one was not submits no more), so the ones written here are free.
        unsafe {
            let mut tail = (*self.uring.sq_tail).load(Ordering::Relaxed);
            for sqe in sqes {
                let index = tail & self.uring.sq_mask;
                self.uring.sqes.add(index as usize).write(*sqe);
                self.uring.sq_array.add(index as usize).write(index);
                tail = tail.wrapping_add(1);
            }
            (*self.uring.sq_tail).store(tail, Ordering::Release);
            let submitted = libc::syscall(libc::SYS_io_uring_enter, self.uring.ring.as_raw_fd(), sqes.len() as u32, 0u32, ENTER_GETEVENTS, std::ptr::null::<u8>(), 0usize);
            let accepted = usize::try_from(submitted).unwrap_or(0).min(sqes.len());
            self.broken = accepted < sqes.len();
            accepted
        }
    }
}

impl Drop for PollRing {
    fn drop(&mut self) {
        // An armed poll holds the inotify queue open until the ring's teardown (later, and then
        // an interruption of the ring's thread: see the module's documentation). The ring's
        // thread removes its polls (the removal and the work it queues run in the call), and
        // keeps the ring, empty, as a spare.
        let mut keep = false;
        if self.mine() {
            self.take();
            let mut removals = Vec::with_capacity(2);
            for (armed, polled) in [(self.armed_events, Polled::Events), (self.armed_mounts, Polled::Mounts)] {
                if armed {
                    removals.push(Sqe { opcode: OP_POLL_REMOVE, fd: -1, addr: polled as u64, user_data: Polled::Removal as u64, ..Sqe::default() });
                }
            }
            let removed = self.submit(&removals) == removals.len();
            // The removals' completions and the removed polls' are taken, so the ring is empty.
            keep = removed && self.take() && !self.broken && self.quiet_ring();
        }
        // SAFETY: taken once, here; `self.uring` is not used after this.
        let uring = unsafe { std::mem::ManuallyDrop::take(&mut self.uring) };
        if keep {
            keep_spare(uring);
        }
    }
}

/// Keep an empty ring of this thread as a spare; closed if the thread has enough of them (or
/// its spares were destroyed already, at its end).
fn keep_spare(uring: Uring) {
    let mut uring = Some(uring);
    let _ = SPARE.try_with(|spares| {
        let mut spares = spares.borrow_mut();
        if spares.len() < SPARES {
            spares.extend(uring.take());
        }
    });
}

fn map(ring: &OwnedFd, len: usize, offset: libc::off_t) -> Option<*mut u8> {
    // SAFETY: a shared mapping of the ring's own memory, of the length the kernel gave.
    let at = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_POPULATE, ring.as_raw_fd(), offset) };
    (at != libc::MAP_FAILED).then_some(at.cast())
}

// The kernel's ABI, from <linux/io_uring.h> (libc 0.2.139 has only the system call numbers).
const FEAT_SINGLE_MMAP: u32 = 1;
const OFF_SQ_RING: libc::off_t = 0;
const OFF_SQES: libc::off_t = 0x1000_0000;
const OP_POLL_ADD: u8 = 6;
const OP_POLL_REMOVE: u8 = 7;
const SETUP_TASKRUN_FLAG: u32 = 1 << 9;
const SETUP_SINGLE_ISSUER: u32 = 1 << 12;
const SETUP_DEFER_TASKRUN: u32 = 1 << 13;
const SQ_TASKRUN: u32 = 1 << 2;
const ENTER_GETEVENTS: u32 = 1;

#[repr(C)]
struct SqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    flags: u32,
    dropped: u32,
    array: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
struct CqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    overflow: u32,
    cqes: u32,
    flags: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
struct Params {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    features: u32,
    wq_fd: u32,
    resv: [u32; 3],
    sq_off: SqRingOffsets,
    cq_off: CqRingOffsets,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Sqe {
    opcode: u8,
    flags: u8,
    ioprio: u16,
    fd: i32,
    off: u64,
    addr: u64,
    len: u32,
    poll32_events: u32,
    user_data: u64,
    buf_index: u16,
    personality: u16,
    splice_fd_in: i32,
    addr3: u64,
    pad: u64,
}

impl Sqe {
    fn poll(fd: RawFd, events: libc::c_short, polled: Polled) -> Sqe {
        Sqe { opcode: OP_POLL_ADD, fd, poll32_events: events as u32, user_data: polled as u64, ..Sqe::default() }
    }
}

#[repr(C)]
struct Cqe {
    user_data: u64,
    res: i32,
    flags: u32,
}

const _: () = assert!(std::mem::size_of::<Params>() == 120 && std::mem::size_of::<Sqe>() == 64 && std::mem::size_of::<Cqe>() == 16);
