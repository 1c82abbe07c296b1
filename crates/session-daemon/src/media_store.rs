//! The media bucket: the S3-compatible object store that keeps media files.
//!
//! Hosted, the bucket is a private Supabase Storage bucket reached through
//! its S3 endpoint (`https://<ref>.supabase.co/storage/v1/s3`, the project's
//! region, S3 access keys from the dashboard); locally, the stack's S3
//! server (moto) stands in. Requests are path-style
//! (`<endpoint>/<bucket>/<key>`) and signed with SigV4 by the
//! `object_store` crate; TLS is rustls. Plain `http://` is accepted only for
//! a loopback endpoint.
//!
//! The settings are the same for the daemon and the functions:
//!
//! | variable | meaning |
//! |---|---|
//! | `WABOT_MEDIA_S3_ENDPOINT` | the S3 endpoint URL; unset turns media storage off |
//! | `WABOT_MEDIA_S3_REGION` | the signing region (Supabase: the project's region; moto: `us-east-1`) |
//! | `WABOT_MEDIA_S3_BUCKET` | the bucket, default `wabot-media` |
//! | `WABOT_MEDIA_S3_ACCESS_KEY_ID` | the access key id |
//! | `WABOT_MEDIA_S3_SECRET_ACCESS_KEY` | the secret access key |
//!
//! Object keys: inbound media `inbound/<number_id>/<message_id>`, member
//! uploads `uploads/<uuid>`, bot-version imports `bots/<bot_id>/<sha256>`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, ClientOptions, ObjectStore, PutOptions, PutPayload, RetryConfig,
};
use uuid::Uuid;

use crate::database_tls::is_loopback_name;

/// The default bucket name.
pub const DEFAULT_MEDIA_BUCKET: &str = "wabot-media";

/// How long one request to the bucket may take (a 100 MB document included).
pub const MEDIA_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How long connecting to the bucket may take.
pub const MEDIA_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `WABOT_MEDIA_S3_*` settings of `wabot daemon`, flattened into its
/// arguments.
#[derive(Clone, Default, Args)]
pub struct MediaStoreArguments {
    /// The media bucket's S3 endpoint (hosted Supabase:
    /// `https://<ref>.supabase.co/storage/v1/s3`; locally the stack's S3
    /// server); media storage is off when unset.
    #[arg(long = "media-s3-endpoint", env = "WABOT_MEDIA_S3_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The S3 signing region (Supabase: the project's region).
    #[arg(long = "media-s3-region", env = "WABOT_MEDIA_S3_REGION")]
    pub region: Option<String>,
    /// The media bucket.
    #[arg(long = "media-s3-bucket", env = "WABOT_MEDIA_S3_BUCKET")]
    pub bucket: Option<String>,
    /// The S3 access key id.
    #[arg(
        long = "media-s3-access-key-id",
        env = "WABOT_MEDIA_S3_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub access_key_id: Option<String>,
    /// The S3 secret access key.
    #[arg(
        long = "media-s3-secret-access-key",
        env = "WABOT_MEDIA_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub secret_access_key: Option<String>,
}

impl fmt::Debug for MediaStoreArguments {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MediaStoreArguments")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field(
                "access_key_id",
                &self.access_key_id.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A media storage setting that keeps the daemon from starting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaConfigError {
    /// The endpoint is not an http(s) URL.
    #[error("WABOT_MEDIA_S3_ENDPOINT must be an http:// or https:// URL, got {value:?}")]
    InvalidEndpoint {
        /// The rejected value.
        value: String,
    },

    /// The endpoint is plain http on a host that is not loopback.
    #[error("WABOT_MEDIA_S3_ENDPOINT is plain http to {host}, which is not loopback: media and S3 keys would cross the network unencrypted; use https://")]
    PlainHttpOffLoopback {
        /// The endpoint's host.
        host: String,
    },

    /// A required setting is missing while the endpoint is set.
    #[error("{variable} is not set: WABOT_MEDIA_S3_ENDPOINT is, and media storage needs it too")]
    Missing {
        /// The variable.
        variable: &'static str,
    },

    /// The bucket name is not a valid S3 bucket name.
    #[error("WABOT_MEDIA_S3_BUCKET must be 3 to 63 lowercase letters, digits, dots or hyphens, got {value:?}")]
    InvalidBucket {
        /// The rejected value.
        value: String,
    },
}

/// The checked media storage settings.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaStoreConfig {
    /// The endpoint, without a trailing slash.
    pub endpoint: String,
    /// The signing region.
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl fmt::Debug for MediaStoreConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MediaStoreConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &"<redacted>")
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

