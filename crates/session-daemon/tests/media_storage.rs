//! Media storage against real parts: the real `wabot daemon` process, the
//! local Postgres and the stack's real S3 server (moto), as
//! `scripts/test.sh` starts them (it exports `WABOT_MEDIA_S3_*`, which the
//! daemons inherit).
//!
//! - An inbound simulator image is downloaded, stored in the bucket (the
//!   bytes there match its SHA-256), the message's content gains its
//!   storage key, size, hash and type, and a `media_objects` row is written.
//! - An oversized sticker and a mistyped image are not stored: their
//!   content says why in `storage_error`, the messages stay.
//! - A failed put (the bucket missing) leaves the message pending; once the
//!   bucket exists, the next attempt stores it.
//! - An outbound image whose content names an object in the bucket reaches
//!   the simulated contact with the same bytes; a missing object and an
//!   oversized one fail the message for good, nothing sent.
//!
//! The inbound rows are written the way a transport stores an inbound media
//! message (content with the transport's `media_id`, bytes uploaded to the
//! simulated WhatsApp first): the simulator's own inbound mapping of every
//! kind is the transports' part of issue 13.

mod support;

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use session_daemon::media_store::MediaStore;
use session_daemon::transport::simulator_media::sha256_hex;
use support::*;
use uuid::Uuid;

