//! The durable audit outbox: captured events are appended to segment files under the service's
//! data directory before the response leaves, and a background task delivers them in batches,
//! moving a persisted cursor forward only after a successful delivery. Delivery is therefore
//! at-least-once across restarts of either side; the receiver de-duplicates by event id.
//!
//! Layout of the directory: `LOCK` (held while a process uses it), `<seq>.jsonl` segments of one
//! JSON event per line, and `cursor` (`<segment> <byte offset>` of the first undelivered record).
//! Appends go through a bounded queue to one writer thread that group-commits them; a caller
//! waits until its line is written and synced to disk (so neither a crash of the process nor of
//! the machine loses anything acknowledged) and waits for room when the queue is full. Memory
//! stays bounded: the queue holds at most `queue` lines and a delivery batch at most
//! `batch_events` / `batch_bytes`.

use super::deliver::Deliver;
use crate::contracts::AuditEvent;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};

#[derive(Debug, Clone)]
pub struct OutboxOptions {
    /// A segment is closed and a new one started beyond this size.
    pub segment_bytes: u64,
    pub batch_events: usize,
    pub batch_bytes: usize,
    /// Lines waiting for the writer before appenders wait.
    pub queue: usize,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl Default for OutboxOptions {
    fn default() -> Self {
        Self {
            segment_bytes: 8 * 1024 * 1024,
            batch_events: 500,
            batch_bytes: 1024 * 1024,
            queue: 1024,
            retry_base: Duration::from_millis(250),
            retry_max: Duration::from_secs(30),
        }
    }
}

/// Position of the first record not yet delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub segment: u64,
    pub offset: u64,
}

struct Shared {
    dir: PathBuf,
    /// The segment the writer appends to; every lower one is complete.
    active: AtomicU64,
    wake: Notify,
    closed: AtomicBool,
    written: AtomicU64,
    delivered: AtomicU64,
}

struct Append {
    line: Vec<u8>,
    done: oneshot::Sender<bool>,
}

pub struct Outbox {
    tx: mpsc::Sender<Append>,
    shared: Arc<Shared>,
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.jsonl"))
}

fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(seq) = name.to_str().and_then(|n| n.strip_suffix(".jsonl")).and_then(|n| n.parse().ok()) {
            out.push(seq);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn next_segment_after(dir: &Path, seq: u64) -> io::Result<Option<u64>> {
    Ok(list_segments(dir)?.into_iter().find(|s| *s > seq))
}

fn open_segment(dir: &Path, seq: u64) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(segment_path(dir, seq))
}

fn load_cursor(dir: &Path) -> io::Result<Cursor> {
    match fs::read_to_string(dir.join("cursor")) {
        Ok(text) => {
            let mut parts = text.split_whitespace().map(str::parse::<u64>);
            match (parts.next(), parts.next()) {
                (Some(Ok(segment)), Some(Ok(offset))) => Ok(Cursor { segment, offset }),
                _ => Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt audit outbox cursor")),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Ok(Cursor { segment: list_segments(dir)?.first().copied().unwrap_or(0), offset: 0 })
        }
        Err(e) => Err(e),
    }
}

/// Persists the cursor atomically, then removes the segments wholly before it.
fn commit(dir: &Path, cursor: Cursor) -> io::Result<()> {
    let tmp = dir.join("cursor.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(format!("{} {}\n", cursor.segment, cursor.offset).as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join("cursor"))?;
    for seq in list_segments(dir)?.into_iter().filter(|s| *s < cursor.segment) {
        fs::remove_file(segment_path(dir, seq))?;
    }
    Ok(())
}

pub(crate) struct Batch {
    pub events: Vec<AuditEvent>,
    pub next: Cursor,
}

/// Reads up to `max_events` / `max_bytes` of complete records from `from`. Segments below
/// `active` are complete: a partial last line there is the torn tail of a crash and is skipped.
pub(crate) fn read_batch(
    dir: &Path,
    from: Cursor,
    active: u64,
    max_events: usize,
    max_bytes: usize,
) -> io::Result<Batch> {
    let mut events = Vec::new();
    let mut bytes = 0usize;
    let mut at = from;
    loop {
        let file = match File::open(segment_path(dir, at.segment)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => match next_segment_after(dir, at.segment)? {
                Some(n) if n <= active => {
                    at = Cursor { segment: n, offset: 0 };
                    continue;
                }
                _ => return Ok(Batch { events, next: at }),
            },
            Err(e) => return Err(e),
        };
        let finished = at.segment < active;
        let mut reader = BufReader::new(file);
        reader.seek(SeekFrom::Start(at.offset))?;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 || line.last() != Some(&b'\n') {
                if n > 0 && finished {
                    tracing::warn!(
                        segment = at.segment,
                        "skipping a torn record at the end of an audit outbox segment"
                    );
                }
                break;
            }
            at.offset += n as u64;
            match serde_json::from_slice::<AuditEvent>(&line) {
                Ok(event) => {
                    bytes += n;
                    events.push(event);
                }
                Err(e) => {
                    tracing::warn!(error = %e, segment = at.segment, "skipping an unreadable audit outbox record")
                }
            }
            if events.len() >= max_events || bytes >= max_bytes {
                return Ok(Batch { events, next: at });
            }
        }
        if !finished {
            return Ok(Batch { events, next: at });
        }
        match next_segment_after(dir, at.segment)? {
            Some(n) => at = Cursor { segment: n, offset: 0 },
            None => return Ok(Batch { events, next: at }),
        }
    }
}

impl Outbox {
    /// Opens (or creates) the outbox in `dir`, replays whatever was not delivered before, and
    /// starts the writer thread and the delivery task. Needs a Tokio runtime.
    pub fn open(dir: &Path, deliver: Arc<dyn Deliver>, options: OutboxOptions) -> io::Result<Arc<Self>> {
        fs::create_dir_all(dir)?;
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("LOCK"))?;
        lock.try_lock().map_err(|_| {
            io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("audit outbox {} is in use by another process", dir.display()),
            )
        })?;
        let cursor = load_cursor(dir)?;
        let active = list_segments(dir)?.last().copied().unwrap_or(0).max(cursor.segment) + 1;
        let file = open_segment(dir, active)?;
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            active: AtomicU64::new(active),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
            written: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        let writer = shared.clone();
        let segment_bytes = options.segment_bytes;
        std::thread::Builder::new()
            .name("audit-outbox".into())
            .spawn(move || write_loop(rx, file, lock, &writer, segment_bytes))?;
        tokio::spawn(deliver_loop(shared.clone(), deliver, cursor, options));
        Ok(Arc::new(Self { tx, shared }))
    }

    /// Appends one event; returns once it is written (or when writing failed, which is logged).
    pub async fn append(&self, event: &AuditEvent) -> bool {
        let mut line = match serde_json::to_vec(event) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, event_id = %event.id, "cannot serialise audit event");
                return false;
            }
        };
        line.push(b'\n');
        let (done, written) = oneshot::channel();
        if self.tx.send(Append { line, done }).await.is_err() {
            tracing::error!(event_id = %event.id, "audit outbox writer stopped; event lost");
            return false;
        }
        written.await.unwrap_or(false)
    }

    /// Events written since this process opened the outbox.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Events delivered since this process opened the outbox.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    /// Stops the delivery task (the writer stops when the outbox is dropped).
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.close();
    }
}

