//! One backend process, owned by one task: spawn `command [--alias NAME] --model PATH --port P --host 127.0.0.1`
//! (the alias, unless the command sets one, makes answers name the model as clients know it), poll its
//! health endpoint until it answers (deadline; an early exit fails at once with its last lines, and a port
//! found taken is retried on the next one), then wait for its exit or for a stop (SIGTERM, grace, SIGKILL).
//! Every outcome is reported to the manager as an [`Event`] tagged with the instance's generation.

use crate::process::Secret;
use crate::process::child::{self, RunningChild};
use crate::process::health::{NotReady, Probe, wait_ready};
use crate::process::model_ports::ModelPorts;
use crate::process::restart::exit_code;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Short, so that a backend is used within a few ms of being ready: a local GET on a pooled connection
/// costs llama-server microseconds, and each ms of the interval is half a ms of every cold start.
const POLL: Duration = Duration::from_millis(5);
const STOP_GRACE: Duration = Duration::from_secs(5);
const PORT_ATTEMPTS: usize = 4;

pub struct Spec {
    pub model: String,
    pub generation: u64,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub path: String,
    pub mmproj: Option<String>,
    pub ports: Vec<u16>,
    pub health_path: String,
    pub deadline: Duration,
    /// Its `LLAMA_API_KEY`: every request we send it carries this key.
    pub key: Secret,
}

#[derive(Debug)]
pub enum Outcome {
    Ready {
        port: u16,
        pid: u32,
    },
    /// Never became ready: exited early, missed the deadline, or could not be spawned.
    Failed {
        error: String,
        exit_code: Option<i32>,
        lines: Vec<String>,
        /// Its process exited by itself (not a port found taken, a deadline or a stop): a crash.
        exited: bool,
    },
    /// Exited after being ready; `requested` tells a stop we asked for from a crash.
    Exited {
        exit_code: Option<i32>,
        lines: Vec<String>,
        requested: bool,
    },
}

#[derive(Debug)]
pub struct Event {
    pub model: String,
    pub generation: u64,
    pub outcome: Outcome,
}

pub async fn run(
    spec: Spec,
    client: crate::process::Loopback,
    events: mpsc::Sender<Event>,
    mut stop: oneshot::Receiver<()>,
) {
    let report = |outcome| Event { model: spec.model.clone(), generation: spec.generation, outcome };
    let mut attempt = 0;
    let (mut running, port) = loop {
        let Some(&port) = spec.ports.get(attempt) else {
            let error = format!("no free port among {:?}", spec.ports);
            let _ =
                events.send(report(Outcome::Failed { error, exit_code: None, lines: Vec::new(), exited: false })).await;
            return;
        };
        attempt += 1;
        match start(&spec, port, &client, &mut stop).await {
            Start::Ready(running) => break (running, port),
            Start::PortTaken if attempt < PORT_ATTEMPTS => {
                tracing::info!(model = %spec.model, port, "port taken; trying the next one");
            }
            Start::PortTaken => {
                let error = format!("every port tried was taken ({:?})", &spec.ports[..attempt]);
                let _ = events
                    .send(report(Outcome::Failed { error, exit_code: None, lines: Vec::new(), exited: false }))
                    .await;
                return;
            }
            Start::Failed(outcome) => {
                let _ = events.send(report(outcome)).await;
                return;
            }
        }
    };
    let pid = running.pid;
    let _ = events.send(report(Outcome::Ready { port, pid })).await;
    let outcome = tokio::select! {
        status = running.child.wait() => {
            let exit_code = status.ok().and_then(exit_code);
            Outcome::Exited { exit_code, lines: running.final_lines().await, requested: false }
        }
        _ = &mut stop => {
            let exit_code = child::stop(&mut running, STOP_GRACE).await;
            Outcome::Exited { exit_code, lines: running.final_lines().await, requested: true }
        }
    };
    let _ = events.send(report(outcome)).await;
}

enum Start {
    Ready(RunningChild),
    PortTaken,
    Failed(Outcome),
}

async fn start(spec: &Spec, port: u16, client: &crate::process::Loopback, stop: &mut oneshot::Receiver<()>) -> Start {
    let mut args = spec.args.clone();
    if !args.iter().any(|a| a == "--alias" || a == "-a") {
        args.extend(["--alias".into(), spec.model.clone()]);
    }
    if let Some(mmproj) = spec.mmproj.as_ref().filter(|_| !args.iter().any(|a| a == "--mmproj" || a == "-mm")) {
        args.extend(["--mmproj".into(), mmproj.clone()]);
    }
    args.extend(["--model".into(), spec.path.clone(), "--port".into(), port.to_string()]);
    args.extend(["--host".into(), "127.0.0.1".into()]);
    if !program_exists(&spec.program) {
        let error =
            format!("cannot start {}: no such program (check the model's spawn.command)", spec.program.display());
        return Start::Failed(Outcome::Failed { error, exit_code: None, lines: Vec::new(), exited: false });
    }
    let mut running = match child::spawn(&spec.program, &args, ModelPorts::owned_by(&spec.model), &spec.key) {
        Ok(r) => r,
        Err(err) => {
            let error = format!("cannot start {}: {err}", spec.program.display());
            return Start::Failed(Outcome::Failed { error, exit_code: None, lines: Vec::new(), exited: false });
        }
    };
    tracing::info!(model = %spec.model, port, pid = running.pid, "backend starting");
    let url = format!("http://127.0.0.1:{port}{}", spec.health_path);
    let probe = Probe { client, url: &url, key: &spec.key, every: POLL };
    let error = match wait_ready(&mut running, &probe, spec.deadline, stop).await {
        Ok(()) => return Start::Ready(running),
        Err(NotReady::Exited { lines, .. }) if lines.iter().any(|l| is_port_taken(l)) => return Start::PortTaken,
        Err(NotReady::Exited { code, lines }) => {
            let error = format!("exited during startup with code {}", code.map_or("none".into(), |c| c.to_string()));
            return Start::Failed(Outcome::Failed { error, exit_code: code, lines, exited: true });
        }
        Err(NotReady::Deadline) => format!("not ready within {} s (backends.startTimeoutSec)", spec.deadline.as_secs()),
        Err(NotReady::Cancelled) => "stopped while starting".into(),
    };
    let exit_code = child::stop(&mut running, STOP_GRACE).await;
    let lines = running.final_lines().await;
    Start::Failed(Outcome::Failed { error, exit_code, lines, exited: false })
}

/// A path names a file; a bare name is looked up on PATH (setpriv would otherwise report it only by exiting).
fn program_exists(program: &std::path::Path) -> bool {
    if program.components().count() > 1 {
        return program.is_file();
    }
    program.to_str().and_then(child::which).is_some()
}

fn is_port_taken(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("address already in use") || (l.contains("bind") && l.contains("port"))
}
