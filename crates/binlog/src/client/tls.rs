//! TLS to the source with rustls (ring provider: builds without cmake/clang).
//!
//! The modes follow MySQL Connector/J's `sslMode` (which Canal passes through): DISABLED,
//! PREFERRED (TLS when the server offers it, no certificate check), REQUIRED (TLS or fail, no
//! certificate check), VERIFY_CA (chain checked against the given CA, host name not checked) and
//! VERIFY_IDENTITY (chain and host name checked).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// How to use TLS towards the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never use TLS.
    #[default]
    Disabled,
    /// Use TLS when the server supports it; do not check its certificate.
    Preferred,
    /// Require TLS; do not check the server certificate.
    Required,
    /// Require TLS and a certificate chain to the configured CA (host name not checked).
    VerifyCa,
    /// Require TLS, a chain to the configured CA and a certificate valid for the host name.
    VerifyIdentity,
}

impl SslMode {
    /// Parses Connector/J style names (`DISABLED`, `PREFERRED`, `REQUIRED`, `VERIFY_CA`,
    /// `VERIFY_IDENTITY`, case-insensitive).
    pub fn parse(s: &str) -> Option<SslMode> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DISABLED" | "FALSE" | "" => Some(SslMode::Disabled),
            "PREFERRED" => Some(SslMode::Preferred),
            "REQUIRED" | "TRUE" => Some(SslMode::Required),
            "VERIFY_CA" => Some(SslMode::VerifyCa),
            "VERIFY_IDENTITY" => Some(SslMode::VerifyIdentity),
            _ => None,
        }
    }

    /// True when the connection must fail if the server does not offer TLS.
    pub fn required(self) -> bool {
        !matches!(self, SslMode::Disabled | SslMode::Preferred)
    }
}

/// TLS settings of a connection.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// The mode.
    pub mode: SslMode,
    /// PEM file with the CA certificate(s) for VERIFY_CA / VERIFY_IDENTITY.
    pub ca_file: Option<PathBuf>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls client configuration for `opts`.
pub(crate) fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS protocol versions: {e}"))?;
    let config = match opts.mode {
        SslMode::Disabled | SslMode::Preferred | SslMode::Required => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth(),
        SslMode::VerifyCa | SslMode::VerifyIdentity => {
            let path = opts
                .ca_file
                .as_ref()
                .ok_or_else(|| format!("sslMode {:?} needs a CA file", opts.mode))?;
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("reading CA file {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("parsing CA file {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("CA certificate in {} rejected: {e}", path.display()))?;
            }
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("building certificate verifier: {e}"))?;
            if opts.mode == SslMode::VerifyCa {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(IgnoreHostName(webpki)))
                    .with_no_client_auth()
            } else {
                builder.with_webpki_verifier(webpki).with_no_client_auth()
            }
        }
    };
    Ok(Arc::new(config))
}

/// The server name for SNI / host-name checks.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("invalid TLS server name {host:?}: {e}"))
}

/// Accepts any certificate but still checks the handshake signatures (PREFERRED/REQUIRED).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Checks the chain like webpki but accepts a certificate not valid for the host name (VERIFY_CA).
#[derive(Debug)]
struct IgnoreHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for IgnoreHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_connector_j_names() {
        assert_eq!(SslMode::parse("verify_ca"), Some(SslMode::VerifyCa));
        assert_eq!(SslMode::parse("REQUIRED"), Some(SslMode::Required));
        assert_eq!(SslMode::parse("bogus"), None);
        assert!(SslMode::Required.required());
        assert!(!SslMode::Preferred.required());
    }

    #[test]
    fn verify_modes_need_a_ca_file() {
        let opts = TlsOptions {
            mode: SslMode::VerifyIdentity,
            ca_file: None,
        };
        assert!(client_config(&opts).is_err());
        let opts = TlsOptions {
            mode: SslMode::Required,
            ca_file: None,
        };
        assert!(client_config(&opts).is_ok());
    }
}
