//! Proxy benchmark: the same requests sent directly to the upstream, through nginx as a plain reverse
//! proxy, through the least proxy axum and hyper make (`bare.rs`: the floor of our stack), through the LiteLLM proxy server (stub section, when BENCH_LITELLM names it) and through
//! llama-dashboard's `/v1`, against a fast stub upstream and against a real llama-server with a real
//! model. Prints markdown tables (figures in docs/benchmarks.md; `scripts/bench.sh` runs it with the rest).
//!
//!   cargo build --release && cargo run --release --example proxy_bench
//!
//! Environment: LLAMA_SERVER_BIN and LLAMA_DASHBOARD_TEST_GGUF (the real section; skipped without them),
//! BENCH_NGINX (default /usr/sbin/nginx; `apt-get install nginx-light`), BENCH_ROUNDS (3),
//! BENCH_C1_N (2000), BENCH_C32_N (20000), BENCH_TTFB_N (500); for the real model BENCH_REAL_ROUNDS (3),
//! BENCH_REAL_C1_N (40), BENCH_REAL_C32_N (128), BENCH_REAL_TTFB_N (40). LiteLLM: BENCH_LITELLM (its
//! `litellm` executable; the column is skipped without it), its own smaller counts BENCH_LITELLM_C1_N (200),
//! BENCH_LITELLM_C32_N (1000), BENCH_LITELLM_TTFB_N (100), BENCH_LITELLM_WORKERS (1, LiteLLM's default),
//! BENCH_LITELLM_START_S (180: how long it may take to listen). BENCH_STUB_ONLY=1 leaves the real section
//! out. Invoked with llama-server's argv
//! (`--models-dir ...`), this binary is the stub upstream itself.

mod bare;
mod load;
mod procs;
mod stub;

