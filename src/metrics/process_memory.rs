//! Resident memory of the llama-server processes that hold models (Linux `/proc`): an own backend's
//! process by its pid, a router-mode model's process as the router's child started with `--alias ID`.

use std::collections::HashMap;

/// Resident set size in bytes (`VmRSS`), if the process exists and we may read it.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The router's children by the model id they serve (`--alias ID` in their command line), read from
/// `/proc/<router>/task/*/children` (a child may have been started from any of the router's threads).
pub fn router_children(router_pid: u32) -> HashMap<String, u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{router_pid}/task")) else { return HashMap::new() };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|list| list.split_whitespace().filter_map(|pid| pid.parse::<u32>().ok()).collect::<Vec<_>>())
        .filter_map(|pid| Some((alias_of(pid)?, pid)))
        .collect()
}

fn alias_of(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let at = args.iter().position(|a| *a == b"--alias")?;
    String::from_utf8(args.get(at + 1)?.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_has_a_resident_size() {
        assert!(rss_bytes(std::process::id()).is_some_and(|b| b > 0));
        assert!(rss_bytes(u32::MAX).is_none());
    }
}
