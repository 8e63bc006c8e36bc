//! Two glibc malloc arenas instead of up to eight per core.
//!
//! glibc gives each thread that allocates an arena of its own and hands memory back to the system only
//! from the top of an arena, so bursts of large messages handled on different threads leave freed
//! pages resident in every arena: the malformed-input storm (`docs/reliability.md`) measured RSS that
//! stayed about 7 MiB higher after further storms with glibc's default, and within a few percent with
//! the arenas capped. glibc reads `MALLOC_ARENA_MAX` only as the process starts and changing it later
//! takes `mallopt` (foreign code this codebase does not call), so the binary executes itself once more
//! with the variable set, before anything else has happened. A value the user set is left alone (`0`
//! or any value glibc does not accept keeps glibc's default), and child processes get the environment
//! we were started with.

use std::ffi::OsString;

pub const VAR: &str = "MALLOC_ARENA_MAX";
/// Tells the re-executed process (and only it) that `VAR` is ours, not the user's.
const MARK: &str = "LLAMA_DASHBOARD_SET_MALLOC_ARENA_MAX";
const ARENAS: &str = "2";

/// What to do at startup, from the environment we were started with.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Execute ourselves again with `VAR` set.
    Reexec,
    /// Run as we are: the user chose `VAR`, or we are the re-executed process already.
    Run,
}

pub fn plan(var: Option<OsString>, mark: Option<OsString>) -> Plan {
    match (var, mark) {
        (None, None) => Plan::Reexec,
        _ => Plan::Run,
    }
}

/// Re-executes this binary with two arenas unless [`plan`] says to run as we are. Returns only when it
/// did not re-execute (or could not: then we run with glibc's default, which works, just larger).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn cap() {
    use std::os::unix::process::CommandExt;
    if plan(std::env::var_os(VAR), std::env::var_os(MARK)) == Plan::Run {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    let err = std::process::Command::new(&exe).arg0(arg0).args(args).env(VAR, ARENAS).env(MARK, "1").exec();
    eprintln!("llama-dashboard: running with glibc's default malloc arenas ({VAR} not applied: {err})");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn cap() {}

/// The environment changes a child process needs so that it sees what we were started with.
pub fn child_env_removals() -> Vec<&'static str> {
    child_removals(std::env::var_os(MARK).is_some())
}

fn child_removals(we_set_var: bool) -> Vec<&'static str> {
    if we_set_var { vec![VAR, MARK] } else { vec![MARK] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_executes_only_when_nobody_set_the_variable() {
        assert_eq!(plan(None, None), Plan::Reexec);
        assert_eq!(plan(Some("8".into()), None), Plan::Run);
        assert_eq!(plan(Some("2".into()), Some("1".into())), Plan::Run);
        assert_eq!(plan(None, Some("1".into())), Plan::Run);
    }

    #[test]
    fn children_get_the_users_value_back() {
        assert_eq!(child_removals(true), vec![VAR, MARK]);
        assert_eq!(child_removals(false), vec![MARK]);
    }
}