impl MediaStoreConfig {
    /// Checks the settings; `Ok(None)` when no endpoint is set (media
    /// storage off).
    pub fn resolve(arguments: &MediaStoreArguments) -> Result<Option<Self>, MediaConfigError> {
        let Some(endpoint) = non_empty(&arguments.endpoint) else {
            return Ok(None);
        };
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let parsed =
            reqwest::Url::parse(&endpoint).map_err(|_| MediaConfigError::InvalidEndpoint {
                value: endpoint.clone(),
            })?;
        let host = parsed
            .host_str()
            .map(|host| host.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or_default()
            .to_owned();
        match parsed.scheme() {
            "https" if !host.is_empty() => {}
            "http" if !host.is_empty() => {
                if !is_loopback_name(&host) {
                    return Err(MediaConfigError::PlainHttpOffLoopback { host });
                }
            }
            _ => return Err(MediaConfigError::InvalidEndpoint { value: endpoint }),
        }
        let region = non_empty(&arguments.region).ok_or(MediaConfigError::Missing {
            variable: "WABOT_MEDIA_S3_REGION",
        })?;
        let bucket =
            non_empty(&arguments.bucket).unwrap_or_else(|| DEFAULT_MEDIA_BUCKET.to_owned());
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|byte| {
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'.' || byte == b'-'
            });
        if !bucket_ok {
            return Err(MediaConfigError::InvalidBucket { value: bucket });
        }
        let access_key_id =
            non_empty(&arguments.access_key_id).ok_or(MediaConfigError::Missing {
                variable: "WABOT_MEDIA_S3_ACCESS_KEY_ID",
            })?;
        let secret_access_key =
            non_empty(&arguments.secret_access_key).ok_or(MediaConfigError::Missing {
                variable: "WABOT_MEDIA_S3_SECRET_ACCESS_KEY",
            })?;
        Ok(Some(MediaStoreConfig {
            endpoint,
            region,
            bucket,
            access_key_id,
            secret_access_key,
        }))
    }
}

/// A failure of the media bucket.
#[derive(Debug, thiserror::Error)]
pub enum MediaStoreError {
    /// The client could not be built from the settings.
    #[error("could not set up the media bucket's client: {0}")]
    Setup(String),

    /// The object key is not a valid key.
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why it is invalid.
        reason: String,
    },

    /// No object has the key.
    #[error("no object {key:?} in the media bucket")]
    NotFound {
        /// The key.
        key: String,
    },

    /// The object is larger than the caller accepts.
    #[error("the object {key:?} is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge {
        /// The key.
        key: String,
        /// Its size (or the bytes read before giving up).
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// The bucket did not answer or answered with an error (transient as
    /// far as the daemon knows: retried).
    #[error("the media bucket failed: {0}")]
    Failed(String),
}

fn describe(error: &object_store::Error) -> String {
    crate::database::error_chain(error)
}

/// The media bucket's client.
#[derive(Clone)]
pub struct MediaStore {
    store: Arc<AmazonS3>,
    bucket: String,
    endpoint: String,
}

impl fmt::Debug for MediaStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MediaStore")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl MediaStore {
    /// Builds the client (it connects on first use).
    pub fn new(config: &MediaStoreConfig) -> Result<Self, MediaStoreError> {
        let allow_http = config.endpoint.starts_with("http://");
        let store = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_region(&config.region)
            .with_bucket_name(&config.bucket)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(false)
            // Supabase Storage implements no object tagging.
            .with_disable_tagging(true)
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(allow_http)
                    .with_timeout(MEDIA_REQUEST_TIMEOUT)
                    .with_connect_timeout(MEDIA_CONNECT_TIMEOUT),
            )
            // The daemon retries on its own schedule (the worker's backoff).
            .with_retry(RetryConfig {
                max_retries: 1,
                retry_timeout: Duration::from_secs(10),
                ..RetryConfig::default()
            })
            .build()
            .map_err(|error| MediaStoreError::Setup(describe(&error)))?;
        Ok(MediaStore {
            store: Arc::new(store),
            bucket: config.bucket.clone(),
            endpoint: config.endpoint.clone(),
        })
    }

    /// Returns the bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Returns the endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn path(key: &str) -> Result<ObjectPath, MediaStoreError> {
        ObjectPath::parse(key).map_err(|error| MediaStoreError::InvalidKey {
            key: key.to_owned(),
            reason: error.to_string(),
        })
    }

    /// Writes an object (replacing one with the same key), with its MIME
    /// type as `Content-Type`.
    pub async fn put(
        &self,
        key: &str,
        bytes: Arc<[u8]>,
        mime_type: &str,
    ) -> Result<(), MediaStoreError> {
        let path = Self::path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, mime_type.to_owned().into());
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        let payload = PutPayload::from_bytes(bytes::Bytes::from_owner(ArcBytes(bytes)));
        self.store
            .put_opts(&path, payload, options)
            .await
            .map(|_| ())
            .map_err(|error| MediaStoreError::Failed(describe(&error)))
    }

    /// Reads an object whole, refusing one larger than `limit` bytes before
    /// reading it (and while reading it, should the size lie).
    pub async fn get(&self, key: &str, limit: u64) -> Result<Arc<[u8]>, MediaStoreError> {
        let path = Self::path(key)?;
        let result = self.store.get(&path).await.map_err(|error| match error {
            object_store::Error::NotFound { .. } => MediaStoreError::NotFound {
                key: key.to_owned(),
            },
            other => MediaStoreError::Failed(describe(&other)),
        })?;
        let size = result.meta.size;
        if size > limit {
            return Err(MediaStoreError::TooLarge {
                key: key.to_owned(),
                size,
                limit,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| MediaStoreError::Failed(describe(&error)))?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > limit {
                return Err(MediaStoreError::TooLarge {
                    key: key.to_owned(),
                    size: bytes.len() as u64,
                    limit,
                });
            }
        }
        Ok(Arc::from(bytes))
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), MediaStoreError> {
        let path = Self::path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(MediaStoreError::Failed(describe(&error))),
        }
    }
}

