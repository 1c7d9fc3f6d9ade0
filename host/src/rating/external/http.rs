//! One HTTP call to an external rater: POST the JSON body with the
//! registered headers, read at most [`MAX_RESPONSE_BYTES`] of the answer, and
//! name transport failures (timeout, refused connection, DNS, TLS).
//!
//! Redirects are not followed (a redirect could carry the credentials in the
//! headers to another host): a `3xx` is an unusable answer.
//!
//! Messages never contain the URL (its query may hold a key) or a header.

use crate::rating::RaterFailure;
use reqwest::blocking::Client;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use std::io::Read;
use std::time::{Duration, Instant};

/// The largest answer Premia reads: 4 MiB.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The status and body of an answer.
pub struct Reply {
    pub status: reqwest::StatusCode,
    pub body: Vec<u8>,
}

/// A client that gives up after `timeout` (connecting, sending, and each
/// read of the answer) and never follows redirects.
pub fn build_client(timeout: Duration) -> Result<Client, String> {
    install_tls_provider();
    Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("premia/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            format!(
                "the HTTP client could not be built: {}",
                chain(&e.without_url())
            )
        })
}

/// `error: its cause: its cause ...`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn is_timeout(error: &reqwest::Error) -> bool {
    if error.is_timeout() {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Makes rustls use the `ring` crypto provider (the only one built in), once
/// per process; https raters are verified against the system's roots. Any
/// `reqwest` client in the process needs it: call it before building one.
pub fn install_tls_provider() {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        // Already installed (by another part of the process) is fine too.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The failure kind and message of a failed send.
fn send_failure(error: reqwest::Error, timeout: Duration) -> (RaterFailure, String) {
    let ms = timeout.as_millis();
    if is_timeout(&error) {
        return (RaterFailure::Deadline, format!("no answer within {ms} ms"));
    }
    let connect = error.is_connect();
    let detail = chain(&error.without_url());
    let what = if connect {
        "could not connect"
    } else {
        "the call failed"
    };
    (RaterFailure::Unavailable, format!("{what}: {detail}"))
}

/// The failure kind and message of a failed read of the answer.
fn read_failure(error: std::io::Error, timeout: Duration) -> (RaterFailure, String) {
    let timed_out = error.kind() == std::io::ErrorKind::TimedOut
        || error
            .get_ref()
            .and_then(|e| e.downcast_ref::<reqwest::Error>())
            .is_some_and(is_timeout);
    if timed_out {
        let ms = timeout.as_millis();
        return (
            RaterFailure::Deadline,
            format!("the answer did not arrive within {ms} ms"),
        );
    }
    (
        RaterFailure::Unavailable,
        format!(
            "the connection failed while reading the answer: {}",
            chain(&error)
        ),
    )
}

/// POSTs `body` to `url` and reads the answer.
///
/// Example: a rater that takes 10 s to answer a call with a 5 000 ms timeout
/// fails with `(Deadline, "no answer within 5000 ms")` after about 5 s.
pub fn post(
    client: &Client,
    url: &reqwest::Url,
    headers: &HeaderMap,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Reply, (RaterFailure, String)> {
    let started = Instant::now();
    let mut response = client
        .post(url.clone())
        .headers(headers.clone())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .body(body)
        .send()
        .map_err(|e| send_failure(e, timeout))?;
    let status = response.status();
    let too_large = || {
        (
            RaterFailure::OutputTooLarge,
            format!("the answer is larger than {MAX_RESPONSE_BYTES} bytes"),
        )
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // Each read waits at most `timeout`; checking between reads keeps a
        // slowly dripping answer under about twice the timeout.
        if started.elapsed() > timeout {
            return Err(read_failure(
                std::io::Error::from(std::io::ErrorKind::TimedOut),
                timeout,
            ));
        }
        let n = response
            .read(&mut chunk)
            .map_err(|e| read_failure(e, timeout))?;
        if n == 0 {
            break;
        }
        if body.len() + n > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Reply { status, body })
}
