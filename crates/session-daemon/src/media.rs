//! Media storage in the daemon: the inbound download worker and the
//! outbound resolver.
//!
//! # Inbound: the download worker
//!
//! An inbound message of a media kind whose content has neither a
//! `storage_key` nor a `storage_error` is pending. Each round, the worker
//! claims a bounded batch of the pending messages of the numbers this daemon
//! holds (`private.claim_media_downloads`: `FOR UPDATE SKIP LOCKED`, a
//! lease, the attempt counted), and for each:
//!
//! 1. downloads the file through the number's transport
//!    ([`crate::transport::Transport::download_media`]);
//! 2. checks it for its kind ([`message_model::check_inbound_media_file`]:
//!    a document of any type, the other kinds of their family, each within
//!    the largest file WhatsApp delivers); a file that fails is not stored,
//!    content.storage_error says why and the message stays as it was;
//! 3. computes its SHA-256 and puts it in the bucket at
//!    `inbound/<number_id>/<message_id>`;
//! 4. records it in one transaction (`private.complete_media_download`):
//!    content gains `storage_key`, `size_bytes`, `sha256` and `mime_type`,
//!    and a `media_objects` row is written.
//!
//! The work lives in the database, so a daemon killed mid-way loses
//! nothing: its claim lapses and the message is picked again. A transient
//! failure (WhatsApp or the bucket unreachable, a failed put) is retried
//! with exponential backoff; after [`MEDIA_DOWNLOAD_MAX_ATTEMPTS`] attempts,
//! or at once when WhatsApp refuses for good, content.storage_error is set.
//! A session that is not connected right now only puts the download off,
//! uncounted. Up to [`PARALLEL_MEDIA_DOWNLOADS`] downloads run at once.
//! Putting the same object twice (a kill between the put and the commit)
//! is harmless: the key is the message's.
//!
//! # Outbound: the resolver
//!
//! Before a send, content whose media has a `storage_key` gets its bytes
//! from the bucket ([`resolve_outgoing_media`]), read no further than the
//! kind's limit. A missing object or a file over the limit fails the message
//! for good before anything is sent; an unreachable bucket leaves it
//! queued.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use message_model::limits::media_limit;
use tokio::sync::watch;
use uuid::Uuid;

use crate::database::{error_chain, DatabaseError, DatabasePool};
use crate::media_store::{inbound_media_key, MediaStore, MediaStoreError};
use crate::sessions::SessionRegistry;
use crate::transport::simulator_media::sha256_hex;
use crate::transport::{Content, Outgoing, TransportError};

/// How many pending media one round claims.
pub const MEDIA_DOWNLOAD_BATCH: i32 = 8;

/// How long a claim lasts; a daemon that dies mid-download delays the
/// message this long.
pub const MEDIA_DOWNLOAD_LEASE_SECONDS: i32 = 180;

/// How long one download from WhatsApp may take.
pub const MEDIA_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// How many attempts a download gets before content.storage_error is set
/// (with the backoff, about 16 minutes of failures).
pub const MEDIA_DOWNLOAD_MAX_ATTEMPTS: i32 = 8;

/// The longest wait between two attempts, in seconds.
pub const MEDIA_DOWNLOAD_MAX_BACKOFF_SECONDS: i32 = 300;

/// How long a download waits for its number's session to be connected
/// again (not counted as an attempt), in seconds.
pub const MEDIA_DOWNLOAD_DEFER_SECONDS: i32 = 15;

/// How many downloads of a batch run at once.
pub const PARALLEL_MEDIA_DOWNLOADS: usize = 4;

/// Returns how long to wait after the `attempts`th failed attempt: 5, 10,
/// 20, … seconds, at most [`MEDIA_DOWNLOAD_MAX_BACKOFF_SECONDS`].
pub fn retry_delay_seconds(attempts: i32) -> i32 {
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    5_i32
        .saturating_mul(2_i32.saturating_pow(exponent))
        .min(MEDIA_DOWNLOAD_MAX_BACKOFF_SECONDS)
}

/// The outcome of one download attempt, for `wabot_media_downloads_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadResult {
    /// Stored in the bucket and recorded.
    Stored,
    /// Not stored: the file breaks WhatsApp's limits, or WhatsApp refused
    /// the download for good (content.storage_error set).
    Rejected,
    /// Failed for now; tried again later.
    Retried,
    /// Failed on the last attempt (content.storage_error set).
    Failed,
    /// Put off, not counted as an attempt: the number's session is not
    /// connected (or not held here) right now.
    Deferred,
}