use axum::body::Bytes;
use load::{BenchResult, closed_loop, first_byte, percentile};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("cannot start tokio: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result: BenchResult<()> = if args.iter().any(|a| a == "--models-dir") {
        runtime.block_on(stub::serve(&args)).map_err(|e| e.to_string().into())
    } else if args.first().is_some_and(|a| a == "--bare-proxy") {
        runtime.block_on(bare::serve(&args)).map_err(|e| e.to_string().into())
    } else {
        runtime.block_on(bench())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("proxy bench failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// What one scenario sends and how much.
struct Plan {
    title: &'static str,
    model: &'static str,
    max_tokens: u32,
    rounds: usize,
    counts: Counts,
    /// Smaller counts for a slow path (LiteLLM), when there is one.
    slow: Option<Counts>,
}

/// How many requests each measure sends to one path.
#[derive(Clone, Copy)]
struct Counts {
    c1: usize,
    c32: usize,
    ttfb: usize,
}

/// One path under test: where to send, with which key, and how many requests.
struct Target {
    name: &'static str,
    base: String,
    auth: Option<String>,
    counts: Counts,
    /// The proxy's process, whose CPU time per request is reported (none for direct).
    cpu: Option<procs::Cpu>,
}

#[derive(Default, Clone)]
struct Figures {
    c1_p50: f64,
    c1_p99: f64,
    c32_p50: f64,
    c32_p99: f64,
    rps: f64,
    /// The proxy's CPU time per request at c=32, in microseconds (0 for direct).
    cpu_us: f64,
    ttfb_p50: f64,
    ttfb_p99: f64,
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn bench() -> BenchResult<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dashboard_bin =
        std::env::var("LLAMA_DASHBOARD_BIN").map_or(root.join("target/release/llama-dashboard"), PathBuf::from);
    let nginx = procs::nginx_binary();
    if nginx.is_none() {
        eprintln!("nginx not found (apt-get install nginx-light, or BENCH_NGINX=path): its column is skipped");
    }
    let litellm = procs::litellm_binary();
    if litellm.is_none() {
        eprintln!("LiteLLM not found (BENCH_LITELLM=path to its `litellm` executable): its column is skipped");
    }
    let client = load::client()?;
    let mut stub_plan = Plan {
        title: "fast stub upstream",
        model: "stub",
        max_tokens: 8,
        rounds: env_usize("BENCH_ROUNDS", 3),
        counts: Counts {
            c1: env_usize("BENCH_C1_N", 2000),
            c32: env_usize("BENCH_C32_N", 20000),
            ttfb: env_usize("BENCH_TTFB_N", 500),
        },
        slow: litellm.as_ref().map(|_| Counts {
            c1: env_usize("BENCH_LITELLM_C1_N", 200),
            c32: env_usize("BENCH_LITELLM_C32_N", 1000),
            ttfb: env_usize("BENCH_LITELLM_TTFB_N", 100),
        }),
    };
    let work = tempdir("stub")?;
    std::fs::create_dir_all(work.join("models"))?;
    let stub_bin = std::env::current_exe()?;
    let config = dashboard_config(&work, &stub_bin, 64)?;
    let ours = procs::dashboard(&dashboard_bin, &work, config).await?;
    procs::wait_for(&client, &format!("{}/v1/models", ours.url), |b| b.contains("\"stub\"")).await?;
    let proxy = match &nginx {
        Some(bin) => Some(procs::nginx(bin, &work, &ours.router_url).await?),
        None => None,
    };
    // LiteLLM that does not come up costs its column, not the section.
    let mut lite_failed = None;
    let lite = match (&litellm, stub_plan.slow) {
        (Some(bin), Some(_)) => {
            let deadline = Duration::from_secs(env_usize("BENCH_LITELLM_START_S", 180) as u64);
            match procs::litellm(bin, &work, &ours.router_url, stub_plan.model, deadline).await {
                Ok(l) => Some(l),
                Err(err) => {
                    eprintln!("LiteLLM column skipped: {err}");
                    if let Ok(log) = std::fs::read_to_string(work.join("litellm.log")) {
                        let tail: Vec<&str> = log.lines().rev().take(20).collect();
                        eprintln!(
                            "litellm.log, last lines:\n{}",
                            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                        );
                    }
                    stub_plan.slow = None;
                    lite_failed = Some(err.to_string());
                    None
                }
            }
        }
        _ => None,
    };
    let bare = procs::bare(&ours.router_url, &ours.router_key().unwrap_or_default()).await?;
    let mut paths = targets(&stub_plan, &ours, proxy.as_ref(), lite.as_ref());
    let floor = Target {
        name: "bare axum+hyper",
        base: bare.url.clone(),
        auth: None,
        counts: stub_plan.counts,
        cpu: bare.cpu(),
    };
    paths.insert(paths.len() - 1, floor);
    let result = measure(&client, &stub_plan, &paths).await;
    drop((lite, proxy, bare, ours));
    let _ = std::fs::remove_dir_all(&work);
    println!("{}", table(&stub_plan, &result?));
    if let Some(err) = lite_failed {
        println!("LiteLLM did not start ({err}): its column is left out.\n");
    }

    if std::env::var("BENCH_STUB_ONLY").is_ok_and(|v| v == "1") {
        return Ok(());
    }
    let (Ok(server), Ok(model)) = (std::env::var("LLAMA_SERVER_BIN"), std::env::var("LLAMA_DASHBOARD_TEST_GGUF"))
    else {
        eprintln!("LLAMA_SERVER_BIN / LLAMA_DASHBOARD_TEST_GGUF not set: real llama-server section skipped");
        return Ok(());
    };
    let real_plan = Plan {
        title: "real llama-server (SmolLM2-135M Q4_1, CPU)",
        model: "smol",
        max_tokens: 8,
        rounds: env_usize("BENCH_REAL_ROUNDS", 3),
        counts: Counts {
            c1: env_usize("BENCH_REAL_C1_N", 40),
            c32: env_usize("BENCH_REAL_C32_N", 128),
            ttfb: env_usize("BENCH_REAL_TTFB_N", 40),
        },
        slow: None,
    };
    let work = tempdir("real")?;
    std::fs::create_dir_all(work.join("models"))?;
    if std::fs::hard_link(&model, work.join("models/smol.gguf")).is_err() {
        std::fs::copy(&model, work.join("models/smol.gguf"))?;
    }
    let config = dashboard_config(&work, &PathBuf::from(server), 4)?;
    let ours = procs::dashboard(&dashboard_bin, &work, config).await?;
    procs::wait_for(&client, &format!("{}/health", ours.router_url), |_| true).await?;
    let proxy = match &nginx {
        Some(bin) => Some(procs::nginx(bin, &work, &ours.router_url).await?),
        None => None,
    };
    let paths = targets(&real_plan, &ours, proxy.as_ref(), None);
    let result = measure(&client, &real_plan, &paths).await;
    drop((proxy, ours));
    let _ = std::fs::remove_dir_all(&work);
    println!("{}", table(&real_plan, &result?));
    Ok(())
}

fn tempdir(name: &str) -> BenchResult<PathBuf> {
    let dir = std::env::temp_dir().join(format!("proxy-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn dashboard_config(
    work: &std::path::Path,
    router_bin: &std::path::Path,
    slots: i64,
) -> BenchResult<serde_json::Value> {
    Ok(json!({
        "router": {"port": procs::free_port()?, "serverPath": router_bin},
        "models": {"directory": work.join("models"), "idleTimeoutSec": 0},
        "performance": {"contextSize": 2048, "parallelSlots": slots},
        "proxy": {"queueSize": 100000},
        "logging": {"level": "warn"},
    }))
}

/// direct (the router's port), nginx, LiteLLM, then us. The router answers only with the key we gave it,
/// so direct and nginx carry it (nginx passes it on); LiteLLM gets its master key, we need none.
fn targets(
    plan: &Plan,
    ours: &procs::Dashboard,
    nginx: Option<&procs::Nginx>,
    litellm: Option<&procs::LiteLlm>,
) -> Vec<Target> {
    let key = ours.router_key();
    let at = |name, base: &str, auth: Option<String>, counts, cpu| Target {
        name,
        base: base.to_string(),
        auth,
        counts,
        cpu,
    };
    let mut all = vec![at("direct", &ours.router_url, key.clone(), plan.counts, None)];
    if let Some(n) = nginx {
        all.push(at("nginx", &n.url, key, plan.counts, n.cpu()));
    }
    if let (Some(l), Some(slow)) = (litellm, plan.slow) {
        all.push(at("LiteLLM", &l.url, Some(l.key.clone()), slow, l.cpu()));
    }
    all.push(at("llama-dashboard", &ours.url, None, plan.counts, ours.cpu()));
    all
}

/// Runs every measure on every target, round-robin, and keeps each figure's median over the rounds.
async fn measure(
    client: &reqwest::Client,
    plan: &Plan,
    targets: &[Target],
) -> BenchResult<Vec<(&'static str, Figures)>> {
    let body = |stream: bool| {
        Bytes::from(
            json!({"model": plan.model, "max_tokens": plan.max_tokens, "stream": stream,
                   "messages": [{"role": "user", "content": "Say hello."}]})
            .to_string(),
        )
    };
    let mut rounds: Vec<Vec<Figures>> = vec![Vec::new(); targets.len()];
    for t in targets {
        let url = format!("{}/v1/chat/completions", t.base);
        closed_loop(client, &url, t.auth.as_deref(), body(false), 4, t.counts.c1.min(200)).await?;
    }
    for round in 0..plan.rounds {
        for (i, t) in targets.iter().enumerate() {
            eprintln!("{}: round {} of {}, {}", plan.title, round + 1, plan.rounds, t.name);
            let (url, auth, n) = (format!("{}/v1/chat/completions", t.base), t.auth.as_deref(), t.counts);
            let c1 = closed_loop(client, &url, auth, body(false), 1, n.c1).await?;
            let cpu_before = t.cpu.map(procs::Cpu::used_ns);
            let c32 = closed_loop(client, &url, auth, body(false), 32, n.c32).await?;
            let cpu_ns = t.cpu.map(procs::Cpu::used_ns).zip(cpu_before).map_or(0, |(after, before)| after - before);
            let ttfb = first_byte(client, &url, auth, body(true), n.ttfb).await?;
            rounds[i].push(Figures {
                c1_p50: ms(c1.percentile(50.0)),
                c1_p99: ms(c1.percentile(99.0)),
                c32_p50: ms(c32.percentile(50.0)),
                c32_p99: ms(c32.percentile(99.0)),
                rps: c32.throughput(),
                cpu_us: cpu_ns as f64 / 1000.0 / n.c32.max(1) as f64,
                ttfb_p50: ms(percentile(&ttfb, 50.0)),
                ttfb_p99: ms(percentile(&ttfb, 99.0)),
            });
        }
    }
    Ok(targets.iter().zip(rounds).map(|(t, r)| (t.name, median(&r))).collect())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(rounds: &[Figures]) -> Figures {
    let pick = |f: fn(&Figures) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    Figures {
        c1_p50: pick(|f| f.c1_p50),
        c1_p99: pick(|f| f.c1_p99),
        c32_p50: pick(|f| f.c32_p50),
        c32_p99: pick(|f| f.c32_p99),
        rps: pick(|f| f.rps),
        cpu_us: pick(|f| f.cpu_us),
        ttfb_p50: pick(|f| f.ttfb_p50),
        ttfb_p99: pick(|f| f.ttfb_p99),
    }
}

fn table(plan: &Plan, rows: &[(&'static str, Figures)]) -> String {
    let n = plan.counts;
    let slow = match plan.slow {
        Some(s) => format!("; LiteLLM, slower, gets fewer: {} / {} / {}", s.c1, s.c32, s.ttfb),
        None => String::new(),
    };
    let mut out = format!(
        "\n### {} ({} round(s), median of rounds; c=1: {} requests, c=32: {} requests, TTFB: {} streamed requests{slow})\n\n\
         | path | c=1 p50 ms | c=1 p99 ms | c=32 p50 ms | c=32 p99 ms | c=32 req/s | proxy CPU µs/req | stream TTFB p50 ms | TTFB p99 ms |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        plan.title, plan.rounds, n.c1, n.c32, n.ttfb
    );
    for (name, f) in rows {
        out.push_str(&format!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} | {} | {:.3} | {:.3} |\n",
            f.c1_p50,
            f.c1_p99,
            f.c32_p50,
            f.c32_p99,
            f.rps,
            if f.cpu_us > 0.0 { format!("{:.1}", f.cpu_us) } else { "—".into() },
            f.ttfb_p50,
            f.ttfb_p99
        ));
    }
    let direct = rows.first().map(|r| r.1.clone()).unwrap_or_default();
    for (name, f) in rows.iter().skip(1) {
        out.push_str(&format!(
            "| added by {name} | {:+.3} | | {:+.3} | | {:.1} % of direct | | {:+.3} | |\n",
            f.c1_p50 - direct.c1_p50,
            f.c32_p50 - direct.c32_p50,
            100.0 * f.rps / direct.rps.max(f64::MIN_POSITIVE),
            f.ttfb_p50 - direct.ttfb_p50
        ));
    }
    out
}
