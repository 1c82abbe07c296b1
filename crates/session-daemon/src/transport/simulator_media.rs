//! The media files of the simulated WhatsApp, by media id.
//!
//! A simulated contact's picture, voice note or document is uploaded first
//! (`POST /simulator/media`, which returns a media id) and then sent in a
//! message whose content names that `media_id`, as WhatsApp's own inbound
//! media does; the daemon downloads it with
//! [`crate::transport::Transport::download_media`]. A media message a
//! number sends with bytes (an object from the bucket) is kept under the
//! WhatsApp id of the sent message, so a test reads back exactly what the
//! contact received (`GET /simulator/media/{id}`). Memory only, like the
//! transcripts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The prefix of the media ids the simulator makes up.
pub const SIMULATED_MEDIA_ID_PREFIX: &str = "SIMMEDIA-";

/// The most media files the simulator keeps; the oldest go first.
pub const MAXIMUM_SIMULATED_MEDIA_FILES: usize = 1000;

/// The most bytes the simulator's media files take together; the oldest go
/// first (256 MiB).
pub const MAXIMUM_SIMULATED_MEDIA_BYTES: usize = 256 * 1024 * 1024;

/// One media file on the simulated WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedMediaFile {
    /// The bytes.
    pub bytes: Arc<[u8]>,
    /// The MIME type it was uploaded or sent with.
    pub mime_type: String,
}

/// The simulated WhatsApp's media files.
#[derive(Debug, Default)]
pub struct SimulatorMedia {
    files: Mutex<Files>,
}

#[derive(Debug, Default)]
struct Files {
    by_id: HashMap<String, SimulatedMediaFile>,
    order: Vec<String>,
    n_bytes: usize,
}

impl SimulatorMedia {
    /// Keeps a file under `id`, replacing one with the same id.
    pub fn insert(&self, id: &str, file: SimulatedMediaFile) {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let files = &mut *files;
        files.n_bytes += file.bytes.len();
        match files.by_id.insert(id.to_owned(), file) {
            Some(replaced) => files.n_bytes -= replaced.bytes.len(),
            None => files.order.push(id.to_owned()),
        }
        while files.order.len() > MAXIMUM_SIMULATED_MEDIA_FILES
            || (files.n_bytes > MAXIMUM_SIMULATED_MEDIA_BYTES && files.order.len() > 1)
        {
            let oldest = files.order.remove(0);
            if let Some(removed) = files.by_id.remove(&oldest) {
                files.n_bytes -= removed.bytes.len();
            }
        }
    }

    /// Keeps an uploaded file under a new media id, which it returns.
    pub fn upload(&self, bytes: Arc<[u8]>, mime_type: &str) -> String {
        let id = format!("{SIMULATED_MEDIA_ID_PREFIX}{}", Uuid::new_v4());
        self.insert(
            &id,
            SimulatedMediaFile {
                bytes,
                mime_type: mime_type.to_owned(),
            },
        );
        id
    }

    /// Returns the file kept under `id`.
    pub fn get(&self, id: &str) -> Option<SimulatedMediaFile> {
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .get(id)
            .cloned()
    }
}

/// Returns the lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_kept_by_id_and_the_oldest_go_first() {
        let media = SimulatorMedia::default();
        let first = media.upload(Arc::from(&b"first"[..]), "image/png");
        assert!(first.starts_with(SIMULATED_MEDIA_ID_PREFIX));
        assert_eq!(
            media.get(&first).map(|file| file.bytes),
            Some(Arc::from(&b"first"[..]))
        );
        for _ in 0..MAXIMUM_SIMULATED_MEDIA_FILES {
            media.upload(Arc::from(&b"more"[..]), "image/png");
        }
        assert_eq!(media.get(&first), None);
        // And no more than the byte budget, however few the files.
        let big = media.upload(
            Arc::from(vec![0_u8; MAXIMUM_SIMULATED_MEDIA_BYTES / 2 + 1]),
            "video/mp4",
        );
        let bigger = media.upload(
            Arc::from(vec![1_u8; MAXIMUM_SIMULATED_MEDIA_BYTES / 2 + 1]),
            "video/mp4",
        );
        assert_eq!(media.get(&big), None);
        assert!(media.get(&bigger).is_some());
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
