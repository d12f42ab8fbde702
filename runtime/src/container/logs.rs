//! The container's output log: JSON lines as Docker's `json-file` driver
//! writes them (`{"log":"hi\n","stream":"stdout","time":"…"}`), rotated by
//! size, and read back (optionally following) while the container runs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
