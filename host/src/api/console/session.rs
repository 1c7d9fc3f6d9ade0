//! Console sessions: signing in with an API key makes a session whose
//! random token travels in an HttpOnly, SameSite=Strict cookie scoped to
//! `/console`, expiring after [`SESSION_SECONDS_MAX`]. The key itself stays
//! on the server, in the session, and is checked again on every request,
//! so a revoked key ends its console sessions at once. Each session has
//! its own CSRF token, which every form carries and every POST must match.
//! Sessions live in this host's memory: after a restart staff sign in again.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a session lasts after sign-in.
pub const SESSION_SECONDS_MAX: i64 = 8 * 3_600;
/// The most sessions a host keeps (the oldest go first).
pub const SESSIONS_MAX: usize = 10_000;
/// The cookie's name.
pub const COOKIE: &str = "premia_console";

/// One signed-in member of staff.
#[derive(Clone)]
pub struct Session {
    /// The API key they signed in with (never sent back to the browser).
    pub secret: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The sessions of this host.
#[derive(Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

impl Sessions {
    /// Opens a session for `secret`; returns its token.
    pub fn open(&self, secret: String, now: DateTime<Utc>) -> String {
        let token = random_token();
        let mut sessions = self.by_token.lock().expect("sessions lock");
        sessions.retain(|_, s| s.expires_at > now);
        if sessions.len() >= SESSIONS_MAX
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires_at)
                .map(|(t, _)| t.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            token.clone(),
            Session {
                secret,
                csrf: random_token(),
                expires_at: now + Duration::seconds(SESSION_SECONDS_MAX),
            },
        );
        token
    }

    /// The live session of `token`.
    pub fn get(&self, token: &str, now: DateTime<Utc>) -> Option<Session> {
        let sessions = self.by_token.lock().expect("sessions lock");
        sessions.get(token).filter(|s| s.expires_at > now).cloned()
    }

    /// Ends a session.
    pub fn close(&self, token: &str) {
        self.by_token.lock().expect("sessions lock").remove(token);
    }
}

/// The `Set-Cookie` value of a new session.
pub fn cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS_MAX}"
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn expired_cookie() -> String {
    format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session token in a `Cookie` header.
pub fn token_in(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .map(str::trim)
        .find_map(|pair| pair.strip_prefix(COOKIE)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_opens_reads_back_expires_and_closes() {
        let sessions = Sessions::default();
        let now = Utc::now();
        let token = sessions.open("prm_secret".into(), now);
        let session = sessions.get(&token, now).unwrap();
        assert_eq!(session.secret, "prm_secret");
        assert_eq!(session.csrf.len(), 64);
        assert!(format!("{session:?}").find("prm_secret").is_none());
        let later = now + Duration::seconds(SESSION_SECONDS_MAX + 1);
        assert!(sessions.get(&token, later).is_none());
        sessions.close(&token);
        assert!(sessions.get(&token, now).is_none());
    }

    #[test]
    fn the_cookie_is_http_only_same_site_strict_and_read_back() {
        let value = cookie("abc");
        assert!(value.contains("HttpOnly") && value.contains("SameSite=Strict"));
        assert_eq!(token_in("x=1; premia_console=abc; y=2"), Some("abc"));
        assert_eq!(token_in("premia_console="), None);
        assert_eq!(token_in("other=abc"), None);
    }
}