impl DownloadResult {
    const ALL: [DownloadResult; 5] = [
        DownloadResult::Stored,
        DownloadResult::Rejected,
        DownloadResult::Retried,
        DownloadResult::Failed,
        DownloadResult::Deferred,
    ];

    fn as_str(self) -> &'static str {
        match self {
            DownloadResult::Stored => "stored",
            DownloadResult::Rejected => "rejected",
            DownloadResult::Retried => "retried",
            DownloadResult::Failed => "failed",
            DownloadResult::Deferred => "deferred",
        }
    }

    fn index(self) -> usize {
        match self {
            DownloadResult::Stored => 0,
            DownloadResult::Rejected => 1,
            DownloadResult::Retried => 2,
            DownloadResult::Failed => 3,
            DownloadResult::Deferred => 4,
        }
    }
}

/// The media counters of `GET /metrics`.
#[derive(Debug, Default)]
pub struct MediaMetrics {
    downloads: [AtomicU64; 5],
    resolved: AtomicU64,
    resolve_failures: AtomicU64,
}

impl MediaMetrics {
    /// Counts one download attempt's outcome.
    pub fn count_download(&self, result: DownloadResult) {
        self.downloads[result.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Returns how many download attempts had this outcome.
    pub fn downloads(&self, result: DownloadResult) -> u64 {
        self.downloads[result.index()].load(Ordering::Relaxed)
    }

    /// Appends the counters in the Prometheus text format.
    pub fn render(&self, output: &mut String) {
        let _ = writeln!(
            output,
            "# HELP wabot_media_downloads_total Inbound media download attempts by outcome."
        );
        let _ = writeln!(output, "# TYPE wabot_media_downloads_total counter");
        for result in DownloadResult::ALL {
            let _ = writeln!(
                output,
                "wabot_media_downloads_total{{result=\"{}\"}} {}",
                result.as_str(),
                self.downloads(result)
            );
        }
        let _ = writeln!(
            output,
            "# HELP wabot_media_outbound_resolved_total Outbound media read from the bucket before a send, by outcome."
        );
        let _ = writeln!(output, "# TYPE wabot_media_outbound_resolved_total counter");
        let _ = writeln!(
            output,
            "wabot_media_outbound_resolved_total{{result=\"ok\"}} {}",
            self.resolved.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            output,
            "wabot_media_outbound_resolved_total{{result=\"failed\"}} {}",
            self.resolve_failures.load(Ordering::Relaxed)
        );
    }
}

/// One pending download the worker claimed.
#[derive(Debug, Clone)]
pub struct ClaimedDownload {
    /// The message.
    pub message_id: Uuid,
    /// Its number.
    pub number_id: Uuid,
    /// Its content, as stored.
    pub content: serde_json::Value,
    /// Its payload (what the transport keeps beside the content, such as
    /// WhatsApp Web's CDN keys).
    pub payload: serde_json::Value,
    /// The attempt this is, from 1.
    pub attempts: i32,
}

/// What became of one claimed download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadOutcome {
    /// Stored at this key.
    Stored {
        /// The object key.
        storage_key: String,
    },
    /// Given up: content.storage_error says this.
    GaveUp {
        /// Why.
        storage_error: String,
        /// Whether it was the file or WhatsApp's refusal (not transient).
        rejected: bool,
    },
    /// Tried again after a while.
    Retry {
        /// Why this attempt failed.
        error: String,
    },
    /// Put off until the number's session is back, the attempt not counted.
    Deferred {
        /// Why.
        error: String,
    },
}

/// The inbound media download worker.
#[derive(Clone)]
pub struct MediaDownloader {
    pool: DatabasePool,
    registry: Arc<SessionRegistry>,
    store: MediaStore,
    instance_id: String,
}

impl MediaDownloader {
    /// Creates the worker of this daemon.
    pub fn new(
        pool: DatabasePool,
        registry: Arc<SessionRegistry>,
        store: MediaStore,
        instance_id: String,
    ) -> Self {
        MediaDownloader {
            pool,
            registry,
            store,
            instance_id,
        }
    }

