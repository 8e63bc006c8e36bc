//! One llama-server child process: spawn in its own process group with a parent-death signal,
//! capture its output line by line, stop it with SIGTERM -> grace -> SIGKILL.

use super::model_ports::ModelPorts;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
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
pub fn spawn(program: &Path, args: &[String], ports: ModelPorts) -> std::io::Result<RunningChild> {
    let mut cmd = match which("setpriv") {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
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

/// Forwards each line to the log (source `llama_server`, with `model` when a model's child wrote it) and the tail.
async fn pump(stream: impl AsyncRead + Unpin, tail: Tail, ports: ModelPorts) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match ports.attribute(&line) {
            (Some(model), text) => tracing::info!(target: "llama_dashboard::llama_server", model = %model, "{text}"),
            (None, text) => tracing::info!(target: "llama_dashboard::llama_server", "{text}"),
        }
        tail.push(line);
    }
}

/// SIGTERM to the whole group, wait up to `grace`, then SIGKILL; always reaps. Returns the exit code.
pub async fn stop(running: &mut RunningChild, grace: Duration) -> Option<i32> {
    let group = Pid::from_raw(running.pid as i32);
    if running.pid != 0 {
        let _ = killpg(group, Signal::SIGTERM);
    }
    match tokio::time::timeout(grace, running.child.wait()).await {
        Ok(status) => status.ok().and_then(|s| s.code()),
        Err(_) => {
            tracing::warn!(pid = running.pid, "llama-server ignored SIGTERM; killing it");
            if running.pid != 0 {
                let _ = killpg(group, Signal::SIGKILL);
            }
            running.child.wait().await.ok().and_then(|s| s.code())
        }
    }
}

pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(tool)).find(|p| p.is_file())
}
