//! The container's output log: JSON lines as Docker's `json-file` driver
//! writes them (`{"log":"hi\n","stream":"stdout","time":"…"}`), rotated by
//! size, and read back (optionally following) while the container runs. A
//! tail (`logs --tail N`) is read from the end of the files backwards, so
//! its cost does not grow with the log's size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{io_err, observed_state, Result, Runtime, Status};
use crate::timestamp;

/// Longest line kept in one record; longer output is split, as Docker does.
const MAX_RECORD: usize = 16 * 1024;

/// Which stream a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    pub log: String,
    pub stream: Stream,
    pub time: String,
}

/// Appends records to the log, rotating by size.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    written: u64,
    max_size: Option<u64>,
    max_files: u32,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    pub fn open(path: &Path, max_size: Option<u64>, max_files: u32) -> io::Result<LogWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            written,
            max_size,
            max_files: max_files.max(1),
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Takes raw bytes from a stream; complete lines are written at once.
    pub fn push(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        let index = stream as usize;
        self.pending[index].extend_from_slice(bytes);
        loop {
            let buffer = &self.pending[index];
            let cut = match buffer.iter().position(|b| *b == b'\n') {
                Some(newline) if newline < MAX_RECORD => newline + 1,
                _ if buffer.len() >= MAX_RECORD => MAX_RECORD,
                _ => break,
            };
            let line: Vec<u8> = self.pending[index].drain(..cut).collect();
            self.write_record(stream, &line)?;
        }
        Ok(())
    }

    /// Writes out what is left of partial lines (at exit).
    pub fn flush_partial(&mut self) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let line = std::mem::take(&mut self.pending[stream as usize]);
            if !line.is_empty() {
                self.write_record(stream, &line)?;
            }
        }
        Ok(())
    }

    fn write_record(&mut self, stream: Stream, line: &[u8]) -> io::Result<()> {
        let record = LogRecord {
            log: String::from_utf8_lossy(line).into_owned(),
            stream,
            time: timestamp::now(),
        };
        let mut encoded = serde_json::to_vec(&record).map_err(io::Error::other)?;
        encoded.push(b'\n');
        if let Some(max) = self.max_size {
            if self.written > 0 && self.written + encoded.len() as u64 > max {
                self.rotate()?;
            }
        }
        self.file.write_all(&encoded)?;
        self.written += encoded.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        if self.max_files <= 1 {
            self.file.set_len(0)?;
            self.file.seek(SeekFrom::Start(0))?;
        } else {
            for n in (1..self.max_files - 1).rev() {
                let from = rotated(&self.path, n);
                if from.exists() {
                    fs::rename(&from, rotated(&self.path, n + 1))?;
                }
            }
            fs::rename(&self.path, rotated(&self.path, 1))?;
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
        }
        self.written = 0;
        Ok(())
    }
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The log files of a container, oldest first.
pub fn log_files(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..100)
        .map(|n| rotated(path, n))
        .take_while(|p| p.exists())
        .collect();
    files.reverse();
    if path.exists() {
        files.push(path.to_path_buf());
    }
    files
}

/// Reads every record currently in the log files, oldest first.
pub fn read_all(path: &Path) -> io::Result<Vec<LogRecord>> {
    let mut records = Vec::new();
    for file in log_files(path) {
        records.extend(read_file(&file)?);
    }
    Ok(records)
}

/// Reads the records of one log file.
pub fn read_file(path: &Path) -> io::Result<Vec<LogRecord>> {
    let mut records = Vec::new();
    for line in BufReader::new(File::open(path)?).lines() {
        if let Ok(record) = serde_json::from_str(&line?) {
            records.push(record);
        }
    }
    Ok(records)
}

/// Follows the current log file from `offset`, returning new complete records
/// and the new offset. Rotation (the file shrank) restarts at 0.
pub fn read_from(path: &Path, offset: u64) -> io::Result<(Vec<LogRecord>, u64)> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(err) => return Err(err),
    };
    let len = file.metadata()?.len();
    let start = if len < offset { 0 } else { offset };
    file.seek(SeekFrom::Start(start))?;
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
    let mut position = start;
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line)?;
        if read == 0 || !line.ends_with('\n') {
            break;
        }
        position += read as u64;
        if let Ok(record) = serde_json::from_str(&line) {
            records.push(record);
        }
    }
    Ok((records, position))
}

/// Which records of a container's log to read, and whether to follow it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep reading while the container runs.
    pub follow: bool,
    /// Only the last this many records (of those in the time window).
    pub tail: Option<usize>,
    /// Only records at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Only records at or before this time (Unix seconds); reading stops there.
    pub until: Option<i64>,
}

impl LogOptions {
    fn record_time(record: &LogRecord) -> Option<i64> {
        timestamp::parse_rfc3339(&record.time)
    }