    /// Runs rounds every `poll_interval` (sooner while there is work) until
    /// `shutdown`; the round in hand finishes first.
    pub async fn run(self, poll_interval: Duration, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(
            bucket = self.store.bucket(),
            endpoint = self.store.endpoint(),
            "the inbound media download worker is running"
        );
        let mut n_failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let wait = match self.round().await {
                Ok(n) if n > 0 => {
                    n_failures = 0;
                    Duration::ZERO
                }
                Ok(_) => {
                    n_failures = 0;
                    poll_interval
                }
                Err(error) => {
                    if n_failures % 10 == 0 {
                        tracing::warn!("could not claim pending media: {error}");
                    }
                    n_failures = n_failures.saturating_add(1);
                    poll_interval
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Claims and works through one batch; returns how many were claimed.
    pub async fn round(&self) -> Result<usize, DatabaseError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "select message_id, number_id, content, attempts, payload
                 from private.claim_media_downloads($1, $2, $3)",
                &[
                    &self.instance_id,
                    &MEDIA_DOWNLOAD_BATCH,
                    &MEDIA_DOWNLOAD_LEASE_SECONDS,
                ],
            )
            .await?;
        drop(client);
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            claimed.push(ClaimedDownload {
                message_id: row.try_get(0)?,
                number_id: row.try_get(1)?,
                content: row.try_get(2)?,
                attempts: row.try_get(3)?,
                payload: row
                    .try_get::<_, Option<serde_json::Value>>(4)?
                    .unwrap_or(serde_json::Value::Null),
            });
        }
        let n_claimed = claimed.len();
        let recorded: Vec<Result<(), DatabaseError>> = futures_util::stream::iter(claimed)
            .map(|download| async move {
                let outcome = self.download(&download).await;
                self.record(&download, &outcome).await
            })
            .buffer_unordered(PARALLEL_MEDIA_DOWNLOADS)
            .collect()
            .await;
        for result in recorded {
            result?;
        }
        Ok(n_claimed)
    }

    /// Downloads, checks and stores one file; records nothing.
    pub async fn download(&self, download: &ClaimedDownload) -> DownloadOutcome {
        let last_attempt = download.attempts >= MEDIA_DOWNLOAD_MAX_ATTEMPTS;
        let transient = |error: String| {
            if last_attempt {
                DownloadOutcome::GaveUp {
                    storage_error: format!(
                        "not stored: gave up after {} attempts: {error}",
                        download.attempts
                    ),
                    rejected: false,
                }
            } else {
                DownloadOutcome::Retry { error }
            }
        };
        let content: Content = match serde_json::from_value(download.content.clone()) {
            Ok(content) => content,
            Err(error) => {
                return DownloadOutcome::GaveUp {
                    storage_error: format!("not stored: the content does not read: {error}"),
                    rejected: true,
                }
            }
        };
        let kind = content.kind();
        let Some(media) = content.media() else {
            return DownloadOutcome::GaveUp {
                storage_error: format!("not stored: a {kind} message has no media"),
                rejected: true,
            };
        };
        let Some(session) = self.registry.session(download.number_id) else {
            return DownloadOutcome::Deferred {
                error: "the number's session is not held by this daemon".to_owned(),
            };
        };
        let downloaded = match tokio::time::timeout(
            MEDIA_DOWNLOAD_TIMEOUT,
            session
                .transport()
                .download_inbound_media(media, &download.payload),
        )
        .await
        {
            Ok(Ok(downloaded)) => downloaded,
            Ok(Err(TransportError::Rejected { reason })) => {
                return DownloadOutcome::GaveUp {
                    storage_error: format!("not stored: whatsapp refused the download: {reason}"),
                    rejected: true,
                }
            }
            Ok(Err(TransportError::NotConnected)) => {
                return DownloadOutcome::Deferred {
                    error: "download failed: the session is not connected".to_owned(),
                }
            }
            Ok(Err(error)) => return transient(format!("download failed: {error}")),
            Err(_) => {
                return transient(format!(
                    "download failed: no answer within {} s",
                    MEDIA_DOWNLOAD_TIMEOUT.as_secs()
                ))
            }
        };
        let mime_type = [
            downloaded.mime_type.trim(),
            media.mime_type.as_deref().unwrap_or("").trim(),
        ]
        .into_iter()
        .find(|mime| mime.len() >= 3)
        .unwrap_or("application/octet-stream")
        .to_owned();
        let size = downloaded.bytes.len() as u64;
        if let Err(problem) = message_model::check_inbound_media_file(
            kind,
            &mime_type,
            size,
            media.animated.unwrap_or(false),
        ) {
            return DownloadOutcome::GaveUp {
                storage_error: format!(
                    "not stored: the {kind} file ({mime_type}, {size} bytes) breaks whatsapp's limits: {problem}"
                ),
                rejected: true,
            };
        }
        let storage_key = inbound_media_key(download.number_id, download.message_id);
        if let Err(error) = self
            .store
            .put(&storage_key, downloaded.bytes.clone(), &mime_type)
            .await
        {
            return transient(format!(
                "putting {storage_key} in the bucket failed: {error}"
            ));
        }
        let sha256 = sha256_hex(&downloaded.bytes);
        match self
            .complete(download.message_id, &storage_key, &mime_type, size, &sha256)
            .await
        {
            Ok(_) => DownloadOutcome::Stored { storage_key },
            Err(error) => transient(format!(
                "recording {storage_key} failed: {}",
                error_chain(&error)
            )),
        }
    }

