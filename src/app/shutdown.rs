//! Signals: the first SIGTERM or Ctrl-C starts the ordered shutdown, a second one exits at once, and
//! SIGHUP reloads the init file (see `super::reload`).

use tokio_util::sync::CancellationToken;

/// Exit status of a shutdown cut short by a second signal.
const INTERRUPTED: i32 = 130;

/// Cancels `stop` on the first termination signal; the second exits the process at once (the children
/// we started die with us: they are bound to our lifetime).
pub fn on_signal(stop: CancellationToken) {
    tokio::spawn(async move {
        wait_for_termination().await;
        tracing::info!("shutdown requested; a second signal exits at once");
        stop.cancel();
        wait_for_termination().await;
        eprintln!("llama-dashboard: second signal, exiting now");
        std::process::exit(INTERRUPTED);
    });
}

async fn wait_for_termination() {
    use tokio::signal::unix::{SignalKind, signal};
    let ctrl_c = tokio::signal::ctrl_c();
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}

/// Calls `reload` on every SIGHUP until `stop` fires.
pub async fn on_hangup<F, Fut>(stop: CancellationToken, reload: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("SIGHUP cannot be watched; reload with POST /admin/reload instead");
        return;
    };
    loop {
        tokio::select! {
            got = hangups.recv() => if got.is_none() { return },
            _ = stop.cancelled() => return,
        }
        tracing::info!("SIGHUP: reloading the init file");
        reload().await;
    }
}
