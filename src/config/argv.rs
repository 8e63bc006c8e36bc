//! The llama-server argv for native router mode. Flag names were checked against llama.cpp's
//! `common/arg.cpp` and a real `llama-server --help` (the seed guide's `--np` does not exist: it is `-np`).

use super::schema::Config;

/// `-ngl` value meaning "every layer" on every llama-server build (newer ones also accept `all`).
const ALL_GPU_LAYERS: &str = "999";

/// Arguments after the program name. `-1` settings are left to llama-server's own defaults,
/// except `gpuLayers: -1`, which offloads every layer.
pub fn router_args(c: &Config) -> Vec<String> {
    let mut args = vec![
        "--models-dir".to_string(),
        c.models.directory.clone(),
        "--models-max".into(),
        c.models.max_loaded.to_string(),
    ];
    if let Some(preset) = &c.models.presets_file {
        args.extend(["--models-preset".into(), preset.clone()]);
    }
    let p = &c.performance;
    args.extend(["-c".into(), p.context_size.to_string(), "-b".into(), p.batch_size.to_string()]);
    let ngl = if p.gpu_layers < 0 { ALL_GPU_LAYERS.to_string() } else { p.gpu_layers.to_string() };
    args.extend(["-ngl".into(), ngl, "-np".into(), p.parallel_slots.to_string()]);
    if p.http_threads > 0 {
        args.extend(["--threads-http".into(), p.http_threads.to_string()]);
    }
    if p.threads > 0 {
        args.extend(["-t".into(), p.threads.to_string()]);
    }
    args.extend(["--host".into(), c.router.host.clone(), "--port".into(), c.router.port.to_string()]);
    if c.logging.enable_debug_output {
        args.push("--verbose".into());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_config_gives_the_documented_argv() {
        let mut c = Config::default();
        c.models.directory = "/srv/models".into();
        c.models.max_loaded = 2;
        c.performance.context_size = 8192;
        c.performance.http_threads = 4;
        c.performance.threads = 2;
        c.performance.parallel_slots = 4;
        c.logging.enable_debug_output = true;
        let expected = "--models-dir /srv/models --models-max 2 -c 8192 -b 512 -ngl 999 -np 4 \
                        --threads-http 4 -t 2 --host 127.0.0.1 --port 8134 --verbose";
        assert_eq!(router_args(&c).join(" "), expected);
    }

    #[test]
    fn automatic_threads_are_left_to_llama_server_and_presets_are_passed() {
        let mut c = Config::default();
        c.models.presets_file = Some("presets.ini".into());
        c.performance.gpu_layers = 0;
        let args = router_args(&c);
        assert!(!args.contains(&"-t".to_string()));
        assert!(!args.contains(&"--threads-http".to_string()));
        assert!(args.windows(2).any(|w| w == ["--models-preset", "presets.ini"]));
        assert!(args.windows(2).any(|w| w == ["-ngl", "0"]));
    }
}