fn write_loop(mut rx: mpsc::Receiver<Append>, mut file: File, _lock: File, shared: &Shared, segment_bytes: u64) {
    let mut size = file.metadata().map(|m| m.len()).unwrap_or(0);
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(a) => batch.push(a),
                Err(_) => break,
            }
        }
        let mut buf = Vec::with_capacity(batch.iter().map(|a| a.line.len()).sum());
        for a in &batch {
            buf.extend_from_slice(&a.line);
        }
        let ok = match file.write_all(&buf) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, events = batch.len(), "audit outbox write failed; events lost");
                false
            }
        };
        size += buf.len() as u64;
        // On disk before anyone is told so: an acknowledged event survives the machine going
        // down, not only the process. One sync covers the whole group.
        if ok && let Err(e) = file.sync_data() {
            tracing::warn!(error = %e, events = batch.len(), "audit outbox sync failed; events written but not confirmed on disk");
        }
        if ok {
            shared.written.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        for a in batch {
            let _ = a.done.send(ok);
        }
        shared.wake.notify_one();
        // A failed write may have left half a record: start a new segment so it ends the old one.
        if size >= segment_bytes || !ok {
            let next = shared.active.load(Ordering::SeqCst) + 1;
            match open_segment(&shared.dir, next) {
                Ok(f) => {
                    file = f;
                    size = 0;
                    shared.active.store(next, Ordering::SeqCst);
                }
                Err(e) => tracing::error!(error = %e, "cannot start a new audit outbox segment"),
            }
        }
    }
}

async fn deliver_loop(shared: Arc<Shared>, deliver: Arc<dyn Deliver>, mut cursor: Cursor, opts: OutboxOptions) {
    let mut backoff = opts.retry_base;
    while !shared.closed.load(Ordering::SeqCst) {
        let dir = shared.dir.clone();
        let active = shared.active.load(Ordering::SeqCst);
        let (max_events, max_bytes, from) = (opts.batch_events, opts.batch_bytes, cursor);
        let read = tokio::task::spawn_blocking(move || read_batch(&dir, from, active, max_events, max_bytes)).await;
        let batch = match read {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the audit outbox");
                pause(&shared, Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "audit outbox reader failed");
                pause(&shared, Duration::from_secs(1)).await;
                continue;
            }
        };
        if batch.events.is_empty() {
            if batch.next != cursor {
                cursor = batch.next;
                save(&shared, cursor).await;
            } else {
                pause(&shared, Duration::from_secs(1)).await;
            }
            continue;
        }
        let n = batch.events.len() as u64;
        match deliver.deliver(&batch.events).await {
            Ok(()) => {
                shared.delivered.fetch_add(n, Ordering::Relaxed);
                cursor = batch.next;
                save(&shared, cursor).await;
                backoff = opts.retry_base;
            }
            Err(e) => {
                tracing::warn!(error = %e, events = n, retry_in_ms = backoff.as_millis() as u64, "audit delivery failed");
                pause(&shared, backoff).await;
                backoff = (backoff * 2).min(opts.retry_max);
            }
        }
    }
}

