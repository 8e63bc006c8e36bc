//! Waiting for a llama-server we started until it answers its health endpoint. Four things can end the
//! wait: it answers, it exits first, the deadline passes, or the caller cancels; each caller words the
//! failure for its own users and decides whether to stop the child (the wait never stops it).

use super::child::RunningChild;
use super::restart::exit_code;
use crate::process::Secret;
use std::future::Future;
use std::time::Duration;

/// Where and how to ask a child whether it is ready.
pub struct Probe<'a> {
    pub client: &'a super::Loopback,
    /// The full health URL.
    pub url: &'a str,
    /// The child's `LLAMA_API_KEY`, sent as a bearer token (a health path other than `/health` may need it).
    pub key: &'a Secret,
    /// The pause between two polls.
    pub every: Duration,
}

impl Probe<'_> {
    async fn answers(&self) -> bool {
        self.client.get_url(self.url, self.key).await.is_ok_and(|r| r.status.is_success())
    }
}

#[derive(Debug, PartialEq)]
pub enum NotReady {
    /// The child exited before it answered: its exit code ([`exit_code`]) and last output lines.
    Exited { code: Option<i32>, lines: Vec<String> },
    /// No 2xx answer within the time allowed; the child may still run.
    Deadline,
    /// `cancel` resolved first; the child may still run.
    Cancelled,
}

/// Polls `probe` (at once, then every `probe.every`) until it answers 2xx. Fails at once when the child
/// exits, when `within` has passed, or when `cancel` resolves (its output does not matter: a dropped stop
/// sender cancels as a sent one does).
pub async fn wait_ready(
    running: &mut RunningChild,
    probe: &Probe<'_>,
    within: Duration,
    cancel: impl Future,
) -> Result<(), NotReady> {
    let poll = async {
        while !probe.answers().await {
            tokio::time::sleep(probe.every).await;
        }
    };
    tokio::select! {
        _ = poll => Ok(()),
        status = running.child.wait() => {
            let code = status.ok().and_then(exit_code);
            Err(NotReady::Exited { code, lines: running.final_lines().await })
        }
        _ = tokio::time::sleep(within) => Err(NotReady::Deadline),
        _ = cancel => Err(NotReady::Cancelled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::child;
    use crate::process::model_ports::ModelPorts;
    use std::path::Path;

    fn key() -> Secret {
        Secret::random().unwrap()
    }

    fn test_client() -> crate::process::Loopback {
        crate::process::Loopback::new(Duration::from_secs(2), Some(Duration::from_secs(2)))
    }

    fn sh(script: &str, key: &Secret) -> RunningChild {
        let args = ["-c".to_string(), script.to_string()];
        child::spawn(Path::new("/bin/sh"), &args, ModelPorts::default(), key).unwrap()
    }

    /// A port nothing listens on: bound, then released.
    fn closed_url() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/health", listener.local_addr().unwrap())
    }

    #[tokio::test]
    async fn a_child_that_exits_first_fails_at_once_with_its_code_and_last_lines() {
        let (key, url, client) = (key(), closed_url(), test_client());
        let mut running = sh("echo loading; echo 'bad model' >&2; exit 3", &key);
        let probe = Probe { client: &client, url: &url, key: &key, every: Duration::from_millis(20) };
        let err = wait_ready(&mut running, &probe, Duration::from_secs(30), std::future::pending::<()>()).await;
        let Err(NotReady::Exited { code, lines }) = err else { panic!("{err:?}") };
        assert_eq!(code, Some(3));
        assert!(lines.contains(&"bad model".to_string()), "{lines:?}");
    }

    #[tokio::test]
    async fn a_child_that_never_answers_fails_at_the_deadline_or_when_cancelled() {
        let (key, url, client) = (key(), closed_url(), test_client());
        let probe = Probe { client: &client, url: &url, key: &key, every: Duration::from_millis(20) };
        let mut running = sh("sleep 30", &key);
        let late = wait_ready(&mut running, &probe, Duration::from_millis(100), std::future::pending::<()>()).await;
        assert_eq!(late, Err(NotReady::Deadline));
        let cancelled = wait_ready(&mut running, &probe, Duration::from_secs(30), async {}).await;
        assert_eq!(cancelled, Err(NotReady::Cancelled));
        child::stop(&mut running, Duration::from_secs(1)).await;
    }

    #[tokio::test]
    async fn a_2xx_answer_with_the_childs_key_is_ready() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ready", listener.local_addr().unwrap());
        let (key, client) = (key(), test_client());
        let expected = format!("authorization: bearer {}", key.expose());
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 4096];
            let n = stream.read(&mut request).await.unwrap();
            let request = String::from_utf8_lossy(&request[..n]).to_ascii_lowercase();
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.unwrap();
            request.contains(&expected.to_ascii_lowercase())
        });
        let mut running = sh("sleep 30", &key);
        let probe = Probe { client: &client, url: &url, key: &key, every: Duration::from_millis(20) };
        assert_eq!(
            wait_ready(&mut running, &probe, Duration::from_secs(10), std::future::pending::<()>()).await,
            Ok(())
        );
        assert!(server.await.unwrap(), "the probe sends the child's key");
        child::stop(&mut running, Duration::from_secs(1)).await;
    }
}