    async fn complete(
        &self,
        message_id: Uuid,
        storage_key: &str,
        mime_type: &str,
        size: u64,
        sha256: &str,
    ) -> Result<bool, DatabaseError> {
        let client = self.pool.get().await?;
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let row = client
            .query_one(
                "select private.complete_media_download($1, $2, $3, $4, $5)",
                &[&message_id, &storage_key, &mime_type, &size, &sha256],
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Records the outcome of an attempt that did not store the file (a
    /// stored one was recorded by [`Self::download`]) and counts it.
    async fn record(
        &self,
        download: &ClaimedDownload,
        outcome: &DownloadOutcome,
    ) -> Result<(), DatabaseError> {
        let metrics = &self.registry.context.metrics.media;
        let client = self.pool.get().await?;
        match outcome {
            DownloadOutcome::Stored { storage_key } => {
                metrics.count_download(DownloadResult::Stored);
                tracing::info!(message_id = %download.message_id, %storage_key, "stored an inbound media file");
            }
            DownloadOutcome::GaveUp {
                storage_error,
                rejected,
            } => {
                client
                    .execute(
                        "select private.fail_media_download($1, $2, true, 0)",
                        &[&download.message_id, storage_error],
                    )
                    .await?;
                metrics.count_download(if *rejected {
                    DownloadResult::Rejected
                } else {
                    DownloadResult::Failed
                });
                tracing::warn!(message_id = %download.message_id, "{storage_error}");
            }
            DownloadOutcome::Deferred { error } => {
                client
                    .execute(
                        "select private.defer_media_download($1, $2, $3)",
                        &[&download.message_id, error, &MEDIA_DOWNLOAD_DEFER_SECONDS],
                    )
                    .await?;
                metrics.count_download(DownloadResult::Deferred);
                tracing::info!(
                    message_id = %download.message_id,
                    retry_in_seconds = MEDIA_DOWNLOAD_DEFER_SECONDS,
                    "an inbound media download waits for its session: {error}"
                );
            }
            DownloadOutcome::Retry { error } => {
                let delay = retry_delay_seconds(download.attempts);
                client
                    .execute(
                        "select private.fail_media_download($1, $2, false, $3)",
                        &[&download.message_id, error, &delay],
                    )
                    .await?;
                metrics.count_download(DownloadResult::Retried);
                tracing::warn!(
                    message_id = %download.message_id,
                    attempts = download.attempts,
                    retry_in_seconds = delay,
                    "could not store an inbound media file: {error}"
                );
            }
        }
        Ok(())
    }
}

/// Why an outbound message's media could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// For good: the message is failed, nothing sent.
    #[error("{0}")]
    Permanent(String),
    /// For now: the message stays queued.
    #[error("{0}")]
    Transient(String),
}

/// Fills `outgoing.media_bytes` from the bucket when its media has a
/// `storage_key` (and no bytes yet), reading no more than the kind's limit.
/// Content without a stored object is left alone.
pub async fn resolve_outgoing_media(
    store: Option<&MediaStore>,
    metrics: &MediaMetrics,
    outgoing: &mut Outgoing,
) -> Result<(), ResolveError> {
    if outgoing.media_bytes.is_some() {
        return Ok(());
    }
    let kind = outgoing.content.kind();
    let Some(media) = outgoing.content.media() else {
        return Ok(());
    };
    let Some(storage_key) = media.storage_key.clone() else {
        return Ok(());
    };
    let result = resolve(store, kind, media, &storage_key).await;
    match result {
        Ok(bytes) => {
            metrics.resolved.fetch_add(1, Ordering::Relaxed);
            outgoing.media_bytes = Some(bytes);
            Ok(())
        }
        Err(error) => {
            metrics.resolve_failures.fetch_add(1, Ordering::Relaxed);
            Err(error)
        }
    }
}

async fn resolve(
    store: Option<&MediaStore>,
    kind: &'static str,
    media: &message_model::Media,
    storage_key: &str,
) -> Result<Arc<[u8]>, ResolveError> {
    let store = store.ok_or_else(|| {
        ResolveError::Permanent(format!(
            "content.storage_key: the {kind} is in the media bucket, but this daemon has no media storage (set WABOT_MEDIA_S3_ENDPOINT and the other WABOT_MEDIA_S3_* variables)"
        ))
    })?;
    let limit = media_limit(kind)
        .map(|limit| limit.max_bytes)
        .ok_or_else(|| {
            ResolveError::Permanent(format!("content.kind: {kind} is not a media kind"))
        })?;
    let bytes = store.get(storage_key, limit).await.map_err(|error| match error {
        MediaStoreError::NotFound { .. } => ResolveError::Permanent(format!(
            "content.storage_key: no object {storage_key:?} in the media bucket; not sent"
        )),
        MediaStoreError::TooLarge { size, limit, .. } => ResolveError::Permanent(format!(
            "content.storage_key: the {kind} file {storage_key:?} is {size} bytes, over whatsapp's {limit}-byte limit for a {kind}; not sent"
        )),
        MediaStoreError::InvalidKey { reason, .. } => ResolveError::Permanent(format!(
            "content.storage_key: {storage_key:?} is not an object key: {reason}"
        )),
        other => ResolveError::Transient(format!(
            "reading {storage_key:?} from the media bucket failed: {other}"
        )),
    })?;
    if let Some(mime_type) = media.mime_type.as_deref() {
        message_model::check_outbound_media_file(
            kind,
            mime_type,
            bytes.len() as u64,
            media.animated.unwrap_or(false),
        )
        .map_err(|problem| {
            ResolveError::Permanent(format!(
                "content: the {kind} file {storage_key:?} breaks whatsapp's limits: {problem}; not sent"
            ))
        })?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        assert_eq!(retry_delay_seconds(1), 5);
        assert_eq!(retry_delay_seconds(2), 10);
        assert_eq!(retry_delay_seconds(4), 40);
        assert_eq!(retry_delay_seconds(7), MEDIA_DOWNLOAD_MAX_BACKOFF_SECONDS);
        assert_eq!(retry_delay_seconds(20), MEDIA_DOWNLOAD_MAX_BACKOFF_SECONDS);
        assert_eq!(retry_delay_seconds(-3), 5);
        let total: i32 = (1..MEDIA_DOWNLOAD_MAX_ATTEMPTS)
            .map(retry_delay_seconds)
            .sum();
        assert!(
            (600..=1200).contains(&total),
            "{total} s of retries before giving up"
        );
    }

    #[tokio::test]
    async fn content_without_a_stored_object_is_left_alone() {
        let metrics = MediaMetrics::default();
        let mut text = Outgoing {
            contact_wa_id: "15550101234".to_owned(),
            content: Content::text("hi"),
            context_wa_message_id: None,
            media_bytes: None,
        };
        assert!(resolve_outgoing_media(None, &metrics, &mut text)
            .await
            .is_ok());
        assert_eq!(text.media_bytes, None);
    }

    #[tokio::test]
    async fn a_stored_object_without_media_storage_fails_for_good() {
        let metrics = MediaMetrics::default();
        let content: Content = serde_json::from_value(serde_json::json!({
            "kind": "image", "storage_key": "uploads/x", "mime_type": "image/png"
        }))
        .expect("content");
        let mut image = Outgoing {
            contact_wa_id: "15550101234".to_owned(),
            content,
            context_wa_message_id: None,
            media_bytes: None,
        };
        let error = resolve_outgoing_media(None, &metrics, &mut image).await;
        assert!(
            matches!(&error, Err(ResolveError::Permanent(reason)) if reason.contains("WABOT_MEDIA_S3_ENDPOINT")),
            "{error:?}"
        );
    }
}
