//! TLS to Postgres: libpq's `sslmode` and `sslrootcert`, with rustls, and the
//! one connector factory every database connection of the daemon goes
//! through (both pools, the `LISTEN` connection and, through the pool, the
//! relay and every worker).
//!
//! The settings come from the database URL's query string
//! (`?sslmode=verify-full&sslrootcert=/etc/wabot/ca.pem`) or, when the URL
//! has none, from `PGSSLMODE` and `PGSSLROOTCERT`, as with libpq: the URL
//! wins. Without either, the mode is `require` when any host of the URL is
//! not loopback and `prefer` when every host is loopback (127.0.0.0/8,
//! `::1`, `localhost`, or a Unix socket folder).
//!
//! | mode | encrypted | certificate chain checked | host name checked |
//! |---|---|---|---|
//! | `disable` | no | no | no |
//! | `prefer` | when the server offers TLS | no | no |
//! | `require` | yes, or the connection fails | no | no |
//! | `verify-ca` | yes | yes | no |
//! | `verify-full` | yes | yes | yes |
//!
//! The chain is checked against the certificates of `sslrootcert` (a PEM
//! file) or, when it is absent or `system`, against the Mozilla roots of
//! `webpki-roots`. `require` and `prefer` still check the handshake's
//! signatures, so the traffic is encrypted to whoever holds the presented
//! certificate's key, exactly libpq's guarantee for those modes.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::{Host, SslMode as PostgresSslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`, as far as a client without client certificates uses
/// it (`allow` is not offered: it only differs from `prefer` by trying
/// plaintext first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Use TLS when the server offers it, without checking its certificate.
    Prefer,
    /// Always use TLS, without checking the certificate.
    Require,
    /// Always use TLS and check the certificate's chain, not its host name.
    VerifyCa,
    /// Always use TLS and check the chain and the host name.
    VerifyFull,
}

impl SslMode {
    /// Returns the mode as libpq writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn postgres_mode(self) -> PostgresSslMode {
        match self {
            SslMode::Disable => PostgresSslMode::Disable,
            SslMode::Prefer => PostgresSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PostgresSslMode::Require,
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = DatabaseTlsError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            _ => Err(DatabaseTlsError::InvalidSslMode {
                value: value.to_owned(),
            }),
        }
    }
}

/// A database URL or TLS setting that keeps the daemon from connecting.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseTlsError {
    /// `sslmode` is not one of libpq's modes.
    #[error("sslmode must be disable, prefer, require, verify-ca or verify-full, got {value:?}")]
    InvalidSslMode {
        /// The rejected value.
        value: String,
    },

    /// The URL (without its TLS settings) cannot be parsed.
    #[error("not a valid Postgres URL: {reason}")]
    InvalidUrl {
        /// Why the parser rejected it.
        reason: String,
    },

    /// `sslrootcert` cannot be read.
    #[error("sslrootcert {path}: could not read the certificates: {reason}")]
    RootCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// `sslrootcert` names a file with no certificate in it.
    #[error("sslrootcert {path}: the file holds no PEM certificate")]
    NoRootCertificate {
        /// The file.
        path: PathBuf,
    },

    /// rustls refused the configuration.
    #[error("could not set up TLS to the database: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The TLS settings found in a database URL and the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// The `sslmode`, or `None` for the default of the URL's hosts.
    pub ssl_mode: Option<SslMode>,
    /// The `sslrootcert` file, or `None` (and `system`) for the webpki
    /// roots.
    pub root_cert: Option<PathBuf>,
}

/// The one factory of the daemon's database connections: the parsed
/// connection settings and the TLS connector their `sslmode` calls for.
#[derive(Clone)]
pub struct DatabaseConnector {
    config: tokio_postgres::Config,
    ssl_mode: SslMode,
    root_cert: Option<PathBuf>,
    tls: MakeRustlsConnect,
}

impl fmt::Debug for DatabaseConnector {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DatabaseConnector")
            .field("hosts", &self.config.get_hosts())
            .field("ssl_mode", &self.ssl_mode)
            .field("root_cert", &self.root_cert)
            .finish_non_exhaustive()
    }
}

impl DatabaseConnector {
    /// Parses `url` (a `postgresql://` URL or a `key=value` string) and
    /// builds its connector. `fallback` holds `PGSSLMODE`/`PGSSLROOTCERT`,
    /// used for each setting the URL does not name.
    pub fn from_url(url: &str, fallback: &TlsSettings) -> Result<Self, DatabaseTlsError> {
        let (rest, from_url) = split_tls_settings(url)?;
        let mut config = tokio_postgres::Config::from_str(&rest).map_err(|error| {
            DatabaseTlsError::InvalidUrl {
                reason: error.to_string(),
            }
        })?;
        let ssl_mode = match from_url.ssl_mode.or(fallback.ssl_mode) {
            Some(mode) => mode,
            None => default_ssl_mode(config.get_hosts()),
        };
        let root_cert = from_url
            .root_cert
            .or_else(|| fallback.root_cert.clone())
            .filter(|path| path.as_os_str() != "system");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.ssl_mode(ssl_mode.postgres_mode());
        let tls = MakeRustlsConnect::new(client_config(ssl_mode, root_cert.as_deref())?);
        Ok(DatabaseConnector {
            config,
            ssl_mode,
            root_cert,
            tls,
        })
    }

