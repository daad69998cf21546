//! The process's log: `KIDO_LOG` (an `EnvFilter`, `RUST_LOG` still read) and
//! `KIDO_LOG_FORMAT` (`pretty`, coloured only on a terminal, or `json`, one object per
//! line). Lines are formatted on the thread that logs and written to stdout by a thread of
//! their own through a bounded queue, so a slow stdout (a pipe to a log shipper) never
//! stalls a request; when the queue is full, lines are dropped and counted.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl LogFormat {
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "pretty" => Some(Self::Pretty),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// Lines the queue holds before dropping new ones (a few MiB at most).
const QUEUE_LINES: usize = 16_384;
/// How long the last lines get to reach stdout when the process ends.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Lines dropped since start because stdout did not keep up (the logger is process-wide).
static LINES_DROPPED: AtomicU64 = AtomicU64::new(0);

pub fn lines_dropped() -> u64 {
    LINES_DROPPED.load(Ordering::Relaxed)
}

enum Message {
    Line(Vec<u8>),
    /// Write everything before this, then answer.
    Flush(SyncSender<()>),
}

/// Installs the process's logger. `filter` was validated with the configuration. Keep the
/// guard until the end of `main`: dropping it writes the lines still queued. Fails only if
/// the writer thread cannot be started.
pub fn init(format: LogFormat, filter: &str) -> std::io::Result<LogGuard> {
    let (sender, receiver) = mpsc::sync_channel(QUEUE_LINES);
    std::thread::Builder::new().name("kido-log".into()).spawn(move || write_lines(&receiver))?;
    let writer = QueueWriter { sender: sender.clone() };
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).init(),
        LogFormat::Pretty => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
    Ok(LogGuard { sender })
}

pub struct LogGuard {
    sender: SyncSender<Message>,
}

impl Drop for LogGuard {
    /// Waits (at most `FLUSH_TIMEOUT`: stdout may be a pipe nobody reads) for the queued
    /// lines to be written.
    fn drop(&mut self) {
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        let (done, flushed) = mpsc::sync_channel(1);
        let mut message = Message::Flush(done);
        loop {
            match self.sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(unsent)) if Instant::now() < deadline => {
                    message = unsent;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
        let _ = flushed.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
}

/// The logger's writer: each event's line (formatted whole by `tracing-subscriber`) goes
/// to the queue in one piece.
struct QueueWriter {
    sender: SyncSender<Message>,
}

impl<'a> MakeWriter<'a> for QueueWriter {
    type Writer = QueuedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        QueuedLine { line: Vec::new(), sender: &self.sender }
    }
}

struct QueuedLine<'a> {
    line: Vec<u8>,
    sender: &'a SyncSender<Message>,
}

impl Write for QueuedLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for QueuedLine<'_> {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        match self.sender.try_send(Message::Line(std::mem::take(&mut self.line))) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                LINES_DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The writer thread: takes stdout's lock per batch (never while waiting, so `println!`
/// elsewhere is not blocked) and flushes once the queue is empty.
fn write_lines(receiver: &Receiver<Message>) {
    let mut reported_drops = 0;
    while let Ok(first) = receiver.recv() {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Line(line) => {
                    let _ = out.write_all(&line);
                }
                Message::Flush(done) => {
                    let _ = out.flush();
                    let _ = done.try_send(());
                }
            }
            next = receiver.try_recv().ok();
        }
        let _ = out.flush();
        drop(out);
        let dropped = lines_dropped();
        if dropped != reported_drops {
            eprintln!("kido: {} log lines dropped: stdout did not keep up", dropped - reported_drops);
            reported_drops = dropped;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_case_insensitively() {
        assert_eq!(LogFormat::parse("JSON"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("pretty"), Some(LogFormat::Pretty));
        assert_eq!(LogFormat::parse("text"), None);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (sender, receiver) = mpsc::sync_channel(1);
        let writer = QueueWriter { sender };
        let before = lines_dropped();
        for _ in 0..3 {
            let mut line = writer.make_writer();
            line.write_all(b"a line\n").unwrap();
        }
        assert_eq!(lines_dropped() - before, 2);
        assert!(matches!(receiver.try_recv(), Ok(Message::Line(line)) if line == b"a line\n"));
    }
}
