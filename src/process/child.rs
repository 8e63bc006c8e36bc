//! One llama-server child process: spawn in its own process group with a parent-death signal,
//! capture its output line by line, stop it with SIGTERM -> grace -> SIGKILL.

use super::restart::exit_code;
use crate::process::Secret;
use crate::process::model_ports::ModelPorts;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// Lines kept for error reports ("last lines before it died").
const TAIL_LINES: usize = 40;

/// The most recent output lines of a child, shared with the reader tasks.
#[derive(Clone, Default)]
pub struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == TAIL_LINES {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }
}

pub struct RunningChild {
    pub child: Child,
    pub pid: u32,
    pub tail: Tail,
    /// The output readers; done once the child's stdout and stderr reached end of file.
    readers: Vec<JoinHandle<()>>,
}

/// How long to wait for the last output after an exit (grandchildren may hold the pipes open).
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);

impl RunningChild {
    /// The last output lines once the readers have caught up with an exited child, so the lines
    /// printed just before a crash are not lost to a race with the reader tasks.
    pub async fn final_lines(&mut self) -> Vec<String> {
        let readers = std::mem::take(&mut self.readers);
        let _ = tokio::time::timeout(OUTPUT_DRAIN, join_all(readers)).await;
        self.tail.lines()
    }
}

async fn join_all(readers: Vec<JoinHandle<()>>) {
    for reader in readers {
        let _ = reader.await;
    }
}

/// Starts `program args` so that it cannot outlive us: `setpriv --pdeathsig KILL` (util-linux) makes the
/// kernel kill it when we die, even by SIGKILL; without setpriv, kill_on_drop still covers normal exits.
/// `key` becomes its `LLAMA_API_KEY` (environment, not argv: other users can read a process's argv);
/// a key file named by our own environment is not passed on.
pub fn spawn(program: &Path, args: &[String], ports: ModelPorts, key: &Secret) -> std::io::Result<RunningChild> {
    let mut cmd = match which("setpriv") {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env("LLAMA_API_KEY", key.expose()).env_remove("LLAMA_ARG_API_KEY_FILE");
    for name in crate::core::arenas::child_env_removals() {
        cmd.env_remove(name);
    }
    cmd.process_group(0).kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0);
    let tail = Tail::default();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(pump(out, tail.clone(), ports.clone())));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(pump(err, tail.clone(), ports)));
    }
    Ok(RunningChild { child, pid, tail, readers })
}

/// Longest line kept; the rest of a longer line is read and dropped (a child can print anything).
const MAX_LINE: usize = 16 * 1024;

/// Forwards each line to the log (source `llama_server`, with `model` when a model's child wrote it) and the tail.
/// Bytes that are not UTF-8 are replaced, never a reason to stop: a reader that stopped would leave the
/// pipe full, and the child would block or die of SIGPIPE on its next write.
async fn pump(stream: impl AsyncRead + Unpin, tail: Tail, ports: ModelPorts) {
    let mut reader = BufReader::new(stream);
    while let Some(line) = next_line(&mut reader).await {
        match ports.attribute(&line) {
            (Some(model), text) => tracing::info!(target: "llama_dashboard::llama_server", model = %model, "{text}"),
            (None, text) => tracing::info!(target: "llama_dashboard::llama_server", "{text}"),
        }
        tail.push(line);
    }
}

/// The next line (without its newline), decoded lossily and cut at [`MAX_LINE`]; `None` at end of file
/// or on a read error.
async fn next_line(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<String> {
    let mut line = Vec::new();
    loop {
        let available = match reader.fill_buf().await {
            Ok([]) if line.is_empty() => return None,
            Ok([]) => break,
            Ok(bytes) => bytes,
            Err(_) => return None,
        };
        let (taken, done) = match available.iter().position(|b| *b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&available[..taken.min(room)]);
        reader.consume(taken);
        if done {
            break;
        }
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}

/// SIGTERM to the whole group, wait up to `grace`, then SIGKILL; always reaps. Returns the exit code
/// ([`exit_code`]: 128 + the signal for one that died of it).
pub async fn stop(running: &mut RunningChild, grace: Duration) -> Option<i32> {
    let group = Pid::from_raw(running.pid as i32);
    if running.pid != 0 {
        let _ = killpg(group, Signal::SIGTERM);
    }
    match tokio::time::timeout(grace, running.child.wait()).await {
        Ok(status) => status.ok().and_then(exit_code),
        Err(_) => {
            tracing::warn!(pid = running.pid, "llama-server ignored SIGTERM; killing it");
            if running.pid != 0 {
                let _ = killpg(group, Signal::SIGKILL);
            }
            running.child.wait().await.ok().and_then(exit_code)
        }
    }
}

pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(tool)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invalid_utf8_and_endless_lines_are_read_past_not_stopped_at() {
        let mut input = b"before\n\xff\xfe broken \xc3\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        input.extend_from_slice(b"\r\nafter\n");
        let mut reader = BufReader::with_capacity(64, &input[..]);
        let mut lines = Vec::new();
        while let Some(line) = next_line(&mut reader).await {
            lines.push(line);
        }
        assert_eq!(lines.len(), 4, "{:?}", lines.iter().map(|l| l.len()).collect::<Vec<_>>());
        assert_eq!(lines[0], "before");
        assert_eq!(lines[1], "\u{fffd}\u{fffd} broken \u{fffd}");
        assert_eq!(lines[2].len(), MAX_LINE);
        assert_eq!(lines[3], "after");
    }
}
