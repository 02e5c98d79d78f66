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

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(user: &str, password: &str) -> ClientAuth {
        ClientAuth {
            username: user.into(),
            password: password.as_bytes().to_vec().into(),
            net_read_timeout: None,
            net_write_timeout: None,
        }
    }

    const SEED: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
    // wire-protocol.md §2.3 test vector: "canal" with seed 01..08.
    const TOKEN: &str = "7de44690d8e53782cb61804a2455c284a3bbfb06";
    const STORED: &str = "E3619321C1A937C46A0D8BD1DAC39F93B27D4458";

    fn cfg(user: Option<&str>, passwd: Option<&str>) -> AuthConfig {
        AuthConfig {
            user: user.map(str::to_string),
            passwd: passwd.map(str::to_string),
        }
    }

    #[test]
    fn compat_rules() {
        let c = cfg(Some("canal"), Some(STORED));
        assert!(check_auth(&c, &auth("canal", TOKEN), &SEED));
        assert!(check_auth(&c, &auth("canal", &TOKEN.to_uppercase()), &SEED));
        assert!(!check_auth(&c, &auth("Canal", TOKEN), &SEED));
        assert!(!check_auth(&c, &auth("canal", ""), &SEED));
        assert!(!check_auth(&c, &auth("canal", "zz"), &SEED));
        assert!(!check_auth(&c, &auth("canal", &TOKEN[..38]), &SEED));
        assert!(!check_auth(
            &c,
            &auth("canal", TOKEN),
            &[8, 7, 6, 5, 4, 3, 2, 1]
        ));
        // No password configured: accepted whatever is sent (Canal's rule, not the bypass).
        assert!(check_auth(
            &cfg(Some("canal"), None),
            &auth("canal", "junk"),
            &SEED
        ));
        assert!(!check_auth(
            &cfg(Some("canal"), None),
            &auth("x", ""),
            &SEED
        ));
        // No user configured: any name.
        assert!(check_auth(
            &cfg(None, Some(STORED)),
            &auth("whoever", TOKEN),
            &SEED
        ));
    }
}