    /// Too old for the window (a record without a readable time is kept).
    fn before_window(&self, record: &LogRecord) -> bool {
        self.since
            .zip(Self::record_time(record))
            .is_some_and(|(since, time)| time < since)
    }

    /// Past the window's end: nothing from here on is wanted.
    fn past_window(&self, record: &LogRecord) -> bool {
        self.until
            .zip(Self::record_time(record))
            .is_some_and(|(until, time)| time > until)
    }

    fn in_window(&self, record: &LogRecord) -> bool {
        !self.before_window(record) && !self.past_window(record)
    }
}

impl Runtime {
    /// A container's output records, oldest first, each given to `sink`
    /// (which returns false to stop). Following, it keeps reading new
    /// records until the container is no longer running.
    pub fn logs(
        &self,
        name_or_id: &str,
        follow: bool,
        sink: impl FnMut(&LogRecord) -> bool,
    ) -> Result<()> {
        let options = LogOptions {
            follow,
            ..LogOptions::default()
        };
        self.logs_with(name_or_id, &options, sink)
    }

    /// Like [`Runtime::logs`], choosing the records by `options`: a tail is
    /// read from the end of the log files, not through all of them.
    pub fn logs_with(
        &self,
        name_or_id: &str,
        options: &LogOptions,
        mut sink: impl FnMut(&LogRecord) -> bool,
    ) -> Result<()> {
        let record = self.lookup(name_or_id)?;
        let dir = self.dir(&record.id);
        let path = dir.log();
        let read_error = |err| io_err(format!("read log of {}", record.name))(err);
        // Gives a record to the sink; false once reading should stop.
        let mut deliver = |entry: &LogRecord| {
            if options.past_window(entry) {
                return false;
            }
            options.before_window(entry) || sink(entry)
        };
        let mut offset = 0;
        if let Some(count) = options.tail {
            let (entries, end) =
                read_tail(&path, count, |r| options.in_window(r)).map_err(read_error)?;
            offset = end;
            for entry in &entries {
                if !deliver(entry) {
                    return Ok(());
                }
            }
            if !options.follow {
                return Ok(());
            }
        } else {
            for file in log_files(&path).iter().filter(|f| **f != path) {
                for entry in read_file(file).map_err(read_error)? {
                    if !deliver(&entry) {
                        return Ok(());
                    }
                }
            }
        }
        loop {
            // Checked before reading, so the last lines are read after the exit.
            let running = options.follow
                && observed_state(&dir)
                    .map(|s| s.status == Status::Running)
                    .unwrap_or(false);
            let (entries, next) = read_from(&path, offset).map_err(read_error)?;
            offset = next;
            for entry in &entries {
                if !deliver(entry) {
                    return Ok(());
                }
            }
            if entries.is_empty() {
                if !running {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// How much of a file one backward read takes.
const TAIL_CHUNK: u64 = 64 * 1024;

/// The last `count` records of the log (the current file, then rotated ones
/// going back) that `keep` accepts, oldest first; and the offset in the
/// current file just past its last complete line, where following goes on.
pub fn read_tail(
    path: &Path,
    count: usize,
    keep: impl Fn(&LogRecord) -> bool,
) -> io::Result<(Vec<LogRecord>, u64)> {
    let mut newest_first = Vec::new();
    let mut end = 0;
    for file in log_files(path).iter().rev() {
        let file_end = scan_backwards(file, count, &keep, &mut newest_first)?;
        if file.as_path() == path {
            end = file_end;
        }
        if newest_first.len() >= count {
            break;
        }
    }
    newest_first.reverse();
    Ok((newest_first, end))
}

/// Reads `path`'s complete lines from the end back, pushing the records
/// `keep` accepts onto `out` (newest first) until it holds `count`.
/// Returns the offset just past the file's last complete line.
fn scan_backwards(
    path: &Path,
    count: usize,
    keep: &impl Fn(&LogRecord) -> bool,
    out: &mut Vec<LogRecord>,
) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut position = file.metadata()?.len();
    // The bytes from `position` on not yet taken apart into records.
    let mut unread: Vec<u8> = Vec::new();
    let mut end: Option<u64> = None;
    while position > 0 && (end.is_none() || out.len() < count) {
        let start = position.saturating_sub(TAIL_CHUNK);
        let mut chunk = vec![0; (position - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&unread);
        unread = chunk;
        position = start;
        if end.is_none() {
            // A last line without its newline is still being written.
            let Some(last) = unread.iter().rposition(|b| *b == b'\n') else {
                continue;
            };
            unread.truncate(last + 1);
            end = Some(start + unread.len() as u64);
        }
        // `unread` ends with a newline; take whole lines off its end.
        while out.len() < count && !unread.is_empty() {
            let body = &unread[..unread.len() - 1];
            let line_start = match body.iter().rposition(|b| *b == b'\n') {
                Some(newline) => newline + 1,
                None if position == 0 => 0,
                None => break,
            };
            if let Ok(record) = serde_json::from_slice::<LogRecord>(&unread[line_start..]) {
                if keep(&record) {
                    out.push(record);
                }
            }
            unread.truncate(line_start);
        }
    }
    Ok(end.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_partial_lines_and_streams() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut writer = LogWriter::open(&path, None, 1).unwrap();
        writer.push(Stream::Stdout, b"hel").unwrap();
        writer.push(Stream::Stderr, b"oops\n").unwrap();
        writer.push(Stream::Stdout, b"lo\nwor").unwrap();
        writer.flush_partial().unwrap();
        let records = read_all(&path).unwrap();
        let logs: Vec<(&str, Stream)> =
            records.iter().map(|r| (r.log.as_str(), r.stream)).collect();
        assert_eq!(
            logs,
            vec![
                ("oops\n", Stream::Stderr),
                ("hello\n", Stream::Stdout),
                ("wor", Stream::Stdout)
            ]
        );
        assert!(records[0].time.ends_with('Z'));
        let (tail, offset) = read_from(&path, 0).unwrap();
        assert_eq!(tail.len(), 3);
        assert_eq!(offset, fs::metadata(&path).unwrap().len());
    }

    #[test]
    fn rotation_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut writer = LogWriter::open(&path, Some(200), 3).unwrap();
        for n in 0..40 {
            writer
                .push(Stream::Stdout, format!("line {n}\n").as_bytes())
                .unwrap();
        }
        assert_eq!(log_files(&path).len(), 3);
        assert!(!rotated(&path, 3).exists());
        let records = read_all(&path).unwrap();
        assert_eq!(records.last().unwrap().log, "line 39\n");
        assert!(records.len() < 40);
        // Records stay in order across files.
        let numbers: Vec<u32> = records
            .iter()
            .map(|r| r.log.trim().trim_start_matches("line ").parse().unwrap())
            .collect();
        assert!(numbers.windows(2).all(|w| w[0] + 1 == w[1]));
    }

    fn numbers(records: &[LogRecord]) -> Vec<u32> {
        records
            .iter()
            .map(|r| r.log.trim().trim_start_matches("line ").parse().unwrap())
            .collect()
    }

    #[test]
    fn tail_reads_the_last_records_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut writer = LogWriter::open(&path, Some(400), 4).unwrap();
        for n in 0..30 {
            writer
                .push(Stream::Stdout, format!("line {n}\n").as_bytes())
                .unwrap();
        }
        assert!(log_files(&path).len() > 2);
        let keep_all = |_: &LogRecord| true;
        let (tail, end) = read_tail(&path, 7, keep_all).unwrap();
        assert_eq!(numbers(&tail), (23..30).collect::<Vec<_>>());
        assert_eq!(end, fs::metadata(&path).unwrap().len());
        let (none, _) = read_tail(&path, 0, keep_all).unwrap();
        assert!(none.is_empty());
        // More than there is: everything still kept, in order.
        let (all, _) = read_tail(&path, 1000, keep_all).unwrap();
        assert_eq!(numbers(&all), numbers(&read_all(&path).unwrap()));
        let even = |r: &LogRecord| numbers(std::slice::from_ref(r))[0] % 2 == 0;
        let (tail, _) = read_tail(&path, 3, even).unwrap();
        assert_eq!(numbers(&tail), vec![24, 26, 28]);
    }

    #[test]
    fn tail_spans_chunks_and_stops_before_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut writer = LogWriter::open(&path, None, 1).unwrap();
        for n in 0..5000 {
            writer
                .push(Stream::Stdout, format!("line {n}\n").as_bytes())
                .unwrap();
        }
        let complete = fs::metadata(&path).unwrap().len();
        assert!(complete > 2 * TAIL_CHUNK);
        // A record the writer has not finished yet.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"log\":\"half")
            .unwrap();
        let (tail, end) = read_tail(&path, 4000, |_| true).unwrap();
        assert_eq!(numbers(&tail), (1000..5000).collect::<Vec<_>>());
        assert_eq!(end, complete);
        let (all, _) = read_tail(&path, usize::MAX, |_| true).unwrap();
        assert_eq!(all.len(), 5000);
    }

    #[test]
    fn long_lines_are_split() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut writer = LogWriter::open(&path, None, 1).unwrap();
        writer
            .push(Stream::Stdout, &vec![b'x'; MAX_RECORD + 10])
            .unwrap();
        writer.flush_partial().unwrap();
        let records = read_all(&path).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].log.len(), MAX_RECORD);
    }
}