/// Sleeps up to `d`, waking early for new records or close.
async fn pause(shared: &Shared, d: Duration) {
    tokio::select! {
        _ = shared.wake.notified() => {}
        _ = tokio::time::sleep(d) => {}
    }
}

async fn save(shared: &Shared, cursor: Cursor) {
    let dir = shared.dir.clone();
    match tokio::task::spawn_blocking(move || commit(&dir, cursor)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "cannot save the audit outbox cursor; events may be delivered twice"),
        Err(e) => tracing::error!(error = %e, "audit outbox cursor task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::deliver::DeliverFuture;
    use super::*;
    use std::sync::Mutex;
    use uuid::Uuid;

    #[derive(Default)]
    struct Collect {
        ids: Mutex<Vec<Uuid>>,
        failing: AtomicBool,
    }

    impl Deliver for Collect {
        fn deliver<'a>(&'a self, events: &'a [AuditEvent]) -> DeliverFuture<'a> {
            Box::pin(async move {
                if self.failing.load(Ordering::SeqCst) {
                    return Err("down".into());
                }
                self.ids.lock().unwrap().extend(events.iter().map(|e| e.id));
                Ok(())
            })
        }
    }

    fn event() -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            occurred_at: chrono::Utc::now(),
            service: "test".into(),
            organization_id: None,
            user_id: None,
            user_name: None,
            action: "CREATE".into(),
            category: "test_management".into(),
            resource_type: None,
            resource_id: None,
            method: "POST".into(),
            path: "/x".into(),
            status: "success".into(),
            status_code: 200,
            error_message: None,
            ip_address: None,
            user_agent: None,
            duration_ms: 1,
            request_id: None,
            request_params: None,
            old_values: None,
            new_values: None,
        }
    }

    fn temp_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("crm-outbox-{}", Uuid::now_v7().simple()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    async fn wait_for(what: &str, check: impl Fn() -> bool) {
        for _ in 0..200 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}");
    }

    fn fast() -> OutboxOptions {
        OutboxOptions {
            retry_base: Duration::from_millis(20),
            retry_max: Duration::from_millis(50),
            ..Default::default()
        }
    }

    async fn reopen(dir: &Path, deliver: Arc<dyn Deliver>) -> Arc<Outbox> {
        for _ in 0..100 {
            match Outbox::open(dir, deliver.clone(), fast()) {
                Ok(o) => return o,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("outbox stayed locked");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delivers_and_resumes_after_reopen() {
        let dir = temp_dir();
        let first = Arc::new(Collect::default());
        let outbox = Outbox::open(&dir, first.clone(), fast()).unwrap();
        let mut sent = Vec::new();
        for _ in 0..5 {
            let e = event();
            sent.push(e.id);
            assert!(outbox.append(&e).await);
        }
        wait_for("first delivery", || first.ids.lock().unwrap().len() == 5).await;
        first.failing.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            let e = event();
            sent.push(e.id);
            assert!(outbox.append(&e).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(first.ids.lock().unwrap().len(), 5);
        // A second process is refused while the first holds the directory.
        assert!(Outbox::open(&dir, first.clone(), fast()).is_err());
        drop(outbox);
        let second = Arc::new(Collect::default());
        let reopened = reopen(&dir, second.clone()).await;
        wait_for("redelivery", || second.ids.lock().unwrap().len() == 3).await;
        let mut all: Vec<Uuid> = first.ids.lock().unwrap().clone();
        all.extend(second.ids.lock().unwrap().iter());
        assert_eq!(all, sent);
        drop(reopened);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn torn_tails_of_finished_segments_are_skipped() {
        let dir = temp_dir();
        let line = |e: &AuditEvent| format!("{}\n", serde_json::to_string(e).unwrap());
        let (a, b, c) = (event(), event(), event());
        fs::write(segment_path(&dir, 1), format!("{}{}{{\"id\":\"half", line(&a), line(&b))).unwrap();
        fs::write(segment_path(&dir, 2), line(&c)).unwrap();
        fs::write(segment_path(&dir, 3), "{\"partial").unwrap();
        let batch = read_batch(&dir, Cursor { segment: 1, offset: 0 }, 3, 100, 1 << 20).unwrap();
        assert_eq!(batch.events.iter().map(|e| e.id).collect::<Vec<_>>(), [a.id, b.id, c.id]);
        assert_eq!(batch.next, Cursor { segment: 3, offset: 0 });
        let limited = read_batch(&dir, Cursor { segment: 1, offset: 0 }, 3, 1, 1 << 20).unwrap();
        assert_eq!(limited.events.len(), 1);
        assert_eq!(limited.next.segment, 1);
        commit(&dir, batch.next).unwrap();
        assert_eq!(list_segments(&dir).unwrap(), [3]);
        assert_eq!(load_cursor(&dir).unwrap(), batch.next);
        let _ = fs::remove_dir_all(dir);
    }
}
