//! The machine side of `bexio-bi auth login`: a one-shot HTTP listener on 127.0.0.1 that the
//! browser is redirected to (RFC 8252 §7.3 loopback redirect), and opening the browser.
//!
//! The listener understands just enough HTTP/1.1 for a browser's `GET /callback?code=…&state=…`:
//! it answers every request with a short page and closes the connection. Requests for other
//! paths (a favicon) get a 404; an answer whose `state` is not this login's is refused and the
//! wait goes on, so a stale tab cannot complete someone else's login.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The path the browser comes back to.
pub const CALLBACK_PATH: &str = "/callback";

/// What the browser brought back.
enum Answer {
    Code(String),
    Refused(String),
}

/// The listener, bound before the browser is sent off.
pub struct Callback {
    listener: TcpListener,
    redirect_uri: String,
}

impl Callback {
    /// Listens on `127.0.0.1:<port>` (a free port when `None` or 0).
    pub async fn bind(port: Option<u16>) -> anyhow::Result<Callback> {
        let port = port.unwrap_or(0);
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| {
                format!("cannot listen on 127.0.0.1:{port} for the browser's redirect (is another login running?)")
            })?;
        let port = listener.local_addr()?.port();
        Ok(Callback {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
        })
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser to come back with `state`, and returns the authorization code.
    pub async fn code(self, state: &str) -> anyhow::Result<String> {
        let (tx, mut rx) = mpsc::channel::<Answer>(1);
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted.context("the redirect listener failed")?;
                    // Browsers open spare connections that may stay silent: one task each.
                    connections.spawn(serve(stream, state.to_owned(), tx.clone()));
                }
                // The page was written before the answer was sent.
                Some(answer) = rx.recv() => {
                    return match answer {
                        Answer::Code(code) => Ok(code),
                        Answer::Refused(why) => bail!("bexio did not grant access: {why}"),
                    };
                }
            }
        }
    }
}

/// Answers one connection; sends the outcome when it is the callback of this login.
async fn serve(mut stream: TcpStream, state: String, tx: mpsc::Sender<Answer>) {
    let Ok(Some(target)) =
        tokio::time::timeout(Duration::from_secs(30), request_target(&mut stream)).await
    else {
        return;
    };
    let url = match reqwest::Url::parse(&format!("http://127.0.0.1{target}")) {
        Ok(u) if u.path() == CALLBACK_PATH => u,
        _ => {
            respond(&mut stream, "404 Not Found", "Not found", "Nothing here.").await;
            return;
        }
    };
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if param("state").as_deref() != Some(state.as_str()) {
        respond(
            &mut stream,
            "400 Bad Request",
            "Not this sign-in",
            "This page does not belong to the sign-in that is waiting (an old tab?). Use the link that bexio-bi printed last.",
        )
        .await;
        return;
    }
    let answer = match (param("code"), param("error")) {
        (Some(code), None) => {
            respond(
                &mut stream,
                "200 OK",
                "Signed in",
                "bexio-bi got the sign-in. You can close this window and go back to the terminal.",
            )
            .await;
            Answer::Code(code)
        }
        (_, error) => {
            let why = match (error, param("error_description")) {
                (Some(e), Some(d)) => format!("{e}: {d}"),
                (Some(e), None) => e,
                (None, _) => "the redirect carries no code".to_owned(),
            };
            respond(
                &mut stream,
                "400 Bad Request",
                "Not signed in",
                &format!(
                    "bexio did not grant access ({}). You can close this window; the terminal says what to do.",
                    html_escape(&why)
                ),
            )
            .await;
            Answer::Refused(why)
        }
    };
    let _ = tx.send(answer).await;
}

/// The target of the request line (`/callback?…`), once the head has arrived.
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return None;
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_owned()),
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bexio-bi: {title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>\n"
    );
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Opens `url` in the desktop's browser, when there is a desktop; `false` when not tried.
pub fn open_browser(url: &str) -> bool {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        // On a server (over SSH) there is no display and xdg-open would start a text browser.
        let display = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
        if !display {
            return false;
        }
        std::process::Command::new("xdg-open")
    };
    let spawned = cmd
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            // Reaped in the background: the opener returns at once or lives on as the browser.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "cannot open a browser");
            false
        }
    }
}

/// `90s`, `5m`, `1h` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 5m or 1h"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" | "min" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("{s:?} is not a duration like 90s, 5m or 1h")),
    };
    if secs == 0 {
        return Err("the timeout must be longer than 0s".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300s"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[tokio::test]
    async fn the_callback_checks_state_and_hands_over_the_code() {
        let cb = Callback::bind(None).await.expect("bind");
        let uri = cb.redirect_uri().to_owned();
        let waiting = tokio::spawn(cb.code("s1"));
        let http = reqwest::Client::new();
        let favicon = uri.replace(CALLBACK_PATH, "/favicon.ico");
        assert_eq!(http.get(&favicon).send().await.expect("get").status(), 404);
        let stale = http
            .get(format!("{uri}?code=c0&state=old"))
            .send()
            .await
            .expect("get");
        assert_eq!(stale.status(), 400);
        let ok = http
            .get(format!("{uri}?code=c%2B1&state=s1"))
            .send()
            .await
            .expect("get");
        assert_eq!(ok.status(), 200);
        assert!(
            ok.text()
                .await
                .expect("text")
                .contains("You can close this window")
        );
        assert_eq!(waiting.await.expect("join").expect("code"), "c+1");
    }

    #[tokio::test]
    async fn a_refusal_ends_the_wait_with_bexios_reason() {
        let cb = Callback::bind(None).await.expect("bind");
        let uri = cb.redirect_uri().to_owned();
        let waiting = tokio::spawn(cb.code("s"));
        let resp = reqwest::Client::new()
            .get(format!(
                "{uri}?error=access_denied&error_description=User%20denied&state=s"
            ))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 400);
        let e = waiting
            .await
            .expect("join")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("access_denied: User denied"), "{e}");
    }
}