/// Bytes that look like a PNG (the header) and differ each run.
fn picture(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let seed = Uuid::new_v4();
    while bytes.len() < size {
        bytes.extend_from_slice(seed.as_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// A simulated contact uploads a file to the simulated WhatsApp; returns its
/// media id.
async fn upload(daemon: &Daemon, bytes: &[u8], mime_type: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/simulator/media", daemon.base_url))
        .bearer_auth(DAEMON_TOKEN)
        .header("content-type", mime_type)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload to the simulator");
    assert_eq!(response.status(), StatusCode::CREATED);
    let answer: Value = response.json().await.expect("json");
    assert_eq!(answer["sha256"], sha256_hex(bytes));
    answer["media_id"].as_str().expect("a media id").to_owned()
}

/// Stores an inbound media message the way a transport does; returns its id.
async fn inbound_media(database: &tokio_postgres::Client, number_id: Uuid, content: Value) -> Uuid {
    let wa_message_id = format!("SIM-media-{}", Uuid::new_v4());
    database
        .query_one(
            "insert into public.messages
                 (number_id, direction, status, contact_wa_id, contact_name, wa_message_id, content)
             values ($1, 'inbound', 'received', '15550104242', 'Ada', $2, $3) returning id",
            &[&number_id, &wa_message_id, &content],
        )
        .await
        .expect("store an inbound media message")
        .get(0)
}

async fn content_of(database: &tokio_postgres::Client, message_id: Uuid) -> Value {
    database
        .query_one(
            "select content from public.messages where id = $1",
            &[&message_id],
        )
        .await
        .expect("read the content")
        .get(0)
}

/// Waits until the message's content has a storage_key or a storage_error.
async fn settled_content(database: &tokio_postgres::Client, message_id: Uuid) -> Value {
    wait_for("the media to be stored or refused", || async {
        let content = content_of(database, message_id).await;
        (content.get("storage_key").is_some() || content.get("storage_error").is_some())
            .then_some(content)
    })
    .await
}

async fn started(
    stack: &Stack,
    database: &tokio_postgres::Client,
    options: DaemonOptions,
) -> (TestNumber, Daemon) {
    let number = create_number(database, "simulator", None).await;
    let options = DaemonOptions {
        held_phone_numbers: vec![number.phone_number.clone()],
        ..options
    };
    let mut daemon = Daemon::spawn(stack, options);
    daemon.wait_until_answering().await;
    wait_until_status(database, number.number_id, "connected").await;
    (number, daemon)
}

#[tokio::test]
#[ignore = "needs the local stack and its S3 server; run through scripts/test.sh"]
async fn an_inbound_image_is_downloaded_stored_and_recorded() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let (number, daemon) = started(&stack, &database, DaemonOptions::holding(&[])).await;

    let bytes = picture(48 * 1024);
    let media_id = upload(&daemon, &bytes, "image/png").await;
    let message_id = inbound_media(
        &database,
        number.number_id,
        json!({"kind": "image", "media_id": media_id, "mime_type": "image/png", "caption": "my order"}),
    )
    .await;

    let content = settled_content(&database, message_id).await;
    let expected_key = format!("inbound/{}/{message_id}", number.number_id);
    assert_eq!(
        content["storage_key"],
        expected_key,
        "{content} {}",
        daemon.log_tail()
    );
    assert_eq!(content["size_bytes"], bytes.len());
    assert_eq!(content["sha256"], sha256_hex(&bytes));
    assert_eq!(content["mime_type"], "image/png");
    assert_eq!(content["caption"], "my order");
    assert_eq!(content["media_id"], media_id.as_str());

    let row = database
        .query_one(
            "select number_id, message_id, kind, mime_type, size_bytes, sha256, source
             from public.media_objects where storage_key = $1",
            &[&expected_key],
        )
        .await
        .expect("a media_objects row");
    assert_eq!(row.get::<_, Option<Uuid>>(0), Some(number.number_id));
    assert_eq!(row.get::<_, Option<Uuid>>(1), Some(message_id));
    assert_eq!(row.get::<_, String>(2), "image");
    assert_eq!(row.get::<_, String>(3), "image/png");
    assert_eq!(
        row.get::<_, i64>(4),
        i64::try_from(bytes.len()).expect("size")
    );
    assert_eq!(row.get::<_, String>(5), sha256_hex(&bytes));
    assert_eq!(row.get::<_, String>(6), "inbound");

    // The bucket holds exactly those bytes.
    let stored = media_store()
        .get(&expected_key, 10 * 1024 * 1024)
        .await
        .expect("the object in the bucket");
    assert_eq!(sha256_hex(&stored), sha256_hex(&bytes));
    assert_eq!(&*stored, bytes.as_slice());

    let pending: i64 = database
        .query_one(
            "select count(*) from private.media_downloads where message_id = $1",
            &[&message_id],
        )
        .await
        .expect("count attempts")
        .get(0);
    assert_eq!(pending, 0, "a stored file leaves no attempt behind");
    let (_, metrics) = daemon.get("/metrics").await;
    let metrics = metrics.as_str().map(str::to_owned).unwrap_or_default();
    assert!(
        metrics.contains("wabot_media_downloads_total{result=\"stored\"} 1"),
        "{metrics}"
    );
    remove_number(&database, number.number_id).await;
}

#[tokio::test]
#[ignore = "needs the local stack and its S3 server; run through scripts/test.sh"]
async fn oversized_and_mistyped_files_are_flagged_and_kept() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let (number, daemon) = started(&stack, &database, DaemonOptions::holding(&[])).await;

    // A static sticker may be 100 KB at most; this one is 150 KB.
    let sticker = picture(150 * 1024);
    let sticker_id = upload(&daemon, &sticker, "image/webp").await;
    let oversized = inbound_media(
        &database,
        number.number_id,
        json!({"kind": "sticker", "media_id": sticker_id, "mime_type": "image/webp"}),
    )
    .await;
    // An "image" that is a Windows program.
    let program_id = upload(
        &daemon,
        b"MZ\x90\x00 not a picture",
        "application/x-msdownload",
    )
    .await;
    let mistyped = inbound_media(
        &database,
        number.number_id,
        json!({"kind": "image", "media_id": program_id, "caption": "look"}),
    )
    .await;

    let content = settled_content(&database, oversized).await;
    let error = content["storage_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("153600 bytes") && error.contains("at most 102400"),
        "{content} {}",
        daemon.log_tail()
    );
    assert!(content.get("storage_key").is_none());
    assert_eq!(
        content["media_id"],
        sticker_id.as_str(),
        "the metadata stays"
    );

    let content = settled_content(&database, mistyped).await;
    let error = content["storage_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("application/x-msdownload") && error.contains("image/*"),
        "{content}"
    );
    assert_eq!(content["caption"], "look");

    let rows = database
        .query(
            "select type, status, body from public.messages where id = any($1) order by type",
            &[&vec![oversized, mistyped]],
        )
        .await
        .expect("the messages");
    assert_eq!(rows.len(), 2, "both messages stay");
    assert_eq!(rows[0].get::<_, String>(0), "image");
    assert_eq!(rows[0].get::<_, String>(2), "look");
    let n_objects: i64 = database
        .query_one(
            "select count(*) from public.media_objects where message_id = any($1)",
            &[&vec![oversized, mistyped]],
        )
        .await
        .expect("count objects")
        .get(0);
    assert_eq!(n_objects, 0);
    let store = media_store();
    for message_id in [oversized, mistyped] {
        let key = format!("inbound/{}/{message_id}", number.number_id);
        assert!(
            matches!(
                store.get(&key, 1024 * 1024).await,
                Err(session_daemon::media_store::MediaStoreError::NotFound { .. })
            ),
            "nothing was put at {key}"
        );
    }
    remove_number(&database, number.number_id).await;
}

#[tokio::test]
#[ignore = "needs the local stack and its S3 server; run through scripts/test.sh"]
async fn a_failed_put_leaves_the_message_pending_until_the_next_attempt_stores_it() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    // A bucket that does not exist yet: every put fails.
    let bucket = format!("wabot-late-{}", &Uuid::new_v4().simple().to_string()[..12]);
    let (number, daemon) = started(
        &stack,
        &database,
        DaemonOptions::holding(&[]).with("WABOT_MEDIA_S3_BUCKET", &bucket),
    )
    .await;

    let bytes = picture(20 * 1024);
    let media_id = upload(&daemon, &bytes, "image/jpeg").await;
    let message_id = inbound_media(
        &database,
        number.number_id,
        json!({"kind": "image", "media_id": media_id, "mime_type": "image/jpeg"}),
    )
    .await;

    let last_error: String = wait_for("a failed attempt", || async {
        database
            .query_opt(
                "select last_error from private.media_downloads
                 where message_id = $1 and last_error is not null",
                &[&message_id],
            )
            .await
            .expect("read the attempts")
            .map(|row| row.get(0))
    })
    .await;
    assert!(last_error.contains("putting inbound/"), "{last_error}");
    let content = content_of(&database, message_id).await;
    assert!(
        content.get("storage_key").is_none() && content.get("storage_error").is_none(),
        "still pending after a failed put: {content}"
    );

    // The bucket appears (moto takes an unsigned CreateBucket); the next
    // attempt, after the backoff, stores the file.
    let endpoint = media_store_config(None).endpoint;
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("create the bucket");
    assert!(created.status().is_success(), "{}", created.status());

    let content = settled_content(&database, message_id).await;
    assert_eq!(
        content["storage_key"],
        format!("inbound/{}/{message_id}", number.number_id),
        "{content} {}",
        daemon.log_tail()
    );
    assert_eq!(content["sha256"], sha256_hex(&bytes));
    let stored = MediaStore::new(&media_store_config(Some(&bucket)))
        .expect("client")
        .get(
            content["storage_key"].as_str().unwrap_or_default(),
            1024 * 1024,
        )
        .await
        .expect("the object");
    assert_eq!(&*stored, bytes.as_slice());
    remove_number(&database, number.number_id).await;
}

#[tokio::test]
#[ignore = "needs the local stack and its S3 server; run through scripts/test.sh"]
async fn outbound_media_from_the_bucket_reaches_the_contact_with_the_same_bytes() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let (number, daemon) = started(&stack, &database, DaemonOptions::holding(&[])).await;
    let store = media_store();

    let bytes = picture(64 * 1024);
    let key = format!("uploads/{}", Uuid::new_v4());
    store
        .put(&key, Arc::from(bytes.clone()), "image/png")
        .await
        .expect("put the upload");
    let too_big = format!("uploads/{}", Uuid::new_v4());
    store
        .put(
            &too_big,
            Arc::from(picture(5 * 1024 * 1024 + 1)),
            "image/png",
        )
        .await
        .expect("put the oversized upload");

    let queue = |content: Value| {
        let database = &database;
        async move {
            database
                .query_one(
                    "insert into public.messages (number_id, direction, status, contact_wa_id, content)
                     values ($1, 'outbound', 'queued', '15550104343', $2) returning id",
                    &[&number.number_id, &content],
                )
                .await
                .expect("queue an outbound image")
                .get::<_, Uuid>(0)
        }
    };
    let sent = queue(json!({"kind": "image", "storage_key": key, "mime_type": "image/png", "caption": "your receipt"})).await;
    let missing = queue(json!({"kind": "image", "storage_key": format!("uploads/{}", Uuid::new_v4()), "mime_type": "image/png"})).await;
    let oversized =
        queue(json!({"kind": "image", "storage_key": too_big, "mime_type": "image/png"})).await;

    let final_state = |message_id: Uuid| {
        let database = &database;
        async move {
            wait_for("the outbound message to be sent or failed", || async {
                let row = database
                    .query_one(
                        "select status, error, wa_message_id from public.messages where id = $1",
                        &[&message_id],
                    )
                    .await
                    .expect("read the message");
                let status: String = row.get(0);
                (status == "sent" || status == "failed").then(|| {
                    (
                        status,
                        row.get::<_, Option<String>>(1),
                        row.get::<_, Option<String>>(2),
                    )
                })
            })
            .await
        }
    };
    let (status, error, wa_message_id) = final_state(sent).await;
    assert_eq!(status, "sent", "{error:?} {}", daemon.log_tail());
    let wa_message_id = wa_message_id.expect("a whatsapp id");
    let received = reqwest::get(format!(
        "{}/simulator/media/{wa_message_id}",
        daemon.base_url
    ))
    .await
    .expect("read the received media");
    assert_eq!(received.status(), StatusCode::OK);
    assert_eq!(
        received
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("image/png")
    );
    let received = received.bytes().await.expect("bytes");
    assert_eq!(sha256_hex(&received), sha256_hex(&bytes));

    let (status, error, wa_message_id) = final_state(missing).await;
    assert_eq!(status, "failed");
    assert!(
        error.as_deref().unwrap_or_default().contains("no object"),
        "{error:?}"
    );
    assert_eq!(wa_message_id, None, "nothing was sent");
    let (status, error, wa_message_id) = final_state(oversized).await;
    assert_eq!(status, "failed");
    assert!(
        error
            .as_deref()
            .unwrap_or_default()
            .contains("over whatsapp's 5242880-byte limit"),
        "{error:?}"
    );
    assert_eq!(wa_message_id, None, "nothing was sent");
    remove_number(&database, number.number_id).await;
}

/// A stand-in for the Graph API's media endpoints (Meta cannot run here),
/// answering with Meta's documented shapes: `GET /v21.0/{media-id}` gives
/// the URL, then `GET /media/{id}` the bytes, both with the bearer token.
/// The first download of the bytes never answers (a daemon killed
/// mid-download); the later ones do. Returns the address and the number of
/// byte downloads started.
async fn fake_graph_media(
    picture: Arc<Vec<u8>>,
) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode as Status};
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Clone)]
    struct Fake {
        base: String,
        picture: Arc<Vec<u8>>,
        downloads: Arc<AtomicUsize>,
    }
    fn authorised(headers: &HeaderMap) -> bool {
        headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            == Some("Bearer system-user-token")
    }
    async fn metadata(
        State(fake): State<Fake>,
        Path(media_id): Path<String>,
        headers: HeaderMap,
    ) -> (Status, axum::Json<Value>) {
        if !authorised(&headers) {
            return (
                Status::UNAUTHORIZED,
                axum::Json(
                    json!({"error": {"code": 190, "message": "Invalid OAuth access token"}}),
                ),
            );
        }
        (
            Status::OK,
            axum::Json(json!({
                "messaging_product": "whatsapp",
                "url": format!("{}/media/{media_id}", fake.base),
                "mime_type": "image/jpeg",
                "sha256": sha256_hex(&fake.picture),
                "file_size": fake.picture.len().to_string(),
                "id": media_id,
            })),
        )
    }
    async fn bytes(State(fake): State<Fake>, headers: HeaderMap) -> (Status, Vec<u8>) {
        if !authorised(&headers) {
            return (Status::UNAUTHORIZED, Vec::new());
        }
        if fake.downloads.fetch_add(1, Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        (Status::OK, fake.picture.to_vec())
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fake graph api");
    let address = listener.local_addr().expect("its address");
    let downloads = Arc::new(AtomicUsize::new(0));
    let fake = Fake {
        base: format!("http://{address}"),
        picture,
        downloads: downloads.clone(),
    };
    let router = axum::Router::new()
        .route("/v21.0/{media_id}", get(metadata))
        .route("/media/{media_id}", get(bytes))
        .with_state(fake);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (address, downloads)
}

#[tokio::test]
#[ignore = "needs the local stack and its S3 server; run through scripts/test.sh"]
async fn a_daemon_killed_mid_download_leaves_the_message_pending_and_the_next_stores_it() {
    use std::sync::atomic::Ordering;

    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "cloud", None).await;
    let phone_number_id = format!("{}", Uuid::new_v4().as_u128() % 1_000_000_000_000_000);
    database
        .execute(
            "insert into public.session_credentials (number_id, credentials) values ($1, $2)",
            &[
                &number.number_id,
                &json!({"phone_number_id": phone_number_id}),
            ],
        )
        .await
        .expect("the cloud credentials");
    let bytes = Arc::new(picture(32 * 1024));
    let (graph, downloads) = fake_graph_media(bytes.clone()).await;
    let options = DaemonOptions::holding(&[&number.phone_number])
        .with("WABOT_CLOUD_API_BASE_URL", &format!("http://{graph}/v21.0"))
        .with("WABOT_CLOUD_ACCESS_TOKEN", "system-user-token");

    let mut first = Daemon::spawn(&stack, options.clone());
    first.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;
    // An inbound Cloud API image, as the webhook stores it (Meta's media id).
    let message_id = inbound_media(
        &database,
        number.number_id,
        json!({"kind": "image", "media_id": "1037543291543636", "mime_type": "image/jpeg"}),
    )
    .await;
    wait_for("the first daemon to start downloading", || async {
        (downloads.load(Ordering::SeqCst) >= 1).then_some(())
    })
    .await;
    let (claimed_by, attempts): (Option<String>, i32) = {
        let row = database
            .query_one(
                "select claimed_by, attempts from private.media_downloads where message_id = $1",
                &[&message_id],
            )
            .await
            .expect("the claim");
        (row.get(0), row.get(1))
    };
    assert_eq!(claimed_by.as_deref(), Some(first.instance_id.as_str()));
    assert_eq!(attempts, 1);

    first.kill();
    let content = content_of(&database, message_id).await;
    assert!(
        content.get("storage_key").is_none() && content.get("storage_error").is_none(),
        "a kill mid-download leaves the message pending: {content}"
    );
    // The dead daemon's 180-second claim is fast-forwarded to its end.
    database
        .execute(
            "update private.media_downloads set claimed_until = now() where message_id = $1",
            &[&message_id],
        )
        .await
        .expect("lapse the claim");

    let second = Daemon::spawn(&stack, options);
    let content = settled_content(&database, message_id).await;
    let key = format!("inbound/{}/{message_id}", number.number_id);
    assert_eq!(
        content["storage_key"],
        key.as_str(),
        "{content} {}",
        second.log_tail()
    );
    assert_eq!(content["sha256"], sha256_hex(&bytes));
    assert_eq!(content["size_bytes"], bytes.len());
    assert_eq!(
        downloads.load(Ordering::SeqCst),
        2,
        "downloaded again by the next daemon"
    );
    let stored = media_store()
        .get(&key, 10 * 1024 * 1024)
        .await
        .expect("the object");
    assert_eq!(&*stored, bytes.as_slice());
    let n_objects: i64 = database
        .query_one(
            "select count(*) from public.media_objects where storage_key = $1 and message_id = $2",
            &[&key, &message_id],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(n_objects, 1);
    drop(second);
    remove_number(&database, number.number_id).await;
}