    /// The parsed connection settings (TLS settings removed).
    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The connection settings, to change before connecting (application
    /// name, timeouts).
    pub fn config_mut(&mut self) -> &mut tokio_postgres::Config {
        &mut self.config
    }

    /// The effective `sslmode`.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// The TLS connector, for a pool's manager.
    pub fn tls(&self) -> MakeRustlsConnect {
        self.tls.clone()
    }

    /// Opens one connection; the caller drives the returned connection.
    pub async fn connect(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio_postgres::Connection<
                tokio_postgres::Socket,
                <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<
                    tokio_postgres::Socket,
                >>::Stream,
            >,
        ),
        tokio_postgres::Error,
    > {
        self.config.connect(self.tls.clone()).await
    }
}

/// Whether every host of the URL is on this machine: a loopback address,
/// `localhost`, or a Unix socket folder. No host at all means the default
/// socket, which is local too.
pub fn hosts_are_loopback(hosts: &[Host]) -> bool {
    hosts.iter().all(|host| match host {
        Host::Tcp(name) => is_loopback_name(name),
        Host::Unix(_) => true,
    })
}

/// Whether a host name or address is loopback.
pub fn is_loopback_name(name: &str) -> bool {
    let name = name.trim().trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    name.parse::<IpAddr>()
        .map(|address| address.is_loopback())
        .unwrap_or(false)
}

/// The mode used when neither the URL nor the environment names one:
/// `prefer` on loopback, `require` elsewhere.
pub fn default_ssl_mode(hosts: &[Host]) -> SslMode {
    if hosts_are_loopback(hosts) {
        SslMode::Prefer
    } else {
        SslMode::Require
    }
}

/// Takes `sslmode` and `sslrootcert` out of a URL's query string (or a
/// `key=value` string), which tokio-postgres would refuse (it knows no
/// `verify-*` mode), and returns the rest with the settings found. An
/// unknown mode is an error that names it, never a silent default.
pub fn split_tls_settings(url: &str) -> Result<(String, TlsSettings), DatabaseTlsError> {
    let mut settings = TlsSettings::default();
    let mut error = None;
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            match value.parse() {
                Ok(mode) => settings.ssl_mode = Some(mode),
                Err(invalid) => error = Some(invalid),
            }
            true
        }
        "sslrootcert" => {
            settings.root_cert = Some(PathBuf::from(value));
            true
        }
        _ => false,
    };
    let trimmed = url.trim();
    let rest = if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        match trimmed.split_once('?') {
            None => trimmed.to_owned(),
            Some((base, query)) => {
                let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .filter(|(key, value)| !take(key, value.clone()))
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    let query = form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(kept)
                        .finish();
                    format!("{base}?{query}")
                }
            }
        }
    } else {
        let kept: Vec<&str> = trimmed
            .split_whitespace()
            .filter(|pair| match pair.split_once('=') {
                Some((key, value)) => !take(key.trim(), value.trim_matches('\'').to_owned()),
                None => true,
            })
            .collect();
        kept.join(" ")
    };
    match error {
        Some(error) => Err(error),
        None => Ok((rest, settings)),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls client configuration of a mode.
fn client_config(
    ssl_mode: SslMode,
    root_cert: Option<&Path>,
) -> Result<ClientConfig, DatabaseTlsError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match ssl_mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(EncryptionOnly {
            provider: provider.clone(),
        }),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(root_store(root_cert)?);
            let chain = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|error| DatabaseTlsError::RootCertificate {
                    path: root_cert.map(Path::to_path_buf).unwrap_or_default(),
                    reason: error.to_string(),
                })?;
            if ssl_mode == SslMode::VerifyCa {
                Arc::new(ChainOnly { chain })
            } else {
                chain
            }
        }
    };
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn root_store(root_cert: Option<&Path>) -> Result<RootCertStore, DatabaseTlsError> {
    let mut store = RootCertStore::empty();
    match root_cert {
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|error| DatabaseTlsError::RootCertificate {
                    path: path.to_path_buf(),
                    reason: error.to_string(),
                })?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| DatabaseTlsError::RootCertificate {
                    path: path.to_path_buf(),
                    reason: error.to_string(),
                })?;
            if certificates.is_empty() {
                return Err(DatabaseTlsError::NoRootCertificate {
                    path: path.to_path_buf(),
                });
            }
            for certificate in certificates {
                store
                    .add(certificate)
                    .map_err(|error| DatabaseTlsError::RootCertificate {
                        path: path.to_path_buf(),
                        reason: error.to_string(),
                    })?;
            }
        }
    }
    Ok(store)
}

