//! The admin login check (operations.md §7): configured user empty or equal; configured
//! password empty -> accepted; client password empty -> rejected; otherwise the scramble is
//! verified against the stored hex(SHA1(SHA1(plain))).

use canal_protocol::admin::ClientAuth;
use canal_protocol::scramble::check_scramble;

/// Credentials of the admin port.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// `canal.admin.user` (empty/None: any user name).
    pub user: Option<String>,
    /// `canal.admin.passwd`: hex of SHA1(SHA1(plain)) (empty/None: no password check).
    pub passwd: Option<String>,
}

/// Hex decoding like Canal's: either case, an odd length gets a leading '0'.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() % 2 == 1 {
        hex::decode(format!("0{s}")).ok()
    } else {
        hex::decode(s).ok()
    }
}

/// True when `auth` (answering the handshake `seed`) may use the admin port.
pub fn check_auth(cfg: &AuthConfig, auth: &ClientAuth, seed: &[u8]) -> bool {
    if let Some(u) = cfg.user.as_deref().filter(|u| !u.is_empty()) {
        if u != auth.username {
            return false;
        }
    }
    let Some(stored) = cfg.passwd.as_deref().filter(|p| !p.trim().is_empty()) else {
        return true;
    };
    if auth.password.is_empty() {
        return false;
    }
    let Ok(token_hex) = std::str::from_utf8(&auth.password) else {
        return false;
    };
    match (decode_hex(token_hex), decode_hex(stored)) {
        (Some(token), Some(stored)) => check_scramble(&token, seed, &stored),
        _ => false,
    }
}
