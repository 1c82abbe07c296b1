//! Downloading an inbound media file from the Cloud API.
//!
//! Meta's documented flow: `GET <base>/<media-id>` with the number's bearer
//! token answers `{"url", "mime_type", "sha256", "file_size", "id",
//! "messaging_product"}`; the URL (valid for five minutes) is then fetched
//! with the same bearer token and gives the bytes. A media id Meta no
//! longer knows (media is kept 30 days) or refuses is failed for good; a
//! server error or a dropped connection is retried by the daemon's worker.

use std::sync::Arc;

use serde_json::Value;

use super::cloud::classify_graph_error;
use super::{DownloadedMedia, Media, TransportError};
use crate::database::error_chain;

/// The largest file any media kind allows (a 100 MB document); a download
/// is cut off beyond it.
pub fn largest_media_bytes() -> u64 {
    message_model::limits::MEDIA_LIMITS
        .iter()
        .map(|limit| limit.max_bytes)
        .max()
        .unwrap_or(0)
}

fn transient(reason: String) -> TransportError {
    TransportError::Failed { reason }
}

/// Downloads `media` (by its `media_id`) with `access_token`.
pub async fn download_cloud_media(
    http: &reqwest::Client,
    base_url: &str,
    access_token: &str,
    media: &Media,
) -> Result<DownloadedMedia, TransportError> {
    let media_id = media
        .media_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| TransportError::Rejected {
            reason: "the media has no media_id to download".to_owned(),
        })?;
    if !media_id
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
    {
        return Err(TransportError::Rejected {
            reason: format!("media_id {media_id:?} is not a graph api id"),
        });
    }
    let metadata_url = format!("{}/{media_id}", base_url.trim_end_matches('/'));
    let response = http
        .get(&metadata_url)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|error| {
            transient(format!(
                "asking the graph api for media {media_id} failed: {}",
                error_chain(&error)
            ))
        })?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|error| {
        transient(format!(
            "reading the graph api's answer for media {media_id} failed: {}",
            error_chain(&error)
        ))
    })?;
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        return Err(match classify_graph_error(status, &answer) {
            TransportError::Ambiguous { reason } => TransportError::Failed { reason },
            other => other,
        });
    }
    let url = answer
        .get("url")
        .and_then(Value::as_str)
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .ok_or_else(|| TransportError::Rejected {
            reason: format!("the graph api's answer for media {media_id} has no \"url\""),
        })?
        .to_owned();
    let mime_type = answer
        .get("mime_type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| media.mime_type.clone())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let limit = largest_media_bytes();
    // `file_size` comes as a number or as a string of digits.
    let announced = match answer.get("file_size") {
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(digits)) => digits.trim().parse::<u64>().ok(),
        _ => None,
    };
    if let Some(size) = announced {
        if size > limit {
            return Err(TransportError::Rejected {
                reason: format!(
                    "media {media_id} is {size} bytes, more than any kind allows ({limit})"
                ),
            });
        }
    }
    let mut response = http
        .get(&url)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|error| {
            transient(format!(
                "downloading media {media_id} failed: {}",
                error_chain(&error)
            ))
        })?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let reason = format!("downloading media {media_id}: the media url answered {status}");
        return Err(if status == 404 || status == 410 || status == 403 {
            TransportError::Rejected { reason }
        } else {
            transient(reason)
        });
    }
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > limit {
                    return Err(TransportError::Rejected {
                        reason: format!(
                            "media {media_id} is more than {limit} bytes, more than any kind allows"
                        ),
                    });
                }
            }
            Ok(None) => break,
            Err(error) => {
                return Err(transient(format!(
                    "downloading media {media_id} broke off: {}",
                    error_chain(&error)
                )))
            }
        }
    }
    // The hash Meta announced (hex) must be the file's: a truncated or
    // corrupted download is tried again.
    if let Some(announced) = answer
        .get("sha256")
        .and_then(Value::as_str)
        .filter(|hash| hash.len() == 64 && hash.bytes().all(|byte| byte.is_ascii_hexdigit()))
    {
        let actual = super::simulator_media::sha256_hex(&bytes);
        if !announced.eq_ignore_ascii_case(&actual) {
            return Err(transient(format!(
                "media {media_id}: the downloaded file's sha256 is {actual}, the graph api announced {announced}"
            )));
        }
    }
    Ok(DownloadedMedia {
        bytes: Arc::from(bytes),
        mime_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    use axum::{Json, Router};
    use serde_json::json;

    const TOKEN: &str = "EAAG-test-token";
    const PICTURE: &[u8] = b"\x89PNG\r\n\x1a\n a picture";

    fn authorised(headers: &HeaderMap) -> bool {
        headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"))
    }

    /// A stand-in for the Graph API and its media host (Meta cannot run
    /// here), answering with the documented shapes.
    async fn fake_graph_api() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let base = format!("http://{address}");
        let media_url = format!("{base}/lookaside/attachment");
        let router = Router::new()
            .route(
                "/v21.0/{media_id}",
                get(move |Path(media_id): Path<String>, headers: HeaderMap| {
                    let media_url = media_url.clone();
                    async move {
                        if !authorised(&headers) {
                            return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": 190, "message": "Invalid OAuth access token"}})));
                        }
                        if media_id == "corrupt" {
                            return (StatusCode::OK, Json(json!({
                                "messaging_product": "whatsapp",
                                "url": media_url,
                                "mime_type": "image/png",
                                "sha256": "0".repeat(64),
                                "file_size": PICTURE.len(),
                                "id": media_id,
                            })));
                        }
                        if media_id != "1234567890" {
                            return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": 100, "message": "Unsupported get request", "type": "GraphMethodException"}})));
                        }
                        (StatusCode::OK, Json(json!({
                            "messaging_product": "whatsapp",
                            "url": media_url,
                            "mime_type": "image/png",
                            "sha256": sha256_of_picture(),
                            "file_size": PICTURE.len().to_string(),
                            "id": media_id,
                        })))
                    }
                }),
            )
            .route(
                "/lookaside/attachment",
                get(|headers: HeaderMap| async move {
                    if authorised(&headers) {
                        (StatusCode::OK, PICTURE.to_vec())
                    } else {
                        (StatusCode::UNAUTHORIZED, Vec::new())
                    }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        format!("{base}/v21.0")
    }

    fn sha256_of_picture() -> String {
        crate::transport::simulator_media::sha256_hex(PICTURE)
    }

    fn media(media_id: &str) -> Media {
        Media {
            media_id: Some(media_id.to_owned()),
            ..Media::default()
        }
    }

    #[tokio::test]
    async fn media_is_fetched_by_id_then_by_url_with_the_token() {
        let base = fake_graph_api().await;
        let http = reqwest::Client::new();
        let downloaded = download_cloud_media(&http, &base, TOKEN, &media("1234567890"))
            .await
            .expect("downloaded");
        assert_eq!(&*downloaded.bytes, PICTURE);
        assert_eq!(downloaded.mime_type, "image/png");

        let corrupt = download_cloud_media(&http, &base, TOKEN, &media("corrupt")).await;
        assert!(
            matches!(&corrupt, Err(TransportError::Failed { reason }) if reason.contains("sha256")),
            "{corrupt:?}"
        );
        // A wrong token is retried (the operator may fix it), as for sends.
        let wrong_token = download_cloud_media(&http, &base, "another", &media("1234567890")).await;
        assert!(
            matches!(&wrong_token, Err(TransportError::Failed { reason }) if reason.contains("190")),
            "{wrong_token:?}"
        );

        let unknown = download_cloud_media(&http, &base, TOKEN, &media("999")).await;
        assert!(
            matches!(unknown, Err(TransportError::Rejected { .. })),
            "{unknown:?}"
        );
        let hostile = download_cloud_media(&http, &base, TOKEN, &media("../../me")).await;
        assert!(matches!(hostile, Err(TransportError::Rejected { .. })));
        let refused =
            download_cloud_media(&http, "http://127.0.0.1:9/v21.0", TOKEN, &media("1")).await;
        assert!(matches!(refused, Err(TransportError::Failed { .. })));
    }
}
