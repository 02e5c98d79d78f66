//! Canal's SecurityUtil password scramble (MySQL 4.1 style, with Canal's 8-byte seed).
//!
//! Server config stores `canal.passwd` as hex of SHA1(SHA1(password)). A Java client sends
//! hex(scramble411(password, seed)) = hex(SHA1(password) XOR SHA1(seed ++ SHA1(SHA1(password)))).
//! The server recovers SHA1(password) from the token and checks that its SHA1 equals the stored
//! value (see ../shared/compat/wire-protocol.md §2.3).

use sha1::{Digest, Sha1};

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// hex(SHA1(SHA1(password))), upper-case like the values in Canal's sample config.
pub fn stored_password_hash(password: &str) -> String {
    hex::encode_upper(sha1(&[&sha1(&[password.as_bytes()])]))
}

/// The token a Java client computes: scramble411(password, seed).
pub fn scramble411(password: &[u8], seed: &[u8]) -> [u8; 20] {
    let stage1 = sha1(&[password]);
    let stage2 = sha1(&[&stage1]);
    let mix = sha1(&[seed, &stage2]);
    let mut out = [0u8; 20];
    for i in 0..20 {
        out[i] = stage1[i] ^ mix[i];
    }
    out
}

/// The hex text a Java client puts in `ClientAuth.password`.
pub fn client_token(password: &str, seed: &[u8]) -> String {
    hex::encode(scramble411(password.as_bytes(), seed))
}

/// Checks a client's token (raw 20 bytes) against the stored SHA1(SHA1(password)) (raw 20 bytes).
pub fn check_scramble(token: &[u8], seed: &[u8], stored_double_sha1: &[u8]) -> bool {
    if token.len() != 20 || stored_double_sha1.len() != 20 {
        return false;
    }
    let mix = sha1(&[seed, stored_double_sha1]);
    let mut stage1 = [0u8; 20];
    for i in 0..20 {
        stage1[i] = token[i] ^ mix[i];
    }
    sha1(&[&stage1]).as_slice() == stored_double_sha1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hash_matches_canal_sample() {
        // The value Canal's docs give for password "canal".
        assert_eq!(
            stored_password_hash("canal"),
            "E3619321C1A937C46A0D8BD1DAC39F93B27D4458"
        );
    }

    #[test]
    fn token_round_trip() {
        let seed = b"12345678";
        let token = scramble411(b"canal", seed);
        let stored = hex::decode(stored_password_hash("canal")).unwrap();
        assert!(check_scramble(&token, seed, &stored));
        assert!(!check_scramble(&scramble411(b"nope", seed), seed, &stored));
        assert!(!check_scramble(&token[..19], seed, &stored));
    }
}
