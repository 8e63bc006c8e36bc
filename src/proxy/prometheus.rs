//! Per-model request counters and latency histograms for `/metrics` (label `model`).

use crate::db::NewRequest;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// Upper bounds in seconds; cold starts and long generations need the wide end.
const BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Default, Clone)]
struct ModelSeries {
    by_code: BTreeMap<i64, u64>,
    duration: Histogram,
    ttft: Histogram,
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Clone, Default)]
pub struct RequestMetrics(Arc<Mutex<BTreeMap<String, ModelSeries>>>);

impl RequestMetrics {
    /// Requests for names that match no model count under `model="(unknown)"`, so clients cannot
    /// create label values at will.
    pub fn observe(&self, row: &NewRequest) {
        let Ok(mut all) = self.0.lock() else { return };
        let model = row.model.as_ref().filter(|_| row.resolved).map_or("(unknown)", |m| m.as_str());
        let series = all.entry(model.to_string()).or_default();
        *series.by_code.entry(i64::from(row.status_code)).or_default() += 1;
        series.duration.observe(row.total_ms / 1000.0);
        if let Some(ms) = row.ttft_ms {
            series.ttft.observe(ms / 1000.0);
        }
        series.prompt_tokens += row.prompt_tokens.unwrap_or(0).max(0) as u64;
        series.completion_tokens += row.completion_tokens.unwrap_or(0).max(0) as u64;
    }

    /// Appends the exposition text; `queues` gives (model, active, queued) gauges.
    pub fn render(&self, out: &mut String, queues: &[(String, usize, usize)]) {
        let Ok(all) = self.0.lock() else { return };
        header(out, "requests_total", "counter", "Proxied /v1 requests by model and HTTP status");
        for (model, s) in all.iter() {
            for (code, n) in &s.by_code {
                let _ =
                    writeln!(out, "llama_dashboard_requests_total{{model=\"{}\",code=\"{code}\"}} {n}", label(model));
            }
        }
        counter(out, &all, "prompt_tokens_total", "Prompt tokens processed", |s| s.prompt_tokens);
        counter(out, &all, "generated_tokens_total", "Tokens generated", |s| s.completion_tokens);
        histogram(out, &all, "request_duration_seconds", "Time from request to last byte", |s| &s.duration);
        histogram(out, &all, "time_to_first_token_seconds", "Time from request to first token", |s| &s.ttft);
        header(out, "requests_in_flight", "gauge", "Requests being served now");
        for (model, active, _) in queues {
            let _ = writeln!(out, "llama_dashboard_requests_in_flight{{model=\"{}\"}} {active}", label(model));
        }
        header(out, "queue_depth", "gauge", "Requests waiting for a free slot");
        for (model, _, queued) in queues {
            let _ = writeln!(out, "llama_dashboard_queue_depth{{model=\"{}\"}} {queued}", label(model));
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP llama_dashboard_{name} {help}\n# TYPE llama_dashboard_{name} {kind}");
}

fn counter(out: &mut String, all: &BTreeMap<String, ModelSeries>, name: &str, help: &str, f: fn(&ModelSeries) -> u64) {
    header(out, name, "counter", help);
    for (model, s) in all {
        let _ = writeln!(out, "llama_dashboard_{name}{{model=\"{}\"}} {}", label(model), f(s));
    }
}

fn histogram(
    out: &mut String,
    all: &BTreeMap<String, ModelSeries>,
    name: &str,
    help: &str,
    f: fn(&ModelSeries) -> &Histogram,
) {
    header(out, name, "histogram", help);
    for (model, s) in all {
        let h = f(s);
        let m = label(model);
        for (bound, n) in BUCKETS.iter().zip(h.counts) {
            let _ = writeln!(out, "llama_dashboard_{name}_bucket{{model=\"{m}\",le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "llama_dashboard_{name}_bucket{{model=\"{m}\",le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "llama_dashboard_{name}_sum{{model=\"{m}\"}} {}", h.sum);
        let _ = writeln!(out, "llama_dashboard_{name}_count{{model=\"{m}\"}} {}", h.count);
    }
}

/// Escapes a label value per the exposition format.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_become_labelled_counters_and_cumulative_buckets() {
        let m = RequestMetrics::default();
        let row = NewRequest {
            model: Some("we\"ird".into()),
            resolved: true,
            endpoint: "/v1/completions".into(),
            status_code: 200,
            outcome: "ok",
            prompt_tokens: Some(3),
            completion_tokens: Some(4),
            ttft_ms: Some(20.0),
            total_ms: 300.0,
            ..Default::default()
        };
        m.observe(&row);
        m.observe(&NewRequest { model: Some("made-up".into()), status_code: 404, ..Default::default() });
        let mut out = String::new();
        m.render(&mut out, &[("we\"ird".into(), 1, 2)]);
        assert!(out.contains(r#"llama_dashboard_requests_total{model="we\"ird",code="200"} 1"#), "{out}");
        assert!(out.contains(r#"llama_dashboard_request_duration_seconds_bucket{model="we\"ird",le="0.25"} 0"#));
        assert!(out.contains(r#"llama_dashboard_request_duration_seconds_bucket{model="we\"ird",le="0.5"} 1"#));
        assert!(out.contains(r#"llama_dashboard_generated_tokens_total{model="we\"ird"} 4"#));
        assert!(out.contains(r#"llama_dashboard_queue_depth{model="we\"ird"} 2"#));
        assert!(out.contains(r#"llama_dashboard_requests_total{model="(unknown)",code="404"} 1"#));
        assert!(!out.contains("made-up"));
    }
}
