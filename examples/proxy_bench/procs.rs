//! The processes under test: llama-dashboard (which starts its router: the stub or a real llama-server),
//! nginx as a plain reverse proxy and the LiteLLM proxy server. All are killed when dropped; the router
//! dies with the dashboard.

use crate::load::BenchResult;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Dashboard {
    child: Child,
    pub url: String,
    pub router_url: String,
}

impl Dashboard {
    /// The key the router was started with (its `LLAMA_API_KEY`, read from /proc as the same user): the
    /// router's own port answers only with it. None when no child of ours carries one.
    pub fn router_key(&self) -> Option<String> {
        let ours = self.child.id()?.to_string();
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // Field 4 (ppid) comes after the command name in parentheses, which may hold spaces.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
            if ppid != ours {
                return None;
            }
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ.split(|b| *b == 0).find_map(|var| {
                let key = var.strip_prefix(b"LLAMA_API_KEY=")?;
                String::from_utf8(key.to_vec()).ok().filter(|k| !k.is_empty())
            })
        })
    }
}

pub fn free_port() -> BenchResult<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub async fn dashboard(binary: &Path, work: &Path, config: serde_json::Value) -> BenchResult<Dashboard> {
    let router_port = config["router"]["port"].as_u64().ok_or("router.port missing")?;
    let config_path = work.join("llama-router.init.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
    let mut child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", "0", "--data-dir"])
        .arg(work.join("data"))
        .arg("--config")
        .arg(&config_path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.strip_prefix("llama-dashboard listening on ") {
                return Ok(url.trim().to_string());
            }
        }
        Err::<String, Box<dyn std::error::Error + Send + Sync>>("llama-dashboard exited before listening".into())
    })
    .await??;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Dashboard { child, url, router_url: format!("http://127.0.0.1:{router_port}") })
}

pub struct Nginx {
    child: Child,
    pub url: String,
}

/// nginx's workers outlive a SIGKILLed master, so it gets SIGTERM (fast shutdown) and a moment to exit.
impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

pub fn nginx_binary() -> Option<PathBuf> {
    let named = std::env::var("BENCH_NGINX").ok().map(PathBuf::from);
    named.into_iter().chain(["/usr/sbin/nginx".into(), "/usr/bin/nginx".into()]).find(|p| p.exists())
}

/// nginx configured the way one would put it in front of an SSE API: HTTP/1.1 keep-alive upstream, no buffering.
pub async fn nginx(binary: &Path, work: &Path, upstream: &str) -> BenchResult<Nginx> {
    let port = free_port()?;
    let dir = work.display();
    let upstream = upstream.trim_start_matches("http://");
    let conf = format!(
        "worker_processes auto;\npid {dir}/nginx.pid;\nerror_log {dir}/nginx-error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
           upstream up {{ server {upstream}; keepalive 128; }}\n\
           server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 64m;\n\
             location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\";\n\
               proxy_buffering off; proxy_read_timeout 600s; }}\n  }}\n}}\n"
    );
    let path = work.join("nginx.conf");
    std::fs::write(&path, conf)?;
    let child = Command::new(binary)
        .arg("-p")
        .arg(work)
        .arg("-c")
        .arg(&path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    listening(port, "nginx").await?;
    Ok(Nginx { child, url: format!("http://127.0.0.1:{port}") })
}

pub struct LiteLlm {
    child: Child,
    pub url: String,
    /// LiteLLM refuses to start without a master key; every request carries it.
    pub key: String,
}

/// SIGTERM first (uvicorn shuts down and its workers with it), SIGKILL if it is still there after 3 s.
impl Drop for LiteLlm {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(3) {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.start_kill();
        }
    }
}

/// The LiteLLM executable named by BENCH_LITELLM (the `litellm` script of a venv with `litellm[proxy]`).
pub fn litellm_binary() -> Option<PathBuf> {
    std::env::var("BENCH_LITELLM").ok().map(PathBuf::from).filter(|p| p.exists())
}