/// Lets an `Arc<[u8]>` back a `Bytes` without copying.
struct ArcBytes(Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Returns the object key of an inbound message's media.
pub fn inbound_media_key(number_id: Uuid, message_id: Uuid) -> String {
    format!("inbound/{number_id}/{message_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(endpoint: &str) -> MediaStoreArguments {
        MediaStoreArguments {
            endpoint: Some(endpoint.to_owned()),
            region: Some("us-east-1".to_owned()),
            bucket: None,
            access_key_id: Some("key".to_owned()),
            secret_access_key: Some("the-secret-value".to_owned()),
        }
    }

    #[test]
    fn no_endpoint_means_media_storage_is_off() {
        assert_eq!(
            MediaStoreConfig::resolve(&MediaStoreArguments::default()),
            Ok(None)
        );
        assert_eq!(MediaStoreConfig::resolve(&arguments("  ")), Ok(None));
    }

    #[test]
    fn supabase_endpoint_is_accepted_with_its_path() {
        let config =
            MediaStoreConfig::resolve(&arguments("https://abcd.supabase.co/storage/v1/s3/"))
                .expect("valid")
                .expect("on");
        assert_eq!(config.endpoint, "https://abcd.supabase.co/storage/v1/s3");
        assert_eq!(config.bucket, DEFAULT_MEDIA_BUCKET);
        assert!(MediaStore::new(&config).is_ok());
        assert!(!format!("{config:?}").contains("the-secret-value"));
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert_eq!(
            MediaStoreConfig::resolve(&arguments("http://storage.example.com:9000")),
            Err(MediaConfigError::PlainHttpOffLoopback {
                host: "storage.example.com".to_owned()
            })
        );
        for local in [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "http://[::1]:9000",
        ] {
            assert!(
                matches!(MediaStoreConfig::resolve(&arguments(local)), Ok(Some(_))),
                "{local}"
            );
        }
        assert!(matches!(
            MediaStoreConfig::resolve(&arguments("ftp://127.0.0.1")),
            Err(MediaConfigError::InvalidEndpoint { .. })
        ));
    }

    #[tokio::test]
    async fn requests_are_path_style_under_the_endpoints_path() {
        // Supabase's endpoint carries a path (/storage/v1/s3): the bucket and
        // key go after it. Nothing listens on port 9, so the error names the
        // URL the request went to.
        let config = MediaStoreConfig::resolve(&arguments("http://127.0.0.1:9/storage/v1/s3"))
            .expect("valid")
            .expect("on");
        let store = MediaStore::new(&config).expect("client");
        let error = store
            .put("inbound/a/b", Arc::from(&b"x"[..]), "image/png")
            .await
            .expect_err("nothing listens");
        assert!(
            matches!(&error, MediaStoreError::Failed(reason)
                if reason.contains("http://127.0.0.1:9/storage/v1/s3/wabot-media/inbound/a/b")),
            "{error}"
        );
        assert!(matches!(
            store.get("bad//key", 10).await,
            Err(MediaStoreError::InvalidKey { .. })
        ));
    }

    #[test]
    fn missing_keys_and_bad_buckets_are_named() {
        let mut missing = arguments("https://s3.example.com");
        missing.secret_access_key = None;
        assert_eq!(
            MediaStoreConfig::resolve(&missing),
            Err(MediaConfigError::Missing {
                variable: "WABOT_MEDIA_S3_SECRET_ACCESS_KEY"
            })
        );
        let mut bad_bucket = arguments("https://s3.example.com");
        bad_bucket.bucket = Some("Media_Bucket".to_owned());
        assert!(matches!(
            MediaStoreConfig::resolve(&bad_bucket),
            Err(MediaConfigError::InvalidBucket { .. })
        ));
    }
}
