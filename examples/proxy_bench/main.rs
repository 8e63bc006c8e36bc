//! Proxy benchmark: the same requests sent directly to the upstream, through nginx as a plain reverse
//! proxy, and through llama-dashboard's `/v1`, against a fast stub upstream and against a real
//! llama-server with a real model. Prints markdown tables (figures in docs/benchmarks.md).
//!
//!   cargo build --release && cargo run --release --example proxy_bench
//!
//! Environment: LLAMA_SERVER_BIN and LLAMA_DASHBOARD_TEST_GGUF (the real section; skipped without them),
//! BENCH_NGINX (default /usr/sbin/nginx; `apt-get install nginx-light`), BENCH_ROUNDS (3),
//! BENCH_C1_N (2000), BENCH_C32_N (20000), BENCH_TTFB_N (500); for the real model BENCH_REAL_ROUNDS (3),
//! BENCH_REAL_C1_N (40), BENCH_REAL_C32_N (128), BENCH_REAL_TTFB_N (40). Invoked with llama-server's argv
//! (`--models-dir ...`), this binary is the stub upstream itself.

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
    c1: usize,
    c32: usize,
    ttfb: usize,
}

#[derive(Default, Clone)]
struct Figures {
    c1_p50: f64,
    c1_p99: f64,
    c32_p50: f64,
    c32_p99: f64,
    rps: f64,
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
    let client = load::client()?;
    let stub_plan = Plan {
        title: "fast stub upstream",
        model: "stub",
        max_tokens: 8,
        rounds: env_usize("BENCH_ROUNDS", 3),
        c1: env_usize("BENCH_C1_N", 2000),
        c32: env_usize("BENCH_C32_N", 20000),
        ttfb: env_usize("BENCH_TTFB_N", 500),
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
    let paths = targets(&ours, proxy.as_ref());
    println!("{}", table(&stub_plan, &measure(&client, &stub_plan, &paths).await?));
    drop((proxy, ours));

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
        c1: env_usize("BENCH_REAL_C1_N", 40),
        c32: env_usize("BENCH_REAL_C32_N", 128),
        ttfb: env_usize("BENCH_REAL_TTFB_N", 40),
    };
    let work = tempdir("real")?;
    std::fs::create_dir_all(work.join("models"))?;
    std::fs::copy(&model, work.join("models/smol.gguf"))?;
    let config = dashboard_config(&work, &PathBuf::from(server), 4)?;
    let ours = procs::dashboard(&dashboard_bin, &work, config).await?;
    procs::wait_for(&client, &format!("{}/health", ours.router_url), |_| true).await?;
    let proxy = match &nginx {
        Some(bin) => Some(procs::nginx(bin, &work, &ours.router_url).await?),
        None => None,
    };
    let paths = targets(&ours, proxy.as_ref());
    println!("{}", table(&real_plan, &measure(&client, &real_plan, &paths).await?));
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

fn targets(ours: &procs::Dashboard, nginx: Option<&procs::Nginx>) -> Vec<(&'static str, String)> {
    let mut all = vec![("direct", ours.router_url.clone())];
    if let Some(n) = nginx {
        all.push(("nginx", n.url.clone()));
    }
    all.push(("llama-dashboard", ours.url.clone()));
    all
}

/// Runs every measure on every target, round-robin, and keeps each figure's median over the rounds.
async fn measure(
    client: &reqwest::Client,
    plan: &Plan,
    targets: &[(&'static str, String)],
) -> BenchResult<Vec<(&'static str, Figures)>> {
    let body = |stream: bool| {
        Bytes::from(
            json!({"model": plan.model, "max_tokens": plan.max_tokens, "stream": stream,
                   "messages": [{"role": "user", "content": "Say hello."}]})
            .to_string(),
        )
    };
    let mut rounds: Vec<Vec<Figures>> = vec![Vec::new(); targets.len()];
    for (_, base) in targets {
        closed_loop(client, &format!("{base}/v1/chat/completions"), body(false), 4, plan.c1.min(200)).await?;
    }
    for round in 0..plan.rounds {
        for (i, (name, base)) in targets.iter().enumerate() {
            eprintln!("{}: round {} of {}, {name}", plan.title, round + 1, plan.rounds);
            let url = format!("{base}/v1/chat/completions");
            let c1 = closed_loop(client, &url, body(false), 1, plan.c1).await?;
            let c32 = closed_loop(client, &url, body(false), 32, plan.c32).await?;
            let ttfb = first_byte(client, &url, body(true), plan.ttfb).await?;
            rounds[i].push(Figures {
                c1_p50: ms(c1.percentile(50.0)),
                c1_p99: ms(c1.percentile(99.0)),
                c32_p50: ms(c32.percentile(50.0)),
                c32_p99: ms(c32.percentile(99.0)),
                rps: c32.throughput(),
                ttfb_p50: ms(percentile(&ttfb, 50.0)),
                ttfb_p99: ms(percentile(&ttfb, 99.0)),
            });
        }
    }
    Ok(targets.iter().zip(rounds).map(|((name, _), r)| (*name, median(&r))).collect())
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
        ttfb_p50: pick(|f| f.ttfb_p50),
        ttfb_p99: pick(|f| f.ttfb_p99),
    }
}

fn table(plan: &Plan, rows: &[(&'static str, Figures)]) -> String {
    let mut out = format!(
        "\n### {} ({} round(s), median of rounds; c=1: {} requests, c=32: {} requests, TTFB: {} streamed requests)\n\n\
         | path | c=1 p50 ms | c=1 p99 ms | c=32 p50 ms | c=32 p99 ms | c=32 req/s | stream TTFB p50 ms | TTFB p99 ms |\n\
         |---|---|---|---|---|---|---|---|\n",
        plan.title, plan.rounds, plan.c1, plan.c32, plan.ttfb
    );
    for (name, f) in rows {
        out.push_str(&format!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} | {:.3} | {:.3} |\n",
            f.c1_p50, f.c1_p99, f.c32_p50, f.c32_p99, f.rps, f.ttfb_p50, f.ttfb_p99
        ));
    }
    let direct = rows.first().map(|r| r.1.clone()).unwrap_or_default();
    for (name, f) in rows.iter().skip(1) {
        out.push_str(&format!(
            "| added by {name} | {:+.3} | | {:+.3} | | {:.1} % of direct | {:+.3} | |\n",
            f.c1_p50 - direct.c1_p50,
            f.c32_p50 - direct.c32_p50,
            100.0 * f.rps / direct.rps.max(f64::MIN_POSITIVE),
            f.ttfb_p50 - direct.ttfb_p50
        ));
    }
    out
}
