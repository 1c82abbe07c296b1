//! What the HTTP API reads from callers: a `POST /simulator/inbound` body,
//! phone numbers from paths and query strings, and `Authorization` headers.
//! Nothing may panic, and what is accepted keeps the documented promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_daemon::http_api::{
    bearer_token, parse_inbound_request, MAXIMUM_CONTACT_NAME_CHARACTERS,
    MAXIMUM_MESSAGE_ID_CHARACTERS,
};
use session_daemon::phone::{contact_wa_id_from_phone, repair_query_phone_number, validate_e164};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = parse_inbound_request(data) {
        assert!(validate_e164(&message.to).is_ok());
        assert!(validate_e164(&message.from).is_ok());
        if let session_daemon::transport::Content::Text { text, .. } = &message.content {
            assert!(!text.trim().is_empty());
        }
        if message.media_bytes.is_some() {
            assert!(message.content.media().is_some());
        }
        if let Some(name) = &message.name {
            assert!(!name.is_empty() && name.trim() == name);
            assert!(name.chars().count() <= MAXIMUM_CONTACT_NAME_CHARACTERS);
        }
        if let Some(message_id) = &message.message_id {
            assert!(message_id.chars().count() <= MAXIMUM_MESSAGE_ID_CHARACTERS);
        }
    }

    let text = String::from_utf8_lossy(data);
    let repaired = repair_query_phone_number(&text);
    assert_eq!(repair_query_phone_number(&repaired), repaired);
    if validate_e164(&text).is_ok() {
        let wa_id = contact_wa_id_from_phone(&text);
        assert!(wa_id.bytes().all(|byte| byte.is_ascii_digit()));
        assert_eq!(repaired, text);
        // `?to=+1555…` arrives as ` 1555…` and is repaired to the number.
        assert_eq!(repair_query_phone_number(&format!(" {wa_id}")), text);
    }
    if let Some(token) = bearer_token(Some(&text)) {
        assert!(!token.is_empty() && token.trim() == token);
    }
});