/// `require`/`prefer`: accepts any certificate, checks the handshake's
/// signatures (so the session key is bound to the presented certificate).
#[derive(Debug)]
struct EncryptionOnly {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for EncryptionOnly {
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
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `verify-ca`: webpki's checks, except that a certificate issued for
/// another host name is accepted. webpki checks the chain before the name,
/// so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly {
    chain: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(url: &str) -> Vec<Host> {
        let (rest, _) = split_tls_settings(url).expect("valid settings");
        tokio_postgres::Config::from_str(&rest)
            .expect("a url")
            .get_hosts()
            .to_vec()
    }

    #[test]
    fn modes_parse_like_libpq() {
        for mode in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
            assert_eq!(mode.parse::<SslMode>().expect("a mode").as_str(), mode);
        }
        assert!("allow".parse::<SslMode>().is_err());
        assert!("verify_full".parse::<SslMode>().is_err());
    }

    #[test]
    fn tls_settings_leave_the_url() {
        let (rest, settings) = split_tls_settings(
            "postgresql://u:p@db.example.com:5432/postgres?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        )
        .expect("valid settings");
        assert_eq!(
            rest,
            "postgresql://u:p@db.example.com:5432/postgres?application_name=x"
        );
        assert_eq!(settings.ssl_mode, Some(SslMode::VerifyFull));
        assert_eq!(settings.root_cert, Some(PathBuf::from("/etc/ca.pem")));

        let (rest, settings) =
            split_tls_settings("host=db.example.com user=u sslmode=verify-ca dbname=postgres")
                .expect("valid settings");
        assert_eq!(rest, "host=db.example.com user=u dbname=postgres");
        assert_eq!(settings.ssl_mode, Some(SslMode::VerifyCa));
    }

    #[test]
    fn an_unknown_mode_is_refused_by_name() {
        let error =
            split_tls_settings("postgresql://h/db?sslmode=verify_full").expect_err("refused");
        assert!(error.to_string().contains("verify_full"), "{error}");
        assert!(split_tls_settings("host=h sslmode=allow").is_err());
    }

    #[test]
    fn the_default_is_require_off_loopback() {
        assert_eq!(
            default_ssl_mode(&hosts("postgresql://u:p@127.0.0.1:5432/db")),
            SslMode::Prefer
        );
        assert_eq!(
            default_ssl_mode(&hosts("postgresql://u:p@localhost/db")),
            SslMode::Prefer
        );
        assert_eq!(
            default_ssl_mode(&hosts("postgresql://u:p@[::1]:5432/db")),
            SslMode::Prefer
        );
        assert_eq!(
            default_ssl_mode(&hosts(
                "postgresql://u:p@aws-0-eu-west-1.pooler.supabase.com:5432/db"
            )),
            SslMode::Require
        );
        assert_eq!(
            default_ssl_mode(&hosts("postgresql://u:p@10.0.0.5/db")),
            SslMode::Require
        );
        assert_eq!(
            default_ssl_mode(&hosts("postgresql://u:p@127.0.0.1,db.example.com/db")),
            SslMode::Require
        );
    }

    #[test]
    fn the_url_wins_over_the_environment() {
        let environment = TlsSettings {
            ssl_mode: Some(SslMode::Disable),
            root_cert: None,
        };
        let connector = DatabaseConnector::from_url(
            "postgresql://u:p@db.example.com/db?sslmode=require",
            &environment,
        )
        .expect("a connector");
        assert_eq!(connector.ssl_mode(), SslMode::Require);
        assert_eq!(connector.config().get_ssl_mode(), PostgresSslMode::Require);
        let connector =
            DatabaseConnector::from_url("postgresql://u:p@db.example.com/db", &environment)
                .expect("a connector");
        assert_eq!(connector.ssl_mode(), SslMode::Disable);
        let connector = DatabaseConnector::from_url(
            "postgresql://u:p@db.example.com/db",
            &TlsSettings::default(),
        )
        .expect("a connector");
        assert_eq!(connector.ssl_mode(), SslMode::Require);
    }

    #[test]
    fn a_missing_root_certificate_names_the_file() {
        let error = DatabaseConnector::from_url(
            "postgresql://u:p@db.example.com/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            &TlsSettings::default(),
        )
        .expect_err("refused");
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }
}