/// The LiteLLM proxy server on a loopback port with one model entry, `openai/<model>` at `upstream`/v1,
/// as a user would put it in front of llama-server. Its output goes to `work`/litellm.log (the caller shows its
/// tail when it does not come up). It imports a
/// lot of Python before it listens, so it gets `deadline` to answer `/health/liveliness`.
pub async fn litellm(
    binary: &Path,
    work: &Path,
    upstream: &str,
    model: &str,
    deadline: Duration,
) -> BenchResult<LiteLlm> {
    let port = free_port()?;
    let key = format!("sk-bench-{}-{}", std::process::id(), port);
    let conf = format!(
        "model_list:\n  - model_name: {model}\n    litellm_params:\n      model: openai/{model}\n      \
         api_base: {upstream}/v1\n      api_key: none\nlitellm_settings:\n  telemetry: false\n"
    );
    let path = work.join("litellm.yaml");
    std::fs::write(&path, conf)?;
    let log = std::fs::File::create(work.join("litellm.log"))?;
    let workers = std::env::var("BENCH_LITELLM_WORKERS").unwrap_or_else(|_| "1".into());
    let mut child = Command::new(binary)
        .arg("--config")
        .arg(&path)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--num_workers", &workers])
        .current_dir(work)
        .env("LITELLM_MASTER_KEY", &key)
        // The model cost map ships with the package: no fetch at start-up (loopback only).
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("NO_PROXY", "*")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    let client = crate::load::client()?;
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Err(format!("litellm exited ({status}) before listening").into());
        }
        if let Ok(r) = client.get(format!("{url}/health/liveliness")).send().await
            && r.status().is_success()
        {
            break;
        }
        if started.elapsed() > deadline {
            return Err(format!("litellm did not answer /health/liveliness in {} s", deadline.as_secs()).into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("litellm listening on {url} after {:.1} s", started.elapsed().as_secs_f64());
    Ok(LiteLlm { child, url, key })
}

/// Waits until `url` answers a GET with success and `check` accepts the body.
pub async fn wait_for(client: &reqwest::Client, url: &str, check: impl Fn(&str) -> bool) -> BenchResult<()> {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
            && check(&r.text().await.unwrap_or_default())
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("{url} not ready after 60 s").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whose CPU time a path's figure counts: a process alone (llama-dashboard, whose child is the
/// upstream), or a process and its children (nginx's and LiteLLM's workers).
#[derive(Clone, Copy)]
pub struct Cpu {
    pub pid: u32,
    pub children: bool,
}

impl Cpu {
    /// CPU time used so far, in nanoseconds, summed over the threads' `schedstat` (threads that
    /// exited during a measure are missed: none of ours do while it is busy).
    pub fn used_ns(self) -> u64 {
        let mut pids = vec![self.pid];
        if self.children {
            pids.extend(children_of(self.pid));
        }
        pids.into_iter().map(threads_ns).sum()
    }
}

fn threads_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let ppid: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

impl Dashboard {
    pub fn cpu(&self) -> Option<Cpu> {
        Some(Cpu { pid: self.child.id()?, children: false })
    }
}

impl Nginx {
    pub fn cpu(&self) -> Option<Cpu> {
        Some(Cpu { pid: self.child.id()?, children: true })
    }
}

impl LiteLlm {
    pub fn cpu(&self) -> Option<Cpu> {
        Some(Cpu { pid: self.child.id()?, children: true })
    }
}

/// The bare axum + hyper proxy of `bare.rs` (this binary), in front of `upstream` with its `key`.
pub struct Bare {
    child: Child,
    pub url: String,
}

impl Bare {
    pub fn cpu(&self) -> Option<Cpu> {
        Some(Cpu { pid: self.child.id()?, children: false })
    }
}

pub async fn bare(upstream: &str, key: &str) -> BenchResult<Bare> {
    let port = free_port()?;
    let child = Command::new(std::env::current_exe()?)
        .args(["--bare-proxy", upstream, &port.to_string(), key])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    listening(port, "the bare proxy").await?;
    Ok(Bare { child, url: format!("http://127.0.0.1:{port}") })
}

/// Waits (10 s at most) until something accepts connections on the loopback `port`.
async fn listening(port: u16, what: &str) -> BenchResult<()> {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("{what} did not start listening in 10 s").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
